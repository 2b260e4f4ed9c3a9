//! The `Lrmd` gRPC service: decoding requests into baton-agents types and
//! results back into messages. Decisions live in the executor and monitors.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use baton_agents::metadata::{self, AgentMetadata};
use baton_agents::name::{AgentName, Class};
use baton_agents::outcome::OpStatus;
use baton_agents::request::ActionRequest;
use baton_proto::lrmd as pb;
use baton_proto::lrmd::lrmd_server::Lrmd;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use crate::executor::{Executor, Ran};
use crate::fence_agents::FenceAgents;
use crate::history::History;
use crate::monitors::{MonitorEvent, MonitorKey, Monitors};

/// Agents whose meta-data is kept (STYLE rule 10); the cache starts over
/// when full.
const METADATA_CACHED_MAX: usize = 1024;
const METADATA_TIMEOUT_MS: u64 = 10_000;
/// The class of fence agents: listed and described here, run by fenced.
const STONITH: &str = "stonith";
/// One-shot actions queued or running at once (STYLE rule 10); more are
/// refused rather than piled up.
pub const EXEC_ADMITTED_MAX: usize = 4096;

#[derive(Debug)]
pub struct LrmdService {
    executor: Arc<Executor>,
    monitors: Arc<Monitors>,
    history: Arc<History>,
    metadata: Mutex<HashMap<AgentName, (AgentMetadata, String)>>,
    admitted: Arc<tokio::sync::Semaphore>,
    fence_agents: FenceAgents,
}

impl LrmdService {
    pub fn new(
        executor: Arc<Executor>,
        monitors: Arc<Monitors>,
        history: Arc<History>,
        fence_agents: FenceAgents,
    ) -> Self {
        Self {
            fence_agents,
            executor,
            monitors,
            history,
            metadata: Mutex::new(HashMap::new()),
            admitted: Arc::new(tokio::sync::Semaphore::new(EXEC_ADMITTED_MAX)),
        }
    }
}

fn decode(action: Option<pb::Action>) -> Result<ActionRequest, Status> {
    let action = action.ok_or_else(|| Status::invalid_argument("the request carries no action"))?;
    let agent: AgentName = action
        .agent
        .parse()
        .map_err(|e| Status::invalid_argument(format!("{e}")))?;
    let request = ActionRequest {
        resource_id: action.resource_id,
        agent,
        action: action.action,
        params: action.params.into_iter().collect(),
        meta: action.meta.into_iter().collect(),
        interval_ms: action.interval_ms,
        timeout_ms: action.timeout_ms,
    };
    request
        .validate()
        .map_err(|e| Status::invalid_argument(format!("{e}")))?;
    Ok(request)
}

pub(crate) fn encode(request: &ActionRequest, ran: Ran) -> pb::ExecResult {
    let result = ran.result;
    let status = match result.status {
        OpStatus::Done => pb::OpStatus::Done,
        OpStatus::Timeout => pb::OpStatus::Timeout,
        OpStatus::Error => pb::OpStatus::Error,
        OpStatus::NotInstalled => pb::OpStatus::NotInstalled,
        OpStatus::Cancelled => pb::OpStatus::Cancelled,
    };
    pb::ExecResult {
        resource_id: request.resource_id.clone(),
        agent: request.agent.to_string(),
        action: request.action.clone(),
        interval_ms: request.interval_ms,
        rc: result.rc,
        status: status.into(),
        exec_ms: result.exec_ms,
        queue_ms: ran.queue_ms,
        exit_reason: result.exit_reason,
        stdout_tail: result.stdout,
        stderr_tail: result.stderr,
        output_truncated: result.truncated,
        call_id: 0,
        last_rc_change_s: 0,
    }
}

/// Pacemaker's rc for an action still running.
const RC_PENDING: i32 = 193;

fn pending(request: &ActionRequest) -> pb::ExecResult {
    pb::ExecResult {
        resource_id: request.resource_id.clone(),
        agent: request.agent.to_string(),
        action: request.action.clone(),
        interval_ms: request.interval_ms,
        rc: RC_PENDING,
        status: pb::OpStatus::Pending.into(),
        ..pb::ExecResult::default()
    }
}

fn encode_event(event: MonitorEvent) -> pb::ExecResult {
    let mut result = encode(&event.request, event.ran);
    if let Some((call_id, last_rc_change_s)) = event.recorded {
        result.call_id = call_id;
        result.last_rc_change_s = last_rc_change_s;
    }
    result
}

type ResultStream = Pin<Box<dyn Stream<Item = Result<pb::ExecResult, Status>> + Send>>;

