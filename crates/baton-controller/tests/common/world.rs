//! The resources' side of the model cluster: what each node's lrmd runs,
//! what its agents find and what its history keeps, so tests can ask where
//! a resource runs. Agents answer at once; `Agent` says how.

use std::collections::{BTreeMap, BTreeSet};

use baton_controller::lrm::op_status;
use baton_controller::{
    ExecId, HistorySlot, LrmAction, LrmEvent, LrmRecord, LrmResult, OpRecord, Output,
};

/// How a resource's agent behaves on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    /// Starts fail with rc 1 (generic error).
    FailsToStart,
    /// Stops fail with rc 1.
    FailsToStop,
    /// Starts never answer (the agent hangs and nothing times it out).
    StartNeverAnswers,
    /// Starts run until [`World::answer_held_starts`]; lrmd lists them as
    /// pending meanwhile.
    StartAnswersLater,
}

/// Recurring actions by (resource, operation, interval).
type Recurring = BTreeMap<(String, String, u64), (LrmAction, LrmRecord)>;
/// lrmd's history by (resource, slot, operation, interval).
type History = BTreeMap<(String, HistorySlot, String, u64), OpRecord>;

#[derive(Debug, Default)]
pub struct World {
    /// Active resources per node (resource id → promoted).
    active: BTreeMap<u32, BTreeMap<String, bool>>,
    /// Recurring actions lrmd runs per node.
    recurring: BTreeMap<u32, Recurring>,
    /// lrmd's history per node.
    history: BTreeMap<u32, History>,
    last_call_id: BTreeMap<u32, i64>,
    /// Agents that misbehave, by (node, resource).
    pub agents: BTreeMap<(u32, String), Agent>,
    /// Every (node, resource, operation) run, in order.
    pub log: Vec<(u32, String, String)>,
    /// Starts held by [`Agent::StartAnswersLater`], per node.
    held: BTreeMap<u32, Vec<(LrmAction, LrmRecord)>>,
    /// Requests for a resource whose start is held, per node: lrmd runs
    /// one action per resource at a time.
    queued: BTreeMap<u32, Vec<Output>>,
    /// Nodes fenced, in order.
    pub fenced: Vec<String>,
    /// Fencing requests, successful or not.
    pub fence_attempts: usize,
    /// Whether fencing requests fail.
    pub fencing_fails: bool,
}

fn result_of(action: &LrmAction, rc: i32, call_id: i64, wall_s: i64) -> LrmResult {
    LrmResult {
        resource: action.resource.clone(),
        operation: action.operation.clone(),
        interval_ms: action.interval_ms,
        rc,
        op_status: op_status::DONE,
        exec_ms: 5,
        queue_ms: 0,
        exit_reason: String::new(),
        call_id,
        last_rc_change_s: wall_s,
    }
}

impl World {
    /// The nodes `resource` is active on.
    #[must_use]
    pub fn where_active(&self, resource: &str) -> Vec<u32> {
        self.active
            .iter()
            .filter(|(_, rscs)| rscs.contains_key(resource))
            .map(|(n, _)| *n)
            .collect()
    }

