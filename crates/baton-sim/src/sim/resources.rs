//! The resources' world under the controllers: each node's simulated lrmd
//! (`lrm.rs`) runs what its controller asks, taking seeded time; during the
//! fault phase actions now and then hang past their timeout or stops fail,
//! and running resources break behind the cluster's back. The simulated
//! fencer kills the node it is asked to fence, then answers. What is
//! active where is the ground truth the resource invariants judge.

use std::collections::{BTreeMap, BTreeSet};

use baton_cib::Cib;
use baton_controller::{ExecId, FenceEvent, LrmAction, LrmEvent, LrmRecord, Millis as CMillis};

use super::lrm::{Outcome, RecurringKey, Requester, Waiting};
use super::{Event, Phase, Simulation, Violation};
use crate::invariants::{Observation, resources_converged};
use crate::rng::Rng;

/// Mixed into the seed for the resource faults' own stream.
const RESOURCE_STREAM: u64 = 0x6c72_6d64;
/// The fencing device the configuration holds when fencing is enabled.
pub const FENCE_DEVICE: &str = "fence-sim";
/// Virtual time the resources get to settle once the controllers have:
/// an action that hangs (2 s) just as the faults stop, the DC's own
/// deadline for it (plus cluster-delay, 3 s), failed fencing retried,
/// stops and starts after each replan (1 s backoff), with room to spare.
const RESOURCES_SETTLE_MS: u64 = 30_000;
/// How often the draining phase judges whether the resources converged
/// (it runs the scheduler).
const JUDGE_EVERY_MS: u64 = 50;

/// What a seed decides about its resources, and their random stream.
#[derive(Debug)]
pub struct ResourceFaults {
    rng: Rng,
    /// `stonith-enabled`, with a fencing device configured.
    pub fencing: bool,
    op_ms_max: u64,
    hang_chance: f64,
    stop_failure_chance: f64,
    fence_failure_chance: f64,
    fence_ms_max: u64,
}

impl ResourceFaults {
    #[must_use]
    pub fn new(seed: u64, faulty: bool) -> ResourceFaults {
        let mut rng = Rng::new(seed ^ RESOURCE_STREAM);
        let fencing = rng.chance(0.5);
        let op_ms_max = rng.pick(&[1, 20, 200, 800]);
        let fence_ms_max = rng.pick(&[10, 300, 1_500]);
        let mut chance = |choices: &[f64]| if faulty { rng.pick(choices) } else { 0.0 };
        let hang_chance = chance(&[0.0, 0.02, 0.1]);
        let stop_failure_chance = chance(&[0.0, 0.02, 0.1]);
        let fence_failure_chance = chance(&[0.0, 0.1, 0.3]);
        ResourceFaults {
            fencing,
            op_ms_max,
            hang_chance,
            stop_failure_chance,
            fence_failure_chance,
            fence_ms_max,
            rng,
        }
    }

    /// The cluster options every configuration write carries: fencing on
    /// or off (with a device when on), and short timeouts so a hang costs
    /// seconds of virtual time, not minutes.
    pub fn configure(&self, cib: &mut Cib) {
        cib.set_property(
            "stonith-enabled",
            if self.fencing { "true" } else { "false" },
        );
        cib.set_property("cluster-delay", "3s");
        cib.set_property("stonith-timeout", "10s");
        if self.fencing && !cib.resources().any(|r| r.id() == FENCE_DEVICE) {
            add_primitive(
                cib,
                FENCE_DEVICE,
                &[("class", "stonith"), ("type", "fence_sim")],
            );
        }
    }
}

/// Appends a primitive with a 1 s monitor and 2 s timeouts.
pub fn add_primitive(cib: &mut Cib, id: &str, agent: &[(&str, &str)]) {
    let resources = cib.ensure_section("resources");
    let doc = cib.document_mut();
    let mut attributes = vec![("id", id)];
    attributes.extend_from_slice(agent);
    let primitive = doc.append_new(resources, "primitive", &attributes);
    let operations = doc.append_new(primitive, "operations", &[]);
    for (name, interval) in [("monitor", "1s"), ("start", "0"), ("stop", "0")] {
        let op_id = format!("{id}-{name}-{interval}");
        doc.append_new(
            operations,
            "op",
            &[
                ("id", &op_id),
                ("name", name),
                ("interval", interval),
                ("timeout", "2s"),
            ],
        );
    }
}

