//! The node scores placement weighed, kept as `crm_simulate -s` prints
//! them so the two can be compared line by line.
//!
//! Recording only reads what placement computed; it never feeds back into a
//! decision. The stage names are Pacemaker's function names because that is
//! how its regression files (`scores/NAME.scores`) label each line.

use std::collections::BTreeMap;
use std::fmt;

use baton_cib::Score;

use super::Assignment;
use super::scores::preferences;
use crate::unpack::{CloneInfo, Cluster, NodeIdx, RscIdx, RscKind};

/// Which kind of resource a line of allocation scores was weighed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AssignStage {
    Primitive,
    Group,
    Clone,
}

impl AssignStage {
    fn label(self) -> &'static str {
        match self {
            AssignStage::Primitive => "pcmk__primitive_assign",
            AssignStage::Group => "pcmk__group_assign",
            AssignStage::Clone => "pcmk__clone_assign",
        }
    }
}

/// One line of `crm_simulate -s` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoreLine {
    /// A resource's score on one node when it (or its parent) was assigned.
    Allocation {
        stage: AssignStage,
        rsc: String,
        node: String,
        score: Score,
    },
    /// How much a promotable clone's instance wants to be promoted where it
    /// was placed; `node` is `None` for an instance placed nowhere.
    Promotion {
        rsc: String,
        node: Option<String>,
        score: Score,
    },
}

impl fmt::Display for ScoreLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScoreLine::Allocation {
                stage,
                rsc,
                node,
                score,
            } => write!(
                f,
                "{}: {rsc} allocation score on {node}: {score}",
                stage.label()
            ),
            ScoreLine::Promotion {
                rsc,
                node: Some(node),
                score,
            } => write!(f, "{rsc} promotion score on {node}: {score}"),
            ScoreLine::Promotion {
                rsc,
                node: None,
                score,
            } => write!(f, "{rsc} promotion score (inactive): {score}"),
        }
    }
}

/// Sorts `lines` by their text, the order the regression files keep them in,
/// so the output does not depend on the order resources were assigned in.
pub fn sorted(mut lines: Vec<ScoreLine>) -> Vec<ScoreLine> {
    lines.sort_by_cached_key(ToString::to_string);
    lines
}

/// Records `scores` as `r`'s allocation scores at `stage`.
pub fn record(
    cluster: &Cluster,
    a: &mut Assignment,
    stage: AssignStage,
    r: RscIdx,
    scores: &BTreeMap<NodeIdx, Score>,
) {
    if !a.record_scores {
        return;
    }
    for (&n, &score) in scores {
        a.score_lines.push(ScoreLine::Allocation {
            stage,
            rsc: cluster.rsc(r).id.clone(),
            node: cluster.node(n).uname.clone(),
            score,
        });
    }
}

/// An instance's promotion score on the node it was placed on (`None`:
/// placed nowhere).
pub type Weighed = (RscIdx, Option<NodeIdx>, Score);

/// Records the promotion scores of a clone's instances, each weighed on the
/// node it was placed on (`None`: placed nowhere). Promotable instances
/// sharing a node are shown with the node's total, as the choice is made per
/// node; one that cannot be promoted keeps its own (negative) score.
pub fn record_promotions(cluster: &Cluster, a: &mut Assignment, weighed: &[Weighed]) {
    if !a.record_scores {
        return;
    }
    let mut node_total: BTreeMap<NodeIdx, Score> = BTreeMap::new();
    for &(_, n, score) in weighed {
        if let Some(n) = n
            && score.value() >= 0
        {
            let total = node_total.entry(n).or_insert(Score::ZERO);
            *total = *total + score;
        }
    }
    for &(inst, n, score) in weighed {
        let shown = match n.and_then(|n| node_total.get(&n)) {
            Some(&total) if score.value() >= 0 => total,
            _ => score,
        };
        a.score_lines.push(ScoreLine::Promotion {
            rsc: cluster.rsc(inst).id.clone(),
            node: n.map(|n| cluster.node(n).uname.clone()),
            score: shown,
        });
    }
}

/// What `crm_simulate` shows for a resource weighed with `scores`: a node
/// that cannot host anything (offline, standby) keeps what the constraints
/// say, as availability is checked only when choosing; a resource that must
/// stay stopped (target-role Stopped, on-fail=stop) is out everywhere.
fn shown(
    cluster: &Cluster,
    r: RscIdx,
    members: &[RscIdx],
    scores: &BTreeMap<NodeIdx, Score>,
) -> BTreeMap<NodeIdx, Score> {
    let stays_stopped = members.first().is_some_and(|&m| kept_stopped(cluster, m));
    let constraints_only = preferences(cluster, r, members, true);
    let mut shown: BTreeMap<NodeIdx, Score> = scores
        .iter()
        .map(|(&n, &s)| {
            let s = if stays_stopped {
                Score::NEG_INFINITY
            } else if cluster.node(n).can_run() {
                s
            } else {
                constraints_only.get(&n).copied().unwrap_or(s)
            };
            (n, s)
        })
        .collect();
    unmanaged_pins(cluster, members, &mut shown);
    stop_failure_bans(cluster, members, &mut shown);
    shown
}

