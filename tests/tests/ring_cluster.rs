//! Real `baton-ringd` processes in network namespaces: the ring forms, a
//! killed node is noticed in time, and a node with the wrong key never joins.

#[path = "ring/cluster.rs"]
mod cluster;
#[path = "ring/netns.rs"]
mod netns;

use std::time::Duration;

use cluster::*;
use netns::Net;

#[test]
fn three_node_ring_forms_and_survives_kill_9() {
    let Some(bin) = prerequisites() else { return };
    let (mut net, dir, config) = setup(3, &ConfigOptions::default());
    let pids = start_all(&mut net, &bin, dir.path(), &config);
    for log in net.logs.clone() {
        assert!(
            wait_for_ring(&log, &members(&[1, 2, 3]), Duration::from_secs(10)).is_some(),
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
            !text.contains("NodeId(3), NodeId(1)") && !text.contains(&members(&[1, 2, 3])),
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
    let (mut net, dir, config) = setup(3, &ConfigOptions::default());
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

/// Captures node 1's traffic from the bridge (frames on its port `w1`).
const CAPTURE: &str = r#"
import socket, struct, sys
# ETH_P_ALL: a bridge port hands frames of one protocol to the bridge only.
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
s.bind(("w1", 0))
s.settimeout(10)
packets = []
while len(packets) < int(sys.argv[2]):
    frame = s.recv(65535)
    ip = frame[14:]
    if frame[12:14] != b"\x08\x00" or ip[9] != 17 or struct.unpack("!H", ip[6:8])[0] & 0x3FFF:
        continue
    udp = ip[(ip[0] & 15) * 4:]
    if struct.unpack("!H", udp[2:4])[0] == 5405:
        packets.append(udp[8:])
with open(sys.argv[1], "wb") as f:
    for p in packets:
        f.write(struct.pack("!I", len(p)) + p)
"#;

/// Sends captured packets again, several times, from node 3's address.
const REPLAY: &str = r#"
import socket, struct, sys
data = open(sys.argv[1], "rb").read()
packets, i = [], 0
while i < len(data):
    n = struct.unpack("!I", data[i:i + 4])[0]
    packets.append(data[i + 4:i + 4 + n])
    i += 4 + n
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[2], 5405))
for _ in range(3):
    for p in packets:
        s.sendto(p, (sys.argv[3], 5405))
"#;

#[test]
fn replayed_packets_do_not_break_the_ring() {
    let Some(bin) = prerequisites() else { return };
    if !baton_tests::require_tool("python3", "capture and replay UDP packets") {
        return;
    }
    let (mut net, dir, config) = setup(3, &ConfigOptions::default());
    let capture_file = dir.path().join("captured");
    let capture_path = capture_file.to_str().expect("utf-8 path");
    // Capture from before the ring forms: joins, commit tokens, tokens.
    let mut capture = net.spawn_in_bridge(&["python3", "-c", CAPTURE, capture_path, "200"]);
    std::thread::sleep(Duration::from_millis(200));
    let first = start(&mut net, &bin, dir.path(), 1, &config);
    let second = start(&mut net, &bin, dir.path(), 2, &config);
    let logs = net.logs.clone();
    let pair = "[NodeId(1), NodeId(2)]";
    assert!(wait_for_ring(&logs[0], pair, Duration::from_secs(10)).is_some());
    assert!(capture.wait().expect("capture").success(), "capture failed");
    let captured = std::fs::metadata(&capture_file).map_or(0, |m| m.len());
    assert!(
        captured > 200 * 32,
        "only {captured} bytes of packets captured"
    );
    net.run_in(
        3,
        &[
            "python3",
            "-c",
            REPLAY,
            capture_path,
            &net.addr(3),
            &net.addr(1),
        ],
    );
    std::thread::sleep(Duration::from_millis(EFFECTIVE_TOKEN_MS + CONSENSUS_MS));
    assert!(
        net.alive(first) && net.alive(second),
        "a ringd crashed on replayed packets"
    );
    assert!(
        wait_for_ring(&logs[0], pair, Duration::from_secs(10)).is_some(),
        "node 1 did not settle back into the ring with node 2"
    );
    let status = ring_status(&bin, dir.path(), 1);
    assert_eq!(status["members"], serde_json::json!([1, 2]), "{status}");
    assert_eq!(status["state"], "operational", "{status}");
    // They authenticate (same key) but claim senders other than node 3,
    // whose address they came from: counted, never acted on.
    let peer3 = status["peers"]
        .as_array()
        .and_then(|peers| peers.iter().find(|p| p["node_id"] == 3))
        .unwrap_or_else(|| panic!("node 3 missing from {status}"));
    assert!(
        peer3["decode_failures"].as_u64().unwrap_or(0) > 0,
        "the replayed packets were not counted: {status}"
    );
}