impl Simulation {
    fn faults(&mut self) -> Option<&mut ResourceFaults> {
        self.controllers.as_mut().map(|c| &mut c.resources)
    }

    /// Starts a one-shot action of node `node`'s controller on its lrmd.
    pub(super) fn lrm_exec(
        &mut self,
        node: usize,
        exec: ExecId,
        action: LrmAction,
        record: Option<LrmRecord>,
    ) -> Result<(), Violation> {
        let Some(client) = self.nodes[node].controller.as_ref().map(|c| c.client) else {
            return Ok(());
        };
        self.lrm_begin(node, action, record, Requester::Exec { exec, client })
    }

    /// Runs an action now, or after the ones already on its resource, as
    /// baton-lrmd does.
    pub(super) fn lrm_begin(
        &mut self,
        node: usize,
        action: LrmAction,
        record: Option<LrmRecord>,
        requester: Requester,
    ) -> Result<(), Violation> {
        if self.faults().is_none() {
            return Ok(());
        }
        if self.nodes[node].lrm.busy(&action.resource) {
            if self.options.trace {
                println!(
                    "{} n{} LRM queues {} {} behind the running action",
                    self.now, self.nodes[node].id, action.resource, action.operation
                );
            }
            self.nodes[node].lrm.wait(Waiting {
                action,
                record,
                requester,
            });
            return Ok(());
        }
        self.lrm_run(node, action, record, requester)
    }

    /// Runs an action whose resource is free, with the outcome the faults
    /// draw.
    fn lrm_run(
        &mut self,
        node: usize,
        action: LrmAction,
        record: Option<LrmRecord>,
        requester: Requester,
    ) -> Result<(), Violation> {
        let in_faults = self.phase == Phase::Faults;
        let Some(faults) = self.faults() else {
            return Ok(());
        };
        let operation = action.operation.as_str();
        let may_hang = in_faults && matches!(operation, "start" | "stop" | "monitor");
        let outcome = if may_hang && faults.rng.chance(faults.hang_chance) {
            Outcome::Hangs
        } else if in_faults && operation == "stop" && faults.rng.chance(faults.stop_failure_chance)
        {
            Outcome::Fails
        } else {
            Outcome::Succeeds
        };
        let duration_ms = match outcome {
            Outcome::Hangs => action.timeout_ms,
            _ => faults.rng.range(1, faults.op_ms_max),
        };
        let starts = matches!(operation, "start" | "migrate_from");
        let operation = operation.to_owned();
        let resource = action.resource.clone();
        let slot = &mut self.nodes[node];
        let was_active = slot.lrm.is_active(&resource);
        let op = slot.lrm.begin(action, record, requester, outcome);
        let incarnation = (slot.incarnation, slot.lrm_resets);
        if self.options.trace {
            println!(
                "{} n{} LRM begins op {op} ({resource} {operation}) {outcome:?} for {duration_ms} ms",
                self.now, slot.id
            );
        }
        self.schedule(
            self.now.plus(duration_ms),
            Event::LrmDone {
                node,
                incarnation,
                op,
            },
        );
        if starts && !was_active {
            let id = self.nodes[node].id;
            self.check(&Observation::Resource {
                node: id,
                resource: &resource,
                active: true,
            })?;
        }
        Ok(())
    }

    /// An lrmd action ends: the world changes and its result goes to the
    /// controller process that asked, and a recorded or recurring one's to
    /// whichever controller process runs.
    pub(super) fn lrm_done(
        &mut self,
        node: usize,
        incarnation: (u32, u32),
        op: u64,
    ) -> Result<(), Violation> {
        if self.lrm_generation(node) != incarnation || self.nodes[node].core.is_none() {
            return Ok(());
        }
        let Some(resource) = self.nodes[node].lrm.resource_of(op) else {
            return Ok(());
        };
        self.lrm_finish(node, op)?;
        match self.nodes[node].lrm.next_waiting(&resource) {
            Some(next) => self.lrm_run(node, next.action, next.record, next.requester),
            None => Ok(()),
        }
    }

