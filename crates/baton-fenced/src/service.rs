//! The `Fenced` service: reads the configuration from crmd, plans with
//! baton-fencing and runs each level's devices until one level succeeds.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use baton_cib::Cib;
use baton_fencing::{AgentCapabilities, Candidate, Claim, FencePlan, Registry};
use baton_proto::crmd::QueryRequest;
use baton_proto::crmd::crmd_client::CrmdClient;
use baton_proto::fenced::fenced_server::Fenced;
use baton_proto::fenced::{
    FenceEvent, FenceOutcome, FenceRequest, FenceResult, FenceState, HistoryReply, HistoryRequest,
    TestReply, TestRequest,
};
use tokio::sync::Mutex;
use tonic::{Request, Response, Status};

use crate::agents::Agents;
use crate::peers::Peers;

/// Pacemaker's `stonith-timeout` default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const CRMD_TIMEOUT: Duration = Duration::from_secs(10);

/// What fencing a node would use.
pub struct Planned {
    pub registry: Registry,
    pub plan: FencePlan,
    pub capabilities: HashMap<String, AgentCapabilities>,
    /// The configuration's node names by node id.
    pub names: BTreeMap<u32, String>,
}

pub struct FencedService {
    crmd_socket: PathBuf,
    agents: Arc<Agents>,
    peers: Arc<Peers>,
    /// One fencing at a time from this node (concurrent-fencing=false).
    one_at_a_time: Mutex<()>,
    /// Numbers this node's fencings in the history.
    sequence: AtomicU64,
}

impl FencedService {
    pub fn new(crmd_socket: PathBuf, agent_dir: PathBuf, peers: Arc<Peers>) -> FencedService {
        FencedService {
            crmd_socket,
            agents: Arc::new(Agents::new(agent_dir)),
            peers,
            one_at_a_time: Mutex::new(()),
            sequence: AtomicU64::new(0),
        }
    }

    /// The history's record of `request`, pending.
    fn pending_event(&self, request: &FenceRequest) -> FenceEvent {
        let name = self.peers.name();
        let requested_ms = wall_ms();
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let mut event = FenceEvent {
            id: format!("{name}.{requested_ms}.{sequence}"),
            target: request.target.clone(),
            action: request.action.clone(),
            delegate: name.clone(),
            client: request.client.clone(),
            origin: name,
            requested_ms,
            ..FenceEvent::default()
        };
        event.set_state(FenceState::Pending);
        event
    }

    async fn configuration(&self) -> Result<Cib, String> {
        let reply = async {
            let channel = baton_proto::client::connect(&self.crmd_socket, CRMD_TIMEOUT).await?;
            let reply = CrmdClient::new(channel).query(QueryRequest {}).await?;
            anyhow::Ok(reply.into_inner().cib)
        }
        .await
        .map_err(|e| format!("cannot read the configuration from baton-crmd: {e:#}"))?;
        Cib::parse(&reply).map_err(|e| format!("baton-crmd's configuration does not parse: {e}"))
    }

    pub fn agents(&self) -> &Agents {
        &self.agents
    }

    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    /// Runs the fencing here with `planned`, one at a time, within
    /// `budget`; records `event`'s outcome (for every fencer) and returns it.
    pub async fn carry_out(
        &self,
        request: &FenceRequest,
        event: FenceEvent,
        budget: Duration,
        planned: Planned,
    ) -> FenceResult {
        let _turn = self.one_at_a_time.lock().await;
        let deadline = Instant::now() + budget;
        tracing::info!(target = %request.target, action = %request.action, client = %request.client, "fencing requested");
        let outcome = tokio::time::timeout(budget, self.fence(request, deadline, planned)).await;
        let result = match outcome {
            Ok(Ok(devices)) => {
                tracing::info!(target = %request.target, ?devices, "fenced");
                let mut result = fence_result(FenceOutcome::Ok, String::new());
                result.devices = devices;
                result
            }
            Ok(Err(reason)) => {
                tracing::error!(target = %request.target, %reason, "fencing failed");
                fence_result(FenceOutcome::Failed, reason)
            }
            Err(_) => {
                let reason = format!(
                    "not fenced within {} ms (stonith-timeout)",
                    budget.as_millis()
                );
                tracing::error!(target = %request.target, %reason, "fencing timed out");
                fence_result(FenceOutcome::TimedOut, reason)
            }
        };
        self.settle(event, result)
    }

