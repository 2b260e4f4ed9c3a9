//! From placement to actions: what each primitive must do (the plan), the
//! orderings that make one resource's start force another's restart or
//! block it, and the action graph the DC will execute.

pub mod changes;
mod orders;

pub use changes::{Change, ChangeId, Changes, Verb};

use std::collections::BTreeMap;

use crate::placement::{Assignment, Freeze, quorum_freeze};
use crate::unpack::{Cluster, DefinitionChange, NodeIdx, NodeState, Role, RscIdx, RscKind};

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
    pub blocked_start: Option<(NodeIdx, BlockedWhy)>,
    /// The blocked start was on the way to the promoted role: it reads as
    /// a blocked promotion.
    pub blocked_promote: bool,
    /// The stops are needed but cannot run (the node cannot be reached or
    /// fenced, or something that must stop first cannot).
    pub stop_blocked: bool,
    /// Reload the agent in place with the new parameters.
    pub reload_on: Option<NodeIdx>,
}

/// Why a needed start cannot happen, as the summary shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockedWhy {
    /// Not shown: another line already explains it.
    Silent,
    /// Shown as a bare `blocked`.
    Unexplained,
    /// Shown as `due to ... (blocked)`.
    Because(String),
}

impl BlockedWhy {
    fn because(why: &str) -> Self {
        BlockedWhy::Because(why.to_owned())
    }
}

/// Nodes that will be fenced, with the reason printed in the summary.
pub fn fence_targets(cluster: &Cluster) -> Vec<(NodeIdx, String)> {
    cluster
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| can_fence_node(cluster, NodeIdx(*i)))
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

/// Whether node `n` can be fenced: as [`can_fence`], or, without quorum,
/// because it is still in this partition's membership.
pub fn can_fence_node(cluster: &Cluster, n: NodeIdx) -> bool {
    can_fence(cluster)
        || (cluster.options.fencing_enabled
            && cluster.has_fence_device
            && cluster.node(n).in_membership)
}

/// Whether `r`, moving, may migrate live: a healthy primitive that allows
/// it (not a clone instance), unless its old node is being fenced (there
/// is nothing left to migrate from).
pub fn can_migrate(cluster: &Cluster, r: RscIdx, from_fenced_node: bool) -> bool {
    let rsc = cluster.rsc(r);
    let in_clone = rsc
        .parent
        .is_some_and(|p| !matches!(cluster.rsc(p).kind, RscKind::Group { .. }));
    rsc.meta.allow_migrate
        && rsc.meta.managed
        && rsc.is_primitive()
        && !in_clone
        && !rsc.status.failed
        && !from_fenced_node
}

pub(crate) fn display_name(cluster: &Cluster, r: RscIdx) -> String {
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
        let stop_only = rsc.status.running.len() > 1
            && rsc.meta.multiple_active == crate::unpack::MultipleActive::StopOnly;
        let target = a.node_of(p).filter(|_| !stop_only);
        let target_role = a.role.get(&p).copied().unwrap_or(Role::Started);
        let managed = rsc.meta.managed && !rsc.status.blocked;
        if !managed {
            // A blocked resource on a lost node still needs its stop,
            // which can never run.
            if rsc.meta.managed {
                plan.stop_on = rsc
                    .status
                    .running
                    .iter()
                    .map(|(n, _)| *n)
                    .filter(|&n| cluster.node(n).is_unclean() && !can_fence_node(cluster, n))
                    .collect();
                plan.stop_blocked = !plan.stop_on.is_empty();
                if plan.stop_blocked && freeze == Freeze::StopAll {
                    plan.stop_reason = Some("due to no quorum".to_owned());
                }
            }
            plans.insert(p, plan);
            continue;
        }
        let restart_all = rsc.status.failed || rsc.status.running.len() > 1;
        let changed = target.and_then(|t| rsc.status.definition_change.get(&t).copied());
        let rebuild = changed == Some(DefinitionChange::Restart) && !restart_all;
        for &(n, role) in &rsc.status.running {
            if Some(n) != target || restart_all || rebuild {
                plan.stop_on.push(n);
                if role == Role::Promoted {
                    plan.demote = true;
                }
            } else if role == Role::Promoted && target_role < Role::Promoted {
                plan.demote = true;
            } else if role < Role::Promoted && target_role == Role::Promoted {
                plan.promote = true;
            } else if role == Role::Promoted && rsc.status.on_fail == crate::unpack::OnFail::Demote
            {
                // Its promoted monitor failed with on-fail=demote: demote,
                // then promote again.
                plan.demote = true;
                plan.promote = true;
            }
        }
        let runs_on_target =
            target.is_some_and(|t| rsc.status.running.iter().any(|(n, _)| *n == t));
        if let Some(t) = target
            && (restart_all || rebuild || !runs_on_target)
        {
            plan.start_on = Some(t);
            if target_role == Role::Promoted {
                plan.promote = true;
            }
        }
        if runs_on_target && !restart_all {
            match changed {
                Some(DefinitionChange::Restart) => {
                    plan.restart_reason = Some("due to resource definition change".to_owned());
                }
                Some(DefinitionChange::Reload) => plan.reload_on = target,
                None => {}
            }
        }
        // What requires nothing may run without quorum.
        let freeze = if rsc.meta.requires == crate::unpack::Requires::Nothing {
            Freeze::None
        } else {
            freeze
        };
        // no-quorum-policy=demote keeps promotable instances running,
        // unpromoted.
        let promotable_instance = rsc
            .status
            .running
            .iter()
            .any(|(_, role)| matches!(role, Role::Promoted | Role::Unpromoted));
        if freeze == Freeze::StopAll
            && cluster.options.no_quorum_policy == crate::unpack::NoQuorumPolicy::Demote
            && promotable_instance
        {
            plans.insert(
                p,
                Plan {
                    demote: rsc.status.role() == Role::Promoted,
                    ..Plan::default()
                },
            );
            continue;
        }
        match freeze {
            Freeze::StopAll => {
                // Everything stops; nothing may start.
                if let Some(n) = plan.start_on.take() {
                    plan.blocked_start = Some((n, BlockedWhy::because("due to no quorum")));
                    plan.blocked_promote = plan.promote;
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
                        b.1 = BlockedWhy::Silent;
                    }
                }
                block_unreachable_stops(cluster, &mut plan);
                plans.insert(p, plan);
                continue;
            }
            Freeze::KeepRunning if rsc.status.running.is_empty() => {
                // Only what is already active may (re)start.
                if let Some(n) = plan.start_on.take() {
                    plan.blocked_start = Some((n, BlockedWhy::because("due to quorum freeze")));
                    plan.promote = false;
                }
            }
            _ => {}
        }
        block_unreachable_stops(cluster, &mut plan);
        // A start waits for the resource to be probed on every node that
        // is up, and a node still joining cannot run probes yet.
        if cluster.nodes.iter().any(|n| n.state == NodeState::Pending)
            && let Some(n) = plan.start_on.take()
        {
            plan.blocked_start = Some((n, BlockedWhy::Unexplained));
            plan.promote = false;
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
    orders::propagate_orders(cluster, a, &mut plans);
    plans
}

/// Nothing can stop on a node that is lost and cannot be fenced; what
/// would move from there has to wait.
fn block_unreachable_stops(cluster: &Cluster, plan: &mut Plan) {
    let unreachable = plan
        .stop_on
        .iter()
        .any(|&n| cluster.node(n).is_unclean() && !can_fence_node(cluster, n));
    if unreachable {
        plan.stop_blocked = true;
        if plan.start_on.take().is_some() {
            plan.promote = false;
        }
    }
}
