//! The controller layer (`--controllers`): a `baton-controller` core on
//! every node, a member of the process group `baton-crmd` fed as baton-crmd
//! feeds it (its group events, its node's quorum, its timer, its node's
//! simulated lrmd and the simulated fencer, `resources.rs`), keeping its
//! configuration on the node's simulated disk across crashes. A seeded
//! workload writes configuration changes (each adds a monitored primitive)
//! and node attributes through random nodes.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use baton_cib::Cib;
use baton_cib::xml::Style;
use baton_controller::{
    Controller, Event as ControllerEvent, FenceEvent, GroupEvent, LeaveReason, Lifetime, LrmEvent,
    Member as CMember, Millis as CMillis, NodeId as CNodeId, Origin, Output, Persisted, Request,
    RequestId, Settings,
};
use baton_cpg::{ClientId, Event as CpgEvent, Member, Reason};

use super::lrm::Requester;
use super::resources::{ResourceFaults, add_primitive};
use super::{Event, Simulation, Violation};
use crate::invariants::{ControllerEnd, Observation};
use crate::rng::Rng;

/// The controllers' process group, as baton-crmd names it.
pub const GROUP: &str = "baton-crmd";
/// Controller clients are numbered apart from the workload's.
const CLIENT_BASE: u64 = 1 << 40;
/// Mixed into the seed for the controller workload's own stream.
const CONTROLLER_STREAM: u64 = 0x6372_6d64;

/// One node's controller process.
#[derive(Debug)]
pub struct SimController {
    pub core: Controller,
    pub client: ClientId,
    pub member: Member,
    /// What it delivered since its last join round decided, hashed, and
    /// how many events that is; `None` while a round is undecided.
    prefix: Option<(u64, u64)>,
    /// The CIB digest last taken and the prefix it was taken at.
    checked: Option<((u64, u64), String)>,
    /// Writes it sent and has not been answered for: the primitive id.
    pending: BTreeMap<u64, String>,
}

#[derive(Debug)]
pub struct ControllerWorkload {
    rng: Rng,
    gap_ms: u64,
    next_client: u64,
    next_request: u64,
    next_write: u64,
    /// The resources' seeded behaviour and whether fencing is enabled.
    pub resources: ResourceFaults,
}

impl ControllerWorkload {
    #[must_use]
    /// `faulty`: resources may break, hang and fail to stop, and fencing
    /// may fail.
    pub fn new(seed: u64, token_ms: u64, faulty: bool) -> ControllerWorkload {
        let mut rng = Rng::new(seed ^ CONTROLLER_STREAM);
        let gap_ms = token_ms * rng.range(1, 4);
        ControllerWorkload {
            rng,
            gap_ms,
            next_client: CLIENT_BASE,
            next_request: 0,
            next_write: 0,
            resources: ResourceFaults::new(seed, faulty),
        }
    }
}

fn member_of(m: Member) -> CMember {
    CMember {
        node: CNodeId(m.node.0),
        pid: m.pid,
    }
}

fn leave_reason(reason: Reason) -> LeaveReason {
    match reason {
        Reason::Leave => LeaveReason::Leave,
        Reason::NodeDown => LeaveReason::NodeDown,
        _ => LeaveReason::ProcessDown,
    }
}

fn convert(event: &CpgEvent) -> GroupEvent {
    match event {
        CpgEvent::View {
            members,
            joined,
            left,
            ..
        } => GroupEvent::View {
            members: members.iter().copied().map(member_of).collect(),
            joined: joined.iter().map(|(m, _)| member_of(*m)).collect(),
            left: left
                .iter()
                .map(|(m, r)| (member_of(*m), leave_reason(*r)))
                .collect(),
        },
        CpgEvent::Message {
            sender, payload, ..
        } => GroupEvent::Message {
            sender: member_of(*sender),
            payload: payload.clone(),
        },
        CpgEvent::Ring { members, .. } => GroupEvent::Ring {
            members: members.iter().map(|n| CNodeId(n.0)).collect(),
        },
    }
}