    fn lrm_finish(&mut self, node: usize, op: u64) -> Result<(), Violation> {
        let wall_s = super::controllers::wall_s(CMillis(self.now.0));
        let before: BTreeSet<String> = self.nodes[node].lrm.active().cloned().collect();
        let Some(finished) = self.nodes[node].lrm.finish(op, wall_s) else {
            return Ok(());
        };
        self.observe_world(node, &before)?;
        let result = finished.result;
        match finished.requester {
            Requester::Exec { exec, client } => {
                if self.is_controller(node, client) {
                    let done = LrmEvent::Done {
                        exec,
                        result: result.clone(),
                    };
                    self.controller_lrm_event(node, done)?;
                }
                if finished.recorded {
                    self.controller_lrm_event(node, LrmEvent::Recorded(result))?;
                }
                Ok(())
            }
            Requester::Recurring => self.controller_lrm_event(node, LrmEvent::Recurring(result)),
        }
    }

    /// A recurring monitor runs again and reports a change, if any.
    pub(super) fn monitor_check(
        &mut self,
        node: usize,
        incarnation: (u32, u32),
        key: &RecurringKey,
    ) -> Result<(), Violation> {
        if self.lrm_generation(node) != incarnation || self.nodes[node].core.is_none() {
            return Ok(());
        }
        let wall_s = super::controllers::wall_s(CMillis(self.now.0));
        match self.nodes[node].lrm.check_recurring(key, wall_s) {
            Some(result) => self.controller_lrm_event(node, LrmEvent::Recurring(result)),
            None => Ok(()),
        }
    }

    /// Tells the checkers which resources stopped being active on
    /// `node` since `before`.
    fn observe_world(&mut self, node: usize, before: &BTreeSet<String>) -> Result<(), Violation> {
        let id = self.nodes[node].id;
        let gone: Vec<String> = before
            .iter()
            .filter(|r| !self.nodes[node].lrm.is_active(r))
            .cloned()
            .collect();
        for resource in gone {
            self.check(&Observation::Resource {
                node: id,
                resource: &resource,
                active: false,
            })?;
        }
        Ok(())
    }

