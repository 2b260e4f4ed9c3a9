//! The deterministic simulator: N protocol cores on virtual time over a
//! seeded, faulty in-memory network. A fault phase, then a quiet phase in
//! which every fault is removed and the cluster must converge.

mod controllers;
mod lrm;
mod resources;
mod services;
mod workload;

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet, VecDeque};
use std::fmt;
use std::rc::Rc;

use baton_quorum::QuorumConfig;
use baton_totem::{Config, Destination, Millis, NodeId, Output, State, Totem, codec};

use self::controllers::{ControllerWorkload, SimController};
use self::services::{CORE_QUEUE_TARGET, OUTGOING_HIGH_WATER, Services};
use self::workload::{SimClient, Workload};

use crate::invariants::{
    EndOfRun, Incarnation, Invariant, Liveness, MessageId, Observation, safety_invariants,
};
use crate::options::{SimOptions, Swarm};
use crate::rng::Rng;

/// Steps one run may take before it counts as stuck.
pub const STEPS_MAX: u64 = 20_000_000;
/// Probe messages each node submits once the cluster has converged.
pub const PROBES_PER_NODE: u64 = 3;
/// Fills the plain workload's payloads; it is no service's tag.
const PADDING_BYTE: u8 = 0xA5;

/// A broken invariant, with everything needed to replay it.
#[derive(Debug, Clone)]
pub struct Violation {
    pub seed: u64,
    pub nodes: usize,
    pub invariant: &'static str,
    pub time: Millis,
    pub step: u64,
    pub detail: String,
    pub faults: String,
    /// The run had the controller layer on.
    pub controllers: bool,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {} violated {} at {} (step {}): {}\nreplay: cargo run --release -p baton-sim -- --seeds {}..{} --nodes {} --faults {}{} --trace",
            self.seed,
            self.invariant,
            self.time,
            self.step,
            self.detail,
            self.seed,
            self.seed + 1,
            self.nodes,
            self.faults,
            if self.controllers {
                " --controllers"
            } else {
                ""
            }
        )
    }
}

/// What a successful run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub seed: u64,
    pub nodes: usize,
    pub steps: u64,
    pub deliveries: u64,
    pub submitted: u64,
    pub virtual_end: Millis,
    /// Virtual time from the start of the quiet phase to one ring.
    pub convergence_ms: u64,
    /// The run's failure-detection time, token + consensus, to compare
    /// `convergence_ms` against.
    pub detection_ms: u64,
}

#[derive(Debug)]
enum Event {
    Packet {
        to: usize,
        from: NodeId,
        bytes: Rc<[u8]>,
    },
    Submit {
        node: usize,
    },
    /// A group client on this node acts.
    Client {
        node: usize,
    },
    Fault,
    Heal,
    Restart {
        node: usize,
    },
    Resume {
        node: usize,
    },
    QuietStart,
    /// A node's controller process starts (after its node or itself crashed).
    ControllerStart {
        node: usize,
    },
    /// The controller workload writes through this node.
    ControllerWrite {
        node: usize,
    },
    /// An action of a node's lrmd ends (if the node has not restarted).
    LrmDone {
        node: usize,
        /// The node's incarnation and lrmd resets when it began.
        incarnation: (u32, u32),
        op: u64,
    },
    /// A recurring monitor runs again after a resource broke.
    MonitorCheck {
        node: usize,
        incarnation: (u32, u32),
        key: lrm::RecurringKey,
    },
    /// The fencer acts on a request of the controller `client` on `node`.
    FenceDone {
        node: usize,
        client: baton_cpg::ClientId,
        request: u64,
        target: String,
        ok: bool,
    },
}

