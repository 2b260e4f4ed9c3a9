//! The transition graph: every action the controller must run to carry out
//! the scheduler's decisions, and for each, the actions it must wait for.
//!
//! It is built as Pacemaker builds it (see the `engine` module): the decided
//! starts, stops, promotions and demotions, plus probes of resources whose
//! state is unknown, recurring monitors, cancellations, the milestones of
//! groups and clones, notifications, fencing, shutdowns and fail-count
//! clearing, ordered by resources' own needs (stop before start, demote
//! before stop, probes first, fencing before recovery, members in order,
//! instances between their clone's milestones, demotions before any
//! promotion) and by order constraints on any pair of actions. Actions
//! that are optional or cannot run are left out.

mod apply;
mod cleanup;
mod create;
pub(crate) mod engine;
mod fencing;
mod interleave;
mod internal;
mod meta;
mod migration;
mod notify;
mod orders;
mod output;
mod probes;
mod recurring;
mod update;
pub mod xml;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use crate::unpack::Agent;
pub use engine::Task;
pub use fencing::PRIORITY_FENCING_DELAY;
pub use meta::DEFAULT_TIMEOUT_MS;

use crate::actions::Changes;
use crate::placement::Assignment;
use crate::unpack::{Cluster, RscIdx, RscKind};
use create::{Course, Inputs};
use engine::{Engine, Flags};
use notify::{CloneNotifications, Milestones};

/// Index of an action in [`Graph::actions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActionId(pub usize);

/// How the controller carries an action out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// Run by the executor on `node` (`rsc_op`).
    ResourceOp,
    /// A milestone, or a stop implied by fencing: complete once its inputs
    /// are (`pseudo_event`).
    Pseudo,
    /// Done by the controller itself (`crm_event`): fencing, shutdown,
    /// clearing a fail count.
    ClusterEvent,
}

/// A node, by name and id (the CIB's `uname` and `id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRef {
    pub name: Arc<str>,
    pub id: Arc<str>,
}

/// The resource an operation is for, as the node's executor knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    /// The id the operation runs under: an anonymous clone instance runs
    /// under its primitive's id (`ping`).
    pub id: String,
    /// The instance (`ping:1`) or the id it was recorded under, when that
    /// differs from `id`.
    pub long_id: Option<String>,
    /// Class, provider and type (`ocf:heartbeat:IPaddr2`).
    pub agent: Arc<Agent>,
}

/// One action of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub id: ActionId,
    pub kind: ActionKind,
    pub task: Task,
    /// `<history id>_<task>_<interval>`: the key its result is recorded
    /// under (`ping_monitor_10000`); notifications
    /// `<id>_<pre|post>_notify_<task>_0`.
    pub key: String,
    /// The key under the instance's own id (`ping:1_monitor_10000`), when
    /// it differs from `key`.
    pub internal_key: Option<String>,
    /// Where it runs (for a stop implied by fencing, where the resource
    /// was); `None` for milestones.
    pub node: Option<NodeRef>,
    /// The scheduler's id of the resource it is for (a clone instance's
    /// `rsc:N`), milestones included.
    pub resource_id: Option<String>,
    /// What it runs: set for resource operations.
    pub resource: Option<ResourceRef>,
    pub interval_ms: u64,
    pub timeout_ms: Option<u64>,
    /// The result that counts as success when it is not 0 (a probe
    /// expects 7, "not running").
    pub target_rc: Option<i32>,
    /// Instance parameters (`OCF_RESKEY_*`), with the operation's own.
    pub params: Arc<BTreeMap<String, String>>,
    /// Meta attributes (`CRM_meta_*`, named here without the prefix):
    /// interval, timeout, clone numbers, notification variables, the
    /// fencing action... (`on_node` and `on_node_uuid` are `node`).
    pub meta: BTreeMap<String, String>,
    /// Ids of the nodes it takes down (fencing, shutdown).
    pub downed: Vec<String>,
    /// Run earlier when several are ready (a higher number first).
    pub priority: i32,
    /// What must have completed first.
    pub inputs: Vec<ActionId>,
}

impl Action {
    /// The `op-digest` to record with this operation's result, which the
    /// scheduler compares with the configuration the next time.
    #[must_use]
    pub fn op_digest(&self) -> String {
        crate::unpack::operation_digest(
            &self.params,
            self.interval_ms,
            self.timeout_ms.unwrap_or(meta::DEFAULT_TIMEOUT_MS),
        )
    }
}

