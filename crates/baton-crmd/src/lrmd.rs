//! crmd's side of lrmd: the operation history as the CIB records it, the
//! actions the cluster runs here, and the results of recurring actions.

use std::path::{Path, PathBuf};
use std::time::Duration;

use baton_controller::lrm::op_status;
use baton_controller::{HistorySlot, LrmAction, LrmEvent, LrmRecord, LrmResult, OpRecord};
use baton_proto::lrmd as pb;
use baton_proto::lrmd::lrmd_client::LrmdClient;
use tokio::sync::mpsc;
use tonic::transport::Channel;

const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts to reach lrmd before its history is taken as empty.
const ATTEMPTS: u32 = 10;

/// lrmd's history; an unreachable lrmd (after a few attempts) has none,
/// which later means its resources are probed.
pub async fn history(socket: &Path) -> Vec<OpRecord> {
    for attempt in 1..=ATTEMPTS {
        match fetch(socket).await {
            Ok(records) => return records,
            Err(error) if attempt == ATTEMPTS => {
                tracing::warn!(%error, socket = %socket.display(), "baton-lrmd does not answer; publishing no operation history for this node");
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    Vec::new()
}

async fn fetch(socket: &Path) -> anyhow::Result<Vec<OpRecord>> {
    let channel = baton_proto::client::connect(socket, CALL_TIMEOUT).await?;
    let entries = LrmdClient::new(channel)
        .history(pb::HistoryRequest {})
        .await?
        .into_inner()
        .entries;
    Ok(entries.into_iter().filter_map(record).collect())
}

/// Pacemaker's execution status for lrmd's.
fn status_code(status: pb::OpStatus) -> i32 {
    match status {
        pb::OpStatus::Done => op_status::DONE,
        pb::OpStatus::Cancelled => op_status::CANCELLED,
        pb::OpStatus::Timeout => op_status::TIMEOUT,
        pb::OpStatus::NotInstalled => op_status::NOT_INSTALLED,
        pb::OpStatus::Pending => op_status::PENDING,
        pb::OpStatus::Error | pb::OpStatus::Unspecified => op_status::ERROR,
    }
}

fn record(entry: pb::HistoryEntry) -> Option<OpRecord> {
    let slot = match entry.slot() {
        pb::HistorySlot::Last => HistorySlot::Last,
        pb::HistorySlot::LastFailure => HistorySlot::LastFailure,
        pb::HistorySlot::Recurring => HistorySlot::Recurring,
        pb::HistorySlot::Unspecified => return None,
    };
    let result = entry.result?;
    let extra = entry.record.unwrap_or_default();
    let mut parts = result.agent.splitn(3, ':');
    let class = parts.next()?.to_owned();
    let (provider, agent) = match (parts.next(), parts.next()) {
        (Some(provider), Some(kind)) => (Some(provider.to_owned()), kind.to_owned()),
        (Some(kind), None) => (None, kind.to_owned()),
        _ => return None,
    };
    Some(OpRecord {
        slot,
        op_status: status_code(result.status()),
        resource: result.resource_id,
        class,
        provider,
        agent,
        operation: result.action,
        interval_ms: result.interval_ms,
        call_id: entry.call_id,
        rc: result.rc,
        last_rc_change_s: entry.last_rc_change_s,
        exec_ms: result.exec_ms,
        queue_ms: result.queue_ms,
        exit_reason: result.exit_reason,
        transition_key: Some(extra.transition_key).filter(|k| !k.is_empty()),
        op_digest: Some(extra.op_digest).filter(|d| !d.is_empty()),
    })
}

/// Time an action's answer may take beyond the action's own timeout.
const EXEC_MARGIN: Duration = Duration::from_secs(10);

fn to_action(action: &LrmAction) -> pb::Action {
    pb::Action {
        resource_id: action.resource.clone(),
        agent: action.agent_name(),
        action: action.operation.clone(),
        params: action.params.clone().into_iter().collect(),
        meta: action.meta.clone().into_iter().collect(),
        interval_ms: action.interval_ms,
        timeout_ms: action.timeout_ms,
    }
}

fn to_record(record: &LrmRecord) -> pb::Record {
    pb::Record {
        expected_rc: record.expected_rc,
        transition_key: record.transition_key.clone(),
        op_digest: record.op_digest.clone().unwrap_or_default(),
    }
}

fn from_result(result: pb::ExecResult) -> LrmResult {
    LrmResult {
        op_status: status_code(result.status()),
        resource: result.resource_id,
        operation: result.action,
        interval_ms: result.interval_ms,
        rc: result.rc,
        exec_ms: result.exec_ms,
        queue_ms: result.queue_ms,
        exit_reason: result.exit_reason,
        call_id: result.call_id,
        last_rc_change_s: result.last_rc_change_s,
    }
}

/// The result of an action lrmd could not run at all.
fn not_run(action: &LrmAction, reason: String) -> LrmResult {
    LrmResult {
        resource: action.resource.clone(),
        operation: action.operation.clone(),
        interval_ms: action.interval_ms,
        rc: 1,
        op_status: op_status::ERROR,
        exec_ms: 0,
        queue_ms: 0,
        exit_reason: reason,
        call_id: 0,
        last_rc_change_s: 0,
    }
}

/// Runs a one-shot action on lrmd and waits for its end; an lrmd that
/// cannot be reached or refuses gives a failed result saying why.
pub async fn exec(socket: &Path, action: LrmAction, record: Option<LrmRecord>) -> LrmResult {
    let timeout = Duration::from_millis(action.timeout_ms) + EXEC_MARGIN;
    let request = pb::ExecRequest {
        action: Some(to_action(&action)),
        record: record.as_ref().map(to_record),
    };
    let answer = async {
        let channel = baton_proto::client::connect(socket, timeout).await?;
        let result = LrmdClient::new(channel).exec(request).await?.into_inner();
        anyhow::Ok(result)
    };
    match answer.await {
        Ok(result) => from_result(result),
        Err(error) => not_run(&action, format!("baton-lrmd did not run it: {error:#}")),
    }
}

/// lrmd's client for quick requests, connected on first use and again
/// after a failure.
pub struct Link {
    socket: PathBuf,
    client: Option<LrmdClient<Channel>>,
}

impl Link {
    pub fn new(socket: PathBuf) -> Link {
        Link {
            socket,
            client: None,
        }
    }

    async fn client(&mut self) -> anyhow::Result<LrmdClient<Channel>> {
        if let Some(client) = &self.client {
            return Ok(client.clone());
        }
        let channel = baton_proto::client::connect(&self.socket, CALL_TIMEOUT).await?;
        let client = LrmdClient::new(channel);
        self.client = Some(client.clone());
        Ok(client)
    }

    /// Runs `request` on a connected client; a failure drops the
    /// connection so the next request connects again.
    async fn call<T>(
        &mut self,
        what: &str,
        request: impl AsyncFnOnce(LrmdClient<Channel>) -> Result<T, tonic::Status>,
    ) {
        let result = match self.client().await {
            Ok(client) => request(client).await.map_err(anyhow::Error::from),
            Err(error) => Err(error),
        };
        if let Err(error) = result {
            self.client = None;
            tracing::warn!(%error, "baton-lrmd did not take {what}");
        }
    }

    pub async fn start_recurring(&mut self, action: &LrmAction, record: &LrmRecord) {
        let request = pb::StartMonitorRequest {
            action: Some(to_action(action)),
            record: Some(to_record(record)),
        };
        let what = format!("the recurring {} of {}", action.operation, action.resource);
        self.call(&what, async move |mut c| {
            c.start_monitor(request).await.map(|_| ())
        })
        .await;
    }

    pub async fn cancel(&mut self, resource: String, operation: String, interval_ms: u64) {
        let what = format!("the cancel of {operation} of {resource}");
        let request = pb::CancelMonitorRequest {
            resource_id: resource,
            action: operation,
            interval_ms,
        };
        self.call(&what, async move |mut c| {
            c.cancel_monitor(request).await.map(|_| ())
        })
        .await;
    }

    pub async fn forget(&mut self, resource: String) {
        let what = format!("erasing the history of {resource}");
        let request = pb::ForgetRequest {
            resource_id: resource,
        };
        self.call(&what, async move |mut c| {
            c.forget(request).await.map(|_| ())
        })
        .await;
    }
}

/// Follows lrmd's recurring and recorded results for as long as crmd runs,
/// subscribing again whenever lrmd goes away. The stream only ends when
/// lrmd does, so a subscription after a lost one is a new lrmd: its history
/// and recurring actions are gone, which the core is told.
pub fn watch_results(socket: PathBuf, events: mpsc::Sender<LrmEvent>) {
    tokio::spawn(async move {
        let mut lost = false;
        loop {
            if let Ok(channel) = baton_proto::client::connect(&socket, CALL_TIMEOUT).await
                && let Ok(stream) = LrmdClient::new(channel)
                    .watch_monitors(pb::WatchMonitorsRequest {})
                    .await
            {
                if lost {
                    tracing::warn!("baton-lrmd restarted; its resources will be probed again");
                    if events.send(LrmEvent::Restarted).await.is_err() {
                        return;
                    }
                }
                let mut stream = stream.into_inner();
                while let Ok(Some(result)) = stream.message().await {
                    let result = from_result(result);
                    let event = if result.interval_ms == 0 {
                        LrmEvent::Recorded(result)
                    } else {
                        LrmEvent::Recurring(result)
                    };
                    if events.send(event).await.is_err() {
                        return;
                    }
                }
                lost = true;
                tracing::warn!("lost baton-lrmd");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
}
