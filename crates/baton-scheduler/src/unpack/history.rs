//! Replaying each node's operation history (`lrm_rsc_op`, sorted by
//! call-id) into a resource's current role, failures and bans, and reading
//! fail counts against migration-threshold.

use baton_cib::model::LrmRscOp;
use baton_cib::{Cib, Score};
use std::collections::{BTreeMap, BTreeSet};

use super::resources::{Rsc, RscKind, RscMeta};
use super::{Cluster, NodeIdx, NodeState, RscIdx};
use crate::SchedulerError;

/// Roles ordered as Pacemaker compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Stopped,
    Started,
    Unpromoted,
    Promoted,
}

/// How a failure is handled (`on-fail`), in increasing severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum OnFail {
    #[default]
    Ignore,
    Restart,
    Stop,
    Block,
    Standby,
    Fence,
}

#[derive(Debug, Clone, Default)]
pub struct RscStatus {
    /// Nodes it is active on, with the role there.
    pub running: Vec<(NodeIdx, Role)>,
    /// Needs recovery: a failure not cleared by a later stop or start.
    pub failed: bool,
    /// Failure handling that is in force.
    pub on_fail: OnFail,
    /// Nodes it may not run on (fail count at threshold, hard errors).
    pub banned: BTreeSet<NodeIdx>,
    /// A stop failed and cannot be fenced away: leave it alone.
    pub blocked: bool,
}

impl RscStatus {
    pub fn current_node(&self) -> Option<NodeIdx> {
        self.running.first().map(|(n, _)| *n)
    }

    pub fn role(&self) -> Role {
        self.running
            .iter()
            .map(|(_, r)| *r)
            .max()
            .unwrap_or(Role::Stopped)
    }
}

/// What one node's history says about one resource.
#[derive(Debug, Default)]
struct Replay {
    role: Option<Role>,
    on_fail: OnFail,
    hard_error: bool,
    stop_failed: bool,
}

const RC_OK: i32 = 0;
const RC_NOT_INSTALLED: i32 = 5;
const RC_NOT_RUNNING: i32 = 7;
const RC_PROMOTED: i32 = 8;
const RC_FAILED_PROMOTED: i32 = 9;
const RC_DEGRADED: i32 = 190;
const RC_DEGRADED_PROMOTED: i32 = 191;

const EXEC_PENDING: i32 = -1;
const EXEC_CANCELLED: i32 = 1;
const EXEC_ERROR: i32 = 4;
const EXEC_NOT_INSTALLED: i32 = 7;

fn default_on_fail(task: &str, fencing: bool) -> OnFail {
    match task {
        "stop" if fencing => OnFail::Fence,
        "stop" => OnFail::Block,
        _ => OnFail::Restart,
    }
}

fn parse_on_fail(s: &str) -> Option<OnFail> {
    Some(match s {
        "ignore" => OnFail::Ignore,
        "block" => OnFail::Block,
        "stop" => OnFail::Stop,
        "standby" => OnFail::Standby,
        "fence" => OnFail::Fence,
        "restart" | "demote" | "restart-container" => OnFail::Restart,
        _ => return None,
    })
}

/// Settings that shape how a history is read.
#[derive(Debug, Clone, Copy)]
struct ReplayCtx {
    fencing: bool,
    start_fatal: bool,
    lsb: bool,
    now_s: i64,
}

