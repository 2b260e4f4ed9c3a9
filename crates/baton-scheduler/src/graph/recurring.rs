//! Recurring monitors. Those already running (in the history since the
//! last start) are known, optional actions; a configured monitor for the
//! role a resource is taking is required when it is not running yet, when
//! the resource (re)starts, or when its parameters changed. A running
//! monitor for another role, or one no longer configured, is cancelled.

use std::collections::BTreeSet;

use super::create::Course;
use super::engine::{ActIdx, Engine, Flags, Rel, Task, op_key};
use super::meta::timeout_ms;
use crate::unpack::{NodeIdx, Role, RscIdx};

/// The monitors running on online nodes, as optional actions; those whose
/// configuration changed are marked for rescheduling, and those no longer
/// configured (or on a node in maintenance) cancelled. Where a monitor's
/// definition changed, `(r, node)` goes into `changed`.
pub fn known(eng: &mut Engine<'_>, r: RscIdx, changed: &mut BTreeSet<(RscIdx, NodeIdx)>) {
    let cluster = eng.cluster;
    let rsc = cluster.rsc(r);
    // A removed resource's configuration is gone: nothing to check it with.
    let check = !rsc.orphan;
    for (&node, records) in &rsc.status.recurring {
        let n = cluster.node(node);
        if !n.is_online() {
            continue;
        }
        let checked = check && (n.can_run() || n.maintenance) && !n.is_unclean();
        // Pacemaker compares the digests of the first record (by call id)
        // of each operation and remembers the answer for the later ones.
        let mut compared = BTreeSet::new();
        for record in records {
            let key = op_key(&rsc.id, &record.name, record.interval_ms);
            if !record.pending {
                eng.get_or_create(Some(r), key.clone(), Task::Monitor, Some(node), true);
            }
            if !checked {
                continue;
            }
            let in_maintenance = n.maintenance || rsc.meta.maintenance;
            let configured = rsc.run.op(&record.name, record.interval_ms).is_some();
            if !configured && !in_maintenance {
                changed.insert((r, node));
            }
            if in_maintenance || (!configured && cluster.options.cancel_removed_actions) {
                cancel_after_stop(eng, r, record, node);
                continue;
            }
            if !configured || !compared.insert((&record.name, record.interval_ms)) {
                continue;
            }
            // A monitor whose failure expired runs again there, whether
            // or not the resource stays, as long as it stays somewhere
            // (monitors of a resource placed nowhere cannot run).
            if record.expired_failure && record.digest.is_some() {
                changed.insert((r, node));
                let a = eng.get_or_create(Some(r), key, Task::Monitor, Some(node), false);
                let act = eng.act_mut(a);
                act.flags.clear(Flags::OPTIONAL);
                if eng.assigned[r.0].is_none() {
                    eng.act_mut(a).flags.clear(Flags::RUNNABLE);
                }
                continue;
            }
            let unchanged = match &rsc.params {
                Some(params) => params.recurring_unchanged(
                    record,
                    timeout_ms(cluster, rsc, &record.name, record.interval_ms),
                ),
                None => true,
            };
            if !unchanged {
                changed.insert((r, node));
                let a = eng.get_or_create(Some(r), key, Task::Monitor, Some(node), true);
                eng.act_mut(a).flags.set(Flags::RESCHEDULE);
            }
        }
    }
}

fn cancel_after_stop(
    eng: &mut Engine<'_>,
    r: RscIdx,
    record: &crate::unpack::RecurringRecord,
    node: NodeIdx,
) {
    let cancel = new_cancel(eng, r, &record.name, record.interval_ms, node);
    if let Some(call) = record.call_id {
        eng.act_mut(cancel)
            .meta
            .insert("call-id".to_owned(), call.to_string());
    }
    eng.order_rsc_act(r, "stop", cancel, Rel::ORDERED);
}

/// A required cancellation of `r`'s recurring `name` on `node`.
pub fn new_cancel(
    eng: &mut Engine<'_>,
    r: RscIdx,
    name: &str,
    interval_ms: u64,
    node: NodeIdx,
) -> ActIdx {
    let key = op_key(eng.rsc_id(r), name, interval_ms);
    let a = eng.get_or_create(
        Some(r),
        key,
        Task::Cancel(name.to_owned()),
        Some(node),
        false,
    );
    let act = eng.act_mut(a);
    act.task = Task::Cancel(name.to_owned());
    act.meta.insert("operation".to_owned(), name.to_owned());
    act.meta
        .insert("interval".to_owned(), interval_ms.to_string());
    a
}

