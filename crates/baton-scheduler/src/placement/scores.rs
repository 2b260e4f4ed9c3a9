//! Node scores for one resource (or one group, whose members' preferences
//! add up, as they must share a node).

use std::collections::{BTreeMap, BTreeSet};

use baton_cib::Score;

use super::Assignment;
use crate::unpack::{Cluster, NodeIdx, Role, RscIdx, RscKind};

/// The nodes where the colocation primary `p` is (or will be), in the role
/// asked for.
pub fn primary_nodes(
    cluster: &Cluster,
    a: &Assignment,
    p: RscIdx,
    role: Option<Role>,
) -> BTreeSet<NodeIdx> {
    let mut prims = Vec::new();
    match &cluster.rsc(p).kind {
        // A group is where its first member is.
        RscKind::Group { members } => prims.extend(members.first().copied()),
        _ => cluster.collect_primitives(p, &mut prims),
    }
    prims
        .into_iter()
        // A failed instance that cannot be recovered is no place to follow.
        .filter(|m| {
            let status = &cluster.rsc(*m).status;
            !(status.failed && status.blocked)
        })
        .filter(|m| match role {
            Some(want) => a.role.get(m).is_some_and(|r| *r == want),
            None => true,
        })
        .filter_map(|m| a.node_of(m))
        .collect()
}

/// Adds colocation effects for dependent `r` (top level) to `scores`.
pub fn apply_colocations(
    cluster: &Cluster,
    a: &Assignment,
    r: RscIdx,
    scores: &mut BTreeMap<NodeIdx, Score>,
) {
    apply_colocations_where(cluster, a, r, scores, |_| true);
}

/// [`apply_colocations`] restricted to the constraints `which` accepts.
fn apply_colocations_where(
    cluster: &Cluster,
    a: &Assignment,
    r: RscIdx,
    scores: &mut BTreeMap<NodeIdx, Score>,
    which: impl Fn(Score) -> bool,
) {
    for c in &cluster.colocations {
        if cluster.top_of(c.dependent) != r || cluster.top_of(c.primary) == r || !which(c.score) {
            continue;
        }
        // Role-specific dependents are handled when choosing promotions;
        // a primary still being placed (a colocation cycle) cannot
        // constrain yet.
        let primary_top = cluster.top_of(c.primary);
        if matches!(c.dependent_role, Some(Role::Promoted | Role::Unpromoted))
            || (primary_top != r && a.in_progress.contains(&primary_top))
        {
            continue;
        }
        let on = primary_nodes(cluster, a, c.primary, c.primary_role);
        let advisory = !c.score.is_infinite();
        let mut work = scores.clone();
        for (n, s) in work.iter_mut() {
            let here = on.contains(n);
            if c.score == Score::INFINITY {
                if !here {
                    *s = Score::NEG_INFINITY;
                }
            } else if c.score == Score::NEG_INFINITY {
                if here {
                    *s = Score::NEG_INFINITY;
                }
            } else if here {
                *s = *s + c.score;
            }
        }
        // An advisory colocation may not leave the resource nowhere to run.
        if advisory && !work.values().any(|s| s.value() >= 0) {
            continue;
        }
        *scores = work;
    }
}

/// Location preferences of `r` itself and of each of `members`, stickiness
/// and bans. `None` for a node means "not allowed" (asymmetric clusters).
pub fn base_scores(
    cluster: &Cluster,
    r: RscIdx,
    members: &[RscIdx],
    with_stickiness: bool,
) -> BTreeMap<NodeIdx, Score> {
    let mut allowed = preferences(cluster, r, members, with_stickiness);
    for (n, s) in allowed.iter_mut() {
        if !cluster.node(*n).can_run() {
            *s = Score::NEG_INFINITY;
        }
    }
    allowed
}

/// [`base_scores`] before unusable nodes are ruled out: what the
/// constraints alone say, as `crm_simulate -s` shows it for such nodes.
pub fn preferences(
    cluster: &Cluster,
    r: RscIdx,
    members: &[RscIdx],
    with_stickiness: bool,
) -> BTreeMap<NodeIdx, Score> {
    let mut allowed: BTreeMap<NodeIdx, Score> = BTreeMap::new();
    let symmetric = cluster.options.symmetric;
    let mut subjects: Vec<RscIdx> = vec![r];
    subjects.extend(members.iter().copied().filter(|m| *m != r));
    // Instances also follow their clone's (and group's) constraints.
    let mut up = cluster.rsc(r).parent;
    while let Some(p) = up {
        subjects.push(p);
        up = cluster.rsc(p).parent;
    }
    for n in 0..cluster.nodes.len() {
        if symmetric {
            allowed.insert(NodeIdx(n), Score::ZERO);
        }
    }
    for l in &cluster.locations {
        if l.promoted_only || !subjects.contains(&l.rsc) {
            continue;
        }
        let e = allowed.entry(l.node).or_insert(Score::ZERO);
        *e = *e + l.score;
    }
    for (n, s) in allowed.iter_mut() {
        for &m in members {
            let rsc = cluster.rsc(m);
            if rsc.status.banned.contains(n) {
                *s = Score::NEG_INFINITY;
            }
            if with_stickiness
                && rsc.meta.managed
                && rsc.status.running.len() == 1
                && rsc.status.current_node() == Some(*n)
            {
                *s = *s + rsc.meta.stickiness;
            }
        }
    }
    allowed
}

