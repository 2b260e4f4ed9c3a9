//! `baton resource cleanup|refresh|failcount`, as `crm resource` does them
//! (through `crm_resource --cleanup`/`--refresh` and `crm_failcount`):
//! what to clear is chosen from the live CIB, and the cluster clears it
//! everywhere at once, after which the DC probes the resources again.

use std::path::Path;

use baton_configure::{CleanupScope, cleanup_targets};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::exit::Code;
use crate::live::Live;
use crate::output::{Format, print_json, print_text};

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// The resource (a group or clone cleans its members); every resource
    /// when left out.
    pub resource: Option<String>,
    /// Only on this node.
    pub node: Option<String>,
}

#[derive(Debug, Args)]
pub struct FailcountArgs {
    pub resource: String,
    pub action: FailcountAction,
    pub node: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailcountAction {
    /// How many failures count against the resource on the node.
    Show,
    /// Forget them (a clean-up of the resource on the node).
    Delete,
}

#[derive(Serialize)]
struct CleanedJson<'a> {
    cleaned: &'a [TargetJson],
}

#[derive(Serialize)]
struct TargetJson {
    resource: String,
    node: String,
}

#[derive(Serialize)]
struct FailcountJson<'a> {
    resource: &'a str,
    node: &'a str,
    count: String,
}

/// `cleanup` (what failed) or `refresh` (everything).
pub fn clean(
    args: &CleanupArgs,
    scope: CleanupScope,
    socket_dir: &Path,
    format: Format,
) -> anyhow::Result<Code> {
    let live = Live::new(socket_dir);
    let (cib, _) = live.cib()?;
    let targets = cleanup_targets(&cib, args.resource.as_deref(), args.node.as_deref(), scope)?;
    if !targets.is_empty() {
        live.cleanup(&targets)?;
    }
    let cleaned: Vec<TargetJson> = targets
        .into_iter()
        .map(|t| TargetJson {
            resource: t.resource,
            node: t.node,
        })
        .collect();
    match format {
        Format::Json => print_json(&CleanedJson { cleaned: &cleaned })?,
        Format::Text if cleaned.is_empty() => {
            let what = args.resource.as_deref().unwrap_or("any resource");
            let nothing = match scope {
                CleanupScope::Failed => "no failures are recorded",
                CleanupScope::All => "no history is recorded",
            };
            print_text(&format!("Nothing to clean up: {nothing} for {what}"))?;
        }
        Format::Text => {
            let lines: Vec<String> = cleaned
                .iter()
                .map(|t| format!("Cleaned up {} on {}", t.resource, t.node))
                .collect();
            print_text(&lines.join("\n"))?;
        }
    }
    Ok(Code::Success)
}

pub fn failcount(args: &FailcountArgs, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    match args.action {
        FailcountAction::Show => show_failcount(args, socket_dir, format),
        FailcountAction::Delete => {
            let cleanup = CleanupArgs {
                resource: Some(args.resource.clone()),
                node: Some(args.node.clone()),
            };
            clean(&cleanup, CleanupScope::Failed, socket_dir, format)
        }
    }
}

/// crm_failcount's answer: the failures of the resource (all its
/// operations) on the node.
fn show_failcount(args: &FailcountArgs, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let status = crate::status_cmd::snapshot(socket_dir)?;
    if !status.nodes.iter().any(|n| n.name == args.node) {
        anyhow::bail!(
            "there is no node {:?} in the cluster (`baton status` lists them)",
            args.node
        );
    }
    if crate::resource_cmd::find(&status.resources, &args.resource).is_none() {
        anyhow::bail!("there is no resource {:?} in the cluster", args.resource);
    }
    let base = |id: &str| id.split(':').next().unwrap_or(id).to_owned();
    let counts = status
        .fail_counts
        .iter()
        .filter(|c| base(&c.resource) == args.resource && c.node == args.node)
        .map(|c| c.count.parse().unwrap_or(baton_cib::Score::INFINITY));
    let count = counts
        .fold(baton_cib::Score::ZERO, baton_cib::Score::saturating_add)
        .to_string();
    match format {
        Format::Json => print_json(&FailcountJson {
            resource: &args.resource,
            node: &args.node,
            count,
        })?,
        Format::Text => print_text(&format!(
            "scope=status  name=fail-count-{} value={count}",
            args.resource
        ))?,
    }
    Ok(Code::Success)
}
