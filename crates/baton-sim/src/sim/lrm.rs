//! A node's simulated resource manager: resources are active or not, an
//! agent answers at once, and the history keeps the last result of each
//! operation as lrmd keeps it. It lives with the node (a controller crash
//! leaves it running) and dies with it.

use std::collections::BTreeMap;

use baton_controller::lrm::op_status;
use baton_controller::{HistorySlot, LrmAction, LrmRecord, LrmResult, OpRecord};

#[derive(Debug, Default)]
pub struct SimLrm {
    /// Active resources (resource id → promoted).
    active: BTreeMap<String, bool>,
    history: BTreeMap<(String, HistorySlot, String, u64), OpRecord>,
    last_call_id: i64,
}

impl SimLrm {
    /// Runs `action` and answers its result (recorded with `record`).
    pub fn run(
        &mut self,
        action: &LrmAction,
        record: Option<&LrmRecord>,
        wall_s: i64,
    ) -> LrmResult {
        let resource = action.resource.clone();
        let rc = match action.operation.as_str() {
            "start" | "migrate_from" => {
                self.active.insert(resource, false);
                0
            }
            "stop" => {
                self.active.remove(&resource);
                0
            }
            "promote" | "demote" => {
                self.active.insert(resource, action.operation == "promote");
                0
            }
            "monitor" => match self.active.get(&resource) {
                None => 7,
                Some(false) => 0,
                Some(true) => 8,
            },
            _ => 0,
        };
        self.last_call_id += 1;
        let result = LrmResult {
            resource: action.resource.clone(),
            operation: action.operation.clone(),
            interval_ms: action.interval_ms,
            rc,
            op_status: op_status::DONE,
            exec_ms: 1,
            queue_ms: 0,
            exit_reason: String::new(),
            call_id: self.last_call_id,
            last_rc_change_s: wall_s,
        };
        if let Some(record) = record {
            self.record(action, record, &result);
        }
        result
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
        let failed = result.rc != record.expected_rc;
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

    #[must_use]
    pub fn history(&self) -> Vec<OpRecord> {
        self.history.values().cloned().collect()
    }
}
