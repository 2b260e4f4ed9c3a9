//! Real `baton-ringd` processes in network namespaces: the ring forms, a
//! killed node is noticed in time, and a node with the wrong key never joins.

#[path = "ring/cluster.rs"]
mod cluster;
#[path = "ring/netns.rs"]
mod netns;

use std::time::Duration;

use cluster::*;
use netns::Net;

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
