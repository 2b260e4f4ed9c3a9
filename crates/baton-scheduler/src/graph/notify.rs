//! Notifications for clones with `notify=true`: before and after the
//! clone's instances start, stop, promote or demote, every instance that
//! is (or will be) active is told, with the lists of what is active,
//! promoted, starting, stopping... as `CRM_meta_notify_*` variables.
//! Milestones (`pre_notify`, `confirmed-pre_notify`, `post_notify`,
//! `confirmed-post_notify`) order the notifications around the actions.

use std::collections::{BTreeMap, BTreeSet};

use super::create::Course;
use super::engine::{ActIdx, Engine, Flags, Rel, Task, notify_key};
use crate::unpack::{NodeIdx, NodeState, Role, RscIdx, RscKind};

/// The milestones of one notified action of a clone.
#[derive(Debug, Clone, Copy)]
pub struct Milestones {
    pub pre: Option<ActIdx>,
    pub pre_done: Option<ActIdx>,
    pub post: Option<ActIdx>,
    pub post_done: Option<ActIdx>,
}

/// A clone's notification milestones for start, stop, promote, demote.
#[derive(Debug, Clone, Default)]
pub struct CloneNotifications {
    pub by_task: BTreeMap<&'static str, Milestones>,
}

fn milestone(
    eng: &mut Engine<'_>,
    rsc: RscIdx,
    of: ActIdx,
    task: Task,
    kind: &str,
    action: &str,
) -> ActIdx {
    let of_task = eng.act(of).task.name().to_owned();
    let optional = eng.act(of).flags.has(Flags::OPTIONAL);
    let key = notify_key(eng.rsc_id(rsc), kind, &of_task);
    let a = eng.get_or_create(Some(rsc), key, task, None, optional);
    let notify_type = if kind.ends_with("pre") { "pre" } else { "post" };
    let act = eng.act_mut(a);
    act.flags.set(Flags::PSEUDO);
    act.meta
        .insert("notify_key_type".to_owned(), kind.to_owned());
    act.meta.insert("notify_key_operation".to_owned(), of_task);
    act.meta
        .insert("notify_type".to_owned(), notify_type.to_owned());
    act.meta
        .insert("notify_operation".to_owned(), action.to_owned());
    a
}

/// The milestones around `action` (and its completion `complete`).
pub fn milestones(
    eng: &mut Engine<'_>,
    clone: RscIdx,
    task: &str,
    action: ActIdx,
    complete: ActIdx,
) -> Milestones {
    let pre = milestone(eng, clone, action, Task::Notify, "pre", task);
    eng.act_mut(pre).flags.set(Flags::RUNNABLE);
    let pre_done = milestone(eng, clone, action, Task::Notified, "confirmed-pre", task);
    eng.act_mut(pre_done).flags.set(Flags::RUNNABLE);
    eng.order(pre, pre_done, Rel::ORDERED);
    eng.order(pre_done, action, Rel::ORDERED);
    let runnable = eng.act(complete).flags.has(Flags::RUNNABLE);
    let post = milestone(eng, clone, complete, Task::Notify, "post", task);
    let post_done = milestone(eng, clone, complete, Task::Notified, "confirmed-post", task);
    for a in [post, post_done] {
        let act = eng.act_mut(a);
        act.priority = baton_cib::Score::INFINITY_VALUE;
        if runnable {
            act.flags.set(Flags::RUNNABLE);
        } else {
            act.flags.clear(Flags::RUNNABLE);
        }
    }
    eng.order(complete, post, Rel::FIRST_IMPLIES_THEN);
    eng.order(post, post_done, Rel::FIRST_IMPLIES_THEN);
    eng.order(pre_done, post, Rel::ORDERED);
    Milestones {
        pre: Some(pre),
        pre_done: Some(pre_done),
        post: Some(post),
        post_done: Some(post_done),
    }
}