/// The simulated wall clock: a fixed date plus the run's time.
pub(super) fn wall_s(now: CMillis) -> i64 {
    const START_S: i64 = 1_796_280_150;
    START_S + i64::try_from(now.0 / 1_000).unwrap_or(0)
}

fn hash_of(previous: u64, event: &GroupEvent) -> u64 {
    let mut hasher = DefaultHasher::new();
    previous.hash(&mut hasher);
    event.hash(&mut hasher);
    hasher.finish()
}

const DIGEST_EVERY: u64 = 32;

fn digest(cib: &Cib) -> String {
    baton_cib::version::sha256_hex(cib.to_xml(Style::Compact).as_bytes())
}

impl Simulation {
    fn controllers_on(&self) -> bool {
        self.controllers.is_some()
    }

    /// Starts node `node`'s controller from its disk and joins it.
    pub(super) fn start_controller(&mut self, node: usize) -> Result<(), Violation> {
        let Some(workload) = self.controllers.as_mut() else {
            return Ok(());
        };
        workload.next_client += 1;
        let client = ClientId(workload.next_client);
        let nodelist = (1..=self.nodes.len() as u32).map(CNodeId).collect();
        let slot = &mut self.nodes[node];
        if slot.services.is_none() {
            return Ok(());
        }
        slot.next_pid += 1;
        let member = Member {
            node: slot.id,
            pid: slot.next_pid,
        };
        let persisted = slot.disk.as_ref().and_then(|(text, term)| {
            Some(Persisted {
                cib: Cib::parse(text).ok()?,
                term: *term,
            })
        });
        let settings = Settings {
            me: member_of(member),
            name: format!("n{}", slot.id.0),
            nodelist,
            startup_settle_ms: baton_controller::DEFAULT_STARTUP_SETTLE_MS,
            fence_race_delay_ms: None,
        };
        let slot = &mut self.nodes[node];
        slot.controller = Some(SimController {
            core: Controller::new(settings, persisted),
            client,
            member,
            prefix: None,
            checked: None,
            pending: BTreeMap::new(),
        });
        if self.options.trace {
            println!(
                "{} n{} CONTROLLER starts as pid {}",
                self.now, slot.id, member.pid
            );
        }
        // As crmd's quorum watch does, a new controller hears the current
        // quorum at once.
        let quorum = slot
            .services
            .as_ref()
            .map(|s| (s.is_quorate(), s.quorum_members()));
        if let (Some((quorate, members)), Some(controller)) = (quorum, slot.controller.as_mut()) {
            let members: Vec<CNodeId> = members.iter().map(|n| CNodeId(n.0)).collect();
            controller
                .core
                .handle_quorum(CMillis(self.now.0), quorate, &members);
        }
        let outputs = slot
            .services
            .as_mut()
            .map(|s| s.join(client, GROUP, member.pid))
            .unwrap_or_default();
        self.carry_out_services(node, outputs)
    }

    /// Kills node `node`'s controller process only; it starts again after
    /// `downtime_ms`.
    pub(super) fn crash_controller(
        &mut self,
        node: usize,
        downtime_ms: u64,
    ) -> Result<(), Violation> {
        let Some(controller) = self.nodes[node].controller.take() else {
            return Ok(());
        };
        if self.options.trace {
            println!(
                "{} FAULT n{} controller crashes",
                self.now, self.nodes[node].id
            );
        }
        self.check(&Observation::ClientGone {
            client: controller.client,
        })?;
        let outputs = self.nodes[node]
            .services
            .as_mut()
            .map(|s| s.leave(controller.client, Reason::ProcDown))
            .unwrap_or_default();
        self.carry_out_services(node, outputs)?;
        self.schedule(self.now.plus(downtime_ms), Event::ControllerStart { node });
        Ok(())
    }

    /// Whether `client` is node `node`'s controller.
    pub(super) fn is_controller(&self, node: usize, client: ClientId) -> bool {
        self.nodes[node]
            .controller
            .as_ref()
            .is_some_and(|c| c.client == client)
    }

