//! Which node's fencer carries out a fencing. The fencer asked does it
//! itself when it may use a device that fences the target; when every such
//! device is banned from its node (a `-INFINITY` location constraint, as
//! Pacemaker's fencer then does not register it), it hands the fencing to
//! the fencer of the lowest node that may, never the target's, through the
//! fencers' group, and answers with that fencer's outcome.

use std::time::Duration;

use baton_proto::fenced::{
    Delegation, FenceEvent, FenceOutcome, FenceRequest, FenceResult, FenceState,
};

use crate::service::{FencedService, Planned, fence_result, wall_ms};

/// Time a delegated fencing's answer may take beyond its own budget.
const ANSWER_MARGIN: Duration = Duration::from_secs(5);

impl FencedService {
    /// `None` when this node's fencer may carry out fencing `target` as
    /// `planned`, else the node id of the fencer that should, or why none
    /// may.
    pub fn executor_for(&self, planned: &Planned, target: &str) -> Result<Option<u32>, String> {
        let Planned {
            registry,
            plan,
            names,
            ..
        } = planned;
        let me = self.peers().name();
        if plan.levels.is_empty() || registry.can_run_on(plan, &me) {
            return Ok(None);
        }
        let my_id = self.peers().node_id();
        self.peers()
            .fencers()
            .into_iter()
            .filter(|id| Some(*id) != my_id)
            .filter_map(|id| Some((id, names.get(&id)?)))
            .find(|(_, name)| name.as_str() != target && registry.can_run_on(plan, name))
            .map(|(id, _)| Some(id))
            .ok_or_else(|| {
                format!(
                    "no fencer may use a device that fences {target}: location constraints ban them from {me} and from every other node whose fencer runs (the target aside)"
                )
            })
    }

    /// Hands the fencing to the fencer of `node_id` and waits for its
    /// outcome, which it records for every fencer.
    pub async fn delegate_to(
        &self,
        node_id: u32,
        request: &FenceRequest,
        event: FenceEvent,
        budget: Duration,
    ) -> FenceResult {
        tracing::info!(target = %request.target, executor = node_id, "fencing handed to another node's fencer: its devices are banned here");
        let delegation = Delegation {
            id: event.id.clone(),
            target: request.target.clone(),
            action: request.action.clone(),
            timeout_ms: u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
            delay_ms: request.delay_ms,
            client: request.client.clone(),
            origin: event.origin.clone(),
            executor_node_id: node_id,
        };
        let answer = match self.peers().delegate(delegation) {
            Ok(answer) => answer,
            Err(reason) => return self.settle(event, fence_result(FenceOutcome::Failed, reason)),
        };
        match tokio::time::timeout(budget + ANSWER_MARGIN, answer).await {
            Ok(Ok(done)) => {
                let outcome = if done.state() == FenceState::Successful {
                    FenceOutcome::Ok
                } else {
                    FenceOutcome::Failed
                };
                let mut result = fence_result(outcome, done.reason.clone());
                result.devices = done.devices;
                result.executor = done.delegate;
                result
            }
            Ok(Err(_)) | Err(_) => {
                let reason = format!(
                    "the fencer of node {node_id} did not answer within {} ms",
                    (budget + ANSWER_MARGIN).as_millis()
                );
                self.settle(event, fence_result(FenceOutcome::TimedOut, reason))
            }
        }
    }

    /// Carries out a fencing another fencer handed to this one; the
    /// outcome reaches it (and every fencer) through the history.
    pub async fn execute_delegation(&self, delegation: Delegation) {
        let request = FenceRequest {
            target: delegation.target.clone(),
            target_id: 0,
            action: delegation.action.clone(),
            timeout_ms: delegation.timeout_ms,
            client: delegation.client.clone(),
            delay_ms: delegation.delay_ms,
        };
        let mut event = FenceEvent {
            id: delegation.id,
            target: delegation.target,
            action: delegation.action,
            delegate: self.peers().name(),
            client: delegation.client,
            origin: delegation.origin,
            requested_ms: wall_ms(),
            ..FenceEvent::default()
        };
        event.set_state(FenceState::Pending);
        self.peers().record(event.clone());
        let budget = Duration::from_millis(delegation.timeout_ms.max(1));
        match self.planned(&request.target).await {
            Ok(planned) => {
                self.carry_out(&request, event, budget, planned).await;
            }
            Err(reason) => {
                self.settle(event, fence_result(FenceOutcome::Failed, reason));
            }
        }
    }
}
