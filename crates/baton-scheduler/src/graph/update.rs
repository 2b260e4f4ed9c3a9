//! Spreading action states along relations until nothing changes: an
//! order whose first action cannot run blocks its then action, one whose
//! first action is required makes its then action required (and the
//! reverse for "then implies first"), a group's or clone's milestone is
//! required when a member's or instance's action is, and an order between
//! a whole group or clone and something else waits for the milestone that
//! marks it done (`running`, not `start`). Interleaved clones are ordered
//! instance by instance, each with the other clone's instance on its node.
//!
//! Actions the decisions settled keep their required and runnable flags.

use std::collections::VecDeque;

use super::engine::{ActIdx, Engine, Flags, Rel, Task, notify_key, op_key};
use crate::unpack::{NodeIdx, RscIdx, RscKind};

/// Work still to do after one update: actions to look at again.
type Requeue = Vec<ActIdx>;

pub fn run(eng: &mut Engine<'_>) {
    let n = eng.actions.len();
    // Newest first, as Pacemaker walks its action list.
    let mut queue: VecDeque<ActIdx> = (0..n).rev().map(ActIdx).collect();
    let mut queued = vec![true; n];
    // Each pass can only tighten flags; the bound stops a pathological
    // input from spinning.
    let mut budget = 64usize.saturating_mul(n + 16);
    while let Some(a) = queue.pop_front() {
        queued[a.0] = false;
        let mut requeue = Requeue::new();
        update_for_orderings(eng, a, &mut requeue);
        for x in requeue {
            if let Some(q) = queued.get_mut(x.0)
                && !*q
            {
                *q = true;
                queue.push_back(x);
            }
        }
        budget = budget.saturating_sub(1);
        if budget == 0 {
            break;
        }
    }
}

fn requeue_with_afters(eng: &Engine<'_>, a: ActIdx, requeue: &mut Requeue) {
    requeue.push(a);
    requeue.extend(eng.act(a).after.iter().map(|r| r.act));
}

/// Where a group is (its first member that has a node).
fn group_node(eng: &Engine<'_>, g: RscIdx) -> Option<NodeIdx> {
    eng.children(g).iter().find_map(|&m| eng.assigned_node(m))
}

fn is_ancestor(eng: &Engine<'_>, ancestor: RscIdx, mut of: RscIdx) -> bool {
    while let Some(p) = eng.cluster.rsc(of).parent {
        if p == ancestor {
            return true;
        }
        of = p;
    }
    false
}

fn update_for_orderings(eng: &mut Engine<'_>, then: ActIdx, requeue: &mut Requeue) {
    let last_flags = eng.act(then).flags;
    let min_runnable = eng.act(then).required_runnable_before > 0;
    if min_runnable {
        let act = eng.act_mut(then);
        act.runnable_before = 0;
        act.flags.clear(Flags::RUNNABLE);
    }
    let mut changed_then = false;
    let mut i = 0;
    while i < eng.act(then).before.len() {
        let other = eng.act(then).before[i].clone();
        let index = i;
        i += 1;
        let mut first = other.act;
        let group_start = |eng: &Engine<'_>, a: ActIdx| {
            let act = eng.act(a);
            match act.rsc {
                Some(r) if eng.is_group(r) && act.task == Task::Start => group_node(eng, r),
                _ => act.node,
            }
        };
        let first_node = group_start(eng, first);
        let then_node = group_start(eng, then);
        if other.flags.has(Rel::IF_ON_SAME_NODE)
            && first_node.is_some()
            && then_node.is_some()
            && first_node != then_node
        {
            eng.act_mut(then).before[index].flags = Rel::NONE;
            continue;
        }
        let (first_rsc, then_rsc) = (eng.act(first).rsc, eng.act(then).rsc);
        if first_rsc.is_some()
            && other.flags.has(Rel::THEN_CANCELS_FIRST)
            && !eng.act(then).flags.has(Flags::OPTIONAL)
        {
            eng.set(first, Flags::OPTIONAL);
        }
        if let (Some(fr), Some(tr)) = (first_rsc, then_rsc)
            && fr != tr
            && !is_ancestor(eng, fr, tr)
        {
            first = for_ordering(eng, first);
        }
        let mut changed_first = false;
        if first == other.act {
            let first_flags = flags_for_ordering(eng, first, then_node);
            let then_flags = flags_for_ordering(eng, then, first_node);
            let (f, t) =
                update_for_flags(eng, first, then, first_flags, then_flags, index, requeue);
            changed_first |= f;
            changed_then |= t;
        } else if eng.order(first, then, other.flags) {
            changed_then = true;
            eng.act_mut(then).before[index].flags = Rel::NONE;
        }
        if changed_first {
            let afters: Vec<ActIdx> = eng.act(first).after.iter().map(|r| r.act).collect();
            requeue.extend(afters);
            requeue.push(first);
        }
    }
    if min_runnable {
        changed_then = last_flags != eng.act(then).flags;
    }
    if changed_then {
        requeue_with_afters(eng, then, requeue);
    }
}

