//! Fail counts (`fail-count-<rsc>#<op>_<interval>` node attributes)
//! against migration-threshold: enough unexpired failures ban a resource
//! from the node, or only from being promoted there when the failing
//! operation's on-fail is demote.

use std::collections::BTreeMap;

use baton_cib::Score;

use super::history::{FailCount, clone_of};
use super::{Cluster, NodeIdx, RscIdx};

/// Bans a resource from nodes where its fail count has reached its
/// migration-threshold (unexpired failures only).
pub(super) fn apply(cluster: &mut Cluster) {
    let now = cluster.now_s;
    for i in 0..cluster.rscs.len() {
        let r = &cluster.rscs[i];
        if !r.is_primitive() {
            continue;
        }
        let threshold = r.meta.migration_threshold;
        let timeout = r.meta.failure_timeout_s;
        let prefixes = [
            format!("fail-count-{}", r.base_id),
            format!("fail-count-{}", r.id),
        ];
        // Anonymous instances are interchangeable: failures recorded under
        // any instance number count for all of them.
        let anonymous = clone_of(cluster, RscIdx(i)).is_some_and(|c| !c.unique);
        let mut bans = Vec::new();
        let mut counts = BTreeMap::new();
        for (n, node) in cluster.nodes.iter().enumerate() {
            let mut total: i64 = 0;
            let mut demote_only = false;
            // As Pacemaker counts them for clearing: every failure, and
            // unless the newest one is older than failure-timeout.
            let mut all: i64 = 0;
            let mut newest: i64 = 0;
            // A failure of an operation that blocks the resource never
            // expires.
            let mut blocks = false;
            for (name, value) in &node.fail_attrs {
                let Some(mut rest) = prefixes.iter().find_map(|p| name.strip_prefix(p.as_str()))
                else {
                    continue;
                };
                if anonymous && let Some(numbered) = rest.strip_prefix(':') {
                    rest = numbered.trim_start_matches(|c: char| c.is_ascii_digit());
                }
                if !(rest.is_empty() || rest.starts_with('#')) {
                    continue;
                }
                // Failures of an operation with on-fail=ignore never count;
                // those of one with on-fail=demote only cost promotion.
                let configured = rest
                    .trim_start_matches('#')
                    .rsplit_once('_')
                    .and_then(|(op, interval)| Some((op.to_owned(), interval.parse::<u64>().ok()?)))
                    .and_then(|key| r.on_fail.get(&key))
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
                    Some("ignore") => continue,
                    Some("demote") => demote_only = true,
                    Some("block") => blocks = true,
                    _ => {}
                }
                if timeout > 0 {
                    let last = format!("last-failure-{}", &name["fail-count-".len()..]);
                    let at = node
                        .fail_attrs
                        .get(&last)
                        .and_then(|v| v.parse::<i64>().ok())
                        .unwrap_or(0);
                    if at.saturating_add(timeout) <= now {
                        continue;
                    }
                }
                let v = value.parse::<Score>().map_or(0, |s| i64::from(s.value()));
                total = total.saturating_add(v);
            }
            if all > 0 {
                let expired =
                    timeout > 0 && !blocks && newest > 0 && newest.saturating_add(timeout) < now;
                let effective = if expired { 0 } else { all };
                counts.insert(NodeIdx(n), FailCount { all, effective });
            }
            // Any failure of an on-fail=demote operation keeps promotion
            // away from the node.
            if threshold > 0 && (total >= threshold || (demote_only && total > 0)) {
                bans.push((NodeIdx(n), demote_only));
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
}
