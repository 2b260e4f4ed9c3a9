//! Our own versioned wire format. Little-endian throughout.
//!
//! Header: magic u16 `0xBA70`, version u8, type u8, sender u32. The decoder is
//! fed untrusted bytes: it never panics, and every list and payload length is
//! bounded before anything is allocated.

use std::sync::Arc;

use crate::config::{PROCESSORS_MAX, RTR_ENTRIES_MAX};
use crate::ids::{NodeId, RingId, Seq};

pub const MAGIC: u16 = 0xBA70;
pub const VERSION: u8 = 1;
/// Largest payload the codec carries (a knet netmtu's worth).
pub const PAYLOAD_BYTES_MAX: usize = 65_536;

const TYPE_TOKEN: u8 = 0;
const TYPE_MCAST: u8 = 1;
const TYPE_MERGE_DETECT: u8 = 2;
const TYPE_JOIN: u8 = 3;
const TYPE_COMMIT_TOKEN: u8 = 4;
const TYPE_HOLD_CANCEL: u8 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub sender: NodeId,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Token(OrfToken),
    Mcast(Mcast),
    MergeDetect { ring_id: RingId },
    Join(Join),
    Commit(CommitToken),
    HoldCancel { ring_id: RingId },
}

/// The ordering, reliability and flow-control token (FACTS §1.2 type 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrfToken {
    pub ring_id: RingId,
    /// Hop counter; a token whose counter we already handled is a duplicate.
    pub token_seq: u64,
    /// Highest sequence number assigned in this ring.
    pub seq: Seq,
    pub aru: Seq,
    /// The node holding `aru` down; `None` when aru == seq.
    pub aru_addr: Option<NodeId>,
    /// The lowest aru seen by the members visited since the representative
    /// last held the token; the representative restarts it each rotation.
    pub rotation_min_aru: Seq,
    /// Every member holds every message up to here: the representative
    /// publishes the previous rotation's minimum. Unlike `aru`, which the
    /// node holding it down may raise past slower members visited before it,
    /// this is a true lower bound, so freeing and recovery rely on it.
    pub safe_aru: Seq,
    pub backlog: u32,
    pub fcc: u32,
    /// Some node still has recovery messages to re-send.
    pub retrans_flg: bool,
    /// Set by the representative once recovery is complete everywhere; each
    /// member in RECOVERY that sees it installs the new ring.
    pub install: bool,
    /// Sequence numbers of this ring some member is missing.
    pub rtr_list: Vec<Seq>,
}

/// A data message (FACTS §1.2 type 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mcast {
    pub ring_id: RingId,
    pub seq: Seq,
    /// Who originally sent it; retransmissions come from other nodes.
    pub origin: NodeId,
    pub content: McastContent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McastContent {
    Application(Arc<[u8]>),
    /// An old-ring message re-sent during RECOVERY (FACTS §1.5).
    Encapsulated {
        old_ring_id: RingId,
        old_seq: Seq,
        old_origin: NodeId,
        payload: Arc<[u8]>,
    },
}

/// A membership join, or a leave when `leave` is set (FACTS §1.2 type 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    pub ring_seq: u64,
    pub leave: bool,
    pub proc_list: Vec<NodeId>,
    pub failed_list: Vec<NodeId>,
}

/// What each member reports about its old ring in the commit token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberEntry {
    pub old_ring_id: RingId,
    pub aru: Seq,
    pub high_delivered: Seq,
    pub received_flg: bool,
}