/// Records a primitive (not in a group or clone) weighed with `scores`.
pub fn record_primitive(
    cluster: &Cluster,
    a: &mut Assignment,
    r: RscIdx,
    scores: &BTreeMap<NodeIdx, Score>,
) {
    if !a.record_scores {
        return;
    }
    let scores = shown(cluster, r, &[r], scores);
    record(cluster, a, AssignStage::Primitive, r, &scores);
}

/// Placement leaves `m` stopped whatever the scores say.
fn kept_stopped(cluster: &Cluster, m: RscIdx) -> bool {
    !super::may_run(cluster.rsc(m))
}

/// Something placement must leave alone (unmanaged, in maintenance, or
/// blocked by a failure) is shown pinned to the node it runs on.
fn unmanaged_pins(cluster: &Cluster, members: &[RscIdx], scores: &mut BTreeMap<NodeIdx, Score>) {
    for &m in members {
        let rsc = cluster.rsc(m);
        let left_alone = !rsc.meta.managed || rsc.status.blocked;
        if let (true, [(n, _)]) = (left_alone, rsc.status.running.as_slice())
            && let Some(s) = scores.get_mut(n)
        {
            *s = *s + Score::INFINITY;
        }
    }
}

/// The agent's promotion score counts toward a promotable instance's
/// allocation: where it runs, or on every usable node while it runs nowhere.
fn agent_promotion_score(
    cluster: &Cluster,
    info: &CloneInfo,
    members: &[RscIdx],
    n: NodeIdx,
) -> Score {
    if !info.promotable || !cluster.node(n).can_run() {
        return Score::ZERO;
    }
    members
        .iter()
        .filter(|&&m| {
            let running = &cluster.rsc(m).status.running;
            running.is_empty() || running.iter().any(|&(at, _)| at == n)
        })
        .filter_map(|&m| super::clone::promotion_score(cluster, m, n))
        .fold(Score::ZERO, |acc, s| acc + s)
}

/// A failed stop bans the resource from that node.
fn stop_failure_bans(cluster: &Cluster, members: &[RscIdx], scores: &mut BTreeMap<NodeIdx, Score>) {
    for (n, s) in scores.iter_mut() {
        if members
            .iter()
            .any(|&m| cluster.rsc(m).status.stop_failed_on.contains(n))
        {
            *s = Score::NEG_INFINITY;
        }
    }
}

/// What a member alone adds on each node: its own location preferences,
/// its stickiness where it runs, and bans.
fn own_scores(cluster: &Cluster, m: RscIdx, nodes: &[NodeIdx]) -> BTreeMap<NodeIdx, Score> {
    let rsc = cluster.rsc(m);
    let mut own = nodes
        .iter()
        .map(|&n| {
            let mut s = cluster
                .locations
                .iter()
                .filter(|l| l.rsc == m && l.node == n && !l.promoted_only)
                .fold(Score::ZERO, |acc, l| acc + l.score);
            if rsc.status.banned.contains(&n) || rsc.status.stop_failed_on.contains(&n) {
                s = Score::NEG_INFINITY;
            }
            if rsc.meta.managed
                && rsc.status.running.len() == 1
                && rsc.status.current_node() == Some(n)
            {
                s = s + rsc.meta.stickiness;
            }
            (n, s)
        })
        .collect::<BTreeMap<_, _>>();
    unmanaged_pins(cluster, &[m], &mut own);
    own
}

/// The lines for a group on its own (not a clone instance) weighed with
/// `scores`.
pub fn record_unit_group(
    cluster: &Cluster,
    a: &mut Assignment,
    g: RscIdx,
    members: &[RscIdx],
    scores: &BTreeMap<NodeIdx, Score>,
) {
    if !a.record_scores {
        return;
    }
    let first_scores = shown(cluster, g, members, scores);
    record_group(cluster, a, g, members, &first_scores);
}

