//! The group state machine. Every change to a group's membership is applied
//! when the ring delivers it, never when a local client asks, so all nodes
//! see the same views and messages in the same order (virtual synchrony):
//!
//! - a local join, leave or send becomes a packet to submit to the ring;
//! - a delivered packet changes a group or carries a message, and yields
//!   events for the local clients that are members of that group;
//! - a transitional ring configuration removes the members of nodes that
//!   left (node down);
//! - every regular configuration makes each node announce its memberships
//!   (a join list for that ring), so both sides of a merge learn the
//!   other's members (node up). Until the lists of all members of the ring
//!   are in, every other group packet is held; then the lists change each
//!   group in one view and the held packets follow in order. Every node of
//!   the ring therefore sees a merge as one view at the same point of the
//!   agreed order, as corosync's CPG delivers it after its join-list
//!   exchange, and messages sent around the merge after it.
//!
//! Each node's packets are delivered in the order it submitted them, so a
//! join list, built from what this node has already submitted, is exactly
//! the node's state once everything before it has been delivered.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use baton_totem::{NodeId, RingId};

use crate::wire::{DecodeError, Member, Packet, Reason, valid_group_name};
use crate::{FRAGMENT_BYTES, GROUP_NAME_BYTES_MAX, LOCAL_MEMBERSHIPS_MAX, MESSAGE_BYTES_MAX};

/// A local client's handle, chosen by the daemon (one per connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub u64);

/// What a local group member is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The group's membership changed. The first view a client gets lists
    /// its own join.
    View {
        group: String,
        members: Vec<Member>,
        joined: Vec<(Member, Reason)>,
        left: Vec<(Member, Reason)>,
    },
    /// A message, to every member including its sender.
    Message {
        group: String,
        sender: Member,
        payload: Vec<u8>,
    },
    /// The ring's regular configuration changed (corosync's totem_confchg);
    /// a local client joining a group hears the current one just before
    /// the view that holds it.
    Ring {
        ring_id: RingId,
        members: Vec<NodeId>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Submit this payload to the ring, after every payload submitted
    /// before it.
    Submit(Vec<u8>),
    /// Give this event to a local client, after the ones before it.
    Notify { client: ClientId, event: Event },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("group name must be 1 to {GROUP_NAME_BYTES_MAX} bytes")]
    BadName,
    #[error("this connection already joined group {0:?}; open another to join a second group")]
    AlreadyJoined(String),
    #[error("process {pid} is already a member of group {group:?} on this node")]
    PidInGroup { group: String, pid: u32 },
    #[error("this node already holds {LOCAL_MEMBERSHIPS_MAX} group memberships, the limit")]
    TooManyMemberships,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("join a group before sending")]
    NotJoined,
    #[error("message of {bytes} bytes exceeds the limit of {MESSAGE_BYTES_MAX} bytes")]
    TooLarge { bytes: usize },
}

#[derive(Debug)]
struct LocalClient {
    group: String,
    pid: u32,
    /// Set once the ring delivered this client's own join: from then on it
    /// receives the group's events.
    in_view: bool,
}

/// A message being reassembled from fragments.
#[derive(Debug, Default)]
struct Partial {
    data: Vec<u8>,
    /// An over-long message is dropped whole, fragment by fragment.
    overflowed: bool,
}

/// The join-list exchange of one regular configuration.
#[derive(Debug)]
struct JoinSync {
    ring_id: RingId,
    /// Ring members whose list has not been delivered yet.
    awaiting: BTreeSet<NodeId>,
    lists: Vec<(NodeId, Vec<(String, u32)>)>,
    /// Group packets delivered meanwhile, in order, with their sender.
    held: Vec<(NodeId, Packet)>,
}

#[derive(Debug)]
pub struct Groups {
    me: NodeId,
    members: BTreeMap<String, BTreeSet<Member>>,
    clients: BTreeMap<ClientId, LocalClient>,
    partials: BTreeMap<(String, Member), Partial>,
    sync: Option<JoinSync>,
    /// The last regular configuration, told to each local client just
    /// before its own join so it knows the ring it joins.
    ring: Option<(RingId, Vec<NodeId>)>,
    actions: VecDeque<Action>,
    undecodable: u64,
}

