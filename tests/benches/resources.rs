//! Resources on three real nodes in network namespaces (ringd, lrmd, crmd
//! and fenced each, the Debian IPaddr2 agent): how long a floating address
//! is gone when the node holding it dies (DC or not) or is cut off and
//! fenced, from a cold start to the address answering, what crmd adds to a
//! restart after a failed monitor, and the daemons' memory. Failover is judged by pinging the address from
//! the bridge, as a client sees it.
//!
//! Needs root, `ip`, ping, resource-agents and release binaries:
//! `cargo build --release --workspace && cargo bench -p baton-tests --bench resources`
//! Options after `--`: `--runs N` (default 5).

#[path = "../tests/ring/cluster.rs"]
mod cluster;
#[path = "../tests/ring/netns.rs"]
mod netns;
#[path = "../tests/crmd/stack.rs"]
mod stack;
#[path = "../tests/crmd/vip.rs"]
mod vip;

use std::time::{Duration, Instant};

use stack::{Daemon, Stack};
use vip::{ALL, configure, configure_fenced_vip, configure_vip, node_index};

const NODES: usize = 3;

fn option(name: &str, default: usize) -> usize {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// One echo request with a 50 ms wait: the poll's resolution.
fn answers(stack: &Stack, addr: &str) -> bool {
    stack
        .net
        .succeeds_in_bridge(&["ping", "-c", "1", "-W", "0.05", addr])
}

fn wait_until(what: &str, within: Duration, done: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "never happened: {what}");
    }
    start.elapsed()
}

/// Puts the address on node `target` (a location preference) and waits
/// until it answers from there.
fn place_vip(stack: &Stack, vip: &str, target: usize) {
    configure(
        stack,
        &[
            "location",
            "vip-there",
            "vip",
            "100:",
            &format!("n{target}"),
        ],
    );
    wait_until("the address answers from its node", stack::SETTLE, || {
        stack.net.holds_address(target, vip) && answers(stack, vip)
    });
}

/// kill -9 of every daemon of the node holding the address, which is the
/// DC or not as asked (a location preference puts it there): the time
/// until the address answers again from the bridge.
fn failover(on_dc: bool) -> Option<Duration> {
    let mut stack = Stack::start(NODES)?;
    let dc = node_index(&stack.wait_for_agreed_dc(&[1, 2, 3], &ALL));
    let vip = configure_vip(&stack);
    let target = if on_dc { dc } else { dc % NODES + 1 };
    place_vip(&stack, &vip, target);
    let killed = Instant::now();
    stack.power_off(target);
    wait_until("the address answers from a survivor", stack::SETTLE, || {
        answers(&stack, &vip)
    });
    Some(killed.elapsed())
}

/// The node holding the address (not the DC) cut off the network while it
/// stays alive, with fencing (the tests' `fence_netns`): the time until the
/// address answers from a survivor, which waits for the fencing.
fn fenced_failover() -> Option<Duration> {
    let stack = Stack::start(NODES)?;
    let dc = node_index(&stack.wait_for_agreed_dc(&[1, 2, 3], &ALL));
    stack.net.address_bridge();
    let fence_dir = stack.install_fence_agent();
    let vip = configure_fenced_vip(&stack, &fence_dir, "n1 n2 n3");
    let target = dc % NODES + 1;
    place_vip(&stack, &vip, target);
    let cut = Instant::now();
    stack.net.cut(target);
    wait_until("the address answers from a survivor", stack::SETTLE, || {
        answers(&stack, &vip)
    });
    let took = cut.elapsed();
    assert!(
        fence_dir.join(format!("n{target}.fenced")).exists(),
        "the cut-off node was fenced"
    );
    Some(took)
}

/// Every node's ring up, then lrmd and crmd with a floating address in the
/// configuration on disk and running nowhere: the time until it answers.
fn cold_start() -> Option<Duration> {
    let mut stack = Stack::start(NODES)?;
    stack.wait_for_agreed_dc(&[1, 2, 3], &ALL);
    let vip = configure_vip(&stack);
    let holder = node_index(&stack.wait_until_running(1, "vip"));
    wait_until("the address answers", stack::SETTLE, || {
        answers(&stack, &vip)
    });
    for node in 1..=NODES {
        stack.crash(node);
        // Starting again waits for the sockets to appear: not the dead ones.
        for socket in ["ringd.sock", "lrmd.sock", "crmd.sock"] {
            let _ = std::fs::remove_file(stack.socket_dir(node).join(socket));
        }
    }
    let device = netns::Net::device(0);
    stack.net.run_in(
        holder,
        &["ip", "addr", "del", &format!("{vip}/24"), "dev", &device],
    );
    for node in 1..=NODES {
        stack.start_daemon(node, Daemon::Ringd);
    }
    for node in 1..=NODES {
        cluster::wait_for_quorate(
            &stack.bin_dir().join("baton-ringd"),
            stack.dir.path(),
            node,
            true,
            cluster::FORM,
        );
    }
    let started = Instant::now();
    for node in 1..=NODES {
        stack.start_daemon(node, Daemon::Lrmd);
        stack.start_daemon(node, Daemon::Crmd);
    }
    wait_until(
        "the address answers after the cold start",
        stack::SETTLE,
        || answers(&stack, &vip),
    );
    Some(started.elapsed())
}

/// A line of lrmd's log: its time (ms since midnight) and text.
fn lrmd_lines(stack: &Stack, node: usize) -> Vec<(f64, String)> {
    let log = stack.dir.path().join(format!("baton-lrmd{node}.1.log"));
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let time = line.split('T').nth(1)?.split('Z').next()?;
            let mut parts = time.split(':');
            let h: f64 = parts.next()?.parse().ok()?;
            let m: f64 = parts.next()?.parse().ok()?;
            let s: f64 = parts.next()?.parse().ok()?;
            Some(((h * 3600.0 + m * 60.0 + s) * 1000.0, line.to_owned()))
        })
        .collect()
}

