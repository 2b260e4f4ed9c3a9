//! What the state machine reports: a status snapshot (the `baton quorum
//! status` json schema) and change notifications.

use std::fmt;

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

use crate::types::{NodeId, RingId, Votes};

/// A snapshot of the quorum state. Field names are the json schema of
/// `baton quorum status --output json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    pub quorate: bool,
    pub expected_votes: Votes,
    /// The expected votes quorum is computed from: the highest of ours and
    /// those the quorate members announced.
    pub highest_expected: Votes,
    pub total_votes: Votes,
    pub quorum: Votes,
    pub flags: Flags,
    /// `runtime.votequorum.wait_for_all_status`: true while quorum waits to
    /// see every node together.
    pub wait_for_all_status: bool,
    /// `None` until the first membership arrives.
    pub ring_id: Option<RingId>,
    /// In ascending node id order.
    pub members: Vec<Member>,
}

impl Status {
    /// What `quorumtool` appends to the quorum line when not quorate.
    pub fn activity_blocked(&self) -> bool {
        !self.quorate
    }
}

/// One member of the current membership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub node_id: NodeId,
    /// From the nodelist; `None` for a node it does not name.
    pub name: Option<String>,
    pub votes: Votes,
}

/// The flags `quorumtool -s` prints. Options show whether they are in
/// effect (two_node is dropped with more than two nodes); `quorate` is state.
/// Serialized as the list of set flag names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    pub two_node: bool,
    pub quorate: bool,
    pub wait_for_all: bool,
    pub last_man_standing: bool,
    pub auto_tie_breaker: bool,
    pub allow_downscale: bool,
}

impl Flags {
    /// The names of the set flags, in `quorumtool`'s order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        [
            (self.two_node, "2Node"),
            (self.quorate, "Quorate"),
            (self.wait_for_all, "WaitForAll"),
            (self.last_man_standing, "LastManStanding"),
            (self.auto_tie_breaker, "AutoTieBreaker"),
            (self.allow_downscale, "AllowDownscale"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
    }
}

/// Space-separated names, as on the `Flags:` line.
impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl Serialize for Flags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for name in self.names() {
            seq.serialize_element(name)?;
        }
        seq.end()
    }
}

/// A notification for quorum clients (the CPG and resource manager layers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumEvent {
    /// Quorate flipped or the member list changed.
    QuorumChanged {
        quorate: bool,
        ring_id: RingId,
        /// In ascending node id order.
        members: Vec<NodeId>,
    },
}

/// What each node multicasts to the ring after a membership change (see
/// [`crate::Quorum::poll_transmit`]), so that a node joining a quorate
/// partition takes on its view instead of deciding from stale numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    pub expected_votes: Votes,
    pub quorate: bool,
    pub wait_for_all_status: bool,
}
