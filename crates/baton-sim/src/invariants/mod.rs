//! Safety and liveness properties checked after every simulation step.
//! One property per file, each citing where it comes from.

mod acknowledged_writes;
mod agreed_order;
mod config_agreement;
mod controller_agreement;
mod controller_convergence;
mod fence_before_recover;
mod group_agreement;
mod group_convergence;
mod liveness;
mod never_two_active;
mod no_duplicates;
mod one_dc;
mod quorum_liveness;
mod quorum_safety;
mod resource_convergence;
mod ring_id_monotonic;
mod self_delivery;
mod virtual_synchrony;

use std::collections::{BTreeMap, BTreeSet};

use baton_cpg::{ClientId, Event, Member};
use baton_quorum::QuorumConfig;
use baton_totem::{ConfigKind, NodeId, RingId};

pub use liveness::Liveness;
pub use resource_convergence::resources_converged;

/// A workload message: who submitted it, in which incarnation, and its
/// per-incarnation counter. Encoded in the first 16 bytes of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId {
    pub node: NodeId,
    pub incarnation: u32,
    pub counter: u64,
}

impl MessageId {
    pub const ENCODED_LEN: usize = 16;

    #[must_use]
    pub fn encode(&self, padding: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(Self::ENCODED_LEN + padding);
        bytes.extend_from_slice(&self.node.0.to_le_bytes());
        bytes.extend_from_slice(&self.incarnation.to_le_bytes());
        bytes.extend_from_slice(&self.counter.to_le_bytes());
        bytes.resize(Self::ENCODED_LEN + padding, 0xA5);
        bytes
    }

    #[must_use]
    pub fn decode(bytes: &[u8]) -> Option<MessageId> {
        let node = u32::from_le_bytes(bytes.get(0..4)?.try_into().ok()?);
        let incarnation = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
        let counter = u64::from_le_bytes(bytes.get(8..16)?.try_into().ok()?);
        Some(MessageId {
            node: NodeId(node),
            incarnation,
            counter,
        })
    }
}

/// A node's life between a start and a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Incarnation {
    pub node: NodeId,
    pub number: u32,
}

/// What the checkers see of the run.
#[derive(Debug, Clone)]
pub enum Observation<'a> {
    Submitted {
        by: Incarnation,
        message: MessageId,
    },
    Delivered {
        at: Incarnation,
        sender: NodeId,
        /// `None` when the payload is not one the workload produced.
        message: Option<MessageId>,
    },
    Configuration {
        at: Incarnation,
        kind: ConfigKind,
        ring_id: RingId,
        members: &'a [NodeId],
    },
    Persisted {
        node: NodeId,
        ring_seq: u64,
    },
    Stopped {
        incarnation: Incarnation,
    },
    /// A node's votequorum changed its verdict or its member list.
    Quorum {
        at: Incarnation,
        quorate: bool,
        members: &'a [NodeId],
    },
    /// An event for a local group client (`member` is the client itself).
    GroupEvent {
        at: Incarnation,
        client: ClientId,
        member: Member,
        event: &'a Event,
    },
    /// A group client left or vanished; it gets no more events.
    ClientGone {
        client: ClientId,
    },
    /// A controller's state after it handled an input.
    Controller {
        at: Incarnation,
        member: Member,
        view: &'a [Member],
        dc: Option<u32>,
        /// What it delivered since its last join round (hash, count);
        /// `None` during a round.
        prefix: Option<(u64, u64)>,
        /// Its CIB's digest, given with `prefix`.
        cib_digest: Option<&'a str>,
    },
    /// A client's write was answered as applied.
    WriteAcknowledged {
        /// The id the write added.
        id: &'a str,
        without_quorum: bool,
    },
    /// A controller kept its configuration after losing a join round.
    ConfigurationKept {
        cib: &'a str,
    },
    /// Whether the run's cluster has fencing enabled (`stonith-enabled`
    /// with a device); given before anything else.
    Fencing {
        enabled: bool,
    },
    /// In the simulated world, a resource (not a fencing device) became
    /// active on a node (an agent began starting it) or stopped being
    /// active there. A node that stops takes its resources with it.
    Resource {
        node: NodeId,
        resource: &'a str,
        active: bool,
    },
    /// The simulated fencer killed `node` (or found it down) and confirmed
    /// that to the DC.
    Fenced {
        node: NodeId,
    },
}