    pub(super) fn controller_group_event(
        &mut self,
        node: usize,
        event: &CpgEvent,
    ) -> Result<(), Violation> {
        let now = CMillis(self.now.0);
        let event = convert(event);
        let node_id = self.nodes[node].id;
        let Some(controller) = self.nodes[node].controller.as_mut() else {
            return Ok(());
        };
        if self.options.trace
            && let GroupEvent::Message { sender, payload } = &event
        {
            let kind: String = payload
                .get(4..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| b.is_ascii_alphabetic())
                .map(|b| char::from(*b))
                .collect();
            let round = if controller.core.in_round() {
                " (in round)"
            } else {
                ""
            };
            let text = String::from_utf8_lossy(payload.get(2..).unwrap_or_default());
            let term = text
                .split("\"term\":")
                .nth(1)
                .map(|t| t.chars().take_while(|c| *c != '}').collect::<String>())
                .map(|t| format!(" saying term {t}"))
                .unwrap_or_default();
            let what = if kind == "OpResult" {
                let field = |name: &str| {
                    text.split(&format!("\"{name}\":"))
                        .nth(1)
                        .map(|v| v.split([',', '}']).next().unwrap_or_default().to_owned())
                        .unwrap_or_default()
                };
                format!(
                    " [{} {} {} rc {} status {} forget {}]",
                    field("resource"),
                    field("operation"),
                    field("interval_ms"),
                    field("rc"),
                    field("op_status"),
                    field("forget")
                )
            } else {
                String::new()
            };
            println!(
                "{} n{node_id} CONTROLLER gets {kind}{what} from {sender}{round}{term} (term {:?})",
                self.now,
                controller.core.term()
            );
        }
        let controller = self.nodes[node].controller.as_mut().expect("checked above");
        controller.core.handle_wall_clock(wall_s(now));
        controller.core.handle_group(now, event.clone());
        if let Some((hash, count)) = controller.prefix {
            controller.prefix = Some((hash_of(hash, &event), count + 1));
        }
        self.drain_controller(node, Some(&event))
    }

    pub(super) fn controller_quorum(
        &mut self,
        node: usize,
        quorate: bool,
        members: &[baton_totem::NodeId],
    ) -> Result<(), Violation> {
        let now = CMillis(self.now.0);
        let Some(controller) = self.nodes[node].controller.as_mut() else {
            return Ok(());
        };
        let members: Vec<CNodeId> = members.iter().map(|n| CNodeId(n.0)).collect();
        controller.core.handle_wall_clock(wall_s(now));
        controller.core.handle_quorum(now, quorate, &members);
        self.drain_controller(node, None)
    }

    pub(super) fn controller_timer(&mut self, node: usize) -> Result<(), Violation> {
        let now = CMillis(self.now.0);
        let Some(controller) = self.nodes[node].controller.as_mut() else {
            return Ok(());
        };
        if controller.core.next_deadline().is_some_and(|at| at <= now) {
            controller.core.handle_wall_clock(wall_s(now));
            controller.core.handle_timer(now);
            return self.drain_controller(node, None);
        }
        Ok(())
    }

    /// Node `node`'s lrmd answers its controller.
    pub(super) fn controller_lrm_event(
        &mut self,
        node: usize,
        event: LrmEvent,
    ) -> Result<(), Violation> {
        let now = CMillis(self.now.0);
        let Some(controller) = self.nodes[node].controller.as_mut() else {
            return Ok(());
        };
        controller.core.handle_wall_clock(wall_s(now));
        controller.core.handle_lrm(now, event);
        self.drain_controller(node, None)
    }

    /// The fencer answers the controller on node `node`.
    pub(super) fn controller_fence_event(
        &mut self,
        node: usize,
        event: FenceEvent,
    ) -> Result<(), Violation> {
        let now = CMillis(self.now.0);
        let Some(controller) = self.nodes[node].controller.as_mut() else {
            return Ok(());
        };
        controller.core.handle_wall_clock(wall_s(now));
        controller.core.handle_fence(now, event);
        self.drain_controller(node, None)
    }

