//! A model group for controller tests: nodes in partitions (each partition
//! one ring), every partition delivering its members' messages in one order,
//! and views and ring changes at the same point for all of a partition's
//! members, as ringd's process groups deliver them.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use baton_cib::Cib;
use baton_cib::xml::Style;
use baton_controller::{
    Controller, Event, FenceEvent, GroupEvent, LeaveReason, LrmEvent, Member, Millis, NodeId,
    OpRecord, Origin, Output, Persisted, Request, RequestError, RequestId, Settings, Term, Written,
};

pub mod world;
use world::World;

/// The wall clock when a test cluster starts, seconds since the epoch.
const WALL_START_S: i64 = 1_796_280_150;
/// The two-node tie-break's wait in a `two_node` model cluster.
pub const FENCE_RACE_DELAY_MS: u64 = 6_000;

pub struct Node {
    pub controller: Controller,
    pub replies: BTreeMap<u64, Result<Written, RequestError>>,
    pub events: Vec<Event>,
    /// Why the controller asked to exit, if it did.
    pub exit: Option<String>,
    outbox: VecDeque<Vec<u8>>,
}

pub struct Cluster {
    pub nodes: BTreeMap<u32, Node>,
    /// What each node persisted (configuration, term), kept
    /// across stops.
    pub disks: BTreeMap<u32, (String, Term)>,
    /// Configurations each node kept after losing a join round.
    pub dropped: BTreeMap<u32, Vec<String>>,
    /// The operation history each node's lrmd answers with.
    pub histories: BTreeMap<u32, Vec<OpRecord>>,
    partitions: Vec<Vec<u32>>,
    nodelist: Vec<NodeId>,
    pub now: Millis,
    /// The resources as they run on each node, driven by the controllers'
    /// lrmd requests.
    pub world: World,
    next_pid: u32,
    next_request: u64,
    /// votequorum's two_node: a lone node of two stays quorate, and the
    /// controllers know the two-node tie-break.
    pub two_node: bool,
    /// Fencing requests that wait for their delay: (when, requester,
    /// request, target).
    delayed_fences: Vec<(Millis, u32, u64, String)>,
    /// Every fencing request: (requester, target, delay).
    pub fence_requests: Vec<(u32, String, u64)>,
}

pub fn origin() -> Origin {
    Origin {
        client: "test".into(),
        user: "root".into(),
        wall_s: 1_796_280_150,
    }
}

impl Cluster {
    /// `size` nodes in the nodelist, all in one partition, none running.
    pub fn new(size: u32) -> Cluster {
        Cluster {
            nodes: BTreeMap::new(),
            disks: BTreeMap::new(),
            dropped: BTreeMap::new(),
            histories: BTreeMap::new(),
            partitions: vec![(1..=size).collect()],
            nodelist: (1..=size).map(NodeId).collect(),
            now: Millis(1_000),
            world: World::default(),
            next_pid: 100,
            next_request: 0,
            two_node: false,
            delayed_fences: Vec::new(),
            fence_requests: Vec::new(),
        }
    }

    fn wall_s(&self) -> i64 {
        WALL_START_S + i64::try_from(self.now.0 / 1_000).unwrap_or(0)
    }

    /// A started cluster of `size` nodes that agreed on everything.
    pub fn started(size: u32) -> Cluster {
        let mut cluster = Cluster::new(size);
        for n in 1..=size {
            cluster.start(n);
        }
        cluster.settle();
        cluster
    }

    fn partition_of(&self, node: u32) -> Vec<u32> {
        self.partitions
            .iter()
            .find(|p| p.contains(&node))
            .cloned()
            .unwrap_or_default()
    }

    /// Running controllers in `node`'s partition.
    fn peers(&self, node: u32) -> Vec<u32> {
        self.partition_of(node)
            .into_iter()
            .filter(|n| self.nodes.contains_key(n))
            .collect()
    }

    pub fn member(&self, n: u32) -> Member {
        self.nodes[&n].controller.me()
    }

    fn members(&self, nodes: &[u32]) -> Vec<Member> {
        nodes.iter().map(|n| self.member(*n)).collect()
    }

