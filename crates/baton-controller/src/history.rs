//! Operation history as the CIB records it: one `lrm_rsc_op` per slot
//! (`<rsc>_last_0`, `<rsc>_last_failure_0`, `<rsc>_<op>_<interval>`) under
//! `node_state/lrm/lrm_resources/lrm_resource`, with Pacemaker's attributes
//! in Pacemaker's order (FACTS-CRM §5).

use std::collections::BTreeMap;

use baton_cib::xml::{Document, ElementId};

/// Which record of a resource an operation result fills.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum HistorySlot {
    /// The last one-shot operation (`<rsc>_last_0`).
    Last,
    /// The last failure of any operation (`<rsc>_last_failure_0`).
    LastFailure,
    /// The last result of one recurring operation (`<rsc>_<op>_<interval>`).
    Recurring,
}

/// One operation result, as the node's resource manager remembers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OpRecord {
    pub slot: HistorySlot,
    /// The resource's history id (for clone instances, the id the node knows).
    pub resource: String,
    pub class: String,
    pub provider: Option<String>,
    pub agent: String,
    pub operation: String,
    pub interval_ms: u64,
    pub call_id: i64,
    pub rc: i32,
    /// Pacemaker's execution status: 0 done, 1 cancelled, 2 timeout, 4
    /// error, 7 not installed…
    pub op_status: i32,
    /// When the result last changed, seconds since the epoch.
    pub last_rc_change_s: i64,
    pub exec_ms: u64,
    pub queue_ms: u64,
    pub exit_reason: String,
    /// `<action>:<transition>:<target rc>:<uuid>`, when the DC asked for it.
    pub transition_key: Option<String>,
    pub op_digest: Option<String>,
}

impl OpRecord {
    /// `<rsc>_<op>_<interval>`.
    #[must_use]
    pub fn operation_key(&self) -> String {
        format!("{}_{}_{}", self.resource, self.operation, self.interval_ms)
    }

    /// The `lrm_rsc_op` id this record fills.
    #[must_use]
    pub fn record_id(&self) -> String {
        match self.slot {
            HistorySlot::Last => format!("{}_last_0", self.resource),
            HistorySlot::LastFailure => format!("{}_last_failure_0", self.resource),
            HistorySlot::Recurring => self.operation_key(),
        }
    }
}

/// Replaces the children of `lrm_resources` with `records`, one
/// `lrm_resource` per resource (in id order) holding its records.
pub(crate) fn write(
    doc: &mut Document,
    lrm_resources: ElementId,
    node_name: &str,
    records: &[OpRecord],
) {
    let mut by_resource: BTreeMap<&str, Vec<&OpRecord>> = BTreeMap::new();
    for record in records {
        by_resource
            .entry(&record.resource)
            .or_default()
            .push(record);
    }
    for (_, mut records) in by_resource {
        records.sort_by_key(|r| (r.call_id, r.record_id()));
        let element = append_resource(doc, lrm_resources, records[0]);
        for record in records {
            write_op(doc, element, node_name, record);
        }
    }
}

/// A new `lrm_resource` for `record`'s resource.
pub(crate) fn append_resource(
    doc: &mut Document,
    lrm_resources: ElementId,
    record: &OpRecord,
) -> ElementId {
    let mut attrs = vec![
        ("id", record.resource.as_str()),
        ("class", record.class.as_str()),
    ];
    if let Some(provider) = &record.provider {
        attrs.push(("provider", provider));
    }
    attrs.push(("type", &record.agent));
    doc.append_new(lrm_resources, "lrm_resource", &attrs)
}

pub(crate) fn write_op(doc: &mut Document, lrm_resource: ElementId, node_name: &str, r: &OpRecord) {
    let (id, key) = (r.record_id(), r.operation_key());
    let (call_id, rc, status) = (
        r.call_id.to_string(),
        r.rc.to_string(),
        r.op_status.to_string(),
    );
    let (interval, changed) = (r.interval_ms.to_string(), r.last_rc_change_s.to_string());
    let (exec, queue) = (r.exec_ms.to_string(), r.queue_ms.to_string());
    let magic = r
        .transition_key
        .as_ref()
        .map(|key| format!("{}:{};{key}", r.op_status, r.rc));
    let mut attrs: Vec<(&str, &str)> = vec![
        ("id", &id),
        ("operation_key", &key),
        ("operation", &r.operation),
        ("crm-debug-origin", "build_active_RAs"),
    ];
    if let (Some(key), Some(magic)) = (&r.transition_key, &magic) {
        attrs.push(("transition-key", key));
        attrs.push(("transition-magic", magic));
    }
    attrs.extend([
        ("exit-reason", r.exit_reason.as_str()),
        ("on_node", node_name),
        ("call-id", &call_id),
        ("rc-code", &rc),
        ("op-status", &status),
        ("interval", &interval),
        ("last-rc-change", &changed),
        ("exec-time", &exec),
        ("queue-time", &queue),
    ]);
    if let Some(digest) = &r.op_digest {
        attrs.push(("op-digest", digest));
    }
    doc.append_new(lrm_resource, "lrm_rsc_op", &attrs);
}
