//! `baton node attribute|status-attr NODE set|delete|show NAME [VALUE]`:
//! node attributes as crmsh's `crm node attribute` (permanent, in the
//! configuration) and `crm node status-attr` (transient, until the node
//! leaves the cluster) handle them; `baton node fence NODE [--force]`,
//! `standby [NODE] [forever|reboot]`, `online [NODE]`, `maintenance
//! [NODE]`, `ready [NODE]` and `list` as crmsh's.

use std::path::Path;

use anyhow::Context;
use baton_cib::Cib;
use clap::{Args, Subcommand};

use crate::exit::Code;
use crate::live::Live;
use crate::output::{Format, print_json, print_text};

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// A permanent node attribute (configuration, nodes section).
    Attribute(AttributeArgs),
    /// A transient node attribute (status; gone when the node leaves).
    #[command(name = "status-attr")]
    StatusAttr(AttributeArgs),
    /// Fence a node (like `crm node fence`): the DC has it fenced with the
    /// cluster's fencing devices and recovers what it ran elsewhere.
    Fence(FenceArgs),
    /// Put a node (this one by default) in standby: what runs there moves
    /// away and nothing starts there (like `crm node standby`).
    Standby(StandbyArgs),
    /// Take a node (this one by default) out of standby (like `crm node
    /// online`).
    Online(OnlineArgs),
    /// Put a node (this one by default) in maintenance: the cluster leaves
    /// what runs there alone (like `crm node maintenance`).
    Maintenance(OnlineArgs),
    /// Take a node (this one by default) out of maintenance (like `crm
    /// node ready`).
    Ready(OnlineArgs),
    /// The cluster's nodes, with their id and state (like `crm node list`).
    List,
}

#[derive(Debug, Args)]
pub struct StandbyArgs {
    pub node: Option<String>,
    /// `forever` (the configuration) or `reboot` (until the node leaves
    /// the cluster), as crmsh's lifetime.
    #[arg(value_parser = ["forever", "reboot"], default_value = "forever")]
    pub lifetime: String,
}

#[derive(Debug, Args)]
pub struct OnlineArgs {
    pub node: Option<String>,
}

#[derive(Debug, Args)]
pub struct FenceArgs {
    pub node: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct AttributeArgs {
    pub node: String,
    #[command(subcommand)]
    pub action: AttributeAction,
}

#[derive(Debug, Subcommand)]
pub enum AttributeAction {
    Set { name: String, value: String },
    Delete { name: String },
    Show { name: String },
}

#[derive(serde::Serialize)]
struct AttributeJson<'a> {
    node: &'a str,
    name: &'a str,
    value: Option<String>,
}

pub fn run(command: &NodeCommand, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let (args, forever) = match command {
        NodeCommand::Attribute(args) => (args, true),
        NodeCommand::StatusAttr(args) => (args, false),
        NodeCommand::Fence(args) => return fence(args, socket_dir),
        NodeCommand::Standby(args) => {
            return standby(socket_dir, args.node.as_deref(), args.lifetime == "forever");
        }
        NodeCommand::Online(args) => return online(socket_dir, args.node.as_deref()),
        NodeCommand::Maintenance(args) => {
            return maintenance(socket_dir, args.node.as_deref(), true);
        }
        NodeCommand::Ready(args) => return maintenance(socket_dir, args.node.as_deref(), false),
        NodeCommand::List => return list(socket_dir, format),
    };
    let live = Live::new(socket_dir);
    let node = args.node.as_str();
    match &args.action {
        AttributeAction::Set { name, value } => {
            let outcome = live.set_attribute(node, name, Some(value), forever)?;
            if !outcome.changed {
                eprintln!("{name} was already {value} on {node}");
            }
        }
        AttributeAction::Delete { name } => {
            let outcome = live.set_attribute(node, name, None, forever)?;
            if !outcome.changed {
                eprintln!("{node} has no attribute {name}");
            }
        }
        AttributeAction::Show { name } => {
            let (cib, _) = live.cib()?;
            let value = lookup(&cib, node, name, forever)?;
            match format {
                Format::Json => print_json(&AttributeJson {
                    node,
                    name,
                    value: value.clone(),
                })?,
                Format::Text => {
                    let scope = if forever { "nodes" } else { "status" };
                    let shown = value.as_deref().unwrap_or("(unset)");
                    print_text(&format!("scope={scope}  name={name} value={shown}"))?;
                }
            }
            if value.is_none() {
                return Ok(Code::Problems);
            }
        }
    }
    Ok(Code::Success)
}

