//! The operation history of the actions the cluster asked for, kept while
//! lrmd runs so that a restarted crmd learns what runs here without running
//! anything: per resource the last one-shot result, the last failure, and
//! the last good result of each recurring action (a failed recurring result
//! goes to the last failure only, as Pacemaker records it). A one-shot
//! action still running is listed as pending in place of the last result,
//! so a crmd that restarts meanwhile knows it is under way.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::PoisonError;

use baton_proto::lrmd as pb;

/// Resources whose history is kept (STYLE rule 10); beyond it the oldest
/// resource's history is dropped, loudly.
pub const RESOURCES_MAX: usize = 10_000;

/// The wall clock, seconds since the epoch, for `last-rc-change`.
pub fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[derive(Debug, Default)]
struct Entries {
    next_call_id: i64,
    /// By resource, then by (slot, action, interval).
    by_resource: BTreeMap<String, BTreeMap<(i32, String, u64), pb::HistoryEntry>>,
    /// Resource ids in the order they were first recorded.
    order: Vec<String>,
    /// One-shot actions running now, by resource: (its pending entry, how
    /// many of the resource's actions run).
    running: BTreeMap<String, (pb::HistoryEntry, usize)>,
}

#[derive(Debug, Default)]
pub struct History {
    entries: Mutex<Entries>,
}

fn failed(result: &pb::ExecResult, record: &pb::Record) -> bool {
    result.status != i32::from(pb::OpStatus::Done) || result.rc != record.expected_rc
}

impl History {
    /// A one-shot action of the cluster's starts: until it is recorded, the
    /// history lists it as pending.
    pub fn begin(&self, pending: &pb::ExecResult, record: &pb::Record, now_s: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = pb::HistoryEntry {
            slot: pb::HistorySlot::Last.into(),
            result: Some(pb::ExecResult {
                status: pb::OpStatus::Pending.into(),
                ..pending.clone()
            }),
            record: Some(record.clone()),
            call_id: -1,
            last_rc_change_s: now_s,
        };
        let running = entries
            .running
            .entry(pending.resource_id.clone())
            .or_insert((entry.clone(), 0));
        running.0 = entry;
        running.1 += 1;
    }