/// Settings the controller applies to the whole transition, as written
/// in the CIB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphSettings {
    /// Added to every action's timeout before it is considered lost.
    pub cluster_delay: String,
    pub fencing_timeout: String,
    /// `INFINITY`, or `1` when start-failure-is-fatal is false.
    pub failed_start_offset: String,
    pub batch_limit: String,
    /// Migrations at once per node, when limited.
    pub migration_limit: Option<String>,
}

/// The actions the controller runs, with their inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    pub actions: Vec<Action>,
    pub settings: GraphSettings,
}

impl Graph {
    pub fn action(&self, id: ActionId) -> &Action {
        &self.actions[id.0]
    }

    /// A valid execution order (Kahn's algorithm, lowest id first), or
    /// `None` if the inputs form a cycle.
    pub fn topological_order(&self) -> Option<Vec<ActionId>> {
        let n = self.actions.len();
        let mut waiting: Vec<usize> = self.actions.iter().map(|a| a.inputs.len()).collect();
        let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); n];
        for a in &self.actions {
            for i in &a.inputs {
                unblocks[i.0].push(a.id.0);
            }
        }
        let mut ready: std::collections::BTreeSet<usize> =
            (0..n).filter(|i| waiting[*i] == 0).collect();
        let mut out = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            out.push(ActionId(i));
            for &j in &unblocks[i] {
                waiting[j] -= 1;
                if waiting[j] == 0 {
                    ready.insert(j);
                }
            }
        }
        (out.len() == n).then_some(out)
    }
}

/// Builds the graph that carries out `changes`.
pub fn build(cluster: &Cluster, changes: &Changes, assignment: &Assignment) -> Graph {
    let mut eng = Engine::new(cluster);
    let inputs = Inputs {
        changes,
        assignment,
    };
    let mut primitives = Vec::new();
    for &r in &cluster.top {
        cluster.collect_primitives(r, &mut primitives);
    }
    let courses: BTreeMap<RscIdx, Course> = primitives
        .iter()
        .map(|&p| (p, create::course(&eng, &inputs, p)))
        .collect();
    for (&p, course) in &courses {
        eng.assigned[p.0] = course.assigned;
    }
    orders::apply(&mut eng);
    for &r in &cluster.top {
        internal_constraints(&mut eng, r);
    }
    let mut redefined = std::collections::BTreeSet::new();
    for &p in &primitives {
        recurring::known(&mut eng, p, &mut redefined);
    }
    let assigned = eng.assigned.clone();
    probes::schedule(&mut eng, &|r| assigned.get(r.0).copied().flatten());
    cleanup::schedule(&mut eng, &redefined);
    let mut notifications = BTreeMap::new();
    for &r in &cluster.top {
        create_actions(&mut eng, &inputs, &courses, r, &mut notifications);
    }
    fencing::schedule(&mut eng, changes);
    apply::apply(&mut eng);
    probes::order(&mut eng);
    update::run(&mut eng);
    for r in 0..cluster.rscs.len() {
        let r = RscIdx(r);
        if eng.is_clone(r) {
            for a in eng.by_rsc[r.0].clone() {
                update::rsc_action_flags(&mut eng, a, None);
            }
        }
    }
    notify::create_all(&mut eng, &notifications, &courses);
    output::build(&eng, settings(cluster))
}

fn settings(cluster: &Cluster) -> GraphSettings {
    let o = &cluster.options;
    GraphSettings {
        cluster_delay: o.cluster_delay.clone(),
        fencing_timeout: o.fencing_timeout.clone(),
        failed_start_offset: if o.start_failure_is_fatal {
            "INFINITY".to_owned()
        } else {
            "1".to_owned()
        },
        batch_limit: o.batch_limit.clone(),
        migration_limit: o
            .migration_limit
            .parse::<i64>()
            .ok()
            .filter(|l| *l > 0)
            .map(|_| o.migration_limit.clone()),
    }
}

fn internal_constraints(eng: &mut Engine<'_>, r: RscIdx) {
    match &eng.cluster.rsc(r).kind {
        RscKind::Primitive => internal::primitive(eng, r, false),
        RscKind::Group { .. } => internal::group(eng, r, false),
        RscKind::Clone(_) => internal::clone(eng, r),
    }
}

