//! The node's side of transitions: what the DC asks of this node runs on
//! its lrmd, and its results go to the group. Every member records every
//! node's results where they are delivered: the history records, the
//! pending record of an action under way, the fail counts.

use std::collections::{BTreeMap, BTreeSet};

use super::Controller;
use crate::history::{HistorySlot, OpRecord};
use crate::lrm::{self, ExecId, LrmAction, LrmRecord, LrmResult, op_status};
use crate::wire::{ExecKind, Execute, Message, OpResult};
use crate::{Member, NodeId, Output};

/// An operation this node runs for the cluster, and how to report it.
#[derive(Debug, Clone)]
struct Asked {
    op: LrmAction,
    transition_key: Option<String>,
    expected_rc: i32,
    op_digest: Option<String>,
    recorded: bool,
    /// The last result reported, as (call id, rc, status): lrmd repeats
    /// its last results to every new subscriber.
    reported: Option<(i64, i32, i32)>,
}

/// The operations this node's lrmd runs for the cluster.
#[derive(Debug, Default)]
pub(super) struct Local {
    next_exec: u64,
    /// One-shot actions handed to the driver.
    running: BTreeMap<ExecId, Asked>,
    /// Recurring actions, by (resource, operation, interval).
    recurring: BTreeMap<(String, String, u64), Asked>,
    /// One-shot actions a previous controller process asked for that lrmd
    /// still runs, by (resource, operation).
    inherited: BTreeMap<(String, String), Asked>,
    /// Fencing devices started on this node.
    devices: BTreeSet<String>,
    /// Their history, by (resource, interval): lrmd never runs them, so
    /// this node's history for a join round adds it to lrmd's.
    device_history: BTreeMap<(String, u64), OpRecord>,
}

fn recurring_key(resource: &str, operation: &str, interval_ms: u64) -> (String, String, u64) {
    (resource.to_owned(), operation.to_owned(), interval_ms)
}

/// The target rc a transition key names (`<action>:<transition>:<rc>:<uuid>`).
fn target_rc_of(key: &str) -> Option<i32> {
    key.split(':').nth(2)?.parse().ok()
}

/// How to report an action lrmd's history shows, asked by whoever ran
/// this node's controller before.
fn asked_of(record: &OpRecord) -> Asked {
    Asked {
        op: LrmAction {
            resource: record.resource.clone(),
            class: record.class.clone(),
            provider: record.provider.clone(),
            agent: record.agent.clone(),
            operation: record.operation.clone(),
            interval_ms: record.interval_ms,
            timeout_ms: 0,
            params: BTreeMap::new(),
            meta: BTreeMap::new(),
        },
        expected_rc: record
            .transition_key
            .as_deref()
            .and_then(target_rc_of)
            .unwrap_or(0),
        transition_key: record.transition_key.clone(),
        op_digest: record.op_digest.clone(),
        recorded: true,
        reported: Some((record.call_id, record.rc, record.op_status)),
    }
}

impl Controller {
    /// What lrmd still runs for the cluster (after a crmd restart): the
    /// results of its recurring actions keep being reported, and so does
    /// the end of a one-shot action a previous process asked for.
    pub(super) fn learn_from_lrmd(&mut self, records: &[OpRecord]) {
        for record in records {
            let asked = asked_of(record);
            if record.slot == HistorySlot::Recurring {
                let key = recurring_key(&record.resource, &record.operation, record.interval_ms);
                self.local.recurring.entry(key).or_insert(asked);
            } else if record.op_status == op_status::PENDING && !self.runs(&record.resource) {
                let key = (record.resource.clone(), record.operation.clone());
                self.local.inherited.insert(key, asked);
            }
        }
    }

    /// Whether this process has a one-shot action of `resource` under way.
    fn runs(&self, resource: &str) -> bool {
        self.local
            .running
            .values()
            .any(|asked| asked.op.resource == resource)
    }