/// The lines for a group (`g`, members `members`) whose first member is
/// shown with `first_scores`: the group and each member before
/// assignment, then each member as it is assigned. A later member is bound
/// to the node of the one before it and carries the preferences of those
/// after it, as each is colocated with its predecessor.
fn record_group(
    cluster: &Cluster,
    a: &mut Assignment,
    g: RscIdx,
    members: &[RscIdx],
    first_scores: &BTreeMap<NodeIdx, Score>,
) {
    let group_own = preferences(cluster, g, &[], false);
    record(cluster, a, AssignStage::Group, g, &group_own);
    for &m in members {
        let mut member_scores = preferences(cluster, m, &[m], true);
        unmanaged_pins(cluster, &[m], &mut member_scores);
        stop_failure_bans(cluster, &[m], &mut member_scores);
        record(cluster, a, AssignStage::Group, m, &member_scores);
    }
    let nodes: Vec<NodeIdx> = first_scores.keys().copied().collect();
    let owns: Vec<_> = members
        .iter()
        .map(|&m| own_scores(cluster, m, &nodes))
        .collect();
    for (i, &m) in members.iter().enumerate() {
        let scores = match i.checked_sub(1).and_then(|p| members.get(p)) {
            None => first_scores.clone(),
            Some(&previous) => {
                let with = a.node_of(previous);
                nodes
                    .iter()
                    .map(|&n| {
                        let s = if with == Some(n) && !kept_stopped(cluster, m) {
                            owns.iter().skip(i).fold(
                                group_own.get(&n).copied().unwrap_or(Score::ZERO),
                                |acc, own| acc + own.get(&n).copied().unwrap_or(Score::ZERO),
                            )
                        } else {
                            Score::NEG_INFINITY
                        };
                        (n, s)
                    })
                    .collect()
            }
        };
        record(cluster, a, AssignStage::Primitive, m, &scores);
    }
}

/// Records what a clone `c` weighed: the clone's scores and each instance's
/// (the clone's plus the stickiness of what already runs) with everything
/// inside it, then each instance primitive as it was assigned, where nodes
/// already holding clone-node-max earlier instances are out.
pub fn record_clone(
    cluster: &Cluster,
    a: &mut Assignment,
    c: RscIdx,
    info: &CloneInfo,
    scores: &BTreeMap<NodeIdx, Score>,
) {
    if !a.record_scores {
        return;
    }
    let clone_constraints = preferences(cluster, c, &[], false);
    let clone_scores: BTreeMap<NodeIdx, Score> = scores
        .iter()
        .map(|(&n, &s)| {
            let s = if cluster.node(n).can_run() {
                s
            } else {
                clone_constraints.get(&n).copied().unwrap_or(s)
            };
            (n, s)
        })
        .collect();
    record(cluster, a, AssignStage::Clone, c, &clone_scores);
    let mut earlier: BTreeMap<NodeIdx, usize> = BTreeMap::new();
    for &inst in &info.instances {
        let members = super::unit_members(cluster, inst);
        let mut with_stickiness: BTreeMap<NodeIdx, Score> = clone_scores
            .iter()
            .map(|(&n, &s)| {
                let sticky = members
                    .iter()
                    .map(|&m| cluster.rsc(m))
                    .filter(|rsc| {
                        rsc.meta.managed
                            && rsc.status.running.len() == 1
                            && rsc.status.current_node() == Some(n)
                    })
                    .fold(s, |acc, rsc| acc + rsc.meta.stickiness);
                (
                    n,
                    sticky + agent_promotion_score(cluster, info, &members, n),
                )
            })
            .collect();
        unmanaged_pins(cluster, &members, &mut with_stickiness);
        record(cluster, a, AssignStage::Clone, inst, &with_stickiness);
        if matches!(cluster.rsc(inst).kind, RscKind::Group { .. }) {
            for &m in &members {
                record(cluster, a, AssignStage::Clone, m, &with_stickiness);
            }
        }
        // Unlike a primitive on its own, an instance is shown out of the
        // nodes that cannot take it: those are ruled out before it is
        // weighed.
        let stays_stopped = members.first().is_some_and(|&m| kept_stopped(cluster, m));
        let mut available: BTreeMap<NodeIdx, Score> = with_stickiness
            .iter()
            .map(|(&n, &s)| {
                let full = earlier.get(&n).copied().unwrap_or(0) >= info.clone_node_max;
                let banned = members
                    .iter()
                    .any(|&m| cluster.rsc(m).status.banned.contains(&n));
                let out = full || banned || stays_stopped || !cluster.node(n).can_run();
                (n, if out { Score::NEG_INFINITY } else { s })
            })
            .collect();
        stop_failure_bans(cluster, &members, &mut available);
        if matches!(cluster.rsc(inst).kind, RscKind::Group { .. }) {
            record_group(cluster, a, inst, &members, &available);
        } else {
            record(cluster, a, AssignStage::Primitive, inst, &available);
        }
        if let Some(n) = members.first().and_then(|&m| a.node_of(m)) {
            *earlier.entry(n).or_default() += 1;
        }
    }
}
