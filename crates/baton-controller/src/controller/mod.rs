//! The controller state machine: membership, join rounds, the DC, writes
//! and status, all applied in the group's delivery order.

mod executor;
mod fence_race;
mod transition;
mod writes;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use baton_cib::Cib;
use baton_cib::xml::Style;

use crate::replica::{self, Membership};
use crate::round::Round;
use crate::wire::{self, Announce, Message, NodeStatus, Reassembly, WireVersion};
use crate::{
    DROPPED_CONFIGURATION_ATTRIBUTE, Event, FenceEvent, GroupEvent, LeaveReason, LrmEvent, Member,
    Millis, NodeId, Output, Persisted, Request, RequestError, RequestId, Settings, Term, Version,
    Written,
};

/// The transient attribute a node that asked to shut down carries.
const SHUTDOWN_ATTRIBUTE: &str = "shutdown";
/// How long a node whose controller went away while the node stayed in the
/// ring is still counted online, so that a controller restart moves
/// nothing.
pub const CONTROLLER_RESTART_GRACE_MS: u64 = 5_000;
/// Pacemaker's `shutdown-escalation` default.
const DEFAULT_SHUTDOWN_ESCALATION_MS: u64 = 20 * 60 * 1000;

/// Configurations a replica remembers having passed through, so a join
/// round can tell an older copy of the winner's history from a divergent one.
const LINEAGE_MAX: usize = 64;

/// Held while a join round decides, applied after it in delivery order.
#[derive(Debug)]
enum Deferred {
    Message(Member, Box<Message>),
    Ring(Vec<NodeId>),
}

/// What was delivered during a round, and whether after the round decided.
/// Members can enter a merge round at different points (a node learns of
/// joiners as their messages arrive), but all decide at the same one, the
/// last announcement: only what came after it is applied, by everyone.
#[derive(Debug)]
struct Held {
    after_decision: bool,
    item: Deferred,
}

/// A client write this node sent and has not answered yet.
#[derive(Debug)]
struct Pending {
    request: RequestId,
    /// Set when the write went out in parts.
    part_id: Option<u64>,
    /// Set once it is applied here.
    applied: Option<writes::Progress>,
}

/// The controller of one node. See the crate documentation.
#[derive(Debug)]
pub struct Controller {
    settings: Settings,
    cib: Cib,
    joined: bool,
    view: Vec<Member>,
    ring: BTreeSet<NodeId>,
    names: BTreeMap<NodeId, String>,
    round: Option<Round>,
    deferred: VecDeque<Held>,
    dc: Option<NodeId>,
    /// The DC this node knew before the current round suspended it.
    last_dc: Option<NodeId>,
    had_dc: bool,
    settle_at: Option<Millis>,
    quorate: bool,
    /// The ring members that quorum was judged for; the DC plans only
    /// when they are the ring it knows, so that a plan never uses the
    /// quorum of a membership that has changed since.
    quorum_members: Option<BTreeSet<NodeId>>,
    /// The ring as last delivered, at once (`ring` follows it through the
    /// CIB's order, and skips rings delivered while a join round decided):
    /// what the DC compares quorum's members with.
    ring_now: BTreeSet<NodeId>,
    /// Nodes whose controller left because their node went down, while
    /// the ring change that removes them has not come yet.
    ring_behind: BTreeSet<NodeId>,
    next_seq: u64,
    next_part_id: u64,
    pending: BTreeMap<u64, Pending>,
    awaiting_history: bool,
    /// This node's transient attributes when the current round began, if it
    /// was a member before: they are its own, whatever the winner holds.
    own_attributes: Option<Vec<(String, String)>>,
    /// Nodes whose controller left while a round was deciding, and why.
    departed: BTreeMap<NodeId, LeaveReason>,
    /// Members' nodes whose status has not been published since the last
    /// round, with their transient attributes as the round left them: a
    /// change made since (a fail count, a write) is newer than what the
    /// node publishes, which it gathered before.
    status_pending: BTreeMap<NodeId, Vec<(String, String)>>,
    reassembly: Reassembly,
    /// The configuration last persisted: (version without num_updates,
    /// digest, term).
    persisted: Option<(Version, String, Term)>,
    /// Counted up by every view holding a majority of the cluster's nodes.
    term: Term,
    /// Nodes that confirmed the current term (`Message::Term`).
    term_confirmed: BTreeSet<NodeId>,
    /// (epoch, user digest) of the configurations this replica went
    /// through, oldest first, the current one last.
    lineage: VecDeque<(u64, String)>,
    outputs: VecDeque<Output>,
    malformed: u64,
    compacted_len: usize,
    /// The wall clock, seconds since the epoch, as last told.
    wall_s: i64,
    /// The DC's transition engine.
    transitions: transition::Transitions,
    /// What this node's lrmd runs for the cluster.
    local: executor::Local,
    /// Set once this node asked to shut down: when to go regardless.
    shutdown_at: Option<Millis>,
    /// Nodes whose controller went away while the node stayed in the ring:
    /// still online until they rejoin or the DC declares them lost.
    restarting: BTreeSet<NodeId>,
    /// On the DC: when each restarting node's grace ends.
    restart_deadlines: BTreeMap<NodeId, Millis>,
    /// Messages this controller sent that have not come back in the
    /// group's order yet: the DC plans only from a replica that holds
    /// everything it said.
    in_flight_sends: u64,
    /// Who left uncleanly under which DC: the two-node tie-break.
    split: fence_race::SplitMemory,
}

