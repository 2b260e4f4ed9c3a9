//! The controllers' messages on their process group.
//!
//! A payload is a version byte, a kind byte, then either a whole message as
//! JSON or one part of a message too big for one group message (id:u64
//! index:u32 count:u32, then that slice of the JSON). Parts of one message
//! follow each other from one sender; every member reassembles them the same
//! way, so a message takes effect where its last part is delivered.
//! Anything else is refused with an error and changes nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::history::OpRecord;
use crate::lrm::LrmAction;
use crate::{Base, LeaveReason, Lifetime, Member, NodeId, Origin, Term, Version};

/// First byte of every payload; a peer speaking another version is refused.
pub const WIRE_VERSION: u8 = 1;
const KIND_WHOLE: u8 = 1;
const KIND_PART: u8 = 2;
/// Bytes of JSON per part: below the group's 1 MiB message limit.
pub const PART_BYTES: usize = 900 * 1024;
/// The largest message a member reassembles.
pub const MESSAGE_BYTES_MAX: usize = 256 * 1024 * 1024;
const PART_HEADER_BYTES: usize = 2 + 8 + 4 + 4;

/// A CIB version on the wire: (admin_epoch, epoch, num_updates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WireVersion(pub u64, pub u64, pub u64);

impl From<Version> for WireVersion {
    fn from(v: Version) -> Self {
        WireVersion(v.admin_epoch, v.epoch, v.num_updates)
    }
}

