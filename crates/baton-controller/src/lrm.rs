//! What the controller asks of its node's resource manager (baton-lrmd)
//! and hears back, and how a result is judged and recorded: the history
//! slots it fills (FACTS-CRM §5.2) and the fail count it adds to (§6.3).

use std::collections::BTreeMap;

use crate::history::{HistorySlot, OpRecord};

/// Pacemaker's execution status codes, as the CIB records them.
pub mod op_status {
    pub const PENDING: i32 = -1;
    pub const DONE: i32 = 0;
    pub const CANCELLED: i32 = 1;
    pub const TIMEOUT: i32 = 2;
    pub const ERROR: i32 = 4;
    pub const NOT_INSTALLED: i32 = 7;
}

/// The rc an action still running is recorded with.
pub const RC_PENDING: i32 = 193;
/// OCF's generic error, what a result that never came is recorded with.
pub const RC_UNKNOWN_ERROR: i32 = 1;
const RC_OK: i32 = 0;
const RC_NOT_RUNNING: i32 = 7;
const RC_PROMOTED: i32 = 8;
const RC_DEGRADED: i32 = 190;
const RC_DEGRADED_PROMOTED: i32 = 191;

/// Identifies a one-shot action handed to the driver, so its result finds
/// its way back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExecId(pub u64);

/// An agent action, as lrmd runs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LrmAction {
    /// The id it runs under (OCF_RESOURCE_INSTANCE).
    pub resource: String,
    pub class: String,
    pub provider: Option<String>,
    pub agent: String,
    pub operation: String,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub params: BTreeMap<String, String>,
    /// `CRM_meta_*` values, named without the prefix.
    pub meta: BTreeMap<String, String>,
}

impl LrmAction {
    /// `class:provider:type`, as lrmd and crmsh write an agent.
    #[must_use]
    pub fn agent_name(&self) -> String {
        match &self.provider {
            Some(provider) => format!("{}:{provider}:{}", self.class, self.agent),
            None => format!("{}:{}", self.class, self.agent),
        }
    }
}

/// What the history keeps beside a result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LrmRecord {
    pub expected_rc: i32,
    pub transition_key: String,
    pub op_digest: Option<String>,
}

/// A result from lrmd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LrmResult {
    pub resource: String,
    pub operation: String,
    pub interval_ms: u64,
    pub rc: i32,
    /// One of [`op_status`].
    pub op_status: i32,
    pub exec_ms: u64,
    pub queue_ms: u64,
    pub exit_reason: String,
    /// lrmd's call id and the time the result last changed (0 when lrmd
    /// did not record it).
    pub call_id: i64,
    pub last_rc_change_s: i64,
}

/// The rc that counts: degraded results are successes.
fn effective_rc(rc: i32) -> i32 {
    match rc {
        RC_DEGRADED => RC_OK,
        RC_DEGRADED_PROMOTED => RC_PROMOTED,
        other => other,
    }
}

/// Whether a result is a failure: the agent did not run to its end, or
/// its rc is not the one expected. A cancelled recurring action is not.
#[must_use]
pub fn failed(rc: i32, status: i32, expected_rc: i32) -> bool {
    match status {
        op_status::DONE => effective_rc(rc) != expected_rc,
        op_status::CANCELLED | op_status::PENDING => false,
        _ => true,
    }
}

/// A probe that found the resource running, stopped or promoted learned
/// its state: unexpected, but no failure to record or count.
fn probe_found_state(operation: &str, interval_ms: u64, rc: i32, status: i32) -> bool {
    operation == "monitor"
        && interval_ms == 0
        && status == op_status::DONE
        && matches!(effective_rc(rc), RC_OK | RC_NOT_RUNNING | RC_PROMOTED)
}

/// Whether a result is recorded and counted as a failure.
#[must_use]
pub fn is_recorded_failure(result: &OpRecord, expected_rc: i32) -> bool {
    failed(result.rc, result.op_status, expected_rc)
        && !probe_found_state(
            &result.operation,
            result.interval_ms,
            result.rc,
            result.op_status,
        )
}

/// What a result does to its node's recorded history: the records it
/// writes and the record it erases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryUpdate {
    pub write: Vec<OpRecord>,
    pub erase: Option<String>,
}

/// The records a result fills, as Pacemaker fills them: a one-shot
/// result replaces `_last_0`; a good recurring result its own record; any
/// failure `_last_failure_0` (a failed recurring result only that); a
/// cancelled recurring action erases its record.
#[must_use]
pub fn history_update(result: &OpRecord, expected_rc: i32) -> HistoryUpdate {
    let recurring = result.interval_ms > 0;
    let mut update = HistoryUpdate::default();
    let slot = |slot: HistorySlot| OpRecord {
        slot,
        ..result.clone()
    };
    if recurring && result.op_status == op_status::CANCELLED {
        update.erase = Some(slot(HistorySlot::Recurring).record_id());
        return update;
    }
    let is_failure = is_recorded_failure(result, expected_rc);
    if !recurring {
        update.write.push(slot(HistorySlot::Last));
    } else if !is_failure {
        update.write.push(slot(HistorySlot::Recurring));
    }
    if is_failure {
        update.write.push(slot(HistorySlot::LastFailure));
    }
    update
}

