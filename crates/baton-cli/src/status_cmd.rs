//! `baton status`: the cluster as this node's crmd holds it, in the layout
//! of `crm status` (`crm_mon -1 -r`), or as JSON (DESIGN §9). It answers
//! from the node's copy even without quorum, and says so.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use baton_cib::Cib;
use baton_scheduler::unpack::{Cluster, NodeIdx, NodeState, Role, RscIdx, RscKind};
use clap::Args;
use serde::Serialize;

use crate::cluster_status::Snapshot;
use crate::exit::Code;
use crate::live::Live;
use crate::output::{Format, print_json, print_text};

#[derive(Debug, Args)]
pub struct StatusArgs {}

/// The JSON schema of `baton status --output json` (DESIGN §9, stable).
#[derive(Debug, Serialize)]
pub struct StatusJson {
    pub cluster_name: String,
    pub stack: &'static str,
    pub dc: Option<String>,
    pub quorate: bool,
    pub nodes: Vec<NodeJson>,
    pub resources: Vec<ResourceJson>,
    pub failed_actions: Vec<FailedActionJson>,
    pub fail_counts: Vec<FailCountJson>,
    /// What `baton status` warns about, one sentence each.
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct NodeJson {
    pub name: String,
    pub id: String,
    /// online, offline, standby, maintenance, unclean or pending.
    pub state: &'static str,
    pub dc: bool,
}

#[derive(Debug, Serialize)]
pub struct ResourceJson {
    pub id: String,
    /// `class:provider:type`; empty for groups and clones.
    pub agent: String,
    /// primitive, group, clone or promotable.
    pub kind: &'static str,
    /// Started, Stopped, Promoted, Unpromoted or Failed.
    pub role: &'static str,
    pub nodes: Vec<String>,
    pub managed: bool,
    pub children: Vec<ResourceJson>,
}

#[derive(Debug, Serialize)]
pub struct FailedActionJson {
    pub resource: String,
    pub operation: String,
    pub interval_ms: u64,
    pub node: String,
    pub rc: i32,
    /// Pacemaker's execution status: done, cancelled, timeout, error…
    pub status: String,
    pub exit_reason: String,
}

#[derive(Debug, Serialize)]
pub struct FailCountJson {
    pub resource: String,
    pub node: String,
    pub count: String,
}

pub fn run(_args: &StatusArgs, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    match format {
        Format::Json => print_json(&snapshot(socket_dir)?)?,
        Format::Text => print_text(&rendered(socket_dir)?)?,
    }
    Ok(Code::Success)
}

/// The status as text, `crm_mon -1`'s layout.
pub fn rendered(socket_dir: &Path) -> anyhow::Result<String> {
    let (reply, cib, cluster, now_s) = read(socket_dir)?;
    let dc = Some(reply.dc.clone()).filter(|d| !d.is_empty());
    let status = build(&cib, &cluster, &reply, dc.as_deref());
    let fencing = crate::fence_cmd::status_sections(socket_dir);
    Ok(text(&cib, &cluster, &reply, &status, now_s, &fencing))
}

/// The cluster as `baton status --output json` shows it.
pub fn snapshot(socket_dir: &Path) -> anyhow::Result<StatusJson> {
    let (reply, cib, cluster, _) = read(socket_dir)?;
    let dc = Some(reply.dc.clone()).filter(|d| !d.is_empty());
    Ok(build(&cib, &cluster, &reply, dc.as_deref()))
}

fn read(socket_dir: &Path) -> anyhow::Result<(baton_proto::crmd::QueryReply, Cib, Cluster, i64)> {
    let reply = Live::new(socket_dir).query()?;
    let cib = Cib::parse(&reply.cib).context("baton-crmd sent a CIB that does not parse")?;
    let now_s = wall_now();
    let cluster = baton_scheduler::unpack::unpack(&cib, baton_scheduler::EpochSeconds(now_s))
        .context("the cluster's CIB cannot be read by the scheduler")?;
    Ok((reply, cib, cluster, now_s))
}

/// Now, in seconds since the epoch: the scheduler's "now" for the CLI.
pub fn wall_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn build(
    cib: &Cib,
    cluster: &Cluster,
    reply: &baton_proto::crmd::QueryReply,
    dc: Option<&str>,
) -> StatusJson {
    let nodes = cluster
        .nodes
        .iter()
        .map(|n| NodeJson {
            name: n.uname.clone(),
            id: n.id.clone(),
            state: node_state(n),
            dc: dc == Some(n.uname.as_str()),
        })
        .collect();
    let agents = crate::simulate_cmd::agents(cib);
    let resources = cluster
        .top
        .iter()
        .map(|&r| resource(cluster, &agents, r))
        .collect();
    StatusJson {
        cluster_name: reply.cluster_name.clone(),
        stack: "baton",
        dc: dc.map(str::to_owned),
        quorate: reply.quorate,
        nodes,
        resources,
        failed_actions: failed_actions(cib),
        fail_counts: fail_counts(cib),
        warnings: warnings(cib, cluster, reply),
    }
}

fn node_state(node: &baton_scheduler::unpack::NodeInfo) -> &'static str {
    match node.state {
        NodeState::Offline => "offline",
        NodeState::Pending => "pending",
        NodeState::Unclean(_) => "unclean",
        NodeState::Online if node.standby => "standby",
        NodeState::Online if node.maintenance => "maintenance",
        NodeState::Online => "online",
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Stopped => "Stopped",
        Role::Started => "Started",
        Role::Unpromoted => "Unpromoted",
        Role::Promoted => "Promoted",
    }
}

