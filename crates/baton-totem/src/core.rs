//! The `Totem` state machine: public API, packet dispatch and timers.
//! The protocol steps live in `operational`, `membership` and `recovery`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use crate::codec::{self, Body, CommitToken, OrfToken, Packet};
use crate::config::{Config, SEQ_LIMIT};
use crate::ids::{Millis, NodeId, RingId, Seq};
use crate::output::{Backpressure, Destination, Output, Rejected};
use crate::store::MessageStore;

/// Protocol states (FACTS §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Operational,
    Gather,
    Commit,
    Recovery,
    /// After `leave`: the node ignores everything.
    Left,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    TokenLoss,
    TokenRetransmit,
    Hold,
    Merge,
    Join,
    Consensus,
}

const TIMER_COUNT: usize = 6;

/// Counters one node keeps between its own token visits in one ring.
#[derive(Debug, Default)]
pub(crate) struct VisitMemory {
    pub last_token_seq: Option<u64>,
    pub prev_seq: Option<Seq>,
    pub sent_prev_visit: u32,
    pub backlog_prev_visit: u32,
    pub seq_unchanged_visits: u32,
    pub aru_stuck_visits: u32,
    /// How many visits each missing seq has been seen missing.
    pub missing_visits: BTreeMap<Seq, u32>,
}

/// Gather-state bookkeeping (FACTS §1.3).
#[derive(Debug, Default)]
pub(crate) struct Gather {
    pub proc_set: BTreeSet<NodeId>,
    pub failed_set: BTreeSet<NodeId>,
    pub consensus: BTreeSet<NodeId>,
    /// The node whose ring pulled our ring into this gather, and that ring's
    /// seq: any join it sent from an older ring is stale.
    pub pulled_in_by: Option<(NodeId, u64)>,
}

/// What the completed commit token told us, kept until the ring installs.
#[derive(Debug)]
pub(crate) struct PendingInstall {
    pub transitional: Vec<NodeId>,
    /// Old-ring messages we still have to re-send, encapsulated.
    pub resend: VecDeque<Seq>,
    pub store: MessageStore,
    /// The representative has sent the first ORF token.
    pub first_token_sent: bool,
}

/// One node's Totem SRP protocol core. Sans-IO: feed it packets and timer
/// ticks, drain `poll_output` after every call.
#[derive(Debug)]
pub struct Totem {
    pub(crate) config: Config,
    pub(crate) me: NodeId,
    pub(crate) now: Millis,
    pub(crate) started: bool,
    pub(crate) state: State,
    pub(crate) outputs: VecDeque<Output>,
    /// Packets addressed to ourselves (a singleton ring passes the token to
    /// itself); handled on the next `handle_timer`.
    pub(crate) loopback: VecDeque<Vec<u8>>,
    timers: [Option<Millis>; TIMER_COUNT],
    /// The ring we are committed to, and its members in ring order.
    pub(crate) ring_id: RingId,
    pub(crate) members: Vec<NodeId>,
    pub(crate) ring_seq_max: u64,
    /// The last ring whose regular configuration we delivered (at start-up a
    /// private ring id no other node can hold), and its messages.
    pub(crate) installed_members: Vec<NodeId>,
    pub(crate) installed: MessageStore,
    pub(crate) recovery: Option<PendingInstall>,
    pub(crate) submitted: VecDeque<Arc<[u8]>>,
    pub(crate) gather: Gather,
    pub(crate) visit: VisitMemory,
    pub(crate) held_token: Option<OrfToken>,
    /// The last token we forwarded, re-sent on `token_retransmit`.
    pub(crate) last_token_sent: Option<(NodeId, Vec<u8>)>,
    pub(crate) merge_probe_high: Option<Seq>,
    pub(crate) last_join_at: Option<Millis>,
}

impl Totem {
    /// Creates a node that will start gathering on its first input.
    /// `persisted_ring_seq` is the last value the driver persisted for this
    /// node (0 if none); we start above it so our ring ids keep growing
    /// across restarts (FACTS §1.1).
    #[must_use]
    pub fn new(config: Config, me: NodeId, persisted_ring_seq: u64) -> Totem {
        config.assert_valid();
        assert!(me.0 != 0, "node id 0 is reserved");
        // A persisted seq is ours, but a damaged file must not overflow it.
        let ring_id = RingId {
            seq: persisted_ring_seq.min(SEQ_LIMIT) + 1,
            rep: me,
        };
        let ahead_max = config.ring_messages_max;
        Totem {
            config,
            me,
            now: Millis(0),
            started: false,
            state: State::Gather,
            outputs: VecDeque::new(),
            loopback: VecDeque::new(),
            timers: [None; TIMER_COUNT],
            ring_id,
            members: vec![me],
            ring_seq_max: ring_id.seq,
            installed_members: vec![me],
            installed: MessageStore::new(ring_id, ahead_max),
            recovery: None,
            submitted: VecDeque::new(),
            gather: Gather::default(),
            visit: VisitMemory::default(),
            held_token: None,
            last_token_sent: None,
            merge_probe_high: None,
            last_join_at: None,
        }
    }

