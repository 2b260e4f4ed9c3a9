//! Live migration: a resource that allows it moves by `migrate_to` on its
//! current node then `migrate_from` on the new one, instead of a stop and
//! a start; the stop on the old node still follows (to clean up), and the
//! start becomes a milestone. If anything makes the migration impossible,
//! the flags spreading along the relations below turn it back into an
//! ordinary stop and start.

use super::engine::{Engine, Flags, OpRef, Ordering, Rel, Task, op_key};
use crate::unpack::{NodeIdx, RscIdx};

pub fn create(eng: &mut Engine<'_>, r: RscIdx, current: NodeIdx, target: NodeIdx) {
    let id = eng.rsc_id(r).to_owned();
    let start = eng.get_or_create(
        Some(r),
        op_key(&id, "start", 0),
        Task::Start,
        Some(target),
        true,
    );
    let stop = eng.get_or_create(
        Some(r),
        op_key(&id, "stop", 0),
        Task::Stop,
        Some(current),
        true,
    );
    let to = eng.get_or_create(
        Some(r),
        op_key(&id, "migrate_to", 0),
        Task::MigrateTo,
        Some(current),
        true,
    );
    let from = eng.get_or_create(
        Some(r),
        op_key(&id, "migrate_from", 0),
        Task::MigrateFrom,
        Some(target),
        true,
    );
    eng.act_mut(start)
        .flags
        .set(Flags::MIGRATABLE.with(Flags::PSEUDO));
    for a in [stop, to, from] {
        eng.act_mut(a).flags.set(Flags::MIGRATABLE);
    }
    eng.order_rsc(r, "monitor", r, "migrate_to", Rel::ORDERED);
    let blocks = Rel::ORDERED.with(Rel::UNMIGRATABLE_THEN_BLOCKS);
    eng.order_rsc(r, "migrate_to", r, "migrate_from", blocks);
    eng.order_rsc(r, "migrate_from", r, "stop", blocks);
    eng.order_rsc(
        r,
        "migrate_from",
        r,
        "start",
        blocks.with(Rel::FIRST_ELSE_THEN),
    );
    let (source, dest) = (
        eng.cluster.node(current).uname.clone(),
        eng.cluster.node(target).uname.clone(),
    );
    for a in [to, from] {
        let meta = &mut eng.act_mut(a).meta;
        meta.insert("migrate_source".to_owned(), source.clone());
        meta.insert("migrate_target".to_owned(), dest.clone());
    }
    eng.act_mut(to)
        .meta
        .insert("record-pending".to_owned(), "true".to_owned());
}

fn migratable(eng: &Engine<'_>, r: RscIdx) -> bool {
    eng.cluster.rsc(r).meta.allow_migrate
}

/// The task of an ordering side: its action's, or the one it names.
fn task_of(eng: &Engine<'_>, action: Option<super::engine::ActIdx>, op: Option<&OpRef>) -> Task {
    match (action, op) {
        (Some(a), _) => eng.act(a).task.clone(),
        (None, Some(op)) => op.task.clone(),
        (None, None) => Task::Other(String::new()),
    }
}

/// The orderings a migration needs besides `o` between two unrelated
/// resources: what orders a start (or stop) orders a migrating
/// resource's `migrate_to` the same way.
pub fn equivalents(
    eng: &Engine<'_>,
    o: &Ordering,
) -> Vec<(RscIdx, &'static str, RscIdx, &'static str, Rel)> {
    let (Some(first), Some(then)) = (o.first_rsc, o.then_rsc) else {
        return Vec::new();
    };
    let related = |a: RscIdx, b: RscIdx| {
        let mut at = eng.cluster.rsc(a).parent;
        while let Some(p) = at {
            if p == b {
                return true;
            }
            at = eng.cluster.rsc(p).parent;
        }
        false
    };
    if first == then || related(first, then) || related(then, first) {
        return Vec::new();
    }
    let (first_m, then_m) = (migratable(eng, first), migratable(eng, then));
    if !first_m && !then_m {
        return Vec::new();
    }
    let first_task = task_of(eng, o.first, o.first_op.as_ref());
    let then_task = task_of(eng, o.then, o.then_op.as_ref());
    let unless_first_migrates = if first_m {
        Rel::ORDERED.with(Rel::IF_FIRST_UNMIGRATABLE)
    } else {
        Rel::ORDERED
    };
    let mut out = Vec::new();
    match (first_task, then_task) {
        (Task::Start, Task::Start) => {
            if first_m && then_m {
                out.push((first, "migrate_from", then, "migrate_to", Rel::ORDERED));
            }
            if then_m {
                out.push((first, "start", then, "migrate_to", unless_first_migrates));
            }
        }
        (Task::Stop, Task::Stop) if then_m => {
            out.push((first, "stop", then, "migrate_to", unless_first_migrates));
        }
        (Task::Promote, Task::Start) if then_m => {
            out.push((first, "promote", then, "migrate_to", Rel::ORDERED));
        }
        (Task::Demote, Task::Stop) if then_m => {
            out.push((first, "demote", then, "migrate_to", Rel::ORDERED));
        }
        _ => {}
    }
    out
}
