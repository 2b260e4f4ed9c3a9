//! `baton resource start|stop|manage|unmanage|move|ban|clear|locate`, as
//! `crm resource` does them: the first six change the configuration
//! (`target-role`, `is-managed`, the `cli-prefer-`/`cli-ban-` constraints)
//! on the running cluster or a CIB file (`--cib`); `locate` says where a
//! resource runs.

use std::path::Path;

use baton_configure::{ResourceChange, change_resource};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::cib_cmd::{CibArg, target};
use crate::exit::Code;
use crate::output::{Format, print_json, print_text};
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
        let change = ResourceChange::Meta {
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
    }
}

fn apply(cib: &CibArg, socket_dir: &Path, change: &ResourceChange) -> anyhow::Result<Code> {
    let target = target(cib, socket_dir);
    crate::configure_cmd::change(&target, |cib| {
        change_resource(cib, change).map(|_| Vec::new())
    })
}

/// `crm_resource --locate`'s answer.
fn locate(resource: &str, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
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

fn find<'a>(resources: &'a [ResourceJson], id: &str) -> Option<&'a ResourceJson> {
    resources.iter().find_map(|r| {
        if r.id == id {
            Some(r)
        } else {
            find(&r.children, id)
        }
    })
}

fn running_on(resource: &ResourceJson, nodes: &mut Vec<String>) {
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
