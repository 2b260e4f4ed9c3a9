//! Measurements of the Totem core without faults:
//! 1. throughput: deliveries per CPU-second per node (3 and 8 nodes, 1 KiB);
//! 2. re-formation after a crash, in virtual time, against token + consensus;
//! 3. resident memory with 10,000 messages held unfreed.
//!
//! Run: `cargo run --release -p baton-sim --bin baton-sim-bench`.
//! Single-threaded, so wall time is the CPU time of the one busy core.

use std::collections::VecDeque;
use std::time::Instant;

use baton_totem::{Config, ConfigKind, Destination, Millis, NodeId, Output, Totem, codec};

const PAYLOAD_BYTES: usize = 1024;
const LINK_LATENCY_MS: u64 = 1;

/// A lossless cluster with a fixed link latency, so packets leave in the
/// order they were sent and a FIFO is the whole network.
struct Cluster {
    now: Millis,
    nodes: Vec<Option<Totem>>,
    wire: VecDeque<(Millis, usize, NodeId, Vec<u8>)>,
    deliveries: u64,
    /// Drop data messages to this node (tokens still pass), so nothing is
    /// ever freed: every member keeps all messages.
    starve: Option<usize>,
    regular_seen: Vec<Option<Vec<NodeId>>>,
}

impl Cluster {
    fn new(config: &Config) -> Cluster {
        Cluster {
            now: Millis(0),
            nodes: config
                .nodes
                .iter()
                .map(|id| Some(Totem::new(config.clone(), *id, 0)))
                .collect(),
            wire: VecDeque::new(),
            deliveries: 0,
            starve: None,
            regular_seen: vec![None; config.nodes.len()],
        }
    }

    fn drain(&mut self, index: usize) {
        while let Some(output) = self.nodes[index].as_mut().and_then(Totem::poll_output) {
            let from = NodeId(index as u32 + 1);
            match output {
                Output::Send { to, packet } => match to {
                    Destination::Node(id) => self.wire.push_back((
                        self.now.plus(LINK_LATENCY_MS),
                        id.0 as usize - 1,
                        from,
                        packet,
                    )),
                    Destination::Broadcast => {
                        for target in (0..self.nodes.len()).filter(|t| *t != index) {
                            self.wire.push_back((
                                self.now.plus(LINK_LATENCY_MS),
                                target,
                                from,
                                packet.clone(),
                            ));
                        }
                    }
                },
                Output::Deliver { .. } => self.deliveries += 1,
                Output::ConfigChange {
                    kind: ConfigKind::Regular,
                    members,
                    ..
                } => self.regular_seen[index] = Some(members),
                Output::ConfigChange { .. } | Output::PersistRingSeq(_) => {}
            }
        }
    }

    /// One step: the earliest timer or packet. Returns false when idle.
    fn step(&mut self, until: Millis) -> bool {
        let timer = (0..self.nodes.len())
            .filter_map(|i| self.nodes[i].as_ref()?.next_deadline().map(|at| (at, i)))
            .min();
        let packet_at = self.wire.front().map(|p| p.0);
        match (timer, packet_at) {
            (Some((at, index)), packet_at) if packet_at.is_none_or(|p| at < p) && at <= until => {
                self.now = self.now.max(at);
                if let Some(node) = self.nodes[index].as_mut() {
                    node.handle_timer(self.now);
                }
                self.drain(index);
                true
            }
            (_, Some(at)) if at <= until => {
                let Some((at, target, from, packet)) = self.wire.pop_front() else {
                    return false;
                };
                self.now = self.now.max(at);
                let starved = self.starve == Some(target)
                    && matches!(
                        codec::decode(&packet).map(|p| p.body),
                        Ok(codec::Body::Mcast(_))
                    );
                if !starved && let Some(node) = self.nodes[target].as_mut() {
                    let _ = node.handle_packet(self.now, from, &packet);
                }
                self.drain(target);
                true
            }
            _ => false,
        }
    }

    fn run_until(&mut self, until: Millis) {
        while self.step(until) {}
        self.now = self.now.max(until);
    }

    fn formed(&self, expected: &[NodeId]) -> bool {
        self.nodes
            .iter()
            .zip(&self.regular_seen)
            .all(|(node, seen)| node.is_none() || seen.as_deref() == Some(expected))
    }
}

fn ids(count: u32) -> Vec<NodeId> {
    (1..=count).map(NodeId).collect()
}