    pub(super) fn controller_deadline(&self, node: usize) -> Option<u64> {
        self.nodes[node]
            .controller
            .as_ref()
            .and_then(|c| c.core.next_deadline())
            .map(|at| at.0)
    }

    /// Carries out the controller's outputs and shows the checkers its state.
    fn drain_controller(
        &mut self,
        node: usize,
        cause: Option<&GroupEvent>,
    ) -> Result<(), Violation> {
        let now = CMillis(self.now.0);
        let at = self.nodes[node].incarnation();
        loop {
            let slot = &mut self.nodes[node];
            let Some(controller) = slot.controller.as_mut() else {
                return Ok(());
            };
            let Some(output) = controller.core.poll_output() else {
                break;
            };
            match output {
                Output::GroupSend(payload) => {
                    let client = controller.client;
                    let outputs = slot
                        .services
                        .as_mut()
                        .map(|s| s.send(client, &payload))
                        .unwrap_or_default();
                    self.carry_out_services(node, outputs)?;
                }
                Output::PersistConfiguration { cib, term } => {
                    slot.disk = Some((cib, term));
                }
                Output::PersistTerm(term) => {
                    if let Some(disk) = slot.disk.as_mut() {
                        disk.1 = term;
                    }
                }
                Output::KeepDroppedConfiguration { cib, .. } => {
                    self.check(&Observation::ConfigurationKept { cib: &cib })?;
                }
                Output::QueryLrmHistory => {
                    let history = slot.lrm.history();
                    controller.core.handle_lrm(now, LrmEvent::History(history));
                }
                Output::LrmExec {
                    exec,
                    action,
                    record,
                } => self.lrm_exec(node, exec, action, record)?,
                Output::LrmStartRecurring { action, record } => {
                    self.lrm_begin(node, action, Some(record), Requester::Recurring)?;
                }
                Output::LrmCancel {
                    resource,
                    operation,
                    interval_ms,
                } => slot.lrm.cancel(&resource, &operation, interval_ms),
                Output::LrmForget { resource } => slot.lrm.forget(&resource),
                Output::Fence {
                    request,
                    target,
                    delay_ms,
                    ..
                } => self.fence_requested(node, request, target, delay_ms),
                Output::Exit { .. } => {}
                Output::Reply { request, result } => {
                    let Some(id) = controller.pending.remove(&request.0) else {
                        continue;
                    };
                    if self.options.trace {
                        println!("{} n{} REPLY {id} {result:?}", self.now, at.node);
                    }
                    if let Ok(written) = result {
                        self.check(&Observation::WriteAcknowledged {
                            id: &id,
                            without_quorum: written.without_quorum,
                        })?;
                    }
                }
                Output::Event(ControllerEvent::JoinRoundDecided { .. }) => {
                    let start = cause.map_or(0, |e| hash_of(0, e));
                    controller.prefix = Some((start, 0));
                }
                Output::Event(ControllerEvent::JoinRoundCompleted { .. }) => {
                    if self.options.trace {
                        let cib = controller.core.cib().to_xml(Style::Compact);
                        let key = controller.prefix.map_or(0, |p| p.0);
                        println!(
                            "{} n{} CONTROLLER round done ({key:x}) term {:?}, CIB {cib}",
                            self.now,
                            at.node,
                            controller.core.term()
                        );
                    }
                }
                Output::Event(ControllerEvent::JoinRoundStarted { .. }) => controller.prefix = None,
                Output::Event(event) => {
                    if self.options.trace {
                        println!("{} n{} CONTROLLER {event:?}", self.now, at.node);
                    }
                }
            }
        }
        let Some(controller) = self.nodes[node].controller.as_mut() else {
            return Ok(());
        };
        // Hashing a CIB with a long status after every delivered event was
        // most of a run's time. Every controller with the same prefix
        // samples at the same counts, and a divergence stays until the next
        // join round, so every 32nd event still catches it.
        let prefix = controller
            .prefix
            .filter(|p| p.1 % DIGEST_EVERY == 0 && !controller.core.in_round());
        if let Some(prefix) = prefix
            && controller.checked.as_ref().map(|c| c.0) != Some(prefix)
        {
            controller.checked = Some((prefix, digest(controller.core.cib())));
        }
        let Some(controller) = self.nodes[node].controller.as_ref() else {
            return Ok(());
        };
        let core = &controller.core;
        let view: Vec<Member> = core
            .view()
            .iter()
            .map(|m| Member {
                node: baton_totem::NodeId(m.node.0),
                pid: m.pid,
            })
            .collect();
        let cib_digest = prefix.and(controller.checked.as_ref().map(|c| c.1.clone()));
        self.check(&Observation::Controller {
            at,
            member: controller.member,
            view: &view,
            dc: core.dc().map(|d| d.0),
            prefix,
            cib_digest: cib_digest.as_deref(),
        })
    }