/// A clone instance stopped implicitly by fencing its node: the other
/// instances are told after the fencing (there is no "before").
pub fn after_fencing(eng: &mut Engine<'_>, instance: RscIdx, fencing: ActIdx) {
    let clone = eng.cluster.top_of(instance);
    if !notifies(eng, clone) {
        return;
    }
    let runnable = eng.act(fencing).flags.has(Flags::RUNNABLE);
    let post = milestone(eng, instance, fencing, Task::Notify, "post", "stop");
    let post_done = milestone(
        eng,
        instance,
        fencing,
        Task::Notified,
        "confirmed-post",
        "stop",
    );
    for a in [post, post_done] {
        let act = eng.act_mut(a);
        act.priority = baton_cib::Score::INFINITY_VALUE;
        if runnable {
            act.flags.set(Flags::RUNNABLE);
        } else {
            act.flags.clear(Flags::RUNNABLE);
        }
    }
    eng.order(fencing, post, Rel::FIRST_IMPLIES_THEN);
    eng.order(post, post_done, Rel::FIRST_IMPLIES_THEN);
    let m = Milestones {
        pre: None,
        pre_done: None,
        post: Some(post),
        post_done: Some(post_done),
    };
    create(eng, clone, "stop", m, &BTreeMap::new());
}

/// Orders one notified action's end before another's beginning.
pub fn order_between(eng: &mut Engine<'_>, n: &CloneNotifications, done: &str, next: &str) {
    if let (Some(a), Some(b)) = (
        n.by_task.get(done).and_then(|m| m.post_done),
        n.by_task.get(next).and_then(|m| m.pre),
    ) {
        eng.order(a, b, Rel::ORDERED);
    }
}

/// One (resource, node) entry of a notification list.
type Entry = (String, Option<String>);

#[derive(Default)]
struct Lists {
    start: BTreeSet<Entry>,
    stop: BTreeSet<Entry>,
    promote: BTreeSet<Entry>,
    demote: BTreeSet<Entry>,
    active: BTreeSet<Entry>,
    inactive: BTreeSet<Entry>,
    promoted: BTreeSet<Entry>,
    unpromoted: BTreeSet<Entry>,
}

fn words(entries: &BTreeSet<Entry>, with_nodes: bool) -> (String, String) {
    let mut rscs = Vec::new();
    let mut nodes = Vec::new();
    let mut last: Option<&str> = None;
    for (rsc, node) in entries {
        if with_nodes && node.is_none() {
            continue;
        }
        if last == Some(rsc.as_str()) {
            continue;
        }
        last = Some(rsc);
        rscs.push(rsc.as_str());
        if let Some(n) = node {
            nodes.push(n.as_str());
        }
    }
    let join = |v: Vec<&str>| {
        if v.is_empty() {
            " ".to_owned()
        } else {
            v.join(" ")
        }
    };
    (join(rscs), join(nodes))
}

/// Creates the notifications of every notifying clone, once every
/// action's state is final.
pub fn create_all(
    eng: &mut Engine<'_>,
    all: &BTreeMap<RscIdx, CloneNotifications>,
    courses: &BTreeMap<RscIdx, Course>,
) {
    for (&clone, notifications) in all {
        for (task, m) in &notifications.by_task {
            create(eng, clone, task, *m, courses);
        }
    }
}

fn instances_primitives(eng: &Engine<'_>, clone: RscIdx) -> Vec<RscIdx> {
    let mut out = Vec::new();
    eng.cluster.collect_primitives(clone, &mut out);
    out
}