/// An order from a whole group or clone waits for the milestone that
/// marks its action done (after its notifications, for a clone that
/// notifies).
fn for_ordering(eng: &Engine<'_>, a: ActIdx) -> ActIdx {
    let act = eng.act(a);
    let Some(r) = act.rsc else { return a };
    if eng.is_primitive(r) || act.interval_ms > 0 || act.key.contains("notify") {
        return a;
    }
    let done = match act.task {
        Task::Start | Task::Stop | Task::Promote | Task::Demote | Task::Notify => {
            act.task.completed()
        }
        Task::Running | Task::Stopped | Task::Promoted | Task::Demoted | Task::Notified => {
            act.task.clone()
        }
        _ => return a,
    };
    let id = eng.rsc_id(r);
    let notifies = matches!(&eng.cluster.rsc(r).kind, RscKind::Clone(c) if c.notify);
    let key = if notifies {
        notify_key(id, "confirmed-post", done.name())
    } else {
        op_key(id, done.name(), 0)
    };
    eng.by_rsc[r.0]
        .iter()
        .rev()
        .copied()
        .find(|&x| eng.act(x).key == key)
        .unwrap_or(a)
}

/// The flags an ordering sees: for a clone's action on a node, runnable
/// means runnable anywhere.
fn flags_for_ordering(eng: &mut Engine<'_>, a: ActIdx, node: Option<NodeIdx>) -> Flags {
    let Some(r) = eng.act(a).rsc else {
        return eng.act(a).flags;
    };
    let flags = rsc_action_flags(eng, a, None);
    if node.is_none() || !eng.is_clone(r) {
        return flags;
    }
    let runnable = flags.has(Flags::RUNNABLE);
    let on_node = rsc_action_flags(eng, a, node);
    if runnable {
        on_node.with(Flags::RUNNABLE)
    } else {
        on_node
    }
}

/// An action's flags as its resource sees them: a group's or clone's
/// milestone also reflects its members' and instances' actions.
pub fn rsc_action_flags(eng: &mut Engine<'_>, a: ActIdx, node: Option<NodeIdx>) -> Flags {
    let Some(r) = eng.act(a).rsc else {
        return eng.act(a).flags;
    };
    match &eng.cluster.rsc(r).kind {
        RscKind::Primitive => eng.act(a).flags,
        RscKind::Group { .. } => group_action_flags(eng, a, r, node),
        RscKind::Clone(_) => collective_action_flags(eng, a, r, node),
    }
}

fn group_action_flags(eng: &mut Engine<'_>, a: ActIdx, g: RscIdx, node: Option<NodeIdx>) -> Flags {
    let mut flags = Flags::OPTIONAL.with(Flags::RUNNABLE).with(Flags::PSEUDO);
    let task = eng.act(a).task.clone();
    let member_task = task.for_primitive();
    for &m in eng.children(g) {
        match eng.find_task(m, &member_task, node) {
            Some(ma) => {
                let mf = eng.act(ma).flags;
                if flags.has(Flags::OPTIONAL) && !mf.has(Flags::OPTIONAL) {
                    flags.clear(Flags::OPTIONAL);
                    eng.clear(a, Flags::OPTIONAL);
                }
                if member_task != task && flags.has(Flags::RUNNABLE) && !mf.has(Flags::RUNNABLE) {
                    flags.clear(Flags::RUNNABLE);
                    eng.clear(a, Flags::RUNNABLE);
                }
            }
            None if !matches!(member_task, Task::Stop | Task::Demote) => {
                flags.clear(Flags::RUNNABLE);
            }
            None => {}
        }
    }
    flags
}