#[tonic::async_trait]
impl Lrmd for LrmdService {
    async fn exec(
        &self,
        request: Request<pb::ExecRequest>,
    ) -> Result<Response<pb::ExecResult>, Status> {
        let request = request.into_inner();
        let record = request.record;
        let request = decode(request.action)?;
        let admitted = Arc::clone(&self.admitted)
            .try_acquire_owned()
            .map_err(|_| {
                Status::resource_exhausted(format!(
                    "{EXEC_ADMITTED_MAX} actions are already queued on this node; retry later"
                ))
            })?;
        tracing::info!(resource = %request.resource_id, agent = %request.agent, action = %request.action, "executing");
        // In its own task: an action runs to its end even if the caller
        // hangs up, so a stop is never left half done.
        let executor = Arc::clone(&self.executor);
        let history = Arc::clone(&self.history);
        let monitors = Arc::clone(&self.monitors);
        if let Some(record) = &record
            && request.interval_ms == 0
        {
            history.begin(&pending(&request), record, crate::history::now_s());
        }
        let task = tokio::spawn(async move {
            let _admitted = admitted;
            let ran = executor.run(&request).await;
            tracing::info!(
                resource = %request.resource_id, action = %request.action, rc = ran.result.rc,
                status = %ran.result.status, exec_ms = ran.result.exec_ms, "finished"
            );
            let mut result = encode(&request, ran.clone());
            if let Some(record) = &record {
                let recorded = history.record(&result, record, crate::history::now_s());
                (result.call_id, result.last_rc_change_s) = recorded;
                monitors.publish(MonitorEvent {
                    request: Arc::new(request),
                    ran,
                    recorded: Some(recorded),
                });
            }
            result
        });
        let result = task
            .await
            .map_err(|e| Status::internal(format!("the action's task failed: {e}")))?;
        Ok(Response::new(result))
    }

    async fn start_monitor(
        &self,
        request: Request<pb::StartMonitorRequest>,
    ) -> Result<Response<pb::StartMonitorReply>, Status> {
        let request = request.into_inner();
        let record = request.record;
        let request = decode(request.action)?;
        if request.interval_ms == 0 {
            return Err(Status::invalid_argument(
                "a recurring action needs interval_ms > 0; use Exec for a one-shot action",
            ));
        }
        self.monitors
            .start(request, record)
            .map_err(|e| Status::resource_exhausted(e.to_string()))?;
        Ok(Response::new(pb::StartMonitorReply {}))
    }

    async fn cancel_monitor(
        &self,
        request: Request<pb::CancelMonitorRequest>,
    ) -> Result<Response<pb::CancelMonitorReply>, Status> {
        let request = request.into_inner();
        let key = MonitorKey {
            resource_id: request.resource_id,
            action: request.action,
            interval_ms: request.interval_ms,
        };
        Ok(Response::new(pb::CancelMonitorReply {
            cancelled: self.monitors.cancel(&key),
        }))
    }

    async fn history(
        &self,
        _request: Request<pb::HistoryRequest>,
    ) -> Result<Response<pb::HistoryReply>, Status> {
        Ok(Response::new(pb::HistoryReply {
            entries: self.history.entries(),
        }))
    }

    async fn forget(
        &self,
        request: Request<pb::ForgetRequest>,
    ) -> Result<Response<pb::ForgetReply>, Status> {
        let resource = request.into_inner().resource_id;
        let forgotten = self.history.forget(&resource);
        tracing::info!(%resource, forgotten, "history erased");
        Ok(Response::new(pb::ForgetReply { forgotten }))
    }

    type WatchMonitorsStream = ResultStream;

    async fn watch_monitors(
        &self,
        _request: Request<pb::WatchMonitorsRequest>,
    ) -> Result<Response<Self::WatchMonitorsStream>, Status> {
        let (receiver, current) = self.monitors.subscribe();
        let current = tokio_stream::iter(current.into_iter().map(|e| Ok(encode_event(e))));
        let live = tokio_stream::wrappers::BroadcastStream::new(receiver).map(|item| {
            item.map(encode_event).map_err(|_lagged| {
                Status::data_loss("this subscriber fell behind and missed results; subscribe again")
            })
        });
        Ok(Response::new(Box::pin(current.chain(live))))
    }

    async fn list_classes(
        &self,
        _request: Request<pb::ListClassesRequest>,
    ) -> Result<Response<pb::ListClassesReply>, Status> {
        let mut classes: Vec<String> = baton_agents::list::classes()
            .iter()
            .map(ToString::to_string)
            .collect();
        classes.push(STONITH.to_owned());
        Ok(Response::new(pb::ListClassesReply { classes }))
    }

