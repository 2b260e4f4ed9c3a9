//! The controller on real nodes in network namespaces (ringd, lrmd and
//! crmd on each): one DC and one CIB, writes through any node, concurrent
//! writes, the DC's death, a merge with a newer configuration, a crmd
//! restart. Judged by what `baton status` and `baton cib query` show.

#[path = "ring/cluster.rs"]
mod cluster;
#[path = "ring/netns.rs"]
mod netns;
#[path = "crmd/stack.rs"]
mod stack;

use std::time::{Duration, Instant};

use baton_proto::crmd::crmd_client::CrmdClient;
use baton_proto::crmd::{QueryRequest, ReplaceConfigurationRequest};
use stack::*;

const ALL: [&str; 3] = ["n1", "n2", "n3"];

#[test]
fn three_nodes_start_with_one_dc_and_the_same_cib() {
    let Some(stack) = Stack::start(3) else { return };
    stack.wait_for_dc(&[1, 2, 3], "n1", &ALL);
    let status = stack.status(2).expect("status");
    assert_eq!(status["quorate"], true, "{status}");
    assert_eq!(status["cluster_name"], "t", "{status}");
    let dc_flags: Vec<bool> = status["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["dc"] == true)
        .collect();
    assert_eq!(dc_flags.iter().filter(|d| **d).count(), 1, "{status}");
    let text = stdout(&stack.baton(3, &["status"]));
    assert!(
        text.contains("Current DC: n1") && text.contains("partition with quorum"),
        "{text}"
    );
    assert!(text.contains("Online: [ n1 n2 n3 ]"), "{text}");
}

#[test]
fn a_write_through_one_node_is_on_every_node_when_it_returns() {
    let Some(stack) = Stack::start(3) else { return };
    stack.wait_for_dc(&[1, 2, 3], "n1", &ALL);
    let out = stack.baton(
        1,
        &[
            "configure",
            "primitive",
            "vip",
            "ocf:heartbeat:IPaddr2",
            "params",
            "ip=10.9.9.9",
        ],
    );
    ok(&stack, &out);
    // No waiting: the write returned only once every node had it.
    for node in 1..=3 {
        assert!(
            stack.cib(node).contains("<primitive id=\"vip\""),
            "node {node} lacks the write"
        );
    }
    let shown = stdout(&stack.baton(3, &["configure", "show", "vip"]));
    assert!(shown.contains("ip=10.9.9.9"), "{shown}");
    // Permanent and transient attributes, set on one node, seen on another.
    ok(
        &stack,
        &stack.baton(2, &["node", "attribute", "n3", "set", "rack", "r7"]),
    );
    ok(
        &stack,
        &stack.baton(2, &["node", "status-attr", "n3", "set", "cache", "warm"]),
    );
    let rack = stdout(&stack.baton(1, &["node", "attribute", "n3", "show", "rack"]));
    assert!(rack.contains("value=r7"), "{rack}");
    let cache = stdout(&stack.baton(1, &["node", "status-attr", "n3", "show", "cache"]));
    assert!(cache.contains("value=warm"), "{cache}");
}

#[test]
fn of_two_writes_from_one_version_one_wins_and_the_other_is_told_why() {
    let Some(stack) = Stack::start(3) else { return };
    stack.wait_for_dc(&[1, 2, 3], "n1", &ALL);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let results = runtime.block_on(async {
        let client = |node: usize| {
            let socket = stack.crmd_socket(node);
            async move {
                let channel = baton_proto::client::connect(&socket, Duration::from_secs(30))
                    .await
                    .expect("connect crmd");
                CrmdClient::new(channel)
            }
        };
        let (mut one, mut three) = (client(1).await, client(3).await);
        let base = one
            .query(QueryRequest {})
            .await
            .expect("query")
            .into_inner();
        let write = |id: &str| {
            let cib = base.cib.replace(
                "<resources/>",
                &format!(
                    "<resources><primitive id=\"{id}\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/></resources>"
                ),
            );
            assert_ne!(cib, base.cib, "the empty CIB has an empty resources section");
            ReplaceConfigurationRequest {
                cib,
                base: base.version,
                base_digest: base.config_digest.clone(),
                client: "test".into(),
                user: "root".into(),
            }
        };
        let (a, b) = tokio::join!(
            one.replace_configuration(write("from-one")),
            three.replace_configuration(write("from-three"))
        );
        [a.map(|_| ()), b.map(|_| ())]
    });
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    let refused = results
        .iter()
        .find_map(|r| r.as_ref().err())
        .expect("one refused");
    assert_eq!(refused.code(), tonic::Code::Aborted, "{refused:?}");
    assert!(
        refused.message().contains("nothing was changed"),
        "{refused:?}"
    );
    let loser = if results[0].is_ok() {
        "from-three"
    } else {
        "from-one"
    };
    let cibs: Vec<String> = (1..=3).map(|n| stack.cib(n)).collect();
    for (node, cib) in cibs.iter().enumerate() {
        assert!(
            !cib.contains(loser),
            "node {} half-applied {loser}",
            node + 1
        );
    }
}

#[test]
fn when_the_dc_dies_the_lowest_survivor_takes_over() {
    let Some(mut stack) = Stack::start(3) else {
        return;
    };
    stack.wait_for_dc(&[1, 2, 3], "n1", &ALL);
    let killed = Instant::now();
    stack.crash(1);
    stack.wait_for_dc(&[2, 3], "n2", &["n2", "n3"]);
    let took = killed.elapsed();
    // Membership detection (token + consensus) plus the takeover; the
    // precise figure is a benchmark's job.
    let bound = Duration::from_millis(cluster::EFFECTIVE_TOKEN_MS + cluster::CONSENSUS_MS + 3_000);
    assert!(took < bound, "took {took:?}");
    let status = stack.status(3).expect("status");
    let n1 = status["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["name"] == "n1")
        .cloned()
        .expect("n1 listed");
    // Fencing is on and nobody fenced it: it may still run something.
    assert_eq!(n1["state"], "unclean", "{status}");
    let text = stdout(&stack.baton(2, &["status"]));
    assert!(text.contains("Node n1: UNCLEAN (offline)"), "{text}");
    // The old DC comes back as an ordinary member.
    stack.start_node(1);
    stack.wait_for_dc(&[1, 2, 3], "n2", &ALL);
}

/// Cuts node 3 off, lets `majority` and `minority` primitives be written on
/// each side, and joins the network again.
fn split_write_and_merge(stack: &Stack, majority: &[&str], minority: &[&str]) {
    stack.wait_for_dc(&[1, 2, 3], "n1", &ALL);
    stack
        .net
        .run_in(3, &["ip", "link", "set", &netns::Net::device(0), "down"]);
    stack.wait_for_dc(&[1, 2], "n1", &["n1", "n2"]);
    stack.wait_for(3, "n3 alone", |s| online_names(s) == ["n3"]);
    for id in majority {
        let out = stack.baton(1, &["configure", "primitive", id, "ocf:heartbeat:Dummy"]);
        ok(stack, &out);
        assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    }
    for id in minority {
        let out = stack.baton(3, &["configure", "primitive", id, "ocf:heartbeat:Dummy"]);
        ok(stack, &out);
        assert!(
            stderr(&out).contains("no quorum"),
            "a write without quorum says so: {}",
            stderr(&out)
        );
    }
    stack
        .net
        .run_in(3, &["ip", "link", "set", &netns::Net::device(0), "up"]);
    stack.wait_for_agreed_dc(&[1, 2, 3], &ALL);
}

/// Polls until every node's CIB holds `id`.
fn wait_everywhere(stack: &Stack, id: &str) {
    for node in 1..=3 {
        let deadline = Instant::now() + SETTLE;
        while !stack.cib(node).contains(&format!("\"{id}\"")) {
            assert!(
                Instant::now() < deadline,
                "node {node} never got {id}\n{}",
                stack.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn a_partitioned_node_with_a_newer_configuration_merges_back_and_it_is_kept() {
    let Some(stack) = Stack::start(3) else { return };
    split_write_and_merge(&stack, &[], &["minority-a", "minority-b"]);
    wait_everywhere(&stack, "minority-b");
    let status = stack.status(1).expect("status");
    assert!(
        !status["warnings"].to_string().contains("replaced by"),
        "nothing was lost, so nothing is reported: {status}"
    );
    assert!(!stack.state_dir(1).join("cib/dropped").exists());
}

#[test]
fn when_both_sides_changed_the_configuration_the_majority_wins_and_nothing_is_lost_silently() {
    let Some(stack) = Stack::start(3) else { return };
    split_write_and_merge(&stack, &["majority"], &["minority-a", "minority-b"]);
    wait_everywhere(&stack, "majority");
    for node in 1..=3 {
        assert!(!stack.cib(node).contains("minority-b"), "node {node}");
    }
    let status = stack.status(2).expect("status");
    assert!(
        status["warnings"].to_string().contains("replaced by"),
        "{status}"
    );
    let text = stdout(&stack.baton(2, &["status"]));
    assert!(
        text.contains("WARNINGS:") && text.contains("baton cib history"),
        "{text}"
    );
    let history = stdout(&stack.baton(1, &["cib", "history"]));
    assert!(
        history.contains("n3") && history.contains("replaced by"),
        "{history}"
    );
    let kept: Vec<_> = std::fs::read_dir(stack.state_dir(3).join("cib/dropped"))
        .expect("n3 keeps what it lost")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(kept.len(), 1);
    let text = std::fs::read_to_string(kept[0].path()).expect("read backup");
    assert!(text.contains("minority-b"), "{text}");
    ok(&stack, &stack.baton(1, &["cib", "history", "--clear"]));
    let status = stack.status(3).expect("status");
    assert!(
        !status["warnings"].to_string().contains("replaced by"),
        "{status}"
    );
}

#[test]
fn a_restarted_crmd_rejoins_with_its_node_attributes_and_the_same_dc() {
    let Some(mut stack) = Stack::start(3) else {
        return;
    };
    stack.wait_for_dc(&[1, 2, 3], "n1", &ALL);
    ok(
        &stack,
        &stack.baton(1, &["configure", "property", "stonith-enabled=false"]),
    );
    ok(
        &stack,
        &stack.baton(2, &["node", "status-attr", "n2", "set", "cache", "warm"]),
    );
    stack.kill9(2, Daemon::Crmd);
    stack.wait_for_dc(&[1, 3], "n1", &["n1", "n3"]);
    stack.start_daemon(2, Daemon::Crmd);
    stack.wait_for_dc(&[1, 2, 3], "n1", &ALL);
    let cache = stdout(&stack.baton(2, &["node", "status-attr", "n2", "show", "cache"]));
    assert!(cache.contains("value=warm"), "{cache}");
    assert!(stack.cib(2).contains("stonith-enabled"));
}

#[test]
fn crmd_joins_again_when_its_ringd_comes_back() {
    let Some(mut stack) = Stack::start(3) else {
        return;
    };
    stack.wait_for_dc(&[1, 2, 3], "n1", &ALL);
    stack.kill9(3, Daemon::Ringd);
    stack.wait_for_dc(&[1, 2], "n1", &["n1", "n2"]);
    let out = stack.baton(3, &["configure", "primitive", "x", "ocf:heartbeat:Dummy"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("not joined"), "{}", stderr(&out));
    stack.start_daemon(3, Daemon::Ringd);
    stack.wait_for_dc(&[1, 2, 3], "n1", &ALL);
    ok(
        &stack,
        &stack.baton(3, &["configure", "primitive", "x", "ocf:heartbeat:Dummy"]),
    );
}