/// The task an instance does for a clone's action (`running` → `start`
/// for primitive instances; a notification's underlying action).
fn instance_task(eng: &Engine<'_>, a: ActIdx, clone: RscIdx) -> Task {
    let act = eng.act(a);
    let task = if matches!(act.task, Task::Notify | Task::Notified) {
        act.key
            .split("_notify_")
            .nth(1)
            .and_then(|rest| rest.rsplit_once('_'))
            .and_then(|(t, _)| Task::parse(t))
            .unwrap_or(act.task.clone())
    } else {
        act.task.clone()
    };
    match eng.children(clone).first() {
        Some(&i) if eng.is_primitive(i) => task.for_primitive(),
        _ => task,
    }
}

fn collective_action_flags(
    eng: &mut Engine<'_>,
    a: ActIdx,
    clone: RscIdx,
    node: Option<NodeIdx>,
) -> Flags {
    let task = instance_task(eng, a, clone);
    let mut flags = Flags::OPTIONAL.with(Flags::RUNNABLE).with(Flags::PSEUDO);
    let mut any_runnable = false;
    for &i in eng.children(clone) {
        let instance_node = if eng.is_primitive(i) { node } else { None };
        let Some(ia) = eng.find_task(i, &task, instance_node) else {
            continue;
        };
        let iflags = rsc_action_flags(eng, ia, node);
        if flags.has(Flags::OPTIONAL) && !iflags.has(Flags::OPTIONAL) {
            flags.clear(Flags::OPTIONAL);
            eng.clear(a, Flags::OPTIONAL);
        }
        if iflags.has(Flags::RUNNABLE) {
            any_runnable = true;
        }
    }
    if !any_runnable {
        flags.clear(Flags::RUNNABLE);
        if node.is_none() {
            eng.clear(a, Flags::RUNNABLE);
        }
    }
    flags
}

