//! `baton-ringd`: Totem membership and totally ordered delivery between the
//! cluster's nodes (corosync), over UDP sealed with the cluster authkey.
//!
//! A thin shell: the protocol is baton-totem's, sealing and node selection
//! are baton-ring's; this binary owns the socket, the clock and the files.

mod driver;
mod groups;
mod links;
mod ringseq;
mod status;
mod timeliness;
mod transport;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use baton_proto::ring::process_groups_server::ProcessGroupsServer;
use baton_proto::ring::ring_server::RingServer;
use baton_proto::socket::UnixSocket;
use baton_ring::local::{self, LocalError, Member};
use baton_ring::seal::Sealer;
use baton_totem::{Config, NodeId, Totem};
use clap::Parser;

use crate::driver::Driver;
use crate::groups::GroupService;
use crate::status::{RingService, Snapshot, quorum_snapshot};
use crate::transport::Transport;

/// Runs the Totem ring for this node.
///
/// Exit codes: 0 stopped cleanly; 2 bad arguments, configuration or authkey;
/// 3 another ringd serves the socket; 1 any other failure.
#[derive(Debug, Parser)]
#[command(name = "baton-ringd", version)]
struct Args {
    /// cluster.toml, or corosync.conf syntax for any other extension.
    ///
    /// Default: /etc/baton/cluster.toml, or /etc/corosync/corosync.conf when
    /// only that exists (a corosync cluster's file, read as it is).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// This node's name or node id (default: the hostname, then a nodelist
    /// address present on this host); it also names this node when its
    /// config gives it no name (a multicast ring without a nodelist, a
    /// 1.x/2.x member list).
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
    /// Directory for the socket (ringd.sock).
    #[arg(long, value_name = "DIR", default_value = "/run/baton")]
    socket_dir: PathBuf,
    /// Directory for the persisted ring sequence (ringid_<nodeid>).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/baton")]
    state_dir: PathBuf,
}

/// Everything checked before any socket is opened; failing here is exit 2.
#[derive(Debug)]
struct Setup {
    totem: Config,
    local: Member,
    members: Vec<Member>,
    sealer: Sealer,
    quorum: baton_quorum::Quorum,
    multicast: Option<local::MulticastGroup>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let _log = match baton_startup::logging("baton-ringd") {
        Ok(guard) => guard,
        Err(code) => return code,
    };
    let setup = match setup(&args) {
        Ok(setup) => setup,
        Err(error) => {
            eprintln!("baton-ringd: {error:#}");
            return ExitCode::from(2);
        }
    };
    baton_startup::run(
        "baton-ringd",
        baton_startup::Runtime::CurrentThread,
        serve(args, setup),
    )
}

fn setup(args: &Args) -> anyhow::Result<Setup> {
    let path = args
        .config
        .clone()
        .unwrap_or_else(baton_config::default_config_path);
    let loaded = baton_config::load_path(&path)?;
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
    // What `baton config check` would say still matters at start: a host
    // name that resolves only to loopback keeps this node alone.
    for diagnostic in &loaded.diagnostics {
        tracing::warn!("{diagnostic}");
    }
    tracing::info!(file = %path.display(), format = %loaded.format, "configuration file read");
    let config = &loaded.config;
    let multicast = (config.effective_transport() == baton_config::Transport::Udp)
        .then(|| local::multicast_group(config))
        .transpose()?;
    let (local, members) = if multicast.is_some() && config.nodelist.nodes.is_empty() {
        // corosync 1.x/2.x style: no nodelist, peers found on the group.
        let name = args.node.clone().unwrap_or_else(hostname);
        let me = local::discover_local(config, &local_networks(), &name)?;
        (me, Vec::new())
    } else {
        let members = local::members(config)?;
        let local_ips: Vec<_> = members
            .iter()
            .map(|m| m.addr.ip())
            .filter(|ip| std::net::UdpSocket::bind((*ip, 0)).is_ok())
            .collect();
        let local = match local::select(&members, args.node.as_deref(), &hostname(), &local_ips) {
            Ok(local) => local.clone(),
            Err(LocalError::UnknownNode(wanted)) => {
                local::select_unnamed(config, &members, &wanted, &local_ips)?
            }
            Err(error) => return Err(error.into()),
        };
        let members = members
            .into_iter()
            .map(|m| {
                if m.node_id == local.node_id {
                    local.clone()
                } else {
                    m
                }
            })
            .collect();
        (local, members)
    };
    let (cipher, hash) = config.totem.effective_crypto();
    let keyfile = config.totem.effective_keyfile(loaded.format);
    let sealer =
        if cipher == baton_config::CryptoCipher::None && hash == baton_config::CryptoHash::None {
            Sealer::new(cipher, hash, &[])?
        } else {
            let key = baton_ring::authkey::load(&keyfile)?;
            Sealer::new(cipher, hash, &key)?
        };
    let quorum = baton_quorum::Quorum::new(&baton_ring::quorum::config(config, &members))?;
    let ring_nodes = if members.is_empty() {
        std::slice::from_ref(&local)
    } else {
        &members
    };
    Ok(Setup {
        quorum,
        totem: totem_config(config, ring_nodes),
        members: if members.is_empty() {
            vec![local.clone()]
        } else {
            members
        },
        local,
        sealer,
        multicast,
    })
}

