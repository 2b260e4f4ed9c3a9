//! A node's simulated resource manager. Each resource is a small state
//! machine (stopped, running, failed); an agent action takes time, and the
//! caller decides whether it goes well, fails or hangs (lrmd then kills it
//! at its timeout and answers "timed out"). Recurring monitors report their
//! first result, then each change the caller asks them to look for. The
//! history keeps the last result of each operation, with actions still
//! running listed as pending, as baton-lrmd keeps it. Like baton-lrmd it
//! runs one action per resource at a time; the others wait their turn.
//! It lives with the
//! node (a controller crash leaves it running) and dies with it.

use std::collections::{BTreeMap, VecDeque};

use baton_controller::lrm::{RC_PENDING, op_status};
use baton_controller::{ExecId, HistorySlot, LrmAction, LrmRecord, LrmResult, OpRecord};
use baton_cpg::ClientId;

const RC_OK: i32 = 0;
const RC_ERROR: i32 = 1;
const RC_NOT_RUNNING: i32 = 7;
const RC_PROMOTED: i32 = 8;

/// What a resource's agent left behind on this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// A start is under way: it may already hold what it protects.
    Starting,
    Running {
        promoted: bool,
    },
    /// Broken but not stopped (a failed start or stop, or a monitor that
    /// finds it in error): still active until a stop succeeds.
    Failed,
}

/// How an action the caller starts will end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeds,
    /// The agent answers a generic error.
    Fails,
    /// The agent never answers; lrmd kills it at the action's timeout.
    Hangs,
}

/// Who waits for an action's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    /// A one-shot action of this controller process.
    Exec { exec: ExecId, client: ClientId },
    /// The first run of a recurring action: whoever watches gets it.
    Recurring,
}

/// (resource, operation, interval)
pub type RecurringKey = (String, String, u64);

/// An action that ended: its result, who asked, and whether lrmd
/// recorded it in the history (and so told every subscriber).
#[derive(Debug)]
pub struct Finished {
    pub requester: Requester,
    pub result: LrmResult,
    pub recorded: bool,
}

/// An action waiting for its resource's running action to end.
#[derive(Debug)]
pub struct Waiting {
    pub action: LrmAction,
    pub record: Option<LrmRecord>,
    pub requester: Requester,
}

#[derive(Debug)]
struct InFlight {
    action: LrmAction,
    record: Option<LrmRecord>,
    requester: Requester,
    outcome: Outcome,
}

#[derive(Debug)]
struct Recurring {
    action: LrmAction,
    record: LrmRecord,
    /// The rc last reported; `None` until the first run ends.
    reported: Option<i32>,
}

#[derive(Debug, Default)]
pub struct SimLrm {
    /// Resources that are not stopped, by id.
    resources: BTreeMap<String, Health>,
    history: BTreeMap<(String, HistorySlot, String, u64), OpRecord>,
    last_call_id: i64,
    last_op: u64,
    running: BTreeMap<u64, InFlight>,
    waiting: BTreeMap<String, VecDeque<Waiting>>,
    recurring: BTreeMap<RecurringKey, Recurring>,
}

impl SimLrm {
    /// Whether an action on `resource` runs or waits: a new one waits
    /// behind it.
    #[must_use]
    pub fn busy(&self, resource: &str) -> bool {
        self.running_on(resource) || self.waiting.contains_key(resource)
    }

    fn running_on(&self, resource: &str) -> bool {
        self.running.values().any(|f| f.action.resource == resource)
    }

    /// Queues an action behind the one running on its resource.
    pub fn wait(&mut self, waiting: Waiting) {
        self.waiting
            .entry(waiting.action.resource.clone())
            .or_default()
            .push_back(waiting);
    }

    /// The resource of running action `op`.
    #[must_use]
    pub fn resource_of(&self, op: u64) -> Option<String> {
        self.running.get(&op).map(|f| f.action.resource.clone())
    }

    /// The next action waiting for `resource`, once nothing runs on it.
    pub fn next_waiting(&mut self, resource: &str) -> Option<Waiting> {
        if self.running_on(resource) {
            return None;
        }
        let queue = self.waiting.get_mut(resource)?;
        let next = queue.pop_front();
        if queue.is_empty() {
            self.waiting.remove(resource);
        }
        next
    }

    /// Starts an action; the caller finishes it with [`SimLrm::finish`]
    /// after its duration. A start makes the resource active at once.
    pub fn begin(
        &mut self,
        action: LrmAction,
        record: Option<LrmRecord>,
        requester: Requester,
        outcome: Outcome,
    ) -> u64 {
        if matches!(action.operation.as_str(), "start" | "migrate_from") {
            self.resources
                .insert(action.resource.clone(), Health::Starting);
        }
        if let Requester::Recurring = requester {
            let key = key_of(&action);
            let recurring = Recurring {
                action: action.clone(),
                record: record.clone().unwrap_or_else(|| LrmRecord {
                    expected_rc: RC_OK,
                    transition_key: String::new(),
                    op_digest: None,
                }),
                reported: None,
            };
            self.recurring.insert(key, recurring);
        }
        self.last_op += 1;
        self.running.insert(
            self.last_op,
            InFlight {
                action,
                record,
                requester,
                outcome,
            },
        );
        self.last_op
    }

