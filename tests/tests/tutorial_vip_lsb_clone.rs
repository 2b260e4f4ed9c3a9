//! The three-node tutorial of a floating address colocated with a cloned
//! LSB service (`migration-threshold=3`, the service's start `on-fail=standby`),
//! on real nodes in network namespaces. The service dies: its monitor
//! notices and it is restarted in place. It breaks for good: its restart
//! fails, the node goes to "standby (on-fail)" and the address leaves it.
//! Repairing it by hand changes nothing until `baton resource cleanup` on
//! the clone; then the node runs the service again.

#[path = "ring/cluster.rs"]
mod cluster;
#[path = "crmd/lsb.rs"]
mod lsb;
#[path = "ring/netns.rs"]
mod netns;
#[path = "crmd/stack.rs"]
mod stack;
#[path = "crmd/vip.rs"]
mod vip;

use std::time::{Duration, Instant};

use lsb::Services;
use stack::*;
use vip::*;

fn clone_nodes(status: &serde_json::Value) -> usize {
    find_resource(&status["resources"], "svc-clone")
        .and_then(|r| r["nodes"].as_array().map(Vec::len))
        .unwrap_or(0)
}

fn node_state(status: &serde_json::Value, node: usize) -> String {
    status["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["name"] == format!("n{node}"))
        .and_then(|n| n["state"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_vip_with_a_cloned_lsb_service_survives_its_death_and_its_breakage() {
    if !agents_installed() {
        return;
    }
    let Some(stack) = Stack::start(3) else { return };
    let began = Instant::now();
    let services = Services::install(&stack, "baton-svc");
    let (vip, holder) = start_vip(&stack, &ALL);
    for words in [
        "primitive svc lsb:baton-svc op monitor interval=1s op start interval=0 timeout=20s on-fail=standby",
        "clone svc-clone svc",
        "colocation vip-with-svc inf: vip svc-clone",
        "rsc_defaults migration-threshold=3",
    ] {
        let words: Vec<&str> = words.split(' ').collect();
        configure(&stack, &words);
    }
    stack.wait_for(1, "the service on every node", |s| clone_nodes(s) == 3);
    eprintln!(
        "timeline: {vip} on n{holder}, svc-clone on 3 nodes after {:?}",
        began.elapsed()
    );

    // The service dies: its monitor notices, it is restarted in place.
    let dead = services.kill(holder);
    wait_until(&stack, "the service restarted in place", || {
        services.alive(holder) && services.pid(holder) != Some(dead)
    });
    let counted = stack.wait_for(1, "the failure counted", |s| {
        s["fail_counts"].as_array().is_some_and(|counts| {
            counts.iter().any(|c| {
                c["node"] == format!("n{holder}")
                    && c["resource"].as_str().is_some_and(|r| r.starts_with("svc"))
            })
        })
    });
    assert_eq!(node_state(&counted, holder), "online");
    wait_until(&stack, "the address stays and answers", || {
        holders(&stack, &vip, &[1, 2, 3]) == [holder] && answers(&stack, &vip)
    });
    eprintln!(
        "timeline: svc killed on n{holder}, restarted in place after {:?}",
        began.elapsed()
    );

    // It breaks for good: the restart's start fails, the node goes to
    // standby and the address leaves it.
    services.set_broken(holder, true);
    services.kill(holder);
    stack.wait_for(1, "the node in standby", |s| {
        node_state(s, holder) == "standby"
    });
    let others: Vec<usize> = (1..=3).filter(|n| *n != holder).collect();
    wait_until(&stack, "the address moved and answers", || {
        holders(&stack, &vip, &others).len() == 1 && answers(&stack, &vip)
    });
    let text = stdout(&stack.baton(2, &["status"]));
    assert!(text.contains("standby (on-fail)"), "{text}");
    eprintln!(
        "timeline: svc broken on n{holder}, node in standby (on-fail) and address moved after {:?}",
        began.elapsed()
    );

    // Repaired by hand: nothing changes until the clean-up.
    services.set_broken(holder, false);
    std::thread::sleep(Duration::from_secs(3));
    let still = stack.status(1).expect("n1's status");
    assert_eq!(node_state(&still, holder), "standby", "{still}");
    assert!(!services.alive(holder));
    let cleaned = stack.baton(3, &["resource", "cleanup", "svc-clone"]);
    ok(&stack, &cleaned);
    assert!(
        stdout(&cleaned).contains(&format!("on n{holder}")),
        "{}",
        stdout(&cleaned)
    );
    let back = stack.wait_for(1, "the node back with its service", |s| {
        node_state(s, holder) == "online" && clone_nodes(s) == 3
    });
    assert_eq!(back["fail_counts"], serde_json::json!([]), "{back}");
    // The status counts a start under way as running.
    wait_until(&stack, "the service runs there again", || {
        services.alive(holder)
    });
    wait_until(&stack, "the address answers", || answers(&stack, &vip));
    eprintln!(
        "timeline: cleaned up, n{holder} runs the service again after {:?}",
        began.elapsed()
    );
}