impl Controller {
    /// A controller starting from what its node kept on disk (nothing on a
    /// first start). Its status is not trusted and starts empty.
    #[must_use]
    pub fn new(settings: Settings, persisted: Option<Persisted>) -> Controller {
        let (mut cib, term) =
            persisted.map_or_else(|| (Cib::empty(), Term::default()), |p| (p.cib, p.term));
        let doc = cib.document_mut();
        let root = doc.root();
        if let Some(status) = doc.get(root).first_child("status").map(|s| s.id()) {
            let _ = doc.detach(status);
        }
        doc.append_new(root, "status", &[]);
        for stale in ["dc-uuid", "have-quorum"] {
            doc.remove_attr(root, stale);
        }
        doc.compact();
        let version = cib.version().unwrap_or_default();
        cib.set_version(Version {
            num_updates: 0,
            ..version
        });
        let persisted = cib.config_digest().map(|digest| {
            (
                Version {
                    num_updates: 0,
                    ..version
                },
                digest,
                term,
            )
        });
        let lineage = VecDeque::from([(version.epoch, replica::user_digest(&cib))]);
        let names = replica::node_names(&cib);
        let compacted_len = cib.document().arena_len();
        Controller {
            settings,
            cib,
            joined: false,
            view: Vec::new(),
            ring: BTreeSet::new(),
            names,
            round: None,
            deferred: VecDeque::new(),
            dc: None,
            last_dc: None,
            had_dc: false,
            settle_at: None,
            quorate: false,
            quorum_members: None,
            ring_now: BTreeSet::new(),
            ring_behind: BTreeSet::new(),
            next_seq: 0,
            next_part_id: 0,
            pending: BTreeMap::new(),
            awaiting_history: false,
            own_attributes: None,
            departed: BTreeMap::new(),
            status_pending: BTreeMap::new(),
            reassembly: Reassembly::default(),
            persisted,
            term,
            term_confirmed: BTreeSet::new(),
            lineage,
            outputs: VecDeque::new(),
            malformed: 0,
            compacted_len,
            wall_s: 0,
            transitions: transition::Transitions::default(),
            local: executor::Local::default(),
            shutdown_at: None,
            restarting: BTreeSet::new(),
            restart_deadlines: BTreeMap::new(),
            in_flight_sends: 0,
            split: fence_race::SplitMemory::default(),
        }
    }

    // ---- what the driver and its status queries read ----

    /// The local replica of the CIB.
    #[must_use]
    pub fn cib(&self) -> &Cib {
        &self.cib
    }

    #[must_use]
    pub fn version(&self) -> Version {
        self.cib.version().unwrap_or_default()
    }

    /// The digest of the configuration, as a change's [`crate::Base`] names it.
    #[must_use]
    pub fn config_digest(&self) -> String {
        self.cib.config_digest().unwrap_or_default()
    }

    /// The configuration a change made now is made from.
    #[must_use]
    pub fn base(&self) -> crate::Base {
        let version = self.version();
        crate::Base {
            admin_epoch: version.admin_epoch,
            epoch: version.epoch,
            digest: self.config_digest(),
        }
    }

    #[must_use]
    pub fn me(&self) -> Member {
        self.settings.me
    }

    #[must_use]
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// The DC, or `None` while a join round decides or before the first one.
    #[must_use]
    pub fn dc(&self) -> Option<NodeId> {
        self.dc
    }

    #[must_use]
    pub fn node_name(&self, node: NodeId) -> Option<&str> {
        self.names.get(&node).map(String::as_str)
    }

    /// Whether this controller is a member of the group.
    #[must_use]
    pub fn is_joined(&self) -> bool {
        self.joined
    }

    /// Whether a join round is deciding.
    #[must_use]
    pub fn in_round(&self) -> bool {
        self.round.is_some()
    }

    #[must_use]
    pub fn view(&self) -> &[Member] {
        &self.view
    }

    #[must_use]
    pub fn quorate(&self) -> bool {
        self.quorate
    }

    /// Whether every member published its status since the last round.
    #[must_use]
    pub fn status_complete(&self) -> bool {
        self.round.is_none() && self.status_pending.is_empty()
    }

    /// Whether this controller, as DC, has no transition running and none
    /// to plan (always true on other nodes): what it last planned is done.
    #[must_use]
    pub fn transition_idle(&self) -> bool {
        self.transitions.idle()
    }

    /// The term: views holding a majority of the cluster's nodes count it up.
    #[must_use]
    pub fn term(&self) -> Term {
        self.term
    }

