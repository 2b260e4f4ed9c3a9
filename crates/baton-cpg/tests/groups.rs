//! Process groups over a model ring: every node's submitted payloads are
//! delivered, in one agreed order, to every node of the sender's partition.

use std::collections::{BTreeMap, VecDeque};

use baton_cpg::{
    Action, ClientId, Event, Groups, JoinError, Member, NodeId, Reason, RingId, SendError,
};

struct Cluster {
    nodes: BTreeMap<NodeId, Groups>,
    /// Payloads submitted and not yet delivered, per sending node, in order.
    outbox: BTreeMap<NodeId, VecDeque<Vec<u8>>>,
    partitions: Vec<Vec<NodeId>>,
    events: BTreeMap<(NodeId, ClientId), Vec<Event>>,
    ring_seq: u64,
}

fn node(n: u32) -> NodeId {
    NodeId(n)
}

fn member(n: u32, pid: u32) -> Member {
    Member { node: node(n), pid }
}

impl Cluster {
    fn new(count: u32) -> Cluster {
        let ids: Vec<NodeId> = (1..=count).map(node).collect();
        Cluster {
            nodes: ids.iter().map(|&id| (id, Groups::new(id))).collect(),
            outbox: ids.iter().map(|&id| (id, VecDeque::new())).collect(),
            partitions: vec![ids],
            events: BTreeMap::new(),
            ring_seq: 1,
        }
    }

    fn group(&mut self, n: u32) -> &mut Groups {
        self.nodes.get_mut(&node(n)).expect("node exists")
    }

    fn join(&mut self, n: u32, client: u64, group: &str, pid: u32) {
        self.group(n)
            .local_join(ClientId(client), group, pid)
            .expect("join accepted");
        self.collect();
    }

    fn send(&mut self, n: u32, client: u64, payload: &[u8]) {
        self.group(n)
            .local_send(ClientId(client), payload)
            .expect("send accepted");
        self.collect();
    }

    fn leave(&mut self, n: u32, client: u64, reason: Reason) {
        self.group(n).local_leave(ClientId(client), reason);
        self.collect();
    }

    fn collect(&mut self) {
        for (&id, groups) in &mut self.nodes {
            while let Some(action) = groups.poll_action() {
                match action {
                    Action::Submit(payload) => {
                        self.outbox.entry(id).or_default().push_back(payload)
                    }
                    Action::Notify { client, event } => {
                        self.events.entry((id, client)).or_default().push(event);
                    }
                }
            }
        }
    }

    /// Delivers everything submitted, one payload per node in turn (a token
    /// rotation), to the sender's partition.
    fn settle(&mut self) {
        loop {
            self.collect();
            let mut any = false;
            let senders: Vec<NodeId> = self.outbox.keys().copied().collect();
            for sender in senders {
                let Some(payload) = self.outbox.get_mut(&sender).and_then(VecDeque::pop_front)
                else {
                    continue;
                };
                any = true;
                let partition = self.partition_of(sender);
                for id in partition {
                    self.group(id.0).delivered(sender, &payload);
                }
                self.collect();
            }
            if !any {
                return;
            }
        }
    }

    fn partition_of(&self, id: NodeId) -> Vec<NodeId> {
        self.partitions
            .iter()
            .find(|p| p.contains(&id))
            .cloned()
            .unwrap_or_default()
    }

    /// Splits or merges the cluster: every node gets a transitional
    /// configuration (old partition ∩ new) and then the regular one.
    fn repartition(&mut self, partitions: Vec<Vec<NodeId>>) {
        let old = std::mem::replace(&mut self.partitions, partitions);
        self.ring_seq += 4;
        for new in self.partitions.clone() {
            for &id in &new {
                let before = old
                    .iter()
                    .find(|p| p.contains(&id))
                    .cloned()
                    .unwrap_or_default();
                let transitional: Vec<NodeId> =
                    new.iter().copied().filter(|n| before.contains(n)).collect();
                let joined: Vec<NodeId> = new
                    .iter()
                    .copied()
                    .filter(|n| !before.contains(n))
                    .collect();
                let ring_id = RingId {
                    seq: self.ring_seq,
                    rep: new[0],
                };
                let groups = self.group(id.0);
                groups.transitional(&transitional);
                groups.regular(ring_id, &new, &joined);
            }
        }
        self.collect();
    }

    fn events(&self, n: u32, client: u64) -> Vec<Event> {
        self.events
            .get(&(node(n), ClientId(client)))
            .cloned()
            .unwrap_or_default()
    }

