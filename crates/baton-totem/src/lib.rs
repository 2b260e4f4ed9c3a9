//! Totem single-ring ordering and membership protocol (Amir et al., ACM TOCS
//! 13(4), 1995; FACTS.md §1) as a pure state machine.
//!
//! **Architecture invariant:** no sockets, clocks, threads, tokio or OS
//! randomness. Inputs are `handle_packet(now, from, bytes)`,
//! `handle_timer(now)` and `submit(payload)`; outputs are drained with
//! `poll_output()` in order, and `next_deadline()` says when to call
//! `handle_timer` again. The driver must carry out `Output::PersistRingSeq`
//! (durably) before any output that follows it.
//!
//! Where this core knowingly differs from corosync's totemsrp (our own wire
//! format, so the differences are free to make):
//! - Sequence numbers are 64-bit and restart per ring, so no modulo-2^32
//!   comparisons; retransmit requests name only a seq of the current ring.
//! - The ORF token carries `rotation_min_aru`/`safe_aru`: a true per-rotation
//!   minimum of the members' arus. Freeing stops at `safe_aru`, and recovery
//!   ends when the representative sees `safe_aru == seq` with no
//!   retransmissions pending; it then sets the token's `install` flag and each
//!   member installs as the token reaches it. (The classic aru may be raised
//!   by its holder past slower members visited earlier in the rotation; the
//!   simulator found recovery ending early that way.)
//! - In recovery the survivor with the highest old-ring aru re-sends up to its
//!   aru and the others only what lies above it, instead of every survivor
//!   re-sending everything.
//! - Joins go out at most every `join_ms / 10` ms, a join that changes
//!   nothing does not restart the consensus timer, and the gather lists are
//!   cleared when a ring is committed.
//! - Data, joins and merge probes use `Destination::Broadcast` (every node
//!   the transport reaches), so foreign rings always hear each other.
//! - An OPERATIONAL ring ignores a join from a node outside it that is still
//!   on an older ring and names one of its members failed (corosync ignores
//!   it only when it names the receiver). The verdict predates the ring;
//!   following it made two groups fail each other every round, forever. A
//!   gather that has failed nobody yet (a ring just pulled in by a merge)
//!   ignores it too, unless it already waits for the sender and the join is
//!   not a late one from the node that pulled it in; with three groups
//!   gathering out of step, following it there kept them apart.
//! - Not implemented: the pause-detection tick (FACTS §1.6), `send_join`
//!   random delay, `cancel_token_hold_on_retransmit: no`, SAFE delivery.

mod bounds;
pub mod codec;
mod config;
mod core;
mod ids;
mod membership;
mod operational;
mod output;
mod recovery;
mod store;

pub use crate::config::*;
pub use crate::core::{State, Totem};
pub use crate::ids::{Millis, NodeId, RingId, Seq};
pub use crate::output::{Backpressure, ConfigKind, Destination, Output, Rejected};
