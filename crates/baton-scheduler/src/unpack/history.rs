//! Each node's operation history (`lrm_rsc_op`) attributed to the
//! resource it describes (anonymous clone instances are interchangeable,
//! extra ones become orphans), replayed (see `replay`) into where each
//! resource runs, in which role, and what its failures mean; then fail
//! counts (see `failcounts`).

use baton_cib::model::LrmRscOp;
use baton_cib::{Cib, Score};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::digest::DefinitionChange;
use super::operations::{Agent, RunConfig};
use super::replay::{ReplayCtx, definition_change, replay, sorted_ops};
use super::resources::{MultipleActive, Requires, Rsc, RscKind, RscMeta};
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
    /// Demote the promoted instance and promote elsewhere.
    Demote,
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
    /// A failure whose on-fail is stop keeps it off every node until it is
    /// cleaned up, even once it has stopped.
    pub stopped_by_failure: bool,
    /// A stop failed and cannot be fenced away: leave it alone.
    pub blocked: bool,
    /// Nodes where a stop failed (shown as bans in allocation scores).
    pub stop_failed_on: BTreeSet<NodeIdx>,
    /// Nodes where it may run but not be promoted (failures whose on-fail
    /// is demote reached migration-threshold).
    pub promotion_banned: BTreeSet<NodeIdx>,
    /// Nodes where it runs with parameters that are no longer configured.
    pub definition_change: BTreeMap<NodeIdx, DefinitionChange>,
    /// The name its history has on each node where it runs: an anonymous
    /// instance may be recorded under another instance number.
    pub history_name: BTreeMap<NodeIdx, String>,
    /// Nodes where its history is recorded: its state there is known, so
    /// it needs no probe there.
    pub known_on: BTreeSet<NodeIdx>,
    /// The id the nodes know it by, when that differs from its own (an
    /// anonymous clone instance is recorded under the primitive's id).
    pub history_id: Option<String>,
    /// Recurring operations recorded since it last started, by node.
    pub recurring: BTreeMap<NodeIdx, Vec<RecurringRecord>>,
    /// Fail counts by node, where there are any.
    pub fail_counts: BTreeMap<NodeIdx, FailCount>,
    /// The operation under way (its result not recorded yet), if any:
    /// its task, e.g. `start` or `stop`.
    pub pending: Option<String>,
}

impl RscStatus {
    /// A start is under way.
    #[must_use]
    pub fn start_pending(&self) -> bool {
        self.pending.as_deref() == Some("start")
    }
}

/// A resource's fail count on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailCount {
    /// Every recorded failure.
    pub all: i64,
    /// None once the newest failure is older than failure-timeout.
    pub effective: i64,
}

/// A recurring operation in a node's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurringRecord {
    pub name: String,
    pub interval_ms: u64,
    pub call_id: Option<i64>,
    /// The parameter digest it was started with.
    pub digest: Option<String>,
    /// The digest without the parameters listed as secret (passwords are
    /// hidden from copies of the CIB), and that list.
    pub secure_digest: Option<String>,
    pub secure_params: Option<String>,
    /// The feature set of the controller that recorded it.
    pub feature_set: Option<String>,
    /// Still being started (its result is not in yet).
    pub pending: bool,
    /// Its last result was a failure that failure-timeout has expired:
    /// it is started afresh.
    pub expired_failure: bool,
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

