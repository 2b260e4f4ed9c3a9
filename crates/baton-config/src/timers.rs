//! Totem timer defaults and the values derived from them (corosync 3.1.7).

use crate::model::ClusterConfig;

pub const TOKEN_MS: u64 = 3000;
pub const TOKEN_COEFFICIENT_MS: u64 = 650;
pub const JOIN_MS: u64 = 50;
pub const MERGE_MS: u64 = 200;
pub const SEND_JOIN_MS: u64 = 0;
pub const MAX_MESSAGES: u32 = 17;
pub const WINDOW_SIZE: u32 = 50;
pub const FAIL_RECV_CONST: u32 = 2500;
pub const SEQNO_UNCHANGED_CONST: u32 = 30;
pub const TOKEN_RETRANSMITS_BEFORE_LOSS_CONST: u32 = 4;
pub const MISS_COUNT_CONST: u32 = 5;
pub const LAST_MAN_STANDING_WINDOW_MS: u64 = 10_000;
/// No Totem timeout may be shorter: three ticks of a 100 Hz kernel clock.
pub const MIN_TIMEOUT_MS: u64 = 30;
/// The hold timer is shortened by one kernel tick (1000/HZ with HZ = 100).
const HOLD_TICK_MS: u64 = 10;

/// The timers Totem actually runs with, after defaults and scaling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TotemTimers {
    /// token + (N−2)·token_coefficient once the nodelist has three or more nodes.
    pub token_ms: u64,
    pub token_retransmit_ms: u64,
    pub hold_ms: u64,
    pub consensus_ms: u64,
    pub join_ms: u64,
    pub merge_ms: u64,
    pub send_join_ms: u64,
    pub max_messages: u32,
    pub window_size: u32,
    pub fail_recv_const: u32,
    pub seqno_unchanged_const: u32,
    pub token_retransmits_before_loss_const: u32,
    pub miss_count_const: u32,
}

impl ClusterConfig {
    /// N counts configured nodes, not live ones, so the timers do not move
    /// when a node leaves.
    pub fn timers(&self) -> TotemTimers {
        let t = &self.totem;
        let nodes = u64::try_from(self.nodelist.nodes.len()).unwrap_or(u64::MAX);
        let base = t.token_ms.unwrap_or(TOKEN_MS);
        let coefficient = t.token_coefficient_ms.unwrap_or(TOKEN_COEFFICIENT_MS);
        let token_ms = if nodes >= 3 {
            base.saturating_add((nodes - 2).saturating_mul(coefficient))
        } else {
            base
        };
        let retransmits = t
            .token_retransmits_before_loss_const
            .unwrap_or(TOKEN_RETRANSMITS_BEFORE_LOSS_CONST);
        // token / (retransmits + 0.2), kept in integers: token·10 / (retransmits·10 + 2).
        let token_retransmit_ms = token_ms.saturating_mul(10)
            / (u64::from(retransmits).saturating_mul(10).saturating_add(2));
        let hold_ms = (token_retransmit_ms.saturating_mul(8) / 10).saturating_sub(HOLD_TICK_MS);
        TotemTimers {
            token_ms,
            token_retransmit_ms,
            hold_ms,
            consensus_ms: t.consensus_ms.unwrap_or(token_ms.saturating_mul(12) / 10),
            join_ms: t.join_ms.unwrap_or(JOIN_MS),
            merge_ms: t.merge_ms.unwrap_or(MERGE_MS),
            send_join_ms: t.send_join_ms.unwrap_or(SEND_JOIN_MS),
            max_messages: t.max_messages.unwrap_or(MAX_MESSAGES),
            window_size: t.window_size.unwrap_or(WINDOW_SIZE),
            fail_recv_const: t.fail_recv_const.unwrap_or(FAIL_RECV_CONST),
            seqno_unchanged_const: t.seqno_unchanged_const.unwrap_or(SEQNO_UNCHANGED_CONST),
            token_retransmits_before_loss_const: retransmits,
            miss_count_const: MISS_COUNT_CONST,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{ClusterConfig, Node};

    fn with_nodes(n: usize) -> ClusterConfig {
        let mut c = ClusterConfig::default();
        c.nodelist.nodes = vec![Node::default(); n];
        c
    }

    #[test]
    fn two_nodes_use_the_plain_token() {
        let t = with_nodes(2).timers();
        assert_eq!(
            (t.token_ms, t.consensus_ms, t.token_retransmit_ms, t.hold_ms),
            (3000, 3600, 714, 561)
        );
    }

    #[test]
    fn three_nodes_add_one_coefficient() {
        let t = with_nodes(3).timers();
        assert_eq!(
            (t.token_ms, t.consensus_ms, t.token_retransmit_ms, t.hold_ms),
            (3650, 4380, 869, 685)
        );
    }

    #[test]
    fn explicit_consensus_is_kept_and_zero_coefficient_disables_scaling() {
        let mut c = with_nodes(5);
        c.totem.token_coefficient_ms = Some(0);
        c.totem.consensus_ms = Some(5000);
        let t = c.timers();
        assert_eq!((t.token_ms, t.consensus_ms), (3000, 5000));
    }
}
