//! Closed process groups (corosync's CPG) on top of the Totem ring, as a
//! pure state machine: local processes join named groups, multicast to
//! them, and every member sees the same messages and membership changes in
//! the same agreed order.
//!
//! The daemon feeds in what its local clients ask for and what the ring
//! delivers; the machine answers with payloads to submit to the ring and
//! events for local clients. Group state travels only inside agreed-order
//! ring messages, so every node applies the same changes in the same order.

mod groups;
pub mod wire;

pub use baton_totem::{NodeId, RingId};
pub use groups::{Action, ClientId, Event, Groups, JoinError, SendError};
pub use wire::{DecodeError, Member, Reason};

/// Longest group name in bytes (corosync's CPG_MAX_NAME_LENGTH).
pub const GROUP_NAME_BYTES_MAX: usize = 128;
/// Largest message one client may send; bigger ones travel as fragments of
/// [`FRAGMENT_BYTES`] and are reassembled in order on every node.
pub const MESSAGE_BYTES_MAX: usize = 1024 * 1024;
/// Message bytes per ring payload: Totem takes 65,000, the header needs the
/// rest.
pub const FRAGMENT_BYTES: usize = 64_000;
/// Group memberships one node may hold, so a join list stays one payload.
pub const LOCAL_MEMBERSHIPS_MAX: usize = 256;
