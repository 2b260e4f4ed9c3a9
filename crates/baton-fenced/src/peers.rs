//! The fencers' process group, `baton-fenced`, through ringd: each fencing
//! that begins or ends is told to every fencer, and a fencer that joins is
//! sent the whole history by the longest-standing member, so every node
//! can answer `baton fence history`, even after its fencer restarted.
//! Without ringd the fencer still fences; it joins once ringd is there.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_proto::daemon::InfoRequest;
use baton_proto::daemon::daemon_client::DaemonClient;
use baton_proto::fenced::{
    Delegation, FenceEvent, FenceState, FencerMessage, HistoryReply, fencer_message,
};
use baton_proto::group::Group;
use baton_proto::ring::ring_client::RingClient;
use baton_proto::ring::{GroupMember, RingStatusRequest, group_event};
use prost::Message;
use tokio::sync::{mpsc, oneshot};

use crate::history::History;

pub const GROUP: &str = "baton-fenced";
const RETRY: Duration = Duration::from_secs(1);
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Peers {
    history: Arc<Mutex<History>>,
    sends: Mutex<Option<mpsc::Sender<Vec<u8>>>>,
    /// This node's name as ringd knows it (`--node` or the nodelist's),
    /// once learned; the host name until then.
    name: Mutex<String>,
    /// This node's id, once ringd told it.
    node_id: Mutex<Option<u32>>,
    /// The nodes whose fencer is in the group now.
    fencers: Mutex<Vec<u32>>,
    /// Delegated fencings this node waits for, by history id.
    waiters: Mutex<HashMap<String, oneshot::Sender<FenceEvent>>>,
    /// Fencings other fencers delegated to this one.
    delegated: mpsc::Sender<Delegation>,
}

/// Delegated fencings waiting for this fencer.
const DELEGATION_QUEUE: usize = 16;

impl Peers {
    /// Starts following the group in the background; the fencings other
    /// fencers delegate to this one come out of the receiver.
    pub fn start(
        ringd_socket: PathBuf,
        history: Arc<Mutex<History>>,
    ) -> (Arc<Peers>, mpsc::Receiver<Delegation>) {
        let (delegated, delegations) = mpsc::channel(DELEGATION_QUEUE);
        let peers = Arc::new(Peers {
            history,
            sends: Mutex::new(None),
            name: Mutex::new(baton_startup::node_name()),
            node_id: Mutex::new(None),
            fencers: Mutex::new(Vec::new()),
            waiters: Mutex::new(HashMap::new()),
            delegated,
        });
        let follower = Arc::clone(&peers);
        tokio::spawn(async move {
            loop {
                follower.follow(&ringd_socket).await;
                tokio::time::sleep(RETRY).await;
            }
        });
        (peers, delegations)
    }

    pub fn node_id(&self) -> Option<u32> {
        *lock(&self.node_id)
    }

    /// The nodes whose fencer is in the group now, ascending.
    pub fn fencers(&self) -> Vec<u32> {
        lock(&self.fencers).clone()
    }

    /// Asks the fencer of `delegation.executor_node_id` to carry out a
    /// fencing; its final record comes back on the receiver.
    pub fn delegate(
        &self,
        delegation: Delegation,
    ) -> Result<oneshot::Receiver<FenceEvent>, String> {
        let (tx, rx) = oneshot::channel();
        lock(&self.waiters).insert(delegation.id.clone(), tx);
        let message = FencerMessage {
            message: Some(fencer_message::Message::Delegation(delegation)),
        };
        let sent = lock(&self.sends)
            .as_ref()
            .is_some_and(|sends| sends.try_send(message.encode_to_vec()).is_ok());
        if sent {
            Ok(rx)
        } else {
            Err(
                "this node's fencer is not in the fencers' group (is baton-ringd running?)"
                    .to_owned(),
            )
        }
    }

    /// Hands a final record to whoever waits for it.
    fn settle(&self, event: &FenceEvent) {
        if event.state() == FenceState::Pending {
            return;
        }
        if let Some(waiter) = lock(&self.waiters).remove(&event.id) {
            let _ = waiter.send(event.clone());
        }
    }

