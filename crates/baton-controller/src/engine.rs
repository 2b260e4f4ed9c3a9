//! One transition being carried out: the scheduler's graph with the state
//! of each action. An action is started once every action it waits for
//! completed; milestones complete as soon as they can start. A failed
//! action never lets the actions that wait for it start. An abort stops
//! starting anything; the run is over once nothing is in flight. Pure:
//! the caller says what to start, and reports completions and time.

use baton_scheduler::{ActionId, ActionKind, Graph, Task};

use crate::Millis;

/// Pacemaker's default `cluster-delay`, added to every action's timeout.
const DEFAULT_CLUSTER_DELAY_MS: u64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    InFlight { deadline: Millis },
    Done,
    Failed,
}

/// How many actions may be in flight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Resource operations in flight at once across the cluster; 0 is no
    /// limit (`batch-limit`).
    pub batch: usize,
    /// Migrations in flight at once per node; 0 is no limit
    /// (`migration-limit`).
    pub migrations: usize,
}

impl Limits {
    /// The limits a graph's settings name (unset or unreadable: none).
    #[must_use]
    pub fn of(graph: &Graph) -> Limits {
        let number = |text: &str| text.trim().parse::<usize>().unwrap_or(0);
        Limits {
            batch: number(&graph.settings.batch_limit),
            migrations: graph.settings.migration_limit.as_deref().map_or(0, number),
        }
    }
}

/// Counts for the log line Pacemaker writes after each pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub complete: usize,
    pub in_flight: usize,
    pub failed: usize,
    /// Waiting actions that can never start (after an abort or a failure).
    pub skipped: usize,
    pub waiting: usize,
}

/// A transition graph in execution.
#[derive(Debug)]
pub struct Run {
    pub id: u64,
    graph: Graph,
    state: Vec<State>,
    limits: Limits,
    cluster_delay_ms: u64,
    aborted: Option<String>,
}

impl Run {
    #[must_use]
    pub fn new(id: u64, graph: Graph) -> Run {
        let cluster_delay_ms =
            baton_cib::duration::parse_duration_ms(&graph.settings.cluster_delay)
                .unwrap_or(DEFAULT_CLUSTER_DELAY_MS);
        Run {
            id,
            state: vec![State::Waiting; graph.actions.len()],
            limits: Limits::of(&graph),
            graph,
            cluster_delay_ms,
            aborted: None,
        }
    }

    #[must_use]
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    #[must_use]
    pub fn aborted(&self) -> Option<&str> {
        self.aborted.as_deref()
    }

    /// Stops starting actions; the first reason is kept.
    pub fn abort(&mut self, reason: &str) {
        if self.aborted.is_none() {
            self.aborted = Some(reason.to_owned());
        }
    }

    fn ready(&self, id: ActionId) -> bool {
        self.state[id.0] == State::Waiting
            && self.graph.actions[id.0]
                .inputs
                .iter()
                .all(|i| self.state.get(i.0) == Some(&State::Done))
    }

    fn is_migration(&self, id: ActionId) -> bool {
        matches!(
            self.graph.actions[id.0].task,
            Task::MigrateTo | Task::MigrateFrom
        )
    }

    fn node_of(&self, id: ActionId) -> Option<&str> {
        self.graph.actions[id.0].node.as_ref().map(|n| &*n.name)
    }

    /// The actions to start now, highest priority first, each marked in
    /// flight until `deadline_of` it. Milestones whose turn came are
    /// completed on the way, and are not returned.
    pub fn start_ready(&mut self, now: Millis) -> Vec<ActionId> {
        let mut started = Vec::new();
        if self.aborted.is_some() {
            return started;
        }
        loop {
            let mut ready: Vec<ActionId> = (0..self.state.len())
                .map(ActionId)
                .filter(|id| self.ready(*id))
                .collect();
            if ready.is_empty() {
                break;
            }
            ready.sort_by_key(|id| (-self.graph.actions[id.0].priority, id.0));
            let mut progressed = false;
            for id in ready {
                if self.graph.actions[id.0].kind == ActionKind::Pseudo {
                    self.state[id.0] = State::Done;
                    progressed = true;
                    continue;
                }
                if !self.within_limits(id) {
                    continue;
                }
                let deadline = now.plus(self.timeout_ms(id));
                self.state[id.0] = State::InFlight { deadline };
                started.push(id);
            }
            if !progressed {
                break;
            }
        }
        started
    }

