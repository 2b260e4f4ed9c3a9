//! Who shoots first after a two-node split. Both halves keep quorum
//! (`two_node`), so both would fence the other at once and both could die.
//! baton's default needs no tuning: the half that held the DC fences at
//! once, the other waits `fence_race_delay_ms`; with no DC known when the
//! peer left, the lower node id fences at once. A `priority-fencing-delay`
//! the scheduler put on the fencing action replaces this rule, as the
//! user's own tie-break.

use std::collections::BTreeMap;

use baton_scheduler::graph::PRIORITY_FENCING_DELAY;

use super::Controller;
use crate::{LeaveReason, NodeId};

/// Nodes that left this partition uncleanly, with the DC this node knew
/// when they left.
#[derive(Debug, Default)]
pub(super) struct SplitMemory {
    left: BTreeMap<NodeId, Option<NodeId>>,
}

impl SplitMemory {
    pub(super) fn departed(
        &mut self,
        dc_known: Option<NodeId>,
        left: impl Iterator<Item = (NodeId, LeaveReason)>,
    ) {
        for (node, reason) in left {
            if reason != LeaveReason::Leave {
                self.left.insert(node, dc_known);
            }
        }
    }

    pub(super) fn rejoined(&mut self, nodes: impl Iterator<Item = NodeId>) {
        for node in nodes {
            self.left.remove(&node);
        }
    }
}

impl Controller {
    /// How long the fencer waits before fencing `target`.
    pub(super) fn fence_delay_ms(&self, target: &str, meta: &BTreeMap<String, String>) -> u64 {
        if let Some(seconds) = meta.get(PRIORITY_FENCING_DELAY) {
            return seconds.parse::<u64>().map_or(0, |s| s.saturating_mul(1000));
        }
        let Some(delay) = self.settings.fence_race_delay_ms else {
            return 0;
        };
        let Some(target) = self
            .names
            .iter()
            .find(|(_, name)| *name == target)
            .map(|(id, _)| *id)
        else {
            return 0;
        };
        if self.ring_now.contains(&target) {
            return 0;
        }
        let me = self.settings.me.node;
        let target_shoots_first = match self.split.left.get(&target) {
            Some(Some(dc)) => *dc == target,
            Some(None) => target < me,
            None => false,
        };
        if target_shoots_first { delay } else { 0 }
    }
}
