//! `baton simulate -x FILE [-S] [-s]`: what the scheduler decides for a CIB,
//! printed in `crm_simulate`'s layout so the two can be compared line by
//! line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use baton_cib::Cib;
use baton_scheduler::EpochSeconds;
use baton_scheduler::unpack::{Cluster, NodeIdx, format_timestamp, parse_timestamp};
use baton_scheduler::{Action, ActionKind, Graph, Task};
use clap::Args;

use crate::cluster_status::Snapshot;
use crate::exit::Code;
use crate::output::{Format, print_json, print_text};

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The CIB to schedule: a `cibadmin -Q` dump or a scheduler test case.
    #[arg(short = 'x', long = "xml-file", value_name = "FILE")]
    pub xml_file: PathBuf,
    /// Also execute the transition, assuming every action succeeds, and
    /// show the cluster status that results.
    #[arg(short = 'S', long)]
    pub simulate: bool,
    /// Also show the allocation and promotion scores placement weighed,
    /// sorted as Pacemaker's regression files keep them.
    #[arg(short = 's', long = "show-scores")]
    pub show_scores: bool,
    /// Judge the CIB as of this time (ISO 8601, e.g. `2024-01-31 12:00:00Z`)
    /// instead of its `execution-date` or, without one, the time now.
    #[arg(short = 't', long = "set-datetime", value_name = "DATETIME")]
    pub set_datetime: Option<String>,
    /// Write the transition graph to FILE, in Pacemaker's XML (as
    /// `crm_simulate -G` does).
    #[arg(short = 'G', long = "save-graph", value_name = "FILE")]
    pub save_graph: Option<PathBuf>,
}

/// `--output json`: the summary lines as printed, with `-s` the score
/// lines, and with `-S` the graph's actions in execution order, each with
/// the actions it waits for.
#[derive(serde::Serialize)]
struct Report {
    transition_summary: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scores: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actions: Option<Vec<ActionReport>>,
}

#[derive(serde::Serialize)]
struct ActionReport {
    /// The action's id in the graph (as in `-G`'s XML).
    id: usize,
    /// start, stop, monitor, notify, stonith, running, ...
    task: String,
    /// The operation key its result is recorded under.
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<String>,
    #[serde(skip_serializing_if = "is_zero")]
    interval_ms: u64,
    /// A milestone or a stop implied by fencing: nothing is executed.
    pseudo: bool,
    /// Ids of the actions it waits for.
    inputs: Vec<usize>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

pub fn run(args: &SimulateArgs, format: Format) -> anyhow::Result<Code> {
    let path = &args.xml_file;
    let cib = read_cib(path)?;
    let (now, origin) = evaluation_time(args, &cib)?;
    let cluster = baton_scheduler::unpack::unpack(&cib, now)
        .with_context(|| format!("cannot schedule {}", path.display()))?;
    let schedule = if args.show_scores {
        baton_scheduler::schedule_with_scores
    } else {
        baton_scheduler::schedule
    };
    let transition =
        schedule(&cib, now).with_context(|| format!("cannot schedule {}", path.display()))?;
    if let Some(out) = &args.save_graph {
        let xml = baton_scheduler::graph::xml::render(&transition.graph, 0);
        std::fs::write(out, xml)
            .with_context(|| format!("cannot write the graph to {}", out.display()))?;
    }
    let order = if args.simulate {
        Some(execution_order(&transition.graph)?)
    } else {
        None
    };
    match format {
        Format::Json => print_json(&Report {
            transition_summary: transition
                .summary
                .iter()
                .map(|l| l.trim().to_owned())
                .collect(),
            scores: args
                .show_scores
                .then(|| transition.scores.iter().map(ToString::to_string).collect()),
            actions: order.map(|o| o.iter().map(|a| action_report(a)).collect::<Vec<_>>()),
        })?,
        Format::Text => {
            let agents = agents(&cib);
            let before = Snapshot::current(&cluster, &agents, unclean_online(&cib, &cluster));
            let mut text = String::new();
            if origin == TimeOrigin::ExecutionDate {
                let _ = writeln!(
                    text,
                    "Using the original execution date of: {}",
                    format_timestamp(now.0)
                );
            }
            let _ = write!(text, "Current cluster status:\n{}\n", before.render());
            // crm_simulate puts the scores between the status and the plan.
            if args.show_scores {
                text.push_str("Allocation Scores:\n");
                for line in &transition.scores {
                    let _ = writeln!(text, "  * {line}");
                }
                text.push('\n');
            }
            text.push_str("Transition Summary:\n");
            for line in &transition.summary {
                let _ = writeln!(text, "{line}");
            }
            if let Some(order) = order {
                text.push_str("\nExecuting Cluster Transition:\n");
                for action in order {
                    let _ = writeln!(text, "{}", action_line(action));
                }
                let after = before.after(&transition.graph);
                let _ = write!(text, "\nRevised Cluster Status:\n{}", after.render());
            }
            print_text(&text)?;
        }
    }
    Ok(Code::Success)
}

/// Where the time the CIB is judged at came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeOrigin {
    Given,
    ExecutionDate,
    WallClock,
}

