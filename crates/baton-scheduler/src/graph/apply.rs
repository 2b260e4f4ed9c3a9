//! Turning the recorded orderings into relations between actions, in the
//! order they were recorded: an ordering names a resource's actions by key
//! (every node's), and a first action that does not exist yet is created,
//! optional, so that what follows it can be blocked by it.

use super::engine::{ActIdx, Engine, Flags, Ordering, Rel, Task};
use crate::unpack::{Role, RscIdx};

pub fn apply(eng: &mut Engine<'_>) {
    let orderings = std::mem::take(&mut eng.orderings);
    for o in &orderings {
        if let Some(first_rsc) = o.first_rsc {
            order_first(eng, first_rsc, o);
        } else if let Some(then_rsc) = o.then_rsc {
            order_after(eng, o.first, then_rsc, o);
        } else if let (Some(first), Some(then)) = (o.first, o.then) {
            eng.order(first, then, o.flags);
        }
    }
    eng.orderings = orderings;
}

/// `rsc`'s actions with `key`, or with the same task and interval under
/// `rsc`'s own id (a key may name the clone a resource belongs to).
fn by_key(eng: &mut Engine<'_>, rsc: RscIdx, key: &str) -> Vec<ActIdx> {
    let found = eng.find_with_key(rsc, key, None);
    if !found.is_empty() {
        return found;
    }
    match split_key(key) {
        Some((task, interval)) => {
            let own = super::engine::op_key(eng.rsc_id(rsc), task, interval);
            eng.find_with_key(rsc, &own, None)
        }
        None => Vec::new(),
    }
}

/// The task and interval of `<id>_<task>_<interval>` (ids may contain `_`).
pub fn split_key(key: &str) -> Option<(&str, u64)> {
    let (rest, interval) = key.rsplit_once('_')?;
    let interval: u64 = interval.parse().ok()?;
    for task in [
        "migrate_from",
        "migrate_to",
        "reload-agent",
        "stop",
        "start",
        "monitor",
        "promote",
        "demote",
        "notify",
        "running",
        "stopped",
        "promoted",
        "demoted",
        "notified",
        "delete",
        "cancel",
    ] {
        if rest.ends_with(task)
            && rest.len() > task.len()
            && rest.as_bytes()[rest.len() - task.len() - 1] == b'_'
        {
            return Some((&rest[rest.len() - task.len()..], interval));
        }
    }
    None
}

fn order_first(eng: &mut Engine<'_>, first_rsc: RscIdx, o: &Ordering) {
    let then_rsc = o.then_rsc;
    let mut firsts = match (o.first, &o.first_key) {
        (Some(a), _) => vec![a],
        (None, Some(key)) => by_key(eng, first_rsc, key),
        (None, None) => Vec::new(),
    };
    if firsts.is_empty() {
        if then_rsc == Some(first_rsc) {
            return;
        }
        let Some((task_name, interval)) = o.first_key.as_deref().and_then(split_key) else {
            return;
        };
        let role = eng.cluster.rsc(first_rsc).status.role();
        // Nothing to stop or demote: the order has nothing to wait for.
        if (role == Role::Stopped && task_name == "stop")
            || (role == Role::Unpromoted && task_name == "demote")
        {
            return;
        }
        let Some(task) = Task::parse(task_name) else {
            return;
        };
        let key = super::engine::op_key(eng.rsc_id(first_rsc), task_name, interval);
        let a = eng.get_or_create(Some(first_rsc), key, task, None, true);
        // Without a node it cannot run (a group's or clone's milestone is
        // created where it belongs and never gets here).
        eng.act_mut(a).flags.clear(Flags::RUNNABLE);
        firsts.push(a);
    }
    for first in firsts {
        match then_rsc {
            Some(then_rsc) => order_after(eng, Some(first), then_rsc, o),
            None => {
                if let Some(then) = o.then {
                    eng.order(first, then, o.flags);
                }
            }
        }
    }
}

fn order_after(eng: &mut Engine<'_>, first: Option<ActIdx>, then_rsc: RscIdx, o: &Ordering) {
    let thens = match (o.then, &o.then_key) {
        (Some(a), _) => vec![a],
        (None, Some(key)) => by_key(eng, then_rsc, key),
        (None, None) => Vec::new(),
    };
    if thens.is_empty() {
        return;
    }
    let Some(first) = first else {
        if o.flags.has(Rel::FIRST_IMPLIES_THEN) {
            for then in thens {
                eng.clear(then, Flags::RUNNABLE);
            }
        }
        return;
    };
    for then in thens {
        eng.order(first, then, o.flags);
    }
}
