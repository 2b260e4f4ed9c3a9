//! The orderings every resource implies by itself: a primitive stops
//! before it starts and is started before it is promoted; a group's
//! members start in order inside the group's milestones; a clone's
//! instances start between the clone's start and running, and promotable
//! instances demote before any promotes.

use super::engine::{Engine, Rel};
use crate::unpack::{RscIdx, RscKind};

pub fn primitive(eng: &mut Engine<'_>, r: RscIdx, promotable: bool) {
    let rsc = eng.cluster.rsc(r);
    if !rsc.meta.managed {
        return;
    }
    eng.order_rsc(
        r,
        "stop",
        r,
        "start",
        Rel::ORDERED
            .with(Rel::FIRST_IMPLIES_THEN)
            .with(Rel::INTERMEDIATE_STOP),
    );
    if promotable || rsc.status.role() > crate::unpack::Role::Unpromoted {
        eng.order_rsc(r, "demote", r, "stop", Rel::PROMOTED_THEN_IMPLIES_FIRST);
        eng.order_rsc(r, "start", r, "promote", Rel::UNRUNNABLE_FIRST_BLOCKS);
    }
}

/// A group's milestones around its members, and the members in order.
pub fn group(eng: &mut Engine<'_>, g: RscIdx, promotable: bool) {
    eng.order_rsc(g, "stop", g, "stopped", Rel::UNRUNNABLE_FIRST_BLOCKS);
    eng.order_rsc(g, "stopped", g, "start", Rel::ORDERED);
    eng.order_rsc(g, "start", g, "running", Rel::UNRUNNABLE_FIRST_BLOCKS);
    let ordered = eng.cluster.rsc(g).meta.ordered;
    let members = eng.children(g).to_vec();
    let mut previous: Option<RscIdx> = None;
    let mut last_active: Option<RscIdx> = None;
    for &m in &members {
        primitive(eng, m, promotable);
        let mut down = Rel::THEN_IMPLIES_FIRST_GRAPHED;
        let mut post_down = Rel::FIRST_IMPLIES_THEN_GRAPHED;
        if previous.is_none() && ordered {
            down = down.with(Rel::ORDERED);
            post_down = Rel::FIRST_IMPLIES_THEN;
        }
        if promotable {
            eng.order_rsc(g, "demote", m, "demote", down);
            eng.order_rsc(m, "demote", g, "demoted", post_down);
            eng.order_rsc(
                m,
                "promote",
                g,
                "promoted",
                Rel::UNRUNNABLE_FIRST_BLOCKS
                    .with(Rel::FIRST_IMPLIES_THEN)
                    .with(Rel::FIRST_IMPLIES_THEN_GRAPHED),
            );
            eng.order_rsc(g, "promote", m, "promote", Rel::THEN_IMPLIES_FIRST_GRAPHED);
        }
        eng.order_rsc(g, "stop", m, "stop", down);
        eng.order_rsc(m, "stop", g, "stopped", post_down);
        eng.order_rsc(g, "start", m, "start", Rel::THEN_IMPLIES_FIRST_GRAPHED);
        eng.order_rsc(
            m,
            "start",
            g,
            "running",
            Rel::UNRUNNABLE_FIRST_BLOCKS
                .with(Rel::FIRST_IMPLIES_THEN)
                .with(Rel::FIRST_IMPLIES_THEN_GRAPHED),
        );
        let blocking = Rel::FIRST_IMPLIES_THEN
            .with(Rel::UNRUNNABLE_FIRST_BLOCKS)
            .with(Rel::THEN_IMPLIES_FIRST_GRAPHED);
        match previous {
            _ if !ordered => {
                eng.order_rsc(g, "start", m, "start", blocking);
                if promotable {
                    eng.order_rsc(g, "promote", m, "promote", blocking);
                }
            }
            None => {}
            Some(prev) => {
                eng.order_rsc(
                    prev,
                    "start",
                    m,
                    "start",
                    Rel::FIRST_IMPLIES_THEN.with(Rel::UNRUNNABLE_FIRST_BLOCKS),
                );
                eng.order_rsc(
                    m,
                    "stop",
                    prev,
                    "stop",
                    Rel::ORDERED.with(Rel::INTERMEDIATE_STOP),
                );
                // A member active while the one before it is not (one added
                // in the middle) must stop before that one starts.
                let active = |r: RscIdx| !eng.cluster.rsc(r).status.running.is_empty();
                if active(m) && !active(prev) {
                    eng.order_rsc(
                        m,
                        "stop",
                        prev,
                        "start",
                        Rel::THEN_IMPLIES_FIRST.with(Rel::UNRUNNABLE_FIRST_BLOCKS),
                    );
                }
                if promotable {
                    eng.order_rsc(
                        prev,
                        "promote",
                        m,
                        "promote",
                        Rel::FIRST_IMPLIES_THEN.with(Rel::UNRUNNABLE_FIRST_BLOCKS),
                    );
                    eng.order_rsc(m, "demote", prev, "demote", Rel::ORDERED);
                }
            }
        }
        // Partly active groups shut down in sequence.
        if !eng.cluster.rsc(m).status.running.is_empty() {
            let prev_inactive =
                previous.is_some_and(|p| eng.cluster.rsc(p).status.running.is_empty());
            if ordered
                && prev_inactive
                && let Some(last) = last_active
            {
                eng.order_rsc(m, "stop", last, "stop", Rel::ORDERED);
            }
            last_active = Some(m);
        }
        previous = Some(m);
    }
}

