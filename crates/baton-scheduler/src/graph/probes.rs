//! Probes: a one-shot monitor of every resource on every node where its
//! state is unknown, expected to find it not running, before anything
//! starts it. An anonymous clone is probed once per node, through one
//! instance. A probe also waits for nothing but comes before what the
//! probed resource's start comes before, so nothing that depends on it
//! restarts before its state is known.

use super::engine::{ActIdx, Engine, Flags, Rel, Task, op_key};
use crate::unpack::{NodeIdx, NodeState, RscIdx, RscKind};

/// Not running, the expected result of a probe where nothing is known.
pub const RC_NOT_RUNNING: i32 = 7;
/// Running promoted.
pub const RC_PROMOTED: i32 = 8;

pub fn schedule(eng: &mut Engine<'_>, assigned: &dyn Fn(RscIdx) -> Option<NodeIdx>) {
    if !eng.cluster.options.enable_startup_probes {
        return;
    }
    for n in 0..eng.cluster.nodes.len() {
        let node = NodeIdx(n);
        if !matches!(
            eng.cluster.node(node).state,
            NodeState::Online | NodeState::Pending
        ) {
            continue;
        }
        for &r in &eng.cluster.top {
            probe(eng, r, node, assigned);
        }
    }
}

fn probe(
    eng: &mut Engine<'_>,
    r: RscIdx,
    node: NodeIdx,
    assigned: &dyn Fn(RscIdx) -> Option<NodeIdx>,
) {
    match &eng.cluster.rsc(r).kind {
        RscKind::Primitive => probe_primitive(eng, r, node),
        RscKind::Group { members } => {
            for &m in members {
                probe_primitive(eng, m, node);
            }
        }
        RscKind::Clone(c) if c.unique => {
            for &i in &c.instances {
                probe(eng, i, node, assigned);
            }
        }
        RscKind::Clone(c) => {
            let mut instances = c.instances.clone();
            instances.sort_by_key(|&i| instance_number(eng.rsc_id(i)));
            let known = |i: &RscIdx| {
                let mut prims = Vec::new();
                eng.cluster.collect_primitives(*i, &mut prims);
                prims
                    .iter()
                    .any(|p| eng.cluster.rsc(*p).status.known_on.contains(&node))
            };
            let on_node = |i: &RscIdx| {
                let mut prims = Vec::new();
                eng.cluster.collect_primitives(*i, &mut prims);
                prims.first().is_some_and(|&p| assigned(p) == Some(node))
            };
            let chosen = instances
                .iter()
                .find(|i| known(i))
                .or_else(|| instances.iter().find(|i| on_node(i)))
                .or(instances.first())
                .copied();
            if let Some(i) = chosen {
                probe(eng, i, node, assigned);
            }
        }
    }
}