    /// Records `event` as `result` says it ended; the result, carried out
    /// by this node.
    pub fn settle(&self, mut event: FenceEvent, mut result: FenceResult) -> FenceResult {
        result.executor = self.peers.name();
        event.set_state(if result.outcome() == FenceOutcome::Ok {
            FenceState::Successful
        } else {
            FenceState::Failed
        });
        event.devices.clone_from(&result.devices);
        event.reason.clone_from(&result.reason);
        event.completed_ms = wall_ms();
        self.peers.record(event);
        result
    }

    /// The devices and their plan for fencing `target`, from the
    /// configuration crmd holds now.
    pub async fn planned(&self, target: &str) -> Result<Planned, String> {
        let cib = self.configuration().await?;
        let (registry, problems) = Registry::from_cib(&cib);
        for problem in &problems {
            tracing::warn!(%problem, "fencing configuration");
        }
        let mut capabilities: HashMap<String, AgentCapabilities> = HashMap::new();
        for device in &registry.devices {
            if !capabilities.contains_key(&device.agent) {
                let found = self.agents.capabilities(&device.agent).await;
                capabilities.insert(device.agent.clone(), found);
            }
        }
        let attributes = node_attributes(&cib, target);
        let plan = registry.plan(target, &attributes, |agent| {
            capabilities.get(agent).copied().unwrap_or_default()
        });
        let names = cib
            .nodes()
            .filter_map(|n| Some((n.id().parse().ok()?, n.uname()?.to_owned())))
            .collect();
        Ok(Planned {
            registry,
            plan,
            capabilities,
            names,
        })
    }

    /// Fences `request.target`, each topology level (or device) in turn.
    async fn fence(
        &self,
        request: &FenceRequest,
        deadline: Instant,
        planned: Planned,
    ) -> Result<Vec<String>, String> {
        let Planned {
            registry,
            plan,
            capabilities,
            ..
        } = planned;
        if plan.levels.is_empty() {
            return Err(format!(
                "no fencing device can fence {} (check the devices' pcmk_host_list, pcmk_host_map and pcmk_host_check)",
                request.target
            ));
        }
        if request.delay_ms > 0 {
            tracing::info!(target = %request.target, delay_ms = request.delay_ms, "waiting before fencing, as asked (two-node tie-break or priority-fencing-delay)");
            tokio::time::sleep(Duration::from_millis(request.delay_ms)).await;
        }
        let mut failures = Vec::new();
        for level in &plan.levels {
            match self
                .run_level(&registry, level, request, &capabilities, deadline)
                .await
            {
                Ok(()) => return Ok(level.iter().map(|c| c.device.clone()).collect()),
                Err(reason) => failures.push(reason),
            }
        }
        Err(failures.join("; "))
    }