fn replay(ops: &[LrmRscOp<'_>], rsc: &Rsc, ctx: ReplayCtx) -> Replay {
    let ReplayCtx {
        fencing,
        start_fatal,
        lsb,
        now_s,
    } = ctx;
    let mut r = Replay::default();
    for op in ops {
        let task = op.operation().unwrap_or("");
        let interval = op.interval_ms().unwrap_or(0);
        let mut rc = op.rc_code().ok().flatten().unwrap_or(0);
        // LSB `status` says 3 for "not running".
        if lsb && task == "monitor" && rc == 3 {
            rc = RC_NOT_RUNNING;
        }
        // "Degraded" results are successes for scheduling purposes.
        rc = match rc {
            RC_DEGRADED => RC_OK,
            RC_DEGRADED_PROMOTED => RC_PROMOTED,
            other => other,
        };
        let status = op.op_status().ok().flatten().unwrap_or(0);
        let target = op
            .transition_key()
            .ok()
            .flatten()
            .map_or(RC_OK, |k| k.target_rc);
        let probe = task == "monitor" && interval == 0;
        if status == EXEC_CANCELLED {
            continue;
        }
        if status == EXEC_PENDING {
            match task {
                "start" | "migrate_to" | "migrate_from" => r.role = Some(Role::Started),
                "promote" => r.role = Some(Role::Promoted),
                _ => {}
            }
            continue;
        }
        // Old executors recorded "error" for any unexpected rc; the rc is
        // what decides the outcome.
        let status = if status == EXEC_ERROR { 0 } else { status };
        // Invalid parameters, unimplemented, insufficient privileges, not
        // installed: retrying on this node cannot help.
        let hard = status == EXEC_NOT_INSTALLED || (2..=RC_NOT_INSTALLED).contains(&rc);
        if probe && status == 0 && matches!(rc, RC_OK | RC_NOT_RUNNING | RC_PROMOTED) {
            r.role = Some(match rc {
                RC_OK => Role::Started,
                RC_PROMOTED => Role::Promoted,
                _ => Role::Stopped,
            });
            continue;
        }
        if probe && (status == EXEC_NOT_INSTALLED || rc == RC_NOT_INSTALLED) {
            // Not installed here: it is not running, and cannot run here.
            r.hard_error = true;
            r.role = Some(Role::Stopped);
            continue;
        }
        let success = status == 0
            && (rc == target
                || (task == "stop" && rc == RC_NOT_RUNNING)
                || (task == "monitor" && rc == RC_PROMOTED && target == RC_OK));
        if success {
            let clears = match task {
                "start" | "migrate_from" => {
                    r.role = Some(Role::Started);
                    true
                }
                "stop" | "migrate_to" if task == "stop" => {
                    r.role = Some(Role::Stopped);
                    true
                }
                "migrate_to" => {
                    r.role = Some(Role::Started);
                    false
                }
                "promote" => {
                    r.role = Some(Role::Promoted);
                    false
                }
                "demote" => {
                    r.role = Some(Role::Unpromoted);
                    true
                }
                "monitor" => {
                    if rc == RC_PROMOTED {
                        r.role = Some(Role::Promoted);
                    } else if r.role.is_none_or(|x| x == Role::Stopped) {
                        r.role = Some(Role::Started);
                    }
                    false
                }
                _ => false,
            };
            if clears && r.on_fail <= OnFail::Restart {
                r.on_fail = OnFail::Ignore;
            }
            continue;
        }
        // A failure, unless failure-timeout says it has expired.
        let timeout = rsc.meta.failure_timeout_s;
        if timeout > 0 && !probe {
            let at = op.last_rc_change().ok().flatten().unwrap_or(0);
            if at.saturating_add(timeout) <= now_s {
                continue;
            }
        }
        let configured = rsc
            .on_fail
            .get(&(task.to_owned(), interval))
            .and_then(|s| parse_on_fail(s));
        let mut on_fail = configured.unwrap_or_else(|| default_on_fail(task, fencing));
        if on_fail == OnFail::Fence && !fencing {
            on_fail = OnFail::Block;
        }
        if hard {
            r.hard_error = true;
        }
        // With start-failure-is-fatal, a failed start bans the node.
        if task == "start" && start_fatal {
            r.hard_error = true;
        }
        match task {
            "stop" => {
                r.stop_failed = true;
                r.role = Some(r.role.unwrap_or(Role::Started).max(Role::Started));
            }
            "promote" => r.role = Some(Role::Promoted),
            // A failed demote is recovered as an unpromoted instance.
            "demote" => r.role = Some(Role::Unpromoted),
            _ if rc == RC_FAILED_PROMOTED => r.role = Some(Role::Promoted),
            _ => {
                let cur = r.role.unwrap_or(Role::Stopped);
                r.role = Some(cur.max(Role::Started));
            }
        }
        if on_fail == OnFail::Ignore {
            continue;
        }
        r.on_fail = r.on_fail.max(on_fail);
    }
    r
}

fn sorted_ops<'a>(ops: impl Iterator<Item = LrmRscOp<'a>>) -> Vec<LrmRscOp<'a>> {
    let mut v: Vec<(i64, usize, LrmRscOp<'a>)> = ops
        .enumerate()
        .map(|(i, op)| {
            // Pending ops (call-id -1) are the newest.
            let id = op.call_id().ok().flatten().unwrap_or(-1);
            (if id < 0 { i64::MAX } else { id }, i, op)
        })
        .collect();
    v.sort_by_key(|(id, i, _)| (*id, *i));
    v.into_iter().map(|(_, _, op)| op).collect()
}

