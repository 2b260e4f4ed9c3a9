//! Shared by the ring tests: start real `baton-ringd` processes in a
//! [`Net`], write their configs and keys, and watch their rings form.
// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::netns::Net;

/// A short token keeps the tests fast. With three configured nodes the
/// effective token is token + token_coefficient (650), consensus 1.2× that.
pub const TOKEN_MS: u64 = 1000;
pub const EFFECTIVE_TOKEN_MS: u64 = TOKEN_MS + 650;
pub const CONSENSUS_MS: u64 = EFFECTIVE_TOKEN_MS * 12 / 10;
/// How long a test waits for a ring or quorum it expects.
pub const FORM: Duration = Duration::from_secs(15);

/// `baton-ringd` sits in the target dir next to `deps/`, where this test
/// executable lives; it is built by `cargo build -p baton-ringd`.
pub fn ringd() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("baton-ringd");
    let found = bin.is_file();
    baton_tests::prerequisite(found, || {
        format!(
            "{} is missing; run cargo build -p baton-ringd first",
            bin.display()
        )
    })
    .then_some(bin)
}

/// `baton ring status --output json` for node `node`, parsed.
pub fn ring_status(bin: &Path, dir: &Path, node: usize) -> serde_json::Value {
    baton_json(bin, dir, node, &["ring", "status"])
}

/// `baton quorum status --output json` for node `node`, parsed.
pub fn quorum_status(bin: &Path, dir: &Path, node: usize) -> serde_json::Value {
    baton_json(bin, dir, node, &["quorum", "status"])
}

/// `baton --output json ARGS…` against node `node`'s ringd, parsed.
pub fn baton_json(bin: &Path, dir: &Path, node: usize, args: &[&str]) -> serde_json::Value {
    let baton = bin.with_file_name("baton");
    let found = baton.is_file();
    assert!(
        baton_tests::prerequisite(found, || format!(
            "{} is missing; run cargo build -p baton-cli first",
            baton.display()
        )),
        "cannot ask for status without the baton CLI"
    );
    let out = std::process::Command::new(&baton)
        .arg("--socket-dir")
        .arg(dir.join(format!("sock{node}")))
        .args(["--output", "json"])
        .args(args)
        .output()
        .expect("run baton");
    // quorum status exits 1 when not quorate; its json is printed either way.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "baton {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("status json")
}

pub fn prerequisites() -> Option<PathBuf> {
    if !baton_tests::require_root("create network namespaces")
        || !baton_tests::require_tool("ip", "create network namespaces (iproute2)")
    {
        return None;
    }
    ringd()
}

pub fn write_key(path: &Path, byte: u8) {
    std::fs::write(path, vec![byte; 256]).expect("write authkey");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o400)).expect("chmod authkey");
}

/// What a test varies in a generated corosync.conf.
pub struct ConfigOptions<'a> {
    /// `None` keeps corosync's default token (3000 ms).
    pub token_ms: Option<u64>,
    /// aes256 + sha256 with the key, or no crypto at all.
    pub crypto: bool,
    /// Extra lines for the quorum section, e.g. "two_node: 1".
    pub quorum: &'a str,
    /// The config file is the keyfile's path with this extension.
    pub extension: &'a str,
}

impl Default for ConfigOptions<'_> {
    fn default() -> Self {
        ConfigOptions {
            token_ms: Some(TOKEN_MS),
            crypto: true,
            quorum: "",
            extension: "conf",
        }
    }
}

pub fn write_config(net: &Net, keyfile: &Path) -> PathBuf {
    write_config_with(net, keyfile, &ConfigOptions::default())
}

pub fn write_config_with(net: &Net, keyfile: &Path, options: &ConfigOptions) -> PathBuf {
    let mut nodes = String::new();
    for i in 1..=net.node_count() {
        let addrs: String = (0..net.link_count())
            .map(|l| format!("    ring{l}_addr: {}\n", net.addr_on(i, l)))
            .collect();
        nodes += &format!("  node {{\n{addrs}    nodeid: {i}\n    name: n{i}\n  }}\n");
    }
    let token = options
        .token_ms
        .map(|ms| format!("  token: {ms}\n"))
        .unwrap_or_default();
    let crypto = if options.crypto {
        format!(
            "  crypto_cipher: aes256\n  crypto_hash: sha256\n  keyfile: {}\n",
            keyfile.display()
        )
    } else {
        "  crypto_cipher: none\n  crypto_hash: none\n".to_owned()
    };
    let text = format!(
        "totem {{\n  version: 2\n  cluster_name: t\n  transport: knet\n{token}{crypto}}}\nnodelist {{\n{nodes}}}\nquorum {{\n  provider: corosync_votequorum\n{}\n}}\n",
        options.quorum
    );
    let path = keyfile.with_extension(options.extension);
    std::fs::write(&path, text).expect("write config");
    path
}