    fn messages(&self, n: u32, client: u64) -> Vec<(Member, Vec<u8>)> {
        self.events(n, client)
            .into_iter()
            .filter_map(|e| match e {
                Event::Message {
                    sender, payload, ..
                } => Some((sender, payload)),
                _ => None,
            })
            .collect()
    }

    fn last_view(&self, n: u32, client: u64) -> Option<Event> {
        self.events(n, client)
            .into_iter()
            .rev()
            .find(|e| matches!(e, Event::View { .. }))
    }

    fn members_seen_by(&self, n: u32, client: u64) -> Vec<Member> {
        match self.last_view(n, client) {
            Some(Event::View { members, .. }) => members,
            _ => Vec::new(),
        }
    }
}

#[test]
fn a_joiner_first_sees_itself_join_then_everyone_sees_each_join() {
    let mut c = Cluster::new(3);
    c.join(1, 10, "crmd", 100);
    c.settle();
    assert_eq!(
        c.events(1, 10),
        vec![Event::View {
            group: "crmd".into(),
            members: vec![member(1, 100)],
            joined: vec![(member(1, 100), Reason::Join)],
            left: vec![],
        }]
    );
    c.join(2, 20, "crmd", 200);
    c.settle();
    for (n, client) in [(1, 10), (2, 20)] {
        assert_eq!(
            c.last_view(n, client),
            Some(Event::View {
                group: "crmd".into(),
                members: vec![member(1, 100), member(2, 200)],
                joined: vec![(member(2, 200), Reason::Join)],
                left: vec![],
            })
        );
    }
}

#[test]
fn concurrent_senders_are_seen_in_one_order_by_every_member_including_themselves() {
    let mut c = Cluster::new(3);
    for n in 1..=3 {
        c.join(n, u64::from(n), "crmd", 1000 + n);
    }
    c.join(3, 99, "other", 5);
    c.settle();
    for round in 0..20u8 {
        for n in 1..=3u32 {
            c.send(n, u64::from(n), &[n as u8, round]);
        }
    }
    c.settle();
    let reference = c.messages(1, 1);
    assert_eq!(reference.len(), 60);
    assert_eq!(c.messages(2, 2), reference);
    assert_eq!(c.messages(3, 3), reference);
    assert!(c.messages(3, 99).is_empty(), "other groups hear nothing");
}

#[test]
fn a_large_message_is_reassembled_between_other_senders_messages() {
    let mut c = Cluster::new(2);
    c.join(1, 1, "cib", 11);
    c.join(2, 2, "cib", 22);
    c.settle();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    c.send(1, 1, &big);
    c.send(2, 2, b"small");
    c.send(1, 1, b"");
    c.settle();
    let expected = vec![
        (member(2, 22), b"small".to_vec()),
        (member(1, 11), big.clone()),
        (member(1, 11), Vec::new()),
    ];
    assert_eq!(c.messages(1, 1), expected);
    assert_eq!(c.messages(2, 2), expected);
}

#[test]
fn leaving_and_disconnecting_are_told_apart() {
    let mut c = Cluster::new(2);
    c.join(1, 1, "crmd", 11);
    c.join(2, 2, "crmd", 22);
    c.join(2, 3, "crmd", 33);
    c.settle();
    c.leave(2, 2, Reason::Leave);
    c.leave(2, 3, Reason::ProcDown);
    c.settle();
    let left: Vec<Vec<(Member, Reason)>> = c
        .events(1, 1)
        .into_iter()
        .filter_map(|e| match e {
            Event::View { left, .. } if !left.is_empty() => Some(left),
            _ => None,
        })
        .collect();
    assert_eq!(
        left,
        vec![
            vec![(member(2, 22), Reason::Leave)],
            vec![(member(2, 33), Reason::ProcDown)],
        ]
    );
    assert_eq!(c.members_seen_by(1, 1), vec![member(1, 11)]);
}

