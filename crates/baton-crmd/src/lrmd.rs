//! crmd's side of lrmd: the operation history, as the CIB records it.

use std::path::Path;
use std::time::Duration;

use baton_controller::{HistorySlot, OpRecord};
use baton_proto::lrmd as pb;
use baton_proto::lrmd::lrmd_client::LrmdClient;

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
fn op_status(status: pb::OpStatus) -> i32 {
    match status {
        pb::OpStatus::Done => 0,
        pb::OpStatus::Cancelled => 1,
        pb::OpStatus::Timeout => 2,
        pb::OpStatus::NotInstalled => 7,
        pb::OpStatus::Error | pb::OpStatus::Unspecified => 4,
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
        op_status: op_status(result.status()),
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