/// How a recorded failure changes the fail count (FACTS-CRM §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailCountChange {
    Increment,
    Infinity,
}

#[must_use]
pub fn fail_count_change(operation: &str, start_failure_is_fatal: bool) -> FailCountChange {
    match operation {
        "stop" => FailCountChange::Infinity,
        "start" if start_failure_is_fatal => FailCountChange::Infinity,
        _ => FailCountChange::Increment,
    }
}

/// `fail-count-<rsc>#<op>_<interval>` and `last-failure-…` for a result.
#[must_use]
pub fn fail_count_names(resource: &str, operation: &str, interval_ms: u64) -> (String, String) {
    let suffix = format!("{resource}#{operation}_{interval_ms}");
    (
        format!("fail-count-{suffix}"),
        format!("last-failure-{suffix}"),
    )
}

/// The new value of a fail count.
#[must_use]
pub fn apply_fail_count(old: Option<&str>, change: FailCountChange) -> String {
    const INFINITY: &str = "INFINITY";
    let old = old.unwrap_or("0");
    match change {
        FailCountChange::Infinity => INFINITY.to_owned(),
        FailCountChange::Increment if old.eq_ignore_ascii_case(INFINITY) => INFINITY.to_owned(),
        FailCountChange::Increment => old
            .parse::<i64>()
            .map_or_else(|_| "1".to_owned(), |n| n.saturating_add(1).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(operation: &str, interval_ms: u64, rc: i32, op_status: i32) -> OpRecord {
        OpRecord {
            slot: HistorySlot::Last,
            resource: "vip".to_owned(),
            class: "ocf".to_owned(),
            provider: Some("heartbeat".to_owned()),
            agent: "IPaddr2".to_owned(),
            operation: operation.to_owned(),
            interval_ms,
            call_id: 4,
            rc,
            op_status,
            last_rc_change_s: 100,
            exec_ms: 1,
            queue_ms: 0,
            exit_reason: String::new(),
            transition_key: None,
            op_digest: None,
        }
    }

    fn ids(update: &HistoryUpdate) -> Vec<String> {
        update.write.iter().map(OpRecord::record_id).collect()
    }

    #[test]
    fn results_fill_the_records_pacemaker_fills() {
        let start = history_update(&result("start", 0, 0, 0), 0);
        assert_eq!(ids(&start), ["vip_last_0"]);
        let failed_start = history_update(&result("start", 0, 1, 0), 0);
        assert_eq!(ids(&failed_start), ["vip_last_0", "vip_last_failure_0"]);
        let monitor = history_update(&result("monitor", 10_000, 0, 0), 0);
        assert_eq!(ids(&monitor), ["vip_monitor_10000"]);
        let failed_monitor = history_update(&result("monitor", 10_000, 7, 0), 0);
        assert_eq!(ids(&failed_monitor), ["vip_last_failure_0"]);
        let cancelled = history_update(&result("monitor", 10_000, 1, 1), 0);
        assert!(cancelled.write.is_empty());
        assert_eq!(cancelled.erase.as_deref(), Some("vip_monitor_10000"));
        let probe = history_update(&result("monitor", 0, 7, 0), 7);
        assert_eq!(ids(&probe), ["vip_last_0"], "rc 7 is what a probe expects");
        let timeout = history_update(&result("stop", 0, 1, 2), 0);
        assert_eq!(ids(&timeout), ["vip_last_0", "vip_last_failure_0"]);
    }

    #[test]
    fn fail_counts_grow_as_pacemaker_counts_them() {
        assert_eq!(
            fail_count_change("monitor", true),
            FailCountChange::Increment
        );
        assert_eq!(fail_count_change("start", true), FailCountChange::Infinity);
        assert_eq!(
            fail_count_change("start", false),
            FailCountChange::Increment
        );
        assert_eq!(fail_count_change("stop", false), FailCountChange::Infinity);
        assert!(
            !is_recorded_failure(&result("monitor", 0, 0, 0), 7),
            "a probe found it running"
        );
        assert!(
            is_recorded_failure(&result("monitor", 0, 5, 0), 7),
            "a probe that failed"
        );
        assert_eq!(apply_fail_count(None, FailCountChange::Increment), "1");
        assert_eq!(apply_fail_count(Some("2"), FailCountChange::Increment), "3");
        assert_eq!(
            apply_fail_count(Some("INFINITY"), FailCountChange::Increment),
            "INFINITY"
        );
        assert_eq!(
            fail_count_names("vip", "monitor", 10_000),
            (
                "fail-count-vip#monitor_10000".to_owned(),
                "last-failure-vip#monitor_10000".to_owned()
            )
        );
    }

    #[test]
    fn degraded_results_are_successes_and_cancellations_are_not_failures() {
        assert!(!failed(RC_DEGRADED, op_status::DONE, RC_OK));
        assert!(!failed(RC_DEGRADED_PROMOTED, op_status::DONE, RC_PROMOTED));
        assert!(failed(RC_OK, op_status::TIMEOUT, RC_OK));
        assert!(!failed(1, op_status::CANCELLED, RC_OK));
    }
}
