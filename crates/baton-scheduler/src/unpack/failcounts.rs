//! Fail counts (`fail-count-<rsc>#<op>_<interval>` node attributes)
//! against migration-threshold: enough unexpired failures ban a resource
//! from the node, or only from being promoted there when the failing
//! operation's on-fail is demote.
//!
//! As Pacemaker counts them, a resource's fail count on a node is the sum
//! of all its attributes there, and all of them expire together once the
//! newest failure is older than failure-timeout (never when a failing
//! operation's on-fail is block).

use std::collections::BTreeMap;

use baton_cib::Score;

use super::history::{FailCount, clone_of};
use super::{Cluster, NodeIdx, NodeInfo, Rsc, RscIdx};

/// One resource's failures on one node.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Failures {
    pub count: FailCount,
    /// Failures that count towards migration-threshold (those of
    /// operations with on-fail=ignore do not), zero once expired.
    pub towards_threshold: i64,
    /// Some failing operation has on-fail=demote.
    pub demote_only: bool,
    /// When these failures will have expired, if they will.
    pub expire_at: Option<i64>,
}

/// `rsc`'s failures recorded on `node` as of `now`; `anonymous` when
/// failures under any instance number are the same resource's.
pub(super) fn failures(rsc: &Rsc, anonymous: bool, node: &NodeInfo, now: i64) -> Failures {
    let prefixes = [
        format!("fail-count-{}", rsc.base_id),
        format!("fail-count-{}", rsc.id),
    ];
    let mut all: i64 = 0;
    let mut counted: i64 = 0;
    let mut newest: i64 = 0;
    let mut blocks = false;
    let mut demote_only = false;
    // What follows the resource's name: nothing (an old, per-resource
    // count) or `#<op>_<interval>`; an anonymous instance's count may
    // carry any instance number.
    let operation_part = |name: &str| -> Option<String> {
        prefixes.iter().find_map(|p| {
            let mut rest = name.strip_prefix(p.as_str())?;
            if anonymous && let Some(numbered) = rest.strip_prefix(':') {
                rest = numbered.trim_start_matches(|c: char| c.is_ascii_digit());
            }
            (rest.is_empty() || rest.starts_with('#')).then(|| rest.to_owned())
        })
    };
    for (name, value) in &node.fail_attrs {
        let Some(rest) = operation_part(name) else {
            continue;
        };
        let configured = rest
            .trim_start_matches('#')
            .rsplit_once('_')
            .and_then(|(op, interval)| Some((op.to_owned(), interval.parse::<u64>().ok()?)))
            .and_then(|key| rsc.on_fail.get(&key))
            .map(String::as_str);
        let count = value.parse::<Score>().map_or(0, |s| i64::from(s.value()));
        all = all.saturating_add(count);
        let last = format!("last-failure-{}", &name["fail-count-".len()..]);
        if let Some(at) = node
            .fail_attrs
            .get(&last)
            .and_then(|v| v.parse::<i64>().ok())
        {
            newest = newest.max(at);
        }
        match configured {
            // Failures of an operation with on-fail=ignore never count.
            Some("ignore") => continue,
            Some("demote") => demote_only = true,
            Some("block") => blocks = true,
            _ => {}
        }
        counted = counted.saturating_add(count);
    }
    let timeout = rsc.meta.failure_timeout_s;
    let expires = timeout > 0 && !blocks && newest > 0;
    let expired = expires && newest.saturating_add(timeout) < now;
    Failures {
        expire_at: (expires && !expired && all > 0).then(|| newest.saturating_add(timeout) + 1),
        count: FailCount {
            all,
            effective: if expired { 0 } else { all },
        },
        towards_threshold: if expired { 0 } else { counted },
        demote_only,
    }
}

/// Records every primitive's fail counts, and bans it from nodes where
/// they reached its migration-threshold.
pub(super) fn apply(cluster: &mut Cluster) {
    let now = cluster.now_s;
    let mut recheck_by = cluster.recheck_by;
    for i in 0..cluster.rscs.len() {
        let r = &cluster.rscs[i];
        if !r.is_primitive() {
            continue;
        }
        let threshold = r.meta.migration_threshold;
        let anonymous = clone_of(cluster, RscIdx(i)).is_some_and(|c| !c.unique);
        let mut bans = Vec::new();
        let mut counts = BTreeMap::new();
        for (n, node) in cluster.nodes.iter().enumerate() {
            let f = failures(r, anonymous, node, now);
            if let Some(at) = f.expire_at {
                recheck_by = Some(recheck_by.map_or(at, |earliest: i64| earliest.min(at)));
            }
            if f.count.all > 0 {
                counts.insert(NodeIdx(n), f.count);
            }
            // Any failure of an on-fail=demote operation keeps promotion
            // away from the node.
            let total = f.towards_threshold;
            if threshold > 0 && (total >= threshold || (f.demote_only && total > 0)) {
                bans.push((NodeIdx(n), f.demote_only));
            }
        }
        let status = &mut cluster.rscs[i].status;
        status.fail_counts = counts;
        for (n, demote_only) in bans {
            if demote_only {
                status.promotion_banned.insert(n);
            } else {
                status.banned.insert(n);
            }
        }
    }
    cluster.recheck_by = recheck_by;
}
