//! Clone instances: running instances stay where they are when allowed,
//! the rest spread over the best nodes (at most clone-node-max per node),
//! then promotable clones choose which instances to promote.

use std::collections::BTreeMap;

use baton_cib::Score;

use super::score_log;
use super::scores::{apply_colocations, base_scores, primary_nodes};
use super::{Assignment, node_name_cmp, unit_members};
use crate::unpack::{CloneInfo, Cluster, NodeIdx, Role, RscIdx, RscKind};

fn info(cluster: &Cluster, r: RscIdx) -> Option<&CloneInfo> {
    match &cluster.rsc(r).kind {
        RscKind::Clone(c) => Some(c),
        _ => None,
    }
}

/// Puts every member of `inst` on `n`, stopping at a member that may not run.
fn place_instance(cluster: &Cluster, a: &mut Assignment, inst: RscIdx, n: NodeIdx) {
    for m in unit_members(cluster, inst) {
        let rsc = cluster.rsc(m);
        if !super::may_run(rsc) || rsc.status.banned.contains(&n) {
            break;
        }
        a.place(cluster, m, n);
        a.role.insert(m, Role::Started);
    }
}

pub fn assign(cluster: &Cluster, a: &mut Assignment, r: RscIdx) {
    let Some(info) = info(cluster, r) else { return };
    let Some(&first) = info.instances.first() else {
        return;
    };
    let mut scores = base_scores(cluster, first, &unit_members(cluster, first), false);
    apply_colocations(cluster, a, r, &mut scores);
    let mut per_node: BTreeMap<NodeIdx, usize> = BTreeMap::new();
    let mut placed = 0usize;
    let usable_nodes = scores.values().filter(|s| s.value() >= 0).count();
    let fair_share = info.clone_max.div_ceil(usable_nodes.max(1)).max(1);
    let running_instances = info
        .instances
        .iter()
        .filter(|&&i| {
            unit_members(cluster, i)
                .iter()
                .any(|&m| !cluster.rsc(m).status.running.is_empty())
        })
        .count();
    let free_instances = info.clone_max.saturating_sub(running_instances);
    let mut pending = Vec::new();
    for &inst in &info.instances {
        let members = unit_members(cluster, inst);
        let unmanaged = members
            .iter()
            .any(|&m| !cluster.rsc(m).meta.managed || cluster.rsc(m).status.blocked);
        let current = members
            .iter()
            .find_map(|&m| cluster.rsc(m).status.current_node());
        if unmanaged {
            for &m in &members {
                if let Some(n) = cluster.rsc(m).status.current_node() {
                    a.place(cluster, m, n);
                    a.role.insert(m, cluster.rsc(m).status.role());
                }
            }
            if let Some(n) = current {
                *per_node.entry(n).or_default() += 1;
                placed += 1;
            }
            continue;
        }
        // An instance stays where it runs only while that node holds no
        // more than its fair share, and no other node is preferred.
        let fits = |n: NodeIdx, per_node: &BTreeMap<NodeIdx, usize>| {
            per_node.get(&n).copied().unwrap_or(0) < info.clone_node_max.min(fair_share)
        };
        let banned_here = |n: NodeIdx| {
            members
                .iter()
                .any(|&m| cluster.rsc(m).status.banned.contains(&n))
        };
        let stickiness = members
            .first()
            .map_or(Score::ZERO, |&m| cluster.rsc(m).meta.stickiness);
        // Nodes preferred over `n` that the instances not yet running
        // could not all cover: this instance is needed there.
        let outranked = |n: NodeIdx, here: Score| {
            let better = scores
                .iter()
                .filter(|(m, s)| **m != n && !banned_here(**m) && **s > here + stickiness)
                .count();
            better > free_instances
        };
        // A failed instance is recovered wherever it fits best.
        let failed = members.iter().any(|&m| cluster.rsc(m).status.failed);
        match current {
            Some(n)
                if placed < info.clone_max
                    && !failed
                    && scores
                        .get(&n)
                        .is_some_and(|s| s.value() >= 0 && !outranked(n, *s))
                    && !banned_here(n)
                    && fits(n, &per_node)
                    && super::capacity::has_room(cluster, a, n, &members) =>
            {
                place_instance(cluster, a, inst, n);
                *per_node.entry(n).or_default() += 1;
                placed += 1;
            }
            _ => pending.push(inst),
        }
    }
    {
        for inst in pending {
            if placed >= info.clone_max {
                break;
            }
            let members = unit_members(cluster, inst);
            let best = scores
                .iter()
                .filter(|(n, s)| {
                    s.value() >= 0
                        && per_node.get(n).copied().unwrap_or(0) < info.clone_node_max
                        && !members
                            .iter()
                            .any(|&m| cluster.rsc(m).status.banned.contains(n))
                        && super::capacity::has_room(cluster, a, **n, &members)
                })
                .max_by(|(n1, s1), (n2, s2)| {
                    let c1 = per_node.get(n1).copied().unwrap_or(0);
                    let c2 = per_node.get(n2).copied().unwrap_or(0);
                    let l1 = a.count.get(n1).copied().unwrap_or(0);
                    let l2 = a.count.get(n2).copied().unwrap_or(0);
                    s1.cmp(s2)
                        .then(c2.cmp(&c1))
                        .then(l2.cmp(&l1))
                        .then_with(|| {
                            node_name_cmp(&cluster.node(**n2).uname, &cluster.node(**n1).uname)
                        })
                })
                .map(|(n, _)| *n);
            let Some(n) = best else { break };
            place_instance(cluster, a, inst, n);
            *per_node.entry(n).or_default() += 1;
            placed += 1;
        }
    }
    score_log::record_clone(cluster, a, r, info, &scores);
    if info.promotable {
        promote(cluster, a, r, info);
    }
}