    /// Records `result` of an action run with `record`; answers its call id
    /// and when its result last changed.
    pub fn record(&self, result: &pb::ExecResult, record: &pb::Record, now_s: i64) -> (i64, i64) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let recurring = result.interval_ms > 0;
        if !recurring && let Some(running) = entries.running.get_mut(&result.resource_id) {
            running.1 -= 1;
            if running.1 == 0 {
                entries.running.remove(&result.resource_id);
            }
        }
        entries.next_call_id += 1;
        let call_id = entries.next_call_id;
        let resource = result.resource_id.clone();
        if !entries.by_resource.contains_key(&resource) {
            if entries.order.len() >= RESOURCES_MAX {
                let oldest = entries.order.remove(0);
                tracing::warn!(resource = %oldest, "history full; forgetting the oldest resource's history");
                entries.by_resource.remove(&oldest);
            }
            entries.order.push(resource.clone());
        }
        let slots = entries.by_resource.entry(resource).or_default();
        let is_failure = failed(result, record);
        let mut put = |slot: pb::HistorySlot, action: &str, interval: u64| {
            let key = (i32::from(slot), action.to_owned(), interval);
            // A one-shot result is new each time; a recurring one keeps the
            // time its result last changed.
            let changed = slot != pb::HistorySlot::Recurring
                || slots.get(&key).is_none_or(|old| {
                    old.result
                        .as_ref()
                        .is_none_or(|r| (r.rc, r.status) != (result.rc, result.status))
                });
            let last_rc_change_s = match slots.get(&key) {
                Some(old) if !changed => old.last_rc_change_s,
                _ => now_s,
            };
            slots.insert(
                key,
                pb::HistoryEntry {
                    slot: slot.into(),
                    result: Some(result.clone()),
                    record: Some(record.clone()),
                    call_id,
                    last_rc_change_s,
                },
            );
            last_rc_change_s
        };
        let failure_changed = is_failure.then(|| put(pb::HistorySlot::LastFailure, "", 0));
        let changed = if recurring {
            if is_failure {
                failure_changed
            } else {
                Some(put(
                    pb::HistorySlot::Recurring,
                    &result.action,
                    result.interval_ms,
                ))
            }
        } else {
            Some(put(pb::HistorySlot::Last, "", 0))
        };
        (call_id, changed.unwrap_or(now_s))
    }

    /// Erases `resource`'s history; an action of it still running stays
    /// listed. False when nothing was recorded.
    pub fn forget(&self, resource: &str) -> bool {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.order.retain(|r| r != resource);
        entries.by_resource.remove(resource).is_some()
    }

    /// A recurring action was cancelled: its record goes, its failures stay.
    pub fn cancelled(&self, resource: &str, action: &str, interval_ms: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slots) = entries.by_resource.get_mut(resource) {
            let key = (
                i32::from(pb::HistorySlot::Recurring),
                action.to_owned(),
                interval_ms,
            );
            slots.remove(&key);
        }
    }

    /// Every entry, by resource; a running one-shot action in place of the
    /// resource's last result.
    pub fn entries(&self) -> Vec<pb::HistoryEntry> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let last = i32::from(pb::HistorySlot::Last);
        let mut listed: Vec<pb::HistoryEntry> = entries
            .by_resource
            .iter()
            .flat_map(|(resource, slots)| {
                let running = entries.running.contains_key(resource);
                slots
                    .iter()
                    .filter(move |((slot, _, _), _)| !(running && *slot == last))
                    .map(|(_, entry)| entry.clone())
            })
            .collect();
        listed.extend(entries.running.values().map(|(entry, _)| entry.clone()));
        listed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(action: &str, interval_ms: u64, rc: i32) -> pb::ExecResult {
        pb::ExecResult {
            resource_id: "vip".into(),
            agent: "ocf:heartbeat:IPaddr2".into(),
            action: action.into(),
            interval_ms,
            rc,
            status: pb::OpStatus::Done.into(),
            ..pb::ExecResult::default()
        }
    }

    fn slots(history: &History) -> Vec<(pb::HistorySlot, String, i32)> {
        history
            .entries()
            .into_iter()
            .map(|e| {
                let slot = e.slot();
                let r = e.result.unwrap_or_default();
                (slot, r.action, r.rc)
            })
            .collect()
    }

    #[test]
    fn failures_are_kept_beside_the_last_good_results() {
        let history = History::default();
        let ok = pb::Record::default();
        history.record(&result("start", 0, 0), &ok, 10);
        history.record(&result("monitor", 10_000, 0), &ok, 11);
        history.record(&result("monitor", 10_000, 7), &ok, 12);
        assert_eq!(
            slots(&history),
            [
                (pb::HistorySlot::Last, "start".to_owned(), 0),
                (pb::HistorySlot::LastFailure, "monitor".to_owned(), 7),
                (pb::HistorySlot::Recurring, "monitor".to_owned(), 0),
            ]
        );
        history.cancelled("vip", "monitor", 10_000);
        assert_eq!(slots(&history).len(), 2, "the failure stays");
        let probe = pb::Record {
            expected_rc: 7,
            ..pb::Record::default()
        };
        history.record(&result("monitor", 0, 7), &probe, 13);
        assert!(
            slots(&history).contains(&(pb::HistorySlot::Last, "monitor".to_owned(), 7)),
            "an expected rc 7 is no failure"
        );
        let calls: Vec<i64> = history.entries().iter().map(|e| e.call_id).collect();
        assert!(calls.iter().all(|&c| c > 0));
    }

    #[test]
    fn a_running_action_is_listed_as_pending_until_its_result_comes() {
        let history = History::default();
        let ok = pb::Record::default();
        history.record(&result("start", 0, 0), &ok, 10);
        let mut stop = result("stop", 0, 193);
        stop.status = pb::OpStatus::Pending.into();
        history.begin(&stop, &ok, 11);
        let listed = history.entries();
        assert_eq!(listed.len(), 1, "the pending stop replaces the last start");
        assert_eq!(listed[0].call_id, -1);
        assert_eq!(
            listed[0].result.as_ref().map(|r| r.action.as_str()),
            Some("stop")
        );
        assert_eq!(
            listed[0].result.as_ref().map(pb::ExecResult::status),
            Some(pb::OpStatus::Pending)
        );
        let (call_id, changed) = history.record(&result("stop", 0, 0), &ok, 12);
        assert_eq!((call_id, changed), (2, 12));
        assert_eq!(
            slots(&history),
            [(pb::HistorySlot::Last, "stop".to_owned(), 0)]
        );
        assert!(history.forget("vip"));
        assert!(history.entries().is_empty());
        assert!(!history.forget("vip"), "nothing left to forget");
    }
}