/// The commit token (FACTS §1.2 type 4, §1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitToken {
    pub ring_id: RingId,
    pub memb_index: u32,
    pub addrs: Vec<NodeId>,
    /// Entries filled so far, one per address in order.
    pub entries: Vec<MemberEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("packet ends after {len} bytes while reading {field}")]
    Truncated { field: &'static str, len: usize },
    #[error("bad magic {0:#06x}; not a baton totem packet")]
    BadMagic(u16),
    #[error("unsupported version {0}")]
    BadVersion(u8),
    #[error("unknown packet type {0}")]
    UnknownType(u8),
    #[error("{field} has {len} entries, more than the limit of {max}")]
    TooLong {
        field: &'static str,
        len: u64,
        max: usize,
    },
    #[error("invalid value {value} in {field}")]
    BadValue { field: &'static str, value: u64 },
    #[error("{0} trailing bytes after the packet")]
    TrailingBytes(usize),
}

// ---------------------------------------------------------------- encoding

/// Serializes a packet. Lists beyond the decoder's bounds are programmer
/// errors: everything we send must be something we would accept.
#[must_use]
pub fn encode(packet: &Packet) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.push(VERSION);
    let kind = match &packet.body {
        Body::Token(_) => TYPE_TOKEN,
        Body::Mcast(_) => TYPE_MCAST,
        Body::MergeDetect { .. } => TYPE_MERGE_DETECT,
        Body::Join(_) => TYPE_JOIN,
        Body::Commit(_) => TYPE_COMMIT_TOKEN,
        Body::HoldCancel { .. } => TYPE_HOLD_CANCEL,
    };
    out.push(kind);
    put_u32(&mut out, packet.sender.0);
    match &packet.body {
        Body::Token(token) => {
            assert!(token.rtr_list.len() <= RTR_ENTRIES_MAX);
            put_ring(&mut out, token.ring_id);
            put_u64(&mut out, token.token_seq);
            put_u64(&mut out, token.seq.0);
            put_u64(&mut out, token.aru.0);
            put_u32(&mut out, token.aru_addr.map_or(0, |n| n.0));
            put_u64(&mut out, token.rotation_min_aru.0);
            put_u64(&mut out, token.safe_aru.0);
            put_u32(&mut out, token.backlog);
            put_u32(&mut out, token.fcc);
            out.push(u8::from(token.retrans_flg) | (u8::from(token.install) << 1));
            put_len(&mut out, token.rtr_list.len());
            for seq in &token.rtr_list {
                put_u64(&mut out, seq.0);
            }
        }
        Body::Mcast(mcast) => {
            put_ring(&mut out, mcast.ring_id);
            put_u64(&mut out, mcast.seq.0);
            put_u32(&mut out, mcast.origin.0);
            match &mcast.content {
                McastContent::Application(payload) => {
                    out.push(0);
                    put_payload(&mut out, payload);
                }
                McastContent::Encapsulated {
                    old_ring_id,
                    old_seq,
                    old_origin,
                    payload,
                } => {
                    out.push(1);
                    put_ring(&mut out, *old_ring_id);
                    put_u64(&mut out, old_seq.0);
                    put_u32(&mut out, old_origin.0);
                    put_payload(&mut out, payload);
                }
            }
        }
        Body::MergeDetect { ring_id } | Body::HoldCancel { ring_id } => {
            put_ring(&mut out, *ring_id)
        }
        Body::Join(join) => {
            put_u64(&mut out, join.ring_seq);
            out.push(u8::from(join.leave));
            put_nodes(&mut out, &join.proc_list);
            put_nodes(&mut out, &join.failed_list);
        }
        Body::Commit(commit) => {
            assert!(commit.entries.len() <= commit.addrs.len());
            put_ring(&mut out, commit.ring_id);
            put_u32(&mut out, commit.memb_index);
            put_nodes(&mut out, &commit.addrs);
            put_len(&mut out, commit.entries.len());
            for entry in &commit.entries {
                put_ring(&mut out, entry.old_ring_id);
                put_u64(&mut out, entry.aru.0);
                put_u64(&mut out, entry.high_delivered.0);
                out.push(u8::from(entry.received_flg));
            }
        }
    }
    out
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    put_u32(
        out,
        u32::try_from(len).expect("lengths are bounded far below u32::MAX"),
    );
}

fn put_ring(out: &mut Vec<u8>, ring_id: RingId) {
    put_u32(out, ring_id.rep.0);
    put_u64(out, ring_id.seq);
}

fn put_nodes(out: &mut Vec<u8>, nodes: &[NodeId]) {
    assert!(nodes.len() <= PROCESSORS_MAX);
    put_len(out, nodes.len());
    for node in nodes {
        put_u32(out, node.0);
    }
}

fn put_payload(out: &mut Vec<u8>, payload: &[u8]) {
    assert!(payload.len() <= PAYLOAD_BYTES_MAX);
    put_len(out, payload.len());
    out.extend_from_slice(payload);
}

// ---------------------------------------------------------------- decoding

