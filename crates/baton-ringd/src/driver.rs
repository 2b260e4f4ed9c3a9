//! The tokio shell around the Totem core: real timers, ring sequence
//! persistence, votequorum and process groups fed in agreed order; the
//! network is [`Transport`]'s.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use baton_cpg::{Action, ClientId, Groups, Reason};
use baton_ring::bundle;
use baton_totem::{ConfigKind, Millis, NodeId, Output, Totem};
use tokio::sync::mpsc;

use baton_proto::ring::{QuorumMember, QuorumStatusReply, RingStatusReply};
use baton_quorum::Quorum;

use crate::groups::{ClientSink, GroupCommand};
use crate::ringseq;
use crate::status::{QuorumSnapshot, Snapshot};
use crate::timeliness::PauseDetector;
use crate::transport::{Received, Transport};

/// Ring messages kept queued in the core for the next token visits: about
/// two visits' worth (max_messages is 17), so every visit is full while the
/// rest wait here to be packed into bundles.
const CORE_QUEUE_TARGET: usize = 32;
/// Client sends wait while this many payloads wait to be packed: under
/// saturation a message spends milliseconds, not seconds, in queues.
const OUTGOING_HIGH_WATER: usize = 1024;
/// Largest datagram we accept; Totem packets stay well below it.
const RECV_BUFFER_BYTES: usize = 65_536;
pub struct Driver {
    pub totem: Totem,
    quorum: Quorum,
    groups: Groups,
    commands: mpsc::Receiver<GroupCommand>,
    sinks: HashMap<ClientId, ClientSink>,
    /// Payloads for the ring, in order, not yet handed to the core.
    outgoing: VecDeque<Vec<u8>>,
    quorum_snapshot: QuorumSnapshot,
    transport: Transport,
    seq_file: PathBuf,
    epoch: Instant,
    pauses: PauseDetector,
    snapshot: Snapshot,
    /// Set when something the snapshot shows has changed.
    dirty: bool,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("node", &self.totem.node_id())
            .finish_non_exhaustive()
    }
}