impl Event {
    /// The node whose processes take this event (a paused node takes it
    /// when it resumes).
    fn paused_node(&self) -> Option<usize> {
        match self {
            Event::LrmDone { node, .. }
            | Event::MonitorCheck { node, .. }
            | Event::FenceDone { node, .. } => Some(*node),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Scheduled {
    at: Millis,
    order: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

#[derive(Debug)]
struct SimNode {
    id: NodeId,
    core: Option<Totem>,
    /// Votequorum and process groups; they live and die with `core`.
    services: Option<Services>,
    /// Ring payloads waiting for room in the core's submit queue, oldest
    /// first, as ringd keeps them.
    outgoing: VecDeque<Vec<u8>>,
    /// The group clients running on this node now.
    clients: Vec<SimClient>,
    /// Its controller process, with `--controllers`.
    controller: Option<SimController>,
    /// Its resource manager: outlives a controller crash, not the node.
    lrm: lrm::SimLrm,
    /// How often fencing reset its lrmd without stopping the node.
    lrm_resets: u32,
    /// The configuration (and durable epoch) its controller persisted;
    /// kept across crashes.
    disk: Option<(String, baton_controller::Term)>,
    /// Last pid handed out; never reused, even across restarts.
    next_pid: u32,
    incarnation: u32,
    persisted_ring_seq: u64,
    paused_until: Option<Millis>,
    counter: u64,
}

impl SimNode {
    fn incarnation(&self) -> Incarnation {
        Incarnation {
            node: self.id,
            number: self.incarnation,
        }
    }

    fn runnable(&self) -> bool {
        self.core.is_some() && self.paused_until.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Faults,
    Quiet,
    /// One ring is committed; recovery moves the old rings' messages.
    Installing {
        formed_at: Millis,
        bound_ms: u64,
    },
    Draining {
        converged_at: Millis,
        backlog: usize,
    },
}

/// One simulated cluster run.
pub struct Simulation {
    options: SimOptions,
    swarm: Swarm,
    config: Config,
    quorum_config: QuorumConfig,
    rng: Rng,
    workload: Workload,
    controllers: Option<ControllerWorkload>,
    now: Millis,
    step: u64,
    order: u64,
    queue: BinaryHeap<Scheduled>,
    nodes: Vec<SimNode>,
    blocked: HashSet<(usize, usize)>,
    /// One-way base latency of each link, `[from * nodes + to]`.
    link_latency_ms: Vec<u64>,
    phase: Phase,
    quiet_since: Millis,
    safety: Vec<Box<dyn Invariant>>,
    liveness: Liveness,
    deliveries: u64,
    submitted: u64,
    convergence_ms: u64,
    /// When the latest probe was queued: the drain bound runs from there.
    last_probe_at: Millis,
    /// When the resources' convergence was last judged while draining.
    resources_judged_at: Option<Millis>,
}

impl fmt::Debug for Simulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulation")
            .field("seed", &self.options.seed)
            .field("now", &self.now)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

/// Runs one seed to completion.
pub fn run(options: &SimOptions) -> Result<RunSummary, Violation> {
    Simulation::new(options.clone()).run()
}

impl Simulation {
    #[must_use]
    pub fn new(options: SimOptions) -> Simulation {
        let mut rng = Rng::new(options.seed);
        let swarm = Swarm::draw(&mut rng, &options);
        let ids: Vec<NodeId> = (1..=swarm.nodes as u32).map(NodeId).collect();
        let config = swarm.config(ids.clone());
        let mut workload = Workload::new(options.seed, swarm.token_ms);
        let quorum_config = workload.quorum_config(&ids);
        let nodes = ids
            .iter()
            .map(|id| SimNode {
                id: *id,
                core: Some(Totem::new(config.clone(), *id, 0)),
                services: Some(Services::new(*id, &quorum_config)),
                outgoing: VecDeque::new(),
                clients: Vec::new(),
                controller: None,
                lrm: lrm::SimLrm::default(),
                lrm_resets: 0,
                disk: None,
                next_pid: 0,
                incarnation: 0,
                persisted_ring_seq: 0,
                paused_until: None,
                counter: 0,
            })
            .collect();
        let safety = safety_invariants(&quorum_config);
        let controllers = options
            .controllers
            .then(|| ControllerWorkload::new(options.seed, swarm.token_ms, options.faults.crash));
        let link_latency_ms = (0..swarm.nodes * swarm.nodes)
            .map(|_| rng.range(1, swarm.latency_ms))
            .collect();
        Simulation {
            options,
            swarm,
            config,
            quorum_config,
            rng,
            workload,
            controllers,
            link_latency_ms,
            now: Millis(0),
            step: 0,
            order: 0,
            queue: BinaryHeap::new(),
            nodes,
            blocked: HashSet::new(),
            phase: Phase::Faults,
            quiet_since: Millis(0),
            safety,
            liveness: Liveness::default(),
            deliveries: 0,
            submitted: 0,
            convergence_ms: 0,
            last_probe_at: Millis(0),
            resources_judged_at: None,
        }
    }

    pub fn run(mut self) -> Result<RunSummary, Violation> {
        if self.options.trace {
            println!("# seed {} swarm {:?}", self.options.seed, self.swarm);
            println!("# config {:?}", self.config);
            println!("# quorum {:?}", self.quorum_config);
        }
        for node in 0..self.nodes.len() {
            let gap = self.rng.range(1, self.swarm.submit_gap_ms);
            self.schedule(Millis(gap), Event::Submit { node });
            let gap = self.workload.next_gap_ms();
            self.schedule(Millis(gap), Event::Client { node });
            if self.controllers.is_some() {
                self.schedule(Millis(0), Event::ControllerStart { node });
                let gap = self.swarm.token_ms * 4;
                self.schedule(Millis(gap), Event::ControllerWrite { node });
            }
        }
        if let Some(workload) = self.controllers.as_ref() {
            let enabled = workload.resources.fencing;
            self.check(&Observation::Fencing { enabled })?;
        }
        let any_faults = self.swarm.partitions
            || self.swarm.crashes
            || self.swarm.pauses
            || (self.controllers.is_some() && self.options.faults.crash);
        if any_faults {
            let gap = self.rng.range(1, self.swarm.fault_gap_ms);
            self.schedule(Millis(gap), Event::Fault);
        }
        self.schedule(Millis(self.swarm.fault_phase_ms), Event::QuietStart);
        loop {
            self.step += 1;
            if self.step > STEPS_MAX {
                return Err(self.violation("liveness", format!("no end after {STEPS_MAX} steps")));
            }
            let timer_at = self.earliest_timer();
            let event_at = self.queue.peek().map(|s| s.at);
            let timer_first = match (timer_at, event_at) {
                (Some((at, _)), Some(event_at)) => at < event_at,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if let (true, Some((at, node))) = (timer_first, timer_at) {
                self.now = self.now.max(at);
                self.with_core(node, |core, now| core.handle_timer(now))?;
                self.services_timer(node)?;
                self.controller_timer(node)?;
            } else if let Some(scheduled) = self.queue.pop() {
                self.now = self.now.max(scheduled.at);
                if let Some(until) = scheduled
                    .event
                    .paused_node()
                    .and_then(|n| self.nodes[n].paused_until)
                {
                    self.schedule(until, scheduled.event);
                    continue;
                }
                self.handle_event(scheduled.event)?;
            } else {
                break;
            }
            if self.check_progress()? {
                break;
            }
        }
        let end = self.end_of_run();
        for invariant in &mut self.safety {
            if let Err(detail) = invariant.finish(&end) {
                let name = invariant.name();
                return Err(self.violation(name, detail));
            }
        }
        Ok(RunSummary {
            seed: self.options.seed,
            nodes: self.nodes.len(),
            steps: self.step,
            deliveries: self.deliveries,
            submitted: self.submitted,
            virtual_end: self.now,
            convergence_ms: self.convergence_ms,
            detection_ms: self.config.token_ms + self.config.consensus_ms,
        })
    }

    /// Phase bookkeeping after each step; returns true when the run is done.
    fn check_progress(&mut self) -> Result<bool, Violation> {
        let running: Vec<Incarnation> = self.nodes.iter().map(SimNode::incarnation).collect();
        match self.phase {
            Phase::Faults => Ok(false),
            Phase::Quiet => {
                if self.ring_formed() {
                    self.convergence_ms = self.now.0 - self.quiet_since.0;
                    self.phase = Phase::Installing {
                        formed_at: self.now,
                        bound_ms: self.install_bound_ms(),
                    };
                    return Ok(false);
                }
                if let Err(detail) = self.liveness.check_formed_in_time(
                    &running,
                    false,
                    self.quiet_since,
                    self.now,
                    &self.config,
                ) {
                    return Err(self.violation("liveness", detail));
                }
                Ok(false)
            }
            Phase::Installing {
                formed_at,
                bound_ms,
            } => {
                let operational = self.nodes.iter().all(|n| {
                    n.core
                        .as_ref()
                        .is_some_and(|c| c.state() == State::Operational)
                });
                if operational && self.liveness.converged(&running).is_some() {
                    let backlog = self
                        .nodes
                        .iter()
                        .filter_map(|n| {
                            n.core
                                .as_ref()
                                .map(|core| core.submit_queue_len() + n.outgoing.len())
                        })
                        .sum();
                    self.phase = Phase::Draining {
                        converged_at: self.now,
                        backlog,
                    };
                    for node in 0..self.nodes.len() {
                        for _ in 0..PROBES_PER_NODE {
                            self.probe(node)?;
                        }
                    }
                    return Ok(false);
                }
                if self.now.0 > formed_at.0 + bound_ms {
                    return Err(self.violation(
                        "liveness",
                        format!("the ring formed at {formed_at} but was not installed everywhere within {bound_ms} ms"),
                    ));
                }
                Ok(false)
            }
            Phase::Draining {
                converged_at,
                backlog,
            } => {
                let missing = self.liveness.missing_probes(&running);
                let Some((node, probe)) = missing else {
                    // The controllers finish their join rounds after the
                    // ring settles, then their transitions; their
                    // convergence is checked at the end.
                    let bound = self.config.token_ms * 40 + self.resources_settle_ms();
                    return Ok((self.controllers_settled() && self.resources_settled())
                        || self.now.0 > converged_at.0 + bound);
                };
                // The queued backlog leaves at most window_size messages per
                // rotation; a rotation costs one worst-case hop per node.
                let hop_ms = self.swarm.latency_ms + self.swarm.jitter_ms + 1;
                let rotations = (backlog as u64 + self.nodes.len() as u64 * PROBES_PER_NODE)
                    / u64::from(self.config.window_size)
                    + 10;
                let drain_bound_ms = self.config.token_ms
                    + self.config.consensus_ms
                    + rotations * hop_ms * self.nodes.len() as u64 * 2;
                let since = converged_at.max(self.last_probe_at);
                if self.now.0 > since.0 + drain_bound_ms {
                    return Err(self.violation(
                        "liveness",
                        format!(
                            "node {node} has not delivered probe {probe:?} {drain_bound_ms} ms after the ring formed or it was queued"
                        ),
                    ));
                }
                Ok(false)
            }
        }
    }

    /// Every node is committed to one ring holding all of them.
    fn ring_formed(&self) -> bool {
        let all: Vec<NodeId> = self.nodes.iter().map(|n| n.id).collect();
        let mut rings = self.nodes.iter().map(|n| {
            n.core
                .as_ref()
                .filter(|c| matches!(c.state(), State::Recovery | State::Operational))
                .map(|c| (c.ring_id(), c.members()))
        });
        let Some(Some((ring_id, members))) = rings.next() else {
            return false;
        };
        members == all.as_slice() && rings.all(|r| r == Some((ring_id, members)))
    }

    /// Recovery re-sends at most the messages the nodes hold, `window_size`
    /// per rotation, and a rotation costs one worst-case hop per node for the
    /// token plus one for the data; ten spare rotations end the recovery.
    fn install_bound_ms(&self) -> u64 {
        let held: usize = self
            .nodes
            .iter()
            .filter_map(|n| n.core.as_ref().map(Totem::stored_message_count))
            .sum();
        let hop_ms = self.swarm.latency_ms + self.swarm.jitter_ms + 1;
        let rotations = held as u64 / u64::from(self.config.window_size) + 10;
        self.config.token_ms + rotations * 2 * hop_ms * self.nodes.len() as u64
    }

    fn earliest_timer(&self) -> Option<(Millis, usize)> {
        let mut best: Option<(Millis, usize)> = None;
        for (index, node) in self.nodes.iter().enumerate() {
            if !node.runnable() {
                continue;
            }
            let services_at = node.services.as_ref().and_then(Services::next_deadline);
            let core_at = node.core.as_ref().and_then(Totem::next_deadline);
            let controller_at = self.controller_deadline(index).map(Millis);
            let at = [core_at, services_at, controller_at]
                .into_iter()
                .flatten()
                .min();
            if let Some(at) = at
                && best.is_none_or(|(b, _)| at < b)
            {
                best = Some((at, index));
            }
        }
        best
    }

    fn schedule(&mut self, at: Millis, event: Event) {
        self.order += 1;
        self.queue.push(Scheduled {
            at,
            order: self.order,
            event,
        });
    }

    fn handle_event(&mut self, event: Event) -> Result<(), Violation> {
        match event {
            Event::Packet { to, from, bytes } => {
                let node = &self.nodes[to];
                if node.core.is_none() {
                    return Ok(());
                }
                if let Some(until) = node.paused_until {
                    // A paused process finds the packet in its socket buffer.
                    self.schedule(until, Event::Packet { to, from, bytes });
                    return Ok(());
                }
                if self.options.trace {
                    println!(
                        "{} n{} <- n{from} {}",
                        self.now,
                        self.nodes[to].id,
                        describe(&bytes)
                    );
                }
                self.with_core(to, |core, now| {
                    // The simulator corrupts nothing; a duplicate or stray
                    // packet the core rejects is part of the faults.
                    let _ = core.handle_packet(now, from, &bytes);
                })?;
            }
            Event::Submit { node } => {
                if !self.is_draining() {
                    if self.nodes[node].runnable() {
                        self.submit(node)?;
                    }
                    let gap = self.rng.range(1, 2 * self.swarm.submit_gap_ms);
                    self.schedule(self.now.plus(gap), Event::Submit { node });
                }
            }
            Event::Client { node } => self.client_step(node)?,
            Event::Fault => {
                if self.phase == Phase::Faults {
                    self.inject_fault()?;
                    let gap = self.rng.range(1, 2 * self.swarm.fault_gap_ms);
                    self.schedule(self.now.plus(gap), Event::Fault);
                }
            }
            Event::Heal => {
                if self.options.trace && !self.blocked.is_empty() {
                    println!("{} FAULT partition healed", self.now);
                }
                self.blocked.clear();
            }
            Event::Restart { node } => {
                if self.nodes[node].core.is_none() {
                    self.restart(node);
                }
            }
            Event::Resume { node } => {
                if self.nodes[node]
                    .paused_until
                    .is_some_and(|until| until <= self.now)
                {
                    self.nodes[node].paused_until = None;
                    if self.options.trace {
                        println!("{} FAULT n{} resumes", self.now, self.nodes[node].id);
                    }
                }
            }
            Event::QuietStart => self.start_quiet_phase(),
            Event::ControllerStart { node } => {
                if self.nodes[node].controller.is_none() && self.nodes[node].core.is_some() {
                    self.start_controller(node)?;
                }
            }
            Event::ControllerWrite { node } => self.controller_write(node)?,
            Event::LrmDone {
                node,
                incarnation,
                op,
            } => self.lrm_done(node, incarnation, op)?,
            Event::MonitorCheck {
                node,
                incarnation,
                key,
            } => self.monitor_check(node, incarnation, &key)?,
            Event::FenceDone {
                node,
                client,
                request,
                target,
                ok,
            } => self.fence_done(node, client, request, &target, ok)?,
        }
        Ok(())
    }

    fn is_draining(&self) -> bool {
        matches!(self.phase, Phase::Draining { .. })
    }

    fn start_quiet_phase(&mut self) {
        if self.options.trace {
            println!("{} QUIET phase: all faults removed", self.now);
        }
        self.phase = Phase::Quiet;
        self.quiet_since = self.now;
        self.blocked.clear();
        self.swarm.loss = 0.0;
        self.swarm.duplication = 0.0;
        self.swarm.reorder_ms = 0;
        for node in 0..self.nodes.len() {
            if self.nodes[node].core.is_none() {
                self.restart(node);
            } else if self.controllers.is_some() && self.nodes[node].controller.is_none() {
                self.schedule(self.now, Event::ControllerStart { node });
            }
            self.nodes[node].paused_until = None;
        }
        // Packets a paused node had buffered were due when its pause would
        // have ended; the pause is over now, so they arrive now rather than
        // later as stale traffic in the quiet phase.
        let latest = self.now.plus(self.swarm.latency_ms + self.swarm.jitter_ms);
        let events: Vec<Scheduled> = std::mem::take(&mut self.queue).into_vec();
        for mut scheduled in events {
            if matches!(scheduled.event, Event::Packet { .. }) && scheduled.at > latest {
                scheduled.at = self.now;
            }
            self.queue.push(scheduled);
        }
    }

    fn inject_fault(&mut self) -> Result<(), Violation> {
        let mut kinds = Vec::new();
        if self.swarm.partitions {
            kinds.push(0);
        }
        if self.swarm.crashes {
            kinds.push(1);
        }
        if self.swarm.pauses {
            kinds.push(2);
        }
        if self.controllers.is_some() && self.options.faults.crash {
            kinds.push(3);
        }
        if kinds.is_empty() {
            return Ok(());
        }
        let count = self.nodes.len();
        let token_ms = self.config.token_ms;
        match self.rng.pick(&kinds) {
            0 => {
                self.blocked.clear();
                let one_way = self.swarm.asymmetric_partitions && self.rng.chance(0.5);
                let side: Vec<bool> = if self.rng.chance(0.3) {
                    let lonely = self.rng.range(0, count as u64 - 1) as usize;
                    (0..count).map(|i| i == lonely).collect()
                } else {
                    (0..count).map(|_| self.rng.chance(0.5)).collect()
                };
                for a in 0..count {
                    for b in 0..count {
                        if side[a] && !side[b] {
                            self.blocked.insert((a, b));
                            if !one_way {
                                self.blocked.insert((b, a));
                            }
                        }
                    }
                }
                if self.options.trace {
                    println!(
                        "{} FAULT partition {:?} {}",
                        self.now,
                        side,
                        if one_way { "one-way" } else { "symmetric" }
                    );
                }
                let duration = self.rng.range(token_ms / 2, token_ms * 8);
                self.schedule(self.now.plus(duration), Event::Heal);
            }
            1 => {
                let node = self.rng.range(0, count as u64 - 1) as usize;
                if self.controllers.is_some()
                    && self.nodes[node].controller.is_some()
                    && self.rng.chance(0.3)
                {
                    let downtime = self.rng.range(token_ms / 4, token_ms * 4);
                    self.crash_controller(node, downtime)?;
                } else if self.nodes[node].core.is_some() {
                    let clean = self.rng.chance(0.25);
                    if clean && self.nodes[node].paused_until.is_none() {
                        self.with_core(node, |core, _| core.leave())?;
                    }
                    self.stop(node, if clean { "leaves" } else { "crashes" });
                    let downtime = self.rng.range(token_ms / 4, token_ms * 6);
                    self.schedule(self.now.plus(downtime), Event::Restart { node });
                }
            }
            3 => self.break_a_resource()?,
            _ => {
                let node = self.rng.range(0, count as u64 - 1) as usize;
                if self.nodes[node].runnable() {
                    let duration = self.rng.range(token_ms / 2, token_ms * 3);
                    let until = self.now.plus(duration);
                    self.nodes[node].paused_until = Some(until);
                    if self.options.trace {
                        println!(
                            "{} FAULT n{} pauses for {duration} ms",
                            self.now, self.nodes[node].id
                        );
                    }
                    self.schedule(until, Event::Resume { node });
                }
            }
        }
        Ok(())
    }

    fn stop(&mut self, node: usize, how: &str) {
        let incarnation = self.nodes[node].incarnation();
        self.nodes[node].core = None;
        self.nodes[node].services = None;
        self.nodes[node].outgoing.clear();
        // Its processes die with it; a restart starts with none.
        self.nodes[node].clients.clear();
        self.nodes[node].controller = None;
        self.nodes[node].lrm = lrm::SimLrm::default();
        self.nodes[node].paused_until = None;
        if self.options.trace {
            println!("{} FAULT n{} {how}", self.now, incarnation.node);
        }
        self.observe_all(&Observation::Stopped { incarnation });
        let _ = self.liveness.observe(&Observation::Stopped { incarnation });
    }

    fn restart(&mut self, node: usize) {
        let slot = &mut self.nodes[node];
        slot.incarnation += 1;
        slot.counter = 0;
        slot.core = Some(Totem::new(
            self.config.clone(),
            slot.id,
            slot.persisted_ring_seq,
        ));
        slot.services = Some(Services::new(slot.id, &self.quorum_config));
        if self.options.trace {
            println!(
                "{} FAULT n{} restarts (persisted ring seq {})",
                self.now, slot.id, slot.persisted_ring_seq
            );
        }
        if self.controllers.is_some() {
            self.schedule(self.now, Event::ControllerStart { node });
        }
    }

    /// Submits one plain workload message, unless the node's queue is over
    /// its high water.
    fn submit(&mut self, node: usize) -> Result<(), Violation> {
        let slot = &self.nodes[node];
        if slot.core.is_none() || slot.outgoing.len() >= OUTGOING_HIGH_WATER {
            return Ok(());
        }
        let padding = vec![PADDING_BYTE; self.swarm.payload_padding];
        self.queue_payload(node, &padding)?;
        self.pump(node)
    }

    /// Queues a probe behind everything the node queued before, however
    /// long its queue: the run ends once every node delivered every probe.
    fn probe(&mut self, node: usize) -> Result<(), Violation> {
        if self.nodes[node].core.is_none() {
            return Ok(());
        }
        let padding = vec![PADDING_BYTE; self.swarm.payload_padding];
        // Queued while draining, so it counts as a probe.
        self.queue_payload(node, &padding)?;
        self.pump(node)
    }

    /// Queues `body` for the ring behind the node's earlier payloads, under
    /// a fresh message id the checkers follow. The caller pumps once it is
    /// done with its own outputs: pumping drains the core, and that must not
    /// interleave with outputs still being carried out.
    fn queue_payload(&mut self, node: usize, body: &[u8]) -> Result<MessageId, Violation> {
        let slot = &mut self.nodes[node];
        let message = MessageId {
            node: slot.id,
            incarnation: slot.incarnation,
            counter: slot.counter,
        };
        let mut payload = message.encode(0);
        payload.extend_from_slice(body);
        slot.outgoing.push_back(payload);
        slot.counter += 1;
        self.submitted += 1;
        let by = slot.incarnation();
        self.check(&Observation::Submitted { by, message })?;
        // A ring that re-forms while the probes drain makes the services
        // announce again; the run is not over until those arrive too.
        if self.is_draining() {
            self.liveness.add_probe(message);
            self.last_probe_at = self.now;
        }
        Ok(message)
    }

    /// Moves waiting payloads into the core while it holds fewer than
    /// ringd's target. Submitting may release a held token and so produce
    /// output.
    fn pump(&mut self, node: usize) -> Result<(), Violation> {
        let slot = &mut self.nodes[node];
        let Some(core) = slot.core.as_mut() else {
            return Ok(());
        };
        let mut moved = false;
        while core.submit_queue_len() < CORE_QUEUE_TARGET {
            let Some(payload) = slot.outgoing.pop_front() else {
                break;
            };
            if let Err(error) = core.submit(payload) {
                panic!("the core refused a payload below its queue target: {error}");
            }
            moved = true;
        }
        if moved { self.drain(node) } else { Ok(()) }
    }

    fn services_timer(&mut self, node: usize) -> Result<(), Violation> {
        let now = self.now;
        let outputs = match self.nodes[node].services.as_mut() {
            Some(services) => services.handle_timer(now),
            None => return Ok(()),
        };
        self.carry_out_services(node, outputs)?;
        self.pump(node)
    }

    /// What the end-of-run checks need: who survived, and what their quorum
    /// and group machines hold.
    fn end_of_run(&self) -> EndOfRun {
        let running = self.nodes.iter().filter(|n| n.core.is_some());
        EndOfRun {
            survivors: running.clone().map(SimNode::incarnation).collect(),
            quorate: running
                .clone()
                .filter_map(|n| Some((n.id, n.services.as_ref()?.is_quorate())))
                .collect(),
            group_tables: running
                .clone()
                .filter_map(|n| Some((n.id, n.services.as_ref()?.group_table())))
                .collect(),
            live_clients: running
                .clone()
                .flat_map(|n| n.clients.iter())
                .map(|c| (c.group.to_owned(), c.member))
                .chain(
                    running
                        .filter_map(|n| n.controller.as_ref())
                        .map(|c| (controllers::GROUP.to_owned(), c.member)),
                )
                .collect(),
            controllers: self.controller_ends(),
            world: self.world(),
            world_idle: self.world_idle(),
            wall_s: self.wall_now(),
        }
    }

    fn with_core(
        &mut self,
        node: usize,
        action: impl FnOnce(&mut Totem, Millis),
    ) -> Result<(), Violation> {
        let now = self.now;
        if let Some(core) = self.nodes[node].core.as_mut() {
            action(core, now);
        }
        self.drain(node)
    }

    /// Carries out a node's outputs in order and checks every observation.
    fn drain(&mut self, node: usize) -> Result<(), Violation> {
        loop {
            let Some(output) = self.nodes[node].core.as_mut().and_then(Totem::poll_output) else {
                return self.pump(node);
            };
            let at = self.nodes[node].incarnation();
            match output {
                Output::Send { to, packet } => self.route(node, &to, packet),
                Output::Deliver { sender, payload } => {
                    self.deliveries += 1;
                    let message = MessageId::decode(&payload);
                    if self.options.trace {
                        println!(
                            "{} n{} DELIVER {message:?} from n{sender}",
                            self.now, at.node
                        );
                    }
                    self.check(&Observation::Delivered {
                        at,
                        sender,
                        message,
                    })?;
                    // Behind the message id: a service payload, or the
                    // plain workload's padding, which no service claims.
                    let body = payload.get(MessageId::ENCODED_LEN..).unwrap_or_default();
                    if let Some(services) = self.nodes[node].services.as_mut()
                        && !body.is_empty()
                    {
                        let outputs = services.deliver(sender, body);
                        self.carry_out_services(node, outputs)?;
                    }
                }
                Output::ConfigChange {
                    kind,
                    ring_id,
                    members,
                    left,
                    joined,
                } => {
                    if self.options.trace {
                        println!(
                            "{} n{} CONFIG {kind:?} {ring_id} members {members:?} left {left:?} joined {joined:?}",
                            self.now, at.node
                        );
                    }
                    self.check(&Observation::Configuration {
                        at,
                        kind,
                        ring_id,
                        members: &members,
                    })?;
                    let now = self.now;
                    if let Some(services) = self.nodes[node].services.as_mut() {
                        let outputs = services.config_change(now, kind, ring_id, &members, &joined);
                        self.carry_out_services(node, outputs)?;
                    }
                }
                Output::PersistRingSeq(ring_seq) => {
                    self.nodes[node].persisted_ring_seq = ring_seq;
                    let id = self.nodes[node].id;
                    self.check(&Observation::Persisted { node: id, ring_seq })?;
                }
            }
        }
    }

    fn route(&mut self, from: usize, to: &Destination, packet: Vec<u8>) {
        let bytes: Rc<[u8]> = Rc::from(packet);
        match to {
            Destination::Node(id) => {
                if let Some(target) = self.nodes.iter().position(|n| n.id == *id) {
                    self.transmit(from, target, &bytes);
                }
            }
            Destination::Broadcast => {
                for target in 0..self.nodes.len() {
                    if target != from {
                        self.transmit(from, target, &bytes);
                    }
                }
            }
        }
    }

    fn transmit(&mut self, from: usize, to: usize, bytes: &Rc<[u8]>) {
        if self.blocked.contains(&(from, to)) || self.rng.chance(self.swarm.loss) {
            return;
        }
        let copies = if self.rng.chance(self.swarm.duplication) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let base_ms = self.link_latency_ms[from * self.nodes.len() + to];
            let mut delay = base_ms + self.rng.range(0, self.swarm.jitter_ms);
            if self.swarm.reorder_ms > 0 && self.rng.chance(0.1) {
                delay += self.rng.range(0, self.swarm.reorder_ms);
            }
            let event = Event::Packet {
                to,
                from: self.nodes[from].id,
                bytes: bytes.clone(),
            };
            self.schedule(self.now.plus(delay), event);
        }
    }

    fn check(&mut self, observation: &Observation<'_>) -> Result<(), Violation> {
        for index in 0..self.safety.len() {
            if let Err(detail) = self.safety[index].observe(observation) {
                let name = self.safety[index].name();
                return Err(self.violation(name, detail));
            }
        }
        let _ = self.liveness.observe(observation);
        Ok(())
    }

    fn observe_all(&mut self, observation: &Observation<'_>) {
        for invariant in &mut self.safety {
            let _ = invariant.observe(observation);
        }
    }

    fn violation(&self, invariant: &'static str, detail: String) -> Violation {
        Violation {
            seed: self.options.seed,
            nodes: self.nodes.len(),
            invariant,
            time: self.now,
            step: self.step,
            detail,
            faults: self.options.faults.describe(),
            controllers: self.options.controllers,
        }
    }
}

/// One-line description of a packet for traces.
fn describe(bytes: &[u8]) -> String {
    match codec::decode(bytes) {
        Ok(packet) => match packet.body {
            codec::Body::Token(t) => format!(
                "TOKEN {} tseq {} seq {} aru {} addr {:?} safe {} fcc {} backlog {} rtr {:?} retr {} inst {}",
                t.ring_id,
                t.token_seq,
                t.seq.0,
                t.aru.0,
                t.aru_addr,
                t.safe_aru.0,
                t.fcc,
                t.backlog,
                t.rtr_list,
                t.retrans_flg,
                t.install
            ),
            codec::Body::Mcast(m) => {
                format!("MCAST {} seq {} origin {}", m.ring_id, m.seq.0, m.origin)
            }
            codec::Body::MergeDetect { ring_id } => format!("MERGE_DETECT {ring_id}"),
            codec::Body::Join(j) => format!(
                "JOIN ring_seq {} leave {} proc {:?} failed {:?}",
                j.ring_seq, j.leave, j.proc_list, j.failed_list
            ),
            codec::Body::Commit(c) => format!(
                "COMMIT {} index {} addrs {:?}",
                c.ring_id, c.memb_index, c.addrs
            ),
            codec::Body::HoldCancel { ring_id } => format!("HOLD_CANCEL {ring_id}"),
        },
        Err(error) => format!("undecodable: {error}"),
    }
}