#[test]
fn a_partition_reports_node_down_and_drops_half_sent_messages() {
    let mut c = Cluster::new(3);
    for n in 1..=3 {
        c.join(n, u64::from(n), "crmd", n);
    }
    c.settle();
    // Node 3 gets only the first fragment of a large message out.
    c.send(3, 3, &vec![7u8; 100_000]);
    let first = c
        .outbox
        .get_mut(&node(3))
        .and_then(VecDeque::pop_front)
        .expect("a fragment");
    c.outbox.insert(node(3), VecDeque::new());
    for n in 1..=3 {
        c.group(n).delivered(node(3), &first);
    }
    c.repartition(vec![vec![node(1), node(2)], vec![node(3)]]);
    c.settle();
    for n in 1..=2 {
        assert_eq!(
            c.members_seen_by(n, u64::from(n)),
            vec![member(1, 1), member(2, 2)]
        );
        match c.last_view(n, u64::from(n)) {
            Some(Event::View { left, .. }) => {
                assert_eq!(left, vec![(member(3, 3), Reason::NodeDown)])
            }
            other => panic!("expected a view, got {other:?}"),
        }
        assert!(
            c.messages(n, u64::from(n)).is_empty(),
            "the half-sent message is dropped"
        );
    }
    assert_eq!(c.members_seen_by(3, 3), vec![member(3, 3)]);
}

/// Seeds 705, 782, 831 and 1640 of baton-sim: a node that merged into the
/// ring between the fragments of a large message got only its last
/// fragment and delivered that as a whole message, while the sender's side
/// delivered the whole; members of one view saw different messages.
#[test]
fn a_message_whose_fragments_straddle_a_merge_is_dropped_by_every_member() {
    let mut c = Cluster::new(3);
    c.repartition(vec![vec![node(1), node(2)], vec![node(3)]]);
    for n in 1..=3 {
        c.join(n, u64::from(n), "crmd", n);
    }
    c.settle();
    c.send(1, 1, &vec![7u8; 100_000]);
    let first = c
        .outbox
        .get_mut(&node(1))
        .and_then(VecDeque::pop_front)
        .expect("a first fragment");
    for n in 1..=2 {
        c.group(n).delivered(node(1), &first);
    }
    c.repartition(vec![vec![node(1), node(2), node(3)]]);
    c.send(1, 1, b"after");
    c.settle();
    for n in 1..=3 {
        assert_eq!(
            c.messages(n, u64::from(n)),
            vec![(member(1, 1), b"after".to_vec())],
            "node {n} sees the same messages as the others"
        );
    }
}

/// Without a merge every member of the new ring had the first fragments, so
/// a message straddling a shrink is still delivered.
#[test]
fn a_message_whose_fragments_straddle_a_shrink_is_delivered() {
    let mut c = Cluster::new(3);
    for n in 1..=3 {
        c.join(n, u64::from(n), "crmd", n);
    }
    c.settle();
    c.send(1, 1, &vec![7u8; 100_000]);
    let first = c
        .outbox
        .get_mut(&node(1))
        .and_then(VecDeque::pop_front)
        .expect("a first fragment");
    for n in 1..=3 {
        c.group(n).delivered(node(1), &first);
    }
    c.repartition(vec![vec![node(1), node(2)], vec![node(3)]]);
    c.settle();
    for n in 1..=2 {
        assert_eq!(
            c.messages(n, u64::from(n)),
            vec![(member(1, 1), vec![7u8; 100_000])]
        );
    }
}

#[test]
fn after_a_merge_both_sides_learn_each_others_members_as_node_up() {
    let mut c = Cluster::new(4);
    c.repartition(vec![vec![node(1), node(2)], vec![node(3), node(4)]]);
    c.join(1, 1, "crmd", 1);
    c.join(3, 3, "crmd", 3);
    c.join(4, 4, "attrd", 4);
    c.settle();
    assert_eq!(c.members_seen_by(1, 1), vec![member(1, 1)]);
    c.repartition(vec![vec![node(1), node(2), node(3), node(4)]]);
    c.settle();
    assert_eq!(c.members_seen_by(1, 1), vec![member(1, 1), member(3, 3)]);
    assert_eq!(c.members_seen_by(3, 3), vec![member(1, 1), member(3, 3)]);
    match c.last_view(1, 1) {
        Some(Event::View { joined, .. }) => {
            assert_eq!(joined, vec![(member(3, 3), Reason::NodeUp)])
        }
        other => panic!("expected a view, got {other:?}"),
    }
    assert!(
        c.events(1, 1)
            .iter()
            .any(|e| matches!(e, Event::Ring { members, .. } if members.len() == 4)),
        "members are told the new ring"
    );
    c.send(3, 3, b"hello");
    c.settle();
    assert_eq!(c.messages(1, 1), vec![(member(3, 3), b"hello".to_vec())]);
}