/// Picks the primitive that a history entry `lrm_id` describes on `node`.
fn resolve(cluster: &Cluster, lrm_id: &str, node: NodeIdx, active: bool) -> Option<RscIdx> {
    if let Some(&i) = cluster.by_id.get(lrm_id)
        && cluster.rsc(i).is_primitive()
        && cluster.rsc(i).id == cluster.rsc(i).base_id
    {
        return Some(i);
    }
    let base = lrm_id.split_once(':').map_or(lrm_id, |(b, _)| b);
    let candidates: Vec<RscIdx> = cluster
        .instances_by_base
        .get(base)
        .cloned()
        .unwrap_or_default();
    let first = *candidates.first()?;
    // Globally unique instances are distinct resources: the id is exact.
    if clone_of(cluster, first).is_some_and(|c| c.unique) {
        return candidates
            .into_iter()
            .find(|&i| cluster.rsc(i).id == lrm_id);
    }
    // The clone instance (a primitive, or a group of them) `m` belongs to.
    let instance_of = |mut m: RscIdx| {
        while let Some(p) = cluster.rsc(m).parent
            && !matches!(cluster.rsc(p).kind, RscKind::Clone(_))
        {
            m = p;
        }
        m
    };
    let unit = |i: RscIdx| {
        let mut v = Vec::new();
        cluster.collect_primitives(instance_of(i), &mut v);
        v
    };
    let active_here = |c: RscIdx| {
        unit(c).iter().any(|&m| {
            cluster
                .rsc(m)
                .status
                .running
                .iter()
                .any(|(n, _)| *n == node)
        })
    };
    let here = candidates.iter().copied().find(|&c| active_here(c));
    let inactive_anywhere = |c: RscIdx| {
        unit(c).iter().all(|&m| {
            let status = &cluster.rsc(m).status;
            status.running.is_empty() && !status.blocked
        })
    };
    if !active {
        // A stopped history goes to the instance active here, else to the
        // first one active nowhere.
        let free = candidates.iter().copied().find(|&c| inactive_anywhere(c));
        return here.or(free).or(Some(first));
    }
    // The instance already active here collects its other members'
    // history; a second record of the same member is an extra instance.
    if let Some(c) = here {
        return cluster.rsc(c).status.running.is_empty().then_some(c);
    }
    // Anonymous instances are interchangeable: otherwise the history goes
    // to the first instance not active anywhere, whatever suffix it was
    // recorded under.
    candidates.into_iter().find(|&c| {
        unit(c)
            .iter()
            .all(|&m| cluster.rsc(m).status.running.is_empty())
    })
}

/// Extra instances of a cloned group's members are listed in the group's
/// member order, whatever order their histories came in.
fn order_orphaned_members(cluster: &mut Cluster) {
    let member_position = |cluster: &Cluster, r: RscIdx| {
        let base = &cluster.rsc(r).base_id;
        cluster.rscs.iter().find_map(|g| match &g.kind {
            RscKind::Group { members } => members
                .iter()
                .position(|&m| cluster.rsc(m).base_id == *base),
            _ => None,
        })
    };
    let configured = cluster
        .top
        .iter()
        .take_while(|&&r| !cluster.rsc(r).orphan)
        .count();
    let mut orphans = cluster.top.split_off(configured);
    orphans.sort_by_key(|&r| member_position(cluster, r).unwrap_or(usize::MAX));
    cluster.top.extend(orphans);
}

