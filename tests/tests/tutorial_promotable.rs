//! The DRBD tutorial's shape on three real nodes in network namespaces: a
//! promotable clone of the real `ocf:pacemaker:Stateful` (which sets its
//! promotion score with `crm_attribute --promotion`, answered by baton's
//! drop-in tool) with `notify=true`, and a file system colocated with the
//! Promoted instance and started after `promote`. One instance is promoted
//! and the file system follows it; when its node dies the survivor's
//! instance is promoted and the file system moves there; two instances are
//! never promoted at once.

#[path = "ring/cluster.rs"]
mod cluster;
#[path = "ring/netns.rs"]
mod netns;
#[path = "crmd/stack.rs"]
mod stack;
#[path = "crmd/vip.rs"]
mod vip;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use stack::*;
use vip::*;

fn mounted(stack: &Stack, node: usize, dir: &str) -> bool {
    let lrmd = stack.pid(node, Daemon::Lrmd);
    std::fs::read_to_string(format!("/proc/{lrmd}/mounts"))
        .is_ok_and(|m| m.lines().any(|l| l.split(' ').nth(1) == Some(dir)))
}

#[test]
fn one_instance_is_promoted_the_file_system_follows_it_and_moves_when_its_node_dies() {
    let stateful = "/usr/lib/ocf/resource.d/pacemaker/Stateful";
    let prerequisites = agents_installed()
        && baton_tests::require_package(
            "pacemaker-resource-agents",
            stateful,
            "run ocf:pacemaker:Stateful",
        )
        && baton_tests::require_package("kmod", "/sbin/modprobe", "run ocf:heartbeat:Filesystem");
    if !prerequisites {
        return;
    }
    let Some(mut stack) = Stack::start(3) else {
        return;
    };
    let began = Instant::now();
    stack.wait_for_agreed_dc(&[1, 2, 3], &ALL);
    let data_dir = stack.dir.path().join("data");
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let data_dir = data_dir.to_str().expect("utf-8").to_owned();
    configure(&stack, &["property", "stonith-enabled=false"]);
    let lines = [
        "primitive data ocf:pacemaker:Stateful op monitor interval=1s role=Promoted op monitor interval=2s role=Unpromoted".to_owned(),
        "ms data-ms data meta promoted-max=1 promoted-node-max=1 clone-max=3 clone-node-max=1 notify=true".to_owned(),
        format!("primitive fs ocf:heartbeat:Filesystem params device=tmpfs fstype=tmpfs directory={data_dir} op monitor interval=1s"),
        "colocation fs-on-promoted inf: fs data-ms:Promoted".to_owned(),
        "order fs-after-promote Mandatory: data-ms:promote fs:start".to_owned(),
    ];
    for line in &lines {
        let words: Vec<&str> = line.split(' ').collect();
        configure(&stack, &words);
    }
    let status = stack.wait_for(1, "one instance promoted", |s| {
        find_resource(&s["resources"], "data-ms").is_some_and(|r| {
            r["children"].as_array().is_some_and(|c| {
                c.iter().filter(|i| i["role"] == "Promoted").count() == 1
                    && c.iter().filter(|i| i["role"] == "Unpromoted").count() == 2
            })
        })
    });
    let instances = find_resource(&status["resources"], "data-ms").expect("data-ms")["children"]
        .as_array()
        .expect("instances")
        .clone();
    let promoted_on = instances
        .iter()
        .find(|i| i["role"] == "Promoted")
        .and_then(|i| i["nodes"][0].as_str())
        .map(node_index)
        .expect("a promoted instance");
    wait_until(&stack, "the file system on the promoted node", || {
        mounted(&stack, promoted_on, &data_dir)
    });
    eprintln!(
        "timeline: data promoted on n{promoted_on}, fs mounted there after {:?}",
        began.elapsed()
    );

    // Never two promoted: sampled from the promotion scores the agents set.
    let stop = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicUsize::new(0));
    let two_promoted = Arc::new(std::sync::Mutex::new(None::<String>));
    let sampler = {
        let (stop, most, two) = (
            Arc::clone(&stop),
            Arc::clone(&most),
            Arc::clone(&two_promoted),
        );
        // Asked of a node that stays up: the promoted one is powered off.
        let watcher = (1..=3).find(|n| *n != promoted_on).expect("another node");
        let socket_dir = stack.socket_dir(watcher);
        let bin = stack.bin_dir().join("baton");
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let out = std::process::Command::new(&bin)
                    .arg("--socket-dir")
                    .arg(&socket_dir)
                    .args(["--output", "json", "status"])
                    .output();
                if let Some(status) = out
                    .ok()
                    .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
                {
                    let count = find_resource(&status["resources"], "data-ms")
                        .and_then(|r| r["children"].as_array().cloned())
                        .unwrap_or_default()
                        .iter()
                        .filter(|i| i["role"] == "Promoted")
                        .count();
                    if count > 1
                        && let Ok(mut seen) = two.lock()
                    {
                        seen.get_or_insert_with(|| status.to_string());
                    }
                    most.fetch_max(count, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    stack.power_off(promoted_on);
    let survivors: Vec<usize> = (1..=3).filter(|n| *n != promoted_on).collect();
    let survivor = *survivors.first().expect("a survivor");
    let status = stack.wait_for(survivor, "a survivor's instance promoted", |s| {
        find_resource(&s["resources"], "data-ms").is_some_and(|r| {
            r["children"].as_array().is_some_and(|c| {
                c.iter().any(|i| {
                    i["role"] == "Promoted"
                        && i["nodes"][0]
                            .as_str()
                            .is_some_and(|n| node_index(n) != promoted_on)
                })
            })
        })
    });
    let now_promoted = find_resource(&status["resources"], "data-ms").expect("data-ms")["children"]
        .as_array()
        .expect("instances")
        .iter()
        .find(|i| {
            i["role"] == "Promoted"
                && i["nodes"][0]
                    .as_str()
                    .is_some_and(|n| node_index(n) != promoted_on)
        })
        .and_then(|i| i["nodes"][0].as_str())
        .map(node_index)
        .expect("promoted");
    wait_until(&stack, "the file system followed the promotion", || {
        mounted(&stack, now_promoted, &data_dir)
    });
    stop.store(true, Ordering::Relaxed);
    sampler.join().expect("the sampler ran");
    assert_eq!(
        most.load(Ordering::Relaxed),
        1,
        "never two promoted at once: {:?}",
        two_promoted.lock().map(|s| s.clone())
    );
    eprintln!(
        "timeline: n{promoted_on} powered off, n{now_promoted} promoted with fs after {:?}",
        began.elapsed()
    );
}
