//! Placement: every resource gets a node (or none) from node scores.
//!
//! A resource's score on a node adds its location preferences, stickiness
//! on its current node and advisory colocations; -INFINITY (bans, mandatory
//! anti-colocation, unusable nodes) always wins. Resources are assigned one
//! at a time, highest priority first, and a colocation's primary is always
//! assigned before its dependent so the dependent can follow it.

mod capacity;
mod clone;
pub mod score_log;
mod scores;

use std::collections::{BTreeMap, BTreeSet};

use baton_cib::Score;

use crate::unpack::{Cluster, NoQuorumPolicy, NodeIdx, PlacementStrategy, Role, RscIdx, RscKind};

/// Where each primitive will be, and in which role.
#[derive(Debug, Clone, Default)]
pub struct Assignment {
    pub node: BTreeMap<RscIdx, NodeIdx>,
    pub role: BTreeMap<RscIdx, Role>,
    /// Top-level resources that were already handled.
    done: BTreeSet<RscIdx>,
    /// Guards against colocation cycles.
    in_progress: BTreeSet<RscIdx>,
    /// Primitives assigned per node, used to spread ties.
    pub count: BTreeMap<NodeIdx, usize>,
    /// Utilization assigned per node.
    pub used: BTreeMap<NodeIdx, crate::unpack::Utilization>,
    /// Top-level resources in the order they were considered, which is
    /// also the order the Transition Summary lists them in.
    pub order: Vec<RscIdx>,
    /// The node scores weighed along the way, for `crm_simulate -s`.
    pub score_lines: Vec<score_log::ScoreLine>,
    /// Whether to keep `score_lines`: a line per resource and node costs
    /// more than the placement itself on large clusters.
    pub record_scores: bool,
}

impl Assignment {
    pub fn node_of(&self, r: RscIdx) -> Option<NodeIdx> {
        self.node.get(&r).copied()
    }

    fn place(&mut self, cluster: &Cluster, r: RscIdx, n: NodeIdx) {
        self.node.insert(r, n);
        *self.count.entry(n).or_default() += 1;
        self.used
            .entry(n)
            .or_default()
            .add(&cluster.rsc(r).utilization);
    }
}

/// What losing quorum does to the plan (placement itself is unaffected:
/// blocked starts are still reported where they would have gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freeze {
    None,
    /// No quorum with no-quorum-policy=stop: everything stops.
    StopAll,
    /// No quorum with freeze: running things stay, nothing new starts.
    KeepRunning,
}

pub fn quorum_freeze(cluster: &Cluster) -> Freeze {
    if cluster.have_quorum {
        return Freeze::None;
    }
    match cluster.options.no_quorum_policy {
        NoQuorumPolicy::Ignore => Freeze::None,
        NoQuorumPolicy::Freeze => Freeze::KeepRunning,
        NoQuorumPolicy::Stop | NoQuorumPolicy::Demote | NoQuorumPolicy::Suicide => Freeze::StopAll,
    }
}

pub fn assign(cluster: &Cluster, record_scores: bool) -> Assignment {
    let mut a = Assignment {
        record_scores,
        ..Assignment::default()
    };
    let mut order: Vec<RscIdx> = cluster.top.clone();
    // Higher priority first; the sort is stable so configuration order
    // breaks ties.
    order.sort_by_key(|&r| std::cmp::Reverse(cluster.rsc(r).meta.priority));
    if cluster.options.placement_strategy.uses_capacity() {
        // Stable, so configuration order still breaks ties.
        order.sort_by_cached_key(|&r| std::cmp::Reverse(capacity::claim(cluster, &a, r)));
    }
    for &r in &order {
        assign_top(cluster, &mut a, r);
    }
    a.order = order;
    a
}

/// Assigns the top-level resource `r` (after the primaries it follows).
fn assign_top(cluster: &Cluster, a: &mut Assignment, r: RscIdx) {
    if a.done.contains(&r) || !a.in_progress.insert(r) {
        return;
    }
    for c in &cluster.colocations {
        if cluster.top_of(c.dependent) == r {
            let p = cluster.top_of(c.primary);
            if p != r {
                assign_top(cluster, a, p);
            }
        }
    }
    match &cluster.rsc(r).kind {
        RscKind::Clone(_) => clone::assign(cluster, a, r),
        _ => assign_unit(cluster, a, r),
    }
    a.in_progress.remove(&r);
    a.done.insert(r);
}

/// The members that move together: a primitive alone, or a group's members.
pub fn unit_members(cluster: &Cluster, r: RscIdx) -> Vec<RscIdx> {
    let mut v = Vec::new();
    cluster.collect_primitives(r, &mut v);
    v
}

