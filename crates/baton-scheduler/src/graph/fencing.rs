//! Fencing and clean shutdowns. A node to fence gets a `stonith` event;
//! what ran there stops implicitly once it is done (pseudo stops), and
//! nothing that needs fencing starts anywhere before it. Without
//! concurrent fencing the fencings run one after another, the DC's last.
//! A node shutting down gets `do_shutdown` after every stop there.

use super::engine::{ActIdx, Engine, Flags, Rel, Task};
use crate::actions::{Changes, Verb};
use crate::unpack::{Cluster, NodeIdx, Role, RscIdx};

/// The fencing action's meta telling the controller how long the fencer
/// waits first, in seconds (Pacemaker's `CRM_meta_priority_fencing_delay`).
pub const PRIORITY_FENCING_DELAY: &str = "priority_fencing_delay";

/// The fencing of `node` with `action` (`reboot`, `off` or `on`).
pub fn fence_op(eng: &mut Engine<'_>, node: NodeIdx, action: &str, optional: bool) -> ActIdx {
    let n = eng.cluster.node(node);
    let key = format!("stonith-{}-{action}", n.uname);
    let a = eng.get_or_create(None, key, Task::Stonith, Some(node), optional);
    eng.act_mut(a)
        .meta
        .insert("stonith_action".to_owned(), action.to_owned());
    a
}

/// `priority-fencing-delay` for fencing the lost node `node`: the delay
/// when this partition holds at most half of the nodes and `node` ran the
/// most important resources (their `priority`, a promoted instance one
/// more), else 0. `None` when every node's priority is the same: the rule
/// cannot choose, and the controller's own two-node tie-break decides
/// (Pacemaker writes 0 there and leaves it to the device delays).
fn priority_delay_s(cluster: &Cluster, node: NodeIdx) -> Option<u64> {
    let priorities: Vec<i64> = (0..cluster.nodes.len())
        .map(|n| node_priority(cluster, NodeIdx(n)))
        .collect();
    let online = cluster.nodes.iter().filter(|n| n.is_online()).count();
    let top = priorities.iter().max()?;
    if priorities.iter().min() == Some(top) {
        return None;
    }
    if online > cluster.nodes.len() / 2 || priorities[node.0] < *top {
        return Some(0);
    }
    Some(cluster.options.priority_fencing_delay_s)
}

/// The sum of the priorities of what is active on `node` and not failed.
fn node_priority(cluster: &Cluster, node: NodeIdx) -> i64 {
    cluster
        .primitives()
        .into_iter()
        .map(|r| cluster.rsc(r))
        .filter(|rsc| rsc.meta.priority != 0 && !rsc.status.failed)
        .flat_map(|rsc| {
            rsc.status
                .running
                .iter()
                .filter(move |(n, _)| *n == node)
                .map(move |(_, role)| {
                    i64::from(rsc.meta.priority) + i64::from(*role == Role::Promoted)
                })
        })
        .sum()
}

/// Fencing of the decided nodes and shutdowns of nodes leaving cleanly.
pub fn schedule(eng: &mut Engine<'_>, changes: &Changes) {
    let fenced: Vec<NodeIdx> = changes
        .actions
        .iter()
        .filter(|c| c.task == Verb::Fence)
        .map(|c| c.node)
        .collect();
    let dc = eng.cluster.dc;
    let concurrent = eng.cluster.options.concurrent_fencing;
    let action = eng.cluster.options.fencing_action.clone();
    let any_managed = eng.cluster.rscs.iter().any(|r| r.meta.managed);
    let mut dc_down: Option<ActIdx> = None;
    let mut fencings: Vec<ActIdx> = Vec::new();
    let mut shutdowns: Vec<ActIdx> = Vec::new();
    for n in 0..eng.cluster.nodes.len() {
        let node = NodeIdx(n);
        if fenced.contains(&node) && any_managed {
            let f = fence_op(eng, node, &action, false);
            if eng.cluster.options.priority_fencing_delay_s > 0
                && !eng.cluster.node(node).in_membership
                && let Some(delay) = priority_delay_s(eng.cluster, node)
            {
                eng.act_mut(f)
                    .meta
                    .insert(PRIORITY_FENCING_DELAY.to_owned(), delay.to_string());
            }
            order_vs_fencing(eng, f);
            if Some(node) == dc {
                dc_down = Some(f);
            } else {
                if !concurrent && let Some(&last) = fencings.last() {
                    eng.order(last, f, Rel::ORDERED);
                }
                fencings.push(f);
            }
        } else {
            let info = eng.cluster.node(node);
            if info.is_online() && info.shutdown {
                let s = shutdown(eng, node);
                if Some(node) == dc {
                    dc_down = Some(s);
                } else {
                    shutdowns.push(s);
                }
            }
        }
    }
    if let Some(down) = dc_down {
        if eng.act(down).task == Task::DoShutdown {
            for &s in &shutdowns {
                eng.order(s, down, Rel::ORDERED);
            }
        }
        if concurrent {
            for &f in &fencings {
                eng.order(f, down, Rel::ORDERED);
            }
        } else if let Some(&last) = fencings.last() {
            eng.order(last, down, Rel::ORDERED);
        }
    }
}