    /// Everything active on `n`.
    #[must_use]
    pub fn active_on(&self, n: u32) -> BTreeSet<String> {
        self.active
            .get(&n)
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Where in the log the first `operation` of `resource` is (fencing is
    /// logged as node 0, resource = the target, operation `fence`).
    #[must_use]
    pub fn first(&self, resource: &str, operation: &str) -> Option<usize> {
        self.log
            .iter()
            .position(|(_, r, op)| r == resource && op == operation)
    }

    /// How many times `operation` of `resource` ran on `n`.
    #[must_use]
    pub fn runs(&self, n: u32, resource: &str, operation: &str) -> usize {
        self.log
            .iter()
            .filter(|(node, r, op)| *node == n && r == resource && op == operation)
            .count()
    }

    /// Node `n` lost power: nothing runs there, its lrmd forgot everything.
    pub fn power_off(&mut self, n: u32) {
        self.active.remove(&n);
        self.recurring.remove(&n);
        self.history.remove(&n);
    }

    /// lrmd on `n` restarted: its history and recurring actions are gone,
    /// what its agents started still runs.
    pub fn restart_lrmd(&mut self, n: u32) {
        self.recurring.remove(&n);
        self.history.remove(&n);
    }

    /// lrmd's history on `n`, as the controller asks for it.
    #[must_use]
    pub fn history(&self, n: u32) -> Vec<OpRecord> {
        self.history
            .get(&n)
            .map(|h| h.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Fences the node named `target`; false when fencing fails.
    pub fn fence(&mut self, target: &str) -> bool {
        self.fence_attempts += 1;
        if self.fencing_fails {
            return false;
        }
        self.fenced.push(target.to_owned());
        self.log.push((0, target.to_owned(), "fence".to_owned()));
        if let Some(n) = target.strip_prefix('n').and_then(|n| n.parse().ok()) {
            self.power_off(n);
        }
        true
    }

    /// Carries out one lrmd request of node `n`'s controller; answers what
    /// lrmd would send back.
    pub fn carry_out(&mut self, n: u32, output: Output, wall_s: i64) -> Vec<LrmEvent> {
        let resource = match &output {
            Output::LrmExec { action, .. } | Output::LrmStartRecurring { action, .. } => {
                Some(action.resource.as_str())
            }
            _ => None,
        };
        let held = self.held.get(&n).is_some_and(|held| {
            held.iter()
                .any(|(action, _)| Some(action.resource.as_str()) == resource)
        });
        if held {
            self.queued.entry(n).or_default().push(output);
            return Vec::new();
        }
        match output {
            Output::LrmExec {
                exec,
                action,
                record,
            } => {
                let hangs = action.operation == "start"
                    && self.agents.get(&(n, action.resource.clone()))
                        == Some(&Agent::StartNeverAnswers);
                if hangs {
                    self.log.push((n, action.resource.clone(), "start".into()));
                    return Vec::new();
                }
                let answers_later = action.operation == "start"
                    && self.agents.get(&(n, action.resource.clone()))
                        == Some(&Agent::StartAnswersLater);
                if let (true, Some(record)) = (answers_later, &record) {
                    self.log.push((n, action.resource.clone(), "start".into()));
                    self.begin_pending(n, &action, record, wall_s);
                    self.held
                        .entry(n)
                        .or_default()
                        .push((action, record.clone()));
                    return Vec::new();
                }
                vec![self.exec(n, exec, &action, record.as_ref(), wall_s)]
            }
            Output::LrmStartRecurring { action, record } => {
                let rc = self.run(n, &action);
                let result = self.record(n, &action, &record, rc, wall_s);
                let key = (
                    action.resource.clone(),
                    action.operation.clone(),
                    action.interval_ms,
                );
                self.recurring
                    .entry(n)
                    .or_default()
                    .insert(key, (action, record));
                vec![LrmEvent::Recurring(result)]
            }
            Output::LrmCancel {
                resource,
                operation,
                interval_ms,
            } => {
                let key = (resource.clone(), operation.clone(), interval_ms);
                if let Some(r) = self.recurring.get_mut(&n) {
                    r.remove(&key);
                }
                if let Some(h) = self.history.get_mut(&n) {
                    h.remove(&(resource, HistorySlot::Recurring, operation, interval_ms));
                }
                Vec::new()
            }
            Output::LrmForget { resource } => {
                if let Some(h) = self.history.get_mut(&n) {
                    h.retain(|(r, ..), _| *r != resource);
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn exec(
        &mut self,
        n: u32,
        exec: ExecId,
        action: &LrmAction,
        record: Option<&LrmRecord>,
        wall_s: i64,
    ) -> LrmEvent {
        let rc = self.run(n, action);
        let result = match record {
            Some(record) => self.record(n, action, record, rc, wall_s),
            None => result_of(action, rc, 0, wall_s),
        };
        LrmEvent::Done { exec, result }
    }

    /// What the agent does and answers.
    fn run(&mut self, n: u32, action: &LrmAction) -> i32 {
        let resource = action.resource.clone();
        self.log
            .push((n, resource.clone(), action.operation.clone()));
        let behaviour = self.agents.get(&(n, resource.clone())).copied();
        let active = self.active.entry(n).or_default();
        match action.operation.as_str() {
            "start" if behaviour == Some(Agent::FailsToStart) => 1,
            "start" | "migrate_from" => {
                active.insert(resource, false);
                0
            }
            "stop" if behaviour == Some(Agent::FailsToStop) => 1,
            "stop" => {
                active.remove(&resource);
                0
            }
            "promote" | "demote" => {
                active.insert(resource, action.operation == "promote");
                0
            }
            "monitor" => match active.get(&resource) {
                None => 7,
                Some(false) => 0,
                Some(true) => 8,
            },
            _ => 0,
        }
    }

    /// Keeps a result as lrmd's history does and answers it.
    fn record(
        &mut self,
        n: u32,
        action: &LrmAction,
        record: &LrmRecord,
        rc: i32,
        wall_s: i64,
    ) -> LrmResult {
        let call_id = self.last_call_id.entry(n).or_default();
        *call_id += 1;
        let result = result_of(action, rc, *call_id, wall_s);
        let entry = |slot: HistorySlot| OpRecord {
            slot,
            resource: action.resource.clone(),
            class: action.class.clone(),
            provider: action.provider.clone(),
            agent: action.agent.clone(),
            operation: action.operation.clone(),
            interval_ms: action.interval_ms,
            call_id: result.call_id,
            rc,
            op_status: op_status::DONE,
            last_rc_change_s: wall_s,
            exec_ms: result.exec_ms,
            queue_ms: 0,
            exit_reason: String::new(),
            transition_key: Some(record.transition_key.clone()),
            op_digest: record.op_digest.clone(),
        };
        let failed = rc != record.expected_rc;
        let history = self.history.entry(n).or_default();
        let mut put = |slot: HistorySlot, operation: &str, interval_ms: u64| {
            history.insert(
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
        result
    }

    /// lrmd lists a one-shot action under way as pending in place of its
    /// resource's last result.
    fn begin_pending(&mut self, n: u32, action: &LrmAction, record: &LrmRecord, wall_s: i64) {
        let pending = OpRecord {
            slot: HistorySlot::Last,
            resource: action.resource.clone(),
            class: action.class.clone(),
            provider: action.provider.clone(),
            agent: action.agent.clone(),
            operation: action.operation.clone(),
            interval_ms: 0,
            call_id: -1,
            rc: baton_controller::lrm::RC_PENDING,
            op_status: op_status::PENDING,
            last_rc_change_s: wall_s,
            exec_ms: 0,
            queue_ms: 0,
            exit_reason: String::new(),
            transition_key: Some(record.transition_key.clone()),
            op_digest: record.op_digest.clone(),
        };
        let key = (action.resource.clone(), HistorySlot::Last, String::new(), 0);
        self.history.entry(n).or_default().insert(key, pending);
    }

    /// The held starts on `n` end well, which lrmd tells its subscriber
    /// (the process that asked may be gone); then what waited runs.
    pub fn answer_held_starts(&mut self, n: u32, wall_s: i64) -> Vec<LrmEvent> {
        let held = self.held.remove(&n).unwrap_or_default();
        let mut events: Vec<LrmEvent> = held
            .into_iter()
            .map(|(action, record)| {
                self.active
                    .entry(n)
                    .or_default()
                    .insert(action.resource.clone(), false);
                LrmEvent::Recorded(self.record(n, &action, &record, 0, wall_s))
            })
            .collect();
        for output in self.queued.remove(&n).unwrap_or_default() {
            events.extend(self.carry_out(n, output, wall_s));
        }
        events
    }

    /// `resource` stops on `n` behind the cluster's back; its recurring
    /// monitors notice.
    pub fn break_resource(&mut self, n: u32, resource: &str, wall_s: i64) -> Vec<LrmEvent> {
        if let Some(active) = self.active.get_mut(&n) {
            active.remove(resource);
        }
        let monitors: Vec<(LrmAction, LrmRecord)> = self
            .recurring
            .get(&n)
            .map(|r| {
                r.iter()
                    .filter(|((rsc, _, _), _)| rsc == resource)
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .unwrap_or_default();
        monitors
            .into_iter()
            .map(|(action, record)| {
                let result = self.record(n, &action, &record, 7, wall_s);
                LrmEvent::Recurring(result)
            })
            .collect()
    }
}
