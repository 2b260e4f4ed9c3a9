//! Properties of the quorum rules over random nodelists and membership
//! histories.

use baton_quorum::{Millis, NodeId, NodeVotes, Quorum, QuorumConfig, RingId, TieBreaker, Votes};
use proptest::prelude::*;

/// Nodes 1..=n with 1 to 3 votes each.
fn nodelist() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(1u32..=3, 1..=8)
}

fn config(votes: &[u32]) -> QuorumConfig {
    QuorumConfig {
        nodes: votes
            .iter()
            .zip(1u32..)
            .map(|(&v, id)| NodeVotes {
                votes: Votes(v),
                ..NodeVotes::new(NodeId(id))
            })
            .collect(),
        ..QuorumConfig::default()
    }
}

/// Membership masks over nodes 1..=9: bit i is node i+1, so node 9 may be a
/// member the nodelist does not name.
fn history() -> impl Strategy<Value = Vec<u16>> {
    prop::collection::vec(0u16..512, 0..12)
}

fn members(mask: u16, node_count: u32) -> Vec<NodeId> {
    (1..=node_count)
        .filter(|id| mask & (1 << (id - 1)) != 0)
        .map(NodeId)
        .collect()
}

/// Feeds memberships with rising ring ids and one second between them.
struct Driver {
    quorum: Quorum,
    seq: u64,
}

impl Driver {
    fn new(config: &QuorumConfig) -> Self {
        Self {
            quorum: Quorum::new(config).expect("a valid config"),
            seq: 0,
        }
    }

    fn step(&mut self, members: &[NodeId]) {
        self.seq += 4;
        let rep = members.first().copied().unwrap_or(NodeId(1));
        let ring = RingId { rep, seq: self.seq };
        self.quorum
            .membership_changed(Millis(self.seq * 1000), ring, members);
        while self.quorum.poll_event().is_some() {}
    }
}

proptest! {
    /// Without special options quorum is always floor(E/2)+1 of the highest
    /// expected votes, quorate means total >= quorum, and expected votes and
    /// quorum never fall.
    #[test]
    fn quorum_is_majority_of_expected(votes in nodelist(), steps in history()) {
        let config = config(&votes);
        let configured: u32 = votes.iter().sum();
        let mut driver = Driver::new(&config);
        let mut last = driver.quorum.status();
        for mask in steps {
            driver.step(&members(mask, 9));
            let s = driver.quorum.status();
            prop_assert_eq!(s.quorum, Votes(s.highest_expected.0 / 2 + 1));
            prop_assert_eq!(s.quorate, s.total_votes >= s.quorum);
            prop_assert!(s.expected_votes >= Votes(configured));
            prop_assert!(s.expected_votes >= s.total_votes);
            prop_assert!(s.expected_votes >= last.expected_votes);
            prop_assert!(s.quorum >= last.quorum);
            last = s;
        }
    }

    /// Without special options a partition and its complement are never
    /// both quorate, whatever they went through together before.
    #[test]
    fn split_has_at_most_one_quorate_side(
        votes in nodelist(),
        steps in history(),
        split in 0u16..256,
    ) {
        let config = config(&votes);
        let n = u32::try_from(votes.len()).expect("small");
        let (a, b) = split_sides(&config, &steps, split, n);
        prop_assert!(!(a.is_quorate() && b.is_quorate()));
    }

    /// With auto_tie_breaker, a split of the full membership gives quorum
    /// to at most one side, for every tie-breaker rule.
    #[test]
    fn tie_breaker_picks_one_side(
        votes in nodelist(),
        steps in history(),
        split in 0u16..256,
        rule in 0usize..3,
        order in any::<u64>(),
    ) {
        let n = u32::try_from(votes.len()).expect("small");
        let mut config = config(&votes);
        config.auto_tie_breaker = true;
        config.auto_tie_breaker_node = match rule {
            0 => TieBreaker::Lowest,
            1 => TieBreaker::Highest,
            _ => {
                // A rotation of the nodelist, so that any node may come first.
                let mut ids: Vec<NodeId> = (1..=n).map(NodeId).collect();
                let len = ids.len();
                ids.rotate_left(usize::try_from(order % len as u64).expect("small"));
                TieBreaker::Nodes(ids)
            }
        };
        // Everyone together right before the split.
        let mut steps = steps;
        steps.push((1u16 << n) - 1);
        let (a, b) = split_sides(&config, &steps, split, n);
        prop_assert!(!(a.is_quorate() && b.is_quorate()));
    }
}