/// Views (their members: who joined depends on the side) and messages
/// after the last ring change, as one member saw them.
fn since_last_ring(events: Vec<Event>) -> Vec<Event> {
    let start = events
        .iter()
        .rposition(|e| matches!(e, Event::Ring { .. }))
        .map_or(0, |i| i + 1);
    events[start..]
        .iter()
        .map(|e| match e {
            Event::View { group, members, .. } => Event::View {
                group: group.clone(),
                members: members.clone(),
                joined: Vec::new(),
                left: Vec::new(),
            },
            other => other.clone(),
        })
        .collect()
}

#[test]
fn every_member_sees_a_merge_as_one_view_at_the_same_point_of_the_order() {
    let mut c = Cluster::new(4);
    c.repartition(vec![vec![node(1), node(2)], vec![node(3), node(4)]]);
    for n in 1..=4 {
        c.join(n, u64::from(n), "crmd", n);
    }
    c.settle();
    // Sent before the merge and delivered after it, ahead of the join lists.
    c.send(1, 1, b"from side one");
    c.send(3, 3, b"from side two");
    c.repartition(vec![vec![node(1), node(2), node(3), node(4)]]);
    c.settle();
    let seen: Vec<Vec<Event>> = (1..=4)
        .map(|n| since_last_ring(c.events(n, u64::from(n))))
        .collect();
    for other in &seen[1..] {
        assert_eq!(other, &seen[0], "members saw the merge differently");
    }
    let everyone: Vec<Member> = (1..=4).map(|n| member(n, n)).collect();
    assert!(
        matches!(&seen[0][0], Event::View { members, .. } if *members == everyone),
        "the merged view comes first: {:?}",
        seen[0]
    );
    assert_eq!(
        seen[0].len(),
        3,
        "one view, then the two messages: {:?}",
        seen[0]
    );
}

#[test]
fn a_leave_queued_before_a_merge_is_not_undone_by_the_join_list() {
    let mut c = Cluster::new(2);
    c.repartition(vec![vec![node(1)], vec![node(2)]]);
    c.join(1, 1, "crmd", 1);
    c.join(2, 2, "crmd", 2);
    c.join(2, 3, "crmd", 3);
    c.settle();
    // Node 2's leave is still queued when the partitions merge.
    c.leave(2, 3, Reason::Leave);
    c.repartition(vec![vec![node(1), node(2)]]);
    c.settle();
    assert_eq!(c.members_seen_by(1, 1), vec![member(1, 1), member(2, 2)]);
    assert_eq!(c.members_seen_by(2, 2), vec![member(1, 1), member(2, 2)]);
}

#[test]
fn bad_joins_and_sends_are_refused_with_reasons() {
    let mut g = Groups::new(node(1));
    assert_eq!(g.local_join(ClientId(1), "", 1), Err(JoinError::BadName));
    assert_eq!(
        g.local_join(ClientId(1), &"x".repeat(129), 1),
        Err(JoinError::BadName)
    );
    assert_eq!(g.local_send(ClientId(1), b"hi"), Err(SendError::NotJoined));
    g.local_join(ClientId(1), "crmd", 7).expect("first join");
    assert_eq!(
        g.local_join(ClientId(1), "cib", 7),
        Err(JoinError::AlreadyJoined("crmd".into()))
    );
    assert_eq!(
        g.local_join(ClientId(2), "crmd", 7),
        Err(JoinError::PidInGroup {
            group: "crmd".into(),
            pid: 7
        })
    );
    assert_eq!(
        g.local_send(ClientId(1), &vec![0; baton_cpg::MESSAGE_BYTES_MAX + 1]),
        Err(SendError::TooLarge {
            bytes: baton_cpg::MESSAGE_BYTES_MAX + 1
        })
    );
}

#[test]
fn other_services_payloads_are_ignored_and_broken_group_packets_counted() {
    let mut g = Groups::new(node(1));
    g.delivered(node(2), &[1, 0, 0, 0, 3, 1, 0]);
    assert_eq!(g.undecodable(), 0);
    g.delivered(node(2), &[baton_cpg::wire::TAG_GROUP, 1, 9]);
    assert_eq!(g.undecodable(), 1);
    assert!(g.poll_action().is_none());
}

#[test]
fn a_client_joining_a_formed_ring_hears_the_ring_just_before_its_join() {
    let mut c = Cluster::new(3);
    c.repartition(vec![vec![node(1), node(2), node(3)]]);
    c.settle();
    c.join(2, 20, "crmd", 200);
    c.settle();
    let events = c.events(2, 20);
    assert!(
        matches!(&events[..], [Event::Ring { members, .. }, Event::View { .. }] if members.len() == 3),
        "{events:?}"
    );
}
