//! `baton explain RSC`: why a resource runs where it runs, or why it does
//! not run, from the scheduler's own view of the CIB: where it runs now,
//! what the cluster plans for it, its allocation scores per node, and every
//! setting that weighs on them, each as a sentence with its numbers.

use std::path::Path;

use anyhow::Context;
use baton_cib::Cib;
use baton_scheduler::Transition;
use baton_scheduler::placement::score_log::{AssignStage, ScoreLine};
use baton_scheduler::unpack::{Cluster, NodeState, Role, RscIdx, RscKind};
use clap::Args;
use serde::Serialize;

use crate::cib_cmd::{CibArg, target};
use crate::exit::Code;
use crate::output::{Format, print_json, print_text};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    pub resource: String,
    #[command(flatten)]
    pub cib: CibArg,
}

#[derive(Debug, Serialize)]
struct Explanation {
    resource: String,
    running_on: Vec<String>,
    /// The Transition Summary lines about it.
    planned: Vec<String>,
    /// Its allocation score on each node, highest first.
    scores: Vec<NodeScore>,
    reasons: Vec<String>,
}

#[derive(Debug, Serialize)]
struct NodeScore {
    node: String,
    score: String,
}

pub fn run(args: &ExplainArgs, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let (cib, _) = target(&args.cib, socket_dir).load()?;
    let now = baton_scheduler::EpochSeconds(crate::status_cmd::wall_now());
    let cluster = baton_scheduler::unpack::unpack(&cib, now)
        .context("the CIB cannot be read by the scheduler")?;
    let transition = baton_scheduler::schedule_with_scores(&cib, now)
        .context("the scheduler cannot plan this CIB")?;
    let explanation = explain(&cib, &cluster, &transition, &args.resource)?;
    match format {
        Format::Json => print_json(&explanation)?,
        Format::Text => print_text(&render(&explanation))?,
    }
    Ok(Code::Success)
}

fn explain(
    cib: &Cib,
    cluster: &Cluster,
    transition: &Transition,
    id: &str,
) -> anyhow::Result<Explanation> {
    let Some(&r) = cluster.by_id.get(id) else {
        anyhow::bail!("there is no resource {id:?} in the configuration");
    };
    let mut primitives = Vec::new();
    cluster.collect_primitives(r, &mut primitives);
    let mut running_on: Vec<String> = primitives
        .iter()
        .flat_map(|&p| cluster.rsc(p).status.running.iter())
        .map(|(n, _)| cluster.node(*n).uname.clone())
        .collect();
    running_on.sort();
    running_on.dedup();
    let planned = transition
        .summary
        .iter()
        .filter(|line| names(line, id))
        .map(|line| line.trim().to_owned())
        .collect();
    // The scores that decide: a primitive's own; a group's first member's
    // (it places the group, with the members' stickiness added); a clone's.
    let (scored, stage) = match &cluster.rsc(r).kind {
        RscKind::Group { members } => (members.first().map_or(r, |&m| m), AssignStage::Primitive),
        RscKind::Clone(_) => (r, AssignStage::Clone),
        RscKind::Primitive => (r, AssignStage::Primitive),
    };
    let scored_id = cluster.rsc(scored).id.clone();
    let mut scores: Vec<(baton_cib::Score, String)> = transition
        .scores
        .iter()
        .filter_map(|line| match line {
            ScoreLine::Allocation {
                stage: line_stage,
                rsc,
                node,
                score,
            } if *rsc == scored_id && *line_stage == stage => Some((*score, node.clone())),
            _ => None,
        })
        .collect();
    scores.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scores.dedup_by(|a, b| a.1 == b.1);
    Ok(Explanation {
        resource: id.to_owned(),
        running_on,
        planned,
        scores: scores
            .into_iter()
            .map(|(score, node)| NodeScore {
                node,
                score: score.to_string(),
            })
            .collect(),
        reasons: reasons(cib, cluster, r, &primitives),
    })
}

/// Whether a summary line is about `id` (or an instance `id:N`).
fn names(line: &str, id: &str) -> bool {
    line.split_whitespace()
        .any(|w| w == id || w.strip_prefix(id).is_some_and(|rest| rest.starts_with(':')))
}