pub(super) fn clone_of(cluster: &Cluster, mut i: RscIdx) -> Option<&super::CloneInfo> {
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

/// A resource only its history names, stopped everywhere: it is placed
/// nowhere, and its history is erased where it is recorded.
fn removed(cluster: &mut Cluster, id: &str, agent: Agent, node: NodeIdx) {
    // A group or clone now has the id: the primitive it named is gone.
    let known = cluster
        .removed
        .iter()
        .copied()
        .find(|&r| cluster.rsc(r).id == id);
    let i = match (known, cluster.by_id.get(id)) {
        (Some(i), _) => i,
        (None, Some(&i)) if cluster.rsc(i).orphan => i,
        (None, Some(&i)) if cluster.rsc(i).is_primitive() => return,
        _ => {
            let i = new_orphan(cluster, id, agent);
            cluster.removed.push(i);
            i
        }
    };
    cluster.rscs[i.0].status.known_on.insert(node);
}

fn orphan(cluster: &mut Cluster, id: &str, agent: Agent) -> RscIdx {
    let i = new_orphan(cluster, id, agent);
    let base = cluster.rsc(i).base_id.clone();
    // An extra instance of a cloned primitive belongs to its clone (and is
    // listed with it); anything else stands alone.
    let clone = cluster.by_id.get(&base).copied().filter(|&c| {
        matches!(&cluster.rsc(c).kind, RscKind::Clone(info)
            if info.instances.first().is_none_or(|&f| cluster.rsc(f).is_primitive()))
    });
    match clone {
        Some(c) => {
            cluster.rscs[i.0].parent = Some(c);
            if let RscKind::Clone(info) = &mut cluster.rscs[c.0].kind {
                info.instances.push(i);
            }
        }
        None => cluster.top.push(i),
    }
    i
}

fn new_orphan(cluster: &mut Cluster, id: &str, agent: Agent) -> RscIdx {
    let i = RscIdx(cluster.rscs.len());
    let base = id.split_once(':').map_or(id, |(b, _)| b);
    cluster.rscs.push(Rsc {
        id: id.to_owned(),
        base_id: base.to_owned(),
        kind: RscKind::Primitive,
        parent: None,
        run: Arc::new(RunConfig {
            agent: Arc::new(agent),
            ..RunConfig::default()
        }),
        meta: RscMeta {
            priority: 0,
            stickiness: Score::ZERO,
            target_role: None,
            // A removed resource is left alone unless removed resources
            // are to be stopped.
            managed: !cluster.options.maintenance_mode && cluster.options.stop_removed_resources,
            maintenance: cluster.options.maintenance_mode,
            migration_threshold: i64::from(Score::INFINITY_VALUE),
            failure_timeout_s: 0,
            allow_migrate: false,
            requires: Requires::Quorum,
            multiple_active: MultipleActive::StopStart,
            ordered: true,
            allow_unhealthy_nodes: false,
        },
        status: super::RscStatus::default(),
        on_fail: BTreeMap::new(),
        orphan: true,
        params: None,
        utilization: super::Utilization::default(),
    });
    cluster.by_id.entry(id.to_owned()).or_insert(i);
    cluster.index_instance(i);
    i
}

/// Records that `idx`'s state on `node` is known (and so its anonymous
/// clone's, and the cloned group's), and under which id.
fn note_known(cluster: &mut Cluster, idx: RscIdx, node: NodeIdx, lrm_id: &str, active: bool) {
    let mut at = Some(idx);
    while let Some(i) = at {
        cluster.rscs[i.0].status.known_on.insert(node);
        let unique = clone_of(cluster, i).is_some_and(|c| c.unique);
        at = if unique { None } else { cluster.rsc(i).parent };
    }
    let rsc = &mut cluster.rscs[idx.0];
    if lrm_id == rsc.id {
        return;
    }
    // The history of a stopped instance names it only when nothing active
    // does, and not by an instance number: those are left over from old
    // clusters and name nothing now.
    let status = &mut rsc.status;
    if active || (status.history_id.is_none() && !lrm_id.contains(':')) {
        status.history_id = Some(lrm_id.to_owned());
    }
}

/// failure-timeout (0: never) and the time now, in seconds.
#[derive(Debug, Clone, Copy)]
struct Expiry<'a> {
    timeout_s: i64,
    now_s: i64,
    /// Configured on-fail by (operation, interval ms).
    on_fail: &'a BTreeMap<(String, u64), String>,
    /// The resource's fail count on the node.
    fail_count: FailCount,
}

impl Expiry<'_> {
    /// Whether `op` records a failure older than failure-timeout (one
    /// that blocks the resource never expires).
    fn expired_failure(self, op: &LrmRscOp<'_>) -> bool {
        let key = (
            op.operation().unwrap_or("").to_owned(),
            op.interval_ms().unwrap_or(0),
        );
        if self.on_fail.get(&key).is_some_and(|f| f == "block") {
            return false;
        }
        let target = op
            .transition_key()
            .ok()
            .flatten()
            .map_or(0, |k| k.target_rc);
        let failed = op.rc_code().ok().flatten().is_some_and(|rc| rc != target)
            || op.op_status().ok().flatten().is_some_and(|s| s > 0);
        let at = op.last_rc_change().ok().flatten().unwrap_or(0);
        failed
            && self.timeout_s > 0
            && at.saturating_add(self.timeout_s) <= self.now_s
            && (self.fail_count.all == 0 || self.fail_count.effective == 0)
    }
}

