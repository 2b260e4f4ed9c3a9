//! The votequorum state machine.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::config::{ConfigError, QuorumConfig, Settings, TieBreaker};
use crate::status::{Flags, Member, NodeInfo, QuorumEvent, Status};
use crate::types::{Millis, NodeId, RingId, Votes};

/// How many notifications may wait in [`Quorum::poll_event`]. Every input
/// adds at most one, so a driver that drains after each input never gets
/// near it; reaching it is a driver bug.
pub const MAX_PENDING_EVENTS: usize = 64;

/// Votequorum for one node: feed it every regular membership Totem
/// delivers, the [`NodeInfo`] its peers multicast and the timer ticks it
/// asks for; after each input multicast [`Quorum::poll_transmit`], drain
/// [`Quorum::poll_event`] and read [`Quorum::status`].
#[derive(Debug)]
pub struct Quorum {
    settings: Settings,
    ring_id: Option<RingId>,
    members: BTreeSet<NodeId>,
    /// The membership before the current one: the tie-breaker rules ask
    /// which missing nodes were with us a moment ago.
    previous_members: BTreeSet<NodeId>,
    /// Votes of previous members missing from the current membership: the
    /// most the other side of a split can hold.
    departed_votes: Votes,
    total_votes: Votes,
    expected_votes: Votes,
    /// Expected votes announced in the current membership by members that
    /// were quorate. Quorum follows the highest of these and ours.
    peer_expected: BTreeMap<NodeId, Votes>,
    /// A membership changed since our [`NodeInfo`] was last taken.
    announce: bool,
    quorum: Votes,
    quorate: bool,
    wait_for_all_status: bool,
    /// Lowest and highest node id of the nodelist. Every node holds the
    /// same nodelist, so both sides of a split agree on who holds the
    /// tie-breaker; ids taken from each node's own history would not (seed
    /// 1368 of baton-sim: both halves of a 2/2 split quorate).
    tie_breaker_bounds: Option<(NodeId, NodeId)>,
    last_man_standing_deadline: Option<Millis>,
    /// Members that announced a clean leave, for allow_downscale.
    leaving: BTreeSet<NodeId>,
    reported_quorate: bool,
    reported_members: Vec<NodeId>,
    events: VecDeque<QuorumEvent>,
}

impl Quorum {
    /// Validates the configuration. The result has no members and is not
    /// quorate until the first [`Quorum::membership_changed`].
    pub fn new(config: &QuorumConfig) -> Result<Self, ConfigError> {
        let settings = Settings::new(config)?;
        let bounds = settings
            .votes
            .first_key_value()
            .zip(settings.votes.last_key_value())
            .map(|((&low, _), (&high, _))| (low, high));
        let mut quorum = Self {
            expected_votes: settings.configured_expected,
            wait_for_all_status: settings.wait_for_all,
            settings,
            ring_id: None,
            members: BTreeSet::new(),
            previous_members: BTreeSet::new(),
            departed_votes: Votes(0),
            total_votes: Votes(0),
            peer_expected: BTreeMap::new(),
            announce: false,
            quorum: Votes(0),
            quorate: false,
            tie_breaker_bounds: bounds,
            last_man_standing_deadline: None,
            leaving: BTreeSet::new(),
            reported_quorate: false,
            reported_members: Vec::new(),
            events: VecDeque::new(),
        };
        quorum.recalculate(true);
        assert!(!quorum.quorate, "an empty membership is never quorate");
        Ok(quorum)
    }

    /// A new regular configuration from Totem: `members` is the whole new
    /// membership (any order, no duplicates).
    pub fn membership_changed(&mut self, now: Millis, ring_id: RingId, members: &[NodeId]) {
        if let Some(old) = self.ring_id {
            assert!(ring_id > old, "ring ids only rise: {old} then {ring_id}");
        }
        let given = members.len();
        let members: BTreeSet<NodeId> = members.iter().copied().collect();
        assert_eq!(members.len(), given, "duplicate member in ring {ring_id}");
        self.ring_id = Some(ring_id);
        self.previous_members = std::mem::replace(&mut self.members, members);
        let departed: Vec<NodeId> = self
            .previous_members
            .difference(&self.members)
            .copied()
            .collect();
        self.departed_votes = departed.iter().map(|&n| self.settings.votes_of(n)).sum();
        // Announcements belong to one membership: every member announces
        // again after a change. Quorum does not drop meanwhile (it only
        // drops when a rule allows it).
        self.peer_expected.clear();
        self.announce = true;

        let downscaled = self.downscale(&departed);
        self.recalculate(downscaled);
        self.arm_last_man_standing(now, !departed.is_empty());
        self.report();
    }

