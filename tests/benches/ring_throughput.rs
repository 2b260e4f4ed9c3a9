//! Three real ringd nodes in network namespaces: 1 KiB group messages from
//! every node as fast as flow control allows, with crypto off and on
//! (messages/s and MB/s delivered per node, latency), failure detection
//! after kill -9 at two token timeouts, and ringd's memory.
//!
//! Needs root and `ip`, and a release ringd:
//! `cargo build --release -p baton-ringd && cargo bench -p baton-tests --bench ring_throughput`
//! Options after `--`: `--seconds N` (default 10).

#[path = "../tests/ring/cluster.rs"]
mod cluster;
#[path = "../tests/ring/group_client.rs"]
mod group_client;
#[path = "../tests/ring/netns.rs"]
mod netns;

use std::path::Path;
use std::time::{Duration, Instant};

use baton_proto::ring::{ChangeReason, GroupRequest, group_event, group_request};
use cluster::{ConfigOptions, members, ringd_socket, setup, start_all, wait_for_ring};
use group_client::Member;
use netns::Net;

const NODES: usize = 3;
const PAYLOAD_BYTES: usize = 1024;
const WARMUP: Duration = Duration::from_secs(1);

struct Throughput {
    per_node_msgs_per_s: Vec<f64>,
    latencies_us: Vec<u64>,
    rss_idle_kib: Vec<u64>,
    rss_peak_kib: Vec<u64>,
    /// CPU seconds each ringd used while measuring.
    ringd_cpu_s: Vec<f64>,
}

fn main() {
    let seconds = std::env::args()
        .skip_while(|a| a != "--seconds")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let Some(bin) = cluster::prerequisites() else {
        eprintln!("ring_throughput needs root, ip and a built baton-ringd");
        std::process::exit(2);
    };
    println!(
        "| crypto | msg/s per node (median node) | MB/s per node | p50 latency | p99 latency | ringd CPU µs per delivered msg | ringd RSS idle | ringd RSS peak |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for crypto in [false, true] {
        let result = throughput(&bin, crypto, Duration::from_secs(seconds));
        let mut rates = result.per_node_msgs_per_s.clone();
        rates.sort_by(f64::total_cmp);
        let median = rates[rates.len() / 2];
        let mut latencies = result.latencies_us;
        latencies.sort_unstable();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or(0)
        };
        println!(
            "| {} | {:.0} (nodes: {}) | {:.1} | {:.1} ms | {:.1} ms | {:.1} | {} MB | {} MB |",
            if crypto { "aes256+sha256" } else { "none" },
            median,
            result
                .per_node_msgs_per_s
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", "),
            median * PAYLOAD_BYTES as f64 / 1e6,
            at(0.5) as f64 / 1000.0,
            at(0.99) as f64 / 1000.0,
            result.ringd_cpu_s.iter().sum::<f64>() / result.ringd_cpu_s.len() as f64 * 1e6
                / (median * seconds as f64),
            mib(&result.rss_idle_kib),
            mib(&result.rss_peak_kib),
        );
    }
    println!();
    println!("| token | effective token + consensus | kill -9 detected after |");
    println!("|---|---|---|");
    for token in [Some(1000), None] {
        let (bound, seen) = detection(&bin, token);
        println!(
            "| {} | {} ms | {} ms |",
            token.map_or("default (3000)".to_owned(), |t| t.to_string()),
            bound,
            seen.as_millis()
        );
    }
}

fn mib(kib: &[u64]) -> String {
    let max = kib.iter().max().copied().unwrap_or(0);
    format!("{:.1}", max as f64 / 1024.0)
}

struct Cluster {
    net: Net,
    pids: Vec<u32>,
    dir: tempfile::TempDir,
}

fn cluster(bin: &Path, options: &ConfigOptions) -> Cluster {
    let (mut net, dir, config) = setup(NODES, options);
    let pids = start_all(&mut net, bin, dir.path(), &config);
    for log in net.logs.clone() {
        assert!(
            wait_for_ring(&log, &members(&[1, 2, 3]), Duration::from_secs(30)).is_some(),
            "{} never saw the ring",
            log.display()
        );
    }
    Cluster { net, pids, dir }
}