fn throughput(count: u32, messages_per_node: u64) {
    let config = Config::with_defaults(ids(count));
    let mut cluster = Cluster::new(&config);
    cluster.run_until(Millis(config.consensus_ms * 2));
    assert!(
        cluster.formed(&config.nodes),
        "the ring formed before measuring"
    );
    let payload = vec![0x5A; PAYLOAD_BYTES];
    let mut submitted = vec![0u64; count as usize];
    let expected = messages_per_node * u64::from(count) * u64::from(count);
    let started = Instant::now();
    let delivered_before = cluster.deliveries;
    while cluster.deliveries - delivered_before < expected {
        for (index, submitted) in submitted.iter_mut().enumerate() {
            let Some(node) = cluster.nodes[index].as_mut() else {
                continue;
            };
            while *submitted < messages_per_node && node.submit_queue_len() < 256 {
                if node.submit(payload.clone()).is_err() {
                    break;
                }
                *submitted += 1;
            }
            cluster.drain(index);
        }
        if !cluster.step(Millis(u64::MAX)) {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let delivered = cluster.deliveries - delivered_before;
    println!(
        "throughput {count} nodes, {PAYLOAD_BYTES} B: {delivered} deliveries in {seconds:.3} s on one core for all {count} nodes; \
         {:.0} deliveries per CPU-second of protocol work (each node's own rate if it had its own core); \
         {:.0} per node if all {count} nodes shared one core",
        delivered as f64 / seconds,
        delivered as f64 / seconds / f64::from(count)
    );
}

fn reformation(count: u32) {
    let config = Config::with_defaults(ids(count));
    let mut cluster = Cluster::new(&config);
    cluster.run_until(Millis(config.consensus_ms * 2));
    assert!(cluster.formed(&config.nodes));
    let crashed = (count / 2) as usize;
    cluster.nodes[crashed] = None;
    let crash_at = cluster.now;
    let survivors: Vec<NodeId> = config
        .nodes
        .iter()
        .copied()
        .filter(|n| n.0 as usize - 1 != crashed)
        .collect();
    while !cluster.formed(&survivors) && cluster.step(crash_at.plus(10 * config.consensus_ms)) {}
    let took_ms = cluster.now.0 - crash_at.0;
    let bound_ms = config.token_ms + config.consensus_ms + 2 * config.join_ms;
    println!(
        "re-formation {count} nodes after crashing node {}: {took_ms} ms virtual; token {} + consensus {} = {} ms; bound token+consensus+2*join = {bound_ms} ms: {}",
        crashed + 1,
        config.token_ms,
        config.consensus_ms,
        config.token_ms + config.consensus_ms,
        if took_ms <= bound_ms {
            "within"
        } else {
            "EXCEEDED"
        }
    );
}

fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|text| text.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn memory(in_flight: u64) {
    let mut config = Config::with_defaults(ids(3));
    // The starved node must not ask for retransmissions: those would take
    // every send slot and the sender would never get to 10,000.
    config.miss_count_const = u32::MAX;
    let before = resident_bytes();
    let mut cluster = Cluster::new(&config);
    cluster.run_until(Millis(config.consensus_ms * 2));
    cluster.starve = Some(2);
    let payload = vec![0x5A; PAYLOAD_BYTES];
    let mut sent = 0u64;
    while cluster.nodes[0]
        .as_ref()
        .map_or(0, Totem::stored_message_count)
        < in_flight as usize
    {
        if let Some(node) = cluster.nodes[0].as_mut() {
            while sent < in_flight && node.submit(payload.clone()).is_ok() {
                sent += 1;
            }
        }
        cluster.drain(0);
        if !cluster.step(Millis(u64::MAX)) {
            break;
        }
    }
    let held: Vec<usize> = cluster
        .nodes
        .iter()
        .flatten()
        .map(Totem::stored_message_count)
        .collect();
    let after = resident_bytes();
    let held_total: usize = held.iter().sum();
    let per_message = (after.saturating_sub(before)) as f64 / held_total.max(1) as f64;
    println!(
        "memory: {in_flight} x {PAYLOAD_BYTES} B messages unfreed; messages held per node {held:?}; resident +{} KiB for the cluster \
         = {per_message:.0} B per held message = {:.1} MiB per node holding {in_flight}",
        (after.saturating_sub(before)) / 1024,
        per_message * in_flight as f64 / (1024.0 * 1024.0)
    );
}

fn main() {
    memory(10_000);
    throughput(3, 100_000);
    throughput(8, 30_000);
    reformation(3);
    reformation(8);
}
