//! **Quorum safety.** At no instant are two nodes quorate while their
//! regular configurations have disjoint member sets: a partition and its
//! complement are never both quorate, or both halves would run resources.
//! FACTS.md §4 (quorum is a strict majority of expected votes, which only
//! rise; auto_tie_breaker gives an exact half split to one side only).
//!
//! Each node's claim stands until its votequorum revises it, so a node that
//! has not yet seen its ring break still counts with its old members.

use std::collections::HashMap;

use baton_totem::NodeId;

use super::{Incarnation, Invariant, Observation};

#[derive(Debug, Default)]
pub struct QuorumSafety {
    /// The members of every node that claims quorum now.
    quorate: HashMap<Incarnation, Vec<NodeId>>,
}

impl Invariant for QuorumSafety {
    fn name(&self) -> &'static str {
        "quorum-safety"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        match observation {
            Observation::Quorum {
                at,
                quorate: true,
                members,
            } => {
                let rival = self.quorate.iter().find(|(other, theirs)| {
                    other.node != at.node && !theirs.iter().any(|n| members.contains(n))
                });
                if let Some((other, theirs)) = rival {
                    return Err(format!(
                        "node {} is quorate with members {members:?} while node {} is quorate with the disjoint members {theirs:?}",
                        at.node, other.node
                    ));
                }
                self.quorate.insert(*at, members.to_vec());
            }
            Observation::Quorum {
                at, quorate: false, ..
            } => {
                self.quorate.remove(at);
            }
            Observation::Stopped { incarnation } => {
                self.quorate.remove(incarnation);
            }
            _ => {}
        }
        Ok(())
    }
}