    async fn list_providers(
        &self,
        _request: Request<pb::ListProvidersRequest>,
    ) -> Result<Response<pb::ListProvidersReply>, Status> {
        let providers = baton_agents::list::providers(self.executor.roots());
        Ok(Response::new(pb::ListProvidersReply { providers }))
    }

    async fn list_agents(
        &self,
        request: Request<pb::ListAgentsRequest>,
    ) -> Result<Response<pb::ListAgentsReply>, Status> {
        let request = request.into_inner();
        if request.class == STONITH {
            let agents = self
                .fence_agents
                .list()
                .into_iter()
                .map(|kind| format!("{STONITH}:{kind}"))
                .collect();
            return Ok(Response::new(pb::ListAgentsReply { agents }));
        }
        let class: Class = request
            .class
            .parse()
            .map_err(|e| Status::invalid_argument(format!("{e}")))?;
        let provider = Some(request.provider.as_str()).filter(|p| !p.is_empty());
        if provider.is_some() && class != Class::Ocf {
            return Err(Status::invalid_argument("only the ocf class has providers"));
        }
        let agents = baton_agents::list::agents(self.executor.roots(), class, provider)
            .await
            .iter()
            .map(ToString::to_string)
            .collect();
        Ok(Response::new(pb::ListAgentsReply { agents }))
    }

    async fn metadata(
        &self,
        request: Request<pb::MetadataRequest>,
    ) -> Result<Response<pb::MetadataReply>, Status> {
        let text = request.into_inner().agent;
        if let Some(kind) = text.strip_prefix("stonith:") {
            let (meta, xml) = self
                .fence_agents
                .metadata(kind)
                .await
                .map_err(Status::failed_precondition)?;
            return Ok(Response::new(metadata_reply(text.clone(), meta, xml)));
        }
        let agent: AgentName = text
            .parse()
            .map_err(|e| Status::invalid_argument(format!("{e}")))?;
        let cached = self
            .metadata
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&agent)
            .cloned();
        let (meta, xml) = match cached {
            Some(found) => found,
            None => {
                let found = self.fetch_metadata(&agent).await?;
                let mut cache = self.metadata.lock().unwrap_or_else(PoisonError::into_inner);
                if cache.len() >= METADATA_CACHED_MAX {
                    cache.clear();
                }
                cache.insert(agent.clone(), found.clone());
                found
            }
        };
        Ok(Response::new(metadata_reply(agent.to_string(), meta, xml)))
    }
}

impl LrmdService {
    async fn fetch_metadata(&self, agent: &AgentName) -> Result<(AgentMetadata, String), Status> {
        let request = ActionRequest {
            // Agents put the instance into defaults they print (state file
            // paths); the type reads best there.
            resource_id: agent.kind.clone(),
            agent: agent.clone(),
            action: "meta-data".into(),
            params: Default::default(),
            meta: Default::default(),
            interval_ms: 0,
            timeout_ms: METADATA_TIMEOUT_MS,
        };
        let result = self.executor.run(&request).await.result;
        if result.status != OpStatus::Done || result.rc != 0 {
            let why = if result.exit_reason.is_empty() {
                format!("rc {}", result.rc)
            } else {
                result.exit_reason
            };
            return Err(Status::failed_precondition(format!(
                "{agent} gave no meta-data ({}: {why}); is it installed?",
                result.status
            )));
        }
        if result.truncated {
            return Err(Status::failed_precondition(format!(
                "the meta-data of {agent} is larger than we keep"
            )));
        }
        let meta = metadata::parse(&result.stdout)
            .map_err(|e| Status::failed_precondition(format!("{agent}: {e}")))?;
        Ok((meta, result.stdout))
    }
}

fn metadata_reply(agent: String, meta: AgentMetadata, xml: String) -> pb::MetadataReply {
    pb::MetadataReply {
        agent,
        version: meta.version,
        shortdesc: meta.shortdesc,
        longdesc: meta.longdesc,
        parameters: meta
            .parameters
            .into_iter()
            .map(|p| pb::Parameter {
                name: p.name,
                r#type: p.content_type,
                default: p.default.unwrap_or_default(),
                required: p.required,
                unique: p.unique,
                shortdesc: p.shortdesc,
                longdesc: p.longdesc,
            })
            .collect(),
        actions: meta
            .actions
            .into_iter()
            .map(|a| pb::ActionSpec {
                name: a.name,
                timeout_ms: a.timeout_ms.unwrap_or_default(),
                interval_ms: a.interval_ms.unwrap_or_default(),
                depth: a.depth.unwrap_or_default(),
                role: a.role.unwrap_or_default(),
            })
            .collect(),
        xml,
    }
}