/// How one relation's flags change its two actions; (first changed, then
/// changed).
fn update_for_flags(
    eng: &mut Engine<'_>,
    first: ActIdx,
    then: ActIdx,
    first_flags: Flags,
    then_flags: Flags,
    order_index: usize,
    requeue: &mut Requeue,
) -> (bool, bool) {
    let mut node = eng.act(then).node;
    let mut order = eng.act(then).before[order_index].flags;
    if order.has(Rel::FIRST_IMPLIES_SAME_NODE_THEN) {
        order = order
            .without(Rel::FIRST_IMPLIES_SAME_NODE_THEN)
            .with(Rel::FIRST_IMPLIES_THEN);
        eng.act_mut(then).before[order_index].flags = order;
        node = eng.act(first).node;
    }
    let then_rsc = eng.act(then).rsc;
    let first_rsc = eng.act(first).rsc;
    let optional_bit = |f: Flags| {
        if f.has(Flags::OPTIONAL) {
            Flags::OPTIONAL
        } else {
            Flags::NONE
        }
    };
    let mut changed = Changed::default();
    let mut dispatch = |eng: &mut Engine<'_>, flags: Flags, filter: Flags, kind: Rel| {
        update_ordered(eng, first, then, node, flags, filter, kind, requeue)
    };
    if order.has(Rel::FIRST_IMPLIES_THEN) {
        if then_rsc.is_some() {
            changed |= dispatch(
                eng,
                optional_bit(first_flags),
                Flags::OPTIONAL,
                Rel::FIRST_IMPLIES_THEN,
            );
        } else if !first_flags.has(Flags::OPTIONAL) && eng.clear(then, Flags::OPTIONAL) {
            changed.then = true;
        }
    }
    if order.has(Rel::INTERMEDIATE_STOP) && then_rsc.is_some() {
        changed |= dispatch(
            eng,
            first_flags,
            Flags::OPTIONAL.with(Flags::RUNNABLE),
            Rel::INTERMEDIATE_STOP,
        );
    }
    if order.has(Rel::THEN_IMPLIES_FIRST) {
        if first_rsc.is_some() {
            changed |= dispatch(eng, first_flags, Flags::OPTIONAL, Rel::THEN_IMPLIES_FIRST);
        } else if !first_flags.has(Flags::OPTIONAL) && eng.clear(first, Flags::RUNNABLE) {
            changed.first = true;
        }
    }
    if order.has(Rel::PROMOTED_THEN_IMPLIES_FIRST) && then_rsc.is_some() {
        changed |= dispatch(
            eng,
            optional_bit(first_flags),
            Flags::OPTIONAL,
            Rel::PROMOTED_THEN_IMPLIES_FIRST,
        );
    }
    if order.has(Rel::MIN_RUNNABLE) {
        if then_rsc.is_some() {
            changed |= dispatch(eng, first_flags, Flags::RUNNABLE, Rel::MIN_RUNNABLE);
        } else if first_flags.has(Flags::RUNNABLE) {
            let act = eng.act_mut(then);
            act.runnable_before += 1;
            if act.runnable_before >= act.required_runnable_before
                && !act.flags.has(Flags::RUNNABLE)
            {
                act.flags.set(Flags::RUNNABLE);
                changed.then = true;
            }
        }
    }
    if order.has(Rel::UNRUNNABLE_FIRST_BLOCKS) {
        if then_rsc.is_some() {
            changed |= dispatch(
                eng,
                first_flags,
                Flags::RUNNABLE,
                Rel::UNRUNNABLE_FIRST_BLOCKS,
            );
        } else if !first_flags.has(Flags::RUNNABLE) && eng.clear(then, Flags::RUNNABLE) {
            changed.then = true;
        }
    }
    if order.has(Rel::UNMIGRATABLE_THEN_BLOCKS) && then_rsc.is_some() {
        changed |= dispatch(
            eng,
            first_flags,
            Flags::OPTIONAL,
            Rel::UNMIGRATABLE_THEN_BLOCKS,
        );
    }
    if order.has(Rel::FIRST_ELSE_THEN) && then_rsc.is_some() {
        changed |= dispatch(eng, first_flags, Flags::OPTIONAL, Rel::FIRST_ELSE_THEN);
    }
    if order.has(Rel::ORDERED) && then_rsc.is_some() {
        changed |= dispatch(eng, first_flags, Flags::RUNNABLE, Rel::ORDERED);
    }
    if order.has(Rel::ASYMMETRIC) && then_rsc.is_some() {
        changed |= dispatch(eng, first_flags, Flags::RUNNABLE, Rel::ASYMMETRIC);
    }
    if eng.act(first).flags.has(Flags::RUNNABLE)
        && order.has(Rel::FIRST_IMPLIES_THEN_GRAPHED)
        && !first_flags.has(Flags::OPTIONAL)
    {
        eng.act_mut(then).flags.set(Flags::ALWAYS_IN_GRAPH);
    }
    if order.has(Rel::THEN_IMPLIES_FIRST_GRAPHED) && !then_flags.has(Flags::OPTIONAL) {
        eng.act_mut(first).flags.set(Flags::ALWAYS_IN_GRAPH);
    }
    // An unrunnable stop of a blocked, unmanaged resource holds back what
    // is ordered after it.
    if order.any(
        Rel::FIRST_IMPLIES_THEN
            .with(Rel::THEN_IMPLIES_FIRST)
            .with(Rel::INTERMEDIATE_STOP),
    ) && let Some(fr) = first_rsc
        && !eng.cluster.rsc(fr).meta.managed
        && eng.cluster.rsc(fr).status.blocked
        && !eng.act(first).flags.has(Flags::RUNNABLE)
        && eng.act(first).task == Task::Stop
        && eng.clear(then, Flags::RUNNABLE)
    {
        changed.then = true;
    }
    (changed.first, changed.then)
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Changed {
    pub first: bool,
    pub then: bool,
}

impl std::ops::BitOrAssign for Changed {
    fn bitor_assign(&mut self, o: Changed) {
        self.first |= o.first;
        self.then |= o.then;
    }
}