/// A corosync 2.x style config: the udp (multicast) transport and no
/// nodelist, so the nodes find each other on the group.
pub fn write_multicast_config(net: &Net, dir: &Path, expected_votes: usize) -> PathBuf {
    let text = format!(
        "totem {{\n  version: 2\n  token: {TOKEN_MS}\n  crypto_cipher: none\n  crypto_hash: none\n  interface {{\n    ringnumber: 0\n    bindnetaddr: {}.0\n    mcastaddr: 239.255.42.1\n    mcastport: 5405\n    ttl: 1\n  }}\n}}\nquorum {{\n  provider: corosync_votequorum\n  expected_votes: {expected_votes}\n}}\n",
        net.subnet(0)
    );
    let path = dir.join("multicast.conf");
    std::fs::write(&path, text).expect("write config");
    path
}

/// Starts ringd on `node` with the given config; returns its PID.
pub fn start(net: &mut Net, bin: &Path, dir: &Path, node: usize, config: &Path) -> u32 {
    start_as(net, bin, dir, node, config, Some(&format!("n{node}")))
}

/// Starts ringd on `node`, naming itself `--node NAME` when given; returns
/// its PID.
pub fn start_as(
    net: &mut Net,
    bin: &Path,
    dir: &Path,
    node: usize,
    config: &Path,
    name: Option<&str>,
) -> u32 {
    let sock = dir.join(format!("sock{node}"));
    let state = dir.join(format!("state{node}"));
    let mut args = vec![
        "--config",
        config.to_str().expect("utf-8 path"),
        "--socket-dir",
        sock.to_str().expect("utf-8 path"),
        "--state-dir",
        state.to_str().expect("utf-8 path"),
    ];
    if let Some(name) = name {
        args.extend(["--node", name]);
    }
    net.spawn(node, bin, &args, dir.join(format!("ringd{node}.log")))
}

/// Polls a node's log until a regular configuration line matches `members`.
pub fn wait_for_ring(log: &Path, members: &str, timeout: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let last = text.lines().rfind(|l| l.contains("kind=Regular ring_id="));
        if last.is_some_and(|l| l.contains(&format!("members={members} "))) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Polls `baton quorum status` on `node` until `quorate` matches; returns
/// the last status seen.
pub fn wait_for_quorate(
    bin: &Path,
    dir: &Path,
    node: usize,
    quorate: bool,
    timeout: Duration,
) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let status = quorum_status(bin, dir, node);
        if status["quorate"] == quorate || start.elapsed() > timeout {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The log's members list for nodes `ids`, as ringd writes it.
pub fn members(ids: &[u32]) -> String {
    let inner: Vec<String> = ids.iter().map(|i| format!("NodeId({i})")).collect();
    format!("[{}]", inner.join(", "))
}

/// A fresh network of `nodes` with a shared key and a config written by
/// `options`: the network, the directory holding sockets, state and logs,
/// and the config's path.
pub fn setup(nodes: usize, options: &ConfigOptions) -> (Net, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = Net::new(nodes);
    let key = dir.path().join("authkey");
    write_key(&key, 1);
    let config = write_config_with(&net, &key, options);
    (net, dir, config)
}

/// Starts ringd on every node; returns their PIDs in node order.
pub fn start_all(net: &mut Net, bin: &Path, dir: &Path, config: &Path) -> Vec<u32> {
    (1..=net.node_count())
        .map(|n| start(net, bin, dir, n, config))
        .collect()
}

/// Waits until each of `nodes` logs a regular configuration of `ids`.
pub fn wait_all(net: &Net, nodes: &[usize], ids: &[u32]) {
    for &node in nodes {
        let log = &net.logs[node - 1];
        assert!(
            wait_for_ring(log, &members(ids), FORM).is_some(),
            "node {node} never saw ring {ids:?}:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }
}

/// Node `node`'s ringd.sock under `dir` (as [`start`] lays it out).
pub fn ringd_socket(dir: &Path, node: usize) -> PathBuf {
    dir.join(format!("sock{node}")).join("ringd.sock")
}