    /// A member announced that it is shutting down cleanly. Only
    /// `allow_downscale` uses this: when the node then leaves the membership,
    /// expected votes drop by its votes.
    pub fn node_left_cleanly(&mut self, node: NodeId) {
        if self.settings.allow_downscale && self.members.contains(&node) {
            self.leaving.insert(node);
        }
    }

    /// A member's [`NodeInfo`], delivered in agreed order (our own included).
    /// Announcements from nodes outside the membership are stale and ignored.
    pub fn handle_node_info(&mut self, from: NodeId, info: NodeInfo) {
        if !self.members.contains(&from) {
            return;
        }
        // A quorate partition's numbers win over ours while we are not
        // quorate: we are the one that just joined, or restarted, and our
        // expected votes and wait may be stale.
        let adopt = !self.quorate && info.quorate;
        if adopt {
            self.expected_votes = info.expected_votes;
            if self.settings.wait_for_all && !info.wait_for_all_status {
                self.wait_for_all_status = false;
            }
        }
        // Only quorate members speak for the partition; the others are
        // catching up with it just as we are, and their numbers may be stale.
        if info.quorate {
            self.peer_expected.insert(from, info.expected_votes);
        } else {
            self.peer_expected.remove(&from);
        }
        self.recalculate(adopt);
        self.report();
    }

    /// Our [`NodeInfo`] to multicast to the ring, once after each membership
    /// change. Values are taken at the time of the call.
    pub fn poll_transmit(&mut self) -> Option<NodeInfo> {
        if !std::mem::take(&mut self.announce) {
            return None;
        }
        Some(NodeInfo {
            expected_votes: self.expected_votes,
            quorate: self.quorate,
            wait_for_all_status: self.wait_for_all_status,
        })
    }

    /// Runs what is due at `now`; call it at [`Quorum::next_deadline`].
    pub fn handle_timer(&mut self, now: Millis) {
        let Some(deadline) = self.last_man_standing_deadline else {
            return;
        };
        if now < deadline {
            return;
        }
        self.last_man_standing_deadline = None;
        // The membership held still for the whole window: the missing nodes
        // are taken as gone for good and the survivors become the cluster.
        if self.quorate && self.total_votes < self.highest_expected() {
            self.expected_votes = self.total_votes;
            // Every member runs the same window over the same membership, so
            // their announced numbers come down with ours.
            for announced in self.peer_expected.values_mut() {
                *announced = self.total_votes;
            }
            self.recalculate(true);
            assert!(self.quorate, "last man standing keeps quorum");
            self.report();
        }
    }

