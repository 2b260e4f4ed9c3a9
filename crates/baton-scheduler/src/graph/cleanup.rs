//! Clean-ups: the history of a resource no longer configured is erased
//! where it is recorded (`delete`, after it stops there), and a fail count
//! that no longer means anything is cleared (`clear_failcount`): every
//! failure has expired, the resource was removed, or its definition
//! changed since it failed.

use std::collections::BTreeSet;

use super::engine::{Engine, Rel, Task, op_key};
use crate::unpack::{NodeIdx, RscIdx};

/// Whether history on `node` is looked at for clean-ups: the node is up
/// and may run resources (or is in maintenance).
fn checked(eng: &Engine<'_>, node: NodeIdx) -> bool {
    let n = eng.cluster.node(node);
    n.is_online() && (n.can_run() || n.maintenance)
}

pub fn schedule(eng: &mut Engine<'_>, changed: &BTreeSet<(RscIdx, NodeIdx)>) {
    let cluster = eng.cluster;
    let mut orphans: Vec<RscIdx> = cluster
        .primitives()
        .into_iter()
        .filter(|&r| cluster.rsc(r).orphan && eng.clone_of(r).is_none())
        .collect();
    orphans.extend(cluster.removed.iter().copied());
    for r in orphans {
        if cluster.rsc(r).status.failed {
            continue;
        }
        for &node in &cluster.rsc(r).status.known_on {
            if !checked(eng, node) {
                continue;
            }
            let key = op_key(&cluster.rsc(r).id, "delete", 0);
            eng.get_or_create(Some(r), key, Task::Delete, Some(node), false);
            eng.order_rsc(r, "stop", r, "delete", Rel::ORDERED);
            eng.order_rsc(r, "delete", r, "start", Rel::ORDERED);
        }
    }
    for r in cluster.primitives() {
        let rsc = cluster.rsc(r);
        for (&node, count) in &rsc.status.fail_counts {
            if !cluster.node(node).is_online() {
                continue;
            }
            // An anonymous clone's failures count for every instance, but
            // are cleared by the one whose history is there.
            let history_here = rsc.status.known_on.contains(&node);
            let removed = rsc.orphan && cluster.options.stop_removed_resources;
            let expired = history_here && rsc.meta.failure_timeout_s > 0 && count.effective == 0;
            let redefined = count.effective != 0
                && history_here
                && checked(eng, node)
                && (changed.contains(&(r, node))
                    || rsc.status.definition_change.contains_key(&node));
            if !(removed && count.effective != 0 || expired || redefined) {
                continue;
            }
            let key = op_key(&rsc.id, "clear_failcount", 0);
            let clear = eng.get_or_create(Some(r), key, Task::ClearFailcount, Some(node), false);
            eng.act_mut(clear)
                .meta
                .insert("op_no_wait".to_owned(), "true".to_owned());
            if removed {
                eng.order_act_rsc(clear, r, "stop", Rel::ORDERED);
            }
        }
    }
}
