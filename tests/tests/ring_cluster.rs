//! Real `baton-ringd` processes in network namespaces: the ring forms, a
//! killed node is noticed in time, and a node with the wrong key never joins.

#[path = "ring/netns.rs"]
mod netns;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use netns::Net;

/// A short token keeps the tests fast. With three configured nodes the
/// effective token is token + token_coefficient (650), consensus 1.2× that.
const TOKEN_MS: u64 = 1000;
const EFFECTIVE_TOKEN_MS: u64 = TOKEN_MS + 650;
const CONSENSUS_MS: u64 = EFFECTIVE_TOKEN_MS * 12 / 10;

/// `baton-ringd` sits in the target dir next to `deps/`, where this test
/// executable lives; it is built by `cargo build -p baton-ringd`.
fn ringd() -> Option<PathBuf> {
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
fn ring_status(bin: &Path, dir: &Path, node: usize) -> serde_json::Value {
    baton_json(bin, dir, node, "ring")
}

/// `baton quorum status --output json` for node `node`, parsed.
fn quorum_status(bin: &Path, dir: &Path, node: usize) -> serde_json::Value {
    baton_json(bin, dir, node, "quorum")
}

fn baton_json(bin: &Path, dir: &Path, node: usize, what: &str) -> serde_json::Value {
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
        .args(["--output", "json", what, "status"])
        .output()
        .expect("run baton status");
    // quorum status exits 1 when not quorate; its json is printed either way.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "baton {what} status failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("status json")
}

fn prerequisites() -> Option<PathBuf> {
    if !baton_tests::require_root("create network namespaces")
        || !baton_tests::require_tool("ip", "create network namespaces (iproute2)")
    {
        return None;
    }
    ringd()
}

fn write_key(path: &Path, byte: u8) {
    std::fs::write(path, vec![byte; 256]).expect("write authkey");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o400)).expect("chmod authkey");
}

fn write_config(net: &Net, keyfile: &Path) -> PathBuf {
    let mut nodes = String::new();
    for i in 1..=net.node_count() {
        nodes += &format!(
            "  node {{\n    ring0_addr: {}\n    nodeid: {i}\n    name: n{i}\n  }}\n",
            net.addr(i)
        );
    }
    let text = format!(
        "totem {{\n  version: 2\n  cluster_name: t\n  transport: knet\n  token: {TOKEN_MS}\n  crypto_cipher: aes256\n  crypto_hash: sha256\n  keyfile: {}\n}}\nnodelist {{\n{nodes}}}\nquorum {{\n  provider: corosync_votequorum\n}}\n",
        keyfile.display()
    );
    let path = keyfile.with_extension("conf");
    std::fs::write(&path, text).expect("write config");
    path
}

/// Starts ringd on `node` with the given config; returns its PID.
fn start(net: &mut Net, bin: &Path, dir: &Path, node: usize, config: &Path) -> u32 {
    let sock = dir.join(format!("sock{node}"));
    let state = dir.join(format!("state{node}"));
    let args = [
        "--config",
        config.to_str().expect("utf-8 path"),
        "--node",
        &format!("n{node}"),
        "--socket-dir",
        sock.to_str().expect("utf-8 path"),
        "--state-dir",
        state.to_str().expect("utf-8 path"),
    ];
    net.spawn(node, bin, &args, dir.join(format!("ringd{node}.log")))
}