    /// lrmd restarted: the node publishes its new (empty) history, which
    /// replaces what the CIB holds, so the DC probes what runs here again.
    /// Its recurring actions died with it; one-shot actions under way fail
    /// on their own when their call breaks.
    pub(super) fn lrm_restarted(&mut self) {
        self.local.recurring.clear();
        self.local.inherited.clear();
        if self.round.is_some() || !self.joined {
            return;
        }
        self.awaiting_history = true;
        self.outputs.push_back(Output::QueryLrmHistory);
    }

    /// An execute delivered, on every member: a pending record for an
    /// action that goes to the history, and the action itself on its node.
    pub(super) fn execute_delivered(&mut self, sender: Member, execute: Execute) {
        if self.dc != Some(sender.node) {
            return;
        }
        if execute.recorded && execute.op.interval_ms == 0 && execute.kind == ExecKind::Run {
            let pending = OpRecord {
                slot: HistorySlot::Last,
                resource: execute.op.resource.clone(),
                class: execute.op.class.clone(),
                provider: execute.op.provider.clone(),
                agent: execute.op.agent.clone(),
                operation: execute.op.operation.clone(),
                interval_ms: 0,
                call_id: -1,
                rc: lrm::RC_PENDING,
                op_status: op_status::PENDING,
                last_rc_change_s: execute.wall_s,
                exec_ms: 0,
                queue_ms: 0,
                exit_reason: String::new(),
                transition_key: Some(execute.transition_key.clone()),
                op_digest: execute.op_digest.clone(),
            };
            self.record_history(execute.node, &[pending]);
        }
        if execute.node == self.settings.me.node {
            self.run_here(execute);
        }
    }

    fn run_here(&mut self, execute: Execute) {
        let asked = Asked {
            transition_key: Some(execute.transition_key),
            expected_rc: execute.expected_rc,
            op_digest: execute.op_digest,
            recorded: execute.recorded,
            op: execute.op,
            reported: None,
        };
        if asked.op.class == "stonith" && execute.kind == ExecKind::Run {
            self.run_device_here(&asked);
            return;
        }
        match execute.kind {
            ExecKind::Cancel => self.cancel_recurring(&asked),
            ExecKind::Forget => {
                self.outputs.push_back(Output::LrmForget {
                    resource: asked.op.resource.clone(),
                });
                self.send_result(&asked, &done_now(&asked.op, op_status::DONE), true);
            }
            ExecKind::Run if asked.op.interval_ms > 0 => {
                let op = &asked.op;
                let key = recurring_key(&op.resource, &op.operation, op.interval_ms);
                self.outputs.push_back(Output::LrmStartRecurring {
                    action: op.clone(),
                    record: record_of(&asked),
                });
                self.local.recurring.insert(key, asked);
            }
            ExecKind::Run => {
                let resource = &asked.op.resource;
                self.local.inherited.retain(|(r, _), _| r != resource);
                if asked.op.operation == "stop" {
                    self.cancel_all_recurring(&asked.op.resource);
                }
                self.local.next_exec += 1;
                let exec = ExecId(self.local.next_exec);
                self.outputs.push_back(Output::LrmExec {
                    exec,
                    action: asked.op.clone(),
                    record: asked.recorded.then(|| record_of(&asked)),
                });
                self.local.running.insert(exec, asked);
            }
        }
    }

