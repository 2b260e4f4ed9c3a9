//! crmd's side of baton-fenced: a fencing request and its outcome.

use std::path::Path;
use std::time::Duration;

use baton_proto::fenced::fenced_client::FencedClient;
use baton_proto::fenced::{FenceOutcome, FenceRequest};

/// Time the answer may take beyond the request's own budget.
const MARGIN: Duration = Duration::from_secs(10);

/// Asks the local fenced to fence `target`; `Ok` once it is fenced, else
/// why not (fenced unreachable included).
pub async fn fence(
    socket: &Path,
    target: String,
    action: String,
    timeout_ms: u64,
    delay_ms: u64,
) -> Result<(), String> {
    let request = FenceRequest {
        target: target.clone(),
        target_id: 0,
        action,
        timeout_ms,
        delay_ms,
        client: format!("baton-crmd.{}", std::process::id()),
    };
    let answer = async {
        let channel =
            baton_proto::client::connect(socket, Duration::from_millis(timeout_ms) + MARGIN)
                .await?;
        anyhow::Ok(
            FencedClient::new(channel)
                .fence(request)
                .await?
                .into_inner(),
        )
    };
    match answer.await {
        Ok(result) if result.outcome() == FenceOutcome::Ok => {
            tracing::info!(%target, devices = ?result.devices, executor = %result.executor, "fenced");
            Ok(())
        }
        Ok(result) => Err(format!("fencing {target} failed: {}", result.reason)),
        Err(error) => Err(format!(
            "cannot ask baton-fenced to fence {target}: {error:#}"
        )),
    }
}
