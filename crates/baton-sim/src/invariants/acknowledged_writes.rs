//! **Acknowledged writes survive.** Once every fault has healed and every
//! node is back, each write a client was told was durable (applied by a
//! majority of nodes) is in every node's CIB. A write acknowledged without
//! that (its partition was cut off) is there too, or a join round replaced
//! the configuration holding it, and then that configuration was kept as a
//! backup and the cluster carries the dropped-configuration note: never
//! lost silently (CONTROLLER.md §3, §8).

use std::collections::BTreeMap;

use super::{EndOfRun, Invariant, Observation};

#[derive(Debug, Default)]
pub struct AcknowledgedWrites {
    /// Acknowledged writes by id: whether the answer said durable.
    acknowledged: BTreeMap<String, bool>,
    kept: Vec<String>,
}

/// Whether `cib` holds the write `id` (a primitive or a node attribute).
fn holds(cib: &str, id: &str) -> bool {
    cib.contains(&format!("id=\"{id}\"")) || cib.contains(&format!("name=\"{id}\""))
}

impl Invariant for AcknowledgedWrites {
    fn name(&self) -> &'static str {
        "acknowledged-writes-survive"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        match observation {
            Observation::WriteAcknowledged { id, without_quorum } => {
                self.acknowledged.insert((*id).to_owned(), !*without_quorum);
            }
            Observation::ConfigurationKept { cib } => self.kept.push((*cib).to_owned()),
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, end: &EndOfRun) -> Result<(), String> {
        for controller in &end.controllers {
            let noted = controller
                .cib
                .contains(baton_controller::DROPPED_CONFIGURATION_ATTRIBUTE);
            for (id, durable) in &self.acknowledged {
                if holds(&controller.cib, id) {
                    continue;
                }
                if *durable {
                    return Err(format!(
                        "write {id} was acknowledged as durable but node {} does not hold it",
                        controller.node
                    ));
                }
                if !noted || !self.kept.iter().any(|kept| holds(kept, id)) {
                    return Err(format!(
                        "write {id} was acknowledged but node {} does not hold it, and no dropped configuration records it",
                        controller.node
                    ));
                }
            }
        }
        Ok(())
    }
}