/// A live controller at the end of the run.
#[derive(Debug, Clone)]
pub struct ControllerEnd {
    pub node: NodeId,
    pub member: Member,
    pub joined: bool,
    /// Out of any round, with every member's status published.
    pub settled: bool,
    /// Members of its view.
    pub view: usize,
    pub dc: Option<u32>,
    /// As DC: no transition runs and none waits to be planned.
    pub transition_idle: bool,
    pub cib: String,
}

/// State at the end of the run, for end-of-run checks.
#[derive(Debug, Clone)]
pub struct EndOfRun {
    /// Incarnations that were running from their start to the end.
    pub survivors: Vec<Incarnation>,
    /// Each running node's quorum verdict.
    pub quorate: Vec<(NodeId, bool)>,
    /// Each running node's group table: every (group, member) it holds.
    pub group_tables: Vec<(NodeId, Vec<(String, Member)>)>,
    /// The group clients still running, with the group each joined.
    pub live_clients: Vec<(String, Member)>,
    /// Every live controller (`--controllers`).
    pub controllers: Vec<ControllerEnd>,
    /// The resources active on each live node, by node name.
    pub world: BTreeMap<String, BTreeSet<String>>,
    /// No lrmd action, monitor report or fencing is under way.
    pub world_idle: bool,
    /// The controllers' wall clock, seconds since the epoch.
    pub wall_s: i64,
}

pub trait Invariant {
    fn name(&self) -> &'static str;
    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String>;
    fn finish(&mut self, _end: &EndOfRun) -> Result<(), String> {
        Ok(())
    }
}