    /// A fencing device's start, stop or monitor. Devices are not run by
    /// lrmd: fenced finds them in the configuration when it has to fence,
    /// so a device runs here once started (as Pacemaker's executor
    /// registers it with the fencer); a monitor checks only that.
    fn run_device_here(&mut self, asked: &Asked) {
        const RC_NOT_RUNNING: i32 = 7;
        const RC_UNIMPLEMENTED: i32 = 3;
        let resource = &asked.op.resource;
        let rc = match asked.op.operation.as_str() {
            "start" => {
                self.local.devices.insert(resource.clone());
                0
            }
            "stop" => {
                self.local.devices.remove(resource);
                0
            }
            "monitor" if self.local.devices.contains(resource) => 0,
            "monitor" => RC_NOT_RUNNING,
            _ => RC_UNIMPLEMENTED,
        };
        let result = LrmResult {
            rc,
            ..done_now(&asked.op, op_status::DONE)
        };
        let mut record = self.op_record(asked, &result);
        let interval = asked.op.interval_ms;
        if interval > 0 {
            record.slot = HistorySlot::Recurring;
        }
        let history = &mut self.local.device_history;
        if asked.op.operation == "stop" {
            history.retain(|(device, _), _| device != resource);
        }
        history.insert((resource.clone(), interval), record);
        self.report(asked, &result);
    }

    /// What this node ran of its fencing devices, for its history.
    pub(super) fn device_history(&self) -> impl Iterator<Item = &OpRecord> {
        self.local.device_history.values()
    }

    /// A cancel the DC asked for: confirmed once lrmd was told.
    fn cancel_recurring(&mut self, asked: &Asked) {
        let op = &asked.op;
        let key = recurring_key(&op.resource, &op.operation, op.interval_ms);
        self.local.recurring.remove(&key);
        self.outputs.push_back(Output::LrmCancel {
            resource: op.resource.clone(),
            operation: op.operation.clone(),
            interval_ms: op.interval_ms,
        });
        self.report(asked, &done_now(op, op_status::CANCELLED));
    }

    /// A stop first ends the resource's recurring actions, as Pacemaker's
    /// controller does; their records go.
    fn cancel_all_recurring(&mut self, resource: &str) {
        let keys: Vec<(String, String, u64)> = self
            .local
            .recurring
            .keys()
            .filter(|(r, _, _)| r == resource)
            .cloned()
            .collect();
        for key in keys {
            if let Some(asked) = self.local.recurring.remove(&key) {
                let untracked = Asked {
                    transition_key: None,
                    ..asked
                };
                self.outputs.push_back(Output::LrmCancel {
                    resource: key.0,
                    operation: key.1,
                    interval_ms: key.2,
                });
                self.report(&untracked, &done_now(&untracked.op, op_status::CANCELLED));
            }
        }
    }

    pub(super) fn lrm_done(&mut self, exec: ExecId, result: &LrmResult) {
        if let Some(asked) = self.local.running.remove(&exec) {
            self.report(&asked, result);
        }
    }

    /// A one-shot result: reported if it ends an inherited action (this
    /// process's own come back through [`Controller::lrm_done`]).
    pub(super) fn lrm_recorded(&mut self, result: &LrmResult) {
        let key = (result.resource.clone(), result.operation.clone());
        if result.interval_ms == 0
            && let Some(asked) = self.local.inherited.remove(&key)
        {
            self.report(&asked, result);
        }
    }

    pub(super) fn lrm_recurring(&mut self, result: &LrmResult) {
        if result.op_status == op_status::CANCELLED {
            return;
        }
        let key = recurring_key(&result.resource, &result.operation, result.interval_ms);
        let seen = (result.call_id, result.rc, result.op_status);
        let Some(asked) = self.local.recurring.get_mut(&key) else {
            return;
        };
        if asked.reported == Some(seen) {
            return;
        }
        asked.reported = Some(seen);
        let asked = asked.clone();
        self.report(&asked, result);
    }

    fn report(&mut self, asked: &Asked, result: &LrmResult) {
        self.send_result(asked, result, false);
    }

    /// Sends a result to the group; `forget` erases the resource's history.
    fn send_result(&mut self, asked: &Asked, result: &LrmResult, forget: bool) {
        if !self.joined {
            return;
        }
        let message = Message::OpResult(OpResult {
            record: self.op_record(asked, result),
            expected_rc: asked.expected_rc,
            recorded: asked.recorded,
            forget,
            wall_s: self.wall_s,
        });
        self.send(&message);
    }

