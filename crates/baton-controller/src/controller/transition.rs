//! The DC's side of transitions. The scheduler runs on the replica when
//! something changed that can change its answer (an abort); its graph is
//! carried out through the group, each operation an `Execute` to its node;
//! results come back as `OpResult`s, matched by transition key. Only the DC
//! does this, and only once every member published its status since the
//! last join round, so the scheduler never plans from a partial status.

use std::collections::BTreeMap;

use baton_scheduler::{Action, ActionId, ActionKind, EpochSeconds, Task};

use super::Controller;
use crate::engine::Run;
use crate::history::{HistorySlot, OpRecord};
use crate::lrm::{self, op_status};
use crate::wire::{ExecKind, Execute, Message, OpResult};
use crate::{Event, LrmAction, Millis, NodeId, Output};

/// Pacemaker's `cluster-recheck-interval` default.
const DEFAULT_RECHECK_MS: u64 = 15 * 60 * 1000;
/// Pacemaker's `stonith-max-attempts` default.
const DEFAULT_FENCE_ATTEMPTS: u32 = 10;
/// Pacemaker's `stonith-timeout` default.
const DEFAULT_FENCE_TIMEOUT_MS: u64 = 60_000;
/// Why the DC plans again right after a transition that acted.
const FOLLOW_UP: &str = "Transition complete";
/// A plan that ended at once with its reason still standing waits this
/// long before the next, so a failing plan cannot spin.
const REPLAN_BACKOFF_MS: u64 = 1_000;

/// A fencing request in flight.
#[derive(Debug)]
struct Fencing {
    transition: u64,
    action: ActionId,
    target: String,
}

#[derive(Debug, Default)]
pub(super) struct Transitions {
    last_id: u64,
    run: Option<Run>,
    /// Why the scheduler must run again; `None` while the last graph holds.
    replan: Option<String>,
    /// When to ask the scheduler again although nothing changed.
    recheck_at: Option<Millis>,
    /// The last plan was the one asked for after a transition completed.
    follow_up: bool,
    /// When the last plan said time alone changes its answer (a
    /// failure-timeout expiring), in wall-clock seconds.
    recheck_by_s: Option<i64>,
    /// Failed fencing attempts by target since its last success.
    fence_failures: BTreeMap<String, u32>,
    last_fence_request: u64,
    fencing: BTreeMap<u64, Fencing>,
}

impl Transitions {
    pub(super) fn next_deadline(&self) -> Option<Millis> {
        [
            self.run.as_ref().and_then(Run::next_deadline),
            self.recheck_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Nothing runs and nothing waits to be planned.
    pub(super) fn idle(&self) -> bool {
        self.run.is_none() && self.replan.is_none() && self.fencing.is_empty()
    }

    /// The DC role went elsewhere: what was planned is forgotten (actions
    /// in flight finish on their nodes, and are recorded).
    pub(super) fn stand_down(&mut self) {
        *self = Transitions {
            last_id: self.last_id,
            ..Transitions::default()
        };
    }
}

/// The parts of a transition key (`<action>:<transition>:<rc>:<uuid>`).
struct Key<'a> {
    action: usize,
    transition: u64,
    uuid: &'a str,
}

fn parse_key(key: &str) -> Option<Key<'_>> {
    let mut parts = key.splitn(4, ':');
    let action = parts.next()?.parse().ok()?;
    let transition = parts.next()?.parse().ok()?;
    let _target_rc = parts.next()?;
    Some(Key {
        action,
        transition,
        uuid: parts.next()?,
    })
}

fn node_id(action: &Action) -> Option<NodeId> {
    action
        .node
        .as_ref()
        .and_then(|n| n.id.parse::<u32>().ok())
        .map(NodeId)
}

impl Controller {
    /// This controller's transition-engine id, 36 characters as
    /// Pacemaker's, made from its node and process: unique per start.
    fn te_uuid(&self) -> String {
        let me = self.settings.me;
        format!("{:08x}-0000-0000-0000-{:012x}", me.node.0, me.pid)
    }

    fn is_dc(&self) -> bool {
        self.dc == Some(self.settings.me.node)
    }

