//! **Configuration agreement.** All processes that install a regular
//! configuration with the same ring id install the same member list, and a
//! process is a member of every configuration it installs. FACTS.md §1.1,
//! §1.4 (the commit token fixes the member list); Amir et al., TOCS 1995, §4.

use std::collections::HashMap;

use baton_totem::{ConfigKind, NodeId, RingId};

use super::{Invariant, Observation};

#[derive(Debug, Default)]
pub struct ConfigAgreement {
    members_by_ring: HashMap<RingId, Vec<NodeId>>,
}

impl Invariant for ConfigAgreement {
    fn name(&self) -> &'static str {
        "configuration-agreement"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        if let Observation::Configuration {
            at,
            kind,
            ring_id,
            members,
        } = observation
        {
            if !members.contains(&at.node) {
                return Err(format!(
                    "node {} installed {ring_id} without being a member",
                    at.node
                ));
            }
            if *kind == ConfigKind::Regular {
                let known = self
                    .members_by_ring
                    .entry(*ring_id)
                    .or_insert_with(|| members.to_vec());
                if known.as_slice() != *members {
                    return Err(format!(
                        "node {} installed ring {ring_id} with members {members:?}; another node installed it with {known:?}",
                        at.node
                    ));
                }
            }
        }
        Ok(())
    }
}
