//! The scheduler: a pure function from a CIB (configuration plus status)
//! to an action graph and the Transition Summary `crm_simulate` would
//! print. No I/O and no clock: "now" is a parameter, so the same input
//! always gives the same output.
//!
//! Stages, each in its own module: [`unpack`] (nodes, resources, history,
//! fail counts), [`placement`] (scores and node choice), [`actions`]
//! (per-resource plans, order propagation, the graph) and [`summary`].

pub mod actions;
pub mod graph;
pub mod placement;
pub mod summary;
pub mod unpack;

use baton_cib::Cib;

pub use graph::{Action, ActionId, ActionKind, Graph, NodeRef, ResourceRef, Task};

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
    })
}