/// Picks the primitive that a history entry `lrm_id` describes on `node`.
fn resolve(cluster: &Cluster, lrm_id: &str, node: NodeIdx, active: bool) -> Option<RscIdx> {
    if let Some(&i) = cluster.by_id.get(lrm_id)
        && cluster.rsc(i).is_primitive()
        && cluster.rsc(i).id == cluster.rsc(i).base_id
    {
        return Some(i);
    }
    let base = lrm_id.split_once(':').map_or(lrm_id, |(b, _)| b);
    let candidates: Vec<RscIdx> = (0..cluster.rscs.len())
        .map(RscIdx)
        .filter(|&i| {
            let r = cluster.rsc(i);
            r.is_primitive() && r.base_id == base && r.id != r.base_id
        })
        .collect();
    let first = *candidates.first()?;
    // Globally unique instances are distinct resources: the id is exact.
    if clone_of(cluster, first).is_some_and(|c| c.unique) {
        return candidates
            .into_iter()
            .find(|&i| cluster.rsc(i).id == lrm_id);
    }
    // An instance already active on this node keeps collecting its history.
    if let Some(&i) = candidates.iter().find(|&&i| {
        cluster
            .rsc(i)
            .status
            .running
            .iter()
            .any(|(n, _)| *n == node)
    }) {
        return Some(i);
    }
    if !active {
        return candidates.first().copied();
    }
    // Anonymous instances are interchangeable: the history goes to the
    // first instance not yet active anywhere, whatever suffix it was
    // recorded under.
    candidates
        .iter()
        .find(|i| cluster.rsc(**i).status.running.is_empty())
        .copied()
}

fn clone_of(cluster: &Cluster, mut i: RscIdx) -> Option<&super::CloneInfo> {
    while let Some(p) = cluster.rsc(i).parent {
        if let RscKind::Clone(c) = &cluster.rsc(p).kind {
            return Some(c);
        }
        i = p;
    }
    None
}

/// An active anonymous instance beyond clone-max is named after the next
/// free instance number; anything else keeps its recorded id.
fn orphan_name(cluster: &Cluster, lrm_id: &str) -> String {
    let base = lrm_id.split_once(':').map_or(lrm_id, |(b, _)| b);
    let numbered = cluster
        .rscs
        .iter()
        .filter(|r| r.base_id == base && r.id != r.base_id)
        .count();
    if numbered == 0 && !cluster.by_id.contains_key(base) {
        return lrm_id.to_owned();
    }
    format!("{base}:{numbered}")
}

fn orphan(cluster: &mut Cluster, id: &str, class: &str) -> RscIdx {
    let i = RscIdx(cluster.rscs.len());
    let base = id.split_once(':').map_or(id, |(b, _)| b);
    cluster.rscs.push(Rsc {
        id: id.to_owned(),
        base_id: base.to_owned(),
        kind: RscKind::Primitive,
        parent: None,
        class: class.to_owned(),
        meta: RscMeta {
            priority: 0,
            stickiness: Score::ZERO,
            target_role: None,
            managed: !cluster.options.maintenance_mode,
            migration_threshold: i64::from(Score::INFINITY_VALUE),
            failure_timeout_s: 0,
        },
        status: super::RscStatus::default(),
        on_fail: BTreeMap::new(),
        orphan: true,
    });
    cluster.by_id.insert(id.to_owned(), i);
    cluster.top.push(i);
    i
}