    /// Group messages that did not decode.
    #[must_use]
    pub fn malformed_messages(&self) -> u64 {
        self.malformed
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    #[must_use]
    pub fn next_deadline(&self) -> Option<Millis> {
        [
            self.settle_at,
            self.transitions.next_deadline(),
            self.shutdown_at,
            self.restart_deadlines.values().min().copied(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- inputs ----

    pub fn handle_group(&mut self, now: Millis, event: GroupEvent) {
        match event {
            GroupEvent::View {
                members,
                joined,
                left,
            } => self.view_changed(now, members, &joined, &left),
            GroupEvent::Message { sender, payload } => self.message(now, sender, &payload),
            GroupEvent::Ring { members } => {
                self.ring_now = members.iter().copied().collect();
                self.ring_behind.clear();
                if !self.joined {
                    // The ring this controller is about to join.
                    self.ring = members.into_iter().collect();
                    return;
                }
                if self.round.is_some() {
                    self.hold(Deferred::Ring(members));
                } else {
                    self.ring_changed(members);
                }
            }
        }
        self.declare_lost_controllers(now);
        self.drive_transitions(now);
    }

    /// The wall clock, seconds since the epoch: what the scheduler judges
    /// failure timeouts and date rules by, and what results are stamped
    /// with. Give it before the input it goes with.
    pub fn handle_wall_clock(&mut self, wall_s: i64) {
        self.wall_s = wall_s;
    }

    pub fn handle_fence(&mut self, now: Millis, event: FenceEvent) {
        match event {
            FenceEvent::Done { request, result } => self.fence_done(request, result),
        }
        self.drive_transitions(now);
    }

    /// The node is asked to stop (SIGTERM): its resources move or stop
    /// first, then [`Output::Exit`]. Asked twice, or before joining, it
    /// goes at once.
    pub fn handle_shutdown(&mut self, now: Millis) {
        if self.shutdown_at.is_some() || !self.joined {
            self.outputs.push_back(Output::Exit {
                reason: if self.joined {
                    "asked twice: escalating the shutdown".to_owned()
                } else {
                    "not a member of the cluster: nothing to hand over".to_owned()
                },
            });
            return;
        }
        let escalation = self
            .cib
            .property_duration_ms("shutdown-escalation")
            .ok()
            .flatten()
            .unwrap_or(DEFAULT_SHUTDOWN_ESCALATION_MS);
        self.shutdown_at = Some(now.plus(escalation));
        self.event(Event::ShutdownRequested);
        self.send(&Message::ShutdownRequest {
            wall_s: self.wall_s,
        });
        self.drive_transitions(now);
    }

    /// The connection to the group is gone: every unanswered write fails and
    /// the controller starts over as a joiner when it reconnects.
    pub fn handle_group_lost(&mut self, _now: Millis) {
        for (_, pending) in std::mem::take(&mut self.pending) {
            self.reply(pending.request, Err(RequestError::ConnectionLost));
        }
        self.joined = false;
        self.view.clear();
        self.round = None;
        self.deferred.clear();
        self.last_dc = None;
        self.settle_at = None;
        self.reassembly.drop_all();
        self.status_pending.clear();
        self.departed.clear();
        self.awaiting_history = false;
        self.own_attributes = None;
        self.transitions.stand_down();
        self.in_flight_sends = 0;
        if self.dc.take().is_some() {
            self.event(Event::DcChanged { dc: None });
        }
    }

    pub fn handle_lrm(&mut self, now: Millis, event: LrmEvent) {
        match event {
            LrmEvent::History(records) => self.lrm_history(records),
            LrmEvent::Done { exec, result } => self.lrm_done(exec, &result),
            LrmEvent::Recurring(result) => self.lrm_recurring(&result),
            LrmEvent::Recorded(result) => self.lrm_recorded(&result),
            LrmEvent::Restarted => self.lrm_restarted(),
        }
        self.drive_transitions(now);
    }

    fn lrm_history(&mut self, mut records: Vec<crate::OpRecord>) {
        self.learn_from_lrmd(&records);
        // A round that started since will ask again when it ends.
        if !self.awaiting_history || self.round.is_some() || !self.joined {
            return;
        }
        self.awaiting_history = false;
        let me = self.settings.me.node;
        let attributes = self
            .own_attributes
            .take()
            .unwrap_or_else(|| replica::transient_attributes(&self.cib, me));
        records.extend(self.device_history().cloned());
        self.send(&Message::NodeStatus(NodeStatus {
            records,
            attributes,
        }));
    }

    /// This node's quorum, as its ring reports it, and the ring members
    /// it was judged for.
    pub fn handle_quorum(&mut self, now: Millis, quorate: bool, members: &[NodeId]) {
        self.quorate = quorate;
        self.quorum_members = Some(members.iter().copied().collect());
        if self.dc == Some(self.settings.me.node) && self.round.is_none() {
            self.publish_quorum();
        }
        self.drive_transitions(now);
    }

    pub fn handle_timer(&mut self, now: Millis) {
        if let Some(at) = self.settle_at
            && now >= at
        {
            self.settle_at = None;
            if self.dc.is_none()
                && !self.had_dc
                && self.round.is_none()
                && self.lowest_member() == Some(self.settings.me.node)
            {
                self.send(&Message::ClaimDc {
                    view: self.view.clone(),
                });
            }
        }
        if let Some(at) = self.shutdown_at
            && now >= at
        {
            self.outputs.push_back(Output::Exit {
                reason: "shutdown-escalation expired before the DC let this node go".to_owned(),
            });
        }
        self.declare_lost_controllers(now);
        self.drive_transitions(now);
    }

    /// The DC gives each restarting controller its grace, then declares it
    /// lost (a message, so every member marks its node at the same point).
    fn declare_lost_controllers(&mut self, now: Millis) {
        if self.dc != Some(self.settings.me.node) || self.round.is_some() {
            self.restart_deadlines.clear();
            return;
        }
        self.restart_deadlines
            .retain(|node, _| self.restarting.contains(node));
        for node in &self.restarting {
            self.restart_deadlines
                .entry(*node)
                .or_insert(now.plus(CONTROLLER_RESTART_GRACE_MS));
        }
        let lost: Vec<NodeId> = self
            .restart_deadlines
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(node, _)| *node)
            .collect();
        for node in lost {
            self.restart_deadlines.insert(node, Millis(u64::MAX));
            self.send(&Message::ControllerLost { node });
        }
    }

    pub fn handle_request(&mut self, _now: Millis, request: RequestId, body: Request) {
        if !self.joined {
            self.reply(request, Err(RequestError::NotJoined));
            return;
        }
        let write = match self.prepare_write(body) {
            Ok(write) => write,
            Err(error) => {
                self.reply(request, Err(error));
                return;
            }
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        let part_id = self.send(&Message::Write { seq, write });
        self.pending.insert(
            seq,
            Pending {
                request,
                part_id,
                applied: None,
            },
        );
    }

    // ---- membership ----

    fn view_changed(
        &mut self,
        now: Millis,
        members: Vec<Member>,
        joined: &[Member],
        left: &[(Member, LeaveReason)],
    ) {
        let was_member = self.joined;
        let dc_known = self.dc.or(self.last_dc);
        if !self.joined {
            if !joined.contains(&self.settings.me) {
                return;
            }
            self.joined = true;
        }
        // What a member sent before a view change was delivered before it.
        self.in_flight_sends = 0;
        self.view = members;
        let member_nodes = self.member_nodes();
        let departed: BTreeMap<NodeId, LeaveReason> = left
            .iter()
            .filter(|(m, _)| !member_nodes.contains(&m.node))
            .map(|(m, reason)| (m.node, *reason))
            .collect();
        for (member, _) in left {
            self.reassembly.drop_sender(*member);
        }
        let ring = &self.ring_now;
        self.ring_behind.extend(
            departed
                .iter()
                .filter(|(node, reason)| **reason == LeaveReason::NodeDown && ring.contains(node))
                .map(|(node, _)| *node),
        );
        if self.round.is_some() || !joined.is_empty() {
            // Recorded when the round ends, like the rest of the status.
            self.departed.extend(&departed);
            for member in joined {
                self.departed.remove(&member.node);
            }
        }
        let joined_nodes: Vec<NodeId> = joined.iter().map(|m| m.node).collect();
        self.forget_fence_failures(&joined_nodes);
        self.split
            .departed(dc_known, departed.iter().map(|(n, r)| (*n, *r)));
        self.split.rejoined(joined_nodes.iter().copied());
        if !joined.is_empty() {
            // The joiners missed the first parts of any message being
            // reassembled; every member drops those alike.
            for (sender, part_id) in self.reassembly.drop_all() {
                if sender == self.settings.me {
                    self.fail_part(part_id);
                }
            }
            if self.round.is_none() && was_member {
                let me = self.settings.me.node;
                self.own_attributes = Some(replica::transient_attributes(&self.cib, me));
            }
            self.start_round();
        } else if self.round.is_some() {
            self.start_round();
        } else {
            self.record_departures(&departed);
            self.nodes_left(&departed.keys().copied().collect::<Vec<_>>());
            if self.view_has_majority() {
                self.next_term(self.term.current + 1);
            }
            // Joiners never applied our writes: with them, the round answers.
            self.settle_confirmations();
            self.dc_after_leaves();
            self.arm_settle(now);
        }
    }

    fn ring_changed(&mut self, members: Vec<NodeId>) {
        let new: BTreeSet<NodeId> = members.into_iter().collect();
        let gone: Vec<NodeId> = self.ring.difference(&new).copied().collect();
        let mut changed = false;
        for node in gone {
            if let Some(uname) = self.names.get(&node).cloned() {
                changed |= replica::set_transient_attributes(&mut self.cib, node, &uname, &[]);
            }
        }
        self.ring = new;
        let ring = &self.ring;
        self.restarting.retain(|node| ring.contains(node));
        if changed {
            self.bump_status();
        }
        self.refresh_node_states(&BTreeSet::new());
        self.abort_transition("Membership change");
    }

    /// What a ring change does to the nodes out of the ring, for a ring
    /// adopted from a join round (which may hold a change the winner's CIB
    /// has not seen): they are not restarting and have no transient
    /// attributes. Every member adopts the same CIB and ring, so every
    /// member makes the same edits.
    fn forget_outside_ring(&mut self) {
        let ring = &self.ring;
        self.restarting.retain(|node| ring.contains(node));
        let mut changed = false;
        for (node, uname) in replica::node_names(&self.cib) {
            if !self.ring.contains(&node) && replica::has_node_state(&self.cib, node) {
                changed |= replica::set_transient_attributes(&mut self.cib, node, &uname, &[]);
            }
        }
        if changed {
            self.bump_status();
        }
    }

    /// Nodes whose controller is gone: a node that left the ring loses its
    /// transient attributes; one that left cleanly is expected down.
    fn record_departures(&mut self, departed: &BTreeMap<NodeId, LeaveReason>) {
        let mut changed = false;
        for (node, reason) in departed {
            let Some(uname) = self.names.get(node).cloned() else {
                continue;
            };
            changed |= match reason {
                LeaveReason::NodeDown => {
                    replica::set_transient_attributes(&mut self.cib, *node, &uname, &[])
                }
                // Its shutdown is done: when it comes back it is not leaving.
                LeaveReason::Leave => {
                    replica::set_transient(&mut self.cib, *node, &uname, SHUTDOWN_ATTRIBUTE, None)
                }
                LeaveReason::ProcessDown => {
                    if self.ring.contains(node) {
                        self.restarting.insert(*node);
                    }
                    false
                }
            };
        }
        if changed {
            self.bump_status();
        }
        let cleanly: BTreeSet<NodeId> = departed
            .iter()
            .filter(|(_, reason)| **reason == LeaveReason::Leave)
            .map(|(node, _)| *node)
            .collect();
        self.refresh_node_states(&cleanly);
    }

    fn member_nodes(&self) -> BTreeSet<NodeId> {
        self.view.iter().map(|m| m.node).collect()
    }

    fn lowest_member(&self) -> Option<NodeId> {
        self.view.iter().map(|m| m.node).min()
    }

    /// Rewrites every known node's membership fields from the view and the
    /// ring; `cleanly` left just now and are expected down.
    fn refresh_node_states(&mut self, cleanly: &BTreeSet<NodeId>) {
        let mut online = self.member_nodes();
        online.extend(self.restarting.intersection(&self.ring));
        let mut nodes: BTreeSet<NodeId> = self.names.keys().copied().collect();
        nodes.extend(&online);
        nodes.extend(&self.ring);
        let mut changed = false;
        for node in nodes {
            let Some(uname) = self.names.get(&node).cloned() else {
                continue;
            };
            let is_online = online.contains(&node);
            let in_ccm = is_online || self.ring.contains(&node);
            if !in_ccm && !replica::has_node_state(&self.cib, node) {
                continue;
            }
            // A node stays expected up from the time its controller was
            // online until it leaves cleanly or is fenced: the scheduler
            // fences a node expected up that is gone, or in the ring with
            // its controller gone. One in the ring whose controller was
            // never seen has no expected state, so a slow start is not
            // fenced; one out of the ring that nobody here knows the state
            // of (a merge can bring a node this side never saw) is taken
            // to be up, as Pacemaker's startup fencing takes a node never
            // seen: it may run anything.
            let expected = if is_online {
                Some("member".to_owned())
            } else if cleanly.contains(&node) {
                Some("down".to_owned())
            } else {
                match replica::expected(&self.cib, node) {
                    Some(known) => Some(known.to_owned()),
                    None if !in_ccm => Some("member".to_owned()),
                    None => None,
                }
            };
            changed |= replica::set_membership(
                &mut self.cib,
                node,
                &uname,
                &Membership {
                    in_ccm,
                    crmd_online: is_online,
                    expected: expected.as_deref(),
                },
            );
        }
        if changed {
            self.bump_status();
        }
    }

    // ---- the DC ----

    fn set_dc(&mut self, dc: Option<NodeId>) {
        let doc = self.cib.document_mut();
        let root = doc.root();
        let recorded = doc.get(root).attr("dc-uuid").map(str::to_owned);
        let wanted = dc.map(|d| d.to_string());
        if recorded != wanted {
            match &wanted {
                Some(id) => doc.set_attr(root, "dc-uuid", id),
                None => {
                    doc.remove_attr(root, "dc-uuid");
                }
            }
            self.bump_status();
        }
        if self.dc != dc {
            self.dc = dc;
            if dc.is_some() {
                self.had_dc = true;
            }
            self.transitions.stand_down();
            self.event(Event::DcChanged { dc });
            self.abort_transition("DC takeover");
        }
        if dc == Some(self.settings.me.node) {
            self.publish_quorum();
        }
    }

    /// The DC left: the member with the lowest node id takes over.
    fn dc_after_leaves(&mut self) {
        let members = self.member_nodes();
        if self.dc.is_some_and(|dc| !members.contains(&dc)) {
            let next = if self.had_dc {
                members.first().copied()
            } else {
                None
            };
            self.set_dc(next);
        }
    }

    /// A cluster that never had a DC: with the whole nodelist present the
    /// lowest node takes over now; otherwise the lowest member claims it once
    /// membership has been quiet for the settle time.
    fn arm_settle(&mut self, now: Millis) {
        self.settle_at = None;
        if self.dc.is_some() || self.had_dc || self.round.is_some() || !self.joined {
            return;
        }
        let members = self.member_nodes();
        let nodelist = &self.settings.nodelist;
        if !nodelist.is_empty() && nodelist.iter().all(|n| members.contains(n)) {
            self.set_dc(members.first().copied());
            return;
        }
        if members.first() == Some(&self.settings.me.node) {
            let settle = self
                .cib
                .property_duration_ms("dc-deadtime")
                .ok()
                .flatten()
                .unwrap_or(self.settings.startup_settle_ms);
            self.settle_at = Some(now.plus(settle));
        }
    }

    fn dc_claimed(&mut self, sender: Member, view: &[Member]) {
        if self.round.is_none()
            && self.dc.is_none()
            && !self.had_dc
            && view == self.view.as_slice()
            && self.lowest_member() == Some(sender.node)
        {
            self.settle_at = None;
            self.set_dc(Some(sender.node));
        }
    }

    /// The DC records its quorum in the CIB, as `have-quorum`.
    pub(super) fn publish_quorum(&mut self) {
        let recorded = self.cib.have_quorum().ok().flatten();
        if recorded != Some(self.quorate) {
            self.send(&Message::Quorum {
                have_quorum: self.quorate,
            });
        }
    }

    fn quorum_written(&mut self, sender: Member, have_quorum: bool) {
        if self.dc != Some(sender.node) {
            return;
        }
        if self.cib.have_quorum().ok().flatten() == Some(have_quorum) {
            return;
        }
        let doc = self.cib.document_mut();
        let root = doc.root();
        doc.set_attr(root, "have-quorum", if have_quorum { "1" } else { "0" });
        self.bump_status();
        self.abort_transition(if have_quorum {
            "Quorum gained"
        } else {
            "Quorum lost"
        });
    }

    // ---- join rounds ----

    fn start_round(&mut self) {
        if let Some(dc) = self.dc.take() {
            self.last_dc = Some(dc);
            self.transitions.stand_down();
            self.event(Event::DcChanged { dc: None });
        }
        self.settle_at = None;
        match self.round.as_mut() {
            Some(round) => round.set_view(self.view.clone()),
            None => self.round = Some(Round::new(self.view.clone())),
        }
        // A new view undoes the decision: what was held after it now comes
        // before the next one.
        for held in &mut self.deferred {
            held.after_decision = false;
        }
        self.event(Event::JoinRoundStarted {
            members: self.view.clone(),
        });
        let announce = Announce {
            view: self.view.clone(),
            name: self.settings.name.clone(),
            version: self.version().into(),
            config_digest: replica::user_digest(&self.cib),
            dc: self.last_dc,
            had_dc: self.had_dc,
            departed: self.departed.iter().map(|(n, r)| (*n, *r)).collect(),
            term: self.term,
            lineage: self.lineage.iter().cloned().collect(),
        };
        self.send(&Message::Announce(announce));
    }

    fn announced(&mut self, sender: Member, announce: Announce) {
        let Some(round) = self.round.as_mut() else {
            return;
        };
        if !round.record(sender, announce) {
            return;
        }
        let winner = round.decide();
        if let Some(winner) = winner {
            self.outputs
                .push_back(Output::Event(Event::JoinRoundDecided {
                    winner: winner.node,
                }));
        }
        let Some(round) = self.round.as_ref() else {
            return;
        };
        if winner == Some(self.settings.me) {
            let sync = wire::Sync {
                view: round.view.clone(),
                round: round.digest(),
                cib: self.cib.to_xml(Style::Compact),
                // The ring as delivered up to the decision, not as applied:
                // rings delivered before the decision are held by members
                // in the round and then dropped, so a ring change held here
                // would otherwise be lost everywhere, and a node gone from
                // the ring kept in it until the next ring change.
                ring: self.ring_now.iter().copied().collect(),
                restarting: self.restarting.iter().copied().collect(),
            };
            self.send(&Message::Sync(sync));
        }
    }

    fn synced(&mut self, now: Millis, sender: Member, sync: wire::Sync) {
        let Some(round) = self.round.as_ref() else {
            return;
        };
        if round.winner != Some(sender) || sync.view != round.view || sync.round != round.digest() {
            return;
        }
        let adopted = match Cib::parse(&sync.cib) {
            Ok(cib) => cib,
            Err(error) => {
                self.malformed += 1;
                self.event(Event::MalformedMessage {
                    sender,
                    error: format!("the join round's CIB does not parse: {error}"),
                });
                self.complete_round(now);
                return;
            }
        };
        let mine = round.announce_of(self.settings.me);
        let winner = round.announce_of(sender).cloned();
        if let (Some(mine), Some(winner)) = (mine, &winner)
            && diverged(mine, winner)
        {
            let dropped = Output::KeepDroppedConfiguration {
                cib: replica::configuration_only(&self.cib),
                version: mine.version.into(),
                replaced_by: winner.version.into(),
            };
            self.outputs.push_back(dropped);
        }
        self.cib = adopted;
        self.compacted_len = self.cib.document().arena_len();
        self.ring = sync.ring.into_iter().collect();
        self.restarting = sync.restarting.into_iter().collect();
        self.forget_outside_ring();
        if let Some(winner) = winner {
            self.lineage = winner.lineage.into_iter().collect();
        }
        self.complete_round(now);
    }

    fn complete_round(&mut self, now: Millis) {
        let Some(round) = self.round.take() else {
            return;
        };
        let Some(winner) = round
            .winner
            .and_then(|w| Some((w, round.announce_of(w)?.clone())))
        else {
            return;
        };
        let (winner, winner_announce) = winner;
        self.names = replica::node_names(&self.cib);
        let mut config_changed = false;
        for (member, announce) in round.announces() {
            self.names.insert(member.node, announce.name.clone());
            config_changed |=
                replica::ensure_node_entry(&mut self.cib, member.node, &announce.name);
        }
        let dropped: Vec<(NodeId, String, WireVersion)> = round
            .announces()
            .filter(|(_, a)| diverged(a, &winner_announce))
            .map(|(m, a)| (m.node, a.name.clone(), a.version))
            .collect();
        for (node, name, version) in dropped {
            let (version, replaced_by) = (
                Version::from(version),
                Version::from(winner_announce.version),
            );
            let note = format!(
                "configuration {version} replaced by {replaced_by} from {} in a join round",
                winner_announce.name
            );
            config_changed |= replica::set_node_attribute(
                &mut self.cib,
                node,
                &name,
                DROPPED_CONFIGURATION_ATTRIBUTE,
                Some(&note),
            );
            self.event(Event::ConfigurationDropped {
                node,
                version,
                replaced_by,
            });
        }
        if config_changed {
            self.commit_configuration(&winner_announce.name, "baton-crmd", "hacluster", None);
        }
        self.had_dc |= round.had_dc();
        self.last_dc = None;
        let announced = round.term();
        self.term.established = self.term.established.max(announced.established);
        let majority = u64::from(self.view_has_majority());
        self.next_term(announced.current.max(self.term.current) + majority);
        self.departed.clear();
        for member in &self.view {
            self.restarting.remove(&member.node);
        }
        self.record_departures(&round.departed());
        let next_dc = round.next_dc();
        self.event(Event::JoinRoundCompleted {
            winner: winner.node,
            version: self.version(),
        });
        self.set_dc(next_dc);
        self.abort_transition("Node join");
        self.arm_settle(now);
        self.persist_if_changed();
        self.status_pending = self
            .member_nodes()
            .into_iter()
            .map(|node| (node, replica::transient_attributes(&self.cib, node)))
            .collect();
        self.awaiting_history = true;
        self.outputs.push_back(Output::QueryLrmHistory);
        self.answer_after_round();
        self.replay_deferred();
    }

    fn hold(&mut self, item: Deferred) {
        let after_decision = self.round.as_ref().is_some_and(|r| r.winner.is_some());
        self.deferred.push_back(Held {
            after_decision,
            item,
        });
    }

    /// Applies what was delivered after the round decided. What came before
    /// may have reached some members outside a round (they applied it to the
    /// copy the winner's then replaced), so nobody applies it; a write of
    /// ours among it is answered as interrupted.
    fn replay_deferred(&mut self) {
        while self.round.is_none() {
            let Some(held) = self.deferred.pop_front() else {
                break;
            };
            match (held.after_decision, held.item) {
                (true, Deferred::Message(sender, message)) => self.apply(sender, *message),
                (true, Deferred::Ring(members)) => self.ring_changed(members),
                (false, Deferred::Message(sender, message)) if sender == self.settings.me => {
                    if let Message::Write { seq, .. } = *message
                        && let Some(pending) = self.pending.remove(&seq)
                    {
                        self.reply(pending.request, Err(RequestError::Interrupted));
                    }
                }
                (false, _) => {}
            }
        }
    }

    // ---- messages ----

    fn message(&mut self, now: Millis, sender: Member, payload: &[u8]) {
        if !self.joined {
            return;
        }
        let message = match self.reassembly.accept(sender, payload) {
            Ok(Some(message)) => {
                if sender == self.settings.me {
                    self.in_flight_sends = self.in_flight_sends.saturating_sub(1);
                }
                message
            }
            Ok(None) => return,
            Err(error) => {
                self.malformed += 1;
                self.event(Event::MalformedMessage {
                    sender,
                    error: error.to_string(),
                });
                return;
            }
        };
        match message {
            Message::Announce(announce) => self.announced(sender, announce),
            Message::Sync(sync) => self.synced(now, sender, sync),
            Message::ClaimDc { view } => self.dc_claimed(sender, &view),
            other if self.round.is_some() => {
                self.hold(Deferred::Message(sender, Box::new(other)));
            }
            other => self.apply(sender, other),
        }
    }

    fn apply(&mut self, sender: Member, message: Message) {
        match message {
            Message::NodeStatus(status) => self.node_status(sender, status),
            Message::Write { seq, write } => self.write(sender, seq, write),
            Message::Applied { writer, seq } => self.confirmed(sender, writer, seq),
            Message::Term { term } => self.term_moved(sender, term),
            Message::Quorum { have_quorum } => self.quorum_written(sender, have_quorum),
            Message::Execute(execute) => self.execute_delivered(sender, execute),
            Message::OpResult(result) => self.result_delivered(sender, &result),
            Message::ResultLost { node, result } => {
                if self.dc == Some(sender.node) {
                    self.record_result(node, &result);
                }
            }
            Message::ClearFailcount { node, resource } => {
                self.clear_failcount(sender, node, &resource);
            }
            Message::ShutdownRequest { wall_s } => self.shutdown_requested(sender, wall_s),
            Message::ShutdownAllowed { node } => self.shutdown_allowed(sender, node),
            Message::Fenced { node } => self.fenced(sender, node),
            Message::ControllerLost { node } => self.controller_lost(sender, node),
            // Round messages are never deferred.
            Message::Announce(_) | Message::Sync(_) | Message::ClaimDc { .. } => {}
        }
    }

    fn node_status(&mut self, sender: Member, status: NodeStatus) {
        if !self.view.contains(&sender) {
            return;
        }
        let node = sender.node;
        let Some(uname) = self.names.get(&node).cloned() else {
            return;
        };
        let history_changed = replica::set_history(&mut self.cib, node, &uname, &status.records);
        let attributes = match self.status_pending.remove(&node) {
            Some(at_round) => newest_attributes(
                &at_round,
                &replica::transient_attributes(&self.cib, node),
                &status.attributes,
            ),
            None => status.attributes,
        };
        let attributes_changed =
            replica::set_transient_attributes(&mut self.cib, node, &uname, &attributes);
        if history_changed || attributes_changed {
            self.bump_status();
        }
        if history_changed {
            self.abort_transition("Resource history refreshed");
        }
    }

    // ---- node lifecycle messages ----

    fn clear_failcount(&mut self, sender: Member, node: NodeId, resource: &str) {
        if self.dc == Some(sender.node) && self.drop_fail_counts(node, resource) {
            self.bump_status();
        }
    }

    /// Removes a resource's fail counts and last failures on a node.
    fn drop_fail_counts(&mut self, node: NodeId, resource: &str) -> bool {
        let Some(uname) = self.names.get(&node).cloned() else {
            return false;
        };
        let prefixes = [
            format!("fail-count-{resource}#"),
            format!("last-failure-{resource}#"),
        ];
        let kept: Vec<(String, String)> = replica::transient_attributes(&self.cib, node)
            .into_iter()
            .filter(|(name, _)| !prefixes.iter().any(|p| name.starts_with(p.as_str())))
            .collect();
        replica::set_transient_attributes(&mut self.cib, node, &uname, &kept)
    }

    fn shutdown_requested(&mut self, sender: Member, wall_s: i64) {
        let node = sender.node;
        let Some(uname) = self.names.get(&node).cloned() else {
            return;
        };
        let value = wall_s.to_string();
        if replica::set_transient(
            &mut self.cib,
            node,
            &uname,
            SHUTDOWN_ATTRIBUTE,
            Some(&value),
        ) {
            self.bump_status();
        }
        self.abort_transition("Shutdown request");
    }

    fn shutdown_allowed(&mut self, sender: Member, node: NodeId) {
        if self.dc == Some(sender.node)
            && node == self.settings.me.node
            && self.shutdown_at.is_some()
        {
            self.outputs.push_back(Output::Exit {
                reason: "the DC confirmed this node's shutdown".to_owned(),
            });
        }
    }

    fn controller_lost(&mut self, sender: Member, node: NodeId) {
        if self.dc != Some(sender.node) || !self.restarting.remove(&node) {
            return;
        }
        self.refresh_node_states(&BTreeSet::new());
        self.abort_transition("Node failure");
    }

    /// The DC confirmed `node` fenced: it is down and runs nothing.
    fn fenced(&mut self, sender: Member, node: NodeId) {
        if self.dc != Some(sender.node) {
            return;
        }
        let Some(uname) = self.names.get(&node).cloned() else {
            return;
        };
        let down = Membership {
            in_ccm: false,
            crmd_online: false,
            expected: Some("down"),
        };
        let mut changed = replica::set_membership(&mut self.cib, node, &uname, &down);
        changed |= replica::set_history(&mut self.cib, node, &uname, &[]);
        changed |= replica::set_transient_attributes(&mut self.cib, node, &uname, &[]);
        if changed {
            self.bump_status();
        }
    }

    // ---- helpers ----

    fn name_of(&self, node: NodeId) -> String {
        self.names
            .get(&node)
            .cloned()
            .unwrap_or_else(|| node.to_string())
    }

    /// Pacemaker's record of the last configuration change.
    fn stamp_writer(&mut self, node: &str, client: &str, user: &str, wall_s: Option<i64>) {
        let doc = self.cib.document_mut();
        let root = doc.root();
        if let Some(wall_s) = wall_s {
            doc.set_attr(root, "cib-last-written", &crate::time::ctime(wall_s));
        }
        doc.set_attr(root, "update-origin", node);
        doc.set_attr(root, "update-client", client);
        doc.set_attr(root, "update-user", user);
    }

    fn bump_status(&mut self) {
        let version = self.version().bump_status();
        self.cib.set_version(version);
        self.compact_if_needed();
    }

    /// Detached elements stay in the document's arena; drop them once they
    /// outnumber what was live at the last compaction.
    fn compact_if_needed(&mut self) {
        let len = self.cib.document().arena_len();
        if len > 2 * self.compacted_len + 1_024 {
            self.cib.document_mut().compact();
            self.compacted_len = self.cib.document().arena_len();
        }
    }

    /// Moves to term `current`, on disk before anything else is said, and
    /// tells the others, so that they can see it established.
    fn next_term(&mut self, current: u64) {
        if current != self.term.current {
            self.term.current = current;
            self.term_confirmed.clear();
            self.save_term();
        }
        self.send(&Message::Term { term: current });
    }

    /// `sender` moved to `term`: a majority of nodes that did establishes
    /// it. The count is the same on every member.
    fn term_moved(&mut self, sender: Member, term: u64) {
        if term != self.term.current || self.term.established >= term {
            return;
        }
        self.term_confirmed.insert(sender.node);
        if self.term_confirmed.len() * 2 > self.cluster_size() {
            self.term.established = term;
            self.save_term();
            self.settle_confirmations();
        }
    }

    fn save_term(&mut self) {
        if let Some(persisted) = self.persisted.as_mut() {
            persisted.2 = self.term;
        }
        self.outputs.push_back(Output::PersistTerm(self.term));
    }

    /// Records a configuration change: epoch+1, Pacemaker's stamps, the
    /// lineage, and the copy on disk.
    fn commit_configuration(&mut self, node: &str, client: &str, user: &str, wall_s: Option<i64>) {
        let version = self.version().bump_config();
        self.cib.set_version(version);
        self.stamp_writer(node, client, user, wall_s);
        self.compact_if_needed();
        if self.lineage.len() >= LINEAGE_MAX {
            self.lineage.pop_front();
        }
        self.lineage
            .push_back((version.epoch, replica::user_digest(&self.cib)));
        self.persist_if_changed();
    }

    fn persist_if_changed(&mut self) {
        let version = Version {
            num_updates: 0,
            ..self.version()
        };
        let key = (
            version,
            self.cib.config_digest().unwrap_or_default(),
            self.term,
        );
        if self.persisted.as_ref() != Some(&key) {
            self.persisted = Some(key);
            let cib = replica::configuration_only(&self.cib);
            self.outputs.push_back(Output::PersistConfiguration {
                cib,
                term: self.term,
            });
        }
    }

    /// Queues `message` for the group; the part id when it went in parts.
    fn send(&mut self, message: &Message) -> Option<u64> {
        self.in_flight_sends += 1;
        let payloads = wire::encode(message, self.next_part_id);
        let parts = payloads.len() > 1;
        for payload in payloads {
            self.outputs.push_back(Output::GroupSend(payload));
        }
        parts.then(|| {
            self.next_part_id += 1;
            self.next_part_id - 1
        })
    }

    pub(super) fn reply(&mut self, request: RequestId, result: Result<Written, RequestError>) {
        self.outputs.push_back(Output::Reply { request, result });
    }

    fn event(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }
}

/// Whether `loser`'s configuration holds changes `winner`'s lacks: it is
/// neither the winner's nor one it went through.
fn diverged(loser: &Announce, winner: &Announce) -> bool {
    loser.config_digest != winner.config_digest
        && !winner
            .lineage
            .iter()
            .any(|(epoch, digest)| *epoch == loser.version.1 && *digest == loser.config_digest)
}

/// A node's transient attributes once its published status arrives:
/// what changed since the round (`now` differs from `at_round`) was
/// written after the node gathered what it `published`, and stays;
/// everything else is as the node published it.
fn newest_attributes(
    at_round: &[(String, String)],
    now: &[(String, String)],
    published: &[(String, String)],
) -> Vec<(String, String)> {
    let at_round: BTreeMap<&str, &str> = at_round
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let now: BTreeMap<&str, &str> = now.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let published: BTreeMap<&str, &str> = published
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let names: BTreeSet<&str> = at_round
        .keys()
        .chain(now.keys())
        .chain(published.keys())
        .copied()
        .collect();
    names
        .into_iter()
        .filter_map(|name| {
            let changed_since = now.get(name) != at_round.get(name);
            let value = if changed_since {
                now.get(name)
            } else {
                published.get(name)
            };
            value.map(|v| (name.to_owned(), (*v).to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::newest_attributes;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn what_was_written_after_the_round_outlives_the_status_gathered_before_it() {
        let at_round = pairs(&[("rack", "r1"), ("cache", "warm")]);
        // After the round: fencing was asked for, a fail count recorded,
        // and `cache` deleted.
        let now = pairs(&[
            ("rack", "r1"),
            ("terminate", "true"),
            ("fail-count-ip#start_0", "1"),
        ]);
        // The node gathered its attributes before all of that, and had
        // changed `rack` itself.
        let published = pairs(&[("rack", "r2"), ("cache", "warm")]);
        assert_eq!(
            newest_attributes(&at_round, &now, &published),
            pairs(&[
                ("fail-count-ip#start_0", "1"),
                ("rack", "r2"),
                ("terminate", "true")
            ])
        );
    }
}
