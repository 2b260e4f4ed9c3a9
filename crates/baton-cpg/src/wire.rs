//! The group packets that ride in Totem payloads. Layout (big-endian):
//!
//! ```text
//! tag=2  version=1  kind
//! Join      name pid
//! Leave     name pid reason
//! Message   name pid flags data…   flags: bit 0 more fragments follow,
//!                                   bit 1 continues an earlier fragment
//! JoinList  ring_rep:u32 ring_seq:u64 count:u16 (name pid)*
//! name = len:u8 (1..=128) utf-8 bytes
//! ```
//!
//! `decode` rejects anything malformed with an error and never panics.

use std::fmt;

use baton_totem::{NodeId, RingId};

use crate::{FRAGMENT_BYTES, GROUP_NAME_BYTES_MAX, LOCAL_MEMBERSHIPS_MAX};

/// First payload byte of every group packet; votequorum's NodeInfo uses 1.
pub const TAG_GROUP: u8 = 2;
const VERSION: u8 = 1;
const KIND_JOIN: u8 = 1;
const KIND_LEAVE: u8 = 2;
const KIND_MESSAGE: u8 = 3;
const KIND_JOIN_LIST: u8 = 4;
const FLAG_MORE: u8 = 1;
const FLAG_CONTINUED: u8 = 2;

/// A group member: one process on one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Member {
    pub node: NodeId,
    pub pid: u32,
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.node, self.pid)
    }
}

/// Why a member joined or left a group, numbered as corosync's
/// `cpg_reason_t` so logs read the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// It called join.
    Join = 1,
    /// It called leave.
    Leave = 2,
    /// Its node left the ring.
    NodeDown = 3,
    /// It was already a member on a node that just merged with ours.
    NodeUp = 4,
    /// It went away without leaving (exited, crashed, or disconnected).
    ProcDown = 5,
}