    #[must_use]
    pub fn node_id(&self) -> NodeId {
        self.me
    }

    #[must_use]
    pub fn state(&self) -> State {
        self.state
    }

    /// The ring we are committed to (installed once OPERATIONAL).
    #[must_use]
    pub fn ring_id(&self) -> RingId {
        self.ring_id
    }

    #[must_use]
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// Submitted messages not yet multicast.
    #[must_use]
    pub fn submit_queue_len(&self) -> usize {
        self.submitted.len()
    }

    /// Messages held for retransmission and recovery.
    #[must_use]
    pub fn stored_message_count(&self) -> usize {
        self.installed.messages.len() + self.recovery.as_ref().map_or(0, |r| r.store.messages.len())
    }

    /// Queues an application message for agreed-order delivery to the ring.
    pub fn submit(&mut self, payload: Vec<u8>) -> Result<(), Backpressure> {
        if payload.len() > self.config.payload_bytes_max {
            return Err(Backpressure::PayloadTooLarge {
                bytes: payload.len(),
                max: self.config.payload_bytes_max,
            });
        }
        if self.submitted.len() >= self.config.submit_queue_max {
            return Err(Backpressure::QueueFull {
                queued: self.submitted.len(),
            });
        }
        let was_idle = self.submitted.is_empty();
        self.submitted.push_back(Arc::from(payload));
        if was_idle && self.state == State::Operational {
            self.cancel_token_hold();
        }
        Ok(())
    }

    /// Leaves the ring cleanly: tells the others (a join naming ourselves
    /// failed) so they skip the consensus wait, then goes silent.
    pub fn leave(&mut self) {
        let mut proc_list: BTreeSet<NodeId> = self.members.iter().copied().collect();
        proc_list.extend(self.gather.proc_set.iter().copied());
        let join = codec::Join {
            ring_seq: self.ring_id.seq,
            leave: true,
            proc_list: proc_list.into_iter().collect(),
            failed_list: vec![self.me],
        };
        self.send(Destination::Broadcast, Body::Join(join));
        self.state = State::Left;
        self.timers = [None; TIMER_COUNT];
        self.loopback.clear();
    }

    /// Feeds one received packet. A packet that does not decode, or claims
    /// a sender other than the one the transport authenticated, is dropped
    /// and the reason returned for the driver to count.
    pub fn handle_packet(
        &mut self,
        now: Millis,
        from: NodeId,
        bytes: &[u8],
    ) -> Result<(), Rejected> {
        self.advance_clock(now);
        self.ensure_started();
        let packet = codec::decode(bytes)?;
        if packet.sender != from || from == self.me {
            return Err(Rejected::WrongSender {
                claimed: packet.sender,
            });
        }
        self.check_bounds(&packet)?;
        self.dispatch(packet);
        Ok(())
    }

    /// Runs expired timers and looped-back packets.
    pub fn handle_timer(&mut self, now: Millis) {
        self.advance_clock(now);
        self.ensure_started();
        let looped = self.loopback.len();
        for _ in 0..looped {
            if let Some(bytes) = self.loopback.pop_front()
                && let Ok(packet) = codec::decode(&bytes)
            {
                self.dispatch(packet);
            }
        }
        // Each firing re-arms at most itself in the future, so this loop is
        // bounded by the number of timers.
        for _ in 0..TIMER_COUNT * 2 {
            let Some(timer) = self.expired_timer() else {
                break;
            };
            self.timers[timer as usize] = None;
            self.fire(timer);
        }
        self.check_consensus();
    }

    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When `handle_timer` next needs to run.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Millis> {
        if self.state == State::Left {
            return None;
        }
        if !self.started || !self.loopback.is_empty() {
            return Some(self.now);
        }
        self.timers.iter().flatten().copied().min()
    }

    fn advance_clock(&mut self, now: Millis) {
        debug_assert!(now >= self.now, "the driver's clock must be monotonic");
        self.now = self.now.max(now);
    }

