//! Protocol configuration: the configured nodes, timers and bounds.
//! Defaults follow FACTS §1.7 (corosync 3.1.7 runtime values).

use crate::ids::NodeId;

/// Token-loss timeout before the coefficient is applied.
pub const TOKEN_MS_DEFAULT: u64 = 3000;
/// Added per configured node beyond two.
pub const TOKEN_COEFFICIENT_MS_DEFAULT: u64 = 650;
/// Join resend period while gathering.
pub const JOIN_MS_DEFAULT: u64 = 50;
/// Period of the representative's merge-detect probe while the ring is idle.
pub const MERGE_MS_DEFAULT: u64 = 200;
/// Rotations the aru may stay stuck on us before we declare ourselves failed.
pub const FAIL_RECV_CONST_DEFAULT: u32 = 2500;
/// Visits with an unchanged seq before the representative holds the token.
pub const SEQNO_UNCHANGED_CONST_DEFAULT: u32 = 30;
/// Visits a gap must be seen before it is put on the retransmit list.
pub const MISS_COUNT_CONST_DEFAULT: u32 = 5;
/// Ring-wide new messages per rotation.
pub const WINDOW_SIZE_DEFAULT: u32 = 50;
/// New messages one node may send per token visit.
pub const MAX_MESSAGES_DEFAULT: u32 = 17;
/// Largest application payload accepted by `submit`.
pub const PAYLOAD_BYTES_MAX_DEFAULT: usize = 65_000;
/// Submitted messages waiting for the token.
pub const SUBMIT_QUEUE_MAX_DEFAULT: usize = 16_384;
/// Messages held per ring (unfreed) before senders stop adding more
/// (FACTS §1.2: 16384-message sort/retransmit queue).
pub const RING_MESSAGES_MAX_DEFAULT: u64 = 16_384;
/// Retransmit requests carried by one token (FACTS §1.2).
pub const RTR_ENTRIES_MAX: usize = 30;
/// Processors in one ring (FACTS §1.2).
pub const PROCESSORS_MAX: usize = 384;
/// The largest sequence number (ring seq, message seq, token hop) a peer
/// may claim: beyond any real cluster's life (a new ring every millisecond
/// for 10^8 years), and far enough from u64's end that no arithmetic on
/// an accepted one can overflow.
pub const SEQ_LIMIT: u64 = u64::MAX / 4;
/// How far beyond the highest ring seq seen a peer's may jump: restarts and
/// partitions move ring seqs by fours, never by billions.
pub const RING_SEQ_JUMP_MAX: u64 = 1 << 32;
/// Smallest value any timeout may take (FACTS §1.7).
pub const TIMEOUT_MS_MIN: u64 = 30;

/// Everything the core needs to know that does not come from the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Configured node ids. Nodes not listed are still accepted when their
    /// joins arrive, so this only seeds who we expect to hear from.
    pub nodes: Vec<NodeId>,
    /// Effective token-loss timeout.
    pub token_ms: u64,
    pub token_retransmit_ms: u64,
    pub hold_ms: u64,
    pub join_ms: u64,
    pub consensus_ms: u64,
    pub merge_ms: u64,
    pub fail_recv_const: u32,
    pub seqno_unchanged_const: u32,
    pub miss_count_const: u32,
    pub window_size: u32,
    pub max_messages: u32,
    pub payload_bytes_max: usize,
    pub submit_queue_max: usize,
    pub ring_messages_max: u64,
}

impl Config {
    /// The corosync defaults for this node list.
    #[must_use]
    pub fn with_defaults(nodes: Vec<NodeId>) -> Config {
        Config::with_token(nodes, TOKEN_MS_DEFAULT, TOKEN_COEFFICIENT_MS_DEFAULT)
    }

    /// Derives every dependent timer from `token` and `token_coefficient` the
    /// way corosync does, so tests and the simulator can shrink time scales
    /// while keeping the ratios between timers.
    #[must_use]
    pub fn with_token(nodes: Vec<NodeId>, token_ms: u64, token_coefficient_ms: u64) -> Config {
        let extra_nodes = nodes.len().saturating_sub(2) as u64;
        let token_ms = if nodes.len() >= 3 {
            token_ms + extra_nodes * token_coefficient_ms
        } else {
            token_ms
        };
        // token_retransmit = token / (retransmits_before_loss + 0.2), i.e. token*10/42.
        let token_retransmit_ms = (token_ms * 10 / 42).max(TIMEOUT_MS_MIN);
        let hold_ms = (token_retransmit_ms * 8 / 10).saturating_sub(10).max(14);
        Config {
            nodes,
            token_ms,
            token_retransmit_ms,
            hold_ms,
            join_ms: JOIN_MS_DEFAULT,
            consensus_ms: token_ms * 12 / 10,
            merge_ms: MERGE_MS_DEFAULT,
            fail_recv_const: FAIL_RECV_CONST_DEFAULT,
            seqno_unchanged_const: SEQNO_UNCHANGED_CONST_DEFAULT,
            miss_count_const: MISS_COUNT_CONST_DEFAULT,
            window_size: WINDOW_SIZE_DEFAULT,
            max_messages: MAX_MESSAGES_DEFAULT,
            payload_bytes_max: PAYLOAD_BYTES_MAX_DEFAULT,
            submit_queue_max: SUBMIT_QUEUE_MAX_DEFAULT,
            ring_messages_max: RING_MESSAGES_MAX_DEFAULT,
        }
    }

    /// Checks the relations the protocol relies on; a violation is a
    /// programmer error in whoever built the config.
    pub(crate) fn assert_valid(&self) {
        assert!(
            self.nodes.len() <= PROCESSORS_MAX,
            "too many configured nodes"
        );
        assert!(self.nodes.iter().all(|n| n.0 != 0), "node id 0 is reserved");
        assert!(self.token_ms >= TIMEOUT_MS_MIN);
        assert!(self.join_ms > 0 && self.merge_ms > 0);
        assert!(
            self.consensus_ms >= self.join_ms,
            "consensus must be >= join"
        );
        assert!(
            self.hold_ms < self.token_ms,
            "holding must not look like token loss"
        );
        assert!(self.token_retransmit_ms < self.token_ms);
        assert!(self.window_size > 0 && self.max_messages > 0);
        assert!(self.payload_bytes_max <= crate::codec::PAYLOAD_BYTES_MAX);
        assert!(self.submit_queue_max > 0 && self.ring_messages_max > 0);
    }
}