/// The configured monitors for the role `r` is taking where it is going.
pub fn create(eng: &mut Engine<'_>, r: RscIdx, course: &Course) {
    let cluster = eng.cluster;
    let rsc = cluster.rsc(r);
    if rsc.status.blocked || rsc.meta.maintenance {
        return;
    }
    let Some(node) = course.assigned else {
        return;
    };
    if cluster.node(node).maintenance || (course.next_role == Role::Stopped && rsc.meta.managed) {
        return;
    }
    let start_key = op_key(&rsc.id, "start", 0);
    let start = eng.get_or_create(Some(r), start_key, Task::Start, Some(node), true);
    let mut seen: Vec<(&str, u64)> = Vec::new();
    for op in &rsc.run.ops {
        if op.interval_ms == 0
            || !op.enabled
            || op.bad_role
            || matches!(
                op.name.as_str(),
                "stop"
                    | "start"
                    | "demote"
                    | "promote"
                    | "reload-agent"
                    | "migrate_to"
                    | "migrate_from"
            )
        {
            continue;
        }
        // The same name and interval configured twice: Pacemaker uses
        // neither.
        let duplicates = rsc
            .run
            .ops
            .iter()
            .filter(|o| o.name == op.name && o.interval_ms == op.interval_ms)
            .count();
        if duplicates > 1 || seen.contains(&(op.name.as_str(), op.interval_ms)) {
            continue;
        }
        seen.push((op.name.as_str(), op.interval_ms));
        if op.role == Some(Role::Stopped) {
            continue;
        }
        for_active(
            eng,
            r,
            start,
            node,
            course,
            &op.name,
            op.interval_ms,
            op.role,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn for_active(
    eng: &mut Engine<'_>,
    r: RscIdx,
    start: ActIdx,
    node: NodeIdx,
    course: &Course,
    name: &str,
    interval_ms: u64,
    role: Option<Role>,
) {
    let key = op_key(eng.rsc_id(r), name, interval_ms);
    let running = eng.find_exact(r, &Task::Monitor, interval_ms, node);
    let optional = eng.act(start).flags.has(Flags::OPTIONAL)
        && !running.is_empty()
        && running
            .iter()
            .all(|&a| !eng.act(a).flags.has(Flags::RESCHEDULE));
    let role_match = match role {
        None => course.next_role != Role::Promoted,
        Some(role) => course.next_role == role,
    };
    if !role_match {
        if optional {
            let cancel = new_cancel(eng, r, name, interval_ms, node);
            let before = match (course.orig_role, course.next_role) {
                (Role::Unpromoted | Role::Started, Role::Promoted) => Some("promote"),
                (Role::Unpromoted | Role::Started, Role::Stopped) => Some("stop"),
                (Role::Promoted, _) => Some("demote"),
                _ => None,
            };
            if let Some(task) = before {
                eng.order_act_rsc(cancel, r, task, Rel::UNRUNNABLE_FIRST_BLOCKS);
            }
        }
        return;
    }
    let mon = eng.get_or_create(Some(r), key, Task::Monitor, Some(node), optional);
    if !eng.act(start).flags.has(Flags::RUNNABLE) || !eng.cluster.node(node).is_online() {
        eng.act_mut(mon).flags.clear(Flags::RUNNABLE);
    }
    if course.next_role == Role::Promoted {
        eng.act_mut(mon)
            .meta
            .insert("op_target_rc".to_owned(), "8".to_owned());
    }
    if eng.cluster.rsc(r).meta.managed {
        let implied = Rel::FIRST_IMPLIES_THEN.with(Rel::UNRUNNABLE_FIRST_BLOCKS);
        eng.order_rsc_act(r, "start", mon, implied);
        eng.order_rsc_act(r, "reload-agent", mon, implied);
        let ordered = Rel::ORDERED.with(Rel::UNRUNNABLE_FIRST_BLOCKS);
        if course.next_role == Role::Promoted {
            eng.order_rsc_act(r, "promote", mon, ordered);
        } else if course.orig_role == Role::Promoted {
            eng.order_rsc_act(r, "demote", mon, ordered);
        }
    }
}