    /// Ends action `op`: the agent's effect, the history, and who gets the
    /// result. `None` when the action is gone (its recurring action was
    /// cancelled meanwhile).
    pub fn finish(&mut self, op: u64, wall_s: i64) -> Option<Finished> {
        let flight = self.running.remove(&op)?;
        let action = &flight.action;
        if flight.requester == Requester::Recurring {
            let recurring = self.recurring.get(&key_of(action))?;
            if recurring.action != *action {
                return None;
            }
        }
        let (rc, status) = self.act(action, flight.outcome);
        let result = self.result(action, rc, status, wall_s);
        if let Some(record) = &flight.record {
            self.record(action, record, &result);
        }
        if let Some(recurring) = self.recurring.get_mut(&key_of(action))
            && flight.requester == Requester::Recurring
        {
            recurring.reported = Some(rc);
        }
        Some(Finished {
            requester: flight.requester,
            recorded: flight.record.is_some(),
            result,
        })
    }

    /// What the agent does to the resource, and answers.
    fn act(&mut self, action: &LrmAction, outcome: Outcome) -> (i32, i32) {
        let resource = action.resource.clone();
        let ended = match outcome {
            Outcome::Succeeds => (RC_OK, op_status::DONE),
            Outcome::Fails => (RC_ERROR, op_status::DONE),
            Outcome::Hangs => (RC_ERROR, op_status::TIMEOUT),
        };
        match action.operation.as_str() {
            "start" | "migrate_from" => {
                let health = if outcome == Outcome::Succeeds {
                    Health::Running { promoted: false }
                } else {
                    Health::Failed
                };
                self.resources.insert(resource, health);
                ended
            }
            "stop" | "migrate_to" => {
                if outcome == Outcome::Succeeds {
                    self.resources.remove(&resource);
                } else if self.resources.contains_key(&resource) {
                    self.resources.insert(resource, Health::Failed);
                }
                ended
            }
            "promote" | "demote" if outcome == Outcome::Succeeds => {
                let promoted = action.operation == "promote";
                self.resources
                    .insert(resource, Health::Running { promoted });
                ended
            }
            "monitor" if outcome == Outcome::Hangs => ended,
            "monitor" => (self.monitor_rc(&resource), op_status::DONE),
            _ => ended,
        }
    }

    fn monitor_rc(&self, resource: &str) -> i32 {
        match self.resources.get(resource) {
            None => RC_NOT_RUNNING,
            Some(Health::Running { promoted: true }) => RC_PROMOTED,
            Some(Health::Running { promoted: false } | Health::Starting) => RC_OK,
            Some(Health::Failed) => RC_ERROR,
        }
    }

    fn result(&mut self, action: &LrmAction, rc: i32, status: i32, wall_s: i64) -> LrmResult {
        self.last_call_id += 1;
        LrmResult {
            resource: action.resource.clone(),
            operation: action.operation.clone(),
            interval_ms: action.interval_ms,
            rc,
            op_status: status,
            exec_ms: 1,
            queue_ms: 0,
            exit_reason: String::new(),
            call_id: self.last_call_id,
            last_rc_change_s: wall_s,
        }
    }

    /// A recurring monitor runs again: its result when it changed.
    pub fn check_recurring(&mut self, key: &RecurringKey, wall_s: i64) -> Option<LrmResult> {
        let recurring = self.recurring.get(key)?;
        let reported = recurring.reported?;
        let rc = self.monitor_rc(&key.0);
        if rc == reported {
            return None;
        }
        let (action, record) = (recurring.action.clone(), recurring.record.clone());
        let result = self.result(&action, rc, op_status::DONE, wall_s);
        self.record(&action, &record, &result);
        if let Some(recurring) = self.recurring.get_mut(key) {
            recurring.reported = Some(rc);
        }
        Some(result)
    }

    /// The resource breaks behind the cluster's back (it stops, or is left
    /// in error); returns its recurring monitors, which will notice.
    pub fn break_resource(&mut self, resource: &str, stopped: bool) -> Vec<RecurringKey> {
        if stopped {
            self.resources.remove(resource);
        } else {
            self.resources.insert(resource.to_owned(), Health::Failed);
        }
        self.recurring
            .keys()
            .filter(|(r, _, _)| r == resource)
            .cloned()
            .collect()
    }

    /// Running resources no action is busy with: the ones a fault can break.
    #[must_use]
    pub fn breakable(&self) -> Vec<String> {
        self.resources
            .iter()
            .filter(|(_, h)| matches!(h, Health::Running { .. }))
            .map(|(r, _)| r.clone())
            .filter(|r| !self.running.values().any(|f| f.action.resource == *r))
            .collect()
    }

    /// Resources active here (anything but stopped).
    pub fn active(&self) -> impl Iterator<Item = &String> {
        self.resources.keys()
    }