/// Polls a node's log until a regular configuration line matches `members`.
fn wait_for_ring(log: &Path, members: &str, timeout: Duration) -> Option<Duration> {
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

const ALL3: &str = "[NodeId(1), NodeId(2), NodeId(3)]";

#[test]
fn three_node_ring_forms_and_survives_kill_9() {
    let Some(bin) = prerequisites() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut net = Net::new(3);
    let key = dir.path().join("authkey");
    write_key(&key, 1);
    let config = write_config(&net, &key);
    let pids: Vec<u32> = (1..=3)
        .map(|n| start(&mut net, &bin, dir.path(), n, &config))
        .collect();
    for log in net.logs.clone() {
        assert!(
            wait_for_ring(&log, ALL3, Duration::from_secs(10)).is_some(),
            "{} never saw the 3-node ring",
            log.display()
        );
    }
    let status = ring_status(&bin, dir.path(), 1);
    assert_eq!(status["members"], serde_json::json!([1, 2, 3]), "{status}");
    assert_eq!(status["state"], "operational", "{status}");
    let quorum = quorum_status(&bin, dir.path(), 1);
    assert_eq!(quorum["quorate"], true, "{quorum}");
    let names: Vec<_> = quorum["members"]
        .as_array()
        .map(|m| m.iter().map(|m| m["name"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["n1", "n2", "n3"], "{quorum}");
    net.kill9(pids[2]);
    let bound = Duration::from_millis(EFFECTIVE_TOKEN_MS + CONSENSUS_MS + 500);
    for log in net.logs.clone().iter().take(2) {
        let seen = wait_for_ring(log, "[NodeId(1), NodeId(2)]", bound * 2)
            .unwrap_or_else(|| panic!("{} never dropped node 3", log.display()));
        assert!(seen <= bound, "{} took {seen:?} > {bound:?}", log.display());
    }
    assert!(net.alive(pids[0]) && net.alive(pids[1]));
    let quorum = quorum_status(&bin, dir.path(), 2);
    assert_eq!(quorum["quorate"], true, "{quorum}");
    assert_eq!(quorum["total_votes"], 2, "{quorum}");
    assert_eq!(quorum["expected_votes"], 3, "{quorum}");
}

#[test]
fn node_with_wrong_key_never_joins() {
    let Some(bin) = prerequisites() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut net = Net::new(3);
    let good = dir.path().join("authkey");
    write_key(&good, 1);
    let bad = dir.path().join("otherkey");
    write_key(&bad, 2);
    let config = write_config(&net, &good);
    let bad_config = write_config(&net, &bad);
    start(&mut net, &bin, dir.path(), 1, &config);
    start(&mut net, &bin, dir.path(), 2, &config);
    let intruder = start(&mut net, &bin, dir.path(), 3, &bad_config);
    let logs = net.logs.clone();
    assert!(
        wait_for_ring(&logs[0], "[NodeId(1), NodeId(2)]", Duration::from_secs(10)).is_some(),
        "nodes 1 and 2 never formed a ring"
    );
    std::thread::sleep(Duration::from_millis(3 * EFFECTIVE_TOKEN_MS));
    for log in &logs {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        assert!(
            !text.contains("NodeId(3), NodeId(1)") && !text.contains(ALL3),
            "{}:\n{text}",
            log.display()
        );
    }
    let first = std::fs::read_to_string(&logs[0]).unwrap_or_default();
    assert!(
        first.contains("failed authentication"),
        "node 1 did not log the drops:\n{first}"
    );
    assert!(net.alive(intruder));
}

#[test]
fn garbage_and_truncated_packets_are_dropped_and_counted() {
    let Some(bin) = prerequisites() else { return };
    if !baton_tests::require_tool("python3", "send raw UDP from a member's address") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut net = Net::new(3);
    let key = dir.path().join("authkey");
    write_key(&key, 1);
    let config = write_config(&net, &key);
    let first = start(&mut net, &bin, dir.path(), 1, &config);
    start(&mut net, &bin, dir.path(), 2, &config);
    let logs = net.logs.clone();
    let pair = "[NodeId(1), NodeId(2)]";
    assert!(wait_for_ring(&logs[0], pair, Duration::from_secs(10)).is_some());
    // From node 3's address and port (no ringd there), so the packets pass
    // the nodelist check and reach authentication: random bytes of many
    // sizes, including empty and shorter than an IV or a MAC.
    let script = format!(
        "import os, socket\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.bind(('{}', 5405))\n\
         for n in (0, 1, 15, 16, 31, 32, 47, 48, 64, 200, 1400):\n    \
         s.sendto(os.urandom(n), ('{}', 5405))\n",
        net.addr(3),
        net.addr(1)
    );
    net.run_in(3, &["python3", "-c", &script]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(net.alive(first), "ringd crashed on garbage");
    let text = std::fs::read_to_string(&logs[0]).unwrap_or_default();
    // The first drop from a peer is always logged, with its counters.
    let peer = format!("peer={}:5405", net.addr(3));
    assert!(
        text.lines().any(|l| l.contains("dropped packet")
            && l.contains(&peer)
            && l.contains("auth_failures=1")),
        "no counted drop from {peer} was logged:\n{text}"
    );
    assert!(wait_for_ring(&logs[0], pair, Duration::from_secs(1)).is_some());
    let status = ring_status(&bin, dir.path(), 1);
    let peer3 = status["peers"]
        .as_array()
        .and_then(|peers| peers.iter().find(|p| p["node_id"] == 3))
        .unwrap_or_else(|| panic!("node 3 missing from {status}"));
    // Eleven packets sent; UDP on a veth does not lose them.
    assert_eq!(peer3["auth_failures"], 11, "{status}");
}
