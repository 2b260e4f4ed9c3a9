//! **Liveness after the faults stop.** Once the network is healed and every
//! node runs, all nodes form one ring within a bound computed from the
//! timeouts, and messages submitted afterwards are delivered by every node.
//! FACTS.md §1.3 (failure detection costs token + consensus), §1.6 (merge);
//! Amir et al., TOCS 1995, §6 (membership termination).

use std::collections::{BTreeSet, HashMap};

use baton_totem::{Config, ConfigKind, Millis, NodeId, RingId};

use super::{Incarnation, Invariant, MessageId, Observation};

/// How long after the quiet phase starts all nodes must be committed to one
/// ring. From any state, one round is: a stale ring notices token loss
/// (token), a gather times out the nodes that do not agree (consensus), and
/// the rings formed meanwhile find each other by merge probes or foreign data
/// (merge) and exchange joins. Nodes that excluded each other during the
/// faults can need several rounds before their failed lists are clear; we
/// allow five. Installing the ring afterwards depends on how many old
/// messages recovery must move, so the simulator bounds it separately.
#[must_use]
pub fn convergence_bound_ms(config: &Config) -> u64 {
    5 * (config.token_ms + config.consensus_ms) + 4 * config.merge_ms + 10 * config.join_ms
}

#[derive(Debug, Default)]
pub struct Liveness {
    current: HashMap<Incarnation, (RingId, Vec<NodeId>)>,
    probes: BTreeSet<MessageId>,
    probe_deliveries: HashMap<NodeId, BTreeSet<MessageId>>,
}

impl Liveness {
    /// Whether every node in `running` is in one regular configuration
    /// containing exactly them.
    #[must_use]
    pub fn converged(&self, running: &[Incarnation]) -> Option<RingId> {
        let first = self.current.get(running.first()?)?;
        let expected: Vec<NodeId> = running.iter().map(|i| i.node).collect();
        let all_same = running.iter().all(|i| self.current.get(i) == Some(first));
        (all_same && first.1 == expected).then_some(first.0)
    }

    pub fn add_probe(&mut self, message: MessageId) {
        self.probes.insert(message);
    }

    /// Probes (submitted once the ring formed) that some running node has
    /// not delivered yet.
    #[must_use]
    pub fn missing_probes(&self, running: &[Incarnation]) -> Option<(NodeId, MessageId)> {
        for incarnation in running {
            let delivered = self.probe_deliveries.get(&incarnation.node);
            for probe in &self.probes {
                if !delivered.is_some_and(|d| d.contains(probe)) {
                    return Some((incarnation.node, *probe));
                }
            }
        }
        None
    }

    pub fn check_formed_in_time(
        &self,
        running: &[Incarnation],
        formed: bool,
        quiet_since: Millis,
        now: Millis,
        config: &Config,
    ) -> Result<(), String> {
        let bound = convergence_bound_ms(config);
        if !formed && now.0 > quiet_since.0 + bound {
            let rings: Vec<String> = running
                .iter()
                .map(|i| match self.current.get(i) {
                    Some((ring, members)) => format!("{}:{ring}{members:?}", i.node),
                    None => format!("{}:none", i.node),
                })
                .collect();
            return Err(format!(
                "no single ring {bound} ms after the faults stopped (token {} ms, consensus {} ms); last regular rings: {}",
                config.token_ms,
                config.consensus_ms,
                rings.join(" ")
            ));
        }
        Ok(())
    }
}

impl Invariant for Liveness {
    fn name(&self) -> &'static str {
        "liveness"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        match observation {
            Observation::Configuration {
                at,
                kind: ConfigKind::Regular,
                ring_id,
                members,
            } => {
                self.current.insert(*at, (*ring_id, members.to_vec()));
            }
            Observation::Delivered {
                at,
                message: Some(message),
                ..
            } if self.probes.contains(message) => {
                self.probe_deliveries
                    .entry(at.node)
                    .or_default()
                    .insert(*message);
            }
            Observation::Stopped { incarnation } => {
                self.current.remove(incarnation);
                self.probe_deliveries.remove(&incarnation.node);
            }
            _ => {}
        }
        Ok(())
    }
}