    #[must_use]
    pub fn is_active(&self, resource: &str) -> bool {
        self.resources.contains_key(resource)
    }

    /// No action is running and every recurring monitor reported.
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.running.is_empty()
            && self.waiting.is_empty()
            && self.recurring.values().all(|r| r.reported.is_some())
    }

    fn record(&mut self, action: &LrmAction, record: &LrmRecord, result: &LrmResult) {
        let entry = |slot: HistorySlot| OpRecord {
            slot,
            resource: action.resource.clone(),
            class: action.class.clone(),
            provider: action.provider.clone(),
            agent: action.agent.clone(),
            operation: action.operation.clone(),
            interval_ms: action.interval_ms,
            call_id: result.call_id,
            rc: result.rc,
            op_status: result.op_status,
            last_rc_change_s: result.last_rc_change_s,
            exec_ms: result.exec_ms,
            queue_ms: 0,
            exit_reason: String::new(),
            transition_key: Some(record.transition_key.clone()),
            op_digest: record.op_digest.clone(),
        };
        let failed = baton_controller::lrm::failed(result.rc, result.op_status, record.expected_rc);
        let mut put = |slot: HistorySlot, operation: &str, interval_ms: u64| {
            self.history.insert(
                (
                    action.resource.clone(),
                    slot,
                    operation.to_owned(),
                    interval_ms,
                ),
                entry(slot),
            );
        };
        if failed {
            put(HistorySlot::LastFailure, "", 0);
        }
        if action.interval_ms == 0 {
            put(HistorySlot::Last, "", 0);
        } else if !failed {
            put(
                HistorySlot::Recurring,
                &action.operation,
                action.interval_ms,
            );
        }
    }

    pub fn cancel(&mut self, resource: &str, operation: &str, interval_ms: u64) {
        let key = (resource.to_owned(), operation.to_owned(), interval_ms);
        self.recurring.remove(&key);
        self.history.remove(&(
            resource.to_owned(),
            HistorySlot::Recurring,
            operation.to_owned(),
            interval_ms,
        ));
    }

    pub fn forget(&mut self, resource: &str) {
        self.history.retain(|(r, ..), _| r != resource);
    }

    /// The history, with recorded one-shot actions still running listed
    /// as pending in place of their last result.
    #[must_use]
    pub fn history(&self) -> Vec<OpRecord> {
        let mut history = self.history.clone();
        for flight in self.running.values() {
            let (action, Some(record)) = (&flight.action, &flight.record) else {
                continue;
            };
            if action.interval_ms > 0 {
                continue;
            }
            let pending = OpRecord {
                slot: HistorySlot::Last,
                resource: action.resource.clone(),
                class: action.class.clone(),
                provider: action.provider.clone(),
                agent: action.agent.clone(),
                operation: action.operation.clone(),
                interval_ms: 0,
                call_id: -1,
                rc: RC_PENDING,
                op_status: op_status::PENDING,
                last_rc_change_s: 0,
                exec_ms: 0,
                queue_ms: 0,
                exit_reason: String::new(),
                transition_key: Some(record.transition_key.clone()),
                op_digest: record.op_digest.clone(),
            };
            history.insert(
                (action.resource.clone(), HistorySlot::Last, String::new(), 0),
                pending,
            );
        }
        history.into_values().collect()
    }
}

fn key_of(action: &LrmAction) -> RecurringKey {
    (
        action.resource.clone(),
        action.operation.clone(),
        action.interval_ms,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(resource: &str, operation: &str) -> LrmAction {
        LrmAction {
            resource: resource.to_owned(),
            class: "ocf".to_owned(),
            provider: Some("heartbeat".to_owned()),
            agent: "Dummy".to_owned(),
            operation: operation.to_owned(),
            interval_ms: 0,
            timeout_ms: 2000,
            params: BTreeMap::new(),
            meta: BTreeMap::new(),
        }
    }

    #[test]
    fn a_probe_behind_a_running_stop_waits_and_then_finds_the_resource_stopped() {
        let mut lrm = SimLrm::default();
        let start = lrm.begin(
            action("ip", "start"),
            None,
            Requester::Recurring,
            Outcome::Succeeds,
        );
        lrm.finish(start, 0);
        let stop = lrm.begin(
            action("ip", "stop"),
            None,
            Requester::Recurring,
            Outcome::Succeeds,
        );
        assert!(lrm.busy("ip"), "a stop runs on ip");
        lrm.wait(Waiting {
            action: action("ip", "monitor"),
            record: None,
            requester: Requester::Recurring,
        });
        assert!(
            lrm.next_waiting("ip").is_none(),
            "the probe waits while the stop runs"
        );
        assert!(!lrm.busy("other"), "other resources are not held up");
        lrm.finish(stop, 0);
        let probe = lrm.next_waiting("ip").expect("the probe's turn");
        let op = lrm.begin(probe.action, None, Requester::Recurring, Outcome::Succeeds);
        let result = lrm.finish(op, 0).expect("the probe ends").result;
        assert_eq!(result.rc, RC_NOT_RUNNING);
        assert!(lrm.is_idle());
    }
}