    /// Something changed that can change the scheduler's answer: the DC
    /// starts nothing more of its transition and plans again once nothing
    /// is in flight.
    pub(super) fn abort_transition(&mut self, reason: &str) {
        if !self.is_dc() {
            return;
        }
        if let Some(run) = self.transitions.run.as_mut()
            && run.aborted().is_none()
        {
            run.abort(reason);
            let id = run.id;
            self.event(Event::TransitionAborted {
                id,
                reason: reason.to_owned(),
            });
        }
        if self.transitions.replan.is_none() {
            self.transitions.replan = Some(reason.to_owned());
        }
    }

    /// Nodes left: their actions in flight are lost, and the DC plans again.
    pub(super) fn nodes_left(&mut self, nodes: &[NodeId]) {
        if nodes.is_empty() || !self.is_dc() {
            return;
        }
        if let Some(run) = self.transitions.run.as_mut() {
            let transition = run.id;
            // A fencing names its target, but the fencer carries it out and
            // answers: its target leaving is what fencing looks like.
            let lost = run.fail_in_flight(|a| {
                a.task != Task::Stonith && node_id(a).is_some_and(|n| nodes.contains(&n))
            });
            let failed: Vec<Event> = lost
                .into_iter()
                .map(|id| {
                    let action = run.graph().action(id);
                    Event::ActionFailed {
                        transition,
                        key: action.key.clone(),
                        node: action.node.as_ref().map(|n| n.name.to_string()),
                        reason: "its node left the cluster".to_owned(),
                    }
                })
                .collect();
            for event in failed {
                self.event(event);
            }
        }
        self.abort_transition("Node failure");
    }

    /// Moves the DC's transition on: runs the scheduler when an abort asked
    /// for it and nothing is in flight, starts what is ready, fails what
    /// timed out. Called after every input.
    pub(super) fn drive_transitions(&mut self, now: Millis) {
        if !self.is_dc() || !self.joined || self.round.is_some() || !self.status_pending.is_empty()
        {
            return;
        }
        if let Some(at) = self.transitions.recheck_at
            && now >= at
        {
            self.transitions.recheck_at = None;
            self.transitions
                .replan
                .get_or_insert_with(|| "Recheck".to_owned());
        }
        if self.in_flight_sends == 0 && self.quorum_members.as_ref() == Some(&self.ring_now) {
            // A DC that took over may have been told of quorum while it was
            // not DC; the CIB must say what the plan is made for.
            self.publish_quorum();
        }
        let mut planned = false;
        loop {
            if self.transitions.run.is_none() {
                if planned
                    || self.transitions.replan.is_none()
                    || self.in_flight_sends > 0
                    || !self.membership_settled()
                {
                    break;
                }
                planned = true;
                let reason = self.transitions.replan.take().unwrap_or_default();
                self.plan(&reason);
                continue;
            }
            self.expire_actions(now);
            let started = match self.transitions.run.as_mut() {
                Some(run) => run.start_ready(now),
                None => break,
            };
            for id in &started {
                self.dispatch(*id);
            }
            let Some(run) = self.transitions.run.as_ref() else {
                break;
            };
            if run.is_over() {
                let (id, counts) = (run.id, run.counts());
                let acted = run.acted();
                self.transitions.run = None;
                self.event(Event::TransitionCompleted { id, counts });
                // What the graph did is in the status now, and some plans
                // only follow from it (an orphan's history is erased once
                // its stop is recorded): ask once more, so the cluster
                // does not wait for the recheck interval to finish. Only
                // once: a plan that keeps acting the same way (a shutdown
                // still waiting for its node to leave) must not spin.
                if acted && !self.transitions.follow_up {
                    self.transitions
                        .replan
                        .get_or_insert_with(|| FOLLOW_UP.to_owned());
                }
                continue;
            }
            if started.is_empty() {
                break;
            }
        }
        if self.transitions.run.is_none() && self.in_flight_sends == 0 {
            let wait = if self.transitions.replan.is_some() {
                REPLAN_BACKOFF_MS
            } else {
                self.recheck_interval_ms().min(self.until_recheck_by_ms())
            };
            self.transitions.recheck_at = Some(now.plus(wait));
        }
    }

