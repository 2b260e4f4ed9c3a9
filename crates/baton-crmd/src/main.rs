//! `baton-crmd`: the cluster controller (pacemaker-controld with the CIB
//! manager and the attribute manager folded in).
//!
//! A thin tokio shell around `baton-controller`: it joins ringd's process
//! group `baton-crmd`, follows ringd's quorum, asks lrmd for its history,
//! keeps the configuration on disk, and serves the `Crmd` gRPC service on
//! `<socket-dir>/crmd.sock`. Every decision is the core's.

mod driver;
mod fenced;
mod lrmd;
mod ringd;
mod service;
mod store;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use baton_controller::{DEFAULT_STARTUP_SETTLE_MS, Member, NodeId, Settings};
use baton_proto::socket::UnixSocket;
use clap::Parser;

/// The cluster controller: the replicated CIB, the DC, node attributes.
///
/// Exit codes: 0 stopped cleanly; 2 bad arguments or configuration; 3
/// another crmd serves the socket; 1 any other failure to start (ringd not
/// running, for one: systemd starts crmd again).
#[derive(Debug, Parser)]
#[command(name = "baton-crmd", version)]
struct Args {
    /// The cluster configuration: cluster.toml or a corosync.conf.
    ///
    /// Default: /etc/baton/cluster.toml, or /etc/corosync/corosync.conf when
    /// only that exists (a corosync cluster's file, read as it is).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of the daemons' sockets (ringd.sock, lrmd.sock, crmd.sock).
    #[arg(long, value_name = "DIR", default_value = "/run/baton")]
    socket_dir: PathBuf,
    /// Directory for the configuration's copies on disk.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/baton")]
    state_dir: PathBuf,
}

/// What the cluster configuration tells crmd.
#[derive(Debug, Clone)]
pub struct ClusterFacts {
    pub cluster_name: String,
    /// (node id, configured name) of the nodelist; empty without one.
    pub nodelist: Vec<(u32, Option<String>)>,
    /// The two-node tie-break's wait (2 × the effective token) when the
    /// cluster is a two-node one.
    pub fence_race_delay_ms: Option<u64>,
}

fn cluster_facts(path: &std::path::Path) -> anyhow::Result<ClusterFacts> {
    let loaded = baton_config::load_path(path)?;
    if !loaded.is_usable() {
        let first = loaded
            .diagnostics
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        anyhow::bail!(
            "{} has errors ({first}); run baton config check {}",
            path.display(),
            path.display()
        );
    }
    let config = &loaded.config;
    let nodelist = if config.nodelist.nodes.is_empty() {
        Vec::new()
    } else {
        baton_ring::local::members(config)?
            .into_iter()
            .zip(&config.nodelist.nodes)
            .map(|(m, node)| (m.node_id, node.name.clone()))
            .collect()
    };
    Ok(ClusterFacts {
        cluster_name: config.totem.cluster_name.clone().unwrap_or_default(),
        nodelist,
        fence_race_delay_ms: config
            .effective_two_node()
            .then(|| config.timers().token_ms.saturating_mul(2)),
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let _log = match baton_startup::logging("baton-crmd") {
        Ok(guard) => guard,
        Err(code) => return code,
    };
    let config = args
        .config
        .clone()
        .unwrap_or_else(baton_config::default_config_path);
    let facts = match cluster_facts(&config) {
        Ok(facts) => facts,
        Err(error) => {
            eprintln!("baton-crmd: {error:#}");
            return ExitCode::from(2);
        }
    };
    baton_startup::run(
        "baton-crmd",
        baton_startup::Runtime::CurrentThread,
        serve(args, facts),
    )
}

async fn serve(args: Args, facts: ClusterFacts) -> anyhow::Result<()> {
    let ringd_socket = args.socket_dir.join("ringd.sock");
    let local = ringd::local_node(&ringd_socket, &facts)
        .await
        .with_context(|| {
            format!(
                "cannot learn this node from baton-ringd at {}; start baton-ringd first",
                ringd_socket.display()
            )
        })?;
    let store = store::ConfigStore::new(&args.state_dir);
    let persisted = store.load()?;
    let socket = UnixSocket::bind(&args.socket_dir.join("crmd.sock"))?;
    let settings = Settings {
        me: Member {
            node: NodeId(local.id),
            pid: std::process::id(),
        },
        name: local.name.clone(),
        nodelist: facts.nodelist.iter().map(|(id, _)| NodeId(*id)).collect(),
        startup_settle_ms: DEFAULT_STARTUP_SETTLE_MS,
        fence_race_delay_ms: facts.fence_race_delay_ms,
    };
    let controller = baton_controller::Controller::new(settings, persisted);
    let (commands_tx, commands) = tokio::sync::mpsc::channel(service::COMMAND_QUEUE);
    let info = baton_proto::daemon_info::DaemonInfo::new(
        "baton-crmd",
        env!("CARGO_PKG_VERSION"),
        &local.name,
    );
    let router = tonic::transport::Server::builder()
        .add_service(service::server(commands_tx))
        .add_service(info);
    tracing::info!(node = %local.name, id = local.id, socket = %socket.path().display(), "serving");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(socket.serve(router, async move {
        let mut stop_rx = stop_rx;
        let _ = stop_rx.wait_for(|stop| *stop).await;
    }));
    let driver = driver::Driver::new(controller, store, commands, &args.socket_dir, facts);
    let result = driver.run().await;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    let _ = stop_tx.send(true);
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(served) => {
            let served = served.context("the socket server panicked")?;
            result.and(served.context("serving crmd.sock failed"))
        }
        Err(_) => result,
    }
}

/// How long open client calls may delay the exit.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);