    pub fn name(&self) -> String {
        lock(&self.name).clone()
    }

    pub fn history(&self) -> &Mutex<History> {
        &self.history
    }

    /// Records `event` here and tells the other fencers.
    pub fn record(&self, event: FenceEvent) {
        lock(&self.history).record(event.clone());
        self.settle(&event);
        let message = FencerMessage {
            message: Some(fencer_message::Message::Event(event)),
        };
        if let Some(sends) = lock(&self.sends).as_ref()
            && sends.try_send(message.encode_to_vec()).is_err()
        {
            tracing::warn!(
                "cannot tell the other fencers of a fencing now; they learn it when they next join"
            );
        }
    }

    /// One membership of the group, until ringd goes away.
    async fn follow(&self, ringd_socket: &std::path::Path) {
        let Some((node_id, name)) = ringd_identity(ringd_socket).await else {
            return;
        };
        *lock(&self.name) = name;
        *lock(&self.node_id) = Some(node_id);
        let me = GroupMember {
            node_id,
            pid: std::process::id(),
        };
        let Ok((group, mut events)) = Group::join(ringd_socket, GROUP, std::process::id()).await
        else {
            return;
        };
        tracing::info!(group = GROUP, "joined the fencers' group");
        *lock(&self.sends) = Some(group.sends.clone());
        while let Some(event) = events.recv().await {
            match event {
                group_event::Event::View(view) => {
                    let mut fencers: Vec<u32> = view.members.iter().map(|m| m.node_id).collect();
                    fencers.dedup();
                    *lock(&self.fencers) = fencers;
                    let joined: Vec<GroupMember> =
                        view.joined.iter().filter_map(|c| c.member).collect();
                    let longest_standing = view.members.iter().find(|m| !joined.contains(m));
                    if !joined.is_empty() && longest_standing == Some(&me) {
                        self.send_history(&group);
                    }
                }
                group_event::Event::Message(message) => self.heard(&message.payload),
                group_event::Event::Ring(_) => {}
            }
        }
        *lock(&self.sends) = None;
        lock(&self.fencers).clear();
        tracing::info!(group = GROUP, "left the fencers' group (ringd went away)");
    }

    fn send_history(&self, group: &Group) {
        let events = lock(&self.history).of("");
        let message = FencerMessage {
            message: Some(fencer_message::Message::History(HistoryReply { events })),
        };
        if group.sends.try_send(message.encode_to_vec()).is_err() {
            tracing::warn!("cannot send the fencing history to a fencer that joined");
        }
    }

    fn heard(&self, payload: &[u8]) {
        let message = match FencerMessage::decode(payload) {
            Ok(FencerMessage { message: Some(m) }) => m,
            Ok(_) | Err(_) => {
                tracing::warn!(
                    bytes = payload.len(),
                    "a fencer sent a message this one cannot read; ignored"
                );
                return;
            }
        };
        let events = match message {
            fencer_message::Message::Event(event) => vec![event],
            fencer_message::Message::History(history) => history.events,
            fencer_message::Message::Delegation(delegation) => {
                if Some(delegation.executor_node_id) == self.node_id()
                    && self.delegated.try_send(delegation).is_err()
                {
                    tracing::warn!(
                        "too many fencings delegated to this node at once; one is refused"
                    );
                }
                return;
            }
        };
        for event in events {
            lock(&self.history).record(event.clone());
            self.settle(&event);
        }
    }
}

/// This node's id and ringd's name for it.
async fn ringd_identity(socket: &std::path::Path) -> Option<(u32, String)> {
    let channel = baton_proto::client::connect(socket, CALL_TIMEOUT)
        .await
        .ok()?;
    let node_id = RingClient::new(channel.clone())
        .ring_status(RingStatusRequest {})
        .await
        .ok()?
        .into_inner()
        .node_id;
    let info = DaemonClient::new(channel).info(InfoRequest {}).await.ok()?;
    let name = Some(info.into_inner().node)
        .filter(|name| !name.is_empty())
        .unwrap_or_else(baton_startup::node_name);
    Some((node_id, name))
}

/// A poisoned lock only means another request panicked midway; the
/// history itself is always whole (it is replaced, never edited in place).
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