    fn deliver(&mut self, n: u32, event: GroupEvent) {
        let (now, wall_s) = (self.now, self.wall_s());
        if let Some(node) = self.nodes.get_mut(&n) {
            node.controller.handle_wall_clock(wall_s);
            node.controller.handle_group(now, event);
        }
    }

    /// Starts node `n`'s controller from what it persisted and joins it.
    pub fn start(&mut self, n: u32) {
        let persisted = self.disks.get(&n).and_then(|(text, term)| {
            Some(Persisted {
                cib: Cib::parse(text).ok()?,
                term: *term,
            })
        });
        self.next_pid += 1;
        let settings = Settings {
            me: Member {
                node: NodeId(n),
                pid: self.next_pid,
            },
            name: format!("n{n}"),
            nodelist: self.nodelist.clone(),
            startup_settle_ms: 2_000,
            fence_race_delay_ms: self.two_node.then_some(FENCE_RACE_DELAY_MS),
        };
        self.nodes.insert(
            n,
            Node {
                controller: Controller::new(settings, persisted),
                replies: BTreeMap::new(),
                events: Vec::new(),
                exit: None,
                outbox: VecDeque::new(),
            },
        );
        let peers = self.peers(n);
        let me = self.member(n);
        let members = self.members(&peers);
        self.update_quorum(&peers);
        // As process groups do: the joiner hears the ring it joins first.
        let ring: Vec<NodeId> = self.partition_of(n).into_iter().map(NodeId).collect();
        self.deliver(n, GroupEvent::Ring { members: ring });
        for p in peers {
            self.deliver(
                p,
                GroupEvent::View {
                    members: members.clone(),
                    joined: vec![me],
                    left: Vec::new(),
                },
            );
        }
    }

    /// Ends node `n`'s controller; the others see it leave for `reason`.
    pub fn stop(&mut self, n: u32, reason: LeaveReason) {
        let gone = self.member(n);
        self.nodes.remove(&n);
        let peers = self.peers(n);
        let members = self.members(&peers);
        for p in peers {
            self.deliver(
                p,
                GroupEvent::View {
                    members: members.clone(),
                    joined: Vec::new(),
                    left: vec![(gone, reason)],
                },
            );
        }
    }

    /// Node `n` crashes: it leaves the ring, its controller and resources
    /// are gone.
    pub fn crash(&mut self, n: u32) {
        self.power_down(n);
        self.settle();
    }

    /// Node `n` goes away at once, as a crash or a fencing does.
    fn power_down(&mut self, n: u32) {
        let mut partitions: Vec<Vec<u32>> = self
            .partitions
            .iter()
            .map(|p| p.iter().copied().filter(|m| *m != n).collect())
            .collect();
        partitions.push(vec![n]);
        self.repartition(partitions);
        self.nodes.remove(&n);
        self.world.power_off(n);
    }

    /// Cuts or joins the network into `partitions`: every node sees the
    /// nodes it lost leave (node down), the new ring, then the controllers it
    /// gained join (node up).
    pub fn repartition(&mut self, partitions: Vec<Vec<u32>>) {
        let before: BTreeMap<u32, Vec<u32>> =
            self.nodes.keys().map(|&n| (n, self.peers(n))).collect();
        self.partitions = partitions;
        let running: Vec<u32> = self.nodes.keys().copied().collect();
        for &n in &running {
            let old: BTreeSet<u32> = before[&n].iter().copied().collect();
            let new: BTreeSet<u32> = self.peers(n).into_iter().collect();
            let kept: Vec<u32> = old.intersection(&new).copied().collect();
            let lost: Vec<(Member, LeaveReason)> = old
                .difference(&new)
                .map(|&p| (self.member(p), LeaveReason::NodeDown))
                .collect();
            let gained: Vec<Member> = new.difference(&old).map(|&p| self.member(p)).collect();
            if !lost.is_empty() {
                let members = self.members(&kept);
                self.deliver(
                    n,
                    GroupEvent::View {
                        members,
                        joined: Vec::new(),
                        left: lost,
                    },
                );
            }
            let ring = self.partition_of(n).into_iter().map(NodeId).collect();
            self.deliver(n, GroupEvent::Ring { members: ring });
            if !gained.is_empty() {
                let members = self.members(&new.iter().copied().collect::<Vec<_>>());
                self.deliver(
                    n,
                    GroupEvent::View {
                        members,
                        joined: gained,
                        left: Vec::new(),
                    },
                );
            }
        }
        self.update_quorum(&running);
    }

