//! **Fence before recover.** With fencing enabled, a resource that was
//! active on a node the cluster lost uncleanly (it crashed, or a node's
//! ring no longer holds it) does not start on a node that lost it until
//! that node's fencing is confirmed, or until the node is back in that
//! node's ring (its state is then known again) (CONTROLLER.md §6, §8;
//! Pacemaker Explained, `requires=fencing`). This catches a recovery that
//! was safe only by luck, because the lost node had in fact died.

use std::collections::{BTreeMap, BTreeSet};

use baton_totem::{ConfigKind, NodeId};

use super::{Invariant, Observation};

#[derive(Debug, Default)]
pub struct FenceBeforeRecover {
    fencing: bool,
    /// Every node seen in a configuration.
    nodes: BTreeSet<NodeId>,
    /// What is active on each node in the world.
    active: BTreeMap<NodeId, BTreeSet<String>>,
    /// (resource, the node that held it when it was lost) → the nodes that
    /// lost that node and have not seen it since.
    guards: BTreeMap<(String, NodeId), BTreeSet<NodeId>>,
}

impl FenceBeforeRecover {
    fn lost(&mut self, holder: NodeId, by: impl Iterator<Item = NodeId> + Clone) {
        for resource in self.active.get(&holder).into_iter().flatten() {
            let guard = self.guards.entry((resource.clone(), holder)).or_default();
            guard.extend(by.clone());
        }
        for ((_, held_by), guard) in &mut self.guards {
            if *held_by == holder {
                guard.extend(by.clone());
            }
        }
    }

    fn starts(&self, node: NodeId, resource: &str) -> Result<(), String> {
        let unfenced = self.guards.iter().find(|((r, holder), lost_by)| {
            r == resource && *holder != node && lost_by.contains(&node)
        });
        match unfenced {
            Some(((_, holder), _)) => Err(format!(
                "{resource} starts on node {node} while node {holder}, which ran it when node {node} lost it, is not fenced"
            )),
            None => Ok(()),
        }
    }
}

impl Invariant for FenceBeforeRecover {
    fn name(&self) -> &'static str {
        "fence-before-recover"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        match observation {
            Observation::Fencing { enabled } => self.fencing = *enabled,
            Observation::Resource {
                node,
                resource,
                active,
            } => {
                if *active && self.fencing {
                    self.starts(*node, resource)?;
                }
                let here = self.active.entry(*node).or_default();
                if *active {
                    here.insert((*resource).to_owned());
                } else {
                    here.remove(*resource);
                }
            }
            Observation::Configuration {
                at,
                kind: ConfigKind::Regular,
                members,
                ..
            } => {
                self.nodes.insert(at.node);
                self.nodes.extend(members.iter().copied());
                let missing: Vec<NodeId> = self
                    .nodes
                    .iter()
                    .filter(|n| **n != at.node && !members.contains(n))
                    .copied()
                    .collect();
                for holder in missing {
                    self.lost(holder, std::iter::once(at.node));
                }
                for ((_, holder), lost_by) in &mut self.guards {
                    if members.contains(holder) {
                        lost_by.remove(&at.node);
                    }
                }
                self.guards.retain(|_, lost_by| !lost_by.is_empty());
            }
            Observation::Stopped { incarnation } => {
                let holder = incarnation.node;
                let others: Vec<NodeId> = self
                    .nodes
                    .iter()
                    .filter(|n| **n != holder)
                    .copied()
                    .collect();
                self.lost(holder, others.into_iter());
                self.active.remove(&holder);
            }
            Observation::Fenced { node } => self.guards.retain(|(_, holder), _| holder != node),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariants::Incarnation;
    use baton_totem::RingId;

    fn start(node: u32) -> Observation<'static> {
        Observation::Resource {
            node: NodeId(node),
            resource: "w1",
            active: true,
        }
    }

    fn ring<'a>(at: u32, members: &'a [NodeId]) -> Observation<'a> {
        Observation::Configuration {
            at: Incarnation {
                node: NodeId(at),
                number: 0,
            },
            kind: ConfigKind::Regular,
            ring_id: RingId {
                seq: 4,
                rep: NodeId(1),
            },
            members,
        }
    }

    fn crash(node: u32) -> Observation<'static> {
        Observation::Stopped {
            incarnation: Incarnation {
                node: NodeId(node),
                number: 0,
            },
        }
    }

    #[test]
    fn a_recovery_before_fencing_is_caught() {
        let all = [NodeId(1), NodeId(2)];
        let mut checker = FenceBeforeRecover::default();
        let setup = [
            Observation::Fencing { enabled: true },
            ring(1, &all),
            start(1),
            crash(1),
        ];
        assert!(setup.iter().all(|o| checker.observe(o).is_ok()));
        assert!(checker.observe(&start(2)).is_err(), "node 1 was not fenced");
    }

    #[test]
    fn fencing_or_a_rejoin_lets_the_resource_move() {
        let all = [NodeId(1), NodeId(2)];
        let alone = [NodeId(2)];
        let mut fenced = FenceBeforeRecover::default();
        let steps = [
            Observation::Fencing { enabled: true },
            ring(1, &all),
            start(1),
            ring(2, &alone),
            Observation::Fenced { node: NodeId(1) },
            start(2),
        ];
        assert!(steps.iter().all(|o| fenced.observe(o).is_ok()));
        let mut rejoined = FenceBeforeRecover::default();
        let steps = [
            Observation::Fencing { enabled: true },
            ring(1, &all),
            start(1),
            ring(2, &alone),
            ring(2, &all),
            Observation::Resource {
                node: NodeId(1),
                resource: "w1",
                active: false,
            },
            start(2),
        ];
        assert!(steps.iter().all(|o| rejoined.observe(o).is_ok()));
    }
}