    fn op_record(&self, asked: &Asked, result: &LrmResult) -> OpRecord {
        let op = &asked.op;
        OpRecord {
            slot: HistorySlot::Last,
            resource: op.resource.clone(),
            class: op.class.clone(),
            provider: op.provider.clone(),
            agent: op.agent.clone(),
            operation: op.operation.clone(),
            interval_ms: op.interval_ms,
            call_id: result.call_id,
            rc: result.rc,
            op_status: result.op_status,
            last_rc_change_s: if result.last_rc_change_s > 0 {
                result.last_rc_change_s
            } else {
                self.wall_s
            },
            exec_ms: result.exec_ms,
            queue_ms: result.queue_ms,
            exit_reason: result.exit_reason.clone(),
            transition_key: asked.transition_key.clone(),
            op_digest: asked.op_digest.clone(),
        }
    }

    /// A result delivered, on every member: the node's history and fail
    /// counts, then the DC's transition.
    pub(super) fn result_delivered(&mut self, sender: Member, result: &OpResult) {
        self.record_result(sender.node, result);
        self.match_result(sender.node, result);
    }

    /// A result of `node`'s into the history and its fail counts.
    pub(super) fn record_result(&mut self, node: NodeId, result: &OpResult) {
        let record = &result.record;
        if result.forget {
            if crate::replica::erase_resource(&mut self.cib, node, &record.resource) {
                self.bump_status();
            }
        } else if result.recorded {
            let update = lrm::history_update(record, result.expected_rc);
            let mut changed = false;
            if let Some(id) = &update.erase {
                changed |= crate::replica::erase_op(&mut self.cib, node, &record.resource, id);
            }
            if changed {
                self.bump_status();
            }
            self.record_history(node, &update.write);
            if lrm::is_recorded_failure(record, result.expected_rc) {
                self.count_failure(node, record, result.wall_s);
            }
        }
    }

    fn record_history(&mut self, node: NodeId, records: &[OpRecord]) {
        let Some(uname) = self.names.get(&node).cloned() else {
            return;
        };
        if crate::replica::record_ops(&mut self.cib, node, &uname, records) {
            self.bump_status();
        }
    }

    fn count_failure(&mut self, node: NodeId, record: &OpRecord, wall_s: i64) {
        let Some(uname) = self.names.get(&node).cloned() else {
            return;
        };
        let (count, last) =
            lrm::fail_count_names(&record.resource, &record.operation, record.interval_ms);
        let fatal = self
            .cib
            .property_bool("start-failure-is-fatal")
            .ok()
            .flatten()
            .unwrap_or(true);
        let old = crate::replica::transient_value(&self.cib, node, &count);
        let value = lrm::apply_fail_count(
            old.as_deref(),
            lrm::fail_count_change(&record.operation, fatal),
        );
        let mut changed =
            crate::replica::set_transient(&mut self.cib, node, &uname, &count, Some(&value));
        changed |= crate::replica::set_transient(
            &mut self.cib,
            node,
            &uname,
            &last,
            Some(&wall_s.to_string()),
        );
        if changed {
            self.bump_status();
        }
    }
}

/// What lrmd keeps beside the action's result.
fn record_of(asked: &Asked) -> LrmRecord {
    LrmRecord {
        expected_rc: asked.expected_rc,
        transition_key: asked.transition_key.clone().unwrap_or_default(),
        op_digest: asked.op_digest.clone(),
    }
}

/// A result the controller gives itself for what needs no agent run.
fn done_now(op: &LrmAction, status: i32) -> LrmResult {
    LrmResult {
        resource: op.resource.clone(),
        operation: op.operation.clone(),
        interval_ms: op.interval_ms,
        rc: 0,
        op_status: status,
        exec_ms: 0,
        queue_ms: 0,
        exit_reason: String::new(),
        call_id: 0,
        last_rc_change_s: 0,
    }
}
