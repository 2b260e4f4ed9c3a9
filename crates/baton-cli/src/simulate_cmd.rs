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
use baton_scheduler::{Action, Graph, Task};
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
}

/// `--output json`: the summary lines as printed, with `-s` the score
/// lines, and with `-S` the actions in execution order.
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
    /// fence, demote, stop, start, promote or reload.
    task: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
    node: String,
    /// Implied by fencing the node; nothing is executed.
    pseudo: bool,
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
            actions: order.map(|o| {
                o.iter()
                    .map(|a| action_report(&cluster, a))
                    .collect::<Vec<_>>()
            }),
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
                    let _ = writeln!(text, "{}", action_line(&cluster, action));
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
fn agents(cib: &Cib) -> BTreeMap<String, String> {
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
fn unclean_online(cib: &Cib, cluster: &Cluster) -> BTreeSet<NodeIdx> {
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

/// The graph's actions in an order that respects every edge, blocked
/// actions left out: they never run.
fn execution_order(graph: &Graph) -> anyhow::Result<Vec<&Action>> {
    let Some(order) = graph.topological_order() else {
        bail!(
            "the scheduler produced a transition graph with a cycle; this is a bug in baton, please report it with the CIB"
        );
    };
    Ok(order
        .into_iter()
        .map(|id| &graph.actions[id.0])
        .filter(|a| !a.blocked)
        .collect())
}

fn task_name(task: Task) -> &'static str {
    match task {
        Task::Fence => "fence",
        Task::Demote => "demote",
        Task::Stop => "stop",
        Task::Start => "start",
        Task::Promote => "promote",
        Task::Reload => "reload",
    }
}

fn action_line(cluster: &Cluster, action: &Action) -> String {
    let node = &cluster.node(action.node).uname;
    let task = task_name(action.task);
    match action.rsc {
        None => format!("  * Fencing {node} ({})", cluster.options.fencing_action),
        Some(r) if action.pseudo => {
            format!("  * Pseudo action:   {}_{task}_0", cluster.rsc(r).id)
        }
        Some(r) => format!(
            "  * Resource action: {:<15} {task} on {node}",
            cluster.rsc(r).id
        ),
    }
}

fn action_report(cluster: &Cluster, action: &Action) -> ActionReport {
    ActionReport {
        task: task_name(action.task),
        resource: action.rsc.map(|r| cluster.rsc(r).id.clone()),
        node: cluster.node(action.node).uname.clone(),
        pseudo: action.pseudo,
    }
}