fn instance_number(id: &str) -> u64 {
    id.rsplit_once(':')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

fn probe_primitive(eng: &mut Engine<'_>, r: RscIdx, node: NodeIdx) {
    let rsc = eng.cluster.rsc(r);
    if rsc.orphan || rsc.status.known_on.contains(&node) || !discovery_allowed(eng, r, node) {
        return;
    }
    let key = op_key(&rsc.id, "monitor", 0);
    let probe = eng.get_or_create(Some(r), key, Task::Monitor, Some(node), false);
    if eng.cluster.node(node).state != NodeState::Online {
        eng.act_mut(probe).flags.clear(Flags::RUNNABLE);
    }
    let expected = if rsc.status.running.iter().any(|(n, _)| *n == node) {
        (rsc.status.role() == crate::unpack::Role::Promoted).then_some(RC_PROMOTED)
    } else {
        Some(RC_NOT_RUNNING)
    };
    if let Some(rc) = expected {
        eng.act_mut(probe)
            .meta
            .insert("op_target_rc".to_owned(), rc.to_string());
    }
    // A clone instance's probe comes before the clone's start.
    let top = match eng.clone_of(r) {
        Some(c) => c,
        None => r,
    };
    let mut flags = Rel::ORDERED;
    let top_active = {
        let mut prims = Vec::new();
        eng.cluster.collect_primitives(top, &mut prims);
        prims
            .iter()
            .any(|p| !eng.cluster.rsc(*p).status.running.is_empty())
    };
    if !eng.act(probe).flags.has(Flags::RUNNABLE) && !top_active {
        flags = flags.with(Rel::UNRUNNABLE_FIRST_BLOCKS);
    }
    eng.order_act_rsc(probe, top, "start", flags);
    eng.order_act_rsc(probe, top, "reload-agent", Rel::ORDERED);
}

/// Whether location constraints leave discovery of `r` on `node` on.
fn discovery_allowed(eng: &Engine<'_>, r: RscIdx, node: NodeIdx) -> bool {
    eng.cluster.discovery_allowed(r, node)
}

/// After orderings are in place: each probe also comes before whatever
/// the probed resource's start (or promotion) comes before, and before any
/// stop that another resource's stop is ordered ahead of.
pub fn order(eng: &mut Engine<'_>) {
    for r in 0..eng.cluster.rscs.len() {
        let r = RscIdx(r);
        if !eng.is_primitive(r) {
            continue;
        }
        let probes: Vec<ActIdx> = eng.by_rsc[r.0]
            .iter()
            .copied()
            .filter(|&a| eng.act(a).task == Task::Monitor && eng.act(a).interval_ms == 0)
            .collect();
        for probe in probes {
            let thens: Vec<ActIdx> = eng.act(probe).after.iter().map(|x| x.act).collect();
            for then in thens {
                let mut seen = std::collections::BTreeSet::new();
                restart_orderings(eng, probe, then, &mut seen);
            }
        }
    }
    stop_orderings(eng);
}

/// "probe then X" also orders the probe before what must stop or demote
/// for X to start or promote again, following orders that imply their
/// then side (and groups' and clones' own milestones to their members).
fn restart_orderings(
    eng: &mut Engine<'_>,
    probe: ActIdx,
    after: ActIdx,
    seen: &mut std::collections::BTreeSet<ActIdx>,
) {
    if !seen.insert(after) {
        return;
    }
    let probe_rsc = eng.act(probe).rsc;
    let after_rsc = eng.act(after).rsc;
    if let Some(ar) = after_rsc
        && eng.is_primitive(ar)
        && Some(ar) != probe_rsc
    {
        let undo = match eng.act(after).task {
            Task::Start => Some("stop"),
            Task::Promote => Some("demote"),
            _ => None,
        };
        if let Some(undo) = undo {
            for then in eng.rsc_actions(ar, undo, None) {
                if !eng.act(then).flags.has(Flags::PSEUDO) {
                    eng.order(probe, then, Rel::ORDERED);
                }
            }
        }
    }
    let interleave_with = match after_rsc {
        Some(ar) => match &eng.cluster.rsc(ar).kind {
            RscKind::Clone(c) if c.interleave => {
                Some(probe_rsc.and_then(|p| compatible_instance(eng, p, ar)))
            }
            _ => None,
        },
        None => None,
    };
    let nexts: Vec<(ActIdx, Rel)> = eng
        .act(after)
        .after
        .iter()
        .map(|x| (x.act, x.flags))
        .collect();
    for (next, flags) in nexts {
        if !flags.has(Rel::FIRST_IMPLIES_THEN) {
            let Some(ar) = after_rsc else { continue };
            if eng.is_primitive(ar) {
                continue;
            }
            if probe_rsc.is_some_and(|p| eng.cluster.rsc(p).parent == Some(ar)) {
                continue;
            }
            let Some(chained) = eng.act(next).rsc else {
                continue;
            };
            if eng.is_clone(chained) || eng.cluster.rsc(chained).parent != Some(ar) {
                continue;
            }
            if let Some(compatible) = interleave_with
                && compatible != Some(chained)
            {
                continue;
            }
        }
        restart_orderings(eng, probe, next, seen);
    }
}

/// The instance of clone `clone` on the node `r` is assigned to.
fn compatible_instance(eng: &Engine<'_>, r: RscIdx, clone: RscIdx) -> Option<RscIdx> {
    let node = eng.assigned_node(r)?;
    eng.children(clone)
        .iter()
        .copied()
        .find(|&i| eng.assigned_node(i) == Some(node))
}

/// "A stop then B X" also orders A's probes before B's X: A's state must
/// be known before B acts on the belief that A is down.
fn stop_orderings(eng: &mut Engine<'_>) {
    let orderings = eng.orderings.clone();
    for o in &orderings {
        if o.flags == Rel::NONE {
            continue;
        }
        let Some(first_rsc) = o.first_rsc else {
            continue;
        };
        if Some(first_rsc) == o.then_rsc {
            continue;
        }
        let first_is_stop = match (o.first, &o.first_op) {
            (Some(a), _) => eng.act(a).task == Task::Stop,
            (None, Some(op)) => op.task == Task::Stop && op.interval_ms == 0,
            (None, None) => false,
        };
        if !first_is_stop {
            continue;
        }
        let mut flags = Rel::ORDERED;
        if o.flags.has(Rel::IF_FIRST_UNMIGRATABLE) {
            flags = flags.with(Rel::IF_FIRST_UNMIGRATABLE);
        }
        if o.flags.has(Rel::IF_ON_SAME_NODE) {
            flags = flags.with(Rel::IF_ON_SAME_NODE);
        }
        if o.flags == Rel::ANTI_COLOCATION {
            flags = o.flags;
        }
        let probes = eng.rsc_actions(first_rsc, "monitor", None);
        if probes.is_empty() {
            continue;
        }
        let thens = match (o.then, o.then_rsc, &o.then_op) {
            (Some(a), _, _) => vec![a],
            (None, Some(tr), Some(op)) => eng.find_op(tr, op, None),
            _ => Vec::new(),
        };
        for probe in &probes {
            for &then in &thens {
                let then_act = eng.act(then);
                let same_node = eng.act(*probe).node == then_act.node;
                if then_act.task == Task::DoShutdown && !same_node {
                    continue;
                }
                eng.order(*probe, then, flags);
            }
        }
    }
}