    fn ensure_started(&mut self) {
        if !self.started && self.state != State::Left {
            self.started = true;
            self.enter_gather();
        }
    }

    fn dispatch(&mut self, packet: Packet) {
        if self.state == State::Left {
            return;
        }
        let from = packet.sender;
        match packet.body {
            Body::Token(token) => self.on_orf_token(token),
            Body::Mcast(mcast) => self.on_mcast(from, mcast),
            Body::MergeDetect { ring_id } => self.on_foreign_ring_hint(from, ring_id),
            Body::Join(join) => self.on_join(from, join),
            Body::Commit(token) => self.on_commit_token(token),
            Body::HoldCancel { ring_id } => {
                if ring_id == self.ring_id {
                    self.release_held_token();
                }
            }
        }
        self.check_consensus();
    }

    fn expired_timer(&self) -> Option<Timer> {
        const ALL: [Timer; TIMER_COUNT] = [
            Timer::TokenLoss,
            Timer::TokenRetransmit,
            Timer::Hold,
            Timer::Merge,
            Timer::Join,
            Timer::Consensus,
        ];
        ALL.into_iter()
            .filter(|t| self.timers[*t as usize].is_some_and(|at| at <= self.now))
            .min_by_key(|t| self.timers[*t as usize])
    }

    fn fire(&mut self, timer: Timer) {
        match (timer, self.state) {
            (Timer::TokenLoss, State::Operational | State::Commit | State::Recovery) => {
                self.enter_gather()
            }
            (Timer::TokenRetransmit, State::Operational | State::Commit | State::Recovery) => {
                if let Some((to, packet)) = &self.last_token_sent {
                    let (to, packet) = (*to, packet.clone());
                    self.send_bytes(to, packet);
                    self.arm(Timer::TokenRetransmit, self.config.token_retransmit_ms);
                }
            }
            (Timer::Hold, State::Operational) => self.release_held_token(),
            (Timer::Merge, State::Operational) => self.probe_for_merge(),
            (Timer::Join, State::Gather) => {
                self.send_join();
                self.arm(Timer::Join, self.config.join_ms);
            }
            (Timer::Consensus, State::Gather) => self.consensus_expired(),
            // A timer left over from a state we have since left.
            _ => {}
        }
    }

    pub(crate) fn arm(&mut self, timer: Timer, after_ms: u64) {
        self.timers[timer as usize] = Some(self.now.plus(after_ms));
    }

    pub(crate) fn disarm(&mut self, timer: Timer) {
        self.timers[timer as usize] = None;
    }

    pub(crate) fn disarm_all(&mut self) {
        self.timers = [None; TIMER_COUNT];
    }

    pub(crate) fn send(&mut self, to: Destination, body: Body) {
        let packet = codec::encode(&Packet {
            sender: self.me,
            body,
        });
        match to {
            Destination::Node(node) => self.send_bytes(node, packet),
            Destination::Broadcast => self.outputs.push_back(Output::Send { to, packet }),
        }
    }

    pub(crate) fn send_bytes(&mut self, to: NodeId, packet: Vec<u8>) {
        if to == self.me {
            self.loopback.push_back(packet);
        } else {
            self.outputs.push_back(Output::Send {
                to: Destination::Node(to),
                packet,
            });
        }
    }

    /// Sends a token (ORF or commit) and remembers it for retransmission.
    pub(crate) fn forward_token(&mut self, to: NodeId, body: Body) {
        let packet = codec::encode(&Packet {
            sender: self.me,
            body,
        });
        self.last_token_sent = Some((to, packet.clone()));
        self.send_bytes(to, packet);
        self.arm(Timer::TokenRetransmit, self.config.token_retransmit_ms);
    }

    /// The member after us in ring order, wrapping around.
    pub(crate) fn next_member(&self, ring: &[NodeId]) -> NodeId {
        let index = ring.iter().position(|n| *n == self.me);
        debug_assert!(index.is_some(), "we only pass tokens of rings we belong to");
        let index = index.unwrap_or(0);
        ring[(index + 1) % ring.len()]
    }

    pub(crate) fn persist_ring_seq(&mut self, seq: u64) {
        self.outputs.push_back(Output::PersistRingSeq(seq));
    }

    pub(crate) fn on_commit_token(&mut self, token: CommitToken) {
        self.ring_seq_max = self.ring_seq_max.max(token.ring_id.seq);
        match self.state {
            State::Gather => self.commit_rotation_one(token),
            State::Commit | State::Recovery => self.commit_rotation_two(token),
            State::Operational | State::Left => {}
        }
    }
}