    /// One workload write through node `node`'s controller, then the next
    /// one is scheduled.
    pub(super) fn controller_write(&mut self, node: usize) -> Result<(), Violation> {
        if self.is_draining() {
            return Ok(());
        }
        let now = CMillis(self.now.0);
        let Some(workload) = self.controllers.as_mut() else {
            return Ok(());
        };
        let gap = workload.rng.range(1, 2 * workload.gap_ms);
        workload.next_request += 1;
        workload.next_write += 1;
        let (request, number) = (workload.next_request, workload.next_write);
        let attribute = workload.rng.chance(0.2);
        let target = workload.rng.range(1, self.nodes.len() as u64);
        self.schedule(self.now.plus(gap), Event::ControllerWrite { node });
        let runnable = self.nodes[node].runnable();
        let node_id = self.nodes[node].id;
        let trace = self.options.trace;
        let at = self.now;
        let Some(controller) = self.nodes[node].controller.as_mut() else {
            return Ok(());
        };
        if !runnable || !controller.core.is_joined() {
            return Ok(());
        }
        let origin = Origin {
            client: "baton-sim".into(),
            user: "root".into(),
            wall_s: i64::try_from(now.0 / 1000).unwrap_or(0),
        };
        let id = format!("w{number}");
        let body = if attribute {
            Request::SetNodeAttribute {
                node: format!("n{target}"),
                name: id.clone(),
                value: Some("1".into()),
                lifetime: Lifetime::Forever,
                origin,
            }
        } else {
            let mut cib = controller.core.cib().clone();
            if let Some(workload) = self.controllers.as_ref() {
                workload.resources.configure(&mut cib);
            }
            add_primitive(
                &mut cib,
                &id,
                &[
                    ("class", "ocf"),
                    ("provider", "heartbeat"),
                    ("type", "Dummy"),
                ],
            );
            Request::ReplaceConfiguration {
                cib: cib.to_xml(Style::Compact),
                base: Some(controller.core.base()),
                origin,
            }
        };
        if trace {
            println!("{at} n{node_id} WRITE {id}");
        }
        controller.pending.insert(request, id);
        controller.core.handle_wall_clock(wall_s(now));
        controller
            .core
            .handle_request(now, RequestId(request), body);
        self.drain_controller(node, None)
    }

    /// What the end-of-run checks need of every live controller.
    pub(super) fn controller_ends(&self) -> Vec<ControllerEnd> {
        self.nodes
            .iter()
            .filter(|n| n.core.is_some())
            .filter_map(|n| {
                let c = n.controller.as_ref()?;
                Some(ControllerEnd {
                    node: n.id,
                    member: c.member,
                    joined: c.core.is_joined(),
                    settled: !c.core.in_round() && c.core.status_complete(),
                    view: c.core.view().len(),
                    dc: c.core.dc().map(|d| d.0),
                    transition_idle: c.core.transition_idle(),
                    cib: c.core.cib().to_xml(Style::Compact),
                })
            })
            .collect()
    }

    /// Every live controller is joined with every node, out of any round,
    /// and has its status: the cluster is quiet.
    pub(super) fn controllers_settled(&self) -> bool {
        if !self.controllers_on() {
            return true;
        }
        let nodes = self.nodes.len();
        self.controller_ends()
            .iter()
            .all(|c| c.joined && c.settled && c.view == nodes)
    }
}
