//! Fail counts (`fail-count-<rsc>#<op>_<interval>` node attributes)
//! against migration-threshold: enough unexpired failures ban a resource
//! from the node, or only from being promoted there when the failing
//! operation's on-fail is demote.

use baton_cib::Score;

use super::history::clone_of;
use super::{Cluster, NodeIdx, RscIdx};

/// Bans a resource from nodes where its fail count has reached its
/// migration-threshold (unexpired failures only).
pub(super) fn apply(cluster: &mut Cluster) {
    let now = cluster.now_s;
    for i in 0..cluster.rscs.len() {
        let r = &cluster.rscs[i];
        if !r.is_primitive() || r.meta.migration_threshold <= 0 {
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
        for (n, node) in cluster.nodes.iter().enumerate() {
            let mut total: i64 = 0;
            let mut demote_only = false;
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
                match configured {
                    Some("ignore") => continue,
                    Some("demote") => demote_only = true,
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
            // Any failure of an on-fail=demote operation keeps promotion
            // away from the node.
            if total >= threshold || (demote_only && total > 0) {
                bans.push((NodeIdx(n), demote_only));
            }
        }
        let status = &mut cluster.rscs[i].status;
        for (n, demote_only) in bans {
            if demote_only {
                status.promotion_banned.insert(n);
            } else {
                status.banned.insert(n);
            }
        }
    }
}
