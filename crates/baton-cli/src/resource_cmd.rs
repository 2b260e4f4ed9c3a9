//! `baton resource …`, as `crm resource` does them: start, stop, manage,
//! unmanage, move, ban and clear change the configuration (`target-role`,
//! `is-managed`, the `cli-prefer-`/`cli-ban-` constraints) on the running
//! cluster or a CIB file (`--cib`); `locate` says where a resource runs;
//! `restart` stops and starts it; cleanup, refresh and failcount are in
//! `cleanup_cmd`.

use std::path::Path;
use std::time::{Duration, Instant};

use baton_configure::{AttributeSet, CleanupScope, ResourceChange, change_resource};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::cib_cmd::{CibArg, target};
use crate::cleanup_cmd::{CleanupArgs, FailcountArgs, clean, failcount};
use crate::exit::Code;
use crate::output::{Format, print_json, print_text};
use crate::pcs_cmd::{CreateArgs, GroupCommand};
use crate::status_cmd::ResourceJson;

#[derive(Debug, Subcommand)]
pub enum ResourceCommand {
    /// Let the cluster run the resource (target-role=Started).
    Start(RscArgs),
    /// Stop the resource everywhere and keep it stopped (target-role=Stopped).
    Stop(RscArgs),
    /// Let the cluster start, stop and recover it again (is-managed=true).
    Manage(RscArgs),
    /// Leave it as it is: the cluster neither starts, stops nor recovers
    /// it (is-managed=false).
    Unmanage(RscArgs),
    /// Move it to NODE (a `cli-prefer-RSC` constraint; `clear` removes it).
    Move(NodeArgs),
    /// Keep it off NODE (a `cli-ban-RSC-on-NODE` constraint).
    Ban(NodeArgs),
    /// Remove the constraints `move` and `ban` made for it.
    Clear(RscArgs),
    /// Where it runs.
    Locate(LocateArgs),
    /// Stop it, wait until it stopped, then start it again.
    Restart(RestartArgs),
    /// Forget its failures (fail counts and failed operations), on one
    /// node or all, so the cluster probes it and may run it there again.
    Cleanup(CleanupArgs),
    /// Forget its whole operation history, so the cluster probes it
    /// everywhere afresh.
    Refresh(CleanupArgs),
    /// Show or delete its fail count on a node.
    Failcount(FailcountArgs),
    /// Create a primitive, pcs's way: `ID AGENT NAME=VALUE… [op ACTION
    /// NAME=VALUE…] [meta NAME=VALUE…] [--group G]`.
    Create(CreateArgs),
    /// Remove a resource from the configuration (refused while it runs,
    /// unless --force).
    Delete(DeleteArgs),
    /// Let the cluster run it (pcs: removes target-role).
    Enable(RscArgs),
    /// Stop it and keep it stopped (target-role=Stopped).
    Disable(RscArgs),
    /// Groups, as pcs makes them (`group add GROUP RSC…`).
    #[command(subcommand)]
    Group(GroupCommand),
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    pub resource: String,
    /// Delete it even though it runs (the cluster then stops it).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub cib: CibArg,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    pub resource: String,
    /// How long to wait for each of the stop and the start, in seconds.
    #[arg(long, default_value_t = 120)]
    pub wait: u64,
}

#[derive(Debug, Args)]
pub struct RscArgs {
    pub resource: String,
    #[command(flatten)]
    pub cib: CibArg,
}

#[derive(Debug, Args)]
pub struct NodeArgs {
    pub resource: String,
    pub node: String,
    #[command(flatten)]
    pub cib: CibArg,
}

#[derive(Debug, Args)]
pub struct LocateArgs {
    pub resource: String,
}

#[derive(Serialize)]
struct LocateJson<'a> {
    resource: &'a str,
    nodes: Vec<String>,
}

pub fn run(command: &ResourceCommand, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let meta = |args: &RscArgs, name: &str, value: &str| {
        let change = ResourceChange::Attribute {
            set: AttributeSet::Meta,
            resource: args.resource.clone(),
            name: name.to_owned(),
            value: Some(value.to_owned()),
        };
        apply(&args.cib, socket_dir, &change)
    };
    match command {
        ResourceCommand::Start(args) => meta(args, "target-role", "Started"),
        ResourceCommand::Stop(args) => meta(args, "target-role", "Stopped"),
        ResourceCommand::Manage(args) => meta(args, "is-managed", "true"),
        ResourceCommand::Unmanage(args) => meta(args, "is-managed", "false"),
        ResourceCommand::Move(args) => apply(
            &args.cib,
            socket_dir,
            &ResourceChange::Prefer {
                resource: args.resource.clone(),
                node: args.node.clone(),
            },
        ),
        ResourceCommand::Ban(args) => apply(
            &args.cib,
            socket_dir,
            &ResourceChange::Ban {
                resource: args.resource.clone(),
                node: args.node.clone(),
            },
        ),
        ResourceCommand::Clear(args) => apply(
            &args.cib,
            socket_dir,
            &ResourceChange::Clear {
                resource: args.resource.clone(),
            },
        ),
        ResourceCommand::Locate(args) => locate(&args.resource, socket_dir, format),
        ResourceCommand::Restart(args) => restart(args, socket_dir),
        ResourceCommand::Cleanup(args) => clean(args, CleanupScope::Failed, socket_dir, format),
        ResourceCommand::Refresh(args) => clean(args, CleanupScope::All, socket_dir, format),
        ResourceCommand::Failcount(args) => failcount(args, socket_dir, format),
        ResourceCommand::Create(args) => crate::pcs_cmd::create(args, socket_dir),
        ResourceCommand::Delete(args) => delete(args, socket_dir),
        ResourceCommand::Enable(args) => {
            let change = ResourceChange::Attribute {
                set: AttributeSet::Meta,
                resource: args.resource.clone(),
                name: "target-role".to_owned(),
                value: None,
            };
            apply(&args.cib, socket_dir, &change)
        }
        ResourceCommand::Disable(args) => meta(args, "target-role", "Stopped"),
        ResourceCommand::Group(command) => crate::pcs_cmd::group(command, socket_dir),
    }
}