fn throughput(bin: &Path, crypto: bool, measure: Duration) -> Throughput {
    let c = cluster(
        bin,
        &ConfigOptions {
            crypto,
            ..ConfigOptions::default()
        },
    );
    let rss_idle_kib = c.pids.iter().map(|p| status_kib(*p, "VmRSS:")).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let epoch = Instant::now();
    let (rates, latencies, ringd_cpu_s) = runtime.block_on(async {
        let mut members = Vec::new();
        for node in 1..=NODES {
            members.push(
                Member::join(
                    &ringd_socket(c.dir.path(), node),
                    "bench",
                    1000 + node as u32,
                )
                .await,
            );
        }
        for member in &mut members {
            member
                .wait_for_members(NODES, Duration::from_secs(10))
                .await;
        }
        let start = Instant::now();
        let stop = start + WARMUP + measure;
        let pids = c.pids.clone();
        let cpu_probe = tokio::spawn(async move {
            tokio::time::sleep_until((start + WARMUP).into()).await;
            let before: Vec<f64> = pids.iter().map(|p| cpu_seconds(*p)).collect();
            tokio::time::sleep_until(stop.into()).await;
            pids.iter()
                .zip(before)
                .map(|(p, b)| cpu_seconds(*p) - b)
                .collect::<Vec<f64>>()
        });
        let mut readers = Vec::new();
        let mut writers = Vec::new();
        for (node, member) in members.into_iter().enumerate() {
            let (requests, mut events) = member.split();
            writers.push(tokio::spawn(async move {
                let mut payload = vec![0u8; PAYLOAD_BYTES];
                payload[8] = node as u8;
                while Instant::now() < stop {
                    let sent = epoch.elapsed().as_nanos() as u64;
                    payload[..8].copy_from_slice(&sent.to_be_bytes());
                    let request = GroupRequest {
                        request: Some(group_request::Request::Send(payload.clone())),
                    };
                    if requests.send(request).await.is_err() {
                        break;
                    }
                }
                requests
            }));
            let counted_from = start + WARMUP;
            readers.push(tokio::spawn(async move {
                let mut delivered = 0u64;
                let mut latencies = Vec::new();
                while let Ok(Ok(Some(batch))) =
                    tokio::time::timeout_at(stop.into(), events.message()).await
                {
                    let now = Instant::now();
                    if now < counted_from {
                        continue;
                    }
                    let received = epoch.elapsed().as_nanos() as u64;
                    for event in batch.events {
                        let Some(group_event::Event::Message(message)) = event.event else {
                            continue;
                        };
                        delivered += 1;
                        let sent =
                            u64::from_be_bytes(message.payload[..8].try_into().unwrap_or([0; 8]));
                        latencies.push(received.saturating_sub(sent) / 1000);
                    }
                }
                (delivered, latencies)
            }));
        }
        let mut rates = Vec::new();
        let mut all = Vec::new();
        for reader in readers {
            let (delivered, latencies) = reader.await.expect("reader");
            rates.push(delivered as f64 / measure.as_secs_f64());
            all.extend(latencies);
        }
        for writer in writers {
            drop(writer.await);
        }
        (rates, all, cpu_probe.await.expect("cpu probe"))
    });
    let rss_peak_kib = c.pids.iter().map(|p| status_kib(*p, "VmHWM:")).collect();
    drop(runtime);
    Throughput {
        per_node_msgs_per_s: rates,
        latencies_us: latencies,
        rss_idle_kib,
        rss_peak_kib,
        ringd_cpu_s,
    }
}

/// User + system CPU time of a process, from `/proc/PID/stat` (in clock
/// ticks of 1/100 s, the Linux default).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the ")" that closes the command name; utime and stime
    // are the 12th and 13th of those.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    fields.iter().sum::<u64>() as f64 / 100.0
}

/// Kills node 3's ringd and times until a member on node 1 sees its member
/// leave with node down. Returns (effective token + consensus, time seen).
fn detection(bin: &Path, token_ms: Option<u64>) -> (u64, Duration) {
    let mut c = cluster(
        bin,
        &ConfigOptions {
            token_ms,
            ..ConfigOptions::default()
        },
    );
    let effective = token_ms.unwrap_or(3000) + 650;
    let bound = effective + effective * 12 / 10;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let seen = runtime.block_on(async {
        let mut watcher = Member::join(&ringd_socket(c.dir.path(), 1), "bench", 1).await;
        let victim = Member::join(&ringd_socket(c.dir.path(), 3), "bench", 3).await;
        watcher.wait_for_members(2, Duration::from_secs(10)).await;
        let killed = Instant::now();
        c.net.kill9(c.pids[2]);
        let left = watcher.next_leave(Duration::from_secs(60)).await;
        assert_eq!(left, [(3, 3, ChangeReason::NodeDown)]);
        drop(victim);
        killed.elapsed()
    });
    (bound, seen)
}

/// A `/proc/PID/status` field in KiB (VmRSS, VmHWM).
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