/// Runs the common history on two nodes' machines, then gives one the
/// nodes in `split` and the other the rest of the nodelist.
fn split_sides(config: &QuorumConfig, steps: &[u16], split: u16, n: u32) -> (Quorum, Quorum) {
    let mut a = Driver::new(config);
    let mut b = Driver::new(config);
    for &mask in steps {
        a.step(&members(mask, 9));
        b.step(&members(mask, 9));
    }
    let all = (1u16 << n) - 1;
    a.step(&members(split & all, n));
    b.step(&members(!split & all, n));
    (a.quorum, b.quorum)
}

/// Every node of a cluster, each with its own state machine, exchanging
/// NodeInfo inside its partition the way the ring would deliver it.
struct Cluster {
    nodes: Vec<Quorum>,
    seq: u64,
}

impl Cluster {
    fn new(config: &QuorumConfig) -> Self {
        let nodes = config
            .nodes
            .iter()
            .map(|_| Quorum::new(config).expect("a valid config"))
            .collect();
        Self { nodes, seq: 0 }
    }

    /// `group_of[i]` is the partition node i+1 is in; every partition forms
    /// its own ring, then its members announce to each other in id order.
    fn step(&mut self, group_of: &[u8]) -> Vec<Vec<usize>> {
        self.seq += 4;
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for g in 0..4u8 {
            let group: Vec<usize> = (0..self.nodes.len())
                .filter(|&i| group_of[i % group_of.len()] % 4 == g)
                .collect();
            if !group.is_empty() {
                groups.push(group);
            }
        }
        for group in &groups {
            let ids: Vec<NodeId> = group.iter().map(|&i| node_id(i)).collect();
            let ring = RingId {
                rep: ids[0],
                seq: self.seq,
            };
            for &i in group {
                self.nodes[i].membership_changed(Millis(self.seq * 1000), ring, &ids);
            }
            let infos: Vec<_> = group
                .iter()
                .filter_map(|&i| self.nodes[i].poll_transmit().map(|info| (node_id(i), info)))
                .collect();
            for &i in group {
                for &(from, info) in &infos {
                    self.nodes[i].handle_node_info(from, info);
                }
                while self.nodes[i].poll_event().is_some() {}
            }
        }
        groups
    }

    fn quorate_groups(&self, groups: &[Vec<usize>]) -> usize {
        groups
            .iter()
            .filter(|g| g.iter().any(|&i| self.nodes[i].is_quorate()))
            .count()
    }
}

fn node_id(index: usize) -> NodeId {
    NodeId(u32::try_from(index + 1).expect("small"))
}

proptest! {
    /// With every node running and announcing to its partition, at most
    /// one partition is quorate at any time, and (without wait_for_all)
    /// the members of a partition agree on it.
    #[test]
    fn cluster_has_at_most_one_quorate_partition(
        votes in nodelist(),
        wait_for_all in any::<bool>(),
        layouts in prop::collection::vec(prop::collection::vec(0u8..4, 8), 1..10),
    ) {
        let mut config = config(&votes);
        config.wait_for_all = Some(wait_for_all);
        let mut cluster = Cluster::new(&config);
        for layout in layouts {
            let groups = cluster.step(&layout);
            prop_assert!(cluster.quorate_groups(&groups) <= 1);
            if !wait_for_all {
                for group in &groups {
                    let first = cluster.nodes[group[0]].is_quorate();
                    prop_assert!(group.iter().all(|&i| cluster.nodes[i].is_quorate() == first));
                }
            }
        }
    }

    /// With auto_tie_breaker, splitting the full membership in two leaves
    /// at most one quorate side, whatever came before.
    #[test]
    fn cluster_tie_breaker_split(
        votes in nodelist(),
        highest in any::<bool>(),
        layouts in prop::collection::vec(prop::collection::vec(0u8..4, 8), 0..6),
        split in prop::collection::vec(0u8..2, 8),
    ) {
        let mut config = config(&votes);
        config.auto_tie_breaker = true;
        if highest {
            config.auto_tie_breaker_node = TieBreaker::Highest;
        }
        let mut cluster = Cluster::new(&config);
        for layout in layouts {
            cluster.step(&layout);
        }
        cluster.step(&[0; 8]);
        let groups = cluster.step(&split);
        prop_assert!(cluster.quorate_groups(&groups) <= 1);
    }
}