/// The recurring operations recorded since the last start (or since the
/// start of the history, when it records none), unless a later stop ended
/// them.
fn recurring_since_start(ops: &[LrmRscOp<'_>], expiry: Expiry<'_>) -> Vec<RecurringRecord> {
    let mut start = None;
    let mut stop = None;
    let mut implied_by_monitor = None;
    let mut implied_by_role_change = None;
    for (i, op) in ops.iter().enumerate() {
        let done = op.op_status().ok().flatten() == Some(0);
        match op.operation().unwrap_or("") {
            "stop" if done => stop = Some(i),
            "start" | "migrate_from" => start = Some(i),
            "monitor"
                if implied_by_monitor <= stop
                    && matches!(op.rc_code().ok().flatten(), Some(0 | 8)) =>
            {
                implied_by_monitor = Some(i);
            }
            "promote" | "demote" => implied_by_role_change = Some(i),
            _ => {}
        }
    }
    let start = start.or(implied_by_role_change).or(implied_by_monitor);
    if start < stop {
        return Vec::new();
    }
    ops.iter()
        .skip(start.unwrap_or(0))
        .filter_map(|op| {
            let interval_ms = op.interval_ms().ok().filter(|i| *i > 0)?;
            Some(RecurringRecord {
                name: op.operation().unwrap_or("").to_owned(),
                interval_ms,
                call_id: op.call_id().ok().flatten(),
                digest: op.op_digest().map(str::to_owned),
                secure_digest: op.op_secure_digest().map(str::to_owned),
                secure_params: op.attr("op-secure-params").map(str::to_owned),
                feature_set: op.crm_feature_set().map(str::to_owned),
                pending: op.op_status().ok().flatten() == Some(-1),
                expired_failure: expiry.expired_failure(op),
            })
        })
        .collect()
}

pub fn read(cib: &Cib, cluster: &mut Cluster) -> Result<(), SchedulerError> {
    let fencing = cluster.options.fencing_enabled;
    // Histories of resources no longer configured, stopped there.
    let mut stopped_unknown = Vec::new();
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
        // says; an unclean one may still run what it had, and one in
        // maintenance is left as it was.
        {
            let n = &cluster.nodes[node.0];
            if !n.is_online() && !n.is_unclean() && !n.maintenance {
                continue;
            }
        }
        for lrm in st.lrm_resources() {
            let ops = sorted_ops(lrm.ops());
            let lrm_id = lrm.id();
            // Replay against the configured primitive for its on-fail table.
            let probe_rsc = resolve(cluster, lrm_id, node, false);
            let fail_count = probe_rsc.map_or_else(FailCount::default, |i| {
                let anonymous = clone_of(cluster, i).is_some_and(|c| !c.unique);
                super::failcounts::failures(
                    cluster.rsc(i),
                    anonymous,
                    &cluster.nodes[node.0],
                    cluster.now_s,
                )
                .count
            });
            let ctx = ReplayCtx {
                fencing,
                lsb: lrm.class() == Some("lsb"),
                now_s: cluster.now_s,
                fail_count,
            };
            let result = match probe_rsc {
                Some(i) => replay(&ops, cluster.rsc(i), ctx),
                None => {
                    let tmp = Rsc {
                        id: lrm_id.to_owned(),
                        base_id: lrm_id.to_owned(),
                        kind: RscKind::Primitive,
                        parent: None,
                        run: Arc::default(),
                        meta: RscMeta {
                            priority: 0,
                            stickiness: Score::ZERO,
                            target_role: None,
                            managed: true,
                            maintenance: false,
                            migration_threshold: 0,
                            failure_timeout_s: 0,
                            allow_migrate: false,
                            requires: Requires::Quorum,
                            multiple_active: MultipleActive::StopStart,
                            ordered: true,
                            allow_unhealthy_nodes: false,
                        },
                        status: super::RscStatus::default(),
                        on_fail: BTreeMap::new(),
                        orphan: true,
                        params: None,
                        utilization: super::Utilization::default(),
                    };
                    replay(&ops, &tmp, ctx)
                }
            };
            let role = result.role.unwrap_or(Role::Stopped);
            let active = role != Role::Stopped;
            let agent = || Agent {
                class: lrm.class().unwrap_or("").to_owned(),
                provider: lrm.provider().map(str::to_owned),
                kind: lrm.agent().unwrap_or("").to_owned(),
            };
            let idx = match resolve(cluster, lrm_id, node, active) {
                Some(i) => i,
                None if active => {
                    let name = orphan_name(cluster, lrm_id);
                    orphan(cluster, &name, agent())
                }
                None => {
                    stopped_unknown.push((node, lrm_id.to_owned(), agent()));
                    continue;
                }
            };
            if !result.unknown {
                note_known(cluster, idx, node, lrm_id, active);
            }
            let fence_reason = format!("{} failed there", cluster.rsc(idx).id);
            // Fencing the node will settle whatever was stuck on it.
            let unclean = cluster.nodes[node.0].is_unclean();
            let fenceable = unclean && crate::actions::can_fence_node(cluster, node);
            let rsc = &mut cluster.rscs[idx.0];
            if result.on_fail == OnFail::Stop {
                rsc.status.stopped_by_failure = true;
            }
            if result.hard_error {
                rsc.status.banned.insert(node);
            }
            // The node pays for some failures, whether or not the resource
            // still runs there: put in standby, or fenced (unless fencing
            // is what settles it anyway).
            let on_fail = if unclean {
                OnFail::Ignore
            } else {
                result.on_fail
            };
            match on_fail {
                OnFail::Standby => {
                    let n = &mut cluster.nodes[node.0];
                    n.standby = true;
                    n.standby_on_fail = true;
                }
                OnFail::Fence if !result.stop_failed => {
                    let n = &mut cluster.nodes[node.0];
                    if n.is_online() {
                        n.state = NodeState::Unclean(fence_reason.clone());
                    }
                }
                _ => {}
            }
            let rsc = &mut cluster.rscs[idx.0];
            if !active {
                continue;
            }
            rsc.status.running.push((node, role));
            if rsc.status.pending.is_none() {
                rsc.status.pending.clone_from(&result.pending);
            }
            rsc.status.history_name.insert(node, lrm_id.to_owned());
            let expiry = Expiry {
                timeout_s: rsc.meta.failure_timeout_s,
                now_s: ctx.now_s,
                on_fail: &rsc.on_fail,
                fail_count: ctx.fail_count,
            };
            rsc.status
                .recurring
                .insert(node, recurring_since_start(&ops, expiry));
            if let Some(change) = definition_change(&ops, rsc) {
                rsc.status.definition_change.insert(node, change);
            }
            // Demoting keeps it running, just no longer promoted here.
            if on_fail == OnFail::Demote && role == Role::Promoted {
                rsc.status.on_fail = rsc.status.on_fail.max(OnFail::Demote);
            }
            if on_fail >= OnFail::Restart {
                let rsc = &mut cluster.rscs[idx.0];
                rsc.status.failed = true;
                rsc.status.on_fail = rsc.status.on_fail.max(result.on_fail);
            }
            if result.stop_failed {
                cluster.rscs[idx.0].status.stop_failed_on.insert(node);
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
    order_orphaned_members(cluster);
    for (node, id, agent) in stopped_unknown {
        removed(cluster, &id, agent, node);
    }
    // Those active on several nodes that ask for it are left alone; those
    // active on a node in maintenance are no longer managed.
    for r in &mut cluster.rscs {
        if r.status.running.len() > 1 && r.meta.multiple_active == MultipleActive::Block {
            r.status.blocked = true;
        }
    }
    for i in 0..cluster.rscs.len() {
        let on_maintenance = cluster.rscs[i]
            .status
            .running
            .iter()
            .any(|(n, _)| cluster.nodes[n.0].maintenance);
        if on_maintenance {
            cluster.rscs[i].meta.managed = false;
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
    super::failcounts::apply(cluster);
    Ok(())
}
