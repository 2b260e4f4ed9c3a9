//! Order constraints as orderings between resources' actions: a mandatory
//! symmetrical order makes the first side's actions imply the then side's
//! (and blocks the then side when an "up" first action cannot run), with
//! the inverse order for taking things down; an optional one only orders.
//! When some instances of a clone suffice (`clone-min`, `require-all`), a
//! milestone counts them.

use super::engine::{Engine, Flags, OpRef, Ordering, Rel, Task};
use baton_cib::Score;

use crate::unpack::{OneOrMoreOrder, OrderCons, Role, RscIdx, RscKind};

/// The flags an order of this kind gives, seen from its `first_action`.
fn kind_flags(mandatory: bool, symmetry: Symmetry, first_action: &str) -> Rel {
    if !mandatory {
        return Rel::ORDERED;
    }
    match symmetry {
        Symmetry::Asymmetric => Rel::ORDERED.with(Rel::ASYMMETRIC),
        Symmetry::Symmetric => {
            let flags = Rel::ORDERED.with(Rel::FIRST_IMPLIES_THEN);
            if Task::parse(first_action).is_some_and(|t| t.is_up()) {
                flags.with(Rel::UNRUNNABLE_FIRST_BLOCKS)
            } else {
                flags
            }
        }
        Symmetry::Inverse => Rel::ORDERED.with(Rel::THEN_IMPLIES_FIRST),
    }
}

#[derive(Clone, Copy)]
enum Symmetry {
    Asymmetric,
    Symmetric,
    Inverse,
}

/// The action that undoes `action` (`start` → `stop`).
fn invert(action: &str) -> Option<&'static str> {
    Some(match action {
        "start" => "stop",
        "stop" => "start",
        "promote" => "demote",
        "demote" => "promote",
        "promoted" => "demoted",
        "demoted" => "promoted",
        "running" => "stopped",
        "stopped" => "running",
        _ => return None,
    })
}

pub fn apply(eng: &mut Engine<'_>) {
    let cluster = eng.cluster;
    for c in &cluster.colocations {
        if c.score <= Score::NEG_INFINITY {
            anti_colocation(
                eng,
                c.dependent,
                c.dependent_role,
                c.primary,
                c.primary_role,
            );
            anti_colocation(
                eng,
                c.primary,
                c.primary_role,
                c.dependent,
                c.dependent_role,
            );
        }
    }
    for o in &cluster.orders {
        order(eng, o);
    }
    for o in &cluster.one_or_more_orders {
        one_or_more(eng, o);
    }
}

fn order(eng: &mut Engine<'_>, o: &OrderCons) {
    let symmetry = if o.symmetrical {
        Symmetry::Symmetric
    } else {
        Symmetry::Asymmetric
    };
    let flags = kind_flags(o.mandatory, symmetry, &o.first_action);
    let clone_min = match &eng.cluster.rsc(o.first).kind {
        RscKind::Clone(c) if c.clone_min > 0 => c.clone_min,
        RscKind::Clone(_) if !o.require_all => 1,
        _ => 0,
    };
    if clone_min > 0 {
        let label = format!("clone-one-or-more:{}", o.id);
        let instances = eng.children(o.first).to_vec();
        min_runnable(
            eng,
            &label,
            clone_min,
            &instances,
            &o.first_action,
            o.then,
            &o.then_action,
            flags,
        );
    } else {
        eng.order_rsc(o.first, &o.first_action, o.then, &o.then_action, flags);
    }
    if o.symmetrical
        && let (Some(first), Some(then)) = (invert(&o.first_action), invert(&o.then_action))
    {
        let flags = kind_flags(o.mandatory, Symmetry::Inverse, first);
        eng.order_rsc(o.then, then, o.first, first, flags);
    }
}

/// Two resources that must never share a node: whatever makes `first`
/// leave `first_role` comes before whatever makes `then` take `then_role`.
fn anti_colocation(
    eng: &mut Engine<'_>,
    first: RscIdx,
    first_role: Option<Role>,
    then: RscIdx,
    then_role: Option<Role>,
) {
    let leaving: &[&str] = match first_role {
        Some(Role::Promoted) => &["demote"],
        Some(Role::Unpromoted) => &["stop", "promote"],
        _ => &["stop"],
    };
    let taking: &[&str] = match then_role {
        Some(Role::Promoted) => &["promote"],
        Some(Role::Unpromoted) => &["start", "demote"],
        _ => &["start"],
    };
    for first_task in leaving {
        for then_task in taking {
            eng.order_rsc(first, first_task, then, then_task, Rel::ANTI_COLOCATION);
        }
    }
}

/// `then` may start once any one of the set's members runs.
fn one_or_more(eng: &mut Engine<'_>, o: &OneOrMoreOrder) {
    let label = format!("one-or-more:{}", o.set_id);
    let flags = kind_flags(true, Symmetry::Symmetric, "start");
    min_runnable(eng, &label, 1, &o.firsts, "start", o.then, "start", flags);
}

/// A milestone reached when `required` of `firsts` can do `first_action`,
/// ordered before `then`'s `then_action`.
#[allow(clippy::too_many_arguments)]
fn min_runnable(
    eng: &mut Engine<'_>,
    label: &str,
    required: usize,
    firsts: &[RscIdx],
    first_action: &str,
    then: RscIdx,
    then_action: &str,
    flags: Rel,
) {
    let met = eng.get_or_create(
        None,
        label.to_owned(),
        Task::OneOrMore(label.to_owned()),
        None,
        true,
    );
    let act = eng.act_mut(met);
    act.flags.set(Flags::PSEUDO);
    act.required_runnable_before = required;
    for &f in firsts {
        eng.new_ordering(Ordering {
            first_rsc: Some(f),
            first_op: Some(OpRef::named(first_action)),
            first: None,
            then_rsc: None,
            then_op: None,
            then: Some(met),
            flags: Rel::MIN_RUNNABLE.with(Rel::FIRST_IMPLIES_THEN_GRAPHED),
        });
    }
    eng.order_act_rsc(
        met,
        then,
        then_action,
        flags.with(Rel::UNRUNNABLE_FIRST_BLOCKS),
    );
}
