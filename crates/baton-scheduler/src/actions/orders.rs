//! Order and colocation consequences between plans: a start that must
//! wait for something that cannot run is blocked, a restart of what comes
//! first restarts what follows, and a stop that must wait for something
//! stuck cannot happen either.

use std::collections::BTreeMap;

use super::{BlockedWhy, Plan, display_name};
use crate::placement::Assignment;
use crate::unpack::{Cluster, NodeIdx, RscIdx, RscKind};

/// An ordering edge between two sets of primitives, for restart and
/// blocking propagation.
struct Edge {
    first: Vec<RscIdx>,
    then: Vec<RscIdx>,
    /// How the reason names the first side (`X start` or `X running`).
    first_label: String,
    /// A start of the first side forces a restart of the then side. Not so
    /// for a clone's start as a whole, only instance by instance when
    /// interleaved (see [`order_edges`]).
    implies_restart: bool,
    /// A symmetrical order also stops the then side when the first side
    /// cannot run, even if the then side would stay where it is.
    symmetrical: bool,
    /// How many of the first side must run for the then side to start
    /// (clone-min, or 1 for `require-all=false`); 0 means any.
    min_first: usize,
    /// The first side is a whole clone: an instance starting or stopping
    /// on a node restarts the then side there (it must stop before the
    /// clone's stops and start after the clone is running again).
    restart_on_clone_change: bool,
}

fn order_edges(cluster: &Cluster) -> Vec<Edge> {
    let mut edges = Vec::new();
    // Group members start in order (unless the group says otherwise).
    for r in 0..cluster.rscs.len() {
        if let RscKind::Group { members } = &cluster.rsc(RscIdx(r)).kind {
            for w in members
                .windows(2)
                .filter(|w| cluster.rsc(w[1]).meta.ordered)
            {
                edges.push(Edge {
                    first: vec![w[0]],
                    then: vec![w[1]],
                    first_label: format!("{} start", display_name(cluster, w[0])),
                    implies_restart: true,
                    symmetrical: true,
                    min_first: 0,
                    restart_on_clone_change: false,
                });
            }
        }
    }
    for o in &cluster.orders {
        if !o.mandatory || o.first_action != "start" || o.then_action != "start" {
            continue;
        }
        let mut first = Vec::new();
        cluster.collect_primitives(o.first, &mut first);
        let mut then = Vec::new();
        cluster.collect_primitives(o.then, &mut then);
        // What follows a clone that notifies waits for the notifications
        // after its start, not just for it running.
        let label = match &cluster.rsc(o.first).kind {
            RscKind::Primitive => format!("{} start", cluster.rsc(o.first).id),
            RscKind::Clone(c) if c.notify => format!("{} notified", cluster.rsc(o.first).id),
            _ => format!("{} running", cluster.rsc(o.first).id),
        };
        let first_clone = clone_instances(cluster, o.first);
        let then_clone = clone_instances(cluster, o.then);
        // A clone first side may be enough with only some instances up.
        let min_first = match &cluster.rsc(o.first).kind {
            RscKind::Clone(c) if !o.require_all => c.clone_min.max(1),
            RscKind::Clone(c) => c.clone_min,
            _ => 0,
        };
        // A group is running only when all of its members are.
        if let RscKind::Group { members } = &cluster.rsc(o.first).kind {
            edges.push(Edge {
                min_first: members.len(),
                first,
                then,
                first_label: label,
                implies_restart: o.symmetrical,
                symmetrical: o.symmetrical,
                restart_on_clone_change: false,
            });
            continue;
        }
        if min_first > 0 {
            edges.push(Edge {
                first,
                then,
                first_label: format!("clone-one-or-more:{}", o.id),
                implies_restart: false,
                symmetrical: o.symmetrical,
                min_first,
                restart_on_clone_change: false,
            });
            continue;
        }
        if let (Some((fi, _)), Some((ti, true))) = (&first_clone, &then_clone) {
            // Interleaved clones order instance by instance on each node.
            for &t in ti {
                for &f in fi {
                    edges.push(Edge {
                        first: prims(cluster, f),
                        then: prims(cluster, t),
                        first_label: format!("{} start", display_name(cluster, f)),
                        implies_restart: o.symmetrical,
                        symmetrical: o.symmetrical,
                        min_first: 0,
                        restart_on_clone_change: false,
                    });
                }
            }
            continue;
        }
        // An asymmetrical order only holds back the then side's start:
        // nothing in it makes the then side restart.
        edges.push(Edge {
            first,
            then,
            first_label: label,
            implies_restart: first_clone.is_none() && o.symmetrical,
            symmetrical: o.symmetrical,
            min_first: 0,
            restart_on_clone_change: first_clone.is_some() && o.symmetrical,
        });
    }
    for o in &cluster.one_or_more_orders {
        edges.push(Edge {
            first: o.firsts.iter().flat_map(|&f| prims(cluster, f)).collect(),
            then: prims(cluster, o.then),
            first_label: format!("one-or-more:{}", o.set_id),
            implies_restart: false,
            symmetrical: o.symmetrical,
            min_first: 1,
            restart_on_clone_change: false,
        });
    }
    edges
}

