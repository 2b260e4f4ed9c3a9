//! A two-node cluster (`two_node: 1`) with fencing, on real nodes in
//! network namespaces, split again and again with both nodes alive: each
//! half keeps quorum and wants to fence the other, and with no delay
//! configured anywhere exactly one node is fenced each time (the one that
//! did not hold the DC), never both; the address then answers from the
//! survivor. The fence agent is the tests' `fence_netns`: it kills the
//! target's daemons and takes its link down, recording each shot.

#[path = "ring/cluster.rs"]
mod cluster;
#[path = "ring/netns.rs"]
mod netns;
#[path = "crmd/stack.rs"]
mod stack;
#[path = "crmd/vip.rs"]
mod vip;

use std::path::Path;
use std::time::{Duration, Instant};

use cluster::{ConfigOptions, TOKEN_MS};
use stack::*;
use vip::*;

/// The other half's wait: 2 × the token (two nodes: the effective token).
const TIE_BREAK_WAIT: Duration = Duration::from_millis(2 * TOKEN_MS);

fn shots(fence_dir: &Path, node: usize) -> usize {
    std::fs::read_to_string(fence_dir.join(format!("n{node}.fenced")))
        .map_or(0, |record| record.lines().count())
}

fn dc_of(stack: &Stack, node: usize) -> Option<usize> {
    let status = stack.status(node)?;
    status["dc"].as_str().map(node_index)
}

#[test]
fn after_each_split_exactly_one_node_is_fenced_and_the_address_answers_from_the_other() {
    if !agents_installed() {
        return;
    }
    let began = Instant::now();
    let two_node = |net: &netns::Net, dir: &Path| {
        let options = ConfigOptions {
            quorum: "  two_node: 1",
            ..ConfigOptions::default()
        };
        cluster::write_config_with(net, &dir.join("authkey"), &options)
    };
    let Some(mut stack) = Stack::start_with_config(2, two_node) else {
        return;
    };
    stack.wait_for_agreed_dc(&[1, 2], &["n1", "n2"]);
    stack.net.address_bridge();
    let fence_dir = stack.install_fence_agent();
    let vip = configure_fenced_vip(&stack, &fence_dir, "n1 n2");
    // Before any split, the device can be checked without shooting.
    let test = stack.baton(1, &["fence", "test", "n2"]);
    assert_eq!(
        (test.status.code(), stdout(&test).trim()),
        (
            Some(0),
            "fencer (fence_netns, status): reaches n2: n2 is on"
        ),
        "{}",
        stderr(&test)
    );
    let unknown = stack.baton(1, &["fence", "test", "n9"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stdout(&unknown).starts_with("No fencing device may fence n9"),
        "{}",
        stdout(&unknown)
    );
    wait_until(&stack, "the address answers", || answers(&stack, &vip));

    for round in 1..=3 {
        let dc = dc_of(&stack, 1).expect("a DC");
        let other = 3 - dc;
        let before = (shots(&fence_dir, dc), shots(&fence_dir, other));
        // Which port is pulled does not matter to a two-node split; vary it.
        let pulled = if round % 2 == 1 { dc } else { other };
        stack.net.cut(pulled);
        let split = Instant::now();
        wait_until(&stack, "a node is fenced", || {
            shots(&fence_dir, 1) + shots(&fence_dir, 2) > before.0 + before.1
        });
        let fenced_after = split.elapsed();
        // Long enough for the waiting half to shoot, had it survived.
        std::thread::sleep(TIE_BREAK_WAIT * 2);
        assert_eq!(
            (shots(&fence_dir, dc), shots(&fence_dir, other)),
            (before.0, before.1 + 1),
            "round {round}: only n{other} (not the DC's node n{dc}) is fenced, once\n{}",
            stack.logs()
        );
        // The fenced node's link is down: the switch may take both back.
        stack.net.reconnect(pulled);
        wait_until(&stack, "the address answers from the survivor", || {
            holders(&stack, &vip, &[dc]) == [dc] && answers(&stack, &vip)
        });
        eprintln!(
            "timeline: round {round}: split, n{other} fenced after {fenced_after:?}, address on n{dc} ({:?} since start)",
            began.elapsed()
        );

        // The fenced node boots again and rejoins.
        stack.power_off(other);
        stack.power_on(other);
        stack.install_fence_agent();
        stack.wait_for_agreed_dc(&[1, 2], &["n1", "n2"]);
    }
}