    /// A node is quorate while its partition holds a majority of the nodelist.
    fn update_quorum(&mut self, nodes: &[u32]) {
        let size = self.nodelist.len();
        let now = self.now;
        for &n in nodes {
            let partition = self.partition_of(n);
            let quorate = partition.len() * 2 > size || (self.two_node && size == 2);
            let members: Vec<NodeId> = partition.iter().map(|n| NodeId(*n)).collect();
            if let Some(node) = self.nodes.get_mut(&n) {
                node.controller.handle_quorum(now, quorate, &members);
            }
        }
    }

    /// Carries out every output and delivers every message until nothing
    /// is left to do; sends are delivered one per node in turn.
    pub fn settle(&mut self) {
        loop {
            self.drain_outputs();
            let senders: Vec<u32> = self
                .nodes
                .iter()
                .filter(|(_, node)| !node.outbox.is_empty())
                .map(|(n, _)| *n)
                .collect();
            if senders.is_empty() {
                return;
            }
            for sender in senders {
                self.deliver_next(sender);
            }
        }
    }

    /// Delivers one message (the first waiting, by node) and carries out
    /// what it causes.
    pub fn step(&mut self) {
        self.drain_outputs();
        let Some(sender) = self
            .nodes
            .iter()
            .find(|(_, node)| !node.outbox.is_empty())
            .map(|(n, _)| *n)
        else {
            return;
        };
        self.deliver_next(sender);
    }

    fn deliver_next(&mut self, sender: u32) {
        let Some(node) = self.nodes.get_mut(&sender) else {
            return;
        };
        let Some(payload) = node.outbox.pop_front() else {
            return;
        };
        let from = node.controller.me();
        for p in self.peers(sender) {
            self.deliver(
                p,
                GroupEvent::Message {
                    sender: from,
                    payload: payload.clone(),
                },
            );
        }
        self.drain_outputs();
    }

    fn drain_outputs(&mut self) {
        self.drain_controller_outputs();
        while self.carry_out_due_fencing() {
            self.drain_controller_outputs();
        }
    }

    /// The model fencer carries out a request whose delay is over, if its
    /// requester still runs: the target powers off (its controller too),
    /// then the requester hears the outcome.
    fn carry_out_due_fencing(&mut self) -> bool {
        let Some(index) = self
            .delayed_fences
            .iter()
            .position(|(due, ..)| *due <= self.now)
        else {
            return false;
        };
        let (_, requester, request, target) = self.delayed_fences.remove(index);
        if !self.nodes.contains_key(&requester) {
            return true;
        }
        let result = if self.world.fence(&target) {
            Ok(())
        } else {
            Err(format!("the model fencer could not fence {target}"))
        };
        if result.is_ok()
            && let Some(victim) = target.strip_prefix('n').and_then(|n| n.parse::<u32>().ok())
            && self.nodes.contains_key(&victim)
        {
            self.power_down(victim);
        }
        if let Some(node) = self.nodes.get_mut(&requester) {
            node.controller
                .handle_fence(self.now, FenceEvent::Done { request, result });
        }
        true
    }

