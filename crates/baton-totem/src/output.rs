//! What the core asks its driver to do.

use std::sync::Arc;

use crate::ids::{NodeId, RingId};

/// Where a packet goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Unicast to one node.
    Node(NodeId),
    /// Every node the transport can reach (the configured and discovered
    /// nodes), except ourselves. Foreign rings must hear joins, data and
    /// merge probes for partitions to merge again.
    Broadcast,
}

/// Whether a configuration change is the transitional one (the survivors of
/// the old ring) or the regular one (the new ring), FACTS §1.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigKind {
    Transitional,
    Regular,
}

/// One action for the driver, in the order it must be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Send {
        to: Destination,
        packet: Vec<u8>,
    },
    /// A message in agreed order.
    Deliver {
        sender: NodeId,
        payload: Arc<[u8]>,
    },
    ConfigChange {
        kind: ConfigKind,
        ring_id: RingId,
        members: Vec<NodeId>,
        left: Vec<NodeId>,
        joined: Vec<NodeId>,
    },
    /// The driver must store this ring sequence durably before it carries out
    /// any later output: the following sends commit us to a ring with this
    /// seq, and after a restart our ring ids must keep growing.
    PersistRingSeq(u64),
}

/// `submit` refused a message; the caller keeps it and retries later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Backpressure {
    #[error("the submit queue holds {queued} messages, the limit; retry after deliveries")]
    QueueFull { queued: usize },
    #[error("payload of {bytes} bytes exceeds the limit of {max} bytes; split it")]
    PayloadTooLarge { bytes: usize, max: usize },
}

/// Why `handle_packet` dropped a packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("undecodable: {0}")]
    Undecodable(#[from] crate::codec::DecodeError),
    /// The transport authenticated the packet as coming from another node
    /// (or from ourselves): forged, replayed from elsewhere, or misrouted.
    #[error("claims to come from node {claimed}")]
    WrongSender { claimed: NodeId },
    /// It decodes, but what it claims would crash or wedge a node.
    #[error("refused: {0}")]
    OutOfBounds(String),
}
