//! `baton-fenced`: fences nodes with the devices the cluster's
//! configuration defines (pacemaker-fenced).
//!
//! A thin shell: which devices to try and what to tell them is
//! baton-fencing's; this binary reads the configuration from crmd, runs the
//! agents and serves `Fenced` on `<socket-dir>/fenced.sock`.

mod agents;
mod delegation;
mod history;
mod peers;
mod reach;
mod service;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use baton_proto::fenced::fenced_server::FencedServer;
use baton_proto::socket::UnixSocket;
use clap::Parser;

use crate::service::FencedService;

/// Runs fence agents for the cluster.
///
/// Exit codes: 0 stopped cleanly; 2 bad arguments; 3 another fenced serves
/// the socket; 1 any other failure to start.
#[derive(Debug, Parser)]
#[command(name = "baton-fenced", version)]
struct Args {
    /// Directory of the daemons' sockets (fenced.sock; crmd.sock is read).
    #[arg(long, value_name = "DIR", default_value = "/run/baton")]
    socket_dir: PathBuf,
    /// Directory for persistent state: the fencing history
    /// (`fence-history`).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/baton")]
    state_dir: PathBuf,
    /// Where fence agents (fence_*) are looked up.
    #[arg(long, value_name = "DIR", default_value = "/usr/sbin")]
    agent_dir: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let _log = match baton_startup::logging("baton-fenced") {
        Ok(guard) => guard,
        Err(code) => return code,
    };
    baton_startup::run(
        "baton-fenced",
        baton_startup::Runtime::MultiThread,
        serve(args),
    )
}

async fn serve(args: Args) -> anyhow::Result<()> {
    if !args.agent_dir.is_dir() {
        tracing::warn!(agent_dir = %args.agent_dir.display(), "the fence agent directory does not exist; every fencing will fail");
    }
    let socket = UnixSocket::bind(&args.socket_dir.join("fenced.sock"))?;
    let history = history::History::load(args.state_dir.join("fence-history"));
    let (peers, mut delegations) = peers::Peers::start(
        args.socket_dir.join("ringd.sock"),
        std::sync::Arc::new(std::sync::Mutex::new(history)),
    );
    let name = peers.name();
    let service = std::sync::Arc::new(FencedService::new(
        args.socket_dir.join("crmd.sock"),
        args.agent_dir.clone(),
        peers,
    ));
    let executor = std::sync::Arc::clone(&service);
    tokio::spawn(async move {
        while let Some(delegation) = delegations.recv().await {
            let executor = std::sync::Arc::clone(&executor);
            tokio::spawn(async move { executor.execute_delegation(delegation).await });
        }
    });
    let fenced = FencedServer::from_arc(service);
    let info =
        baton_proto::daemon_info::DaemonInfo::new("baton-fenced", env!("CARGO_PKG_VERSION"), &name);
    let router = tonic::transport::Server::builder()
        .add_service(fenced)
        .add_service(info);
    tracing::info!(socket = %socket.path().display(), agent_dir = %args.agent_dir.display(), state_dir = %args.state_dir.display(), "serving");
    baton_startup::notified(socket.serve(router, baton_proto::socket::shutdown_signal()))
        .await
        .context("serving fenced.sock failed")
}