pub fn read(cib: &Cib, cluster: &mut Cluster) -> Result<(), SchedulerError> {
    let fencing = cluster.options.fencing_enabled;
    let start_fatal = cluster.options.start_failure_is_fatal;
    for st in cib.node_states() {
        let Some(node) = cluster
            .nodes
            .iter()
            .position(|n| n.id == st.id() || Some(n.uname.as_str()) == st.uname())
            .map(NodeIdx)
        else {
            continue;
        };
        // A cleanly stopped node runs nothing, whatever its last history
        // says; an unclean one may still run what it had.
        {
            let n = &cluster.nodes[node.0];
            if !n.is_online() && !n.is_unclean() {
                continue;
            }
        }
        for lrm in st.lrm_resources() {
            let ops = sorted_ops(lrm.ops());
            let lrm_id = lrm.id();
            let ctx = ReplayCtx {
                fencing,
                start_fatal,
                lsb: lrm.class() == Some("lsb"),
                now_s: cluster.now_s,
            };
            // Replay against the configured primitive for its on-fail table.
            let probe_rsc = resolve(cluster, lrm_id, node, false);
            let result = match probe_rsc {
                Some(i) => replay(&ops, cluster.rsc(i), ctx),
                None => {
                    let tmp = Rsc {
                        id: lrm_id.to_owned(),
                        base_id: lrm_id.to_owned(),
                        kind: RscKind::Primitive,
                        parent: None,
                        class: String::new(),
                        meta: RscMeta {
                            priority: 0,
                            stickiness: Score::ZERO,
                            target_role: None,
                            managed: true,
                            migration_threshold: 0,
                            failure_timeout_s: 0,
                        },
                        status: super::RscStatus::default(),
                        on_fail: BTreeMap::new(),
                        orphan: true,
                    };
                    replay(&ops, &tmp, ctx)
                }
            };
            let role = result.role.unwrap_or(Role::Stopped);
            let active = role != Role::Stopped;
            let idx = match resolve(cluster, lrm_id, node, active) {
                Some(i) => i,
                None if active => {
                    let name = orphan_name(cluster, lrm_id);
                    orphan(cluster, &name, lrm.class().unwrap_or(""))
                }
                None => continue,
            };
            let fence_reason = format!("{} failed there", cluster.rsc(idx).id);
            // Fencing the node will settle whatever was stuck on it.
            let fenceable =
                cluster.nodes[node.0].is_unclean() && crate::actions::can_fence(cluster);
            let rsc = &mut cluster.rscs[idx.0];
            if result.hard_error {
                rsc.status.banned.insert(node);
            }
            if !active {
                continue;
            }
            rsc.status.running.push((node, role));
            if result.on_fail >= OnFail::Restart {
                rsc.status.failed = true;
                rsc.status.on_fail = rsc.status.on_fail.max(result.on_fail);
            }
            if result.stop_failed {
                match result.on_fail {
                    OnFail::Fence => {
                        let n = &mut cluster.nodes[node.0];
                        if n.is_online() {
                            n.state = NodeState::Unclean(fence_reason);
                        }
                    }
                    OnFail::Block if !fenceable => cluster.rscs[idx.0].status.blocked = true,
                    _ => {}
                }
            } else if result.on_fail == OnFail::Block && !fenceable {
                cluster.rscs[idx.0].status.blocked = true;
            }
        }
    }
    // Resources on a node in maintenance are left alone.
    for i in 0..cluster.rscs.len() {
        let on_maintenance = cluster.rscs[i]
            .status
            .running
            .iter()
            .any(|(n, _)| cluster.nodes[n.0].maintenance);
        if on_maintenance {
            cluster.rscs[i].status.blocked = true;
        }
    }
    // A promotable instance that is merely started is unpromoted.
    for i in 0..cluster.rscs.len() {
        if clone_of(cluster, RscIdx(i)).is_some_and(|c| c.promotable) {
            for (_, role) in &mut cluster.rscs[i].status.running {
                if *role == Role::Started {
                    *role = Role::Unpromoted;
                }
            }
        }
    }
    apply_fail_counts(cluster);
    Ok(())
}

/// Bans a resource from nodes where its fail count has reached its
/// migration-threshold (unexpired failures only).
fn apply_fail_counts(cluster: &mut Cluster) {
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
        let mut bans = Vec::new();
        for (n, node) in cluster.nodes.iter().enumerate() {
            let mut total: i64 = 0;
            for (name, value) in &node.fail_attrs {
                let Some(rest) = prefixes.iter().find_map(|p| name.strip_prefix(p.as_str())) else {
                    continue;
                };
                if !(rest.is_empty() || rest.starts_with('#')) {
                    continue;
                }
                // Failures of an operation with on-fail=ignore never count.
                if let Some((op, interval)) = rest.trim_start_matches('#').rsplit_once('_')
                    && let Ok(interval) = interval.parse::<u64>()
                    && r.on_fail
                        .get(&(op.to_owned(), interval))
                        .map(String::as_str)
                        == Some("ignore")
                {
                    continue;
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
            if total >= threshold {
                bans.push(NodeIdx(n));
            }
        }
        cluster.rscs[i].status.banned.extend(bans);
    }
}