fn create(
    eng: &mut Engine<'_>,
    clone: RscIdx,
    task: &str,
    m: Milestones,
    courses: &BTreeMap<RscIdx, Course>,
) {
    let prims = instances_primitives(eng, clone);
    let node_name = |eng: &Engine<'_>, n: NodeIdx| eng.cluster.node(n).uname.clone();
    let mut lists = Lists::default();
    for &p in &prims {
        let rsc = eng.cluster.rsc(p);
        let id = rsc.id.clone();
        let node = rsc.status.current_node().map(|n| node_name(eng, n));
        let entry = (id.clone(), node);
        match rsc.status.role() {
            Role::Stopped => {
                lists.inactive.insert(entry);
            }
            Role::Started => {
                lists.active.insert(entry);
            }
            Role::Unpromoted => {
                lists.unpromoted.insert(entry.clone());
                lists.active.insert(entry);
            }
            Role::Promoted => {
                lists.promoted.insert(entry.clone());
                lists.active.insert(entry);
            }
        }
        for &a in &eng.by_rsc[p.0] {
            let act = eng.act(a);
            let Some(n) = act.node else { continue };
            if act.flags.has(Flags::OPTIONAL) {
                continue;
            }
            let unclean = eng.cluster.node(n).is_unclean();
            // A stop on a node to fence is listed even though it cannot run.
            let listed = act.flags.has(Flags::RUNNABLE) || act.task == Task::Stop && unclean;
            if !listed {
                continue;
            }
            let entry = (id.clone(), Some(node_name(eng, n)));
            match act.task {
                Task::Start => lists.start.insert(entry),
                Task::Stop => lists.stop.insert(entry),
                Task::Promote => lists.promote.insert(entry),
                Task::Demote => lists.demote.insert(entry),
                _ => false,
            };
        }
    }
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    let mut put = |name: &str, (rscs, nodes): (String, String), with_nodes: bool| {
        keys.insert(format!("notify_{name}_resource"), rscs);
        if with_nodes {
            keys.insert(format!("notify_{name}_uname"), nodes);
        }
    };
    put("stop", words(&lists.stop, true), true);
    put("start", words(&lists.start, true), true);
    put("demote", words(&lists.demote, true), true);
    put("promote", words(&lists.promote, true), true);
    put("active", words(&lists.active, true), true);
    put("unpromoted", words(&lists.unpromoted, true), true);
    put("slave", words(&lists.unpromoted, true), true);
    put("promoted", words(&lists.promoted, true), true);
    put("master", words(&lists.promoted, true), true);
    put("inactive", words(&lists.inactive, false), false);
    let mut available: Vec<&str> = eng
        .allowed_nodes(clone)
        .iter()
        .map(|&n| eng.cluster.node(n).uname.as_str())
        .collect();
    available.sort_by(|a, b| crate::placement::node_name_cmp(a, b));
    let all: Vec<&str> = eng.cluster.nodes.iter().map(|n| n.uname.as_str()).collect();
    let join = |v: Vec<&str>| {
        if v.is_empty() {
            " ".to_owned()
        } else {
            v.join(" ")
        }
    };
    keys.insert("notify_available_uname".to_owned(), join(available));
    keys.insert("notify_all_uname".to_owned(), join(all));
    let required = match task {
        "stop" => !lists.stop.is_empty(),
        "start" => !lists.start.is_empty(),
        "demote" => !lists.demote.is_empty(),
        "promote" => !lists.promote.is_empty(),
        _ => false,
    };
    if required {
        for a in [m.pre, m.pre_done, m.post, m.post_done]
            .into_iter()
            .flatten()
        {
            eng.act_mut(a).flags.clear(Flags::OPTIONAL);
        }
    }
    for &p in &prims {
        notify_instance(eng, p, task, m, &keys, &lists, courses.get(&p));
    }
}