fn resource(cluster: &Cluster, agents: &BTreeMap<String, String>, r: RscIdx) -> ResourceJson {
    let rsc = cluster.rsc(r);
    let node_names = |on: &[(NodeIdx, Role)]| -> Vec<String> {
        on.iter()
            .map(|(n, _)| cluster.node(*n).uname.clone())
            .collect()
    };
    let (kind, children) = match &rsc.kind {
        RscKind::Primitive => ("primitive", Vec::new()),
        RscKind::Group { members } => (
            "group",
            members
                .iter()
                .map(|&m| resource(cluster, agents, m))
                .collect(),
        ),
        RscKind::Clone(info) => (
            if info.promotable {
                "promotable"
            } else {
                "clone"
            },
            info.instances
                .iter()
                .map(|&i| resource(cluster, agents, i))
                .collect(),
        ),
    };
    let (role, nodes) = match &rsc.kind {
        RscKind::Primitive => {
            let role = if rsc.status.failed {
                "Failed"
            } else if let Some(word @ ("Starting" | "Stopping")) = rsc
                .status
                .pending
                .as_deref()
                .and_then(crate::cluster_status::pending_state)
            {
                // DESIGN §9's roles: the two pending states it names.
                word
            } else {
                rsc.status
                    .running
                    .iter()
                    .map(|(_, role)| *role)
                    .max()
                    .map_or("Stopped", role_name)
            };
            (role, node_names(&rsc.status.running))
        }
        _ => {
            let role = if children.iter().any(|c| c.role == "Failed") {
                "Failed"
            } else if children.iter().any(|c| c.role == "Promoted") {
                "Promoted"
            } else if children.iter().any(|c| c.role != "Stopped") {
                "Started"
            } else {
                "Stopped"
            };
            let mut nodes: Vec<String> = children.iter().flat_map(|c| c.nodes.clone()).collect();
            nodes.sort();
            nodes.dedup();
            (role, nodes)
        }
    };
    ResourceJson {
        id: if rsc.is_primitive() {
            rsc.id.clone()
        } else {
            rsc.base_id.clone()
        },
        agent: agents.get(&rsc.base_id).cloned().unwrap_or_default(),
        kind,
        role,
        nodes,
        managed: rsc.meta.managed,
        children,
    }
}

/// Pacemaker's words for an OCF return code.
fn rc_text(rc: i32) -> &'static str {
    match rc {
        0 => "ok",
        1 => "error",
        2 => "invalid parameter",
        3 => "unimplemented feature",
        4 => "insufficient privileges",
        5 => "not installed",
        6 => "not configured",
        7 => "not running",
        8 => "promoted",
        9 => "promoted (failed)",
        190 => "degraded",
        191 => "degraded promoted",
        _ => "unknown",
    }
}