fn create_actions(
    eng: &mut Engine<'_>,
    inputs: &Inputs<'_>,
    courses: &BTreeMap<RscIdx, Course>,
    r: RscIdx,
    notifications: &mut BTreeMap<RscIdx, CloneNotifications>,
) {
    match &eng.cluster.rsc(r).kind {
        RscKind::Primitive => {
            create::primitive_actions(eng, inputs, r);
            if let Some(course) = courses.get(&r) {
                recurring::create(eng, r, course);
            }
        }
        RscKind::Group { members } => {
            for &m in members {
                create_actions(eng, inputs, courses, m, notifications);
            }
            let promotable = eng.clone_of(r).is_some_and(|c| create::promotable(eng, c));
            create::group_actions(eng, r, promotable);
        }
        RscKind::Clone(info) => {
            let promotable = info.promotable;
            let instances = info.instances.clone();
            let mut state = InstanceState::default();
            for &i in &instances {
                create_actions(eng, inputs, courses, i, notifications);
                state.add(eng, i);
            }
            let start = create::pseudo(eng, r, Task::Start, !state.starting, true);
            let running = create::pseudo(
                eng,
                r,
                Task::Running,
                !state.starting,
                state.active || state.starting,
            );
            eng.act_mut(running).priority = baton_cib::Score::INFINITY_VALUE;
            let stop = create::pseudo(eng, r, Task::Stop, !state.stopping, true);
            let stopped = create::pseudo(eng, r, Task::Stopped, !state.stopping, true);
            eng.act_mut(stopped).priority = baton_cib::Score::INFINITY_VALUE;
            if !state.restarting {
                eng.act_mut(stop).flags.set(Flags::MIGRATABLE);
            }
            let mut n = CloneNotifications::default();
            let notifies = notify::notifies(eng, r);
            if notifies {
                n.by_task
                    .insert("start", notify::milestones(eng, r, "start", start, running));
                n.by_task
                    .insert("stop", notify::milestones(eng, r, "stop", stop, stopped));
                notify::order_between(eng, &n, "stop", "start");
            }
            if promotable {
                let (promoting, demoting) = state.role_changes(eng, &instances);
                let promote = create::pseudo(eng, r, Task::Promote, !promoting, true);
                let promoted = create::pseudo(eng, r, Task::Promoted, !promoting, true);
                eng.act_mut(promoted).priority = baton_cib::Score::INFINITY_VALUE;
                let demote = create::pseudo(eng, r, Task::Demote, !demoting, true);
                let demoted = create::pseudo(eng, r, Task::Demoted, !demoting, true);
                eng.act_mut(demoted).priority = baton_cib::Score::INFINITY_VALUE;
                if notifies {
                    let m: Milestones = notify::milestones(eng, r, "promote", promote, promoted);
                    n.by_task.insert("promote", m);
                    let m = notify::milestones(eng, r, "demote", demote, demoted);
                    n.by_task.insert("demote", m);
                    notify::order_between(eng, &n, "stop", "promote");
                    notify::order_between(eng, &n, "start", "promote");
                    notify::order_between(eng, &n, "demote", "promote");
                    notify::order_between(eng, &n, "demote", "start");
                    notify::order_between(eng, &n, "demote", "stop");
                }
            }
            if notifies {
                notifications.insert(r, n);
            }
        }
    }
}

/// What a clone's instances are doing, for the clone's milestones.
#[derive(Debug, Default)]
struct InstanceState {
    active: bool,
    starting: bool,
    stopping: bool,
    /// One instance both stops and starts.
    restarting: bool,
}

impl InstanceState {
    fn add(&mut self, eng: &Engine<'_>, instance: RscIdx) {
        let mut prims = Vec::new();
        eng.cluster.collect_primitives(instance, &mut prims);
        let (mut starting, mut stopping) = (false, false);
        for p in prims {
            if !eng.cluster.rsc(p).status.running.is_empty() {
                self.active = true;
            }
            for &a in &eng.by_rsc[p.0] {
                let act = eng.act(a);
                if act.flags.has(Flags::OPTIONAL) {
                    continue;
                }
                match act.task {
                    Task::Start if act.flags.has(Flags::RUNNABLE) => starting = true,
                    Task::Stop if act.flags.any(Flags::RUNNABLE.with(Flags::PSEUDO)) => {
                        stopping = true;
                    }
                    _ => {}
                }
            }
        }
        self.starting |= starting;
        self.stopping |= stopping;
        self.restarting |= starting && stopping;
    }

    /// Whether any instance is promoted or demoted (required actions).
    fn role_changes(&self, eng: &Engine<'_>, instances: &[RscIdx]) -> (bool, bool) {
        let (mut promoting, mut demoting) = (false, false);
        for &i in instances {
            let mut prims = Vec::new();
            eng.cluster.collect_primitives(i, &mut prims);
            for p in prims {
                for &a in &eng.by_rsc[p.0] {
                    let act = eng.act(a);
                    if act.flags.has(Flags::OPTIONAL) {
                        continue;
                    }
                    match act.task {
                        Task::Promote => promoting = true,
                        Task::Demote => demoting = true,
                        _ => {}
                    }
                }
            }
        }
        (promoting, demoting)
    }
}
