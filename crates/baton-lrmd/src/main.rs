//! `baton-lrmd`: runs resource agents for this node (pacemaker-execd).
//!
//! A thin shell: the agents' rules live in baton-agents; this binary adds a
//! per-resource queue, a node-wide concurrency limit, recurring monitors,
//! and the `Lrmd` gRPC service on `<socket-dir>/lrmd.sock`.

mod executor;
mod fence_agents;
mod history;
mod monitors;
mod service;
mod tools;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use baton_agents::exec::Limits;
use baton_agents::run::{AgentTools, Roots};
use baton_proto::lrmd::lrmd_server::LrmdServer;
use baton_proto::socket::UnixSocket;
use clap::Parser;

use crate::executor::Executor;
use crate::fence_agents::FenceAgents;
use crate::history::History;
use crate::monitors::Monitors;
use crate::service::LrmdService;

/// Runs resource agents (OCF, LSB, systemd, service) for this node.
///
/// Exit codes: 0 stopped cleanly; 2 bad arguments; 3 another lrmd serves the
/// socket; 1 any other failure to start.
#[derive(Debug, Parser)]
#[command(name = "baton-lrmd", version)]
struct Args {
    /// Directory for the socket (lrmd.sock).
    #[arg(long, value_name = "DIR", default_value = "/run/baton")]
    socket_dir: PathBuf,
    /// Directory for persistent state (lrmd keeps none today).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/baton")]
    state_dir: PathBuf,
    /// Root of the OCF tree; agents are in resource.d/PROVIDER/TYPE below it.
    #[arg(long, value_name = "DIR", default_value = "/usr/lib/ocf")]
    ocf_root: PathBuf,
    /// Where fence agents (fence_*) are, for `baton ra list|info stonith`
    /// (baton-fenced runs them).
    #[arg(long, value_name = "DIR", default_value = "/usr/sbin")]
    fence_agent_dir: PathBuf,
}

/// Agents running at once on this node: Pacemaker's node-action-limit
/// default, twice the cores.
fn slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

fn main() -> ExitCode {
    let args = Args::parse();
    let _log = match baton_startup::logging("baton-lrmd") {
        Ok(guard) => guard,
        Err(code) => return code,
    };
    baton_startup::run(
        "baton-lrmd",
        baton_startup::Runtime::MultiThread,
        serve(args),
    )
}

async fn serve(args: Args) -> anyhow::Result<()> {
    if !args.ocf_root.is_dir() {
        tracing::warn!(ocf_root = %args.ocf_root.display(), "the OCF root does not exist; ocf agents will be reported not installed");
    }
    let socket = UnixSocket::bind(&args.socket_dir.join("lrmd.sock"))?;
    let mut roots = Roots::new(args.ocf_root.clone());
    match tools::install(&args.state_dir) {
        Ok(dir) => {
            roots.tools = Some(AgentTools {
                dir,
                socket_dir: args.socket_dir.clone(),
            });
        }
        Err(why) => {
            tracing::warn!(
                "agents that call Pacemaker's tools (crm_attribute, crm_node) will fail: {why}"
            );
        }
    }
    let executor = Arc::new(Executor::new(roots, Limits::default(), slots()));
    let history = Arc::new(History::default());
    let monitors = Arc::new(Monitors::new(Arc::clone(&executor), Arc::clone(&history)));
    let lrmd = LrmdServer::new(LrmdService::new(
        executor,
        Arc::clone(&monitors),
        history,
        FenceAgents::new(args.fence_agent_dir.clone()),
    ));
    let info = baton_proto::daemon_info::DaemonInfo::new(
        "baton-lrmd",
        env!("CARGO_PKG_VERSION"),
        &baton_startup::node_name(),
    );
    let router = tonic::transport::Server::builder()
        .add_service(lrmd)
        .add_service(info);
    tracing::info!(socket = %socket.path().display(), ocf_root = %args.ocf_root.display(), state_dir = %args.state_dir.display(), "serving");
    baton_startup::notified(socket.serve(router, baton_proto::socket::shutdown_signal()))
        .await
        .context("serving lrmd.sock failed")
}
