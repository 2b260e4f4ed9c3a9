//! The controller on three real nodes in network namespaces: cold start to
//! an agreed DC, the latency of an acknowledged configuration write, and
//! crmd's memory.
//!
//! Needs root and `ip`, and release binaries:
//! `cargo build --release --workspace && cargo bench -p baton-tests --bench crmd`
//! Options after `--`: `--runs N` (cold starts, default 5), `--writes N`
//! (default 300).

#[path = "../tests/ring/cluster.rs"]
mod cluster;
#[path = "../tests/ring/netns.rs"]
mod netns;
#[path = "../tests/crmd/stack.rs"]
mod stack;

use std::time::{Duration, Instant};

use baton_proto::crmd::crmd_client::CrmdClient;
use baton_proto::crmd::{QueryRequest, ReplaceConfigurationRequest};
use stack::{Daemon, Stack};

const NODES: usize = 3;
const ALL: [&str; 3] = ["n1", "n2", "n3"];

fn option(name: &str, default: usize) -> usize {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[at]
}

/// Every node's ring and quorum up, then every lrmd and crmd at once: the
/// time until all three agree on a DC with all three online.
fn cold_start() -> Option<Duration> {
    let mut stack = Stack::new(NODES)?;
    for node in 1..=NODES {
        stack.start_daemon(node, Daemon::Ringd);
    }
    for node in 1..=NODES {
        let quorate = cluster::wait_for_quorate(
            &stack.bin_dir().join("baton-ringd"),
            stack.dir.path(),
            node,
            true,
            cluster::FORM,
        );
        assert_eq!(quorate["quorate"], true, "the ring never formed");
    }
    let started = Instant::now();
    for node in 1..=NODES {
        stack.start_daemon(node, Daemon::Lrmd);
        stack.start_daemon(node, Daemon::Crmd);
    }
    stack.wait_for_agreed_dc(&[1, 2, 3], &ALL);
    Some(started.elapsed())
}

/// Sequential configuration writes through node 1's crmd: each one's
/// latency from the request to the answer (every node applied it).
fn write_latencies(stack: &Stack, writes: usize) -> Vec<f64> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let channel = baton_proto::client::connect(&stack.crmd_socket(1), Duration::from_secs(30))
            .await
            .expect("connect crmd");
        let mut client = CrmdClient::new(channel);
        let mut latencies = Vec::with_capacity(writes);
        for i in 0..writes {
            let current = client.query(QueryRequest {}).await.expect("query").into_inner();
            let primitive = format!(
                "<primitive id=\"bench{i}\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/></resources>"
            );
            let cib = if current.cib.contains("<resources/>") {
                current.cib.replace("<resources/>", &format!("<resources>{primitive}"))
            } else {
                current.cib.replace("</resources>", &primitive)
            };
            let request = ReplaceConfigurationRequest {
                cib,
                base: current.version,
                base_digest: current.config_digest,
                client: "bench".into(),
                user: "root".into(),
            };
            let sent = Instant::now();
            let reply = client.replace_configuration(request).await.expect("write").into_inner();
            latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
            assert!(reply.changed && !reply.without_quorum, "{reply:?}");
        }
        latencies
    })
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

fn main() {
    let runs = option("--runs", 5);
    let writes = option("--writes", 300);
    let mut starts = Vec::new();
    for _ in 0..runs {
        let Some(took) = cold_start() else {
            eprintln!("the crmd bench needs root, ip and release binaries");
            std::process::exit(2);
        };
        starts.push(took.as_secs_f64() * 1000.0);
    }
    println!(
        "cold start, ring up to all three agreeing on a DC: median {:.0} ms over {runs} runs (all: {starts:.0?})",
        median(&mut starts.clone())
    );
    let Some(stack) = Stack::start(NODES) else {
        std::process::exit(2);
    };
    stack.wait_for_agreed_dc(&[1, 2, 3], &ALL);
    std::thread::sleep(Duration::from_secs(2));
    let idle: Vec<u64> = (1..=NODES)
        .map(|n| rss_kib(stack.pid(n, Daemon::Crmd)))
        .collect();
    println!("crmd RSS idle, empty configuration, by node (node 1 is DC): {idle:?} KiB");
    let mut latencies = write_latencies(&stack, writes);
    latencies.sort_by(f64::total_cmp);
    println!(
        "configuration write acknowledged by all three, {writes} writes: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.9),
        quantile(&latencies, 0.99)
    );
    std::thread::sleep(Duration::from_secs(2));
    let rss: Vec<u64> = (1..=NODES)
        .map(|n| rss_kib(stack.pid(n, Daemon::Crmd)))
        .collect();
    println!(
        "crmd RSS after the writes ({writes} primitives), by node (node 1 is DC): {rss:?} KiB"
    );
    drop(stack);
    let mut takeovers = Vec::new();
    for _ in 0..runs {
        let Some(took) = dc_takeover() else {
            std::process::exit(2);
        };
        takeovers.push(took.as_secs_f64() * 1000.0);
    }
    println!(
        "kill -9 of the DC's node to both survivors naming the new DC: median {:.0} ms over {runs} runs (all: {takeovers:.0?}); membership detection alone is token + consensus = {} ms",
        median(&mut takeovers.clone()),
        cluster::EFFECTIVE_TOKEN_MS + cluster::CONSENSUS_MS
    );
}

/// Every daemon of the DC's node killed at once: the time until both
/// survivors name the new DC.
fn dc_takeover() -> Option<Duration> {
    let mut stack = Stack::start(NODES)?;
    stack.wait_for_agreed_dc(&[1, 2, 3], &ALL);
    let killed = Instant::now();
    stack.crash(1);
    stack.wait_for_dc(&[2, 3], "n2", &["n2", "n3"]);
    Some(killed.elapsed())
}