    /// When [`Quorum::handle_timer`] next has work: the end of the
    /// last-man-standing window, if one is running.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.last_man_standing_deadline
    }

    /// The next notification, oldest first.
    pub fn poll_event(&mut self) -> Option<QuorumEvent> {
        self.events.pop_front()
    }

    pub fn is_quorate(&self) -> bool {
        self.quorate
    }

    pub fn status(&self) -> Status {
        Status {
            quorate: self.quorate,
            expected_votes: self.expected_votes,
            highest_expected: self.highest_expected(),
            total_votes: self.total_votes,
            quorum: self.quorum,
            flags: Flags {
                two_node: self.settings.two_node,
                quorate: self.quorate,
                wait_for_all: self.settings.wait_for_all,
                last_man_standing: self.settings.last_man_standing_window_ms.is_some(),
                auto_tie_breaker: self.settings.tie_breaker.is_some(),
                allow_downscale: self.settings.allow_downscale,
            },
            wait_for_all_status: self.wait_for_all_status,
            ring_id: self.ring_id,
            members: self
                .members
                .iter()
                .map(|&node_id| Member {
                    node_id,
                    name: self.settings.names.get(&node_id).cloned(),
                    votes: self.settings.votes_of(node_id),
                })
                .collect(),
        }
    }

    fn highest_expected(&self) -> Votes {
        self.peer_expected
            .values()
            .copied()
            .fold(self.expected_votes, Votes::max)
    }

    /// allow_downscale: members that left cleanly take their votes out of
    /// expected votes, never below the configured value. Returns whether
    /// quorum may drop as a result.
    fn downscale(&mut self, departed: &[NodeId]) -> bool {
        let gone: Votes = departed
            .iter()
            .filter(|node| self.leaving.remove(node))
            .map(|&n| self.settings.votes_of(n))
            .sum();
        self.leaving.retain(|node| self.members.contains(node));
        if gone == Votes(0) {
            return false;
        }
        self.expected_votes = (self.expected_votes - gone).max(self.settings.configured_expected);
        true
    }

    /// Recomputes votes, quorum and quorate from the current membership.
    /// Quorum only drops when `allow_decrease` says an explicit rule allows it.
    fn recalculate(&mut self, allow_decrease: bool) {
        self.total_votes = self
            .members
            .iter()
            .map(|&n| self.settings.votes_of(n))
            .sum();
        // Expected votes only rise: more live votes than expected means the
        // configuration undercounted.
        self.expected_votes = self.expected_votes.max(self.total_votes);
        let mut quorum = self
            .highest_expected()
            .majority()
            .max(self.total_votes.majority());
        if !allow_decrease {
            quorum = quorum.max(self.quorum);
        }
        // Two nodes cannot form a majority without each other, so two_node
        // lets either run alone (wait_for_all guards the first start). Once
        // expected votes rose past two the cluster is no longer a pair.
        if self.settings.two_node && self.members.len() <= 2 && self.expected_votes <= Votes(2) {
            quorum = Votes(1);
        }
        self.quorum = quorum;
        self.quorate = self.decide_quorate();
    }

    fn decide_quorate(&mut self) -> bool {
        if self.settings.wait_for_all && self.wait_for_all_status {
            if self.total_votes != self.expected_votes {
                return false;
            }
            self.wait_for_all_status = false;
        }
        let by_votes = self.total_votes >= self.quorum;
        let quorate = by_votes || self.wins_tie_break();
        if self.settings.wait_for_all {
            // Losing quorum re-arms the wait: the next grant needs everyone.
            self.wait_for_all_status = !quorate;
        }
        quorate
    }

    /// auto_tie_breaker: on an exact half split that the other side cannot
    /// win by votes, the side holding the tie-breaker node keeps quorum.
    fn wins_tie_break(&self) -> bool {
        let Some(rule) = &self.settings.tie_breaker else {
            return false;
        };
        if self.members.is_empty()
            || !self.total_votes.is_exact_half_of(self.expected_votes)
            || self.departed_votes >= self.quorum
        {
            return false;
        }
        match rule {
            TieBreaker::Lowest => self
                .tie_breaker_bounds
                .is_some_and(|(low, _)| self.members.contains(&low)),
            TieBreaker::Highest => self
                .tie_breaker_bounds
                .is_some_and(|(_, high)| self.members.contains(&high)),
            TieBreaker::Nodes(list) => {
                for node in list {
                    if self.members.contains(node) {
                        return true;
                    }
                    if self.previous_members.contains(node) {
                        return false;
                    }
                }
                false
            }
        }
    }

    /// last_man_standing: (re)start the window after a loss while quorate,
    /// so that expected votes follow the survivors once things hold still.
    /// Any membership change restarts it; a change that leaves nothing to
    /// lower cancels it.
    fn arm_last_man_standing(&mut self, now: Millis, lost_members: bool) {
        let Some(window_ms) = self.settings.last_man_standing_window_ms else {
            return;
        };
        let pending = self.last_man_standing_deadline.is_some();
        let can_lower = self.quorate && self.total_votes < self.highest_expected();
        self.last_man_standing_deadline =
            (can_lower && (lost_members || pending)).then(|| now.saturating_add_ms(window_ms));
    }

    fn report(&mut self) {
        let members: Vec<NodeId> = self.members.iter().copied().collect();
        if self.quorate == self.reported_quorate && members == self.reported_members {
            return;
        }
        assert!(
            self.events.len() < MAX_PENDING_EVENTS,
            "the driver must drain poll_event after every input"
        );
        let ring_id = self
            .ring_id
            .expect("a change needs a membership, which has a ring id");
        self.events.push_back(QuorumEvent::QuorumChanged {
            quorate: self.quorate,
            ring_id,
            members: members.clone(),
        });
        self.reported_quorate = self.quorate;
        self.reported_members = members;
    }
}
