//! `baton-fenced`: fences nodes with the devices the cluster's
//! configuration defines (pacemaker-fenced).
//!
//! A thin shell: which devices to try and what to tell them is
//! baton-fencing's; this binary reads the configuration from crmd, runs the
//! agents and serves `Fenced` on `<socket-dir>/fenced.sock`.

mod agents;
mod service;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use baton_proto::fenced::fenced_server::FencedServer;
use baton_proto::socket::{SocketError, UnixSocket};
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
    /// Where fence agents (fence_*) are looked up.
    #[arg(long, value_name = "DIR", default_value = "/usr/sbin")]
    agent_dir: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let _log = match baton_log::init(&baton_log::LogSettings {
        daemon: "baton-fenced".into(),
        to_stderr: true,
        to_journal: false,
        logfile: None,
        verbosity: baton_log::Verbosity::Info,
        subsystems: Vec::new(),
    }) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("baton-fenced: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("baton-fenced: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("baton-fenced: {error:#}");
            let busy = error
                .chain()
                .any(|c| matches!(c.downcast_ref(), Some(SocketError::Busy { .. })));
            ExitCode::from(if busy { 3 } else { 1 })
        }
    }
}

async fn serve(args: Args) -> anyhow::Result<()> {
    if !args.agent_dir.is_dir() {
        tracing::warn!(agent_dir = %args.agent_dir.display(), "the fence agent directory does not exist; every fencing will fail");
    }
    let socket = UnixSocket::bind(&args.socket_dir.join("fenced.sock"))?;
    let name = node_name();
    let fenced = FencedServer::new(FencedService::new(
        args.socket_dir.join("crmd.sock"),
        args.agent_dir.clone(),
        name.clone(),
    ));
    let info =
        baton_proto::daemon_info::DaemonInfo::new("baton-fenced", env!("CARGO_PKG_VERSION"), &name);
    let router = tonic::transport::Server::builder()
        .add_service(fenced)
        .add_service(info);
    tracing::info!(socket = %socket.path().display(), agent_dir = %args.agent_dir.display(), "serving");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    let watchdog = tokio::spawn(watchdog());
    let result = socket
        .serve(router, baton_proto::socket::shutdown_signal())
        .await
        .context("serving fenced.sock failed");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    watchdog.abort();
    result
}

/// Pets systemd's watchdog at half its period while the runtime is healthy.
async fn watchdog() {
    let Some(period) = sd_notify::watchdog_enabled() else {
        return;
    };
    let mut ticks = tokio::time::interval(period / 2);
    loop {
        ticks.tick().await;
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
    }
}

/// The kernel's host name, reported as who carried a fencing out.
fn node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}