/// Pacemaker's words for an execution status (op-status).
fn op_status_text(status: i32) -> &'static str {
    match status {
        -1 => "pending",
        0 => "done",
        1 => "cancelled",
        2 => "timeout",
        3 => "not supported",
        4 => "error",
        5 => "hard error",
        6 => "fatal error",
        7 => "not installed",
        _ => "error",
    }
}

fn failed_actions(cib: &Cib) -> Vec<FailedActionJson> {
    let mut out = Vec::new();
    for state in cib.node_states() {
        let node = state.uname().unwrap_or_default().to_owned();
        for resource in state.lrm_resources() {
            for op in resource
                .ops()
                .filter(|o| o.id().ends_with("_last_failure_0"))
            {
                let attr = |name: &str| op.element().attr(name).unwrap_or_default();
                out.push(FailedActionJson {
                    resource: resource.id().to_owned(),
                    operation: op.operation().unwrap_or_default().to_owned(),
                    interval_ms: op.interval_ms().unwrap_or(0),
                    node: node.clone(),
                    rc: attr("rc-code").parse().unwrap_or(1),
                    status: op_status_text(attr("op-status").parse().unwrap_or(4)).to_owned(),
                    exit_reason: attr("exit-reason").to_owned(),
                });
            }
        }
    }
    out
}

fn fail_counts(cib: &Cib) -> Vec<FailCountJson> {
    let mut out = Vec::new();
    for state in cib.node_states() {
        let node = state.uname().unwrap_or_default();
        for set in state.transient_attributes() {
            for pair in set.pairs() {
                let Some(rest) = pair.name().strip_prefix("fail-count-") else {
                    continue;
                };
                let resource = rest.split('#').next().unwrap_or(rest);
                out.push(FailCountJson {
                    resource: resource.to_owned(),
                    node: node.to_owned(),
                    count: pair.value().unwrap_or("0").to_owned(),
                });
            }
        }
    }
    out
}

fn warnings(cib: &Cib, cluster: &Cluster, reply: &baton_proto::crmd::QueryReply) -> Vec<String> {
    let mut out = Vec::new();
    if !reply.joined {
        out.push(
            "this node's controller has not joined the cluster; what is shown is its last copy of the CIB"
                .to_owned(),
        );
    }
    if cluster.options.fencing_enabled && !cluster.has_fence_device {
        out.push(
            "No stonith devices and stonith-enabled is not false: resource start-up is disabled"
                .to_owned(),
        );
    }
    for node in cib.nodes() {
        if let Some(note) = node.attribute(baton_controller::DROPPED_CONFIGURATION_ATTRIBUTE) {
            out.push(format!(
                "{}'s {note}; see `baton cib history`",
                node.uname().unwrap_or(node.id())
            ));
        }
    }
    out.extend(command_line_constraints(cib));
    out
}

/// The constraints `baton resource move|ban` (and crmsh, crm_resource)
/// leave behind: a forgotten one keeps a resource from failing back.
fn command_line_constraints(cib: &Cib) -> Vec<String> {
    let Some(constraints) = cib.section("constraints") else {
        return Vec::new();
    };
    constraints
        .children_named("rsc_location")
        .filter_map(|c| {
            let id = c.attr("id")?;
            let rsc = c.attr("rsc")?;
            let node = c.attr("node").unwrap_or("?");
            let what = if id.starts_with("cli-prefer-") {
                format!("keeps {rsc} on {node}")
            } else if id.starts_with("cli-ban-") {
                format!("keeps {rsc} off {node}")
            } else {
                return None;
            };
            Some(format!(
                "{id} (from a resource move or ban) {what}; `baton resource clear {rsc}` removes it"
            ))
        })
        .collect()
}

