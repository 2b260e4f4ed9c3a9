//! `baton fence history [NODE]`: the fencing history every node's fencer
//! shares, in `stonith_admin --history`'s words.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use baton_proto::fenced::fenced_client::FencedClient;
use baton_proto::fenced::{FenceEvent, FenceState, HistoryRequest};
use baton_scheduler::unpack::format_timestamp;
use clap::Subcommand;
use serde::Serialize;

use crate::exit::Code;
use crate::lrm_cmd::block_on;
use crate::output::{Format, print_json, print_text};

const CALL_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Subcommand)]
pub enum FenceCommand {
    /// Fencings of NODE (of every node without one), newest first, as
    /// every node's fencer knows them (like `stonith_admin --history`).
    History {
        /// The fenced node.
        node: Option<String>,
    },
}

/// The JSON schema of `baton fence history --output json` (stable).
#[derive(Debug, Serialize)]
struct HistoryJson {
    history: Vec<EventJson>,
}

#[derive(Debug, Serialize)]
struct EventJson {
    id: String,
    target: String,
    action: String,
    /// pending, successful or failed.
    state: &'static str,
    /// The node whose fencer ran the agents.
    delegate: String,
    client: String,
    origin: String,
    devices: Vec<String>,
    /// Why it failed; null otherwise.
    reason: Option<String>,
    /// `YYYY-MM-DD HH:MM:SSZ`.
    requested: String,
    /// Null while pending.
    completed: Option<String>,
}

pub fn run(command: &FenceCommand, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let FenceCommand::History { node } = command;
    let socket = socket_dir.join("fenced.sock");
    let events = block_on(async {
        let channel = baton_proto::client::connect(&socket, CALL_TIMEOUT)
            .await
            .with_context(|| format!("cannot reach baton-fenced at {}", socket.display()))?;
        let reply = FencedClient::new(channel)
            .history(HistoryRequest {
                target: node.clone().unwrap_or_default(),
            })
            .await
            .map_err(|status| anyhow::anyhow!("baton-fenced refused: {}", status.message()))?;
        anyhow::Ok(reply.into_inner().events)
    })?;
    match format {
        Format::Json => print_json(&HistoryJson {
            history: events.iter().map(event_json).collect(),
        })?,
        Format::Text if events.is_empty() => print_text("No fencing actions recorded")?,
        Format::Text => print_text(&events.iter().map(describe).collect::<Vec<_>>().join("\n"))?,
    }
    Ok(Code::Success)
}

fn state_word(state: FenceState) -> &'static str {
    match state {
        FenceState::Successful => "successful",
        FenceState::Failed => "failed",
        FenceState::Pending | FenceState::Unspecified => "pending",
    }
}

fn timestamp(ms: i64) -> String {
    format_timestamp(ms.div_euclid(1000))
}

fn completed(event: &FenceEvent) -> Option<String> {
    (event.state() != FenceState::Pending && event.completed_ms > 0)
        .then(|| timestamp(event.completed_ms))
}

/// "reboot of n2 by n1 for baton-crmd.1234@n1 successful at …", as
/// Pacemaker describes a history entry.
fn describe(event: &FenceEvent) -> String {
    let mut line = format!("{} of {}", event.action, event.target);
    if event.state() != FenceState::Pending && !event.delegate.is_empty() {
        line += &format!(" by {}", event.delegate);
    }
    line += &format!(
        " for {}@{} {}",
        event.client,
        event.origin,
        state_word(event.state())
    );
    if event.state() == FenceState::Failed && !event.reason.is_empty() {
        line += &format!(" ({})", event.reason);
    }
    if let Some(at) = completed(event) {
        line += &format!(" at {at}");
    }
    line
}

fn event_json(event: &FenceEvent) -> EventJson {
    EventJson {
        id: event.id.clone(),
        target: event.target.clone(),
        action: event.action.clone(),
        state: state_word(event.state()),
        delegate: event.delegate.clone(),
        client: event.client.clone(),
        origin: event.origin.clone(),
        devices: event.devices.clone(),
        reason: (!event.reason.is_empty()).then(|| event.reason.clone()),
        requested: timestamp(event.requested_ms),
        completed: completed(event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(state: FenceState, reason: &str) -> FenceEvent {
        let mut event = FenceEvent {
            id: "n1.1.0".into(),
            target: "n2".into(),
            action: "reboot".into(),
            delegate: "n1".into(),
            client: "baton-crmd.42".into(),
            origin: "n1".into(),
            reason: reason.into(),
            requested_ms: 1_796_280_150_000,
            completed_ms: 1_796_280_152_500,
            ..FenceEvent::default()
        };
        event.set_state(state);
        event
    }

    #[test]
    fn lines_read_as_pacemakers_history() {
        assert_eq!(
            describe(&event(FenceState::Successful, "")),
            "reboot of n2 by n1 for baton-crmd.42@n1 successful at 2026-12-03 06:42:32Z"
        );
        assert_eq!(
            describe(&event(FenceState::Failed, "device st1: timed out")),
            "reboot of n2 by n1 for baton-crmd.42@n1 failed (device st1: timed out) at 2026-12-03 06:42:32Z"
        );
        assert_eq!(
            describe(&event(FenceState::Pending, "")),
            "reboot of n2 for baton-crmd.42@n1 pending"
        );
    }
}