fn notify_instance(
    eng: &mut Engine<'_>,
    p: RscIdx,
    task: &str,
    m: Milestones,
    keys: &BTreeMap<String, String>,
    lists: &Lists,
    course: Option<&Course>,
) {
    for a in eng.by_rsc[p.0].clone() {
        let act = eng.act(a);
        if act.node.is_some()
            && !act.flags.has(Flags::OPTIONAL)
            && matches!(
                act.task,
                Task::Start | Task::Stop | Task::Promote | Task::Demote
            )
        {
            eng.act_mut(a).meta.extend(keys.clone());
        }
    }
    // Nothing to tell when no instance does it (a stop may be implied by
    // fencing and is told anyway).
    let nothing_done = match task {
        "start" => lists.start.is_empty(),
        "promote" => lists.promote.is_empty(),
        "demote" => lists.demote.is_empty(),
        _ => false,
    };
    if nothing_done {
        return;
    }
    let rsc = eng.cluster.rsc(p);
    if rsc.status.role() != Role::Stopped && matches!(task, "stop" | "demote") {
        let stop = eng.find_task(p, &Task::Stop, None);
        let nodes: Vec<NodeIdx> = rsc.status.running.iter().map(|(n, _)| *n).collect();
        for n in nodes {
            if stop.is_some_and(|s| eng.act(s).flags.has(Flags::PSEUDO))
                && eng.cluster.node(n).is_unclean()
            {
                continue;
            }
            notification(eng, p, n, m.pre, m.pre_done, keys);
            if task == "demote" || stop.is_none_or(|s| eng.act(s).flags.has(Flags::OPTIONAL)) {
                post_notification(eng, p, n, m, keys);
            }
        }
    }
    let Some(course) = course else { return };
    if course.next_role != Role::Stopped && matches!(task, "start" | "promote") {
        let Some(node) = course.assigned else { return };
        let start = eng.find_task(p, &Task::Start, None);
        if task != "start" || start.is_none_or(|s| eng.act(s).flags.has(Flags::OPTIONAL)) {
            notification(eng, p, node, m.pre, m.pre_done, keys);
        }
        post_notification(eng, p, node, m, keys);
    }
}

fn notification(
    eng: &mut Engine<'_>,
    p: RscIdx,
    node: NodeIdx,
    op: Option<ActIdx>,
    done: Option<ActIdx>,
    keys: &BTreeMap<String, String>,
) -> Option<ActIdx> {
    let (op, done) = (op?, done?);
    if eng.cluster.node(node).state != NodeState::Online || !eng.act(op).flags.has(Flags::RUNNABLE)
    {
        return None;
    }
    let notify_type = eng
        .act(op)
        .meta
        .get("notify_type")
        .cloned()
        .unwrap_or_default();
    let operation = eng
        .act(op)
        .meta
        .get("notify_operation")
        .cloned()
        .unwrap_or_default();
    let key = notify_key(eng.rsc_id(p), &notify_type, &operation);
    let optional = eng.act(op).flags.has(Flags::OPTIONAL);
    let n = eng.get_or_create(Some(p), key, Task::Notify, Some(node), optional);
    let op_meta = eng.act(op).meta.clone();
    let act = eng.act_mut(n);
    for (k, v) in op_meta {
        act.meta.entry(k).or_insert(v);
    }
    act.meta.extend(keys.clone());
    eng.order(op, n, Rel::ORDERED);
    eng.order(n, done, Rel::ORDERED);
    Some(n)
}

fn post_notification(
    eng: &mut Engine<'_>,
    p: RscIdx,
    node: NodeIdx,
    m: Milestones,
    keys: &BTreeMap<String, String>,
) {
    if let Some(n) = notification(eng, p, node, m.post, m.post_done, keys) {
        eng.act_mut(n).priority = baton_cib::Score::INFINITY_VALUE;
    }
    let Some(done) = m.post_done else { return };
    for a in eng.by_rsc[p.0].clone() {
        let act = eng.act(a);
        if act.interval_ms > 0 && !matches!(act.task, Task::Cancel(_)) {
            eng.order(done, a, Rel::ORDERED);
        }
    }
}

/// Whether `clone` notifies its instances.
pub fn notifies(eng: &Engine<'_>, clone: RscIdx) -> bool {
    matches!(&eng.cluster.rsc(clone).kind, RscKind::Clone(c) if c.notify)
}