    fn drain_controller_outputs(&mut self) {
        let now = self.now;
        let wall_s = self.wall_s();
        let ids: Vec<u32> = self.nodes.keys().copied().collect();
        for n in ids {
            while let Some(node) = self.nodes.get_mut(&n) {
                let Some(output) = node.controller.poll_output() else {
                    break;
                };
                node.controller.handle_wall_clock(wall_s);
                match output {
                    Output::GroupSend(payload) => node.outbox.push_back(payload),
                    Output::PersistConfiguration { cib, term } => {
                        self.disks.insert(n, (cib, term));
                    }
                    Output::PersistTerm(term) => {
                        if let Some(disk) = self.disks.get_mut(&n) {
                            disk.1 = term;
                        }
                    }
                    Output::KeepDroppedConfiguration { cib, .. } => {
                        self.dropped.entry(n).or_default().push(cib);
                    }
                    Output::QueryLrmHistory => {
                        let history = self
                            .histories
                            .get(&n)
                            .cloned()
                            .unwrap_or_else(|| self.world.history(n));
                        node.controller.handle_lrm(now, LrmEvent::History(history));
                    }
                    Output::Reply { request, result } => {
                        node.replies.insert(request.0, result);
                    }
                    Output::Event(event) => node.events.push(event),
                    Output::Exit { reason } => node.exit = Some(reason),
                    Output::Fence {
                        request,
                        target,
                        delay_ms,
                        ..
                    } => {
                        self.fence_requests.push((n, target.clone(), delay_ms));
                        self.delayed_fences
                            .push((now.plus(delay_ms), n, request, target));
                    }
                    lrm @ (Output::LrmExec { .. }
                    | Output::LrmStartRecurring { .. }
                    | Output::LrmCancel { .. }
                    | Output::LrmForget { .. }) => {
                        for event in self.world.carry_out(n, lrm, wall_s) {
                            node.controller.handle_lrm(now, event);
                        }
                    }
                }
            }
        }
    }

    /// Lets `ms` pass: timers fire, then everything settles.
    pub fn advance(&mut self, ms: u64) {
        self.now = self.now.plus(ms);
        let (now, wall_s) = (self.now, self.wall_s());
        for node in self.nodes.values_mut() {
            node.controller.handle_wall_clock(wall_s);
            node.controller.handle_timer(now);
        }
        self.settle();
    }

    /// Node `n` is asked to shut down (SIGTERM).
    pub fn shut_down(&mut self, n: u32) {
        let (now, wall_s) = (self.now, self.wall_s());
        if let Some(node) = self.nodes.get_mut(&n) {
            node.controller.handle_wall_clock(wall_s);
            node.controller.handle_shutdown(now);
        }
    }

    /// lrmd on `n` restarts, and crmd notices.
    pub fn restart_lrmd(&mut self, n: u32) {
        self.world.restart_lrmd(n);
        let (now, wall_s) = (self.now, self.wall_s());
        if let Some(node) = self.nodes.get_mut(&n) {
            node.controller.handle_wall_clock(wall_s);
            node.controller.handle_lrm(now, LrmEvent::Restarted);
        }
        self.settle();
    }

    /// The starts held on `n` end well (see [`world::Agent::StartAnswersLater`]).
    pub fn answer_held_starts(&mut self, n: u32) {
        let wall_s = self.wall_s();
        let events = self.world.answer_held_starts(n, wall_s);
        self.deliver_lrm(n, events);
    }

    /// A recurring monitor of `resource` on `n` finds it stopped (someone
    /// removed it behind the cluster's back).
    pub fn break_resource(&mut self, n: u32, resource: &str) {
        let wall_s = self.wall_s();
        let events = self.world.break_resource(n, resource, wall_s);
        self.deliver_lrm(n, events);
    }

    fn deliver_lrm(&mut self, n: u32, events: Vec<LrmEvent>) {
        let (now, wall_s) = (self.now, self.wall_s());
        if let Some(node) = self.nodes.get_mut(&n) {
            for event in events {
                node.controller.handle_wall_clock(wall_s);
                node.controller.handle_lrm(now, event);
            }
        }
        self.settle();
    }

    /// Sends `request` through node `n`; returns its id (the reply comes
    /// with [`Cluster::settle`]).
    pub fn request(&mut self, n: u32, request: Request) -> u64 {
        self.next_request += 1;
        let id = self.next_request;
        let now = self.now;
        if let Some(node) = self.nodes.get_mut(&n) {
            node.controller.handle_request(now, RequestId(id), request);
        }
        id
    }

    pub fn reply(&self, n: u32, id: u64) -> Option<&Result<Written, RequestError>> {
        self.nodes[&n].replies.get(&id)
    }

    pub fn cib(&self, n: u32) -> &Cib {
        self.nodes[&n].controller.cib()
    }

    pub fn cib_text(&self, n: u32) -> String {
        self.cib(n).to_xml(Style::Compact)
    }