/// A clone's milestones around its instances.
pub fn clone(eng: &mut Engine<'_>, c: RscIdx) {
    let RscKind::Clone(info) = &eng.cluster.rsc(c).kind else {
        return;
    };
    let (promotable, ordered) = (info.promotable, info.ordered);
    eng.order_rsc(c, "stopped", c, "start", Rel::ORDERED);
    eng.order_rsc(c, "start", c, "running", Rel::UNRUNNABLE_FIRST_BLOCKS);
    eng.order_rsc(c, "stop", c, "stopped", Rel::UNRUNNABLE_FIRST_BLOCKS);
    if promotable {
        eng.order_rsc(c, "demoted", c, "stop", Rel::ORDERED);
        eng.order_rsc(c, "running", c, "promote", Rel::UNRUNNABLE_FIRST_BLOCKS);
    }
    let mut instances = eng.children(c).to_vec();
    if ordered {
        instances.sort_by_key(|&i| instance_number(eng.rsc_id(i)));
    }
    for (at, &i) in instances.iter().enumerate() {
        if eng.is_group(i) {
            group(eng, i, promotable);
        } else {
            primitive(eng, i, promotable);
        }
        eng.order_rsc(
            c,
            "start",
            i,
            "start",
            Rel::UNRUNNABLE_FIRST_BLOCKS.with(Rel::THEN_IMPLIES_FIRST_GRAPHED),
        );
        eng.order_rsc(i, "start", c, "running", Rel::FIRST_IMPLIES_THEN_GRAPHED);
        eng.order_rsc(c, "stop", i, "stop", Rel::THEN_IMPLIES_FIRST_GRAPHED);
        eng.order_rsc(i, "stop", c, "stopped", Rel::FIRST_IMPLIES_THEN_GRAPHED);
        if ordered {
            for &later in &instances[at + 1..] {
                eng.order_rsc(i, "start", later, "start", Rel::ORDERED);
                eng.order_rsc(later, "stop", i, "stop", Rel::ORDERED);
            }
        }
    }
    if promotable {
        promotable_instances(eng, c, &instances, ordered);
    }
}

fn instance_number(id: &str) -> u64 {
    id.rsplit_once(':')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// Demotions before promotions, across all instances: nothing is promoted
/// until every demotion is done, so there are never too many promoted.
fn promotable_instances(eng: &mut Engine<'_>, c: RscIdx, instances: &[RscIdx], ordered: bool) {
    eng.order_rsc(c, "stopped", c, "start", Rel::ORDERED);
    eng.order_rsc(c, "stopped", c, "promote", Rel::ORDERED);
    eng.order_rsc(c, "demoted", c, "stop", Rel::ORDERED);
    eng.order_rsc(c, "demoted", c, "start", Rel::ORDERED);
    eng.order_rsc(c, "demoted", c, "promote", Rel::ORDERED);
    eng.order_rsc(c, "running", c, "promote", Rel::ORDERED);
    eng.order_rsc(c, "demote", c, "demoted", Rel::ORDERED);
    let mut previous: Option<RscIdx> = None;
    for &i in instances {
        eng.order_rsc(i, "demote", i, "promote", Rel::ORDERED);
        eng.order_rsc(c, "promote", i, "promote", Rel::ORDERED);
        eng.order_rsc(i, "promote", c, "promoted", Rel::ORDERED);
        eng.order_rsc(c, "demote", i, "demote", Rel::THEN_IMPLIES_FIRST_GRAPHED);
        eng.order_rsc(i, "demote", c, "demoted", Rel::FIRST_IMPLIES_THEN_GRAPHED);
        if let Some(prev) = previous.filter(|_| ordered) {
            eng.order_rsc(prev, "promote", i, "promote", Rel::ORDERED);
            eng.order_rsc(i, "demote", prev, "demote", Rel::ORDERED);
        }
        previous = Some(i);
    }
}