/// The core's config from the cluster's derived timers (already scaled by
/// the node count, so no coefficient is applied again).
fn totem_config(config: &baton_config::ClusterConfig, members: &[Member]) -> Config {
    let t = config.timers();
    let nodes = members.iter().map(|m| NodeId(m.node_id)).collect();
    Config {
        token_retransmit_ms: t.token_retransmit_ms,
        hold_ms: t.hold_ms,
        join_ms: t.join_ms,
        consensus_ms: t.consensus_ms,
        merge_ms: t.merge_ms,
        fail_recv_const: t.fail_recv_const,
        seqno_unchanged_const: t.seqno_unchanged_const,
        miss_count_const: t.miss_count_const,
        window_size: t.window_size,
        max_messages: t.max_messages,
        ..Config::with_token(nodes, t.token_ms, 0)
    }
}

async fn serve(args: Args, setup: Setup) -> anyhow::Result<()> {
    let socket = UnixSocket::bind(&args.socket_dir.join("ringd.sock"))?;
    let node_id = setup.local.node_id;
    let seq_file = ringseq::path(&args.state_dir, node_id);
    let persisted = ringseq::load(&seq_file)?;
    let token = std::time::Duration::from_millis(setup.totem.token_ms);
    let transport = Transport::bind(
        &setup.local,
        setup.members,
        setup.sealer,
        token,
        setup.multicast,
    )
    .await?;
    timeliness::lock_memory();
    let totem = Totem::new(setup.totem, NodeId(node_id), persisted);
    let snapshot = Snapshot::default();
    let quorum_snapshot = quorum_snapshot();
    let (commands_tx, commands) = tokio::sync::mpsc::channel(groups::COMMAND_QUEUE);
    let mut driver = Driver::new(
        totem,
        setup.quorum,
        quorum_snapshot.clone(),
        commands,
        transport,
        seq_file,
        snapshot.clone(),
        token,
    );
    let info = baton_proto::daemon_info::DaemonInfo::new(
        "baton-ringd",
        env!("CARGO_PKG_VERSION"),
        &setup.local.name,
    );
    let router = tonic::transport::Server::builder()
        .add_service(RingServer::new(RingService::new(snapshot, quorum_snapshot)))
        .add_service(ProcessGroupsServer::new(GroupService::new(commands_tx)))
        .add_service(info);
    tracing::info!(node_id, name = %setup.local.name, addr = %setup.local.addr, socket = %socket.path().display(), "serving");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(socket.serve(router, async move {
        let mut stop_rx = stop_rx;
        let _ = stop_rx.wait_for(|stop| *stop).await;
    }));
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    let result = driver.run(baton_proto::socket::shutdown_signal()).await;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    // The group members' event streams end with the driver.
    drop(driver);
    let _ = stop_tx.send(true);
    // Quorum watchers keep their streams open: do not wait for them forever.
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(served) => {
            let served = served.context("the socket server panicked")?;
            result.and(served.context("serving ringd.sock failed"))
        }
        Err(_) => result,
    }
}

/// How long open client streams may delay the exit.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Every local IPv4 address with its prefix length.
fn local_networks() -> Vec<(std::net::Ipv4Addr, u8)> {
    let Ok(addresses) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addresses
        .filter_map(|a| {
            let ip = a.address?.as_sockaddr_in()?.ip();
            let mask = a.netmask?.as_sockaddr_in()?.ip();
            Some((ip, u32::from(mask).count_ones() as u8))
        })
        .collect()
}

fn hostname() -> String {
    std::fs::read_to_string(Path::new("/proc/sys/kernel/hostname"))
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}