    fn recheck_interval_ms(&self) -> u64 {
        match self.cib.property_duration_ms("cluster-recheck-interval") {
            Ok(Some(0)) | Err(_) | Ok(None) => DEFAULT_RECHECK_MS,
            Ok(Some(ms)) => ms,
        }
    }

    /// Whether the ring, the quorum and the controllers' view tell of one
    /// membership. They come as separate inputs (a node going down leaves
    /// the view before the ring changes, and quorum follows the ring), and
    /// a plan made in between would act on the quorum of a membership
    /// that is gone: a partition that just lost quorum would still start
    /// what the others ran.
    fn membership_settled(&self) -> bool {
        self.ring_behind.is_empty()
            && self.quorum_members.as_ref() == Some(&self.ring_now)
            && self.cib.have_quorum().ok().flatten() == Some(self.quorate)
    }

    /// Until the last plan's `recheck_by`; a time already past waits a
    /// second rather than spinning.
    fn until_recheck_by_ms(&self) -> u64 {
        self.transitions.recheck_by_s.map_or(u64::MAX, |at| {
            u64::try_from(at.saturating_sub(self.wall_s)).map_or(1_000, |s| s.max(1) * 1_000)
        })
    }

    fn plan(&mut self, reason: &str) {
        self.transitions.follow_up = reason == FOLLOW_UP;
        let transition = match baton_scheduler::schedule(&self.cib, EpochSeconds(self.wall_s)) {
            Ok(transition) => transition,
            Err(error) => {
                self.event(Event::SchedulerFailed {
                    error: error.to_string(),
                });
                return;
            }
        };
        self.transitions.recheck_by_s = transition.recheck_by.map(|at| at.0);
        self.transitions.last_id += 1;
        let id = self.transitions.last_id;
        self.event(Event::TransitionStarted {
            id,
            cause: reason.to_owned(),
            actions: transition.graph.actions.len(),
            summary: transition.summary,
        });
        self.transitions.run = Some(Run::new(id, transition.graph));
    }

    /// Actions whose result did not come within their timeout plus
    /// cluster-delay fail, and are recorded as timed out on their node so
    /// that the scheduler recovers from them (Pacemaker's
    /// `controld_record_action_timeout`); a late result still counts.
    fn expire_actions(&mut self, now: Millis) {
        let Some(run) = self.transitions.run.as_mut() else {
            return;
        };
        let transition = run.id;
        let lost: Vec<(Action, String)> = run
            .expire(now)
            .into_iter()
            .map(|id| {
                let reason = format!(
                    "no result within {} ms (the action's timeout plus cluster-delay)",
                    run.timeout_ms(id)
                );
                (run.graph().action(id).clone(), reason)
            })
            .collect();
        if lost.is_empty() {
            return;
        }
        for (action, reason) in lost {
            if let Some(execute) = self.execute_of(transition, &action)
                && execute.kind == ExecKind::Run
                && execute.recorded
            {
                let result = lost_result(&execute, &reason);
                self.send(&Message::ResultLost {
                    node: execute.node,
                    result,
                });
            }
            self.event(Event::ActionFailed {
                transition,
                key: action.key.clone(),
                node: action.node.as_ref().map(|n| n.name.to_string()),
                reason,
            });
        }
        self.abort_transition("Action lost");
    }

    fn dispatch(&mut self, id: ActionId) {
        let Some(run) = self.transitions.run.as_ref() else {
            return;
        };
        let transition = run.id;
        let action = run.graph().action(id).clone();
        self.event(Event::ActionInitiated {
            transition,
            operation: action.task.name().to_owned(),
            key: action.key.clone(),
            node: action.node.as_ref().map(|n| n.name.to_string()),
        });
        match action.kind {
            ActionKind::ResourceOp => self.send_execute(transition, &action),
            ActionKind::ClusterEvent => self.cluster_event(transition, &action),
            ActionKind::Pseudo => self.complete_action(transition, id, true),
        }
    }

    fn complete_action(&mut self, transition: u64, id: ActionId, ok: bool) {
        if let Some(run) = self.transitions.run.as_mut()
            && run.id == transition
        {
            run.complete(id, ok);
        }
    }

