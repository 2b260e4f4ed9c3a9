//! Resources on real nodes in network namespaces (ringd, lrmd and crmd on
//! each, the Debian resource agents): a floating address starts on exactly
//! one node and answers; it is restarted in place when removed behind the
//! cluster's back; it answers from a survivor when its node dies; a node
//! cut off alone stops it while the others recover it; a node asked to stop
//! hands it over first. Judged by the address answering a ping from the
//! bridge and by `baton status`, never by log lines.

#[path = "ring/cluster.rs"]
mod cluster;
#[path = "ring/netns.rs"]
mod netns;
#[path = "crmd/stack.rs"]
mod stack;
#[path = "crmd/vip.rs"]
mod vip;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use stack::*;
use vip::*;

/// Samples every 50 ms which live nodes hold `addr`; the most at once.
struct Sampler {
    stop: Arc<AtomicBool>,
    /// A node that is no longer live (powered off), or 0.
    dead: Arc<AtomicUsize>,
    thread: std::thread::JoinHandle<usize>,
}

impl Sampler {
    fn start(stack: &Stack, addr: &str) -> Sampler {
        Sampler::watching_fencing(stack, addr, None)
    }

    /// Also counts a node as dead from the moment `fence_netns` recorded
    /// fencing it in `fence_dir`.
    fn watching_fencing(stack: &Stack, addr: &str, fence_dir: Option<PathBuf>) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let dead = Arc::new(AtomicUsize::new(0));
        let namespaces: Vec<String> = (1..=stack.nodes())
            .map(|n| stack.net.namespace(n))
            .collect();
        let (stop_flag, dead_node, addr) = (Arc::clone(&stop), Arc::clone(&dead), addr.to_owned());
        let thread = std::thread::spawn(move || {
            let mut most = 0;
            loop {
                // One whole sample after the stop is asked, so the result
                // always covers the state the test last confirmed.
                let stopping = stop_flag.load(Ordering::Relaxed);
                let dead = dead_node.load(Ordering::Relaxed);
                let held = namespaces
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i + 1 != dead)
                    .filter(|(i, _)| {
                        fence_dir
                            .as_ref()
                            .is_none_or(|d| !d.join(format!("n{}.fenced", i + 1)).exists())
                    })
                    .filter(|(_, ns)| netns::namespace_holds_address(ns, &addr))
                    .count();
                most = most.max(held);
                if stopping {
                    return most;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Sampler { stop, dead, thread }
    }

    fn most_at_once(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the sampler ran")
    }
}

#[test]
fn a_floating_address_runs_on_exactly_one_node_and_answers() {
    let Some((stack, vip, holder)) = cluster_with_vip() else {
        return;
    };
    assert_eq!(holders(&stack, &vip, &[1, 2, 3]), [holder]);
    for node in 1..=3 {
        assert_eq!(
            stack.running_on(node, "vip"),
            Some(vec![format!("n{holder}")]),
            "node {node}'s status"
        );
    }
    let text = stdout(&stack.baton(2, &["status"]));
    assert!(
        text.contains(&format!(
            "vip\t(ocf:heartbeat:IPaddr2):\t Started n{holder}"
        )),
        "{text}"
    );

    // What an agent sees through crm_resource, and what it may change.
    let crm_resource = |args: &[&str]| {
        let link = stack.dir.path().join("crm_resource");
        if !link.exists() {
            std::os::unix::fs::symlink(stack.bin_dir().join("baton"), &link).expect("link");
        }
        let out = std::process::Command::new(&link)
            .args(args)
            .env("BATON_SOCKET_DIR", stack.socket_dir(2))
            .output()
            .expect("run crm_resource");
        assert!(out.status.success(), "crm_resource {args:?}: {out:?}");
        stdout(&out).trim_end().to_owned()
    };
    assert_eq!(
        crm_resource(&["-W", "-r", "vip"]),
        format!("resource vip is running on: n{holder}")
    );
    crm_resource(&[
        "-r",
        "vip",
        "-m",
        "-p",
        "description",
        "-v",
        "the floating address",
    ]);
    assert_eq!(
        crm_resource(&["-Q", "-r", "vip", "-m", "-g", "description"]),
        "the floating address"
    );
    crm_resource(&["-r", "vip", "-m", "-d", "description"]);
    assert!(
        !stack.cib(1).contains("the floating address"),
        "deleted everywhere"
    );
}

/// Someone removes the address from `node` behind the cluster's back.
fn remove_address(stack: &Stack, node: usize, vip: &str) {
    let device = netns::Net::device(0);
    stack.net.run_in(
        node,
        &["ip", "addr", "del", &format!("{vip}/24"), "dev", &device],
    );
}

/// Waits until every node's status counts `count` failures of vip on
/// `node`; the status that did.
fn wait_for_fail_count(stack: &Stack, node: usize, count: &str) -> serde_json::Value {
    let what = format!("{count} failures of vip on n{node} counted");
    stack.wait_for(1, &what, |s| {
        s["fail_counts"].as_array().is_some_and(|counts| {
            counts.iter().any(|c| {
                c["resource"] == "vip" && c["node"] == format!("n{node}") && c["count"] == count
            })
        })
    })
}

#[test]
fn an_address_removed_behind_the_clusters_back_comes_back_in_place() {
    let Some((stack, vip, holder)) = cluster_with_vip() else {
        return;
    };
    remove_address(&stack, holder, &vip);
    let failed = wait_for_fail_count(&stack, holder, "1");
    assert!(
        failed["failed_actions"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{failed}"
    );
    wait_until(&stack, "the address is back where it was", || {
        holders(&stack, &vip, &[1, 2, 3]) == [holder]
    });
    wait_until(&stack, "the address answers", || answers(&stack, &vip));
}

#[test]
fn when_its_node_dies_the_address_answers_from_a_survivor_and_never_from_two() {
    let Some((mut stack, vip, holder)) = cluster_with_vip() else {
        return;
    };
    let sampler = Sampler::start(&stack, &vip);
    sampler.dead.store(holder, Ordering::Relaxed);
    stack.power_off(holder);
    let survivors: Vec<usize> = (1..=3).filter(|n| *n != holder).collect();
    let took = wait_until(
        &stack,
        "a survivor holds the address and it answers",
        || holders(&stack, &vip, &survivors).len() == 1 && answers(&stack, &vip),
    );
    assert_eq!(sampler.most_at_once(), 1, "two live nodes held the address");
    // Membership detection alone takes token + consensus (3.6 s here).
    assert!(took < Duration::from_secs(8), "failover took {took:?}");
}

#[test]
fn a_node_cut_off_alone_stops_the_address_and_the_others_recover_it() {
    let Some((stack, vip, holder)) = cluster_with_vip() else {
        return;
    };
    // Cut at the switch: it forms a ring alone, without quorum.
    stack.net.cut(holder);
    let others: Vec<usize> = (1..=3).filter(|n| *n != holder).collect();
    wait_until(&stack, "the cut-off node released the address", || {
        !stack.net.holds_address(holder, &vip)
    });
    wait_until(&stack, "one of the others holds the address", || {
        holders(&stack, &vip, &others).len() == 1
    });
    let alone = stack.wait_for(holder, "the cut-off node sees no quorum", |s| {
        s["quorate"] == false
    });
    assert!(
        find_resource(&alone["resources"], "vip")
            .is_some_and(|r| r["nodes"].as_array().is_some_and(Vec::is_empty)),
        "{alone}"
    );
}

#[test]
fn a_node_asked_to_stop_hands_its_address_over_first() {
    let Some((mut stack, vip, holder)) = cluster_with_vip() else {
        return;
    };
    let sampler = Sampler::start(&stack, &vip);
    stack.terminate(holder, Daemon::Crmd, SETTLE);
    // crmd exited once its node's stops were done; the start elsewhere
    // may still be running.
    assert!(!stack.net.holds_address(holder, &vip));
    let others: Vec<usize> = (1..=3).filter(|n| *n != holder).collect();
    wait_until(&stack, "another node holds the address", || {
        holders(&stack, &vip, &others).len() == 1
    });
    assert_eq!(sampler.most_at_once(), 1);
    let other = others[0];
    let status = stack.wait_for(other, "the stopped node is offline", |s| {
        s["nodes"].as_array().is_some_and(|nodes| {
            nodes
                .iter()
                .any(|n| n["name"] == format!("n{holder}") && n["state"] == "offline")
        })
    });
    assert!(
        !status["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n["state"] == "unclean")),
        "a clean stop leaves no node unclean: {status}"
    );
}

#[test]
fn a_group_runs_its_members_together_in_order() {
    let Some((stack, vip, _)) = cluster_with_vip() else {
        return;
    };
    configure(
        &stack,
        &[
            "primitive",
            "web",
            "ocf:heartbeat:Dummy",
            "op",
            "monitor",
            "interval=1s",
        ],
    );
    configure(&stack, &["group", "site", "vip", "web"]);
    // web may have started elsewhere before the group was written: the
    // group then brings it to vip.
    stack.wait_for(2, "the group's members together on one node", |s| {
        let nodes = |id: &str| find_resource(&s["resources"], id).map(|r| r["nodes"].clone());
        let web = nodes("web");
        web.as_ref()
            .is_some_and(|w| w.as_array().is_some_and(|a| a.len() == 1))
            && web == nodes("vip")
    });
    wait_until(&stack, "the address answers", || answers(&stack, &vip));
}

#[test]
fn after_migration_threshold_failures_the_address_moves() {
    let Some((stack, vip, holder)) = cluster_with_vip() else {
        return;
    };
    configure(&stack, &["rsc_defaults", "migration-threshold=2"]);
    remove_address(&stack, holder, &vip);
    wait_for_fail_count(&stack, holder, "1");
    wait_until(&stack, "the address is back where it was", || {
        holders(&stack, &vip, &[1, 2, 3]) == [holder]
    });
    let sampler = Sampler::start(&stack, &vip);
    remove_address(&stack, holder, &vip);
    wait_for_fail_count(&stack, holder, "2");
    let others: Vec<usize> = (1..=3).filter(|n| *n != holder).collect();
    wait_until(&stack, "another node holds the address", || {
        holders(&stack, &vip, &others).len() == 1
    });
    wait_until(&stack, "the address answers", || answers(&stack, &vip));
    assert!(!stack.net.holds_address(holder, &vip));
    assert_eq!(sampler.most_at_once(), 1, "two nodes held the address");
}

#[test]
fn a_cleanup_forgets_the_failure_and_the_address_returns_to_its_preferred_node() {
    let Some((stack, vip, holder)) = cluster_with_vip() else {
        return;
    };
    let node = format!("n{holder}");
    configure(&stack, &["rsc_defaults", "migration-threshold=1"]);
    configure(&stack, &["location", "prefer-home", "vip", "100:", &node]);
    remove_address(&stack, holder, &vip);
    wait_for_fail_count(&stack, holder, "1");
    let others: Vec<usize> = (1..=3).filter(|n| *n != holder).collect();
    wait_until(&stack, "another node holds the address", || {
        holders(&stack, &vip, &others).len() == 1
    });
    let shown = stack.baton(2, &["resource", "failcount", "vip", "show", &node]);
    ok(&stack, &shown);
    assert_eq!(
        stdout(&shown).trim(),
        "scope=status  name=fail-count-vip value=1"
    );
    let cleaned = stack.baton(2, &["resource", "cleanup", "vip"]);
    ok(&stack, &cleaned);
    assert_eq!(stdout(&cleaned).trim(), format!("Cleaned up vip on {node}"));
    wait_until(&stack, "the address is back on its preferred node", || {
        holders(&stack, &vip, &[1, 2, 3]) == [holder]
    });
    wait_until(&stack, "the address answers", || answers(&stack, &vip));
    let status = stack.status(1).expect("n1's status");
    assert_eq!(status["fail_counts"], serde_json::json!([]), "{status}");
    assert_eq!(status["failed_actions"], serde_json::json!([]), "{status}");
    let again = stack.baton(3, &["resource", "cleanup", "vip"]);
    ok(&stack, &again);
    assert!(
        stdout(&again).starts_with("Nothing to clean up"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn a_restart_stops_the_address_everywhere_then_starts_it_once() {
    let Some((stack, vip, _)) = cluster_with_vip() else {
        return;
    };
    let gone = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (gone, namespaces) = (Arc::clone(&gone), (1..=3).map(|n| stack.net.namespace(n)));
        let namespaces: Vec<String> = namespaces.collect();
        let vip = vip.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !gone.load(Ordering::Relaxed) && Instant::now() < deadline {
                let held = namespaces
                    .iter()
                    .any(|ns| netns::namespace_holds_address(ns, &vip));
                gone.store(!held, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    ok(&stack, &stack.baton(2, &["resource", "restart", "vip"]));
    watcher.join().expect("the watcher ran");
    assert!(
        gone.load(Ordering::Relaxed),
        "the address was never down during the restart"
    );
    assert_eq!(holders(&stack, &vip, &[1, 2, 3]).len(), 1);
    wait_until(&stack, "the address answers", || answers(&stack, &vip));
}

#[test]
fn a_restarted_lrmd_keeps_the_address_and_watches_it_again() {
    let Some((mut stack, vip, holder)) = cluster_with_vip() else {
        return;
    };
    // Its start is over once its monitor is recorded.
    wait_until(&stack, "the address is monitored", || {
        operation_of(&stack.cib(1), holder, "vip_monitor_1000").is_some()
    });
    let sampler = Sampler::start(&stack, &vip);
    stack.kill9(holder, Daemon::Lrmd);
    stack.start_daemon(holder, Daemon::Lrmd);
    // The new lrmd knows nothing: the cluster probes the node again and
    // finds the address running, so its last operation is that probe.
    wait_until(&stack, "the holder's address was probed again", || {
        operation_of(&stack.cib(1), holder, "vip_last_0").as_deref() == Some("monitor")
    });
    wait_until(&stack, "the address is monitored again", || {
        operation_of(&stack.cib(1), holder, "vip_monitor_1000").is_some()
    });
    assert_eq!(holders(&stack, &vip, &[1, 2, 3]), [holder]);
    assert_eq!(sampler.most_at_once(), 1);
    // And its monitor runs again: a removed address is noticed.
    remove_address(&stack, holder, &vip);
    wait_for_fail_count(&stack, holder, "1");
    wait_until(&stack, "the address is back where it was", || {
        holders(&stack, &vip, &[1, 2, 3]) == [holder]
    });
}

/// The operation the history entry `id` of `node` records in `cib`.
fn operation_of(cib: &str, node: usize, id: &str) -> Option<String> {
    let state = cib
        .split("<node_state")
        .skip(1)
        .find(|s| s.contains(&format!("uname=\"n{node}\"")))?;
    let op = state
        .split("<lrm_rsc_op")
        .find(|op| op.trim_start().starts_with(&format!("id=\"{id}\"")))?;
    let value = op.split("operation=\"").nth(1)?;
    Some(value.split('"').next()?.to_owned())
}

#[test]
fn location_and_stickiness_decide_whether_the_address_comes_back() {
    let Some((mut stack, vip, holder)) = cluster_with_vip() else {
        return;
    };
    let home = format!("n{holder}");
    configure(&stack, &["location", "vip-home", "vip", "100:", &home]);
    let survivors: Vec<usize> = (1..=3).filter(|n| *n != holder).collect();
    let observer = survivors[0];
    stack.power_off(holder);
    wait_until(&stack, "a survivor holds the address", || {
        holders(&stack, &vip, &survivors).len() == 1
    });
    stack.power_on(holder);
    wait_until(&stack, "without stickiness it goes back home", || {
        holders(&stack, &vip, &[1, 2, 3]) == [holder]
    });
    // Stickiness above the preference: it stays where it is.
    configure(&stack, &["rsc_defaults", "resource-stickiness=200"]);
    stack.power_off(holder);
    wait_until(&stack, "a survivor holds the address again", || {
        holders(&stack, &vip, &survivors).len() == 1
    });
    let away = holders(&stack, &vip, &survivors);
    stack.power_on(holder);
    stack.wait_for(observer, "the home node is back online", |s| {
        online_names(s).contains(&home)
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(holders(&stack, &vip, &[1, 2, 3]), away, "it stayed");
    wait_until(&stack, "the address answers", || answers(&stack, &vip));
}

#[test]
fn a_node_cut_off_is_fenced_once_and_only_then_its_address_runs_elsewhere() {
    if !agents_installed() {
        return;
    }
    let Some(mut stack) = Stack::start(3) else {
        return;
    };
    stack.wait_for_dc(&[1, 2, 3], "n1", &ALL);
    stack.net.address_bridge();
    let fence_dir = stack.install_fence_agent();
    let vip = configure_fenced_vip(&stack, &fence_dir, "n1 n2 n3");
    let holder = node_index(&stack.wait_until_running(1, "vip"));
    wait_until(&stack, "the address answers", || answers(&stack, &vip));
    let sampler = Sampler::watching_fencing(&stack, &vip, Some(fence_dir.clone()));
    // Alive but unreachable: only fencing makes it safe to start elsewhere.
    stack.net.cut(holder);
    let others: Vec<usize> = (1..=3).filter(|n| *n != holder).collect();
    wait_until(
        &stack,
        "a survivor holds the address and it answers",
        || holders(&stack, &vip, &others).len() == 1 && answers(&stack, &vip),
    );
    let record = |node: usize| std::fs::read_to_string(fence_dir.join(format!("n{node}.fenced")));
    assert_eq!(
        record(holder).map(|r| r.lines().count()).ok(),
        Some(1),
        "the cut-off node was fenced exactly once"
    );
    for node in &others {
        assert!(record(*node).is_err(), "n{node} was fenced");
    }
    assert_eq!(sampler.most_at_once(), 1, "two live nodes held the address");

    // Every survivor can tell, even one whose fencer restarted without
    // its own record: the fencers share their history.
    let target = format!("n{holder}");
    for node in &others {
        wait_until(
            &stack,
            "the survivor's fence history tells the fencing",
            || history_tells_fencing(&stack, *node, &target),
        );
    }
    let restarted = others[1];
    stack.kill9(restarted, Daemon::Fenced);
    std::fs::remove_file(stack.state_dir(restarted).join("fence-history"))
        .expect("the fencer kept its history on disk");
    stack.start_daemon(restarted, Daemon::Fenced);
    wait_until(
        &stack,
        "a restarted fencer learns the history from its peers",
        || history_tells_fencing(&stack, restarted, &target),
    );
}

#[test]
fn when_fencing_fails_the_address_stays_down_and_the_status_says_why() {
    if !agents_installed() {
        return;
    }
    let Some(stack) = Stack::start(3) else {
        return;
    };
    stack.wait_for_dc(&[1, 2, 3], "n1", &ALL);
    stack.net.address_bridge();
    let fence_dir = stack.install_fence_agent();
    // The agent finds no description of the nodes there: every fencing fails.
    let vip = configure_fenced_vip(&stack, &fence_dir.join("nowhere"), "n1 n2 n3");
    configure(&stack, &["location", "vip-on-n3", "vip", "100:", "n3"]);
    wait_until(&stack, "the address answers from n3", || {
        holders(&stack, &vip, &[1, 2, 3]) == [3] && answers(&stack, &vip)
    });

    stack.net.cut(3);
    wait_until(&stack, "the status tells the failed fencing", || {
        let out = stack.baton(1, &["status"]);
        stdout(&out).contains("Failed Fencing Actions:\n  * reboot of n3 failed (")
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        holders(&stack, &vip, &[1, 2]).is_empty(),
        "the address started elsewhere although n3 was never fenced"
    );
}

#[test]
fn a_fencing_the_dcs_node_may_not_carry_out_is_handed_to_another_nodes_fencer() {
    if !agents_installed() {
        return;
    }
    let Some(stack) = Stack::start(3) else {
        return;
    };
    stack.wait_for_dc(&[1, 2, 3], "n1", &ALL);
    stack.net.address_bridge();
    let fence_dir = stack.install_fence_agent();
    let vip = configure_fenced_vip(&stack, &fence_dir, "n1 n2 n3");
    // The DC's node may not run the only device.
    configure(
        &stack,
        &["location", "fencer-not-on-n1", "fencer", "-inf:", "n1"],
    );
    configure(&stack, &["location", "vip-on-n3", "vip", "100:", "n3"]);
    wait_until(&stack, "the address answers from n3", || {
        holders(&stack, &vip, &[1, 2, 3]) == [3] && answers(&stack, &vip)
    });

    stack.net.cut(3);
    wait_until(
        &stack,
        "a survivor holds the address and it answers",
        || holders(&stack, &vip, &[1, 2]).len() == 1 && answers(&stack, &vip),
    );
    let told = stdout(&stack.baton(1, &["fence", "history", "n3"]));
    assert!(
        told.starts_with("reboot of n3 by n2 for baton-crmd.")
            && told.contains("@n1 successful at "),
        "n1 asked, n2 carried it out: {told}"
    );
    assert_eq!(
        std::fs::read_to_string(fence_dir.join("n3.fenced"))
            .map(|r| r.lines().count())
            .ok(),
        Some(1),
        "fenced once"
    );
}

/// Whether `baton fence history TARGET` on `node` tells of a successful
/// reboot of it, by some node.
fn history_tells_fencing(stack: &Stack, node: usize, target: &str) -> bool {
    let text = stdout(&stack.baton(node, &["fence", "history", target]));
    text.starts_with(&format!("reboot of {target} by n")) && text.contains(" successful at ")
}

#[test]
fn node_maintenance_ready_and_list_read_like_crmsh_and_online_refuses_an_offline_node() {
    let Some((mut stack, vip, holder)) = cluster_with_vip() else {
        return;
    };
    let node = format!("n{holder}");
    ok(&stack, &stack.baton(2, &["node", "maintenance", &node]));
    stack.wait_for(1, "the node in maintenance", |s| {
        s["nodes"].as_array().is_some_and(|n| {
            n.iter()
                .any(|n| n["name"] == node && n["state"] == "maintenance")
        })
    });
    let listed = stdout(&stack.baton(3, &["node", "list"]));
    assert!(
        listed.contains(&format!("{node}({holder}): maintenance")),
        "{listed}"
    );
    assert_eq!(holders(&stack, &vip, &[1, 2, 3]), [holder], "left alone");
    ok(&stack, &stack.baton(2, &["node", "ready", &node]));
    stack.wait_for(1, "the node ready", |s| {
        s["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().all(|n| n["state"] == "online"))
    });
    let other = if holder == 3 { 2 } else { 3 };
    stack.power_off(other);
    let offline = format!("n{other}");
    stack.wait_for(1, "the node offline", |s| {
        s["nodes"].as_array().is_some_and(|n| {
            n.iter()
                .any(|n| n["name"] == offline && n["state"] == "offline")
        })
    });
    let refused = stack.baton(1, &["node", "online", &offline]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("is offline"),
        "{}",
        stderr(&refused)
    );
}