/// The promotion score of instance primitive `m` on node `n`; `None` when
/// the agent has not set one (such an instance is never promoted).
pub(super) fn promotion_score(cluster: &Cluster, m: RscIdx, n: NodeIdx) -> Option<Score> {
    let rsc = cluster.rsc(m);
    let node = cluster.node(n);
    // Where it already runs, the agent set the score under the name the
    // instance has there.
    if let Some(name) = rsc.status.history_name.get(&n) {
        return [format!("master-{name}"), format!("master-{}", rsc.base_id)]
            .iter()
            .find_map(|k| node.attrs.get(k))
            .and_then(|v| v.parse::<Score>().ok());
    }
    let names = [
        format!("master-{}", rsc.base_id),
        format!("master-{}", rsc.id),
        format!("promotion-{}", rsc.base_id),
    ];
    // Anonymous instances are interchangeable, so a score recorded under
    // any instance number on this node counts.
    let any_instance = format!("master-{}:", rsc.base_id);
    names
        .iter()
        .find_map(|k| node.attrs.get(k))
        .or_else(|| {
            node.attrs
                .iter()
                .find(|(k, _)| k.starts_with(&any_instance))
                .map(|(_, v)| v)
        })
        .and_then(|v| v.parse::<Score>().ok())
}

fn promote(cluster: &Cluster, a: &mut Assignment, r: RscIdx, info: &CloneInfo) {
    let mut candidates: Vec<(Score, bool, usize, RscIdx, NodeIdx)> = Vec::new();
    let mut weighed = Vec::new();
    for (i, &inst) in info.instances.iter().enumerate() {
        let members = unit_members(cluster, inst);
        let Some(&lead) = members.first() else {
            continue;
        };
        let Some(n) = a.node_of(lead) else {
            weighed.push((inst, None, Score::NEG_INFINITY));
            continue;
        };
        if !cluster.rsc(lead).meta.managed {
            continue;
        }
        if cluster
            .rsc(lead)
            .meta
            .target_role
            // Started is the default and does not limit promotion.
            .is_some_and(|t| matches!(t, Role::Stopped | Role::Unpromoted))
            || cluster.rsc(lead).status.promotion_banned.contains(&n)
        {
            weighed.push((inst, Some(n), Score::NEG_INFINITY));
            continue;
        }
        // Promoted here, where it stays (a move starts it afresh).
        let was_promoted = cluster
            .rsc(lead)
            .status
            .running
            .iter()
            .any(|&(m, role)| m == n && role == Role::Promoted);
        let score = members
            .iter()
            .filter_map(|&m| promotion_score(cluster, m, n))
            .fold(None, |acc: Option<Score>, s| {
                Some(acc.unwrap_or(Score::ZERO) + s)
            });
        // Without a score from the agent, only constraints can make an
        // instance promotable (a promoted one may stay so).
        // Colocations only weigh instances the agent (or history) already
        // deems promotable.
        let weighs_colocations = score.is_some() || was_promoted;
        let mut score = score.unwrap_or(if was_promoted {
            Score::ZERO
        } else {
            Score::new(-1)
        });
        for l in &cluster.locations {
            if l.promoted_only && l.node == n && (l.rsc == r || l.rsc == inst) {
                score = score + l.score;
            }
        }
        for c in &cluster.colocations {
            if cluster.top_of(c.dependent) != r {
                continue;
            }
            // Where an unpromoted instance must be with the primary, an
            // instance elsewhere can only stay if it is promoted.
            if c.dependent_role == Some(Role::Unpromoted) && c.score == Score::INFINITY {
                let on = primary_nodes(cluster, a, c.primary, c.primary_role);
                score = if on.contains(&n) {
                    Score::NEG_INFINITY
                } else {
                    score + Score::INFINITY
                };
                continue;
            }
            if c.dependent_role != Some(Role::Promoted) {
                continue;
            }
            let on = primary_nodes(cluster, a, c.primary, c.primary_role);
            let here = on.contains(&n);
            if c.score == Score::INFINITY && !here || c.score == Score::NEG_INFINITY && here {
                score = Score::NEG_INFINITY;
            } else if here && weighs_colocations {
                score = score + c.score;
            }
        }
        weighed.push((inst, Some(n), score));
        if score.value() < 0 {
            continue;
        }
        candidates.push((score, was_promoted, i, lead, n));
    }
    score_log::record_promotions(cluster, a, &weighed);
    candidates.sort_by(|x, y| y.0.cmp(&x.0).then(y.1.cmp(&x.1)).then(x.2.cmp(&y.2)));
    let mut promoted = 0usize;
    let mut per_node: BTreeMap<NodeIdx, usize> = BTreeMap::new();
    for &inst in &info.instances {
        for m in unit_members(cluster, inst) {
            if a.node_of(m).is_some() && cluster.rsc(m).meta.managed {
                a.role.insert(m, Role::Unpromoted);
            }
        }
    }
    for (_, _, i, _, n) in candidates {
        if promoted >= info.promoted_max {
            break;
        }
        let here = per_node.entry(n).or_default();
        if *here >= info.promoted_node_max {
            continue;
        }
        *here += 1;
        for m in unit_members(cluster, info.instances[i]) {
            if a.node_of(m).is_some() {
                a.role.insert(m, Role::Promoted);
            }
        }
        promoted += 1;
    }
}
