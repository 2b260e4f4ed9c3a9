//! The scheduler: a pure function from a CIB (configuration plus status)
//! to an action graph and the Transition Summary `crm_simulate` would
//! print. No I/O and no clock: "now" is the CIB's `execution-date` or a
//! parameter, so the same input always gives the same output.
//!
//! Stages, each in its own module: [`unpack`] (nodes, resources, history,
//! fail counts), [`placement`] (scores and node choice), [`actions`]
//! (per-resource plans, order propagation, the graph) and [`summary`].
//! [`conformance`] runs Pacemaker's regression cases against it.

pub mod actions;
pub mod conformance;
pub mod placement;
pub mod summary;
pub mod unpack;

use baton_cib::Cib;

pub use actions::{Action, ActionId, Graph, Task};

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

/// Schedules `cib`. `now_s` (seconds since the epoch) overrides the CIB's
/// `execution-date`. `Transition::scores` stays empty.
pub fn schedule(cib: &Cib, now_s: Option<i64>) -> Result<Transition, SchedulerError> {
    schedule_inner(cib, now_s, false)
}

/// Like [`schedule`], and also records the allocation and promotion scores
/// (`crm_simulate -s`); on large clusters that costs more than scheduling.
pub fn schedule_with_scores(cib: &Cib, now_s: Option<i64>) -> Result<Transition, SchedulerError> {
    schedule_inner(cib, now_s, true)
}

fn schedule_inner(
    cib: &Cib,
    now_s: Option<i64>,
    record_scores: bool,
) -> Result<Transition, SchedulerError> {
    let cluster = unpack::unpack(cib, now_s)?;
    let assignment = placement::assign(&cluster, record_scores);
    let plans = actions::plan(&cluster, &assignment);
    let fenced = actions::fence_targets(&cluster);
    let graph = actions::graph::build(&cluster, &plans, &fenced);
    let summary = summary::render(&cluster, &graph, &assignment.order);
    let scores = placement::score_log::sorted(assignment.score_lines);
    Ok(Transition {
        graph,
        summary,
        scores,
    })
}