fn exec_ms(line: &str) -> f64 {
    line.split("exec_ms=")
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The address removed behind the cluster's back, several times: from
/// lrmd's record of the failed monitor to its record of the finished
/// restart, less the stop's and the start's own time: what the cluster
/// adds (lrmd's log, as Pacemaker's figure comes from its logs).
fn restart_overheads(runs: usize) -> Option<Vec<f64>> {
    let stack = Stack::start(NODES)?;
    stack.wait_for_agreed_dc(&[1, 2, 3], &ALL);
    let vip = configure_vip(&stack);
    let holder = node_index(&stack.wait_until_running(1, "vip"));
    let mut overheads = Vec::new();
    for run in 0..runs {
        wait_until("the address is back", stack::SETTLE, || {
            stack.net.holds_address(holder, &vip)
        });
        std::thread::sleep(Duration::from_millis(1500));
        let seen = lrmd_lines(&stack, holder).len();
        let device = netns::Net::device(0);
        stack.net.run_in(
            holder,
            &["ip", "addr", "del", &format!("{vip}/24"), "dev", &device],
        );
        let lines = loop {
            let lines = lrmd_lines(&stack, holder);
            let done = lines[seen..]
                .iter()
                .any(|(_, l)| l.contains("action=start") && l.contains("finished"));
            if done {
                break lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let new = &lines[seen..];
        let failed = new
            .iter()
            .find(|(_, l)| l.contains("recurring action result changed") && l.contains("rc=7"));
        let stop = new
            .iter()
            .find(|(_, l)| l.contains("finished") && l.contains("action=stop"));
        let start = new
            .iter()
            .find(|(_, l)| l.contains("finished") && l.contains("action=start"));
        let (Some(failed), Some(stop), Some(start)) = (failed, stop, start) else {
            eprintln!("run {run}: lrmd's log lacks the failed monitor, stop or start");
            continue;
        };
        overheads.push(start.0 - failed.0 - exec_ms(&stop.1) - exec_ms(&start.1));
    }
    Some(overheads)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The RSS of a node's four daemons together, idle with the address
/// running, on a node and on the DC; and of a node's fenced alone.
fn memory() -> Option<(u64, u64, u64)> {
    let stack = Stack::start(NODES)?;
    let dc = node_index(&stack.wait_for_agreed_dc(&[1, 2, 3], &ALL));
    let vip = configure_vip(&stack);
    stack.wait_until_running(1, "vip");
    wait_until("the address answers", stack::SETTLE, || {
        answers(&stack, &vip)
    });
    std::thread::sleep(Duration::from_secs(3));
    let node_total = |node: usize| -> u64 {
        [Daemon::Ringd, Daemon::Lrmd, Daemon::Crmd, Daemon::Fenced]
            .iter()
            .map(|d| rss_kib(stack.pid(node, *d)))
            .sum()
    };
    let other = dc % NODES + 1;
    Some((
        node_total(other),
        node_total(dc),
        rss_kib(stack.pid(other, Daemon::Fenced)),
    ))
}

fn main() {
    let runs = option("--runs", 5);
    let needs = || -> ! {
        eprintln!("the resources bench needs root, ip, ping, resource-agents and release binaries");
        std::process::exit(2);
    };
    let failover_only = std::env::args().any(|a| a == "--only-local");
    for on_dc in [false, true].into_iter().filter(|_| !failover_only) {
        let mut took = Vec::new();
        for _ in 0..runs {
            let Some(t) = failover(on_dc) else { needs() };
            took.push(t.as_secs_f64() * 1000.0);
        }
        println!(
            "kill -9 of the node holding the address ({}) to the address answering from a survivor: median {:.0} ms over {runs} runs (all: {took:.0?}); membership detection alone is token + consensus = {} ms",
            if on_dc { "the DC" } else { "not the DC" },
            median(&took),
            cluster::EFFECTIVE_TOKEN_MS + cluster::CONSENSUS_MS
        );
    }
    let mut starts = Vec::new();
    for _ in 0..runs {
        let Some(t) = cold_start() else { needs() };
        starts.push(t.as_secs_f64() * 1000.0);
    }
    println!(
        "cold start, ring up to the address answering: median {:.0} ms over {runs} runs (all: {starts:.0?})",
        median(&starts)
    );
    let Some(overheads) = restart_overheads(runs.max(5)) else {
        needs()
    };
    println!(
        "failed monitor to restart finished, less the agent's stop and start: median {:.0} ms over {} runs (all: {overheads:.0?})",
        median(&overheads),
        overheads.len()
    );
    let mut fenced = Vec::new();
    for _ in 0..runs {
        let Some(t) = fenced_failover() else { needs() };
        fenced.push(t.as_secs_f64() * 1000.0);
    }
    println!(
        "node holding the address cut off (alive), fenced, to the address answering from a survivor: median {:.0} ms over {runs} runs (all: {fenced:.0?}); membership detection alone is {} ms",
        median(&fenced),
        cluster::EFFECTIVE_TOKEN_MS + cluster::CONSENSUS_MS
    );
    let Some((idle, dc, fenced_alone)) = memory() else {
        needs()
    };
    println!(
        "RSS of one node's daemons (ringd + lrmd + crmd + fenced), address running: {:.1} MiB on a node, {:.1} MiB on the DC; fenced alone {:.1} MiB",
        idle as f64 / 1024.0,
        dc as f64 / 1024.0,
        fenced_alone as f64 / 1024.0
    );
}
