//! From placement to actions: what each primitive must do (the plan), the
//! orderings that make one resource's start force another's restart or
//! block it, and the action graph the DC will execute.

pub mod graph;

pub use graph::{Action, ActionId, Graph, Task};

use std::collections::BTreeMap;

use crate::placement::{Assignment, Freeze, quorum_freeze};
use crate::unpack::{Cluster, NodeIdx, NodeState, Role, RscIdx, RscKind};

/// What one primitive must do.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub stop_on: Vec<NodeIdx>,
    pub start_on: Option<NodeIdx>,
    pub promote: bool,
    pub demote: bool,
    /// Printed after a Stop line (`due to ...`).
    pub stop_reason: Option<String>,
    /// Printed after a Restart line.
    pub restart_reason: Option<String>,
    /// The start is needed but cannot happen; printed as `(blocked)`.
    pub blocked_start: Option<(NodeIdx, String)>,
}

/// Nodes that will be fenced, with the reason printed in the summary.
pub fn fence_targets(cluster: &Cluster) -> Vec<(NodeIdx, String)> {
    if !can_fence(cluster) {
        return Vec::new();
    }
    cluster
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match &n.state {
            NodeState::Unclean(why) => Some((NodeIdx(i), why.clone())),
            _ => None,
        })
        .collect()
}

/// Fencing needs it enabled, a device, and quorum (or no-quorum-policy=ignore).
pub fn can_fence(cluster: &Cluster) -> bool {
    cluster.options.fencing_enabled
        && cluster.has_fence_device
        && (quorum_freeze(cluster) == crate::placement::Freeze::None || cluster.suicide())
}

fn display_name(cluster: &Cluster, r: RscIdx) -> String {
    let rsc = cluster.rsc(r);
    match rsc.kind {
        RscKind::Primitive => rsc.id.clone(),
        _ => rsc.base_id.clone(),
    }
}

pub fn plan(cluster: &Cluster, a: &Assignment) -> BTreeMap<RscIdx, Plan> {
    let freeze = quorum_freeze(cluster);
    let mut plans: BTreeMap<RscIdx, Plan> = BTreeMap::new();
    for p in cluster.primitives() {
        let rsc = cluster.rsc(p);
        let mut plan = Plan::default();
        let target = a.node_of(p);
        let target_role = a.role.get(&p).copied().unwrap_or(Role::Started);
        let managed = rsc.meta.managed && !rsc.status.blocked;
        if !managed {
            plans.insert(p, plan);
            continue;
        }
        let restart_all = rsc.status.failed || rsc.status.running.len() > 1;
        for &(n, role) in &rsc.status.running {
            if Some(n) != target || restart_all {
                plan.stop_on.push(n);
                if role == Role::Promoted {
                    plan.demote = true;
                }
            } else if role == Role::Promoted && target_role < Role::Promoted {
                plan.demote = true;
            } else if role < Role::Promoted && target_role == Role::Promoted {
                plan.promote = true;
            }
        }
        if let Some(t) = target
            && (restart_all || !rsc.status.running.iter().any(|(n, _)| *n == t))
        {
            plan.start_on = Some(t);
            if target_role == Role::Promoted {
                plan.promote = true;
            }
        }
        // Fencing devices may run without quorum: fencing is how quorum
        // is restored.
        let freeze = if rsc.class == "stonith"
            && cluster.options.no_quorum_policy == crate::unpack::NoQuorumPolicy::Stop
        {
            Freeze::None
        } else {
            freeze
        };
        match freeze {
            Freeze::StopAll => {
                // Everything stops; nothing may start.
                if let Some(n) = plan.start_on.take() {
                    plan.blocked_start = Some((n, "due to no quorum".to_owned()));
                    plan.promote = false;
                }
                for &(n, _) in &rsc.status.running {
                    if !plan.stop_on.contains(&n) {
                        plan.stop_on.push(n);
                    }
                }
                if !plan.stop_on.is_empty() {
                    plan.stop_reason = Some("due to no quorum".to_owned());
                    if let Some(b) = &mut plan.blocked_start {
                        b.1.clear();
                    }
                }
                plans.insert(p, plan);
                continue;
            }
            Freeze::KeepRunning if rsc.status.running.is_empty() => {
                // Only what is already active may (re)start.
                if let Some(n) = plan.start_on.take() {
                    plan.blocked_start = Some((n, "due to quorum freeze".to_owned()));
                    plan.promote = false;
                }
            }
            _ => {}
        }
        if target.is_none() && !plan.stop_on.is_empty() {
            plan.stop_reason = Some(
                if freeze == Freeze::StopAll {
                    "due to no quorum"
                } else {
                    "due to node availability"
                }
                .to_owned(),
            );
        }
        plans.insert(p, plan);
    }
    propagate_orders(cluster, a, &mut plans);
    plans
}

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
}

