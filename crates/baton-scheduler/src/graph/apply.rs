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

fn order_first(eng: &mut Engine<'_>, first_rsc: RscIdx, o: &Ordering) {
    let then_rsc = o.then_rsc;
    let mut firsts = match (o.first, &o.first_op) {
        (Some(a), _) => vec![a],
        (None, Some(op)) => eng.find_op(first_rsc, op, None),
        (None, None) => Vec::new(),
    };
    if firsts.is_empty() {
        if then_rsc == Some(first_rsc) {
            return;
        }
        let Some(op) = &o.first_op else {
            return;
        };
        let role = eng.cluster.rsc(first_rsc).status.role();
        // Nothing to stop or demote: the order has nothing to wait for.
        if (role == Role::Stopped && op.task == Task::Stop)
            || (role == Role::Unpromoted && op.task == Task::Demote)
        {
            return;
        }
        let key = super::engine::op_key(eng.rsc_id(first_rsc), op.task.name(), op.interval_ms);
        let a = eng.get_or_create(Some(first_rsc), key, op.task.clone(), None, true);
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
    let thens = match (o.then, &o.then_op) {
        (Some(a), _) => vec![a],
        (None, Some(op)) => eng.find_op(then_rsc, op, None),
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
