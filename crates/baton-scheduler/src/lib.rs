//! The scheduler: a pure function from a CIB (configuration plus status)
//! and the time to the transition graph the controller executes, the
//! Transition Summary `crm_simulate` would print, and (on request) the
//! allocation scores. No I/O and no clock: "now" is a parameter, so the
//! same input always gives the same output, byte for byte.
//!
//! # Using it from a controller
//!
//! ```no_run
//! # fn run(cib: &baton_cib::Cib, now: baton_scheduler::EpochSeconds) -> Result<(), baton_scheduler::SchedulerError> {
//! let transition = baton_scheduler::schedule(cib, now)?;
//! for action in &transition.graph.actions {
//!     // Fire `action` once every action in `action.inputs` has completed.
//!     let _ = (&action.inputs, action.kind, &action.node, &action.key);
//! }
//! # Ok(()) }
//! ```
//!
//! Each [`Action`] carries what running it takes:
//! - [`ActionKind`]: a resource operation for the node's executor, a
//!   milestone (pseudo action: complete as soon as its inputs are, nothing
//!   runs; this includes stops implied by fencing), or a cluster event the
//!   controller does itself ([`Task::Stonith`], [`Task::DoShutdown`],
//!   [`Task::ClearFailcount`]).
//! - `node`: name and id (`uname` and `id` in the CIB);
//! - `resource`: the id the operation runs under (an anonymous clone
//!   instance `ping:1` runs as `ping`, its history id), the instance's own
//!   id as `long_id`, and the agent's class, provider and type;
//!   `resource_id` is the scheduler's id of the instance for every action,
//!   milestones included;
//! - `key`: the operation key the result is recorded under
//!   (`ping_monitor_10000`), `internal_key` the instance's
//!   (`ping:1_monitor_10000`) when it differs;
//! - `interval_ms`, `timeout_ms`, `target_rc` (a probe expects 7, not
//!   running; a promoted monitor 8);
//! - `params`: instance parameters with the operation's own;
//! - `meta`: what Pacemaker passes as `CRM_meta_*` (interval, timeout,
//!   clone numbers and clone settings, notification variables for
//!   `notify`, `on_node`, `stonith_action`, `op_no_wait`, migration source
//!   and target...);
//! - `downed`: ids of the nodes fencing or a shutdown takes down;
//! - `priority`, and `inputs`, the actions to wait for.
//!
//! [`GraphSettings`] holds what applies to the whole transition
//! (`cluster-delay` added to every timeout, the fencing timeout, batch and
//! migration limits). [`graph::xml::render`] writes the graph in
//! Pacemaker's transition graph XML, as `crm_simulate -G` does.
//!
//! The graph holds only what must run and can run: blocked actions are
//! left out (the summary still reports them, with why). Safety orderings
//! are part of it: nothing that needs fencing starts before the fencing
//! it waits for, demotions come before any promotion of the same clone,
//! stops before starts, probes before what depends on what they find.
//!
//! # Stages
//!
//! Each in its own module: [`unpack`] (nodes, resources, history, fail
//! counts), [`placement`] (node choice, as Pacemaker 2.1.5 assigns nodes,
//! step for step; the allocation scores are its weights), [`actions`]
//! (what each primitive must do, restarts and blocks from orderings),
//! [`summary`] (the Transition Summary) and [`graph`] (the transition
//! graph, built around those decisions the way Pacemaker builds it).

pub mod actions;
pub mod graph;
pub mod placement;
pub mod summary;
pub mod unpack;

use baton_cib::Cib;

pub use graph::{Action, ActionId, ActionKind, Graph, GraphSettings, NodeRef, ResourceRef, Task};

/// Why a CIB could not be scheduled.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("cannot read the CIB: {0}")]
    Cib(#[from] baton_cib::CibError),
    #[error("invalid CIB value: {0}")]
    Model(#[from] baton_cib::model::ModelError),
}

/// The scheduler's decision for one CIB.
#[derive(Debug, Clone)]
pub struct Transition {
    pub graph: Graph,
    /// Transition Summary lines, as `crm_simulate` prints them.
    pub summary: Vec<String>,
    /// The node and promotion scores placement weighed, as `crm_simulate
    /// -s` prints them, sorted by their text.
    pub scores: Vec<placement::score_log::ScoreLine>,
    /// When the same input should be scheduled again because time alone
    /// changes the answer (a failure-timeout expiring), as Pacemaker's
    /// `recheck-by`.
    pub recheck_by: Option<EpochSeconds>,
}

/// A wall-clock instant in whole seconds since the Unix epoch: the "now"
/// that failure-timeout expiry and date rules are judged against. The
/// scheduler never reads a clock; the caller passes the time in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EpochSeconds(pub i64);

/// When a saved scheduler input was calculated (the `execution-date` the
/// controller stamps on it), if it records one: replaying such a file
/// should judge it at that time, as `crm_simulate` does.
pub fn execution_date(cib: &Cib) -> Result<Option<EpochSeconds>, SchedulerError> {
    Ok(cib.execution_date()?.map(EpochSeconds))
}

/// Schedules `cib` as of `now`. `Transition::scores` stays empty.
pub fn schedule(cib: &Cib, now: EpochSeconds) -> Result<Transition, SchedulerError> {
    schedule_inner(cib, now, false)
}

/// Like [`schedule`], and also records the allocation and promotion scores
/// (`crm_simulate -s`); on large clusters that costs more than scheduling.
pub fn schedule_with_scores(cib: &Cib, now: EpochSeconds) -> Result<Transition, SchedulerError> {
    schedule_inner(cib, now, true)
}

fn schedule_inner(
    cib: &Cib,
    now: EpochSeconds,
    record_scores: bool,
) -> Result<Transition, SchedulerError> {
    let cluster = unpack::unpack(cib, now)?;
    let assignment = placement::assign(&cluster, record_scores);
    let plans = actions::plan(&cluster, &assignment);
    let fenced = actions::fence_targets(&cluster);
    let changes = actions::changes::build(&cluster, &plans, &fenced);
    let summary = summary::render(&cluster, &changes, &assignment.order);
    let graph = graph::build(&cluster, &changes, &assignment);
    let scores = placement::score_log::sorted(assignment.score_lines);
    Ok(Transition {
        graph,
        summary,
        scores,
        recheck_by: cluster.recheck_by.map(EpochSeconds),
    })
}
