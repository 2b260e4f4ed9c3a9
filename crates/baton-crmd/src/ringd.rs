//! crmd's side of ringd: who this node is, the `baton-crmd` process group
//! and the quorum, each over ringd.sock.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use baton_controller::{GroupEvent, LeaveReason, Member, NodeId};
use baton_proto::daemon::InfoRequest;
use baton_proto::daemon::daemon_client::DaemonClient;
pub use baton_proto::group::Group;
use baton_proto::ring::ring_client::RingClient;
use baton_proto::ring::{ChangeReason, QuorumStatusRequest, RingStatusRequest, group_event};
use tokio::sync::{mpsc, watch};
use tokio_stream::StreamExt;

use crate::ClusterFacts;

/// The controllers' process group.
pub const GROUP: &str = "baton-crmd";
/// How long crmd waits at start for ringd to answer.
const STARTUP_WAIT: Duration = Duration::from_secs(5);
/// Calls to ringd that answer at once; the group stream is not one.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// The quorum stream lives as long as crmd.
const STREAM_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);
/// Group events waiting for the controller.
const EVENT_QUEUE: usize = 256;

#[derive(Debug, Clone)]
pub struct LocalNode {
    pub id: u32,
    pub name: String,
}

/// This node's id (from ringd) and name (the nodelist's, else the one
/// ringd goes by: `--node` or the host name).
pub async fn local_node(socket: &Path, facts: &ClusterFacts) -> anyhow::Result<LocalNode> {
    let deadline = Instant::now() + STARTUP_WAIT;
    let channel = loop {
        match baton_proto::client::connect(socket, CALL_TIMEOUT).await {
            Ok(channel) => break channel,
            Err(error) if Instant::now() >= deadline => return Err(error.into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let mut ring = RingClient::new(channel.clone());
    let id = ring
        .ring_status(RingStatusRequest {})
        .await
        .context("ringd did not answer RingStatus")?
        .into_inner()
        .node_id;
    let from_nodelist = facts
        .nodelist
        .iter()
        .find(|(node, _)| *node == id)
        .and_then(|(_, name)| name.clone());
    let name = match from_nodelist {
        Some(name) => name,
        None => DaemonClient::new(channel)
            .info(InfoRequest {})
            .await
            .ok()
            .map(|info| info.into_inner().node)
            .filter(|name| !name.is_empty())
            .unwrap_or_else(hostname),
    };
    Ok(LocalNode { id, name })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}

/// Joins the controllers' group as process `pid`; its events, as the
/// controller reads them, until ringd goes away.
pub async fn join_group(
    socket: &Path,
    pid: u32,
) -> anyhow::Result<(Group, mpsc::Receiver<GroupEvent>)> {
    let (group, mut raw) = Group::join(socket, GROUP, pid).await?;
    let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
    tokio::spawn(async move {
        while let Some(event) = raw.recv().await {
            if let Some(event) = convert(event)
                && events_tx.send(event).await.is_err()
            {
                return;
            }
        }
    });
    Ok((group, events))
}

fn member(m: Option<baton_proto::ring::GroupMember>) -> Option<Member> {
    m.map(|m| Member {
        node: NodeId(m.node_id),
        pid: m.pid,
    })
}

fn convert(event: group_event::Event) -> Option<GroupEvent> {
    Some(match event {
        group_event::Event::View(view) => GroupEvent::View {
            members: view
                .members
                .into_iter()
                .filter_map(|m| member(Some(m)))
                .collect(),
            joined: view
                .joined
                .into_iter()
                .filter_map(|c| member(c.member))
                .collect(),
            left: view
                .left
                .into_iter()
                .filter_map(|c| {
                    let reason = match c.reason() {
                        ChangeReason::Leave => LeaveReason::Leave,
                        ChangeReason::NodeDown => LeaveReason::NodeDown,
                        _ => LeaveReason::ProcessDown,
                    };
                    Some((member(c.member)?, reason))
                })
                .collect(),
        },
        group_event::Event::Message(message) => GroupEvent::Message {
            sender: member(message.sender)?,
            payload: message.payload,
        },
        group_event::Event::Ring(ring) => GroupEvent::Ring {
            members: ring.members.into_iter().map(NodeId).collect(),
        },
    })
}

/// Quorum as ringd judges it, and the ring members it was judged for.
pub type Quorum = (bool, Vec<baton_controller::NodeId>);

/// Follows ringd's quorum into a watch channel (`None` while ringd cannot
/// be reached), reconnecting for as long as crmd runs.
pub fn follow_quorum(socket: PathBuf) -> watch::Receiver<Option<Quorum>> {
    let (tx, rx) = watch::channel(None);
    tokio::spawn(async move {
        loop {
            if let Ok(channel) = baton_proto::client::connect(&socket, STREAM_TIMEOUT).await
                && let Ok(stream) = RingClient::new(channel)
                    .watch_quorum(QuorumStatusRequest {})
                    .await
            {
                let mut stream = stream.into_inner();
                while let Some(Ok(status)) = stream.next().await {
                    let members = status
                        .members
                        .iter()
                        .map(|m| baton_controller::NodeId(m.node_id))
                        .collect();
                    if tx.send(Some((status.quorate, members))).is_err() {
                        return;
                    }
                }
            }
            tx.send_if_modified(|q| q.take().is_some());
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    rx
}
