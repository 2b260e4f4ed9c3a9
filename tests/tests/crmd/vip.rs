//! A floating address on a namespace cluster, and how tests judge it: by
//! which namespaces hold it and whether it answers a ping from the bridge.
// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use crate::stack::{SETTLE, Stack, ok};

pub const ALL: [&str; 3] = ["n1", "n2", "n3"];

/// The Debian resource agents the tests run; missing, the test skips
/// loudly (fails under CI=true).
pub fn agents_installed() -> bool {
    let ipaddr2 = std::path::Path::new("/usr/lib/ocf/resource.d/heartbeat/IPaddr2").is_file();
    let ping = std::path::Path::new("/usr/bin/ping").is_file();
    baton_tests::prerequisite(ipaddr2, || {
        "the resource-agents package is not installed (apt-get install resource-agents)".to_owned()
    }) && baton_tests::prerequisite(ping, || {
        "ping is not installed (apt-get install iputils-ping)".to_owned()
    })
}

/// A three-node cluster without fencing, running a floating address
/// (monitored every second); the address and the node holding it.
pub fn cluster_with_vip() -> Option<(Stack, String, usize)> {
    if !agents_installed() {
        return None;
    }
    let stack = Stack::start(3)?;
    let (vip, holder) = start_vip(&stack, &ALL);
    Some((stack, vip, holder))
}

/// Once `names` (node 1, 2, … in order) are all online with one DC:
/// fencing off, then the address
/// (monitored every second); the address and the node holding it, once it
/// answers.
pub fn start_vip(stack: &Stack, names: &[&str]) -> (String, usize) {
    let nodes: Vec<usize> = (1..=stack.nodes()).collect();
    stack.wait_for_agreed_dc(&nodes, names);
    let vip = configure_vip(stack);
    let holder = stack.wait_until_running(1, "vip");
    let holder = names.iter().position(|n| *n == holder).map_or_else(
        || panic!("vip runs on {holder}, not a node of {names:?}"),
        |i| i + 1,
    );
    wait_until(stack, "the address answers", || answers(stack, &vip));
    (vip, holder)
}

/// Fencing off and the address `vip` (IPaddr2 on link 0's subnet, .100,
/// monitored every second), reachable from the bridge; the address.
pub fn configure_vip(stack: &Stack) -> String {
    stack.net.address_bridge();
    configure(stack, &["property", "stonith-enabled=false"]);
    add_vip(stack)
}

/// Fencing through the tests' `fence_netns` (its node descriptions in
/// `dir`) for the nodes `hosts` (`n1 n2 n3`), then the address `vip` as
/// [`configure_vip`] makes it, fencing left on; the address.
pub fn configure_fenced_vip(stack: &Stack, dir: &std::path::Path, hosts: &str) -> String {
    configure(
        stack,
        &[
            "primitive",
            "fencer",
            "stonith:fence_netns",
            "params",
            &format!("dir={}", dir.display()),
            &format!("pcmk_host_list={hosts}"),
        ],
    );
    add_vip(stack)
}

/// The primitive `vip` (IPaddr2 on link 0's subnet, .100, monitored every
/// second); the address.
fn add_vip(stack: &Stack) -> String {
    let vip = format!("{}.100", stack.net.subnet(0));
    configure(
        stack,
        &[
            "primitive",
            "vip",
            "ocf:heartbeat:IPaddr2",
            "params",
            &format!("ip={vip}"),
            "cidr_netmask=24",
            "op",
            "monitor",
            "interval=1s",
        ],
    );
    vip
}

pub fn configure(stack: &Stack, words: &[&str]) {
    let mut args = vec!["configure"];
    args.extend(words);
    ok(stack, &stack.baton(1, &args));
}

pub fn node_index(name: &str) -> usize {
    name.trim_start_matches('n').parse().expect("a node name")
}

pub fn answers(stack: &Stack, addr: &str) -> bool {
    stack
        .net
        .succeeds_in_bridge(&["ping", "-c", "1", "-W", "1", addr])
}

pub fn holders(stack: &Stack, addr: &str, nodes: &[usize]) -> Vec<usize> {
    nodes
        .iter()
        .copied()
        .filter(|n| stack.net.holds_address(*n, addr))
        .collect()
}

pub fn wait_until(stack: &Stack, what: &str, done: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < SETTLE,
            "never happened: {what}\n{}",
            stack.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}
