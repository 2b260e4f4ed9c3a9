//! The meta attributes a resource action carries (`CRM_meta_*` in the
//! graph, without the prefix here): the configured `<op>`'s attributes
//! over `op_defaults`, with the interval and timeout in milliseconds.

use std::collections::BTreeMap;

use crate::unpack::{Cluster, Rsc};

/// The timeout of an action without one configured anywhere.
pub const DEFAULT_TIMEOUT_MS: u64 = 20_000;

fn ms(text: &str) -> Option<u64> {
    baton_cib::duration::parse_duration_ms(text).ok()
}

/// The meta attributes of `rsc`'s `task` at `interval_ms`, by attribute
/// name as written (`on-fail`, `timeout`, ...).
pub fn action_meta(
    cluster: &Cluster,
    rsc: &Rsc,
    task: &str,
    interval_ms: u64,
) -> BTreeMap<String, String> {
    let mut meta = BTreeMap::new();
    let config = rsc.run.find(task, interval_ms).or_else(|| {
        // Notifications use the `notify` op, whatever they notify about.
        (task == "notify")
            .then(|| rsc.run.find("notify", 0))
            .flatten()
    });
    if let Some(op) = config {
        meta.extend(op.attrs.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    // A probe without its own configuration takes the timeout of the most
    // frequent recurring monitor.
    let probe = task == "monitor" && interval_ms == 0;
    if probe
        && !meta.contains_key("timeout")
        && let Some(timeout) = rsc
            .run
            .most_frequent_monitor()
            .and_then(|m| m.attrs.get("timeout"))
    {
        meta.insert("timeout".to_owned(), timeout.clone());
    }
    for (k, v) in &cluster.options.op_defaults {
        meta.entry(k.clone()).or_insert_with(|| v.clone());
    }
    meta.remove("id");
    if interval_ms > 0 {
        meta.insert("interval".to_owned(), interval_ms.to_string());
    } else {
        meta.remove("interval");
    }
    let timeout = meta
        .get("timeout")
        .and_then(|t| ms(t))
        .filter(|t| *t > 0)
        .unwrap_or(DEFAULT_TIMEOUT_MS);
    meta.insert("timeout".to_owned(), timeout.to_string());
    meta
}

/// The timeout of `rsc`'s `task` at `interval_ms`, in milliseconds.
pub fn timeout_ms(cluster: &Cluster, rsc: &Rsc, task: &str, interval_ms: u64) -> u64 {
    action_meta(cluster, rsc, task, interval_ms)
        .get("timeout")
        .and_then(|t| t.parse().ok())
        .unwrap_or(DEFAULT_TIMEOUT_MS)
}