/// Picks the best node among those with a non-negative score.
pub fn best_node(
    cluster: &Cluster,
    a: &Assignment,
    scores: &BTreeMap<NodeIdx, Score>,
    current: Option<NodeIdx>,
) -> Option<NodeIdx> {
    let best = scores.values().copied().filter(|s| s.value() >= 0).max()?;
    let tied: Vec<NodeIdx> = scores
        .iter()
        .filter(|(_, s)| **s == best)
        .map(|(n, _)| *n)
        .collect();
    // Ties go to the node with fewer resources assigned so far (unless the
    // placement strategy is `minimal`), then to the current node, then by
    // name.
    tied.into_iter().min_by(|x, y| {
        let load = |n: &NodeIdx| {
            if cluster.options.placement_strategy.counts_resources() {
                a.count.get(n).copied().unwrap_or(0)
            } else {
                0
            }
        };
        let is_current = |n: &NodeIdx| Some(*n) != current;
        let capacity = if cluster.options.placement_strategy == PlacementStrategy::Balanced {
            capacity::compare_remaining(cluster, a, *x, *y)
        } else {
            std::cmp::Ordering::Equal
        };
        capacity
            .then_with(|| load(x).cmp(&load(y)))
            .then_with(|| is_current(x).cmp(&is_current(y)))
            .then_with(|| node_name_cmp(&cluster.node(*x).uname, &cluster.node(*y).uname))
    })
}

/// Node names compare case-insensitively with digit runs as numbers, so
/// `node2` sorts before `node10`.
pub fn node_name_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let lx = x.iter().take_while(|b| b.is_ascii_digit()).count();
                let ly = y.iter().take_while(|b| b.is_ascii_digit()).count();
                let nx = std::str::from_utf8(&x[..lx])
                    .ok()
                    .and_then(|s| s.parse::<u128>().ok());
                let ny = std::str::from_utf8(&y[..ly])
                    .ok()
                    .and_then(|s| s.parse::<u128>().ok());
                let o = nx.cmp(&ny);
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
                x = &x[lx..];
                y = &y[ly..];
            }
            (Some(c), Some(d)) => {
                let o = c.to_ascii_lowercase().cmp(&d.to_ascii_lowercase());
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

/// False when the resource must stay stopped: target-role=Stopped, or a
/// failure whose on-fail is `stop`.
pub fn may_run(rsc: &crate::unpack::Rsc) -> bool {
    rsc.meta.target_role != Some(Role::Stopped)
        && !(rsc.status.failed && rsc.status.on_fail == crate::unpack::OnFail::Stop)
}

/// A primitive or group: one node for all of its members.
fn assign_unit(cluster: &Cluster, a: &mut Assignment, r: RscIdx) {
    let members = unit_members(cluster, r);
    let mut scores = scores::unit_scores(cluster, a, r, &members);
    if cluster.options.placement_strategy.uses_capacity() {
        capacity::ban_insufficient(cluster, a, r, &members, &mut scores);
    }
    let current = members
        .iter()
        .find_map(|&m| cluster.rsc(m).status.current_node());
    // If an unmanaged member runs, the whole group stays as it is: members
    // are colocated with each other, and an unmanaged one cannot follow.
    let is_unmanaged = |m: RscIdx| !cluster.rsc(m).meta.managed || cluster.rsc(m).status.blocked;
    let unmanaged = members
        .iter()
        .any(|&m| is_unmanaged(m) && !cluster.rsc(m).status.running.is_empty());
    // A resource removed from the configuration only ever stops.
    let removed = cluster.rsc(r).orphan && cluster.options.stop_removed_resources;
    let chosen = if unmanaged || removed {
        None
    } else {
        best_node(cluster, a, &scores, current)
    };
    // Members after the last stuck one stop before it, so they are free
    // to leave; those up to it must stay with it.
    let last_stuck = members
        .iter()
        .rposition(|&m| is_unmanaged(m) && !cluster.rsc(m).status.running.is_empty());
    for (i, &m) in members.iter().enumerate() {
        let rsc = cluster.rsc(m);
        if unmanaged {
            // Counted where it is, so other resources spread around it;
            // a managed member that must stop still stops.
            let free = last_stuck.is_some_and(|last| i > last);
            if let Some(n) = rsc.status.current_node()
                && (is_unmanaged(m) || may_run(rsc))
                && !(free && (!cluster.node(n).can_run() || rsc.status.banned.contains(&n)))
            {
                a.place(cluster, m, n);
                a.role.insert(m, rsc.status.role());
            }
            continue;
        }
        let Some(n) = chosen else { break };
        // A stopped member stops the rest of its group too: each member is
        // colocated with the one before it. An unmanaged member that is
        // stopped stays stopped.
        if !may_run(rsc) || rsc.status.banned.contains(&n) || is_unmanaged(m) {
            break;
        }
        a.place(cluster, m, n);
        a.role.insert(m, Role::Started);
    }
    // crm_simulate weighs nothing for a removed resource: it only stops.
    if removed {
        return;
    }
    if matches!(cluster.rsc(r).kind, RscKind::Group { .. }) {
        score_log::record_unit_group(cluster, a, r, &members, &scores);
    } else {
        score_log::record_primitive(cluster, a, r, &scores);
    }
}