    fn fail_action(&mut self, transition: u64, action: &Action, reason: String) {
        self.event(Event::ActionFailed {
            transition,
            key: action.key.clone(),
            node: action.node.as_ref().map(|n| n.name.to_string()),
            reason,
        });
        self.complete_action(transition, action.id, false);
    }

    fn send_execute(&mut self, transition: u64, action: &Action) {
        let Some(execute) = self.execute_of(transition, action) else {
            self.fail_action(
                transition,
                action,
                "the graph names no node or resource for it".to_owned(),
            );
            self.abort_transition("Bad event");
            return;
        };
        self.send(&Message::Execute(execute));
    }

    /// What asks `action`'s node to carry it out.
    fn execute_of(&self, transition: u64, action: &Action) -> Option<Execute> {
        let (node, resource) = (node_id(action)?, action.resource.as_ref()?);
        let (kind, operation) = match &action.task {
            Task::Cancel(operation) => (ExecKind::Cancel, operation.clone()),
            Task::Delete => (ExecKind::Forget, "delete".to_owned()),
            task => (ExecKind::Run, task.name().to_owned()),
        };
        let recorded = !matches!(action.task, Task::Notify);
        let expected_rc = action.target_rc.unwrap_or(0);
        let op = LrmAction {
            resource: resource.id.clone(),
            class: resource.agent.class.clone(),
            provider: resource.agent.provider.clone(),
            agent: resource.agent.kind.clone(),
            operation,
            interval_ms: action.interval_ms,
            timeout_ms: action
                .timeout_ms
                .unwrap_or(baton_scheduler::graph::DEFAULT_TIMEOUT_MS),
            params: (*action.params).clone(),
            meta: action.meta.clone(),
        };
        Some(Execute {
            transition,
            action: action.id.0,
            node,
            transition_key: format!(
                "{}:{transition}:{expected_rc}:{}",
                action.id.0,
                self.te_uuid()
            ),
            kind,
            op,
            expected_rc,
            op_digest: (kind == ExecKind::Run && recorded).then(|| action.op_digest()),
            recorded,
            wall_s: self.wall_s,
        })
    }

    fn cluster_event(&mut self, transition: u64, action: &Action) {
        match (&action.task, node_id(action)) {
            (Task::Stonith, _) => self.fence(transition, action),
            (Task::DoShutdown, Some(node)) => {
                self.send(&Message::ShutdownAllowed { node });
                self.complete_action(transition, action.id, true);
            }
            (Task::ClearFailcount, Some(node)) => {
                if let Some(resource) = &action.resource {
                    self.send(&Message::ClearFailcount {
                        node,
                        resource: resource.id.clone(),
                    });
                }
                self.complete_action(transition, action.id, true);
            }
            (task, _) => {
                let reason = format!("the controller cannot carry out {}", task.name());
                self.fail_action(transition, action, reason);
            }
        }
    }

    fn fence(&mut self, transition: u64, action: &Action) {
        let Some(target) = action.node.as_ref().map(|n| n.name.to_string()) else {
            self.fail_action(transition, action, "fencing names no node".to_owned());
            return;
        };
        let attempts = self
            .transitions
            .fence_failures
            .get(&target)
            .copied()
            .unwrap_or(0);
        let max = ["fencing-max-attempts", "stonith-max-attempts"]
            .iter()
            .find_map(|name| self.cib.property(name)?.parse::<u32>().ok())
            .unwrap_or(DEFAULT_FENCE_ATTEMPTS);
        if attempts >= max {
            let reason = format!(
                "fencing {target} failed {attempts} times; not trying again until the cluster changes"
            );
            self.fail_action(transition, action, reason);
            return;
        }
        self.transitions.last_fence_request += 1;
        let request = self.transitions.last_fence_request;
        self.transitions.fencing.insert(
            request,
            Fencing {
                transition,
                action: action.id,
                target: target.clone(),
            },
        );
        let timeout_ms = self
            .transitions
            .run
            .as_ref()
            .and_then(|r| {
                baton_cib::duration::parse_duration_ms(&r.graph().settings.fencing_timeout).ok()
            })
            .unwrap_or(DEFAULT_FENCE_TIMEOUT_MS);
        let delay_ms = self.fence_delay_ms(&target, &action.meta).min(timeout_ms);
        self.outputs.push_back(Output::Fence {
            request,
            target,
            action: action
                .meta
                .get("stonith_action")
                .cloned()
                .unwrap_or_else(|| "reboot".to_owned()),
            timeout_ms,
            delay_ms,
        });
    }