    fn within_limits(&self, id: ActionId) -> bool {
        let in_flight = |filter: &dyn Fn(ActionId) -> bool| {
            (0..self.state.len())
                .map(ActionId)
                .filter(|a| matches!(self.state[a.0], State::InFlight { .. }) && filter(*a))
                .count()
        };
        let kind = self.graph.actions[id.0].kind;
        if kind == ActionKind::ResourceOp
            && self.limits.batch > 0
            && in_flight(&|a| self.graph.actions[a.0].kind == ActionKind::ResourceOp)
                >= self.limits.batch
        {
            return false;
        }
        if self.is_migration(id) && self.limits.migrations > 0 {
            let node = self.node_of(id);
            if in_flight(&|a| self.is_migration(a) && self.node_of(a) == node)
                >= self.limits.migrations
            {
                return false;
            }
        }
        true
    }

    /// How long an action may be in flight: its timeout plus cluster-delay.
    #[must_use]
    pub fn timeout_ms(&self, id: ActionId) -> u64 {
        let action = &self.graph.actions[id.0];
        let own = match action.task {
            Task::Stonith => {
                baton_cib::duration::parse_duration_ms(&self.graph.settings.fencing_timeout).ok()
            }
            _ => action.timeout_ms,
        };
        own.unwrap_or(baton_scheduler::graph::DEFAULT_TIMEOUT_MS)
            .saturating_add(self.cluster_delay_ms)
    }

    /// Whether `id` is in flight (a result for it counts).
    #[must_use]
    pub fn in_flight(&self, id: ActionId) -> bool {
        matches!(self.state.get(id.0), Some(State::InFlight { .. }))
    }

    /// Records that an in-flight action completed (or failed). False when
    /// it was not in flight.
    pub fn complete(&mut self, id: ActionId, ok: bool) -> bool {
        if !self.in_flight(id) {
            return false;
        }
        self.state[id.0] = if ok { State::Done } else { State::Failed };
        true
    }

    /// Fails the in-flight actions whose time is up, and returns them.
    pub fn expire(&mut self, now: Millis) -> Vec<ActionId> {
        let mut lost = Vec::new();
        for (i, state) in self.state.iter_mut().enumerate() {
            if let State::InFlight { deadline } = *state
                && deadline <= now
            {
                *state = State::Failed;
                lost.push(ActionId(i));
            }
        }
        lost
    }

    /// The in-flight actions for which `lost` holds, failed now (their node
    /// left).
    pub fn fail_in_flight(
        &mut self,
        lost: impl Fn(&baton_scheduler::Action) -> bool,
    ) -> Vec<ActionId> {
        let mut failed = Vec::new();
        for (i, state) in self.state.iter_mut().enumerate() {
            if matches!(state, State::InFlight { .. }) && lost(&self.graph.actions[i]) {
                *state = State::Failed;
                failed.push(ActionId(i));
            }
        }
        failed
    }

    #[must_use]
    pub fn next_deadline(&self) -> Option<Millis> {
        self.state
            .iter()
            .filter_map(|s| match s {
                State::InFlight { deadline } => Some(*deadline),
                _ => None,
            })
            .min()
    }

    /// Whether a resource operation or cluster event of this graph ran
    /// (milestones do not count).
    #[must_use]
    pub fn acted(&self) -> bool {
        self.state.iter().enumerate().any(|(i, state)| {
            matches!(state, State::Done | State::Failed)
                && self.graph.actions[i].kind != ActionKind::Pseudo
        })
    }

    /// Whether nothing is in flight and nothing more will start.
    #[must_use]
    pub fn is_over(&self) -> bool {
        let counts = self.counts();
        counts.in_flight == 0 && (self.aborted.is_some() || !self.can_progress())
    }

    fn can_progress(&self) -> bool {
        (0..self.state.len()).map(ActionId).any(|id| self.ready(id))
    }

    #[must_use]
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for (i, state) in self.state.iter().enumerate() {
            match state {
                State::Done => counts.complete += 1,
                State::Failed => counts.failed += 1,
                State::InFlight { .. } => counts.in_flight += 1,
                State::Waiting if self.aborted.is_some() || self.blocked(ActionId(i)) => {
                    counts.skipped += 1;
                }
                State::Waiting => counts.waiting += 1,
            }
        }
        counts
    }

    /// Whether a waiting action waits, directly or not, for a failed one.
    fn blocked(&self, id: ActionId) -> bool {
        let mut stack = vec![id];
        let mut seen = vec![false; self.state.len()];
        while let Some(at) = stack.pop() {
            if std::mem::replace(&mut seen[at.0], true) {
                continue;
            }
            for input in &self.graph.actions[at.0].inputs {
                match self.state.get(input.0) {
                    Some(State::Failed) => return true,
                    Some(State::Waiting) => stack.push(*input),
                    _ => {}
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests;
