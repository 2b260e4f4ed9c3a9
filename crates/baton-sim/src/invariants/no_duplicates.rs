//! **No duplication, no creation.** A process delivers a message at most
//! once, and only messages some process submitted, attributed to their real
//! sender. Amir et al., TOCS 1995, §2 (reliable delivery); FACTS.md §1.5.

use std::collections::{HashMap, HashSet};

use super::{Incarnation, Invariant, MessageId, Observation};

#[derive(Debug, Default)]
pub struct NoDuplicates {
    submitted: HashSet<MessageId>,
    delivered: HashMap<Incarnation, HashSet<MessageId>>,
}

impl Invariant for NoDuplicates {
    fn name(&self) -> &'static str {
        "no-duplicates-nothing-invented"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        match observation {
            Observation::Submitted { message, .. } => {
                self.submitted.insert(*message);
            }
            Observation::Delivered {
                at,
                sender,
                message,
            } => {
                let Some(message) = message else {
                    return Err(format!(
                        "node {} delivered a payload nobody submitted",
                        at.node
                    ));
                };
                if !self.submitted.contains(message) {
                    return Err(format!(
                        "node {} delivered {message:?}, which was never submitted",
                        at.node
                    ));
                }
                if message.node != *sender {
                    return Err(format!(
                        "node {} delivered {message:?} attributed to node {sender}",
                        at.node
                    ));
                }
                if !self.delivered.entry(*at).or_default().insert(*message) {
                    return Err(format!("node {} delivered {message:?} twice", at.node));
                }
            }
            Observation::Stopped { incarnation } => {
                self.delivered.remove(incarnation);
            }
            _ => {}
        }
        Ok(())
    }
}