impl From<WireVersion> for Version {
    fn from(v: WireVersion) -> Self {
        Version {
            admin_epoch: v.0,
            epoch: v.1,
            num_updates: v.2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// A member's state at the start of a join round.
    Announce(Announce),
    /// The round's winner's whole CIB, for everyone to adopt.
    Sync(Sync),
    /// A node's own status, published after each join round.
    NodeStatus(NodeStatus),
    /// The first DC of a cluster, after the start-up settle time.
    ClaimDc { view: Vec<Member> },
    /// A client's change; `seq` numbers the sender's writes.
    Write { seq: u64, write: Write },
    /// A member applied `writer`'s write `seq`.
    Applied { writer: Member, seq: u64 },
    /// A member moved to this term (and has it on disk).
    Term { term: u64 },
    /// The DC's quorum, for `have-quorum`.
    Quorum { have_quorum: bool },
    /// The DC asks a node to run an operation of its transition.
    Execute(Execute),
    /// A node's operation result, recorded by every member.
    OpResult(OpResult),
    /// The DC gave up waiting for `node`'s result (the action's timeout
    /// plus cluster-delay): recorded as a timed-out failure of `node`.
    ResultLost { node: NodeId, result: OpResult },
    /// The DC clears a resource's fail counts on a node.
    ClearFailcount { node: NodeId, resource: String },
    /// A node asks to shut down: its `shutdown` attribute is set.
    ShutdownRequest { wall_s: i64 },
    /// The DC lets a node that asked to shut down go.
    ShutdownAllowed { node: NodeId },
    /// The DC confirms that a node was fenced: it is down, nothing runs
    /// there.
    Fenced { node: NodeId },
    /// A node's controller did not come back in time: its node is no
    /// longer counted online.
    ControllerLost { node: NodeId },
}

/// What an execute asks of the node's lrmd.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecKind {
    /// Run the operation (one-shot, or recurring when it has an interval).
    Run,
    /// Stop the recurring operation.
    Cancel,
    /// Erase the resource's history.
    Forget,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execute {
    pub transition: u64,
    /// The action's number in its transition.
    pub action: usize,
    pub node: NodeId,
    /// `<action>:<transition>:<target rc>:<DC's uuid>`.
    pub transition_key: String,
    pub kind: ExecKind,
    pub op: LrmAction,
    pub expected_rc: i32,
    pub op_digest: Option<String>,
    /// Whether the result goes to the history (notifications do not).
    pub recorded: bool,
    /// The DC's wall clock, for the pending record.
    pub wall_s: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    /// The result as the sender's lrmd recorded it (the slot is chosen by
    /// every member alike).
    pub record: OpRecord,
    pub expected_rc: i32,
    pub recorded: bool,
    /// The resource's history is erased (a `delete`).
    pub forget: bool,
    /// The sender's wall clock, for `last-failure-…`.
    pub wall_s: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announce {
    /// The view the round is for.
    pub view: Vec<Member>,
    pub name: String,
    pub version: WireVersion,
    /// The configuration's digest without bare `<node>` entries (which
    /// every round adds anyway): different means the user's changes differ.
    pub config_digest: String,
    /// The DC the announcer knew before the round.
    pub dc: Option<NodeId>,
    /// Whether the announcer's cluster ever had a DC.
    pub had_dc: bool,
    /// Nodes whose controller left while the round was deciding, and why:
    /// recorded by everyone when the round ends.
    pub departed: Vec<(NodeId, LeaveReason)>,
    /// The announcer's term.
    pub term: Term,
    /// (epoch, config digest) of the configurations the announcer went
    /// through, oldest first.
    pub lineage: Vec<(u64, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sync {
    pub view: Vec<Member>,
    /// The digest of the announcements the round decided on: a sync is
    /// only taken by a member that decided on the same ones.
    pub round: String,
    pub cib: String,
    /// The ring's members as the winner knows them.
    pub ring: Vec<NodeId>,
    /// Nodes whose controller is restarting, as the winner knows them.
    pub restarting: Vec<NodeId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub records: Vec<OpRecord>,
    pub attributes: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Write {
    Configuration {
        cib: String,
        base: Option<Base>,
        origin: Origin,
    },
    NodeAttribute {
        node: NodeId,
        name: String,
        value: Option<String>,
        lifetime: Lifetime,
        origin: Origin,
    },
    /// (node, history id) pairs whose fail counts and history go.
    Cleanup { targets: Vec<(NodeId, String)> },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty payload")]
    Empty,
    #[error("wire version {0} is not supported (this node speaks {WIRE_VERSION})")]
    Version(u8),
    #[error("unknown payload kind {0}")]
    Kind(u8),
    #[error("part header is truncated")]
    Truncated,
    #[error("part {index} of {count} of message {id} is out of order")]
    PartOutOfOrder { id: u64, index: u32, count: u32 },
    #[error("message of {0} parts exceeds the limit of {MESSAGE_BYTES_MAX} bytes")]
    TooLarge(u32),
    #[error("message does not decode: {0}")]
    Json(String),
}

/// `message` as one or more payloads; `part_id` names its parts.
#[must_use]
pub fn encode(message: &Message, part_id: u64) -> Vec<Vec<u8>> {
    // Serializing plain data to a Vec cannot fail.
    let json = serde_json::to_vec(message).unwrap_or_default();
    if json.len() + 2 <= PART_BYTES {
        let mut payload = Vec::with_capacity(json.len() + 2);
        payload.extend_from_slice(&[WIRE_VERSION, KIND_WHOLE]);
        payload.extend_from_slice(&json);
        return vec![payload];
    }
    let chunks: Vec<&[u8]> = json.chunks(PART_BYTES - PART_HEADER_BYTES).collect();
    let count = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
    chunks
        .iter()
        .enumerate()
        .map(|(index, chunk)| {
            let mut payload = Vec::with_capacity(PART_HEADER_BYTES + chunk.len());
            payload.extend_from_slice(&[WIRE_VERSION, KIND_PART]);
            payload.extend_from_slice(&part_id.to_be_bytes());
            payload.extend_from_slice(&u32::try_from(index).unwrap_or(u32::MAX).to_be_bytes());
            payload.extend_from_slice(&count.to_be_bytes());
            payload.extend_from_slice(chunk);
            payload
        })
        .collect()
}

#[derive(Debug)]
struct Partial {
    id: u64,
    count: u32,
    received: u32,
    json: Vec<u8>,
}

/// Messages being put together from parts, per sender.
#[derive(Debug, Default)]
pub struct Reassembly {
    partial: BTreeMap<Member, Partial>,
}

impl Reassembly {
    /// One delivered payload: a whole message, `None` for a part that is not
    /// the last, or why it was refused.
    pub fn accept(
        &mut self,
        sender: Member,
        payload: &[u8],
    ) -> Result<Option<Message>, DecodeError> {
        let (&version, rest) = payload.split_first().ok_or(DecodeError::Empty)?;
        if version != WIRE_VERSION {
            return Err(DecodeError::Version(version));
        }
        let (&kind, body) = rest.split_first().ok_or(DecodeError::Empty)?;
        match kind {
            KIND_WHOLE => decode_json(body).map(Some),
            KIND_PART => self.part(sender, body),
            other => Err(DecodeError::Kind(other)),
        }
    }

    fn part(&mut self, sender: Member, body: &[u8]) -> Result<Option<Message>, DecodeError> {
        let (id, body) = take::<8>(body).map(|(b, rest)| (u64::from_be_bytes(b), rest))?;
        let (index, body) = take::<4>(body).map(|(b, rest)| (u32::from_be_bytes(b), rest))?;
        let (count, data) = take::<4>(body).map(|(b, rest)| (u32::from_be_bytes(b), rest))?;
        if usize::try_from(count)
            .unwrap_or(usize::MAX)
            .saturating_mul(PART_BYTES)
            > MESSAGE_BYTES_MAX
        {
            self.partial.remove(&sender);
            return Err(DecodeError::TooLarge(count));
        }
        if index == 0 {
            self.partial.insert(
                sender,
                Partial {
                    id,
                    count,
                    received: 0,
                    json: Vec::new(),
                },
            );
        }
        let in_order = self
            .partial
            .get(&sender)
            .is_some_and(|p| p.id == id && p.count == count && p.received == index);
        if !in_order {
            self.partial.remove(&sender);
            return Err(DecodeError::PartOutOfOrder { id, index, count });
        }
        let Some(partial) = self.partial.get_mut(&sender) else {
            return Ok(None);
        };
        partial.json.extend_from_slice(data);
        partial.received += 1;
        if partial.received < partial.count {
            return Ok(None);
        }
        let json = self
            .partial
            .remove(&sender)
            .map(|p| p.json)
            .unwrap_or_default();
        decode_json(&json).map(Some)
    }

    /// Forgets every half-received message; returns the senders and part
    /// ids dropped.
    pub fn drop_all(&mut self) -> Vec<(Member, u64)> {
        std::mem::take(&mut self.partial)
            .into_iter()
            .map(|(member, p)| (member, p.id))
            .collect()
    }

    /// Forgets the half-received message of `sender`, if any.
    pub fn drop_sender(&mut self, sender: Member) -> Option<u64> {
        self.partial.remove(&sender).map(|p| p.id)
    }
}

fn take<const N: usize>(bytes: &[u8]) -> Result<([u8; N], &[u8]), DecodeError> {
    let (head, rest) = bytes
        .split_first_chunk::<N>()
        .ok_or(DecodeError::Truncated)?;
    Ok((*head, rest))
}

fn decode_json(json: &[u8]) -> Result<Message, DecodeError> {
    serde_json::from_slice(json).map_err(|e| DecodeError::Json(e.to_string()))
}