/// `-t`, else the CIB's `execution-date`, else the time now: what
/// `crm_simulate` uses as "now".
fn evaluation_time(args: &SimulateArgs, cib: &Cib) -> anyhow::Result<(EpochSeconds, TimeOrigin)> {
    if let Some(text) = &args.set_datetime {
        let Some(t) = parse_timestamp(text) else {
            bail!("`{text}` is not an ISO 8601 date and time; write it like 2024-01-31 12:00:00Z");
        };
        return Ok((EpochSeconds(t), TimeOrigin::Given));
    }
    if let Some(t) =
        baton_scheduler::execution_date(cib).context("the CIB's execution-date is not a date")?
    {
        return Ok((t, TimeOrigin::ExecutionDate));
    }
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is set before 1970")?;
    let now = i64::try_from(since_epoch.as_secs()).context("the system clock is out of range")?;
    Ok((EpochSeconds(now), TimeOrigin::WallClock))
}

fn read_cib(path: &Path) -> anyhow::Result<Cib> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Cib::parse_bytes(&bytes).with_context(|| format!("{} is not a usable CIB", path.display()))
}

/// `class:provider:type` (or `class:type`) of every primitive, by id.
pub(crate) fn agents(cib: &Cib) -> BTreeMap<String, String> {
    cib.primitives()
        .map(|p| {
            let class = p.class().unwrap_or("");
            let agent = p.agent().unwrap_or("");
            let name = match p.provider() {
                Some(provider) => format!("{class}:{provider}:{agent}"),
                None => format!("{class}:{agent}"),
            };
            (p.id().to_owned(), name)
        })
        .collect()
}

/// Unclean nodes whose node_state still shows them in the membership.
pub(crate) fn unclean_online(cib: &Cib, cluster: &Cluster) -> BTreeSet<NodeIdx> {
    cib.node_states()
        .filter(|s| {
            s.in_ccm()
                .is_some_and(|v| v == "true" || v.parse::<u64>().is_ok_and(|t| t > 0))
                && s.crmd() == Some("online")
        })
        .filter_map(|s| cluster.node_by_name(s.uname()?))
        .filter(|&n| cluster.node(n).is_unclean())
        .collect()
}

/// The graph's actions in the order a controller that completes each at
/// once runs them: pass after pass over the graph, each action as soon as
/// everything it waits for is done.
fn execution_order(graph: &Graph) -> anyhow::Result<Vec<&Action>> {
    let mut done = vec![false; graph.actions.len()];
    let mut order = Vec::with_capacity(graph.actions.len());
    loop {
        let before = order.len();
        for a in &graph.actions {
            if !done[a.id.0] && a.inputs.iter().all(|i| done[i.0]) {
                done[a.id.0] = true;
                order.push(a);
            }
        }
        if order.len() == graph.actions.len() {
            return Ok(order);
        }
        if order.len() == before {
            bail!(
                "the scheduler produced a transition graph with a cycle; this is a bug in baton, please report it with the CIB"
            );
        }
    }
}

/// One line of "Executing Cluster Transition", as crm_simulate prints it.
fn action_line(action: &Action) -> String {
    let node = action.node.as_ref().map_or("", |n| &*n.name);
    match (action.kind, &action.task) {
        (_, Task::Stonith) => {
            let how = action.meta.get("stonith_action").map_or("", String::as_str);
            format!("  * Fencing {node} ({how})")
        }
        (ActionKind::Pseudo, _) => format!("  * Pseudo action:   {}", action.key),
        (ActionKind::ClusterEvent, task) => match &action.resource_id {
            Some(r) => format!("  * Cluster action:  {} for {r} on {node}", task.name()),
            None => format!("  * Cluster action:  {} on {node}", task.name()),
        },
        (ActionKind::ResourceOp, task) => {
            let rsc = action
                .resource
                .as_ref()
                .map_or("", |r| r.long_id.as_deref().unwrap_or(&r.id));
            let op = if action.interval_ms > 0 {
                format!("{}={}", task.name(), action.interval_ms)
            } else {
                task.name().to_owned()
            };
            format!("  * Resource action: {rsc:<15} {op} on {node}")
        }
    }
}

fn action_report(action: &Action) -> ActionReport {
    ActionReport {
        id: action.id.0,
        task: action.task.name().to_owned(),
        key: action.key.clone(),
        resource: action.resource_id.clone(),
        node: action.node.as_ref().map(|n| n.name.to_string()),
        interval_ms: action.interval_ms,
        pseudo: action.kind == ActionKind::Pseudo,
        inputs: action.inputs.iter().map(|i| i.0).collect(),
    }
}
