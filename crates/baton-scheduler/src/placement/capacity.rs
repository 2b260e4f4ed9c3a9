//! Capacity checks for the utilization-aware placement strategies: a node
//! may take a resource only if what is left of its capacity covers what
//! the resource needs.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use baton_cib::Score;

use super::Assignment;
use crate::unpack::{Cluster, NodeIdx, RscIdx, Utilization};

/// What `n` has left after what is already assigned to it.
fn remaining(cluster: &Cluster, a: &Assignment, n: NodeIdx) -> Utilization {
    let mut left = cluster.node(n).capacity.clone();
    if let Some(used) = a.used.get(&n) {
        for (k, v) in &used.0 {
            if let Some(e) = left.0.get_mut(k) {
                *e = e.saturating_sub(*v);
            }
        }
    }
    left
}

/// Only what the node declares limits it.
fn fits(cluster: &Cluster, a: &Assignment, n: NodeIdx, need: &Utilization) -> bool {
    let left = remaining(cluster, a, n);
    left.0.iter().all(|(k, v)| need.get(k) <= *v)
}

/// Whether `n` has room left for `members` (always, when the placement
/// strategy ignores utilization).
pub fn has_room(cluster: &Cluster, a: &Assignment, n: NodeIdx, members: &[RscIdx]) -> bool {
    !cluster.options.placement_strategy.uses_capacity()
        || fits(cluster, a, n, &total(cluster, members))
}

/// Top-level resources that must run with `r` (mandatory colocations onto
/// it, transitively) and are not placed yet: they will need room there
/// too.
fn unplaced_dependents(cluster: &Cluster, a: &Assignment, r: RscIdx) -> Vec<RscIdx> {
    let mut seen = BTreeSet::from([r]);
    let mut todo = vec![r];
    let mut out = Vec::new();
    while let Some(p) = todo.pop() {
        for c in &cluster.colocations {
            let d = cluster.top_of(c.dependent);
            if c.score != Score::INFINITY || cluster.top_of(c.primary) != p || !seen.insert(d) {
                continue;
            }
            let mut prims = Vec::new();
            cluster.collect_primitives(d, &mut prims);
            if prims.iter().all(|m| a.node_of(*m).is_none()) {
                out.extend(prims);
                todo.push(d);
            }
        }
    }
    out
}

fn total(cluster: &Cluster, prims: &[RscIdx]) -> Utilization {
    let mut sum = Utilization::default();
    for &m in prims {
        sum.add(&cluster.rsc(m).utilization);
    }
    sum
}

/// Bans the nodes of `scores` that cannot hold `members` (with what must
/// follow them if some node can hold that too).
pub fn ban_insufficient(
    cluster: &Cluster,
    a: &Assignment,
    r: RscIdx,
    members: &[RscIdx],
    scores: &mut BTreeMap<NodeIdx, Score>,
) {
    let own = total(cluster, members);
    let mut with_followers = own.clone();
    with_followers.add(&total(cluster, &unplaced_dependents(cluster, a, r)));
    let usable: Vec<NodeIdx> = scores
        .iter()
        .filter(|(_, s)| s.value() >= 0)
        .map(|(n, _)| *n)
        .collect();
    let need = if usable.iter().any(|&n| fits(cluster, a, n, &with_followers)) {
        with_followers
    } else {
        own
    };
    for (n, s) in scores.iter_mut() {
        if !fits(cluster, a, *n, &need) {
            *s = Score::NEG_INFINITY;
        }
    }
}

/// Whether `n`, empty, would have room for `members` at all.
pub fn could_ever_hold(cluster: &Cluster, n: NodeIdx, members: &[RscIdx]) -> bool {
    let need = total(cluster, members);
    cluster
        .node(n)
        .capacity
        .0
        .iter()
        .all(|(k, v)| need.get(k) <= *v)
}

/// `balanced`: the node with more capacity left (attribute by attribute)
/// comes first.
pub fn compare_remaining(cluster: &Cluster, a: &Assignment, x: NodeIdx, y: NodeIdx) -> Ordering {
    let (rx, ry) = (remaining(cluster, a, x), remaining(cluster, a, y));
    let names: BTreeSet<&String> = rx.0.keys().chain(ry.0.keys()).collect();
    let balance: i64 = names
        .into_iter()
        .map(|k| match rx.get(k).cmp(&ry.get(k)) {
            Ordering::Greater => -1,
            Ordering::Less => 1,
            Ordering::Equal => 0,
        })
        .sum();
    balance.cmp(&0)
}

/// How strongly a top-level resource claims capacity; capacity is first
/// come, first served, so stronger claims are assigned first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Claim {
    priority: i32,
    /// Its score where it runs, if that node could hold it at all.
    where_it_runs: Option<Score>,
    /// Its best score anywhere.
    best: Option<Score>,
}

pub fn claim(cluster: &Cluster, a: &Assignment, r: RscIdx) -> Claim {
    let members = super::unit_members(cluster, r);
    let scores = super::scores::unit_scores(cluster, a, r, &members);
    let where_it_runs = members
        .iter()
        .find_map(|&m| cluster.rsc(m).status.current_node())
        .filter(|&n| could_ever_hold(cluster, n, &members))
        .and_then(|n| scores.get(&n).copied());
    Claim {
        priority: cluster.rsc(r).meta.priority,
        where_it_runs,
        best: scores.values().copied().max(),
    }
}
