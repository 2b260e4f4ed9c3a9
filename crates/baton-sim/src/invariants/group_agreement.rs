//! **Group agreement.** Group members that deliver the same group's messages
//! in the same configuration see the same messages in the same order: the
//! sequences of all members that were in the view since the configuration
//! began are prefixes of one common sequence (one that crashed or left may
//! stop early). FACTS.md §5 (virtual synchrony: all members see the same
//! interleaving); Amir et al., TOCS 1995, §5.
//!
//! A member that joined mid-configuration sees a suffix and is followed from
//! the next configuration on. Configurations are keyed as in
//! `agreed_order.rs`, so transitional ones of different old rings stay apart.

use std::collections::HashMap;

use baton_cpg::{ClientId, Event, Member, Reason};
use baton_totem::{ConfigKind, NodeId, RingId};

use super::{Incarnation, Invariant, Observation};

type ConfigKey = (bool, RingId, Vec<NodeId>);
/// A message as members see it: its sender and its payload.
type Message = (Member, Vec<u8>);

#[derive(Debug, Default)]
pub struct GroupAgreement {
    common: HashMap<(ConfigKey, String), Vec<Message>>,
    /// Clients in their group's view, by node incarnation and group.
    in_view: HashMap<ClientId, (Incarnation, String)>,
    /// Clients followed in their node's current configuration: how many of
    /// its messages they have seen.
    position: HashMap<ClientId, (ConfigKey, usize)>,
}

impl Invariant for GroupAgreement {
    fn name(&self) -> &'static str {
        "group-agreement"
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
                for (client, (incarnation, _)) in &self.in_view {
                    if incarnation == at {
                        self.position.insert(*client, (key.clone(), 0));
                    }
                }
            }
            Observation::GroupEvent {
                at,
                client,
                member,
                event,
            } => match event {
                Event::View { group, joined, .. } if joined.contains(&(*member, Reason::Join)) => {
                    self.in_view.insert(*client, (*at, group.clone()));
                }
                Event::Message {
                    group,
                    sender,
                    payload,
                } => self.message(*client, group, (*sender, payload.clone()))?,
                _ => {}
            },
            Observation::ClientGone { client } => {
                self.in_view.remove(client);
                self.position.remove(client);
            }
            Observation::Stopped { incarnation } => {
                let gone: Vec<ClientId> = self
                    .in_view
                    .iter()
                    .filter(|(_, (at, _))| at == incarnation)
                    .map(|(client, _)| *client)
                    .collect();
                for client in gone {
                    self.in_view.remove(&client);
                    self.position.remove(&client);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl GroupAgreement {
    fn message(&mut self, client: ClientId, group: &str, message: Message) -> Result<(), String> {
        let Some((key, index)) = self.position.get_mut(&client) else {
            return Ok(());
        };
        let common = self
            .common
            .entry((key.clone(), group.to_owned()))
            .or_default();
        match common.get(*index) {
            Some(expected) if *expected != message => {
                return Err(format!(
                    "client {} saw {} as message #{index} of group {group} in configuration {} {:?}; another member saw {} there",
                    client.0,
                    describe(&message),
                    key.1,
                    key.2,
                    describe(expected)
                ));
            }
            Some(_) => {}
            None => common.push(message),
        }
        *index += 1;
        Ok(())
    }
}

/// A message by the workload number in its first 8 bytes, and its size.
fn describe((sender, payload): &Message) -> String {
    match payload.first_chunk::<8>() {
        Some(number) => format!(
            "#{} ({} bytes) from {sender}",
            u64::from_le_bytes(*number),
            payload.len()
        ),
        None => format!("{} bytes from {sender}", payload.len()),
    }
}