impl Reason {
    fn from_byte(byte: u8) -> Option<Reason> {
        Some(match byte {
            1 => Reason::Join,
            2 => Reason::Leave,
            3 => Reason::NodeDown,
            4 => Reason::NodeUp,
            5 => Reason::ProcDown,
            _ => return None,
        })
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Join => "join",
            Reason::Leave => "leave",
            Reason::NodeDown => "node down",
            Reason::NodeUp => "node up",
            Reason::ProcDown => "process down",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Join {
        group: String,
        pid: u32,
    },
    Leave {
        group: String,
        pid: u32,
        reason: Reason,
    },
    /// One fragment of a message; `more` is set on all but the last,
    /// `continued` on all but the first.
    Message {
        group: String,
        pid: u32,
        more: bool,
        continued: bool,
        data: Vec<u8>,
    },
    /// Every group membership the sending node holds, sent by every node
    /// at each regular configuration (the ring it is for) so that all learn
    /// the members of nodes that joined.
    JoinList {
        ring_id: RingId,
        entries: Vec<(String, u32)>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a group packet")]
    NotGroup,
    #[error("group packet version {0} is not supported (this node speaks {VERSION})")]
    Version(u8),
    #[error("unknown group packet kind {0}")]
    Kind(u8),
    #[error("group packet ends early")]
    Truncated,
    #[error("group packet has {0} bytes after its end")]
    Trailing(usize),
    #[error("group name is empty, longer than {GROUP_NAME_BYTES_MAX} bytes, or not UTF-8")]
    BadName,
    #[error("unknown leave reason {0}")]
    BadReason(u8),
    #[error("message fragment of {0} bytes exceeds {FRAGMENT_BYTES}")]
    FragmentTooLarge(usize),
    #[error("join list of {0} entries exceeds {LOCAL_MEMBERSHIPS_MAX}")]
    JoinListTooLong(usize),
}

impl Packet {
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![TAG_GROUP, VERSION];
        match self {
            Packet::Join { group, pid } => {
                out.push(KIND_JOIN);
                put_member(&mut out, group, *pid);
            }
            Packet::Leave { group, pid, reason } => {
                out.push(KIND_LEAVE);
                put_member(&mut out, group, *pid);
                out.push(*reason as u8);
            }
            Packet::Message {
                group,
                pid,
                more,
                continued,
                data,
            } => {
                out.push(KIND_MESSAGE);
                put_member(&mut out, group, *pid);
                out.push(u8::from(*more) | u8::from(*continued) << 1);
                out.extend_from_slice(data);
            }
            Packet::JoinList { ring_id, entries } => {
                out.push(KIND_JOIN_LIST);
                out.extend_from_slice(&ring_id.rep.0.to_be_bytes());
                out.extend_from_slice(&ring_id.seq.to_be_bytes());
                let count = u16::try_from(entries.len()).unwrap_or(u16::MAX);
                out.extend_from_slice(&count.to_be_bytes());
                for (group, pid) in entries.iter().take(usize::from(count)) {
                    put_member(&mut out, group, *pid);
                }
            }
        }
        out
    }

    pub fn decode(payload: &[u8]) -> Result<Packet, DecodeError> {
        let mut r = Reader(payload);
        if r.byte()? != TAG_GROUP {
            return Err(DecodeError::NotGroup);
        }
        let version = r.byte()?;
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let packet = match r.byte()? {
            KIND_JOIN => {
                let (group, pid) = r.member()?;
                Packet::Join { group, pid }
            }
            KIND_LEAVE => {
                let (group, pid) = r.member()?;
                let byte = r.byte()?;
                let reason = Reason::from_byte(byte).ok_or(DecodeError::BadReason(byte))?;
                Packet::Leave { group, pid, reason }
            }
            KIND_MESSAGE => {
                let (group, pid) = r.member()?;
                let flags = r.byte()?;
                if flags > FLAG_MORE | FLAG_CONTINUED {
                    return Err(DecodeError::Truncated);
                }
                let data = std::mem::take(&mut r.0).to_vec();
                if data.len() > FRAGMENT_BYTES {
                    return Err(DecodeError::FragmentTooLarge(data.len()));
                }
                Packet::Message {
                    group,
                    pid,
                    more: flags & FLAG_MORE != 0,
                    continued: flags & FLAG_CONTINUED != 0,
                    data,
                }
            }
            KIND_JOIN_LIST => {
                let rep = u32::from_be_bytes(r.array()?);
                let seq = u64::from_be_bytes(r.array()?);
                let ring_id = RingId {
                    rep: NodeId(rep),
                    seq,
                };
                let count = usize::from(u16::from_be_bytes([r.byte()?, r.byte()?]));
                if count > LOCAL_MEMBERSHIPS_MAX {
                    return Err(DecodeError::JoinListTooLong(count));
                }
                let entries = (0..count).map(|_| r.member()).collect::<Result<_, _>>()?;
                Packet::JoinList { ring_id, entries }
            }
            kind => return Err(DecodeError::Kind(kind)),
        };
        if r.0.is_empty() {
            Ok(packet)
        } else {
            Err(DecodeError::Trailing(r.0.len()))
        }
    }
}

/// Whether a group name may be used: 1..=128 bytes.
#[must_use]
pub fn valid_group_name(name: &str) -> bool {
    (1..=GROUP_NAME_BYTES_MAX).contains(&name.len())
}

fn put_member(out: &mut Vec<u8>, group: &str, pid: u32) {
    let name = &group.as_bytes()[..group.len().min(GROUP_NAME_BYTES_MAX)];
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(&pid.to_be_bytes());
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn member(&mut self) -> Result<(String, u32), DecodeError> {
        let len = usize::from(self.byte()?);
        let name = std::str::from_utf8(self.take(len)?).map_err(|_| DecodeError::BadName)?;
        if !valid_group_name(name) {
            return Err(DecodeError::BadName);
        }
        let name = name.to_owned();
        Ok((name, u32::from_be_bytes(self.array()?)))
    }
}