    /// A fault: a running resource stops, or falls into error, behind the
    /// cluster's back; its monitors notice within their interval.
    pub(super) fn break_a_resource(&mut self) -> Result<(), Violation> {
        let candidates: Vec<(usize, String)> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.core.is_some())
            .flat_map(|(i, n)| n.lrm.breakable().into_iter().map(move |r| (i, r)))
            .collect();
        let Some(faults) = self.faults() else {
            return Ok(());
        };
        if candidates.is_empty() {
            return Ok(());
        }
        let (node, resource) =
            candidates[faults.rng.range(0, candidates.len() as u64 - 1) as usize].clone();
        let stopped = faults.rng.chance(0.5);
        let before: BTreeSet<String> = self.nodes[node].lrm.active().cloned().collect();
        let monitors = self.nodes[node].lrm.break_resource(&resource, stopped);
        if self.options.trace {
            let how = if stopped { "stops" } else { "fails" };
            println!(
                "{} FAULT n{} {resource} {how}",
                self.now, self.nodes[node].id
            );
        }
        self.observe_world(node, &before)?;
        let incarnation = (self.nodes[node].incarnation, self.nodes[node].lrm_resets);
        for key in monitors {
            let Some(faults) = self.faults() else {
                break;
            };
            let after_ms = faults.rng.range(1, key.2.max(1));
            self.schedule(
                self.now.plus(after_ms),
                Event::MonitorCheck {
                    node,
                    incarnation,
                    key,
                },
            );
        }
        Ok(())
    }

    /// The DC on node `node` asks to fence `target`: the answer comes after
    /// the requested delay and the fencer's own.
    pub(super) fn fence_requested(
        &mut self,
        node: usize,
        request: u64,
        target: String,
        delay_ms: u64,
    ) {
        let Some(client) = self.nodes[node].controller.as_ref().map(|c| c.client) else {
            return;
        };
        let Some(faults) = self.faults() else {
            return;
        };
        let ok = !faults.rng.chance(faults.fence_failure_chance);
        let after_ms = delay_ms.saturating_add(faults.rng.range(1, faults.fence_ms_max));
        self.schedule(
            self.now.plus(after_ms),
            Event::FenceDone {
                node,
                client,
                request,
                target,
                ok,
            },
        );
    }

    /// The fencer acts: the target node is killed (it reboots later), then
    /// the DC that asked is answered, if it still runs.
    pub(super) fn fence_done(
        &mut self,
        node: usize,
        client: baton_cpg::ClientId,
        request: u64,
        target: &str,
        ok: bool,
    ) -> Result<(), Violation> {
        let victim = self
            .nodes
            .iter()
            .position(|n| format!("n{}", n.id.0) == target);
        let result = match (ok, victim) {
            (true, Some(victim)) => {
                if self.nodes[victim].core.is_some() {
                    self.reboot_fenced(victim)?;
                }
                let id = self.nodes[victim].id;
                self.check(&Observation::Fenced { node: id })?;
                Ok(())
            }
            (true, None) => Err(format!("no node is called {target}")),
            (false, _) => Err(format!("the simulated fencer failed to fence {target}")),
        };
        if self.options.trace {
            println!("{} FENCE {target}: {result:?}", self.now);
        }
        if !self.is_controller(node, client) {
            return Ok(());
        }
        let event = FenceEvent::Done { request, result };
        self.controller_fence_event(node, event)
    }

    /// Resources active on each live node, by node name.
    pub(super) fn world(&self) -> BTreeMap<String, BTreeSet<String>> {
        self.nodes
            .iter()
            .filter(|n| n.core.is_some())
            .map(|n| (format!("n{}", n.id.0), n.lrm.active().cloned().collect()))
            .collect()
    }

    /// Nothing runs in any lrmd and no fencing is under way.
    pub(super) fn world_idle(&self) -> bool {
        let fencing = self.queue.iter().any(|s| {
            matches!(
                s.event,
                Event::FenceDone { .. } | Event::MonitorCheck { .. }
            )
        });
        !fencing
            && self
                .nodes
                .iter()
                .filter(|n| n.core.is_some())
                .all(|n| n.lrm.is_idle())
    }

    /// Virtual time as the controllers' wall clock.
    pub(super) fn wall_now(&self) -> i64 {
        super::controllers::wall_s(CMillis(self.now.0))
    }

    pub(super) fn resources_settle_ms(&self) -> u64 {
        if self.controllers.is_some() {
            RESOURCES_SETTLE_MS
        } else {
            0
        }
    }

    /// The DC is idle, so is the world, and the world is what the
    /// scheduler wants: the run may end.
    pub(super) fn resources_settled(&mut self) -> bool {
        if self.controllers.is_none() {
            return true;
        }
        if self
            .resources_judged_at
            .is_some_and(|at| self.now.0 < at.0 + JUDGE_EVERY_MS)
        {
            return false;
        }
        self.resources_judged_at = Some(self.now);
        let controllers = || self.nodes.iter().filter_map(|n| n.controller.as_ref());
        let Some(dc) = controllers().find_map(|c| c.core.dc()) else {
            return false;
        };
        let Some(dc) = controllers().find(|c| c.member.node.0 == dc.0) else {
            return false;
        };
        dc.core.transition_idle()
            && self.world_idle()
            && resources_converged(dc.core.cib(), &self.world(), self.wall_now()).is_ok()
    }

    /// A fenced node reboots. Outside the fault phase only its resources
    /// and its controller go (its lrmd and controller start afresh): the
    /// ring's quiet-phase bounds hold for the messaging layer alone, and
    /// what fencing must guarantee is that the resources are gone.
    fn reboot_fenced(&mut self, node: usize) -> Result<(), Violation> {
        let token_ms = self.config.token_ms;
        if self.phase == Phase::Faults {
            self.stop(node, "is fenced");
            let downtime = self.rng.range(token_ms / 4, token_ms * 4);
            self.schedule(self.now.plus(downtime), Event::Restart { node });
            return Ok(());
        }
        let before: BTreeSet<String> = self.nodes[node].lrm.active().cloned().collect();
        self.nodes[node].lrm = super::lrm::SimLrm::default();
        self.nodes[node].lrm_resets += 1;
        self.observe_world(node, &before)?;
        self.crash_controller(node, token_ms / 4)
    }

    /// The node's incarnation and how often its lrmd was reset since:
    /// lrmd events of an earlier one are void.
    fn lrm_generation(&self, node: usize) -> (u32, u32) {
        (self.nodes[node].incarnation, self.nodes[node].lrm_resets)
    }
}