pub fn unit_scores(
    cluster: &Cluster,
    a: &Assignment,
    r: RscIdx,
    members: &[RscIdx],
) -> BTreeMap<NodeIdx, Score> {
    let mut visited = BTreeSet::new();
    with_dependents(cluster, a, r, members, &mut visited, true)
}

/// `r`'s own scores with the preferences of the resources colocated with
/// it folded in, weighted by colocation score / INFINITY, so a primary
/// goes where its dependents can follow. A dependent whose preferences
/// would leave the primary nowhere to run is ignored.
fn with_dependents(
    cluster: &Cluster,
    a: &Assignment,
    r: RscIdx,
    members: &[RscIdx],
    visited: &mut BTreeSet<RscIdx>,
    top: bool,
) -> BTreeMap<NodeIdx, Score> {
    visited.insert(r);
    let mut scores = group_scores(cluster, a, r, members, top);
    for c in &cluster.colocations {
        let d = cluster.top_of(c.dependent);
        if cluster.top_of(c.primary) != r
            || visited.contains(&d)
            || c.dependent_role.is_some()
            || c.primary_role.is_some()
            || c.score.value() <= 0
            || !matches!(
                cluster.rsc(d).kind,
                RscKind::Primitive | RscKind::Group { .. }
            )
        {
            continue;
        }
        let d_members = super::unit_members(cluster, d);
        if d_members.iter().any(|m| a.node_of(*m).is_some()) {
            continue;
        }
        let theirs = with_dependents(cluster, a, d, &d_members, visited, false);
        let factor = f64::from(c.score.value()) / f64::from(Score::INFINITY_VALUE);
        let mut merged = scores.clone();
        for (n, s) in merged.iter_mut() {
            let Some(&t) = theirs.get(n) else {
                continue;
            };
            *s = if *s == Score::NEG_INFINITY {
                *s
            } else if t == Score::NEG_INFINITY {
                if factor >= 1.0 { t } else { *s }
            } else {
                #[allow(clippy::cast_possible_truncation)]
                let w = (f64::from(t.value()) * factor).round() as i64;
                *s + Score::new(w)
            };
        }
        if merged.values().any(|s| s.value() >= 0) {
            scores = merged;
        }
    }
    scores
}

/// A group is placed by its first member; each later member adds its own
/// preferences (it is colocated with the one before), unless they would
/// leave the group nowhere to run, in which case that member alone stops.
///
/// The group's own colocations (when `with_colocations`) apply before the
/// later members are folded in, so a member that cannot follow them stops
/// alone rather than taking the group down.
fn group_scores(
    cluster: &Cluster,
    a: &Assignment,
    r: RscIdx,
    members: &[RscIdx],
    with_colocations: bool,
) -> BTreeMap<NodeIdx, Score> {
    let Some((first, rest)) = members.split_first() else {
        return base_scores(cluster, r, members, true);
    };
    let mut acc = base_scores(cluster, r, &[*first], true);
    // Mandatory colocations bind the whole group before members are
    // folded in; advisory ones are weighed after (and dropped if they
    // would leave nowhere to run).
    if with_colocations {
        apply_colocations_where(cluster, a, r, &mut acc, Score::is_infinite);
    }
    for &m in rest {
        let rsc = cluster.rsc(m);
        let mut merged = acc.clone();
        for (n, s) in merged.iter_mut() {
            for l in &cluster.locations {
                if l.rsc == m && l.node == *n && !l.promoted_only {
                    *s = *s + l.score;
                }
            }
            if rsc.status.banned.contains(n) {
                *s = Score::NEG_INFINITY;
            }
            if rsc.meta.managed
                && rsc.status.running.len() == 1
                && rsc.status.current_node() == Some(*n)
            {
                *s = *s + rsc.meta.stickiness;
            }
        }
        if merged.values().any(|s| s.value() >= 0) {
            acc = merged;
        }
    }
    if with_colocations {
        apply_colocations_where(cluster, a, r, &mut acc, |s| !s.is_infinite());
    }
    acc
}