    /// The fencer's answer to a request of the DC's.
    pub(super) fn fence_done(&mut self, request: u64, result: Result<(), String>) {
        let Some(fencing) = self.transitions.fencing.remove(&request) else {
            return;
        };
        match result {
            Ok(()) => {
                self.transitions.fence_failures.remove(&fencing.target);
                let node = self
                    .names
                    .iter()
                    .find(|(_, name)| **name == fencing.target)
                    .map(|(id, _)| *id);
                if let Some(node) = node {
                    self.send(&Message::Fenced { node });
                }
                self.complete_action(fencing.transition, fencing.action, true);
            }
            Err(reason) => {
                *self
                    .transitions
                    .fence_failures
                    .entry(fencing.target.clone())
                    .or_default() += 1;
                self.event(Event::ActionFailed {
                    transition: fencing.transition,
                    key: format!("stonith-{}", fencing.target),
                    node: Some(fencing.target),
                    reason,
                });
                self.complete_action(fencing.transition, fencing.action, false);
                self.abort_transition("Stonith failed");
            }
        }
    }

    /// A node can be fenced again as soon as it is seen again.
    pub(super) fn forget_fence_failures(&mut self, nodes: &[NodeId]) {
        for node in nodes {
            if let Some(name) = self.names.get(node) {
                self.transitions.fence_failures.remove(name);
            }
        }
    }

    /// The DC matches a delivered result to its transition.
    pub(super) fn match_result(&mut self, node: NodeId, result: &OpResult) {
        if !self.is_dc() {
            return;
        }
        let record = &result.record;
        let uuid = self.te_uuid();
        let key = record
            .transition_key
            .as_deref()
            .and_then(parse_key)
            .filter(|k| k.uuid == uuid)
            .map(|k| (k.transition, ActionId(k.action)));
        let failed = lrm::failed(record.rc, record.op_status, result.expected_rc);
        if let (Some((transition, id)), Some(run)) = (key, self.transitions.run.as_mut())
            && transition == run.id
        {
            if run.in_flight(id) {
                run.complete(id, !failed);
                if failed {
                    let reason = format!(
                        "expected rc {} but got rc {} (op-status {}){}",
                        result.expected_rc,
                        record.rc,
                        record.op_status,
                        if record.exit_reason.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", record.exit_reason)
                        }
                    );
                    self.event(Event::ActionFailed {
                        transition,
                        key: record.operation_key(),
                        node: self.names.get(&node).cloned(),
                        reason,
                    });
                    self.abort_transition("Event failed");
                }
            } else if record.interval_ms > 0 && record.op_status != op_status::CANCELLED {
                self.abort_transition("Change in recurring result");
            }
            return;
        }
        if record.op_status == op_status::CANCELLED {
            return;
        }
        self.abort_transition(if record.interval_ms > 0 {
            "Change in recurring result"
        } else {
            "Old event"
        });
    }
}

/// A timed-out failure of `execute`, as if its node had reported it.
fn lost_result(execute: &Execute, reason: &str) -> OpResult {
    let op = &execute.op;
    OpResult {
        record: OpRecord {
            slot: HistorySlot::Last,
            resource: op.resource.clone(),
            class: op.class.clone(),
            provider: op.provider.clone(),
            agent: op.agent.clone(),
            operation: op.operation.clone(),
            interval_ms: op.interval_ms,
            // Before any real result of the node's (ids start at 1); -1
            // would read as an action still pending.
            call_id: 0,
            rc: lrm::RC_UNKNOWN_ERROR,
            op_status: op_status::TIMEOUT,
            last_rc_change_s: execute.wall_s,
            exec_ms: 0,
            queue_ms: 0,
            exit_reason: reason.to_owned(),
            transition_key: Some(execute.transition_key.clone()),
            op_digest: execute.op_digest.clone(),
        },
        expected_rc: execute.expected_rc,
        recorded: true,
        forget: false,
        wall_s: execute.wall_s,
    }
}
