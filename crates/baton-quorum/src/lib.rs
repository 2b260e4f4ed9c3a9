//! Votequorum as a pure state machine.
//!
//! [`Quorum`] decides whether this node's partition may run resources. It
//! reads no clock and does no I/O: the driver passes each regular membership
//! from Totem to [`Quorum::membership_changed`] with the current monotonic
//! time, the [`NodeInfo`] peers multicast to [`Quorum::handle_node_info`],
//! and calls [`Quorum::handle_timer`] at [`Quorum::next_deadline`]. After
//! every input it multicasts [`Quorum::poll_transmit`] in agreed order,
//! drains [`Quorum::poll_event`] and reads [`Quorum::status`].
//!
//! The rules: expected votes are the nodelist's vote sum (or the configured
//! override) and only rise; quorum is a strict majority of them,
//! floor(E/2)+1, and never drops unless last_man_standing or allow_downscale
//! lowers it; two_node, wait_for_all and auto_tie_breaker adjust who may be
//! quorate. The cases in `tests/testdata/` spell each rule out.

mod config;
mod machine;
mod status;
mod types;
pub mod wire;

pub use config::{ConfigError, NodeVotes, QuorumConfig, TieBreaker};
pub use machine::{MAX_PENDING_EVENTS, Quorum};
pub use status::{Flags, Member, NodeInfo, QuorumEvent, Status};
pub use types::{Millis, NodeId, RingId, Votes};