/// `node`, or the node whose crmd answers; it must be one of the cluster's.
fn known_node(live: &Live, node: Option<&str>) -> anyhow::Result<String> {
    let reply = live.query()?;
    let name = match node {
        Some(name) => name.to_owned(),
        None => reply.node.map(|n| n.name).unwrap_or_default(),
    };
    let cib = Cib::parse(&reply.cib).context("baton-crmd sent a CIB that does not parse")?;
    if !cib.nodes().any(|n| n.uname() == Some(name.as_str())) {
        anyhow::bail!("there is no node named {name:?} in the cluster; nothing was changed");
    }
    Ok(name)
}

fn standby(socket_dir: &Path, node: Option<&str>, forever: bool) -> anyhow::Result<Code> {
    let live = Live::new(socket_dir);
    let node = known_node(&live, node)?;
    live.set_attribute(&node, "standby", Some("on"), forever)?;
    print_text(&format!("{node} is in standby: what runs there moves away"))?;
    Ok(Code::Success)
}

/// Clears both lifetimes, as `crm node online` does: a node left in
/// standby "until reboot" is online again too. A node that is not in the
/// cluster now is refused: "online" would not bring it back.
fn online(socket_dir: &Path, node: Option<&str>) -> anyhow::Result<Code> {
    let live = Live::new(socket_dir);
    let node = known_node(&live, node)?;
    if !live.query()?.members.iter().any(|m| m.name == node) {
        anyhow::bail!(
            "{node} is offline: `node online` only takes a running node out of standby; start its daemons first (its standby setting stays until then); nothing was changed"
        );
    }
    live.set_attribute(&node, "standby", Some("off"), true)?;
    let (cib, _) = live.cib()?;
    if lookup(&cib, &node, "standby", false)?.is_some() {
        live.set_attribute(&node, "standby", None, false)?;
    }
    print_text(&format!("{node} is online: resources may run there again"))?;
    Ok(Code::Success)
}

/// The node attribute `maintenance` (permanent), as crmsh's `node
/// maintenance` and `node ready` set it.
fn maintenance(socket_dir: &Path, node: Option<&str>, on: bool) -> anyhow::Result<Code> {
    let live = Live::new(socket_dir);
    let node = known_node(&live, node)?;
    let value = if on { "true" } else { "false" };
    live.set_attribute(&node, "maintenance", Some(value), true)?;
    print_text(&if on {
        format!("{node} is in maintenance: the cluster leaves what runs there alone")
    } else {
        format!("{node} is out of maintenance: the cluster manages what runs there again")
    })?;
    Ok(Code::Success)
}

#[derive(serde::Serialize)]
struct NodeListJson<'a> {
    nodes: &'a [crate::status_cmd::NodeJson],
}

/// crmsh's `node list`: `name(id): state` per node.
fn list(socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let status = crate::status_cmd::snapshot(socket_dir)?;
    match format {
        Format::Json => print_json(&NodeListJson {
            nodes: &status.nodes,
        })?,
        Format::Text => {
            let lines: Vec<String> = status
                .nodes
                .iter()
                .map(|n| format!("{}({}): {}", n.name, n.id, n.state))
                .collect();
            print_text(&lines.join("\n"))?;
        }
    }
    Ok(Code::Success)
}

/// Asks the cluster to fence `args.node` the way Pacemaker's tools do: the
/// node's `terminate` attribute makes the scheduler fence it; the
/// controller clears it with the rest of the node's status once fenced.
fn fence(args: &FenceArgs, socket_dir: &Path) -> anyhow::Result<Code> {
    let live = Live::new(socket_dir);
    let (cib, _) = live.cib()?;
    let node = args.node.as_str();
    if !cib.nodes().any(|n| n.uname() == Some(node)) {
        anyhow::bail!("there is no node named {node:?} in the cluster; nothing was fenced");
    }
    if !args.force && !confirmed(node)? {
        eprintln!("Not fenced");
        return Ok(Code::Problems);
    }
    live.set_attribute(node, "terminate", Some("true"), false)?;
    print_text(&format!(
        "Fencing of {node} requested; `baton status` shows it, and what ran there moves once it is fenced"
    ))?;
    Ok(Code::Success)
}

/// Whether the user, at a terminal, agrees; without a terminal only
/// `--force` fences.
fn confirmed(node: &str) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "fencing {node} powers it off or reboots it; confirm at a terminal, or pass --force"
        );
    }
    eprint!(
        "Fencing {node} powers it off or reboots it, and stops everything running there. Fence it? [y/N] "
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn lookup(cib: &Cib, node: &str, name: &str, forever: bool) -> anyhow::Result<Option<String>> {
    if forever {
        let entry = cib
            .nodes()
            .find(|n| n.uname() == Some(node))
            .with_context(|| format!("there is no node named {node:?} in the cluster"))?;
        return Ok(entry.attribute(name).map(str::to_owned));
    }
    Ok(cib
        .node_states()
        .find(|s| s.uname() == Some(node))
        .and_then(|s| s.transient_attributes().find_map(|set| set.get(name)))
        .map(str::to_owned))
}