/// `(waiters, waited)`: the waiters' stops come after the stops of the
/// waited: the reverse of a symmetrical start order, and explicit
/// stop-then-stop orders.
fn stop_waits(cluster: &Cluster, edges: &[Edge]) -> Vec<(Vec<RscIdx>, Vec<RscIdx>)> {
    let mut waits: Vec<(Vec<RscIdx>, Vec<RscIdx>)> = edges
        .iter()
        .filter(|e| e.symmetrical)
        .map(|e| (e.first.clone(), e.then.clone()))
        .collect();
    for o in &cluster.orders {
        if o.mandatory && o.first_action == "stop" && o.then_action == "stop" {
            waits.push((prims(cluster, o.then), prims(cluster, o.first)));
        }
    }
    waits
}

/// The member before `t` in its ordered group, if that one runs.
fn running_predecessor(cluster: &Cluster, t: RscIdx) -> Option<RscIdx> {
    let rsc = cluster.rsc(t);
    let RscKind::Group { members } = &cluster.rsc(rsc.parent?).kind else {
        return None;
    };
    let at = members.iter().position(|&m| m == t)?;
    let prev = *members.get(at.checked_sub(1)?)?;
    (rsc.meta.ordered && !cluster.rsc(prev).status.running.is_empty()).then_some(prev)
}

/// A clone's instances and its interleave flag.
fn clone_instances(cluster: &Cluster, r: RscIdx) -> Option<(Vec<RscIdx>, bool)> {
    match &cluster.rsc(r).kind {
        RscKind::Clone(c) => Some((c.instances.clone(), c.interleave)),
        _ => None,
    }
}

fn prims(cluster: &Cluster, r: RscIdx) -> Vec<RscIdx> {
    let mut v = Vec::new();
    cluster.collect_primitives(r, &mut v);
    v
}

