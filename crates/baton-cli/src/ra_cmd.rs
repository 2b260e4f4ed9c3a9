//! `baton ra classes|list|info`, like `crm ra`. Answered by baton-lrmd, which
//! knows this node's agents and caches their meta-data.

use std::path::Path;

use anyhow::Context;
use baton_proto::client::DEFAULT_CALL_TIMEOUT;
use baton_proto::lrmd::{ListAgentsRequest, ListClassesRequest, MetadataReply, MetadataRequest};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::exit::Code;
use crate::lrm_cmd::{block_on, connect};
use crate::output::{Format, print_json, print_text};

#[derive(Debug, Subcommand)]
pub enum RaCommand {
    /// List the agent classes this node can run.
    Classes,
    /// List the agents of a class (ocf, lsb, systemd, service, stonith), or
    /// of one OCF provider (ocf:heartbeat).
    List(ListArgs),
    /// Show an agent's parameters and its actions' default timeouts.
    Info(InfoArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// CLASS or CLASS:PROVIDER.
    #[arg(value_name = "CLASS[:PROVIDER]")]
    pub class: String,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The agent as crmsh writes it, e.g. ocf:heartbeat:IPaddr2.
    pub agent: String,
}

#[derive(Debug, Serialize)]
struct ClassesJson {
    classes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct AgentsJson {
    agents: Vec<String>,
}

/// The JSON schema of `baton ra info --output json` (stable).
#[derive(Debug, Serialize)]
struct InfoJson {
    agent: String,
    version: String,
    shortdesc: String,
    longdesc: String,
    parameters: Vec<ParameterJson>,
    actions: Vec<ActionJson>,
}

#[derive(Debug, Serialize)]
struct ParameterJson {
    name: String,
    #[serde(rename = "type")]
    content_type: String,
    default: Option<String>,
    required: bool,
    unique: bool,
    /// The one-line description (the agent's shortdesc).
    description: String,
    longdesc: String,
}

#[derive(Debug, Serialize)]
struct ActionJson {
    name: String,
    timeout_ms: Option<u64>,
    interval_ms: Option<u64>,
    depth: Option<String>,
    role: Option<String>,
}

pub fn run(command: &RaCommand, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    block_on(async {
        let mut client = connect(socket_dir, DEFAULT_CALL_TIMEOUT).await?;
        let refused = |status: tonic::Status| anyhow::anyhow!("{}", status.message());
        match command {
            RaCommand::Classes => {
                let classes = client
                    .list_classes(ListClassesRequest {})
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .classes;
                match format {
                    Format::Json => print_json(&ClassesJson { classes })?,
                    Format::Text => print_text(&classes.join("\n"))?,
                }
            }
            RaCommand::List(args) => {
                let (class, provider) = args.class.split_once(':').unwrap_or((&args.class, ""));
                let request = ListAgentsRequest {
                    class: class.to_owned(),
                    provider: provider.to_owned(),
                };
                let agents = client
                    .list_agents(request)
                    .await
                    .map_err(refused)
                    .with_context(|| format!("cannot list the agents of {}", args.class))?
                    .into_inner()
                    .agents;
                match format {
                    Format::Json => print_json(&AgentsJson { agents })?,
                    Format::Text => print_text(&agents.join("\n"))?,
                }
            }
            RaCommand::Info(args) => {
                let reply = client
                    .metadata(MetadataRequest {
                        agent: args.agent.clone(),
                    })
                    .await
                    .map_err(refused)?
                    .into_inner();
                match format {
                    Format::Json => print_json(&info_json(reply))?,
                    Format::Text => print_text(&render_info(&reply))?,
                }
            }
        }
        Ok(Code::Success)
    })
}

fn some(text: String) -> Option<String> {
    Some(text).filter(|t| !t.is_empty())
}

fn info_json(reply: MetadataReply) -> InfoJson {
    InfoJson {
        agent: reply.agent,
        version: reply.version,
        shortdesc: reply.shortdesc,
        longdesc: reply.longdesc,
        parameters: reply
            .parameters
            .into_iter()
            .map(|p| ParameterJson {
                name: p.name,
                content_type: p.r#type,
                default: some(p.default),
                required: p.required,
                unique: p.unique,
                description: p.shortdesc,
                longdesc: p.longdesc,
            })
            .collect(),
        actions: reply
            .actions
            .into_iter()
            .map(|a| ActionJson {
                name: a.name,
                timeout_ms: Some(a.timeout_ms).filter(|t| *t > 0),
                interval_ms: Some(a.interval_ms).filter(|t| *t > 0),
                depth: some(a.depth),
                role: some(a.role),
            })
            .collect(),
    }
}

/// `crm ra info`'s layout: title, description, parameters, then the
/// actions' advisory defaults.
fn render_info(reply: &MetadataReply) -> String {
    let mut text = format!("{} - {}\n\n", reply.agent, reply.shortdesc);
    if !reply.longdesc.is_empty() {
        text.push_str(&format!("{}\n\n", reply.longdesc.trim()));
    }
    if !reply.parameters.is_empty() {
        text.push_str("Parameters (*: required, []: default):\n\n");
        for p in &reply.parameters {
            let required = if p.required { "*" } else { "" };
            let default = if p.default.is_empty() {
                String::new()
            } else {
                format!(", [{}]", p.default)
            };
            text.push_str(&format!(
                "{}{required} ({}{default}): {}\n",
                p.name, p.r#type, p.shortdesc
            ));
            for line in p.longdesc.lines().map(str::trim).filter(|l| !l.is_empty()) {
                text.push_str(&format!("    {line}\n"));
            }
            text.push('\n');
        }
    }
    text.push_str("Operations' defaults (advisory minimum):\n\n");
    for a in &reply.actions {
        let mut line = format!("    {:<16}", a.name);
        if a.timeout_ms > 0 {
            line.push_str(&format!(" timeout={}", seconds(a.timeout_ms)));
        }
        if a.interval_ms > 0 {
            line.push_str(&format!(" interval={}", seconds(a.interval_ms)));
        }
        if !a.depth.is_empty() {
            line.push_str(&format!(" depth={}", a.depth));
        }
        if !a.role.is_empty() {
            line.push_str(&format!(" role={}", a.role));
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// 20000 → "20s", 1500 → "1500ms": how crmsh writes op times.
fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}