    pub fn dc(&self, n: u32) -> Option<u32> {
        self.nodes[&n].controller.dc().map(|d| d.0)
    }

    /// The configuration of `n` with `text` (crmsh-free: raw XML elements)
    /// appended to its resources section, as a whole CIB to write.
    pub fn with_resource(&self, n: u32, primitive_id: &str) -> String {
        let mut cib = self.cib(n).clone();
        let resources = cib.ensure_section("resources");
        cib.document_mut().append_new(
            resources,
            "primitive",
            &[
                ("id", primitive_id),
                ("class", "ocf"),
                ("provider", "heartbeat"),
                ("type", "Dummy"),
            ],
        );
        cib.to_xml(Style::Compact)
    }

    /// Changes the configuration through node `n` with `edit` and waits
    /// until everything it causes is done.
    pub fn configure(&mut self, n: u32, edit: impl FnOnce(&mut Cib)) {
        let mut cib = self.cib(n).clone();
        edit(&mut cib);
        let base = Some(self.nodes[&n].controller.base());
        let id = self.request(
            n,
            Request::ReplaceConfiguration {
                cib: cib.to_xml(Style::Compact),
                base,
                origin: origin(),
            },
        );
        self.settle();
        assert!(
            self.reply(n, id).is_some_and(Result::is_ok),
            "the configuration write failed: {:?}",
            self.reply(n, id)
        );
    }

    /// Every event node `n`'s controller reported.
    pub fn events(&self, n: u32) -> &[Event] {
        &self.nodes[&n].events
    }

    /// Whether every running node's CIB mentions `id`.
    pub fn everyone_has(&self, id: &str) -> bool {
        self.nodes
            .keys()
            .all(|n| self.cib_text(*n).contains(&format!("id=\"{id}\"")))
    }
}

/// Adds an `ocf:heartbeat:<agent>` primitive with a recurring monitor.
pub fn primitive(cib: &mut Cib, id: &str, agent: &str, monitor: &str) {
    let resources = cib.ensure_section("resources");
    let doc = cib.document_mut();
    let primitive = doc.append_new(
        resources,
        "primitive",
        &[
            ("id", id),
            ("class", "ocf"),
            ("provider", "heartbeat"),
            ("type", agent),
        ],
    );
    let operations = doc.append_new(primitive, "operations", &[]);
    let op_id = format!("{id}-monitor-{monitor}");
    doc.append_new(
        operations,
        "op",
        &[("id", &op_id), ("name", "monitor"), ("interval", monitor)],
    );
}

/// Sets a meta attribute of resource `id` (added by [`primitive`]).
pub fn meta(cib: &mut Cib, id: &str, name: &str, value: &str) {
    let doc = cib.document_mut();
    let Some(primitive) = doc
        .root_ref()
        .descendants()
        .find(|e| e.name() == "primitive" && e.attr("id") == Some(id))
        .map(|e| e.id())
    else {
        panic!("no primitive {id}");
    };
    let set_id = format!("{id}-meta_attributes");
    let existing = doc
        .get(primitive)
        .first_child("meta_attributes")
        .map(|set| set.id());
    let set = existing
        .unwrap_or_else(|| doc.append_new(primitive, "meta_attributes", &[("id", &set_id)]));
    let pair_id = format!("{id}-meta_attributes-{name}");
    doc.append_new(
        set,
        "nvpair",
        &[("id", &pair_id), ("name", name), ("value", value)],
    );
}

/// A location preference of `rsc` for node `node`.
pub fn prefer(cib: &mut Cib, rsc: &str, node: &str, score: &str) {
    let constraints = cib.ensure_section("constraints");
    let id = format!("loc-{rsc}-{node}");
    cib.document_mut().append_new(
        constraints,
        "rsc_location",
        &[("id", &id), ("rsc", rsc), ("node", node), ("score", score)],
    );
}

/// A fencing device (`stonith:fence_dummy`), so resources may start with
/// fencing enabled.
pub fn fencing_device(cib: &mut Cib) {
    let resources = cib.ensure_section("resources");
    cib.document_mut().append_new(
        resources,
        "primitive",
        &[
            ("id", "fencing"),
            ("class", "stonith"),
            ("type", "fence_dummy"),
        ],
    );
}