/// `crm status`'s text.
fn text(
    cib: &Cib,
    cluster: &Cluster,
    reply: &baton_proto::crmd::QueryReply,
    status: &StatusJson,
    now_s: i64,
    fencing: &str,
) -> String {
    let mut out = String::from("Cluster Summary:\n  * Stack: baton\n");
    match &status.dc {
        Some(dc) => {
            let _ = writeln!(
                out,
                "  * Current DC: {dc} (version {}) - partition {} quorum",
                reply.baton_version,
                if reply.quorate { "with" } else { "WITHOUT" }
            );
        }
        None => out.push_str("  * Current DC: NONE\n"),
    }
    let _ = writeln!(
        out,
        "  * Last updated: {}",
        baton_controller::time::ctime(now_s)
    );
    if let Some(written) = cib.attr("cib-last-written") {
        let by = |name: &str| cib.attr(name).unwrap_or("unknown");
        let _ = writeln!(
            out,
            "  * Last change:  {written} by {} via {} on {}",
            by("update-user"),
            by("update-client"),
            by("update-origin")
        );
    }
    let _ = writeln!(out, "  * {} nodes configured", cluster.nodes.len());
    let _ = writeln!(
        out,
        "  * {} resource instances configured",
        cluster.primitives().len()
    );
    out.push('\n');
    let agents = crate::simulate_cmd::agents(cib);
    let unclean = crate::simulate_cmd::unclean_online(cib, cluster);
    let snapshot = Snapshot::current(cluster, &agents, unclean);
    out.push_str(&crm_mon_layout(&snapshot.render()));
    if !status.failed_actions.is_empty() {
        out.push_str("\nFailed Resource Actions:\n");
        for failed in &status.failed_actions {
            let _ = writeln!(out, "  * {}", failed_line(failed));
        }
    }
    out.push_str(fencing);
    if !status.warnings.is_empty() {
        out.push_str("\nWARNINGS:\n");
        for warning in &status.warnings {
            let _ = writeln!(out, "  * {warning}");
        }
    }
    out
}

/// crm_simulate nests the node and resource lists one level under its
/// status heading; crm_mon puts them at the top level.
fn crm_mon_layout(nested: &str) -> String {
    nested
        .lines()
        .map(|line| {
            let line = line.strip_prefix("  ").unwrap_or(line);
            match line.strip_prefix("* ") {
                Some(heading) if heading.ends_with("List:") || heading.ends_with("Resources:") => {
                    heading
                }
                _ => line,
            }
        })
        .fold(String::new(), |mut out, line| {
            out.push_str(line);
            out.push('\n');
            out
        })
}

/// "httpd 10s-interval monitor on node2 returned 'not running' (reason)".
fn failed_line(failed: &FailedActionJson) -> String {
    let interval = if failed.interval_ms > 0 {
        format!("{}s-interval ", failed.interval_ms / 1000)
    } else {
        String::new()
    };
    let operation = if failed.operation == "monitor" && failed.interval_ms == 0 {
        "probe"
    } else {
        failed.operation.as_str()
    };
    let reason = if failed.exit_reason.is_empty() {
        String::new()
    } else {
        format!(" ({})", failed.exit_reason)
    };
    if failed.status == "done" {
        format!(
            "{} {interval}{operation} on {} returned '{}'{reason}",
            failed.resource,
            failed.node,
            rc_text(failed.rc)
        )
    } else {
        format!(
            "{} {interval}{operation} on {} could not be executed ({}){reason}",
            failed.resource, failed.node, failed.status
        )
    }
}

#[cfg(test)]
mod constraint_warnings {
    use super::*;

    #[test]
    fn a_forgotten_move_or_ban_is_a_warning_that_says_how_to_clear_it() {
        let cib = Cib::parse(
            r#"<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config/><nodes/><resources/>
<constraints>
<rsc_location id="cli-prefer-web" rsc="web" role="Started" node="node1" score="INFINITY"/>
<rsc_location id="cli-ban-web-on-node3" rsc="web" role="Started" node="node3" score="-INFINITY"/>
<rsc_location id="web-likes-node2" rsc="web" node="node2" score="50"/>
</constraints></configuration><status/></cib>"#,
        )
        .expect("parses");
        let warnings = command_line_constraints(&cib);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("keeps web on node1"), "{warnings:?}");
        assert!(warnings[1].contains("keeps web off node3"), "{warnings:?}");
        assert!(
            warnings
                .iter()
                .all(|w| w.contains("baton resource clear web"))
        );
    }
}
