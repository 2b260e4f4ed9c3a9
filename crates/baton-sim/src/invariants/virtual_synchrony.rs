//! **Virtual synchrony.** Processes that move together from one regular
//! configuration to the next delivered the same set of messages in the old
//! one (its regular and transitional parts). FACTS.md §1.5; Amir et al.,
//! TOCS 1995, §5 (extended virtual synchrony).

use std::collections::{BTreeSet, HashMap};

use baton_totem::{ConfigKind, RingId};

use super::{Incarnation, Invariant, MessageId, Observation};

/// Messages one process delivered in one configuration.
type DeliveredSet = BTreeSet<Option<MessageId>>;

#[derive(Debug, Default)]
pub struct VirtualSynchrony {
    current: HashMap<Incarnation, (RingId, DeliveredSet)>,
    /// (old ring, new ring) -> the set delivered in the old ring, and by whom.
    transitions: HashMap<(RingId, RingId), (DeliveredSet, Incarnation)>,
}

impl Invariant for VirtualSynchrony {
    fn name(&self) -> &'static str {
        "virtual-synchrony"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        match observation {
            Observation::Configuration {
                at,
                kind: ConfigKind::Regular,
                ring_id,
                ..
            } => {
                if let Some((old, delivered)) =
                    self.current.insert(*at, (*ring_id, BTreeSet::new()))
                {
                    match self.transitions.get(&(old, *ring_id)) {
                        Some((other, who)) if *other != delivered => {
                            let only_here: Vec<_> = delivered.difference(other).take(3).collect();
                            let only_there: Vec<_> = other.difference(&delivered).take(3).collect();
                            return Err(format!(
                                "nodes {} and {} both moved {old} -> {ring_id} but delivered different sets in {old} \
                                 ({} vs {} messages; only at {}: {only_here:?}; only at {}: {only_there:?})",
                                at.node,
                                who.node,
                                delivered.len(),
                                other.len(),
                                at.node,
                                who.node
                            ));
                        }
                        Some(_) => {}
                        None => {
                            self.transitions.insert((old, *ring_id), (delivered, *at));
                        }
                    }
                }
            }
            Observation::Delivered { at, message, .. } => {
                if let Some((_, delivered)) = self.current.get_mut(at) {
                    delivered.insert(*message);
                }
            }
            Observation::Stopped { incarnation } => {
                self.current.remove(incarnation);
            }
            _ => {}
        }
        Ok(())
    }
}
