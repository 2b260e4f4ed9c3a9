//! **Agreed order.** Members of a configuration deliver messages in the same
//! order: any two members' delivery sequences within one configuration are
//! prefixes of one common sequence. FACTS.md §1.5 ("Delivery is AGREED");
//! Amir et al., TOCS 1995, §2 (agreed delivery) and §5 (EVS).
//!
//! A configuration is identified by its kind, ring id and member list, so
//! the transitional configurations of different old rings stay apart.

use std::collections::HashMap;

use baton_totem::{ConfigKind, NodeId, RingId};

use super::{Incarnation, Invariant, MessageId, Observation};

type ConfigKey = (bool, RingId, Vec<NodeId>);

#[derive(Debug, Default)]
pub struct AgreedOrder {
    common: HashMap<ConfigKey, Vec<Option<MessageId>>>,
    position: HashMap<Incarnation, (ConfigKey, usize)>,
}

impl Invariant for AgreedOrder {
    fn name(&self) -> &'static str {
        "agreed-order"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        match observation {
            Observation::Configuration {
                at,
                kind,
                ring_id,
                members,
            } => {
                let key = (*kind == ConfigKind::Regular, *ring_id, members.to_vec());
                self.position.insert(*at, (key, 0));
            }
            Observation::Delivered { at, message, .. } => {
                let Some((key, index)) = self.position.get_mut(at) else {
                    return Err(format!(
                        "node {} delivered before any configuration",
                        at.node
                    ));
                };
                let common = self.common.entry(key.clone()).or_default();
                match common.get(*index) {
                    Some(expected) if expected != message => {
                        return Err(format!(
                            "node {} delivered {message:?} as message #{index} of configuration {} {:?}; another member delivered {expected:?} there",
                            at.node, key.1, key.2
                        ));
                    }
                    Some(_) => {}
                    None => common.push(*message),
                }
                *index += 1;
            }
            _ => {}
        }
        Ok(())
    }
}
