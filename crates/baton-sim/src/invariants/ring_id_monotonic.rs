//! **Ring ids only grow.** Each node installs regular configurations with
//! strictly increasing ring sequence numbers and persists increasing ring
//! sequences, across restarts too. FACTS.md §1.1 (ring id seq = max seen + 4,
//! persisted on COMMIT, +1 at start-up); Amir et al., TOCS 1995, §4.

use std::collections::HashMap;

use baton_totem::{ConfigKind, NodeId, RingId};

use super::{Invariant, Observation};

#[derive(Debug, Default)]
pub struct RingIdMonotonic {
    last_installed: HashMap<NodeId, RingId>,
    last_persisted: HashMap<NodeId, u64>,
}

impl Invariant for RingIdMonotonic {
    fn name(&self) -> &'static str {
        "ring-id-monotonic"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        match observation {
            Observation::Configuration {
                at,
                kind: ConfigKind::Regular,
                ring_id,
                ..
            } => {
                if let Some(previous) = self.last_installed.insert(at.node, *ring_id)
                    && previous.seq >= ring_id.seq
                {
                    return Err(format!(
                        "node {} installed ring {ring_id} after ring {previous}",
                        at.node
                    ));
                }
            }
            Observation::Persisted { node, ring_seq } => {
                if let Some(previous) = self.last_persisted.insert(*node, *ring_seq)
                    && previous >= *ring_seq
                {
                    return Err(format!(
                        "node {node} persisted ring seq {ring_seq} after {previous}"
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}