/// `do_shutdown` on `node`, after every stop there of what is managed.
fn shutdown(eng: &mut Engine<'_>, node: NodeIdx) -> ActIdx {
    let key = format!("do_shutdown-{}", eng.cluster.node(node).uname);
    let s = eng.get_or_create(None, key, Task::DoShutdown, Some(node), false);
    eng.act_mut(s)
        .meta
        .insert("op_no_wait".to_owned(), "true".to_owned());
    if eng.cluster.node(node).maintenance {
        return s;
    }
    for i in 0..eng.actions.len() {
        let a = super::engine::ActIdx(i);
        let act = eng.act(a);
        let Some(r) = act.rsc else { continue };
        if act.task != Task::Stop || act.node != Some(node) {
            continue;
        }
        let rsc = eng.cluster.rsc(r);
        if !rsc.meta.managed && !rsc.status.blocked {
            continue;
        }
        eng.clear(a, Flags::OPTIONAL);
        eng.order_acts_later(a, s, Rel::ORDERED.with(Rel::UNRUNNABLE_FIRST_BLOCKS));
    }
    s
}

/// Starts and promotions that need fencing wait for `fencing`; what ran
/// on the fenced node stops (and demotes) implicitly after it.
fn order_vs_fencing(eng: &mut Engine<'_>, fencing: ActIdx) {
    let Some(target) = eng.act(fencing).node else {
        return;
    };
    let tops = eng.cluster.top.clone();
    for r in tops {
        order_rsc_vs_fencing(eng, r, fencing, target);
    }
}

fn order_rsc_vs_fencing(eng: &mut Engine<'_>, r: RscIdx, fencing: ActIdx, target: NodeIdx) {
    let children = eng.children(r).to_vec();
    if !children.is_empty() {
        for c in children {
            order_rsc_vs_fencing(eng, c, fencing, target);
        }
        return;
    }
    let rsc = eng.cluster.rsc(r);
    if !rsc.meta.managed {
        return;
    }
    let requires = rsc.meta.requires;
    let known_on_target = rsc.status.known_on.contains(&target)
        || rsc.parent.is_some_and(|p| {
            eng.is_clone(p)
                && !matches!(&eng.cluster.rsc(p).kind, crate::unpack::RscKind::Clone(c) if c.unique)
                && eng.cluster.rsc(p).status.known_on.contains(&target)
        });
    for a in eng.by_rsc[r.0].clone() {
        let task = eng.act(a).task.clone();
        // A migration's first half starts the resource where it goes.
        if !matches!(task, Task::Start | Task::Promote | Task::MigrateTo) {
            continue;
        }
        if requires.fencing() {
            eng.order(fencing, a, Rel::ORDERED);
        } else if requires == crate::unpack::Requires::Quorum
            && task == Task::Start
            && !known_on_target
        {
            eng.order(fencing, a, Rel::ORDERED.with(Rel::UNRUNNABLE_FIRST_BLOCKS));
        }
    }
    let top = eng.cluster.top_of(r);
    let parent_stop = eng.find_task(top, &Task::Stop, None);
    for stop in eng.rsc_actions(r, "stop", Some(target)) {
        eng.act_mut(stop)
            .flags
            .set(Flags::PSEUDO.with(Flags::RUNNABLE));
        if requires.fencing() {
            eng.order(fencing, stop, Rel::ORDERED);
            if let Some(ps) = parent_stop {
                eng.order(fencing, ps, Rel::ORDERED);
            }
        }
        super::notify::after_fencing(eng, r, fencing);
    }
    for demote in eng.rsc_actions(r, "demote", Some(target)) {
        eng.act_mut(demote)
            .flags
            .set(Flags::PSEUDO.with(Flags::RUNNABLE));
        if requires.fencing() {
            eng.order(fencing, demote, Rel::ORDERED);
        }
    }
}
