//! What baton-ringd layers on each node's Totem core, fed the way its driver
//! feeds them: votequorum gets every regular configuration, its peers'
//! `NodeInfo` in agreed order and its timer; process groups get both
//! configuration kinds and every agreed-order payload. After each input the
//! machines are drained, as ringd does, into payloads for the ring and
//! notifications for the simulator to check.

use baton_cpg::{Action, ClientId, Event, Groups, Member, Reason};
use baton_quorum::{NodeInfo, Quorum, QuorumConfig, QuorumEvent};
use baton_totem::{ConfigKind, Millis, NodeId, RingId};

/// Ring payloads kept in the core: about two token visits' worth, as ringd
/// keeps (max_messages is 17); the rest wait in the node's queue.
pub const CORE_QUEUE_TARGET: usize = 32;
/// Above this many waiting payloads a node's clients stop acting and its
/// plain workload is refused, as ringd stops reading client requests.
pub const OUTGOING_HIGH_WATER: usize = 1024;

/// Something a node's services produced, in the order they produced it.
#[derive(Debug)]
pub enum ServiceOutput {
    /// A payload for the ring, after every payload before it.
    Submit(Vec<u8>),
    /// The node's quorum state changed.
    Quorum { quorate: bool, members: Vec<NodeId> },
    /// An event for one of the node's group clients.
    Group { client: ClientId, event: Event },
}

#[derive(Debug)]
pub struct Services {
    quorum: Quorum,
    groups: Groups,
}

impl Services {
    /// # Panics
    /// If `config` is invalid: the simulator builds it, so that is a bug.
    #[must_use]
    pub fn new(node: NodeId, config: &QuorumConfig) -> Services {
        Services {
            quorum: Quorum::new(config).expect("the simulator builds a valid quorum config"),
            groups: Groups::new(node),
        }
    }

    pub fn config_change(
        &mut self,
        now: Millis,
        kind: ConfigKind,
        ring_id: RingId,
        members: &[NodeId],
        joined: &[NodeId],
    ) -> Vec<ServiceOutput> {
        let mut outputs = Vec::new();
        match kind {
            ConfigKind::Transitional => self.groups.transitional(members),
            ConfigKind::Regular => self.groups.regular(ring_id, members, joined),
        }
        self.drain_groups(&mut outputs);
        if kind == ConfigKind::Regular {
            let ids: Vec<_> = members.iter().map(|m| baton_quorum::NodeId(m.0)).collect();
            let ring = baton_quorum::RingId {
                rep: baton_quorum::NodeId(ring_id.rep.0),
                seq: ring_id.seq,
            };
            self.quorum
                .membership_changed(baton_quorum::Millis(now.0), ring, &ids);
            self.drain_quorum(&mut outputs);
        }
        outputs
    }

    /// One agreed-order payload, to the service it is for.
    pub fn deliver(&mut self, sender: NodeId, payload: &[u8]) -> Vec<ServiceOutput> {
        let mut outputs = Vec::new();
        if let Some(info) = NodeInfo::decode(payload) {
            self.quorum
                .handle_node_info(baton_quorum::NodeId(sender.0), info);
            self.drain_quorum(&mut outputs);
        } else {
            self.groups.delivered(sender, payload);
            self.drain_groups(&mut outputs);
        }
        outputs
    }

    pub fn handle_timer(&mut self, now: Millis) -> Vec<ServiceOutput> {
        let mut outputs = Vec::new();
        self.quorum.handle_timer(baton_quorum::Millis(now.0));
        self.drain_quorum(&mut outputs);
        outputs
    }

    #[must_use]
    pub fn next_deadline(&self) -> Option<Millis> {
        self.quorum.next_deadline().map(|at| Millis(at.0))
    }

    /// A local client joins `group`; the simulator never asks twice.
    pub fn join(&mut self, client: ClientId, group: &str, pid: u32) -> Vec<ServiceOutput> {
        let mut outputs = Vec::new();
        // The workload keeps each client in one group under a unique pid,
        // so a refusal is a simulator bug worth seeing.
        if let Err(error) = self.groups.local_join(client, group, pid) {
            panic!("client {} could not join {group}: {error}", client.0);
        }
        self.drain_groups(&mut outputs);
        outputs
    }

    pub fn send(&mut self, client: ClientId, payload: &[u8]) -> Vec<ServiceOutput> {
        let mut outputs = Vec::new();
        if let Err(error) = self.groups.local_send(client, payload) {
            panic!("client {} could not send: {error}", client.0);
        }
        self.drain_groups(&mut outputs);
        outputs
    }

    pub fn leave(&mut self, client: ClientId, reason: Reason) -> Vec<ServiceOutput> {
        let mut outputs = Vec::new();
        self.groups.local_leave(client, reason);
        self.drain_groups(&mut outputs);
        outputs
    }

    #[must_use]
    pub fn is_quorate(&self) -> bool {
        self.quorum.is_quorate()
    }

    /// The ring members quorum was last judged for.
    #[must_use]
    pub fn quorum_members(&self) -> Vec<NodeId> {
        self.quorum
            .status()
            .members
            .iter()
            .map(|m| NodeId(m.node_id.0))
            .collect()
    }

    /// Every (group, member) pair this node's group table holds.
    #[must_use]
    pub fn group_table(&self) -> Vec<(String, Member)> {
        self.groups
            .groups()
            .flat_map(|(name, members)| members.iter().map(|m| (name.to_owned(), *m)))
            .collect()
    }

    fn drain_groups(&mut self, outputs: &mut Vec<ServiceOutput>) {
        while let Some(action) = self.groups.poll_action() {
            outputs.push(match action {
                Action::Submit(payload) => ServiceOutput::Submit(payload),
                Action::Notify { client, event } => ServiceOutput::Group { client, event },
            });
        }
    }

    fn drain_quorum(&mut self, outputs: &mut Vec<ServiceOutput>) {
        while let Some(info) = self.quorum.poll_transmit() {
            outputs.push(ServiceOutput::Submit(info.encode()));
        }
        while let Some(QuorumEvent::QuorumChanged {
            quorate, members, ..
        }) = self.quorum.poll_event()
        {
            outputs.push(ServiceOutput::Quorum {
                quorate,
                members: members.iter().map(|m| NodeId(m.0)).collect(),
            });
        }
    }
}