pub(super) fn propagate_orders(
    cluster: &Cluster,
    a: &Assignment,
    plans: &mut BTreeMap<RscIdx, Plan>,
) {
    let edges = order_edges(cluster);
    let stop_waits = stop_waits(cluster, &edges);
    // Each pass can only add restarts or blocks, so this terminates; the
    // bound keeps a pathological input from looping long.
    for _ in 0..cluster.rscs.len() + 1 {
        let mut changed = false;
        for (waiter, waited) in &stop_waits {
            // If what must stop first is stuck where it runs, nothing that
            // waits for it can stop there either, nor start anew elsewhere.
            let stuck: Vec<(NodeIdx, RscIdx)> = waited
                .iter()
                .filter(|&&t| {
                    let rsc = cluster.rsc(t);
                    !rsc.meta.managed || rsc.status.blocked
                })
                .flat_map(|&t| {
                    cluster
                        .rsc(t)
                        .status
                        .running
                        .iter()
                        .map(move |(n, _)| (*n, t))
                })
                .collect();
            for f in waiter {
                let Some(plan) = plans.get_mut(f) else {
                    continue;
                };
                let Some(&(_, blocker)) = stuck.iter().find(|(n, _)| plan.stop_on.contains(n))
                else {
                    continue;
                };
                if plan.stop_blocked {
                    continue;
                }
                plan.stop_blocked = true;
                let name = display_name(cluster, blocker);
                plan.stop_reason
                    .get_or_insert_with(|| format!("due to unrunnable {name} stop"));
                if let Some(n) = plan.start_on.take() {
                    plan.blocked_start = Some((n, BlockedWhy::Silent));
                    plan.promote = false;
                }
                changed = true;
            }
        }
        for e in &edges {
            let first_starts: Vec<NodeIdx> = e
                .first
                .iter()
                .filter_map(|f| plans.get(f).and_then(|p| p.start_on))
                .collect();
            // A failed resource whose recovery is blocked stays, but its
            // start cannot happen.
            let running_firsts = e
                .first
                .iter()
                .filter(|f| {
                    let status = &cluster.rsc(**f).status;
                    a.node_of(**f).is_some()
                        && plans.get(f).is_some_and(|p| p.blocked_start.is_none())
                        && !(status.failed && status.blocked)
                })
                .count();
            let first_runs = running_firsts >= e.min_first.max(1);
            // Nodes where an instance of a clone first side starts or stops.
            let clone_changes_on: Vec<NodeIdx> = if e.restart_on_clone_change {
                e.first
                    .iter()
                    .filter_map(|f| plans.get(f))
                    // Stops reach the then side only through a
                    // symmetrical order.
                    .flat_map(|p| {
                        let stops = if e.symmetrical { &p.stop_on[..] } else { &[] };
                        p.start_on.iter().chain(stops.iter()).copied()
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let first_was_running = e
                .first
                .iter()
                .any(|f| !cluster.rsc(*f).status.running.is_empty());
            let per_node = e.first.len() == 1 && e.then.len() == 1 && {
                let (f, t) = (cluster.rsc(e.first[0]), cluster.rsc(e.then[0]));
                f.id != f.base_id && t.id != t.base_id
            };
            for &t in &e.then {
                let rsc = cluster.rsc(t);
                let Some(plan) = plans.get_mut(&t) else {
                    continue;
                };
                if !rsc.meta.managed || rsc.status.blocked {
                    continue;
                }
                if !first_runs && !per_node {
                    // Only a start that is needed is blocked; a resource
                    // that stays where it is keeps running.
                    let unrunnable = format!("due to unrunnable {}", e.first_label);
                    if let Some(n) = plan.start_on.take() {
                        if plan.stop_on.is_empty() {
                            plan.blocked_start = Some((n, BlockedWhy::because(&unrunnable)));
                        } else {
                            plan.stop_reason = Some(unrunnable.clone());
                            plan.restart_reason = None;
                            plan.blocked_start = Some((n, BlockedWhy::Silent));
                        }
                        changed = true;
                    }
                    if e.symmetrical {
                        // A primitive first side that is stopping is
                        // "required"; anything else is "unrunnable".
                        // A later member of an ordered group stops because
                        // the member before it does.
                        let why = if let Some(prev) = running_predecessor(cluster, t) {
                            format!("due to required {} start", display_name(cluster, prev))
                        } else if first_was_running && e.first.len() == 1 {
                            format!("due to required {}", e.first_label)
                        } else {
                            unrunnable.clone()
                        };
                        for &(n, _) in &rsc.status.running {
                            if !plan.stop_on.contains(&n) {
                                plan.stop_on.push(n);
                                plan.stop_reason = Some(why.clone());
                                changed = true;
                            }
                        }
                    }
                    continue;
                }
                if plan.start_on.is_some() {
                    continue;
                }
                let Some(n) = a.node_of(t) else { continue };
                let restarts = clone_changes_on.contains(&n)
                    || (!first_starts.is_empty()
                        && e.implies_restart
                        && (!per_node || first_starts.contains(&n)));
                if !restarts {
                    continue;
                }
                if let Some(&(_, role)) = rsc.status.running.iter().find(|(m, _)| *m == n) {
                    plan.stop_on.push(n);
                    plan.start_on = Some(n);
                    plan.restart_reason = Some(format!("due to required {}", e.first_label));
                    // A promoted instance restarts back to promoted.
                    if role == crate::unpack::Role::Promoted {
                        plan.demote = true;
                        plan.promote |= a.role.get(&t) == Some(&crate::unpack::Role::Promoted);
                    }
                    changed = true;
                }
            }
        }
        changed |= block_colocated_starts(cluster, plans);
        changed |= block_interleaved_starts(cluster, a, plans);
        if !changed {
            break;
        }
    }
}

/// A resource that must be with another cannot start while that other's
/// start is blocked.
fn block_colocated_starts(cluster: &Cluster, plans: &mut BTreeMap<RscIdx, Plan>) -> bool {
    let mut changed = false;
    for c in &cluster.colocations {
        if c.score != baton_cib::Score::INFINITY
            || c.dependent_role.is_some()
            || c.primary_role.is_some()
        {
            continue;
        }
        let primary = prims(cluster, c.primary);
        // The primary will run nowhere: no start, and whatever runs stops.
        let primary_gone = !primary.is_empty()
            && primary.iter().all(|p| {
                plans.get(p).is_some_and(|plan| {
                    plan.start_on.is_none()
                        && cluster
                            .rsc(*p)
                            .status
                            .running
                            .iter()
                            .all(|(n, _)| plan.stop_on.contains(n))
                })
            });
        if !primary_gone {
            continue;
        }
        let primary_blocked = primary.iter().all(|p| {
            plans
                .get(p)
                .is_some_and(|plan| plan.blocked_start.is_some())
        });
        let why = format!("due to colocation with {}", cluster.rsc(c.primary).id);
        for d in prims(cluster, c.dependent) {
            let Some(plan) = plans.get_mut(&d) else {
                continue;
            };
            if primary_blocked
                && plan.stop_on.is_empty()
                && let Some(n) = plan.start_on.take()
            {
                plan.blocked_start = Some((n, BlockedWhy::Because(why.clone())));
                plan.promote = false;
                changed = true;
            }
            let rsc = cluster.rsc(d);
            if plan.start_on.is_none() && rsc.meta.managed && !rsc.status.blocked {
                for &(n, _) in &rsc.status.running {
                    if !plan.stop_on.contains(&n) {
                        plan.stop_on.push(n);
                        plan.stop_reason = Some(why.clone());
                        changed = true;
                    }
                }
            }
        }
    }
    changed
}

/// Between interleaved clones each instance depends only on the first
/// clone's instance on its own node: where that clone will not run, the
/// instance cannot start (not reported) and one running there stops.
fn block_interleaved_starts(
    cluster: &Cluster,
    a: &Assignment,
    plans: &mut BTreeMap<RscIdx, Plan>,
) -> bool {
    let mut changed = false;
    for o in &cluster.orders {
        let some_suffice = !o.require_all
            || matches!(&cluster.rsc(o.first).kind, RscKind::Clone(c) if c.clone_min > 0);
        if !o.mandatory || o.first_action != "start" || o.then_action != "start" || some_suffice {
            continue;
        }
        let (Some((firsts, _)), Some((thens, true))) = (
            clone_instances(cluster, o.first),
            clone_instances(cluster, o.then),
        ) else {
            continue;
        };
        let first_nodes: Vec<NodeIdx> = firsts
            .iter()
            .flat_map(|&f| prims(cluster, f))
            .filter(|p| {
                plans
                    .get(p)
                    .is_some_and(|plan| plan.blocked_start.is_none())
            })
            .filter_map(|p| a.node_of(p))
            .collect();
        for t in thens.iter().flat_map(|&t| prims(cluster, t)) {
            let Some(plan) = plans.get_mut(&t) else {
                continue;
            };
            if plan.stop_on.is_empty()
                && plan.start_on.is_some_and(|n| !first_nodes.contains(&n))
                && let Some(n) = plan.start_on.take()
            {
                plan.blocked_start = Some((n, BlockedWhy::Silent));
                plan.promote = false;
                changed = true;
            }
            // One that stays where the first clone leaves must go too.
            let rsc = cluster.rsc(t);
            if o.symmetrical && plan.start_on.is_none() && rsc.meta.managed && !rsc.status.blocked {
                for &(n, _) in &rsc.status.running {
                    if !first_nodes.contains(&n) && !plan.stop_on.contains(&n) {
                        plan.stop_on.push(n);
                        changed = true;
                    }
                }
            }
        }
    }
    changed
}