/// The then action's resource applies the relation: a primitive to the
/// action itself, a group also to its members' same action, a clone to
/// its instances' (one by one with the first clone's instance on the same
/// node, when interleaved).
#[allow(clippy::too_many_arguments)]
fn update_ordered(
    eng: &mut Engine<'_>,
    first: ActIdx,
    then: ActIdx,
    node: Option<NodeIdx>,
    flags: Flags,
    filter: Flags,
    kind: Rel,
    requeue: &mut Requeue,
) -> Changed {
    let Some(tr) = eng.act(then).rsc else {
        return Changed::default();
    };
    match &eng.cluster.rsc(tr).kind {
        RscKind::Primitive => update_one(eng, first, then, flags, filter, kind, requeue),
        RscKind::Group { members } => {
            let members = members.clone();
            let mut changed = update_one(eng, first, then, flags, filter, kind, requeue);
            let task = eng.act(then).task.for_primitive();
            for m in members {
                if let Some(ma) = eng.find_task(m, &task, node) {
                    changed |= update_one(eng, first, ma, flags, filter, kind, requeue);
                }
            }
            changed
        }
        RscKind::Clone(_) => {
            if can_interleave(eng, first, then) {
                super::interleave::update(eng, first, then, node, filter, kind, requeue)
            } else {
                let mut changed = update_one(eng, first, then, flags, filter, kind, requeue);
                let task = eng.act(then).task.clone();
                for i in eng.children(tr).to_vec() {
                    let Some(ia) = eng.find_task(i, &task, node) else {
                        continue;
                    };
                    if !rsc_action_flags(eng, ia, node).has(Flags::RUNNABLE) {
                        continue;
                    }
                    let c = update_ordered(eng, first, ia, node, flags, filter, kind, requeue);
                    if c.then {
                        requeue.extend(eng.act(ia).after.iter().map(|r| r.act));
                    }
                    changed |= c;
                }
                changed
            }
        }
    }
}

/// Whether an order between two clones is applied instance by instance.
pub fn can_interleave(eng: &Engine<'_>, first: ActIdx, then: ActIdx) -> bool {
    let (Some(fr), Some(tr)) = (eng.act(first).rsc, eng.act(then).rsc) else {
        return false;
    };
    if fr == tr || !eng.is_clone(fr) || !eng.is_clone(tr) {
        return false;
    }
    let decides = if matches!(eng.act(then).task, Task::Stop | Task::Demote) {
        fr
    } else {
        tr
    };
    matches!(&eng.cluster.rsc(decides).kind, RscKind::Clone(c) if c.interleave)
}

/// One relation applied to one pair of actions.
#[allow(clippy::too_many_arguments)]
pub fn update_one(
    eng: &mut Engine<'_>,
    first: ActIdx,
    then: ActIdx,
    flags: Flags,
    filter: Flags,
    kind: Rel,
    requeue: &mut Requeue,
) -> Changed {
    let then_before = eng.act(then).flags;
    let first_before = eng.act(first).flags;
    if kind.has(Rel::ASYMMETRIC) {
        asymmetric(eng, first, then);
    }
    if kind.has(Rel::THEN_IMPLIES_FIRST)
        && !then_before.has(Flags::OPTIONAL)
        && filter.has(Flags::OPTIONAL)
        && !flags.has(Flags::OPTIONAL)
        && first_before.has(Flags::OPTIONAL)
    {
        eng.clear(first, Flags::OPTIONAL);
    }
    if kind.has(Rel::THEN_IMPLIES_FIRST)
        && !then_before.has(Flags::OPTIONAL)
        && flags.has(Flags::MIGRATABLE)
        && !eng.act(then).flags.has(Flags::MIGRATABLE)
    {
        eng.clear(first, Flags::MIGRATABLE);
    }
    if kind.has(Rel::PROMOTED_THEN_IMPLIES_FIRST)
        && eng
            .act(then)
            .rsc
            .is_some_and(|r| eng.cluster.rsc(r).status.role() == crate::unpack::Role::Promoted)
        && filter.has(Flags::OPTIONAL)
        && !eng.act(then).flags.has(Flags::OPTIONAL)
    {
        eng.clear(first, Flags::OPTIONAL);
        if eng.act(first).flags.has(Flags::MIGRATABLE)
            && !eng.act(then).flags.has(Flags::MIGRATABLE)
        {
            eng.clear(first, Flags::MIGRATABLE);
        }
    }
    if kind.has(Rel::UNMIGRATABLE_THEN_BLOCKS) && filter.has(Flags::OPTIONAL) {
        if !eng
            .act(then)
            .flags
            .has(Flags::MIGRATABLE.with(Flags::RUNNABLE))
        {
            eng.clear(first, Flags::RUNNABLE);
        }
        if !eng.act(then).flags.has(Flags::OPTIONAL) {
            eng.clear(first, Flags::OPTIONAL);
        }
    }
    if kind.has(Rel::FIRST_ELSE_THEN)
        && filter.has(Flags::OPTIONAL)
        && !eng.act(first).flags.has(Flags::RUNNABLE)
    {
        eng.clear(then, Flags::MIGRATABLE);
        eng.act_mut(then).flags.clear(Flags::PSEUDO);
    }
    if kind.has(Rel::UNRUNNABLE_FIRST_BLOCKS)
        && filter.has(Flags::RUNNABLE)
        && eng.act(then).flags.has(Flags::RUNNABLE)
        && !flags.has(Flags::RUNNABLE)
    {
        eng.clear(then, Flags::RUNNABLE);
        eng.clear(then, Flags::MIGRATABLE);
    }
    if kind.has(Rel::FIRST_IMPLIES_THEN)
        && filter.has(Flags::OPTIONAL)
        && eng.act(then).flags.has(Flags::OPTIONAL)
        && !flags.has(Flags::OPTIONAL)
        && !eng.act(first).flags.has(Flags::MIGRATABLE)
    {
        eng.clear(then, Flags::OPTIONAL);
    }
    if kind.has(Rel::INTERMEDIATE_STOP) {
        restart(eng, first, then, filter);
    }
    let mut changed = Changed::default();
    if eng.act(then).flags != then_before {
        changed.then = true;
        if eng
            .act(then)
            .rsc
            .is_some_and(|r| eng.cluster.rsc(r).parent.is_some())
        {
            requeue.push(then);
        }
    }
    if eng.act(first).flags != first_before {
        changed.first = true;
    }
    changed
}

