//! Membership and quorum scenarios on real `baton-ringd` processes in
//! network namespaces: five nodes, losing a majority, restarting, a link
//! going down and up, and a two-node cluster.

#[path = "ring/cluster.rs"]
mod cluster;
#[path = "ring/netns.rs"]
mod netns;

use std::path::Path;
use std::time::Duration;

use cluster::*;
use netns::Net;

#[test]
fn five_nodes_form_one_quorate_ring() {
    let Some(bin) = prerequisites() else { return };
    let (mut net, dir, config) = setup(5, &ConfigOptions::default());
    start_all(&mut net, &bin, dir.path(), &config);
    wait_all(&net, &[1, 2, 3, 4, 5], &[1, 2, 3, 4, 5]);
    let quorum = wait_for_quorate(&bin, dir.path(), 5, true, FORM);
    assert_eq!(quorum["quorate"], true, "{quorum}");
    assert_eq!(quorum["expected_votes"], 5, "{quorum}");
    assert_eq!(quorum["quorum"], 3, "{quorum}");
}

#[test]
fn a_lone_survivor_is_inquorate_until_a_killed_node_restarts_and_rejoins() {
    let Some(bin) = prerequisites() else { return };
    let (mut net, dir, config) = setup(3, &ConfigOptions::default());
    let pids = start_all(&mut net, &bin, dir.path(), &config);
    wait_all(&net, &[1, 2, 3], &[1, 2, 3]);
    let first_ring = ring_status(&bin, dir.path(), 1)["ring_id"].clone();
    net.kill9(pids[1]);
    net.kill9(pids[2]);
    wait_all(&net, &[1], &[1]);
    let alone = wait_for_quorate(&bin, dir.path(), 1, false, FORM);
    assert_eq!(alone["quorate"], false, "{alone}");
    assert_eq!(alone["total_votes"], 1, "{alone}");
    assert_eq!(alone["quorum"], 2, "{alone}");

    // Node 2 comes back with its persisted ring seq and rejoins.
    start(&mut net, &bin, dir.path(), 2, &config);
    let restarted_log = net.logs.last().expect("log").clone();
    assert!(
        wait_for_ring(&restarted_log, &members(&[1, 2]), FORM).is_some(),
        "the restarted node never rejoined"
    );
    wait_all(&net, &[1], &[1, 2]);
    let back = wait_for_quorate(&bin, dir.path(), 1, true, FORM);
    assert_eq!(back["quorate"], true, "{back}");
    let ring = ring_status(&bin, dir.path(), 2);
    assert_eq!(ring["members"], serde_json::json!([1, 2]), "{ring}");
    assert_ne!(ring["ring_id"], first_ring, "ring ids must move on");
}

#[test]
fn a_link_down_partitions_the_ring_and_link_up_merges_it() {
    let Some(bin) = prerequisites() else { return };
    let (mut net, dir, config) = setup(3, &ConfigOptions::default());
    start_all(&mut net, &bin, dir.path(), &config);
    wait_all(&net, &[1, 2, 3], &[1, 2, 3]);
    net.run_in(3, &["ip", "link", "set", &Net::device(0), "down"]);
    wait_all(&net, &[1, 2], &[1, 2]);
    wait_all(&net, &[3], &[3]);
    let majority = wait_for_quorate(&bin, dir.path(), 1, true, FORM);
    assert_eq!(majority["quorate"], true, "{majority}");
    let minority = wait_for_quorate(&bin, dir.path(), 3, false, FORM);
    assert_eq!(minority["quorate"], false, "{minority}");

    net.run_in(3, &["ip", "link", "set", &Net::device(0), "up"]);
    wait_all(&net, &[1, 2, 3], &[1, 2, 3]);
    let merged = wait_for_quorate(&bin, dir.path(), 3, true, FORM);
    assert_eq!(merged["quorate"], true, "{merged}");
}

#[test]
fn two_node_waits_for_both_at_start_then_survives_losing_one() {
    let Some(bin) = prerequisites() else { return };
    let (mut net, dir, config) = setup(
        2,
        &ConfigOptions {
            quorum: "  two_node: 1",
            ..ConfigOptions::default()
        },
    );
    start(&mut net, &bin, dir.path(), 1, &config);
    wait_all(&net, &[1], &[1]);
    // wait_for_all (implied by two_node): no quorum before both were seen.
    std::thread::sleep(Duration::from_millis(2 * EFFECTIVE_TOKEN_MS));
    let waiting = quorum_status(&bin, dir.path(), 1);
    assert_eq!(waiting["quorate"], false, "{waiting}");
    let flags = waiting["flags"].to_string();
    assert!(
        flags.contains("2Node") && flags.contains("WaitForAll"),
        "{waiting}"
    );

    let second = start(&mut net, &bin, dir.path(), 2, &config);
    wait_all(&net, &[1, 2], &[1, 2]);
    let both = wait_for_quorate(&bin, dir.path(), 1, true, FORM);
    assert_eq!(both["quorate"], true, "{both}");

    net.kill9(second);
    wait_all(&net, &[1], &[1]);
    std::thread::sleep(Duration::from_millis(500));
    let survivor = quorum_status(&bin, dir.path(), 1);
    assert_eq!(survivor["quorate"], true, "{survivor}");
    assert_eq!(survivor["quorum"], 1, "{survivor}");
}

