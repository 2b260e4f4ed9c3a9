//! Orders between interleaved clones, instance by instance: each instance
//! of the then clone is ordered after the first clone's instance on its
//! own node (where that one is going, or for stops and demotions, where it
//! is now), not after the whole first clone.

use super::engine::{ActIdx, Engine, Rel, Task};
use super::update::{rsc_action_flags, update_one};
use crate::unpack::{NodeIdx, RscIdx};

/// Where `r` is going (or is, when `current`): a group where its first
/// member with a node is.
fn location(eng: &Engine<'_>, r: RscIdx, current: bool) -> Option<NodeIdx> {
    if eng.is_primitive(r) {
        return if current {
            eng.cluster.rsc(r).status.current_node()
        } else {
            eng.assigned_node(r)
        };
    }
    eng.children(r)
        .iter()
        .find_map(|&m| location(eng, m, current))
}

/// Whether `r` or anything in it cannot be moved or stopped.
fn blocked(eng: &Engine<'_>, r: RscIdx) -> bool {
    eng.cluster.rsc(r).status.blocked || eng.children(r).iter().any(|&m| blocked(eng, m))
}

/// The instance of `clone` that is (or will be) where `of` is.
pub fn compatible_instance(
    eng: &Engine<'_>,
    of: RscIdx,
    clone: RscIdx,
    current: bool,
) -> Option<RscIdx> {
    let node = location(eng, of, current)?;
    eng.children(clone)
        .iter()
        .copied()
        .find(|&i| !blocked(eng, i) && location(eng, i, current) == Some(node))
}

/// The action an instance does for its clone's `task` (its primitive's
/// own action, or a cloned group's milestone).
fn instance_action(
    eng: &Engine<'_>,
    instance: RscIdx,
    task: &Task,
    node: Option<NodeIdx>,
) -> Option<ActIdx> {
    let task = if eng.is_primitive(instance) {
        task.for_primitive()
    } else {
        task.clone()
    };
    eng.find_task(instance, &task, node)
}

pub fn update(
    eng: &mut Engine<'_>,
    first: ActIdx,
    then: ActIdx,
    node: Option<NodeIdx>,
    filter: super::engine::Flags,
    kind: Rel,
    requeue: &mut Vec<ActIdx>,
) -> super::update::Changed {
    let mut changed = super::update::Changed::default();
    let (Some(first_clone), Some(then_clone)) = (eng.act(first).rsc, eng.act(then).rsc) else {
        return changed;
    };
    let first_task = eng.act(first).task.clone();
    let then_task = eng.act(then).task.clone();
    let current = matches!(first_task, Task::Stopped | Task::Demoted);
    for then_instance in eng.children(then_clone).to_vec() {
        let Some(first_instance) = compatible_instance(eng, then_instance, first_clone, current)
        else {
            continue;
        };
        let Some(fa) = instance_action(eng, first_instance, &first_task, node) else {
            continue;
        };
        let Some(ta) = eng.find_task(then_instance, &then_task, node) else {
            continue;
        };
        if eng.order(fa, ta, kind) {
            changed.first = true;
            changed.then = true;
        }
        let first_flags = rsc_action_flags(eng, fa, node);
        changed |= nested(eng, fa, ta, node, first_flags, filter, kind, requeue);
    }
    changed
}

/// Applies the relation to a then instance (a cloned group applies it to
/// its members too).
#[allow(clippy::too_many_arguments)]
fn nested(
    eng: &mut Engine<'_>,
    first: ActIdx,
    then: ActIdx,
    node: Option<NodeIdx>,
    flags: super::engine::Flags,
    filter: super::engine::Flags,
    kind: Rel,
    requeue: &mut Vec<ActIdx>,
) -> super::update::Changed {
    let mut changed = update_one(eng, first, then, flags, filter, kind, requeue);
    if let Some(g) = eng.act(then).rsc
        && eng.is_group(g)
    {
        let task = eng.act(then).task.for_primitive();
        for m in eng.children(g).to_vec() {
            if let Some(ma) = eng.find_task(m, &task, node) {
                changed |= update_one(eng, first, ma, flags, filter, kind, requeue);
            }
        }
    }
    changed
}
