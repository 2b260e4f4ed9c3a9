//! The tutorials' corosync.conf generations run baton unchanged: the same
//! three-node cluster and floating address from a corosync 1.x whitetank
//! config (multicast, no nodelist, `service { name: pacemaker }`,
//! `secauth: on`), a 2.x config (udpu members, votequorum) and a 3.x config
//! (knet, crypto). With the 1.x config a node cut off from the other two
//! loses quorum and stops its address, as the 1.x plugin did.

#[path = "ring/cluster.rs"]
mod cluster;
#[path = "ring/netns.rs"]
mod netns;
#[path = "crmd/stack.rs"]
mod stack;
#[path = "crmd/vip.rs"]
mod vip;

use std::path::{Path, PathBuf};
use std::time::Instant;

use cluster::TOKEN_MS;
use netns::Net;
use stack::*;
use vip::*;

/// What the tutorials of corosync 1.x pasted, with this network's subnet,
/// a token short enough for a test, and the key where the test keeps it.
fn whitetank(net: &Net, dir: &Path) -> PathBuf {
    let text = format!(
        "compatibility: whitetank\n\
         totem {{\n        version: 2\n        secauth: on\n        threads: 0\n        token: {TOKEN_MS}\n        keyfile: {key}\n        interface {{\n                ringnumber: 0\n                bindnetaddr: {subnet}.0\n                mcastaddr: 226.94.1.1\n                mcastport: 5405\n                ttl: 1\n        }}\n}}\n\
         logging {{\n        to_stderr: no\n        to_syslog: yes\n        timestamp: on\n}}\n\
         service {{\n  ver:  0\n  name: pacemaker\n}}\n\
         aisexec {{\n  user: root\n  group:  root\n}}\n\
         amf {{\n        mode: disabled\n}}\n",
        key = dir.join("authkey").display(),
        subnet = net.subnet(0),
    );
    write(dir, "whitetank.conf", &text)
}

/// A corosync 2.x config: udpu with the members listed in the interface,
/// votequorum.
fn udpu(net: &Net, dir: &Path) -> PathBuf {
    let members: String = (1..=net.node_count())
        .map(|n| format!("                member {{\n                        memberaddr: {}\n                }}\n", net.addr(n)))
        .collect();
    let text = format!(
        "totem {{\n        version: 2\n        token: {TOKEN_MS}\n        transport: udpu\n        interface {{\n                ringnumber: 0\n                bindnetaddr: {subnet}.0\n                mcastport: 5405\n{members}        }}\n}}\n\
         quorum {{\n        provider: corosync_votequorum\n        expected_votes: 3\n}}\n",
        subnet = net.subnet(0),
    );
    write(dir, "udpu.conf", &text)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write corosync.conf");
    path
}

/// The names the cluster knows its nodes by, node 1 first.
fn names(stack: &Stack) -> Vec<String> {
    let status = stack.wait_for(1, "every node online", |s| {
        s["nodes"]
            .as_array()
            .is_some_and(|n| n.len() == 3 && n.iter().all(|n| n["state"] == "online"))
    });
    let mut nodes: Vec<(u64, String)> = status["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| {
            let id = n["id"].as_str()?.parse().ok()?;
            Some((id, n["name"].as_str()?.to_owned()))
        })
        .collect();
    nodes.sort();
    let names: Vec<String> = nodes.into_iter().map(|(_, name)| name).collect();
    let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(distinct.len(), 3, "every node has its own name: {names:?}");
    names
}

/// Starts the cluster, runs the address; prints the timeline.
fn address_from(
    generation: &str,
    write: impl FnOnce(&Net, &Path) -> PathBuf,
) -> Option<(Stack, String, usize, Instant)> {
    if !agents_installed() {
        return None;
    }
    let began = Instant::now();
    let stack = Stack::start_with_config(3, write)?;
    let names = names(&stack);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let formed = began.elapsed();
    let (vip, holder) = start_vip(&stack, &names);
    eprintln!(
        "{generation}: ring and DC in {formed:?} (nodes {names:?}); {vip} answers from {} after {:?}",
        names[holder - 1],
        began.elapsed()
    );
    Some((stack, vip, holder, began))
}

#[test]
fn a_corosync_1_whitetank_cluster_runs_the_address_and_a_node_cut_off_stops_it() {
    let Some((stack, vip, holder, began)) = address_from("1.x whitetank", whitetank) else {
        return;
    };
    stack.net.cut(holder);
    let others: Vec<usize> = (1..=3).filter(|n| *n != holder).collect();
    wait_until(&stack, "the cut-off node released the address", || {
        !stack.net.holds_address(holder, &vip)
    });
    let alone = stack.wait_for(holder, "the cut-off node sees no quorum", |s| {
        s["quorate"] == false
    });
    assert_eq!(alone["quorate"], false);
    wait_until(&stack, "one of the others holds the address", || {
        holders(&stack, &vip, &others).len() == 1
    });
    wait_until(&stack, "the address answers", || answers(&stack, &vip));
    eprintln!(
        "1.x whitetank: node {holder} cut off, address recovered by the others after {:?}",
        began.elapsed()
    );
}

#[test]
fn a_corosync_2_udpu_cluster_runs_the_address() {
    let Some((stack, vip, holder, _)) = address_from("2.x udpu", udpu) else {
        return;
    };
    assert_eq!(holders(&stack, &vip, &[1, 2, 3]), [holder]);
}

#[test]
fn a_corosync_3_knet_cluster_with_crypto_runs_the_address() {
    let knet = |net: &Net, dir: &Path| cluster::write_config(net, &dir.join("authkey"));
    let Some((stack, vip, holder, _)) = address_from("3.x knet", knet) else {
        return;
    };
    assert_eq!(holders(&stack, &vip, &[1, 2, 3]), [holder]);
}
