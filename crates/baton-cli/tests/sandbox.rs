//! `baton sandbox` as a newcomer runs it: a three-node cluster on this
//! machine whose web page answers from one node, answers from another when
//! that node dies (which its fence device reboots), fences a node when
//! asked (`baton node fence`), moves it off a node in standby, and leaves
//! nothing behind.

#[path = "support/isolated.rs"]
mod isolated;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use isolated::{BATON, Isolated, prerequisites, web_node};

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Processes whose command line names `dir`: what the sandbox started.
fn processes_under(dir: &Path) -> Vec<u32> {
    let wanted = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&wanted))
        })
        .collect()
}

#[test]
fn the_sandbox_serves_the_web_page_fails_over_when_its_node_dies_and_leaves_nothing() {
    if !prerequisites() {
        return;
    }
    let sandbox = Isolated::new();
    let began = Instant::now();
    let up = sandbox.baton(&["sandbox", "up", "--nodes", "3"]);
    assert!(up.status.success(), "{}", text(&up));
    println!("sandbox up in {:?}", began.elapsed());
    let first = web_node(&up);
    let page = sandbox
        .fetch(first)
        .expect("the web page answers where up said");
    assert!(page.contains(&format!("served by node{first}")), "{page}");

    let status = sandbox.baton(&["--node", "1", "status", "--output", "json"]);
    assert!(status.status.success(), "{}", text(&status));
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("json");
    let online = json["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["state"] == "online")
        .count();
    assert_eq!(online, 3, "{json}");

    let kill = sandbox.baton(&["sandbox", "kill", &first.to_string()]);
    assert!(kill.status.success(), "{}", text(&kill));
    let killed = Instant::now();
    let others: Vec<u32> = (1..=3).filter(|n| *n != first).collect();
    let moved_to = loop {
        let answering: Vec<u32> = others
            .iter()
            .copied()
            .filter(|n| sandbox.fetch(*n).is_some())
            .collect();
        assert!(
            answering.len() <= 1,
            "the web page answers on {answering:?} at once"
        );
        if let Some(node) = answering.first() {
            break *node;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(20),
            "the web page never answered from a survivor"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    println!(
        "node{first} killed → web answers from node{moved_to} after {:?}",
        killed.elapsed()
    );

    // The fence device rebooted it: it comes back by itself.
    let back = loop {
        let status = sandbox.baton(&["sandbox", "status", "--output", "json"]);
        let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("json");
        let daemons = json["nodes"][first as usize - 1]["daemons"]
            .as_array()
            .map_or(0, Vec::len);
        if daemons == 4 {
            break killed.elapsed();
        }
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "node{first} never came back after its reboot: {json}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    println!("node{first} back after {back:?}");
    // Its rejoin makes a join round; a write during one is refused (and
    // said so): wait until the cluster shows it online again.
    let online = |status: &Output| {
        serde_json::from_slice::<serde_json::Value>(&status.stdout).is_ok_and(|json| {
            json["nodes"]
                .as_array()
                .is_some_and(|nodes| nodes.iter().filter(|n| n["state"] == "online").count() == 3)
                && json["dc"].is_string()
        })
    };
    while !online(&sandbox.baton(&[
        "--node",
        &moved_to.to_string(),
        "status",
        "--output",
        "json",
    ])) {
        assert!(
            killed.elapsed() < Duration::from_secs(40),
            "node{first} never showed online again"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // `node fence` has the cluster fence a node with its own device.
    let victim = (1..=3).find(|n| *n != moved_to).expect("another node");
    let fence = sandbox.baton(&[
        "--node",
        &moved_to.to_string(),
        "node",
        "fence",
        &format!("node{victim}"),
        "--force",
    ]);
    assert!(fence.status.success(), "{}", text(&fence));
    let asked = Instant::now();
    loop {
        let status = sandbox.baton(&["sandbox", "status", "--output", "json"]);
        let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("json");
        if json["nodes"][victim as usize - 1]["daemons"]
            .as_array()
            .is_some_and(Vec::is_empty)
        {
            break;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(20),
            "node{victim} was never fenced: {json}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "node{victim} fenced {:?} after `node fence`",
        asked.elapsed()
    );
    assert!(
        sandbox.fetch(moved_to).is_some(),
        "the web page still answers from node{moved_to}"
    );

    // `node standby` (this node, by default) moves the web page away;
    // `node online` lets it come back, but stickiness keeps it where it is.
    let node = moved_to.to_string();
    let standby = sandbox.baton(&["--node", &node, "node", "standby"]);
    assert!(standby.status.success(), "{}", text(&standby));
    let asked = Instant::now();
    let elsewhere = loop {
        if let Some(other) = (1..=3)
            .filter(|n| *n != moved_to)
            .find(|n| sandbox.fetch(*n).is_some())
        {
            break other;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(20),
            "the web page never left node{moved_to} in standby"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(sandbox.fetch(moved_to).is_none(), "it left node{moved_to}");
    let online = sandbox.baton(&["--node", &node, "node", "online"]);
    assert!(online.status.success(), "{}", text(&online));
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        sandbox.fetch(elsewhere).is_some(),
        "stickiness keeps the web page on node{elsewhere}"
    );

    let dir = sandbox.sandbox_dir();
    let down = sandbox.baton(&["sandbox", "down"]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(!dir.exists(), "sandbox down removes {}", dir.display());
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_under(&dir).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        processes_under(&dir),
        Vec::<u32>::new(),
        "processes left behind"
    );
}

#[test]
fn without_a_sandbox_status_and_kill_say_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        Command::new(BATON)
            .arg("--sandbox-dir")
            .arg(dir.path().join("none"))
            .args(args)
            .output()
            .expect("run baton")
    };
    let status = run(&["sandbox", "status"]);
    assert_eq!(status.status.code(), Some(2), "{}", text(&status));
    assert!(
        String::from_utf8_lossy(&status.stderr).contains("baton sandbox up"),
        "{}",
        text(&status)
    );
    let kill = run(&["sandbox", "kill", "2"]);
    assert_eq!(kill.status.code(), Some(2), "{}", text(&kill));
    let node = run(&["--node", "7", "status"]);
    assert_eq!(node.status.code(), Some(2), "{}", text(&node));
    assert!(
        String::from_utf8_lossy(&node.stderr).contains("has no node7"),
        "{}",
        text(&node)
    );
}