    /// Every device of a level, in order; the first failure fails it.
    async fn run_level(
        &self,
        registry: &Registry,
        level: &[Candidate],
        request: &FenceRequest,
        capabilities: &HashMap<String, AgentCapabilities>,
        deadline: Instant,
    ) -> Result<(), String> {
        let target = &request.target;
        for candidate in level {
            let id = &candidate.device;
            let device = match (candidate.claim, registry.device(id)) {
                (Claim::Unknown, _) | (_, None) => {
                    return Err(format!("device {id} is not defined (or is disabled)"));
                }
                (Claim::No, _) => {
                    return Err(format!(
                        "device {id} does not fence {target} (its host list leaves it out)"
                    ));
                }
                (Claim::Yes | Claim::AskAgent, Some(device)) => device,
            };
            let agent = capabilities.get(&device.agent).copied().unwrap_or_default();
            let action = device.agent_action(&request.action, agent);
            if matches!(action.as_str(), "off" | "reboot") {
                let delay = Duration::from_millis(device.delay_ms(target, random()));
                if !delay.is_zero() {
                    tracing::info!(device = %id, %target, delay_ms = delay.as_millis(), "waiting before fencing");
                    tokio::time::sleep(delay).await;
                }
            }
            let node_id = Some(request.target_id).filter(|id| *id != 0);
            let stdin = device.stdin(&action, target, node_id);
            // pcmk_<action>_retries: a failed attempt is tried again while
            // the fencing's budget lasts.
            let attempts = 1 + device.retries_for(&request.action);
            let mut failures = Vec::new();
            let mut done = false;
            for attempt in 1..=attempts {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                let timeout = device
                    .timeouts_ms
                    .get(&request.action)
                    .map_or(left, |ms| Duration::from_millis(*ms).min(left));
                tracing::info!(device = %id, agent = %device.agent, %action, %target, attempt, "running fence agent");
                match self.agents.run(&device.agent, stdin.clone(), timeout).await {
                    Ok(_) => {
                        done = true;
                        break;
                    }
                    Err(reason) => {
                        tracing::warn!(device = %id, attempt, %reason, "fence agent failed");
                        failures.push(reason);
                    }
                }
            }
            if !done {
                let last = failures
                    .last()
                    .cloned()
                    .unwrap_or_else(|| "no time was left to run it".to_owned());
                return Err(format!(
                    "device {id}: {last} ({} of {attempts} attempts made)",
                    failures.len()
                ));
            }
        }
        Ok(())
    }
}

/// The node's permanent attributes, for topology levels by attribute.
fn node_attributes(cib: &Cib, node: &str) -> BTreeMap<String, String> {
    cib.nodes()
        .filter(|n| n.uname() == Some(node))
        .flat_map(|n| n.instance_attributes())
        .flat_map(|set| set.pairs())
        .filter_map(|p| Some((p.name().to_owned(), p.value()?.to_owned())))
        .collect()
}

/// Randomness for `pcmk_delay_max`: the clock's nanoseconds are enough to
/// spread two nodes' delays.
fn random() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()) / 1_000_000)
}

#[tonic::async_trait]
impl Fenced for FencedService {
    async fn fence(&self, request: Request<FenceRequest>) -> Result<Response<FenceResult>, Status> {
        let request = request.into_inner();
        if request.target.is_empty() || !matches!(request.action.as_str(), "reboot" | "off" | "on")
        {
            return Err(Status::invalid_argument(
                "a fencing request needs a target and an action of reboot, off or on",
            ));
        }
        let budget = match request.timeout_ms {
            0 => DEFAULT_TIMEOUT,
            ms => Duration::from_millis(ms),
        };
        let event = self.pending_event(&request);
        self.peers.record(event.clone());
        let planned = match self.planned(&request.target).await {
            Ok(planned) => planned,
            Err(reason) => {
                let result = self.settle(event, fence_result(FenceOutcome::Failed, reason));
                return Ok(Response::new(result));
            }
        };
        let result = match self.executor_for(&planned, &request.target) {
            Ok(None) => self.carry_out(&request, event, budget, planned).await,
            Ok(Some(node_id)) => self.delegate_to(node_id, &request, event, budget).await,
            Err(reason) => self.settle(event, fence_result(FenceOutcome::Failed, reason)),
        };
        Ok(Response::new(result))
    }

    async fn test(&self, request: Request<TestRequest>) -> Result<Response<TestReply>, Status> {
        let target = request.into_inner().target;
        if target.is_empty() {
            return Err(Status::invalid_argument(
                "a fencing test needs a node to reach",
            ));
        }
        let devices = crate::reach::test(self, &target)
            .await
            .map_err(Status::unavailable)?;
        Ok(Response::new(TestReply { devices }))
    }

    async fn history(
        &self,
        request: Request<HistoryRequest>,
    ) -> Result<Response<HistoryReply>, Status> {
        let target = request.into_inner().target;
        let events = crate::peers::lock(self.peers.history()).of(&target);
        Ok(Response::new(HistoryReply { events }))
    }
}

/// A result of `outcome`, with `reason` when it is not Ok.
pub fn fence_result(outcome: FenceOutcome, reason: String) -> FenceResult {
    let mut result = FenceResult {
        reason,
        ..FenceResult::default()
    };
    result.set_outcome(outcome);
    result
}

pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