/// An asymmetric order: a then action that cannot follow an unrunnable
/// first action is neither required nor runnable, unless it is an
/// optional stop of something stopped or start of something running.
fn asymmetric(eng: &mut Engine<'_>, first: ActIdx, then: ActIdx) {
    let Some(tr) = eng.act(then).rsc else { return };
    if eng.act(first).flags.has(Flags::RUNNABLE) {
        return;
    }
    if eng.act(then).flags.has(Flags::OPTIONAL) {
        let rsc = eng.cluster.rsc(tr);
        let role = rsc.status.role();
        let task = &eng.act(then).task;
        if role == crate::unpack::Role::Stopped && *task == Task::Stop {
            return;
        }
        if role >= crate::unpack::Role::Started
            && *task == Task::Start
            && rsc.status.running.len() == 1
            && rsc.status.current_node() == eng.act(then).node
        {
            return;
        }
    }
    eng.clear(then, Flags::OPTIONAL);
    eng.clear(then, Flags::RUNNABLE);
}

/// A stop before a start of the same resource: the stop is required when
/// the start is, and a start that must happen but cannot still stops.
fn restart(eng: &mut Engine<'_>, first: ActIdx, then: ActIdx, filter: Flags) {
    let (Some(fr), Some(tr)) = (eng.act(first).rsc, eng.act(then).rsc) else {
        return;
    };
    if !eng.is_primitive(fr) || !eng.is_primitive(tr) {
        return;
    }
    let then_flags = eng.act(then).flags;
    let required = filter.has(Flags::OPTIONAL) && !then_flags.has(Flags::OPTIONAL);
    let stopping = filter.has(Flags::RUNNABLE)
        && !then_flags.has(Flags::RUNNABLE)
        && eng.cluster.rsc(tr).meta.managed
        && fr == tr;
    if !required && !stopping {
        return;
    }
    if eng.act(first).flags.has(Flags::RUNNABLE) || !then_flags.has(Flags::OPTIONAL) {
        eng.clear(first, Flags::OPTIONAL);
    }
    if !then_flags.has(Flags::MIGRATABLE) {
        eng.clear(first, Flags::MIGRATABLE);
    }
    let first_flags = eng.act(first).flags;
    if !first_flags.has(Flags::OPTIONAL) && !first_flags.has(Flags::RUNNABLE) {
        eng.clear(then, Flags::RUNNABLE);
    }
}