impl Groups {
    #[must_use]
    pub fn new(me: NodeId) -> Groups {
        Groups {
            me,
            members: BTreeMap::new(),
            clients: BTreeMap::new(),
            partials: BTreeMap::new(),
            sync: None,
            ring: None,
            actions: VecDeque::new(),
            undecodable: 0,
        }
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Every group with its members, as this node sees them now.
    pub fn groups(&self) -> impl Iterator<Item = (&str, &BTreeSet<Member>)> {
        self.members
            .iter()
            .filter(|(_, members)| !members.is_empty())
            .map(|(name, members)| (name.as_str(), members))
    }

    /// Group packets delivered by the ring that did not decode.
    #[must_use]
    pub fn undecodable(&self) -> u64 {
        self.undecodable
    }

    pub fn local_join(&mut self, client: ClientId, group: &str, pid: u32) -> Result<(), JoinError> {
        if !valid_group_name(group) {
            return Err(JoinError::BadName);
        }
        if let Some(existing) = self.clients.get(&client) {
            return Err(JoinError::AlreadyJoined(existing.group.clone()));
        }
        if self
            .clients
            .values()
            .any(|c| c.group == group && c.pid == pid)
        {
            return Err(JoinError::PidInGroup {
                group: group.to_owned(),
                pid,
            });
        }
        if self.clients.len() >= LOCAL_MEMBERSHIPS_MAX {
            return Err(JoinError::TooManyMemberships);
        }
        self.clients.insert(
            client,
            LocalClient {
                group: group.to_owned(),
                pid,
                in_view: false,
            },
        );
        self.submit(&Packet::Join {
            group: group.to_owned(),
            pid,
        });
        Ok(())
    }

    /// Multicasts `payload` to the client's group, split into fragments when
    /// it does not fit one ring message.
    pub fn local_send(&mut self, client: ClientId, payload: &[u8]) -> Result<(), SendError> {
        let Some(local) = self.clients.get(&client) else {
            return Err(SendError::NotJoined);
        };
        if payload.len() > MESSAGE_BYTES_MAX {
            return Err(SendError::TooLarge {
                bytes: payload.len(),
            });
        }
        let (group, pid) = (local.group.clone(), local.pid);
        let mut chunks = payload.chunks(FRAGMENT_BYTES).peekable();
        if chunks.peek().is_none() {
            self.submit(&Packet::Message {
                group,
                pid,
                more: false,
                continued: false,
                data: Vec::new(),
            });
            return Ok(());
        }
        let mut continued = false;
        while let Some(chunk) = chunks.next() {
            self.submit(&Packet::Message {
                group: group.clone(),
                pid,
                more: chunks.peek().is_some(),
                continued,
                data: chunk.to_vec(),
            });
            continued = true;
        }
        Ok(())
    }

    /// The client is gone: it left (`Reason::Leave`) or its connection
    /// ended without leaving (`Reason::ProcDown`). It gets no more events.
    pub fn local_leave(&mut self, client: ClientId, reason: Reason) {
        if let Some(local) = self.clients.remove(&client) {
            self.submit(&Packet::Leave {
                group: local.group,
                pid: local.pid,
                reason,
            });
        }
    }

    /// A transitional configuration: members on nodes outside it are gone.
    pub fn transitional(&mut self, members: &[NodeId]) {
        // The ring changes again before every list arrived: the lists that
        // did arrive take effect here, at the same point on every node that
        // moves on together.
        self.finish_sync();
        let gone = |m: &Member| !members.contains(&m.node);
        self.partials.retain(|(_, m), _| !gone(m));
        let names: Vec<String> = self.members.keys().cloned().collect();
        for group in names {
            let left: Vec<(Member, Reason)> = self.members[&group]
                .iter()
                .filter(|m| gone(m))
                .map(|m| (*m, Reason::NodeDown))
                .collect();
            self.change(&group, Vec::new(), left);
        }
    }

    /// A regular configuration: tell local clients, and announce our
    /// memberships when nodes joined.
    pub fn regular(&mut self, ring_id: RingId, members: &[NodeId], joined: &[NodeId]) {
        self.finish_sync();
        self.ring = Some((ring_id, members.to_vec()));
        let merged = joined.iter().any(|n| *n != self.me);
        if merged {
            // The nodes that just joined missed the first fragments of any
            // message being reassembled, so they would drop its rest while
            // we delivered it: members of one view would see different
            // messages. Every member of a merged ring sees nodes join here,
            // so all drop these messages alike.
            self.partials.clear();
        }
        let in_view: Vec<ClientId> = self
            .clients
            .iter()
            .filter(|(_, c)| c.in_view)
            .map(|(id, _)| *id)
            .collect();
        for client in in_view {
            self.actions.push_back(Action::Notify {
                client,
                event: Event::Ring {
                    ring_id,
                    members: members.to_vec(),
                },
            });
        }
        let entries = self
            .clients
            .values()
            .map(|c| (c.group.clone(), c.pid))
            .collect();
        self.submit(&Packet::JoinList { ring_id, entries });
        self.sync = Some(JoinSync {
            ring_id,
            awaiting: members.iter().copied().collect(),
            lists: Vec::new(),
            held: Vec::new(),
        });
    }

    /// A payload the ring delivered in agreed order. Other services'
    /// payloads are ignored; malformed group packets are counted.
    pub fn delivered(&mut self, sender: NodeId, payload: &[u8]) {
        let packet = match Packet::decode(payload) {
            Ok(packet) => packet,
            Err(DecodeError::NotGroup) => return,
            Err(_) => {
                self.undecodable += 1;
                return;
            }
        };
        match (&mut self.sync, packet) {
            (sync, Packet::JoinList { ring_id, entries }) => {
                // A list for another ring was submitted before this one
                // formed; the list every node sends for this ring replaces it.
                if let Some(sync) = sync
                    && sync.ring_id == ring_id
                    && sync.awaiting.remove(&sender)
                {
                    sync.lists.push((sender, entries));
                    if sync.awaiting.is_empty() {
                        self.finish_sync();
                    }
                }
            }
            (Some(sync), packet) => sync.held.push((sender, packet)),
            (None, packet) => self.apply(sender, packet),
        }
    }

    /// Ends the join-list exchange: the lists change every group in one
    /// view each, then the packets held meanwhile take effect in order.
    fn finish_sync(&mut self) {
        let Some(sync) = self.sync.take() else {
            return;
        };
        // A join held behind the lists is that member's own join; it takes
        // effect when replayed, so its member sees its own join view.
        let held_joins: BTreeSet<(NodeId, &str, u32)> = sync
            .held
            .iter()
            .filter_map(|(sender, p)| match p {
                Packet::Join { group, pid } => Some((*sender, group.as_str(), *pid)),
                _ => None,
            })
            .collect();
        let listed: BTreeSet<(String, Member)> = sync
            .lists
            .iter()
            .flat_map(|(sender, entries)| {
                entries
                    .iter()
                    .filter(|(group, pid)| !held_joins.contains(&(*sender, group.as_str(), *pid)))
                    .map(|(group, pid)| {
                        (
                            group.clone(),
                            Member {
                                node: *sender,
                                pid: *pid,
                            },
                        )
                    })
            })
            .collect();
        let senders: BTreeSet<NodeId> = sync.lists.iter().map(|(sender, _)| *sender).collect();
        let mut names: BTreeSet<String> = listed.iter().map(|(g, _)| g.clone()).collect();
        names.extend(self.members.keys().cloned());
        for group in names {
            let joined = listed
                .iter()
                .filter(|(g, _)| *g == group)
                .map(|(_, m)| (*m, Reason::NodeUp))
                .collect();
            let left = self.members.get(&group).map_or_else(Vec::new, |members| {
                members
                    .iter()
                    .filter(|m| {
                        senders.contains(&m.node) && !listed.contains(&(group.clone(), **m))
                    })
                    .map(|m| (*m, Reason::ProcDown))
                    .collect()
            });
            self.change(&group, joined, left);
        }
        for (sender, packet) in sync.held {
            self.apply(sender, packet);
        }
    }

    fn apply(&mut self, sender: NodeId, packet: Packet) {
        match packet {
            Packet::Join { group, pid } => {
                let member = Member { node: sender, pid };
                if sender == self.me
                    && let Some((id, local)) = self
                        .clients
                        .iter_mut()
                        .find(|(_, c)| c.group == group && c.pid == pid)
                {
                    local.in_view = true;
                    if let Some((ring_id, members)) = &self.ring {
                        self.actions.push_back(Action::Notify {
                            client: *id,
                            event: Event::Ring {
                                ring_id: *ring_id,
                                members: members.clone(),
                            },
                        });
                    }
                }
                self.change(&group, vec![(member, Reason::Join)], Vec::new());
            }
            Packet::Leave { group, pid, reason } => {
                let member = Member { node: sender, pid };
                self.partials.remove(&(group.clone(), member));
                self.change(&group, Vec::new(), vec![(member, reason)]);
            }
            Packet::Message {
                group,
                pid,
                more,
                continued,
                data,
            } => self.fragment(group, Member { node: sender, pid }, more, continued, data),
            // Handled before anything is applied.
            Packet::JoinList { .. } => {}
        }
    }

    fn fragment(
        &mut self,
        group: String,
        sender: Member,
        more: bool,
        continued: bool,
        data: Vec<u8>,
    ) {
        let key = (group, sender);
        let payload = if !continued && !more {
            data
        } else {
            if !continued {
                self.partials.insert(key.clone(), Partial::default());
            }
            // A continuation without its start: this node joined the ring
            // mid-message, or the start was dropped at a merge everywhere.
            let Some(partial) = self.partials.get_mut(&key) else {
                return;
            };
            if partial.data.len() + data.len() > MESSAGE_BYTES_MAX {
                partial.overflowed = true;
                partial.data = Vec::new();
            }
            if !partial.overflowed {
                partial.data.extend_from_slice(&data);
            }
            if more {
                return;
            }
            match self.partials.remove(&key) {
                Some(Partial {
                    data,
                    overflowed: false,
                }) => data,
                _ => return,
            }
        };
        let (group, sender) = key;
        // A member we have not seen join is on a node that just merged and
        // whose join list is still on its way.
        self.change(&group, vec![(sender, Reason::NodeUp)], Vec::new());
        self.notify_group(
            &group,
            &Event::Message {
                group: group.clone(),
                sender,
                payload,
            },
        );
    }

    /// Applies a membership change and tells the group's local members,
    /// skipping joins of present members and leaves of absent ones.
    fn change(&mut self, group: &str, joined: Vec<(Member, Reason)>, left: Vec<(Member, Reason)>) {
        let members = self.members.entry(group.to_owned()).or_default();
        let joined: Vec<_> = joined
            .into_iter()
            .filter(|(m, _)| members.insert(*m))
            .collect();
        let left: Vec<_> = left
            .into_iter()
            .filter(|(m, _)| members.remove(m))
            .collect();
        if joined.is_empty() && left.is_empty() {
            return;
        }
        let event = Event::View {
            group: group.to_owned(),
            members: members.iter().copied().collect(),
            joined,
            left,
        };
        if members.is_empty() {
            self.members.remove(group);
        }
        self.notify_group(group, &event);
    }

    fn notify_group(&mut self, group: &str, event: &Event) {
        for (id, client) in &self.clients {
            if client.in_view && client.group == group {
                self.actions.push_back(Action::Notify {
                    client: *id,
                    event: event.clone(),
                });
            }
        }
    }

    fn submit(&mut self, packet: &Packet) {
        self.actions.push_back(Action::Submit(packet.encode()));
    }
}
