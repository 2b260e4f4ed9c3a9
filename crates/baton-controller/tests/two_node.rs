//! Two-node clusters (`two_node`): after a split both halves keep quorum
//! and both would fence; baton's default tie-break lets exactly one shoot.

mod common;

use baton_controller::LeaveReason;
use common::{Cluster, FENCE_RACE_DELAY_MS, fencing_device, primitive};

/// A started two-node cluster with two_node, fencing and `vip`.
fn two_nodes_with_vip() -> Cluster {
    let mut cluster = Cluster::new(2);
    cluster.two_node = true;
    cluster.start(1);
    cluster.start(2);
    cluster.settle();
    cluster.configure(1, |cib| {
        cib.set_property("stonith-enabled", "true");
        fencing_device(cib);
        primitive(cib, "vip", "IPaddr2", "10s");
    });
    cluster
}

fn wait(cluster: &mut Cluster, ms: u64) {
    for _ in 0..ms / 500 {
        cluster.advance(500);
    }
}

#[test]
fn after_a_split_the_half_that_held_the_dc_fences_and_the_other_survives_nothing() {
    for first_dc in [1, 2] {
        let mut cluster = two_nodes_with_vip();
        if cluster.dc(1) != Some(first_dc) {
            // The DC hands over when it leaves cleanly and comes back.
            cluster.stop(1, LeaveReason::Leave);
            cluster.start(1);
            cluster.settle();
            wait(&mut cluster, 2_000);
        }
        let dc = cluster.dc(1).expect("a DC");
        assert_eq!(dc, first_dc, "the DC the test wanted");
        let other = 3 - dc;

        cluster.repartition(vec![vec![1], vec![2]]);
        cluster.settle();
        wait(&mut cluster, 2 * FENCE_RACE_DELAY_MS);

        assert_eq!(
            cluster.world.fenced,
            [format!("n{other}")],
            "only the node that did not hold the DC is fenced"
        );
        assert!(cluster.nodes.contains_key(&dc), "the DC's node survives");
        let waited: Vec<u64> = cluster
            .fence_requests
            .iter()
            .filter(|(requester, ..)| *requester == other)
            .map(|(.., delay)| *delay)
            .collect();
        assert_eq!(
            waited,
            [FENCE_RACE_DELAY_MS],
            "the other half asked once, with the tie-break's wait"
        );
        assert_eq!(cluster.world.where_active("vip"), [dc], "vip runs once");
    }
}

#[test]
fn when_the_dcs_node_dies_the_survivor_fences_it_after_the_wait_and_then_recovers() {
    let mut cluster = two_nodes_with_vip();
    let dc = cluster.dc(1).expect("a DC");
    let survivor = 3 - dc;
    cluster.configure(dc, |cib| {
        common::prefer(cib, "vip", &format!("n{dc}"), "100");
    });
    assert_eq!(cluster.world.where_active("vip"), [dc]);

    cluster.crash(dc);
    wait(&mut cluster, FENCE_RACE_DELAY_MS - 1_000);
    assert!(cluster.world.fenced.is_empty(), "fenced before the wait");
    assert!(
        cluster.world.where_active("vip").is_empty(),
        "recovered unfenced"
    );

    wait(&mut cluster, 2_000);
    assert_eq!(cluster.world.fenced, [format!("n{dc}")]);
    assert_eq!(cluster.world.where_active("vip"), [survivor]);
}

#[test]
fn a_node_the_dc_fences_while_it_is_a_member_is_fenced_at_once() {
    let mut cluster = two_nodes_with_vip();
    let dc = cluster.dc(1).expect("a DC");
    let other = 3 - dc;
    cluster.configure(dc, |cib| {
        common::prefer(cib, "vip", &format!("n{other}"), "100");
    });
    assert_eq!(cluster.world.where_active("vip"), [other]);
    cluster
        .world
        .agents
        .insert((other, "vip".into()), common::world::Agent::FailsToStop);
    cluster.configure(dc, |cib| common::meta(cib, "vip", "target-role", "Stopped"));
    assert_eq!(
        cluster.fence_requests,
        [(dc, format!("n{other}"), 0)],
        "a failed stop is fenced without the split's wait"
    );
}

#[test]
fn with_priority_fencing_delay_the_node_running_the_important_resource_survives() {
    let mut cluster = two_nodes_with_vip();
    let dc = cluster.dc(1).expect("a DC");
    let other = 3 - dc;
    cluster.configure(dc, |cib| {
        cib.set_property("priority-fencing-delay", "15s");
        common::meta(cib, "vip", "priority", "10");
        common::prefer(cib, "vip", &format!("n{other}"), "100");
    });
    assert_eq!(cluster.world.where_active("vip"), [other]);

    cluster.repartition(vec![vec![1], vec![2]]);
    cluster.settle();
    wait(&mut cluster, 20_000);

    assert_eq!(
        cluster.world.fenced,
        [format!("n{dc}")],
        "the user's rule, not the DC, decides who survives"
    );
    assert!(
        cluster
            .fence_requests
            .contains(&(dc, format!("n{other}"), 15_000))
    );
    assert_eq!(cluster.world.where_active("vip"), [other]);
}