/// Parses one packet. Any byte string is either a packet or an error.
pub fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
    let mut reader = Reader { bytes, pos: 0 };
    let magic = reader.u16("magic")?;
    if magic != MAGIC {
        return Err(DecodeError::BadMagic(magic));
    }
    let version = reader.u8("version")?;
    if version != VERSION {
        return Err(DecodeError::BadVersion(version));
    }
    let kind = reader.u8("type")?;
    let sender = reader.node("sender")?;
    let body = match kind {
        TYPE_TOKEN => {
            let ring_id = reader.ring("token.ring_id")?;
            let token_seq = reader.u64("token.token_seq")?;
            let seq = Seq(reader.u64("token.seq")?);
            let aru = Seq(reader.u64("token.aru")?);
            let aru_addr = match reader.u32("token.aru_addr")? {
                0 => None,
                id => Some(NodeId(id)),
            };
            let rotation_min_aru = Seq(reader.u64("token.rotation_min_aru")?);
            let safe_aru = Seq(reader.u64("token.safe_aru")?);
            let backlog = reader.u32("token.backlog")?;
            let fcc = reader.u32("token.fcc")?;
            let flags = reader.u8("token.flags")?;
            if flags > 3 {
                return Err(DecodeError::BadValue {
                    field: "token.flags",
                    value: u64::from(flags),
                });
            }
            let count = reader.len("token.rtr_list", RTR_ENTRIES_MAX)?;
            let mut rtr_list = Vec::with_capacity(count);
            for _ in 0..count {
                rtr_list.push(Seq(reader.u64("token.rtr_list")?));
            }
            Body::Token(OrfToken {
                ring_id,
                token_seq,
                seq,
                aru,
                aru_addr,
                rotation_min_aru,
                safe_aru,
                backlog,
                fcc,
                retrans_flg: flags & 1 != 0,
                install: flags & 2 != 0,
                rtr_list,
            })
        }
        TYPE_MCAST => {
            let ring_id = reader.ring("mcast.ring_id")?;
            let seq = Seq(reader.u64("mcast.seq")?);
            let origin = reader.node("mcast.origin")?;
            let content = match reader.u8("mcast.encapsulated")? {
                0 => McastContent::Application(reader.payload()?),
                1 => McastContent::Encapsulated {
                    old_ring_id: reader.ring("mcast.old_ring_id")?,
                    old_seq: Seq(reader.u64("mcast.old_seq")?),
                    old_origin: reader.node("mcast.old_origin")?,
                    payload: reader.payload()?,
                },
                other => {
                    return Err(DecodeError::BadValue {
                        field: "mcast.encapsulated",
                        value: u64::from(other),
                    });
                }
            };
            Body::Mcast(Mcast {
                ring_id,
                seq,
                origin,
                content,
            })
        }
        TYPE_MERGE_DETECT => Body::MergeDetect {
            ring_id: reader.ring("merge_detect.ring_id")?,
        },
        TYPE_JOIN => {
            let ring_seq = reader.u64("join.ring_seq")?;
            let leave = reader.bool("join.leave")?;
            let proc_list = reader.nodes("join.proc_list")?;
            let failed_list = reader.nodes("join.failed_list")?;
            Body::Join(Join {
                ring_seq,
                leave,
                proc_list,
                failed_list,
            })
        }
        TYPE_COMMIT_TOKEN => {
            let ring_id = reader.ring("commit.ring_id")?;
            let memb_index = reader.u32("commit.memb_index")?;
            let addrs = reader.nodes("commit.addrs")?;
            let count = reader.len("commit.entries", addrs.len())?;
            let mut entries = Vec::with_capacity(count);
            for _ in 0..count {
                entries.push(MemberEntry {
                    old_ring_id: reader.ring("commit.entry.old_ring_id")?,
                    aru: Seq(reader.u64("commit.entry.aru")?),
                    high_delivered: Seq(reader.u64("commit.entry.high_delivered")?),
                    received_flg: reader.bool("commit.entry.received_flg")?,
                });
            }
            Body::Commit(CommitToken {
                ring_id,
                memb_index,
                addrs,
                entries,
            })
        }
        TYPE_HOLD_CANCEL => Body::HoldCancel {
            ring_id: reader.ring("hold_cancel.ring_id")?,
        },
        other => return Err(DecodeError::UnknownType(other)),
    };
    let trailing = bytes.len() - reader.pos;
    if trailing != 0 {
        return Err(DecodeError::TrailingBytes(trailing));
    }
    Ok(Packet { sender, body })
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, count: usize, field: &'static str) -> Result<&[u8], DecodeError> {
        let end = self
            .pos
            .checked_add(count)
            .filter(|end| *end <= self.bytes.len());
        match end {
            Some(end) => {
                let slice = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(slice)
            }
            None => Err(DecodeError::Truncated {
                field,
                len: self.bytes.len(),
            }),
        }
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::BadValue {
                field,
                value: u64::from(other),
            }),
        }
    }

    fn node(&mut self, field: &'static str) -> Result<NodeId, DecodeError> {
        match self.u32(field)? {
            0 => Err(DecodeError::BadValue { field, value: 0 }),
            id => Ok(NodeId(id)),
        }
    }

    fn ring(&mut self, field: &'static str) -> Result<RingId, DecodeError> {
        let rep = self.node(field)?;
        let seq = self.u64(field)?;
        Ok(RingId { seq, rep })
    }

    fn len(&mut self, field: &'static str, max: usize) -> Result<usize, DecodeError> {
        let len = self.u32(field)?;
        match usize::try_from(len) {
            Ok(len) if len <= max => Ok(len),
            _ => Err(DecodeError::TooLong {
                field,
                len: u64::from(len),
                max,
            }),
        }
    }

    fn nodes(&mut self, field: &'static str) -> Result<Vec<NodeId>, DecodeError> {
        let count = self.len(field, PROCESSORS_MAX)?;
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            nodes.push(self.node(field)?);
        }
        Ok(nodes)
    }

    fn payload(&mut self) -> Result<Arc<[u8]>, DecodeError> {
        let len = self.len("payload", PAYLOAD_BYTES_MAX)?;
        Ok(Arc::from(self.take(len, "payload")?))
    }
}