fn order_edges(cluster: &Cluster) -> Vec<Edge> {
    let mut edges = Vec::new();
    // Group members start in order.
    for r in 0..cluster.rscs.len() {
        if let RscKind::Group { members } = &cluster.rsc(RscIdx(r)).kind {
            for w in members.windows(2) {
                edges.push(Edge {
                    first: vec![w[0]],
                    then: vec![w[1]],
                    first_label: format!("{} start", display_name(cluster, w[0])),
                    implies_restart: true,
                    symmetrical: true,
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
        let label = if cluster.rsc(o.first).is_primitive() {
            format!("{} start", cluster.rsc(o.first).id)
        } else {
            format!("{} running", cluster.rsc(o.first).id)
        };
        let first_clone = clone_instances(cluster, o.first);
        let then_clone = clone_instances(cluster, o.then);
        if let (Some((fi, _)), Some((ti, true))) = (&first_clone, &then_clone) {
            // Interleaved clones order instance by instance on each node.
            for &t in ti {
                for &f in fi {
                    edges.push(Edge {
                        first: prims(cluster, f),
                        then: prims(cluster, t),
                        first_label: format!("{} start", display_name(cluster, f)),
                        implies_restart: true,
                        symmetrical: o.symmetrical,
                    });
                }
            }
            continue;
        }
        edges.push(Edge {
            first,
            then,
            first_label: label,
            implies_restart: first_clone.is_none(),
            symmetrical: o.symmetrical,
        });
    }
    edges
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

fn propagate_orders(cluster: &Cluster, a: &Assignment, plans: &mut BTreeMap<RscIdx, Plan>) {
    let edges = order_edges(cluster);
    // Each pass can only add restarts or blocks, so this terminates; the
    // bound keeps a pathological input from looping long.
    for _ in 0..cluster.rscs.len() + 1 {
        let mut changed = false;
        for e in &edges {
            let first_starts: Vec<NodeIdx> = e
                .first
                .iter()
                .filter_map(|f| plans.get(f).and_then(|p| p.start_on))
                .collect();
            let first_runs = e.first.iter().any(|f| {
                a.node_of(*f).is_some() && plans.get(f).is_some_and(|p| p.blocked_start.is_none())
            });
            let per_node = e.first.len() == 1 && e.then.len() == 1 && {
                let (f, t) = (cluster.rsc(e.first[0]), cluster.rsc(e.then[0]));
                f.id != f.base_id && t.id != t.base_id
            };
            for &t in &e.then {
                let rsc = cluster.rsc(t);
                let Some(plan) = plans.get_mut(&t) else {
                    continue;
                };
                if !rsc.meta.managed {
                    continue;
                }
                if !first_runs && !per_node {
                    // Only a start that is needed is blocked; a resource
                    // that stays where it is keeps running.
                    let unrunnable = format!("due to unrunnable {}", e.first_label);
                    if let Some(n) = plan.start_on.take() {
                        if plan.stop_on.is_empty() {
                            plan.blocked_start = Some((n, unrunnable.clone()));
                        } else {
                            plan.stop_reason = Some(unrunnable.clone());
                            plan.restart_reason = None;
                            plan.blocked_start = Some((n, String::new()));
                        }
                        changed = true;
                    }
                    if e.symmetrical {
                        for &(n, _) in &rsc.status.running {
                            if !plan.stop_on.contains(&n) {
                                plan.stop_on.push(n);
                                plan.stop_reason = Some(unrunnable.clone());
                                changed = true;
                            }
                        }
                    }
                    continue;
                }
                if first_starts.is_empty() || !e.implies_restart || plan.start_on.is_some() {
                    continue;
                }
                let Some(n) = a.node_of(t) else { continue };
                if per_node && !first_starts.contains(&n) {
                    continue;
                }
                if rsc.status.running.iter().any(|(m, _)| *m == n) {
                    plan.stop_on.push(n);
                    plan.start_on = Some(n);
                    plan.restart_reason = Some(format!("due to required {}", e.first_label));
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}
