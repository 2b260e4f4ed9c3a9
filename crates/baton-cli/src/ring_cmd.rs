//! `baton ring status`: this node's Totem ring as baton-ringd sees it, in
//! the spirit of `corosync-cfgtool -s`; `baton ring groups`: its process
//! groups, like `corosync-cpgtool`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use baton_proto::ring::process_groups_client::ProcessGroupsClient;
use baton_proto::ring::ring_client::RingClient;
use baton_proto::ring::{ListGroupsReply, ListGroupsRequest, RingStatusReply, RingStatusRequest};
use clap::Subcommand;
use serde::Serialize;

use crate::exit::Code;
use crate::lrm_cmd::block_on;
use crate::output::{Format, print_json, print_text};

#[derive(Debug, Subcommand)]
pub enum RingCommand {
    /// Show the ring id, state, members and per-peer packet drop counters.
    ///
    /// Exits 0 when shown, 3 when baton-ringd cannot be reached.
    Status,
    /// List the process groups and their members (node id, pid), like
    /// `corosync-cpgtool`.
    ///
    /// Exits 0 when shown, 3 when baton-ringd cannot be reached.
    Groups,
}

/// A status call answers from a snapshot; this bounds a hung daemon.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The JSON schema of `baton ring status --output json` (stable).
#[derive(Debug, Serialize)]
struct RingJson<'a> {
    node_id: u32,
    ring_id: &'a str,
    state: &'a str,
    members: &'a [u32],
    peers: Vec<PeerJson<'a>>,
}

#[derive(Debug, Serialize)]
struct PeerJson<'a> {
    /// Absent for an address that is not in the nodelist.
    node_id: Option<u32>,
    address: &'a str,
    connected: bool,
    auth_failures: u64,
    decode_failures: u64,
    links: Vec<LinkJson<'a>>,
}

#[derive(Debug, Serialize)]
struct LinkJson<'a> {
    link: u32,
    address: &'a str,
    /// Heartbeats answered within half a token timeout.
    connected: bool,
    rtt_us: u64,
}

pub fn run(command: &RingCommand, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    match command {
        RingCommand::Status => status(socket_dir, format),
        RingCommand::Groups => groups(socket_dir, format),
    }
}

#[derive(Debug, Serialize)]
struct GroupJson<'a> {
    name: &'a str,
    members: Vec<MemberJson>,
}

#[derive(Debug, Serialize)]
struct MemberJson {
    node_id: u32,
    pid: u32,
}

fn groups(socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let reply = block_on(async {
        let channel = baton_proto::client::connect(&socket_dir.join("ringd.sock"), CALL_TIMEOUT)
            .await
            .context("cannot reach baton-ringd")?;
        ProcessGroupsClient::new(channel)
            .list_groups(ListGroupsRequest {})
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| anyhow::anyhow!("baton-ringd refused: {}", status.message()))
    })?;
    match format {
        Format::Json => print_json(&serde_json::json!({
            "groups": reply.groups.iter().map(|g| GroupJson {
                name: &g.name,
                members: g.members.iter().map(|m| MemberJson { node_id: m.node_id, pid: m.pid }).collect(),
            }).collect::<Vec<_>>()
        }))?,
        Format::Text => print_text(&render_groups(&reply))?,
    }
    Ok(Code::Success)
}

fn render_groups(reply: &ListGroupsReply) -> String {
    let mut text = format!("{:<24}  {:>10}  {:>8}\n", "Group Name", "PID", "Node ID");
    for group in &reply.groups {
        let _ = writeln!(text, "{}", group.name);
        for member in &group.members {
            let _ = writeln!(
                text,
                "{:<24}  {:>10}  {:>8}",
                "", member.pid, member.node_id
            );
        }
    }
    text
}