/// Every safety invariant, in the order they are checked; the quorum ones
/// judge by the nodelist's votes in `quorum`.
#[must_use]
pub fn safety_invariants(quorum: &QuorumConfig) -> Vec<Box<dyn Invariant>> {
    vec![
        Box::new(no_duplicates::NoDuplicates::default()),
        Box::new(agreed_order::AgreedOrder::default()),
        Box::new(virtual_synchrony::VirtualSynchrony::default()),
        Box::new(config_agreement::ConfigAgreement::default()),
        Box::new(ring_id_monotonic::RingIdMonotonic::default()),
        Box::new(self_delivery::SelfDelivery::default()),
        Box::new(quorum_safety::QuorumSafety::default()),
        Box::new(quorum_liveness::QuorumLiveness::new(quorum)),
        Box::new(group_agreement::GroupAgreement::default()),
        Box::new(group_convergence::GroupConvergence),
        Box::new(controller_agreement::ControllerAgreement::default()),
        Box::new(one_dc::OneDc::default()),
        Box::new(acknowledged_writes::AcknowledgedWrites::default()),
        Box::new(controller_convergence::ControllerConvergence),
        Box::new(never_two_active::NeverTwoActive::default()),
        Box::new(fence_before_recover::FenceBeforeRecover::default()),
        Box::new(resource_convergence::ResourceConvergence),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incarnation(node: u32) -> Incarnation {
        Incarnation {
            node: NodeId(node),
            number: 0,
        }
    }

    fn message(counter: u64) -> MessageId {
        MessageId {
            node: NodeId(1),
            incarnation: 0,
            counter,
        }
    }

    fn feed(invariant: &mut dyn Invariant, observations: &[Observation<'_>]) -> Result<(), String> {
        observations.iter().try_for_each(|o| invariant.observe(o))
    }

    #[test]
    fn agreed_order_catches_a_reordering() {
        let members = [NodeId(1), NodeId(2)];
        let ring_id = RingId {
            seq: 4,
            rep: NodeId(1),
        };
        let config = |node| Observation::Configuration {
            at: incarnation(node),
            kind: ConfigKind::Regular,
            ring_id,
            members: &members,
        };
        let deliver = |node, counter| Observation::Delivered {
            at: incarnation(node),
            sender: NodeId(1),
            message: Some(message(counter)),
        };
        let mut checker = agreed_order::AgreedOrder::default();
        let same = [
            config(1),
            config(2),
            deliver(1, 0),
            deliver(2, 0),
            deliver(1, 1),
        ];
        assert!(feed(&mut checker, &same).is_ok());
        assert!(
            checker.observe(&deliver(2, 2)).is_err(),
            "node 2 skipped message 1"
        );
    }

    #[test]
    fn duplicates_and_inventions_are_caught() {
        let mut checker = no_duplicates::NoDuplicates::default();
        let deliver = Observation::Delivered {
            at: incarnation(2),
            sender: NodeId(1),
            message: Some(message(0)),
        };
        assert!(checker.observe(&deliver).is_err(), "never submitted");
        let submit = Observation::Submitted {
            by: incarnation(1),
            message: message(0),
        };
        assert!(feed(&mut checker, &[submit, deliver.clone()]).is_ok());
        assert!(checker.observe(&deliver).is_err(), "delivered twice");
    }

    #[test]
    fn ring_ids_must_grow_and_agree() {
        let members = [NodeId(1)];
        let regular = |seq| Observation::Configuration {
            at: incarnation(1),
            kind: ConfigKind::Regular,
            ring_id: RingId {
                seq,
                rep: NodeId(1),
            },
            members: &members,
        };
        let mut monotonic = ring_id_monotonic::RingIdMonotonic::default();
        assert!(feed(&mut monotonic, &[regular(8), regular(12)]).is_ok());
        assert!(monotonic.observe(&regular(12)).is_err());
        let mut agreement = config_agreement::ConfigAgreement::default();
        assert!(agreement.observe(&regular(8)).is_ok());
        let other_members = [NodeId(1), NodeId(2)];
        let conflicting = Observation::Configuration {
            at: incarnation(1),
            kind: ConfigKind::Regular,
            ring_id: RingId {
                seq: 8,
                rep: NodeId(1),
            },
            members: &other_members,
        };
        assert!(agreement.observe(&conflicting).is_err());
    }

    #[test]
    fn disjoint_quorate_partitions_are_caught() {
        let (left, right) = ([NodeId(1), NodeId(2)], [NodeId(3)]);
        let quorum = |node, quorate, members| Observation::Quorum {
            at: incarnation(node),
            quorate,
            members,
        };
        let mut checker = quorum_safety::QuorumSafety::default();
        assert!(
            feed(
                &mut checker,
                &[quorum(1, true, &left), quorum(3, false, &right)]
            )
            .is_ok()
        );
        assert!(checker.observe(&quorum(3, true, &right)).is_err());
    }

    #[test]
    fn group_members_seeing_different_orders_are_caught() {
        let members = [NodeId(1), NodeId(2)];
        let ring_id = RingId {
            seq: 4,
            rep: NodeId(1),
        };
        let member = |node| Member {
            node: NodeId(node),
            pid: node,
        };
        let joined = |node| Event::View {
            group: "g".to_owned(),
            members: vec![member(node)],
            joined: vec![(member(node), baton_cpg::Reason::Join)],
            left: Vec::new(),
        };
        let message = |number: u8| Event::Message {
            group: "g".to_owned(),
            sender: member(1),
            payload: vec![number],
        };
        let (join_1, join_2) = (joined(1), joined(2));
        let (first, second) = (message(1), message(2));
        let event = |node, event| Observation::GroupEvent {
            at: incarnation(node),
            client: ClientId(u64::from(node)),
            member: member(node),
            event,
        };
        let config = |node| Observation::Configuration {
            at: incarnation(node),
            kind: ConfigKind::Regular,
            ring_id,
            members: &members,
        };
        let mut checker = group_agreement::GroupAgreement::default();
        let setup = [
            event(1, &join_1),
            event(2, &join_2),
            config(1),
            config(2),
            event(1, &first),
            event(1, &second),
        ];
        assert!(feed(&mut checker, &setup).is_ok());
        assert!(
            checker.observe(&event(2, &second)).is_err(),
            "node 2's member saw message 2 first"
        );
    }

    #[test]
    fn ghost_and_missing_group_members_are_caught() {
        let member = Member {
            node: NodeId(1),
            pid: 7,
        };
        let end = |table: Vec<(String, Member)>| EndOfRun {
            survivors: vec![incarnation(1)],
            quorate: vec![(NodeId(1), true)],
            group_tables: vec![(NodeId(1), table)],
            live_clients: vec![("g".to_owned(), member)],
            controllers: Vec::new(),
            world: BTreeMap::new(),
            world_idle: true,
            wall_s: 0,
        };
        let mut checker = group_convergence::GroupConvergence;
        assert!(checker.finish(&end(vec![("g".to_owned(), member)])).is_ok());
        assert!(checker.finish(&end(Vec::new())).is_err(), "missing");
        let ghost = Member {
            node: NodeId(2),
            pid: 1,
        };
        let table = vec![("g".to_owned(), member), ("g".to_owned(), ghost)];
        assert!(checker.finish(&end(table)).is_err(), "ghost");
    }

    fn controller<'a>(
        node: u32,
        view: &'a [Member],
        dc: Option<u32>,
        prefix: Option<(u64, u64)>,
        digest: Option<&'a str>,
    ) -> Observation<'a> {
        Observation::Controller {
            at: incarnation(node),
            member: Member {
                node: NodeId(node),
                pid: node,
            },
            view,
            dc,
            prefix,
            cib_digest: digest,
        }
    }

    fn members(nodes: &[u32]) -> Vec<Member> {
        nodes
            .iter()
            .map(|&n| Member {
                node: NodeId(n),
                pid: n,
            })
            .collect()
    }

    #[test]
    fn two_dcs_in_one_view_are_caught() {
        let view = members(&[1, 2]);
        let mut checker = one_dc::OneDc::default();
        assert!(
            checker
                .observe(&controller(1, &view, Some(1), None, None))
                .is_ok()
        );
        assert!(
            checker
                .observe(&controller(2, &view, None, None, None))
                .is_ok()
        );
        let other = members(&[2]);
        assert!(
            checker
                .observe(&controller(2, &other, Some(2), None, None))
                .is_ok(),
            "another view may have another DC"
        );
        assert!(
            checker
                .observe(&controller(2, &view, Some(2), None, None))
                .is_err()
        );
    }

    #[test]
    fn replicas_that_differ_after_the_same_prefix_are_caught() {
        let view = members(&[1, 2]);
        let mut checker = controller_agreement::ControllerAgreement::default();
        assert!(
            checker
                .observe(&controller(1, &view, None, Some((7, 3)), Some("a")))
                .is_ok()
        );
        assert!(
            checker
                .observe(&controller(2, &view, None, Some((7, 4)), Some("b")))
                .is_ok()
        );
        assert!(
            checker
                .observe(&controller(2, &view, None, Some((7, 3)), Some("a")))
                .is_ok()
        );
        assert!(
            checker
                .observe(&controller(2, &view, None, Some((7, 3)), Some("c")))
                .is_err()
        );
    }

    fn controller_end(node: u32, cib: &str) -> ControllerEnd {
        ControllerEnd {
            node: NodeId(node),
            member: Member {
                node: NodeId(node),
                pid: node,
            },
            joined: true,
            settled: true,
            view: 2,
            dc: Some(1),
            transition_idle: true,
            cib: cib.to_owned(),
        }
    }

    fn end_with(controllers: Vec<ControllerEnd>) -> EndOfRun {
        EndOfRun {
            survivors: vec![incarnation(1), incarnation(2)],
            quorate: Vec::new(),
            group_tables: Vec::new(),
            live_clients: Vec::new(),
            controllers,
            world: BTreeMap::new(),
            world_idle: true,
            wall_s: 0,
        }
    }

    #[test]
    fn a_lost_acknowledged_write_is_caught_unless_it_was_reported() {
        let holding = r#"<cib><primitive id="w1"/></cib>"#;
        let lacking = "<cib/>";
        let ack = |durable: bool| Observation::WriteAcknowledged {
            id: "w1",
            without_quorum: !durable,
        };
        let mut durable = acknowledged_writes::AcknowledgedWrites::default();
        assert!(durable.observe(&ack(true)).is_ok());
        assert!(
            durable
                .finish(&end_with(vec![controller_end(1, holding)]))
                .is_ok()
        );
        assert!(
            durable
                .finish(&end_with(vec![controller_end(1, lacking)]))
                .is_err()
        );
        let mut tentative = acknowledged_writes::AcknowledgedWrites::default();
        assert!(tentative.observe(&ack(false)).is_ok());
        assert!(
            tentative
                .finish(&end_with(vec![controller_end(1, lacking)]))
                .is_err(),
            "lost silently"
        );
        assert!(
            tentative
                .observe(&Observation::ConfigurationKept { cib: holding })
                .is_ok()
        );
        let noted = r#"<cib><nvpair name="baton-dropped-configuration"/></cib>"#;
        assert!(
            tentative
                .finish(&end_with(vec![controller_end(1, noted)]))
                .is_ok(),
            "kept as a backup and noted"
        );
    }

    #[test]
    fn controllers_that_end_apart_are_caught() {
        let mut checker = controller_convergence::ControllerConvergence;
        let same = end_with(vec![
            controller_end(1, "<cib/>"),
            controller_end(2, "<cib/>"),
        ]);
        assert!(checker.finish(&same).is_ok());
        let apart = end_with(vec![
            controller_end(1, "<cib/>"),
            controller_end(2, "<cib a=\"1\"/>"),
        ]);
        assert!(checker.finish(&apart).is_err());
        let mut unsettled = controller_end(2, "<cib/>");
        unsettled.settled = false;
        assert!(
            checker
                .finish(&end_with(vec![controller_end(1, "<cib/>"), unsettled]))
                .is_err()
        );
    }

    #[test]
    fn a_healed_cluster_that_is_not_quorate_is_caught() {
        let members = [NodeId(1), NodeId(2), NodeId(3)];
        let config = baton_quorum::QuorumConfig::with_nodes((1..=3).map(baton_quorum::NodeId));
        let mut checker = quorum_liveness::QuorumLiveness::new(&config);
        for node in 1..=3 {
            let regular = Observation::Configuration {
                at: incarnation(node),
                kind: ConfigKind::Regular,
                ring_id: RingId {
                    seq: 8,
                    rep: NodeId(1),
                },
                members: &members,
            };
            assert!(checker.observe(&regular).is_ok());
        }
        let end = |quorate| EndOfRun {
            survivors: (1..=3).map(incarnation).collect(),
            quorate: (1..=3).map(|n| (NodeId(n), n != 2 || quorate)).collect(),
            group_tables: Vec::new(),
            live_clients: Vec::new(),
            controllers: Vec::new(),
            world: BTreeMap::new(),
            world_idle: true,
            wall_s: 0,
        };
        assert!(checker.finish(&end(true)).is_ok());
        assert!(checker.finish(&end(false)).is_err());
    }
}