fn apply(cib: &CibArg, socket_dir: &Path, change: &ResourceChange) -> anyhow::Result<Code> {
    let target = target(cib, socket_dir);
    crate::configure_cmd::change(&target, |cib| {
        change_resource(cib, change).map(|_| Vec::new())
    })
}

/// Deletes a resource that is not running (or, with --force, one that
/// is: the cluster stops it once it is gone from the configuration), with
/// the constraints that name it.
fn delete(args: &DeleteArgs, socket_dir: &Path) -> anyhow::Result<Code> {
    if args.cib.cib.is_none() && !args.force {
        let status = crate::status_cmd::snapshot(socket_dir)?;
        if let Some(found) = find(&status.resources, &args.resource) {
            let mut nodes = Vec::new();
            running_on(found, &mut nodes);
            if !nodes.is_empty() {
                anyhow::bail!(
                    "{} is running on {}; stop it first (`baton resource disable {}`) or delete it with --force",
                    args.resource,
                    nodes.join(", "),
                    args.resource
                );
            }
        }
    }
    let change = ResourceChange::Delete {
        resource: args.resource.clone(),
    };
    apply(&args.cib, socket_dir, &change)
}

/// crmsh's restart: target-role Stopped, wait until nothing runs, then
/// target-role Started and wait until it runs again.
fn restart(args: &RestartArgs, socket_dir: &Path) -> anyhow::Result<Code> {
    let live = CibArg { cib: None };
    let wait = Duration::from_secs(args.wait);
    let set_role = |role: &str| {
        let change = ResourceChange::Attribute {
            set: AttributeSet::Meta,
            resource: args.resource.clone(),
            name: "target-role".to_owned(),
            value: Some(role.to_owned()),
        };
        apply(&live, socket_dir, &change)
    };
    set_role("Stopped")?;
    wait_until(socket_dir, &args.resource, wait, "stop", |nodes| {
        nodes.is_empty()
    })?;
    set_role("Started")?;
    wait_until(socket_dir, &args.resource, wait, "start", |nodes| {
        !nodes.is_empty()
    })?;
    Ok(Code::Success)
}

/// Polls the status until `done` holds for the nodes the resource runs on.
fn wait_until(
    socket_dir: &Path,
    resource: &str,
    wait: Duration,
    what: &str,
    done: impl Fn(&[String]) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + wait;
    loop {
        let status = crate::status_cmd::snapshot(socket_dir)?;
        let found = find(&status.resources, resource)
            .ok_or_else(|| anyhow::anyhow!("there is no resource {resource:?} in the cluster"))?;
        let mut nodes = Vec::new();
        running_on(found, &mut nodes);
        if done(&nodes) && !has_pending_action(socket_dir, found)? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "{resource} did not {what} within {} s; `baton status` shows where it stands",
                wait.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether an action of the resource is under way: its history holds a
/// pending record (a start shows as running before it ends).
fn has_pending_action(socket_dir: &Path, resource: &ResourceJson) -> anyhow::Result<bool> {
    let mut primitives = Vec::new();
    leaves(resource, &mut primitives);
    let (cib, _) = crate::live::Live::new(socket_dir).cib()?;
    let base = |id: &str| id.split(':').next().unwrap_or(id).to_owned();
    Ok(cib.node_states().any(|state| {
        state.lrm_resources().any(|history| {
            primitives.contains(&base(history.id()))
                && history
                    .ops()
                    .any(|op| op.op_status().ok().flatten() == Some(OP_STATUS_PENDING))
        })
    }))
}

/// Pacemaker's op-status of an action still running.
const OP_STATUS_PENDING: i32 = -1;

fn leaves(resource: &ResourceJson, ids: &mut Vec<String>) {
    if resource.children.is_empty() {
        ids.push(
            resource
                .id
                .split(':')
                .next()
                .unwrap_or(&resource.id)
                .to_owned(),
        );
    }
    for child in &resource.children {
        leaves(child, ids);
    }
}

/// `crm_resource --locate`'s answer.
pub(crate) fn locate(resource: &str, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let status = crate::status_cmd::snapshot(socket_dir)?;
    let Some(found) = find(&status.resources, resource) else {
        anyhow::bail!("there is no resource {resource:?} in the cluster");
    };
    let mut nodes = Vec::new();
    running_on(found, &mut nodes);
    nodes.sort();
    nodes.dedup();
    match format {
        Format::Json => print_json(&LocateJson { resource, nodes })?,
        Format::Text if nodes.is_empty() => {
            print_text(&format!("resource {resource} is NOT running"))?
        }
        Format::Text => print_text(&format!(
            "resource {resource} is running on: {}",
            nodes.join(", ")
        ))?,
    }
    Ok(Code::Success)
}

pub(crate) fn find<'a>(resources: &'a [ResourceJson], id: &str) -> Option<&'a ResourceJson> {
    resources.iter().find_map(|r| {
        if r.id == id {
            Some(r)
        } else {
            find(&r.children, id)
        }
    })
}

pub(crate) fn running_on(resource: &ResourceJson, nodes: &mut Vec<String>) {
    if resource.children.is_empty() {
        if resource.role != "Stopped" {
            nodes.extend(resource.nodes.iter().cloned());
        }
    } else {
        for child in &resource.children {
            running_on(child, nodes);
        }
    }
}