fn status(socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let reply = block_on(async {
        let channel = baton_proto::client::connect(&socket_dir.join("ringd.sock"), CALL_TIMEOUT)
            .await
            .context("cannot reach baton-ringd")?;
        RingClient::new(channel)
            .ring_status(RingStatusRequest {})
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| anyhow::anyhow!("baton-ringd refused: {}", status.message()))
    })?;
    match format {
        Format::Json => print_json(&RingJson {
            node_id: reply.node_id,
            ring_id: &reply.ring_id,
            state: &reply.state,
            members: &reply.members,
            peers: reply
                .peers
                .iter()
                .map(|p| PeerJson {
                    node_id: (p.node_id != 0).then_some(p.node_id),
                    address: &p.address,
                    connected: reply.members.contains(&p.node_id),
                    auth_failures: p.auth_failures,
                    decode_failures: p.decode_failures,
                    links: p
                        .links
                        .iter()
                        .map(|l| LinkJson {
                            link: l.link,
                            address: &l.address,
                            connected: l.connected,
                            rtt_us: l.rtt_us,
                        })
                        .collect(),
                })
                .collect(),
        })?,
        Format::Text => print_text(&render(&reply))?,
    }
    Ok(Code::Success)
}

fn render(reply: &RingStatusReply) -> String {
    let members: Vec<String> = reply.members.iter().map(u32::to_string).collect();
    let mut text = format!(
        "Local node ID {}, ring {} ({})\nMembers: {}\n\n{:>6}  {:<22}  {:<12}  {:>13}  {:>15}  Links\n",
        reply.node_id,
        reply.ring_id,
        reply.state,
        members.join(" "),
        "Nodeid",
        "Address",
        "Status",
        "Auth failures",
        "Decode failures"
    );
    for peer in &reply.peers {
        let (node, status) = match peer.node_id {
            0 => ("-".to_owned(), "not in nodelist"),
            id if id == reply.node_id => (id.to_string(), "localhost"),
            id if reply.members.contains(&id) => (id.to_string(), "connected"),
            id => (id.to_string(), "disconnected"),
        };
        let links: Vec<String> = peer
            .links
            .iter()
            .map(|l| match (l.connected, peer.node_id == reply.node_id) {
                (_, true) => format!("{}:local", l.link),
                (true, false) => format!("{}:up", l.link),
                (false, false) => format!("{}:down", l.link),
            })
            .collect();
        let _ = writeln!(
            text,
            "{node:>6}  {:<22}  {status:<12}  {:>13}  {:>15}  {}",
            peer.address,
            peer.auth_failures,
            peer.decode_failures,
            links.join(" ")
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use baton_proto::ring::{GroupInfo, GroupMember, Peer, PeerLink};

    use super::*;

    #[test]
    fn renders_groups_with_their_members() {
        let reply = ListGroupsReply {
            groups: vec![GroupInfo {
                name: "crmd".into(),
                members: vec![
                    GroupMember {
                        node_id: 1,
                        pid: 812,
                    },
                    GroupMember {
                        node_id: 2,
                        pid: 799,
                    },
                ],
            }],
        };
        assert_eq!(
            render_groups(&reply),
            "Group Name                       PID   Node ID\n\
             crmd\n\
             \x20                                812         1\n\
             \x20                                799         2\n"
        );
    }

    fn link(link: u32, connected: bool) -> PeerLink {
        PeerLink {
            link,
            address: format!("10.{link}.0.3:5405"),
            connected,
            rtt_us: if connected { 120 } else { 0 },
        }
    }

    #[test]
    fn renders_members_and_counters() {
        let reply = RingStatusReply {
            node_id: 1,
            ring_id: "1.9".into(),
            state: "operational".into(),
            members: vec![1, 2],
            peers: vec![
                Peer {
                    node_id: 1,
                    address: "10.0.0.1:5405".into(),
                    auth_failures: 0,
                    decode_failures: 0,
                    links: vec![link(0, true)],
                },
                Peer {
                    node_id: 3,
                    address: "10.0.0.3:5405".into(),
                    auth_failures: 7,
                    decode_failures: 1,
                    links: vec![link(0, false), link(1, true)],
                },
            ],
        };
        let text = render(&reply);
        assert!(text.starts_with("Local node ID 1, ring 1.9 (operational)\nMembers: 1 2\n"));
        assert!(text.contains("     1  10.0.0.1:5405           localhost"));
        assert!(text.contains(
            "     3  10.0.0.3:5405           disconnected              7                1  0:down 1:up"
        ));
    }
}
