//! **Self delivery.** A process that stays up delivers every message it
//! submitted (which also means a submitted message survives ring changes).
//! Amir et al., TOCS 1995, §2 (self-delivery); FACTS.md §1.5.

use std::collections::{HashMap, HashSet};

use super::{EndOfRun, Incarnation, Invariant, MessageId, Observation};

#[derive(Debug, Default)]
pub struct SelfDelivery {
    undelivered: HashMap<Incarnation, HashSet<MessageId>>,
}

impl Invariant for SelfDelivery {
    fn name(&self) -> &'static str {
        "self-delivery"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        match observation {
            Observation::Submitted { by, message } => {
                self.undelivered.entry(*by).or_default().insert(*message);
            }
            Observation::Delivered {
                at,
                message: Some(message),
                ..
            } if message.node == at.node && message.incarnation == at.number => {
                if let Some(waiting) = self.undelivered.get_mut(at) {
                    waiting.remove(message);
                }
            }
            Observation::Stopped { incarnation } => {
                self.undelivered.remove(incarnation);
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, end: &EndOfRun) -> Result<(), String> {
        for survivor in &end.survivors {
            if let Some(waiting) = self.undelivered.get(survivor)
                && let Some(first) = waiting.iter().min()
            {
                return Err(format!(
                    "node {} never delivered {} of its own messages, e.g. {first:?}",
                    survivor.node,
                    waiting.len()
                ));
            }
        }
        Ok(())
    }
}