#[test]
fn a_paused_node_says_it_was_not_scheduled_and_rejoins() {
    let Some(bin) = prerequisites() else { return };
    let (mut net, dir, config) = setup(3, &ConfigOptions::default());
    let pids = start_all(&mut net, &bin, dir.path(), &config);
    wait_all(&net, &[1, 2, 3], &[1, 2, 3]);
    net.pause(
        pids[2],
        Duration::from_millis(2 * (EFFECTIVE_TOKEN_MS + CONSENSUS_MS)),
    );
    wait_all(&net, &[1, 2, 3], &[1, 2, 3]);
    let log = std::fs::read_to_string(&net.logs[2]).unwrap_or_default();
    assert!(
        log.contains("was not scheduled"),
        "node 3 did not notice its pause:\n{log}"
    );
    let first = std::fs::read_to_string(&net.logs[0]).unwrap_or_default();
    assert!(
        first.contains(&format!("members={} ", members(&[1, 2]))),
        "nodes 1 and 2 never formed a ring without the paused node"
    );
}

/// Node 1's view of node `peer`'s links, as (link, connected).
fn links_seen(bin: &Path, dir: &Path, peer: u64) -> Vec<(u64, bool)> {
    let status = ring_status(bin, dir, 1);
    status["peers"]
        .as_array()
        .and_then(|peers| peers.iter().find(|p| p["node_id"] == peer))
        .and_then(|p| p["links"].as_array())
        .map(|links| {
            links
                .iter()
                .map(|l| {
                    (
                        l["link"].as_u64().unwrap_or(99),
                        l["connected"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn wait_for_links(bin: &Path, dir: &Path, peer: u64, expected: &[(u64, bool)]) {
    let start = std::time::Instant::now();
    while links_seen(bin, dir, peer) != expected {
        assert!(
            start.elapsed() < FORM,
            "node 1 saw node {peer}'s links as {:?}, not {expected:?}",
            links_seen(bin, dir, peer)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_failed_link_is_routed_around_and_only_losing_every_link_splits_the_ring() {
    let Some(bin) = prerequisites() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut net = Net::with_links(3, 2);
    let key = dir.path().join("authkey");
    write_key(&key, 1);
    let config = write_config(&net, &key);
    start_all(&mut net, &bin, dir.path(), &config);
    wait_all(&net, &[1, 2, 3], &[1, 2, 3]);
    wait_for_links(&bin, dir.path(), 3, &[(0, true), (1, true)]);
    let ring_before = ring_status(&bin, dir.path(), 1)["ring_id"].clone();

    net.run_in(3, &["ip", "link", "set", &Net::device(0), "down"]);
    wait_for_links(&bin, dir.path(), 3, &[(0, false), (1, true)]);
    std::thread::sleep(Duration::from_millis(
        2 * (EFFECTIVE_TOKEN_MS + CONSENSUS_MS),
    ));
    let ring = ring_status(&bin, dir.path(), 1);
    assert_eq!(
        ring["ring_id"], ring_before,
        "link 0 alone failing changed the ring: {ring}"
    );
    assert_eq!(ring["members"], serde_json::json!([1, 2, 3]), "{ring}");

    net.run_in(3, &["ip", "link", "set", &Net::device(1), "down"]);
    wait_all(&net, &[1, 2], &[1, 2]);
    wait_all(&net, &[3], &[3]);

    net.run_in(3, &["ip", "link", "set", &Net::device(0), "up"]);
    net.run_in(3, &["ip", "link", "set", &Net::device(1), "up"]);
    wait_all(&net, &[1, 2, 3], &[1, 2, 3]);
    wait_for_links(&bin, dir.path(), 3, &[(0, true), (1, true)]);
}

#[test]
fn a_multicast_ring_without_a_nodelist_finds_its_members() {
    let Some(bin) = prerequisites() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut net = Net::new(3);
    let config = write_multicast_config(&net, dir.path(), 3);
    for node in 1..=3 {
        start_as(&mut net, &bin, dir.path(), node, &config, None);
    }
    // Node ids are the nodes' addresses as 32-bit numbers (corosync 2.x).
    let ids: Vec<u32> = (1..=3)
        .map(|n| {
            net.addr(n)
                .parse::<std::net::Ipv4Addr>()
                .map(u32::from)
                .expect("IPv4 address")
        })
        .collect();
    wait_all(&net, &[1, 2, 3], &ids);
    let ring = ring_status(&bin, dir.path(), 2);
    assert_eq!(ring["members"], serde_json::json!(ids), "{ring}");
    let quorum = wait_for_quorate(&bin, dir.path(), 3, true, FORM);
    assert_eq!(quorum["quorate"], true, "{quorum}");
    assert_eq!(quorum["total_votes"], 3, "{quorum}");
}