impl Driver {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        totem: Totem,
        quorum: Quorum,
        quorum_snapshot: QuorumSnapshot,
        commands: mpsc::Receiver<GroupCommand>,
        transport: Transport,
        seq_file: PathBuf,
        snapshot: Snapshot,
        token: Duration,
    ) -> Driver {
        Driver {
            groups: Groups::new(totem.node_id()),
            totem,
            quorum,
            commands,
            sinks: HashMap::new(),
            outgoing: VecDeque::new(),
            quorum_snapshot,
            transport,
            seq_file,
            epoch: Instant::now(),
            pauses: PauseDetector::new(token),
            snapshot,
            dirty: true,
        }
    }

    fn now(&self) -> Millis {
        Millis(self.epoch.elapsed().as_millis() as u64)
    }

    /// Runs until `shutdown` completes or persisting the ring seq fails.
    pub async fn run(&mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::pin!(shutdown);
        let mut buf = vec![0u8; RECV_BUFFER_BYTES];
        let watchdog_period = sd_notify::watchdog_enabled().map(|p| p / 2);
        let mut watchdog =
            tokio::time::interval(watchdog_period.unwrap_or(Duration::from_secs(3600)));
        let mut ping = tokio::time::interval(self.transport.ping_period());
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut pause_check = tokio::time::interval(self.pauses.period());
        pause_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.totem.handle_timer(self.now());
        let mut shown = (self.totem.state(), self.totem.ring_id());
        loop {
            self.carry_out().await?;
            self.pump();
            // Submitting can release a held token or ask its holder to: send
            // that now, not at the next wake-up (a hold timeout later).
            self.carry_out().await?;
            let now_shown = (self.totem.state(), self.totem.ring_id());
            if self.dirty || now_shown != shown {
                shown = now_shown;
                self.publish();
            }
            let quorum_at = self.quorum.next_deadline().map(|at| Millis(at.0));
            let next = match (self.totem.next_deadline(), quorum_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let sleep = match next {
                Some(at) => {
                    let wait = at.0.saturating_sub(self.now().0);
                    Duration::from_millis(wait)
                }
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                () = &mut shutdown => break,
                Some(command) = self.commands.recv(), if self.accepting_clients() => {
                    self.group_command(command);
                    // Take what else has arrived, so the sends pack into
                    // bundles before the next pump.
                    while self.accepting_clients() {
                        let Ok(command) = self.commands.try_recv() else { break };
                        self.group_command(command);
                    }
                }
                received = self.transport.recv(&mut buf) => match received {
                    Ok((index, len, from)) => self.receive(index, from, &buf[..len]),
                    Err(error) => tracing::warn!(%error, "UDP receive failed"),
                },
                () = tokio::time::sleep(sleep) => {
                    let now = self.now();
                    self.totem.handle_timer(now);
                    self.quorum.handle_timer(baton_quorum::Millis(now.0));
                    self.quorum_changed();
                }
                _ = ping.tick() => {
                    self.transport.ping_all();
                    // Link states age even when nothing else changes.
                    self.dirty = true;
                }
                _ = pause_check.tick() => {
                    if let Some(gap) = self.pauses.tick(Instant::now()) {
                        tracing::warn!(
                            not_scheduled_ms = gap.as_millis() as u64,
                            threshold_ms = self.pauses.threshold().as_millis() as u64,
                            "ringd was not scheduled for longer than 80% of the token timeout; \
                             peers may have declared this node failed (raise token, or find \
                             what stalls the machine)"
                        );
                    }
                }
                _ = watchdog.tick(), if watchdog_period.is_some() => {
                    let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
                }
            }
        }
        self.totem.leave();
        self.carry_out().await
    }

    fn receive(&mut self, index: usize, from: SocketAddr, packet: &[u8]) {
        let (received, counted) = self.transport.open(index, from, packet);
        self.dirty |= counted;
        if let Received::Totem { from: node, plain } = received
            && let Err(rejected) = self.totem.handle_packet(self.now(), node, &plain)
        {
            self.dirty |= self.transport.count_rejected(from, &rejected);
        }
    }

    /// After every quorum input: multicast its NodeInfo in agreed order,
    /// log its events and refresh the status snapshot.
    fn quorum_changed(&mut self) {
        while let Some(info) = self.quorum.poll_transmit() {
            self.submit(info.encode());
        }
        while let Some(event) = self.quorum.poll_event() {
            tracing::info!(?event, "quorum");
        }
        let status = self.quorum.status();
        let reply = QuorumStatusReply {
            quorate: status.quorate,
            expected_votes: status.expected_votes.0,
            highest_expected: status.highest_expected.0,
            total_votes: status.total_votes.0,
            quorum: status.quorum.0,
            flags: status.flags.names().map(str::to_owned).collect(),
            wait_for_all_status: status.wait_for_all_status,
            ring_id: status.ring_id.map(|r| r.to_string()).unwrap_or_default(),
            members: status
                .members
                .iter()
                .map(|m| QuorumMember {
                    node_id: m.node_id.0,
                    name: m.name.clone().unwrap_or_default(),
                    votes: m.votes.0,
                })
                .collect(),
        };
        self.quorum_snapshot.send_if_modified(|current| {
            let changed = *current != reply;
            *current = reply;
            changed
        });
    }

    fn publish(&mut self) {
        self.dirty = false;
        let peers = self.transport.peer_status();
        let reply = RingStatusReply {
            node_id: self.totem.node_id().0,
            ring_id: self.totem.ring_id().to_string(),
            state: format!("{:?}", self.totem.state()).to_lowercase(),
            members: self.totem.members().iter().map(|n| n.0).collect(),
            peers,
        };
        // A poisoned lock only means a reader panicked; the data is ours.
        match self.snapshot.lock() {
            Ok(mut guard) => *guard = reply,
            Err(poisoned) => *poisoned.into_inner() = reply,
        }
    }

    async fn carry_out(&mut self) -> anyhow::Result<()> {
        while let Some(output) = self.totem.poll_output() {
            match output {
                Output::Send { to, packet } => self.transport.send(to, &packet).await,
                Output::PersistRingSeq(seq) => {
                    // Blocking fsync on purpose: nothing may go out before it.
                    ringseq::store(&self.seq_file, seq)?;
                }
                Output::ConfigChange {
                    kind,
                    ring_id,
                    members,
                    left,
                    joined,
                } => {
                    tracing::info!(?kind, %ring_id, ?members, ?left, ?joined, "configuration change");
                    match kind {
                        ConfigKind::Transitional => self.groups.transitional(&members),
                        ConfigKind::Regular => self.groups.regular(ring_id, &members, &joined),
                    }
                    self.group_actions();
                    if kind == ConfigKind::Regular {
                        let ids: Vec<_> =
                            members.iter().map(|m| baton_quorum::NodeId(m.0)).collect();
                        let ring = baton_quorum::RingId {
                            rep: baton_quorum::NodeId(ring_id.rep.0),
                            seq: ring_id.seq,
                        };
                        self.quorum.membership_changed(
                            baton_quorum::Millis(self.now().0),
                            ring,
                            &ids,
                        );
                        self.quorum_changed();
                    }
                }
                Output::Deliver { sender, payload } => {
                    let Some(parts) = bundle::unpack(&payload) else {
                        tracing::warn!(node = sender.0, "dropped a malformed bundle");
                        continue;
                    };
                    for part in parts {
                        self.deliver(sender, part);
                    }
                }
            }
        }
        Ok(())
    }

    /// One payload in agreed order, to the service it is for.
    fn deliver(&mut self, sender: NodeId, payload: &[u8]) {
        if let Some(info) = baton_quorum::NodeInfo::decode(payload) {
            self.quorum
                .handle_node_info(baton_quorum::NodeId(sender.0), info);
            self.quorum_changed();
        } else {
            self.groups.delivered(sender, payload);
            self.group_actions();
        }
    }

    fn accepting_clients(&self) -> bool {
        self.outgoing.len() < OUTGOING_HIGH_WATER
    }

    /// Queues a payload for the ring, after every payload queued before it;
    /// the loop pumps it into the core before it waits again.
    fn submit(&mut self, payload: Vec<u8>) {
        self.outgoing.push_back(payload);
    }

    /// Moves waiting payloads into the core, packed into bundles when more
    /// than one waits.
    fn pump(&mut self) {
        while self.totem.submit_queue_len() < CORE_QUEUE_TARGET {
            let Some(message) = bundle::pack(&mut self.outgoing) else {
                return;
            };
            if let Err(error) = self.totem.submit(message) {
                tracing::error!(%error, "the ring refused a payload");
            }
        }
    }

    fn group_command(&mut self, command: GroupCommand) {
        match command {
            GroupCommand::Join {
                client,
                group,
                pid,
                sink,
                reply,
            } => {
                let joined = self.groups.local_join(client, &group, pid);
                if joined.is_ok() {
                    self.sinks.insert(client, sink);
                }
                let _ = reply.send(joined);
            }
            GroupCommand::Send { client, payload } => {
                if let Err(error) = self.groups.local_send(client, &payload) {
                    tracing::warn!(client = client.0, %error, "group message refused");
                }
            }
            GroupCommand::Leave { client, reason } => self.drop_client(client, reason),
            GroupCommand::List { reply } => {
                let groups = self
                    .groups
                    .groups()
                    .map(|(name, members)| baton_proto::ring::GroupInfo {
                        name: name.to_owned(),
                        members: members.iter().map(|m| crate::groups::member(*m)).collect(),
                    })
                    .collect();
                let _ = reply.send(baton_proto::ring::ListGroupsReply { groups });
            }
        }
        self.group_actions();
    }

    fn drop_client(&mut self, client: ClientId, reason: Reason) {
        if self.sinks.remove(&client).is_some() {
            tracing::info!(
                client = client.0,
                reason = reason.as_str(),
                "process left its group"
            );
        }
        self.groups.local_leave(client, reason);
    }

    /// Carries out what the group machine asked for. A client whose event
    /// queue is full or closed is dropped as process down.
    fn group_actions(&mut self) {
        while let Some(action) = self.groups.poll_action() {
            match action {
                Action::Submit(payload) => self.submit(payload),
                Action::Notify { client, event } => {
                    let Some(sink) = self.sinks.get(&client) else {
                        continue;
                    };
                    match sink.events.try_send(crate::groups::to_proto(event)) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            tracing::warn!(
                                client = client.0,
                                "group member fell too far behind; removing it"
                            );
                            sink.evicted.store(true, Ordering::Relaxed);
                            self.drop_client(client, Reason::ProcDown);
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => {
                            self.drop_client(client, Reason::ProcDown);
                        }
                    }
                }
            }
        }
    }
}
