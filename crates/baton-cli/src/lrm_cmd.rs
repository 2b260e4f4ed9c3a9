//! `baton lrm exec`: run one resource agent action on this node through
//! baton-lrmd, as `crm_resource --force-*` does.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use baton_proto::lrmd::lrmd_client::LrmdClient;
use baton_proto::lrmd::{Action, ExecRequest, ExecResult};
use clap::{Args, Subcommand};
use serde::Serialize;
use tonic::transport::Channel;

use crate::exit::Code;
use crate::output::{Format, print_json, print_text};

#[derive(Debug, Subcommand)]
pub enum LrmCommand {
    /// Run AGENT's ACTION once on this node and show its result.
    ///
    /// Exits 0 when the action ran and returned 0, 1 when it ran and failed
    /// or returned anything else (monitor: 7 = not running), 2 on bad input,
    /// 3 when baton-lrmd cannot be reached.
    Exec(ExecArgs),
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The agent as crmsh writes it: ocf:heartbeat:IPaddr2, lsb:httpd,
    /// systemd:nginx, service:nginx.
    pub agent: String,
    /// start, stop, monitor, meta-data, validate-all, …
    pub action: String,
    /// Instance parameters, as NAME=VALUE.
    #[arg(value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Hard limit on the action, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 20_000)]
    pub timeout: u64,
    /// The interval the agent is told (OCF_RESKEY_CRM_meta_interval), in
    /// milliseconds; the action still runs once.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub interval: u64,
    /// Resource id (OCF_RESOURCE_INSTANCE); default: the agent's type.
    #[arg(long, value_name = "ID")]
    pub resource: Option<String>,
    /// Meta attributes, as NAME=VALUE (OCF_RESKEY_CRM_meta_NAME).
    #[arg(long = "meta", value_name = "NAME=VALUE")]
    pub meta: Vec<String>,
}

/// The JSON schema of `baton lrm exec --output json` (stable).
#[derive(Debug, Serialize)]
struct ExecJson<'a> {
    rc: i32,
    status: &'static str,
    exec_ms: u64,
    queue_ms: u64,
    exit_reason: &'a str,
    /// The agent's stdout tail, then its stderr tail.
    output: String,
    output_truncated: bool,
}

/// Above the action's own timeout, for the daemon's grace period and queue.
const CALL_MARGIN: Duration = Duration::from_secs(15);

pub fn run(command: &LrmCommand, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let LrmCommand::Exec(args) = command;
    let action = Action {
        resource_id: args
            .resource
            .clone()
            .unwrap_or_else(|| default_resource(&args.agent)),
        agent: args.agent.clone(),
        action: args.action.clone(),
        params: pairs(&args.params, "parameter")?,
        meta: pairs(&args.meta, "meta attribute")?,
        interval_ms: args.interval,
        timeout_ms: args.timeout,
    };
    let call_timeout = Duration::from_millis(args.timeout).saturating_add(CALL_MARGIN);
    let result = block_on(async {
        let mut client = connect(socket_dir, call_timeout).await?;
        let reply = client
            .exec(ExecRequest {
                action: Some(action),
                record: None,
            })
            .await;
        reply.map(tonic::Response::into_inner).map_err(|status| {
            anyhow::anyhow!("baton-lrmd refused the action: {}", status.message())
        })
    })?;
    let output = format!("{}{}", result.stdout_tail, result.stderr_tail);
    match format {
        Format::Json => print_json(&ExecJson {
            rc: result.rc,
            status: status_name(&result),
            exec_ms: result.exec_ms,
            queue_ms: result.queue_ms,
            exit_reason: &result.exit_reason,
            output,
            output_truncated: result.output_truncated,
        })?,
        Format::Text => print_text(&render(args, &result, &output))?,
    }
    let succeeded = result.status() == baton_proto::lrmd::OpStatus::Done && result.rc == 0;
    Ok(if succeeded {
        Code::Success
    } else {
        Code::Problems
    })
}

fn render(args: &ExecArgs, result: &ExecResult, output: &str) -> String {
    let mut text = format!(
        "{} {}: rc={} ({}), status={}, {} ms\n",
        args.agent,
        args.action,
        result.rc,
        rc_name(result.rc),
        status_name(result),
        result.exec_ms
    );
    if !result.exit_reason.is_empty() {
        text.push_str(&format!("exit reason: {}\n", result.exit_reason));
    }
    if !output.is_empty() {
        let cut = if result.output_truncated {
            " (truncated to its end)"
        } else {
            ""
        };
        text.push_str(&format!("output{cut}:\n{output}"));
    }
    text
}

fn rc_name(rc: i32) -> &'static str {
    match rc {
        0 => "success",
        1 => "generic error",
        2 => "invalid parameter",
        3 => "unimplemented feature",
        4 => "insufficient privileges",
        5 => "not installed",
        6 => "not configured",
        7 => "not running",
        8 => "promoted",
        9 => "promoted (failed)",
        190 => "degraded",
        191 => "promoted (degraded)",
        _ => "unknown",
    }
}

pub fn status_name(result: &ExecResult) -> &'static str {
    use baton_proto::lrmd::OpStatus;
    match result.status() {
        OpStatus::Done => "done",
        OpStatus::Timeout => "timeout",
        OpStatus::Error | OpStatus::Unspecified => "error",
        OpStatus::NotInstalled => "not-installed",
        OpStatus::Cancelled => "cancelled",
        OpStatus::Pending => "pending",
    }
}

/// `ocf:heartbeat:Dummy` → `Dummy`.
fn default_resource(agent: &str) -> String {
    agent.rsplit(':').next().unwrap_or(agent).to_owned()
}

fn pairs(
    items: &[String],
    kind: &str,
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
            _ => anyhow::bail!("the {kind} {item:?} is not NAME=VALUE; write it like ip=10.0.0.10"),
        })
        .collect()
}

pub async fn connect(
    socket_dir: &Path,
    call_timeout: Duration,
) -> anyhow::Result<LrmdClient<Channel>> {
    let channel = baton_proto::client::connect(&socket_dir.join("lrmd.sock"), call_timeout)
        .await
        .context("cannot reach baton-lrmd")?;
    Ok(LrmdClient::new(channel))
}

pub fn block_on<T>(future: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(future)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_name_value_pairs() {
        let parsed = pairs(
            &["ip=10.0.0.1".into(), "empty=".into(), "eq=a=b".into()],
            "parameter",
        )
        .expect("pairs");
        assert_eq!(parsed["ip"], "10.0.0.1");
        assert_eq!(parsed["empty"], "");
        assert_eq!(parsed["eq"], "a=b");
        assert!(pairs(&["novalue".into()], "parameter").is_err());
        assert!(pairs(&["=x".into()], "parameter").is_err());
        assert_eq!(default_resource("ocf:heartbeat:IPaddr2"), "IPaddr2");
    }
}
