//! **Quorum liveness.** At the end of the quiet phase, when every live node
//! is in one ring that holds a majority of the configured votes, every live
//! node is quorate: votequorum must not withhold quorum from a healed
//! cluster. FACTS.md §4 (quorate ⇔ total votes ≥ floor(E/2)+1; with
//! wait_for_all, once all nodes were seen together).

use std::collections::{BTreeMap, HashMap};

use baton_quorum::QuorumConfig;
use baton_totem::{ConfigKind, NodeId, RingId};

use super::{EndOfRun, Incarnation, Invariant, Observation};

#[derive(Debug)]
pub struct QuorumLiveness {
    votes: BTreeMap<NodeId, u32>,
    expected_votes: u32,
    ring: HashMap<Incarnation, (RingId, Vec<NodeId>)>,
}

impl QuorumLiveness {
    #[must_use]
    pub fn new(config: &QuorumConfig) -> QuorumLiveness {
        let votes: BTreeMap<NodeId, u32> = config
            .nodes
            .iter()
            .map(|n| (NodeId(n.id.0), n.votes.0))
            .collect();
        let expected_votes = config
            .expected_votes
            .map_or_else(|| votes.values().sum(), |v| v.0);
        QuorumLiveness {
            votes,
            expected_votes,
            ring: HashMap::new(),
        }
    }
}

impl Invariant for QuorumLiveness {
    fn name(&self) -> &'static str {
        "quorum-liveness"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        match observation {
            Observation::Configuration {
                at,
                kind: ConfigKind::Regular,
                ring_id,
                members,
            } => {
                self.ring.insert(*at, (*ring_id, members.to_vec()));
            }
            Observation::Stopped { incarnation } => {
                self.ring.remove(incarnation);
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, end: &EndOfRun) -> Result<(), String> {
        let Some(first) = end.survivors.first().and_then(|s| self.ring.get(s)) else {
            return Ok(());
        };
        let live: Vec<NodeId> = end.survivors.iter().map(|s| s.node).collect();
        let one_ring = end
            .survivors
            .iter()
            .all(|s| self.ring.get(s) == Some(first));
        let ring_votes: u32 = first
            .1
            .iter()
            .map(|n| self.votes.get(n).copied().unwrap_or(1))
            .sum();
        if !one_ring || first.1 != live || ring_votes < self.expected_votes / 2 + 1 {
            return Ok(());
        }
        match end.quorate.iter().find(|(_, quorate)| !quorate) {
            Some((node, _)) => Err(format!(
                "node {node} is not quorate at the end although all live nodes are in ring {} holding {ring_votes} of {} votes",
                first.0, self.expected_votes
            )),
            None => Ok(()),
        }
    }
}
