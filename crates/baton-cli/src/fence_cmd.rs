//! `baton fence history [NODE]`: the fencing history every node's fencer
//! shares, in `stonith_admin --history`'s words; `baton fence test NODE`:
//! whether the devices that may fence NODE can reach it, without shooting.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use baton_proto::fenced::fenced_client::FencedClient;
use baton_proto::fenced::{DeviceReach, FenceEvent, FenceState, HistoryRequest, TestRequest};
use baton_scheduler::unpack::format_timestamp;
use clap::Subcommand;
use serde::Serialize;

use crate::exit::Code;
use crate::lrm_cmd::block_on;
use crate::output::{Format, print_json, print_text};

/// Connecting, and a test's checks (each agent may take up to 20 s).
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);
/// The status waits this long at most for the fencing history.
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Subcommand)]
pub enum FenceCommand {
    /// Fencings of NODE (of every node without one), newest first, as
    /// every node's fencer knows them (like `stonith_admin --history`).
    History {
        /// The fenced node.
        node: Option<String>,
    },
    /// Ask every device that may fence NODE whether it can reach it (the
    /// agent's list, status or monitor), without shooting; exit 0 when one
    /// can, 1 when none can.
    Test {
        /// The node to reach.
        node: String,
    },
}

/// The JSON schema of `baton fence test NODE --output json` (stable).
#[derive(Debug, Serialize)]
struct TestJson<'a> {
    node: &'a str,
    /// Whether some device can reach it.
    reachable: bool,
    devices: Vec<ReachJson<'a>>,
}

#[derive(Debug, Serialize)]
struct ReachJson<'a> {
    device: &'a str,
    agent: &'a str,
    /// The agent action asked: list, status or monitor.
    check: &'a str,
    reachable: bool,
    detail: &'a str,
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
    let socket = socket_dir.join("fenced.sock");
    match command {
        FenceCommand::History { node } => history(&socket, node.as_deref(), format),
        FenceCommand::Test { node } => test(&socket, node, format),
    }
}

async fn fenced(
    socket: &Path,
    timeout: Duration,
) -> anyhow::Result<FencedClient<tonic::transport::Channel>> {
    let channel = baton_proto::client::connect(socket, timeout)
        .await
        .with_context(|| format!("cannot reach baton-fenced at {}", socket.display()))?;
    Ok(FencedClient::new(channel))
}

fn refused(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("baton-fenced refused: {}", status.message())
}

fn test(socket: &Path, node: &str, format: Format) -> anyhow::Result<Code> {
    let devices = block_on(async {
        let reply = fenced(socket, CHECK_TIMEOUT)
            .await?
            .test(TestRequest {
                target: node.to_owned(),
            })
            .await
            .map_err(refused)?;
        anyhow::Ok(reply.into_inner().devices)
    })?;
    let reachable = devices.iter().any(|d| d.reachable);
    match format {
        Format::Json => print_json(&TestJson {
            node,
            reachable,
            devices: devices
                .iter()
                .map(|d| ReachJson {
                    device: &d.device,
                    agent: &d.agent,
                    check: &d.check,
                    reachable: d.reachable,
                    detail: &d.detail,
                })
                .collect(),
        })?,
        Format::Text if devices.is_empty() => print_text(&format!(
            "No fencing device may fence {node} (check the devices' pcmk_host_list, pcmk_host_map and pcmk_host_check)"
        ))?,
        Format::Text => print_text(&describe_test(node, &devices))?,
    }
    Ok(if reachable {
        Code::Success
    } else {
        Code::Problems
    })
}

/// One line per device: "st1 (fence_ipmilan, status): reaches n2: n2 is on".
fn describe_test(node: &str, devices: &[DeviceReach]) -> String {
    devices
        .iter()
        .map(|d| {
            let verdict = if d.reachable {
                "reaches"
            } else {
                "does not reach"
            };
            let how = if d.agent.is_empty() {
                String::new()
            } else {
                format!(" ({}, {})", d.agent, d.check)
            };
            format!("{}{how}: {verdict} {node}: {}", d.device, d.detail)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn history(socket: &Path, node: Option<&str>, format: Format) -> anyhow::Result<Code> {
    let events = block_on(async {
        let reply = fenced(socket, CHECK_TIMEOUT)
            .await?
            .history(HistoryRequest {
                target: node.unwrap_or_default().to_owned(),
            })
            .await
            .map_err(refused)?;
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

/// `crm_mon`'s default fencing sections: for each node and action the
/// last failure not followed by a success, then what is under way. Empty
/// when there is nothing to show, or when baton-fenced cannot be asked (the
/// status still shows everything else).
pub fn status_sections(socket_dir: &Path) -> String {
    let socket = socket_dir.join("fenced.sock");
    let events = block_on(async {
        let reply = fenced(&socket, STATUS_TIMEOUT)
            .await?
            .history(HistoryRequest::default())
            .await?;
        anyhow::Ok(reply.into_inner().events)
    })
    .unwrap_or_default();
    sections(&events)
}

/// The sections for `events`, newest first.
fn sections(events: &[FenceEvent]) -> String {
    let mut decided: Vec<(&str, &str)> = Vec::new();
    let mut failed = String::new();
    let mut pending = String::new();
    for event in events {
        match event.state() {
            FenceState::Pending | FenceState::Unspecified => {
                pending += &format!(
                    "  * {} of {} pending: client={}, origin={}\n",
                    event.action, event.target, event.client, event.origin
                );
            }
            state => {
                let key = (event.target.as_str(), event.action.as_str());
                if decided.contains(&key) {
                    continue;
                }
                decided.push(key);
                if state == FenceState::Failed {
                    failed += &format!(
                        "  * {} of {} failed{}: delegate={}, client={}, origin={}, last-failed='{}'\n",
                        event.action,
                        event.target,
                        Some(&event.reason)
                            .filter(|r| !r.is_empty())
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default(),
                        event.delegate,
                        event.client,
                        event.origin,
                        completed(event).unwrap_or_default()
                    );
                }
            }
        }
    }
    let mut out = String::new();
    if !failed.is_empty() {
        out += "\nFailed Fencing Actions:\n";
        out += &failed;
    }
    if !pending.is_empty() {
        out += "\nPending Fencing Actions:\n";
        out += &pending;
    }
    out
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
    fn the_status_shows_a_failure_until_a_later_success_and_what_is_pending() {
        let mut newer = event(FenceState::Successful, "");
        newer.requested_ms += 10_000;
        let failure = event(FenceState::Failed, "device st1: timed out");
        assert_eq!(
            sections(std::slice::from_ref(&failure)),
            "\nFailed Fencing Actions:\n  * reboot of n2 failed (device st1: timed out): delegate=n1, client=baton-crmd.42, origin=n1, last-failed='2026-12-03 06:42:32Z'\n"
        );
        assert_eq!(sections(&[newer, failure.clone()]), "");
        let mut under_way = event(FenceState::Pending, "");
        under_way.target = "n3".into();
        assert_eq!(
            sections(&[under_way, failure]),
            "\nFailed Fencing Actions:\n  * reboot of n2 failed (device st1: timed out): delegate=n1, client=baton-crmd.42, origin=n1, last-failed='2026-12-03 06:42:32Z'\n\nPending Fencing Actions:\n  * reboot of n3 pending: client=baton-crmd.42, origin=n1\n"
        );
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
