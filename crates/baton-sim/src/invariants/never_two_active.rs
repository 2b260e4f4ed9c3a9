//! **Never two active.** With fencing enabled, a primitive is never active
//! on two live nodes of the simulated world at once; a node cut off or
//! awaiting fencing still runs what it ran, so it counts as live until it
//! is really down (CONTROLLER.md §6 "never two copies" and §8; Pacemaker
//! Explained, "Why You Need Fencing"). With fencing disabled a split may
//! run two copies by the user's choice, so only fencing runs are judged.

use std::collections::{BTreeMap, BTreeSet};

use baton_totem::NodeId;

use super::{Invariant, Observation};

#[derive(Debug, Default)]
pub struct NeverTwoActive {
    fencing: bool,
    /// Where each resource is active in the world.
    active: BTreeMap<String, BTreeSet<NodeId>>,
}

impl Invariant for NeverTwoActive {
    fn name(&self) -> &'static str {
        "never-two-active"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        match observation {
            Observation::Fencing { enabled } => self.fencing = *enabled,
            Observation::Resource {
                node,
                resource,
                active: true,
            } => {
                let nodes = self.active.entry((*resource).to_owned()).or_default();
                nodes.insert(*node);
                if self.fencing && nodes.len() > 1 {
                    return Err(format!("{resource} is active on nodes {nodes:?} at once"));
                }
            }
            Observation::Resource {
                node,
                resource,
                active: false,
            } => {
                if let Some(nodes) = self.active.get_mut(*resource) {
                    nodes.remove(node);
                }
            }
            Observation::Stopped { incarnation } => {
                for nodes in self.active.values_mut() {
                    nodes.remove(&incarnation.node);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariants::Incarnation;

    fn resource(node: u32, active: bool) -> Observation<'static> {
        Observation::Resource {
            node: NodeId(node),
            resource: "w1",
            active,
        }
    }

    #[test]
    fn a_second_copy_on_a_live_node_is_caught() {
        let mut checker = NeverTwoActive::default();
        assert!(
            checker
                .observe(&Observation::Fencing { enabled: true })
                .is_ok()
        );
        assert!(checker.observe(&resource(1, true)).is_ok());
        assert!(checker.observe(&resource(1, false)).is_ok());
        assert!(checker.observe(&resource(2, true)).is_ok(), "a move");
        let crash = Observation::Stopped {
            incarnation: Incarnation {
                node: NodeId(2),
                number: 0,
            },
        };
        assert!(checker.observe(&crash).is_ok());
        assert!(
            checker.observe(&resource(3, true)).is_ok(),
            "node 2 is down"
        );
        assert!(
            checker.observe(&resource(1, true)).is_err(),
            "node 3 runs it"
        );
    }

    #[test]
    fn without_fencing_a_split_may_run_two_copies() {
        let mut checker = NeverTwoActive::default();
        assert!(
            checker
                .observe(&Observation::Fencing { enabled: false })
                .is_ok()
        );
        assert!(checker.observe(&resource(1, true)).is_ok());
        assert!(checker.observe(&resource(2, true)).is_ok());
    }
}