fn reasons(cib: &Cib, cluster: &Cluster, r: RscIdx, primitives: &[RscIdx]) -> Vec<String> {
    let rsc = cluster.rsc(r);
    let id = rsc.id.as_str();
    let mut out = Vec::new();
    if rsc.meta.target_role == Some(Role::Stopped) {
        out.push(format!(
            "target-role is Stopped: the cluster keeps it stopped (`baton resource start {id}` lets it run)"
        ));
    }
    if !rsc.meta.managed {
        out.push(format!(
            "it is unmanaged: the cluster neither starts, stops nor recovers it (`baton resource manage {id}`)"
        ));
    }
    if cluster.options.fencing_enabled && !cluster.has_fence_device {
        out.push("stonith-enabled is true but there is no fencing device: nothing may start (add a stonith resource, or set stonith-enabled=false)".to_owned());
    }
    if !cluster.have_quorum {
        out.push(format!(
            "this partition has no quorum: no-quorum-policy={} applies",
            format!("{:?}", cluster.options.no_quorum_policy).to_lowercase()
        ));
    }
    out.extend(locations(cib, id));
    for colocation in cluster.colocations.iter().filter(|c| c.dependent == r) {
        let primary = cluster.rsc(colocation.primary);
        out.push(format!(
            "colocation {}: {} with {}",
            colocation.id, colocation.score, primary.id
        ));
    }
    let stickiness = rsc.meta.stickiness;
    if stickiness != baton_cib::Score::ZERO && !primitives.is_empty() {
        out.push(format!(
            "resource-stickiness {stickiness} is added where it runs now"
        ));
    }
    for &p in primitives {
        let status = &cluster.rsc(p).status;
        let threshold = cluster.rsc(p).meta.migration_threshold;
        for (node, count) in &status.fail_counts {
            let name = &cluster.node(*node).uname;
            let banned = threshold > 0 && count.effective >= threshold;
            out.push(format!(
                "{name}: {} failure{} against migration-threshold {threshold}{}",
                count.effective,
                if count.effective == 1 { "" } else { "s" },
                if banned {
                    format!(": it may not run there until `baton resource cleanup {id} {name}`")
                } else {
                    String::new()
                }
            ));
        }
        for node in &status.banned {
            if !status.fail_counts.contains_key(node) {
                out.push(format!(
                    "{}: a hard error (such as a missing agent) keeps it off that node until `baton resource cleanup {id}`",
                    cluster.node(*node).uname
                ));
            }
        }
    }
    for node in &cluster.nodes {
        let name = &node.uname;
        let why = match &node.state {
            NodeState::Offline => Some("is offline".to_owned()),
            NodeState::Pending => Some("is still joining".to_owned()),
            NodeState::Unclean(reason) => Some(format!("must be fenced first ({reason})")),
            NodeState::Online if node.standby_on_fail => {
                Some("is in standby after a failure (on-fail=standby)".to_owned())
            }
            NodeState::Online if node.standby => Some("is in standby".to_owned()),
            NodeState::Online if node.maintenance => {
                Some("is in maintenance: the cluster leaves it alone".to_owned())
            }
            NodeState::Online => None,
        };
        if let Some(why) = why {
            out.push(format!("{name} {why}"));
        }
    }
    out
}

/// The location constraints that name `id`, with the hint for the ones
/// `resource move` and `ban` leave behind.
fn locations(cib: &Cib, id: &str) -> Vec<String> {
    let Some(constraints) = cib.section("constraints") else {
        return Vec::new();
    };
    constraints
        .children_named("rsc_location")
        .filter(|c| c.attr("rsc") == Some(id))
        .map(|c| {
            let cid = c.attr("id").unwrap_or_default();
            let sentence = match (c.attr("node"), c.attr("score")) {
                (Some(node), Some(score)) => format!("location {cid}: {score} on {node}"),
                _ => format!("location {cid}: decided by its rules"),
            };
            if cid.starts_with("cli-prefer-") || cid.starts_with("cli-ban-") {
                format!("{sentence} (left by `resource move`/`ban`; `baton resource clear {id}` removes it)")
            } else {
                sentence
            }
        })
        .collect()
}

fn render(e: &Explanation) -> String {
    let mut out = match e.running_on.as_slice() {
        [] => format!("{} is not running.\n", e.resource),
        nodes => format!("{} runs on {}.\n", e.resource, nodes.join(", ")),
    };
    if e.planned.is_empty() {
        out.push_str("The cluster plans nothing for it.\n");
    } else {
        out.push_str("The cluster plans:\n");
        for line in &e.planned {
            out.push_str(&format!("  {line}\n"));
        }
    }
    if !e.scores.is_empty() {
        let scores: Vec<String> = e
            .scores
            .iter()
            .map(|s| format!("{} {}", s.node, s.score))
            .collect();
        out.push_str(&format!(
            "Allocation scores (highest wins; -INFINITY never): {}\n",
            scores.join(", ")
        ));
    }
    if !e.reasons.is_empty() {
        out.push_str("What weighs on it:\n");
        for reason in &e.reasons {
            out.push_str(&format!("  - {reason}\n"));
        }
    }
    out
}
