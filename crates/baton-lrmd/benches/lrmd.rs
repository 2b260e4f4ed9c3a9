//! baton-lrmd's costs, against resource-agents' Dummy:
//! - per-action overhead: a Dummy monitor through lrmd's gRPC Exec, minus
//!   the same monitor run by hand (spawn + wait), p50 and p99;
//! - sustained monitor throughput with parallel callers;
//! - the daemon's resident memory, idle and after the load.
//!
//! `cargo bench -p baton-lrmd --bench lrmd` (needs resource-agents).

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use baton_proto::lrmd::lrmd_client::LrmdClient;
use baton_proto::lrmd::{Action, ExecRequest};

const DUMMY: &str = "/usr/lib/ocf/resource.d/heartbeat/Dummy";
const SAMPLES: usize = 300;
const LOAD: Duration = Duration::from_secs(10);
const CALLERS: usize = 8;

struct Lrmd(Child);

impl Drop for Lrmd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn summary(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn monitor(resource: &str, state: &str) -> Action {
    Action {
        resource_id: resource.to_owned(),
        agent: "ocf:heartbeat:Dummy".into(),
        action: "monitor".into(),
        params: HashMap::from([("state".to_owned(), state.to_owned())]),
        meta: HashMap::new(),
        interval_ms: 0,
        timeout_ms: 20_000,
    }
}

/// The same monitor, spawned directly with the environment lrmd would give.
fn by_hand(state: &str) -> Duration {
    let started = Instant::now();
    let status = Command::new(DUMMY)
        .arg("monitor")
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("OCF_ROOT", "/usr/lib/ocf")
        .env("OCF_RESOURCE_INSTANCE", "bench")
        .env("OCF_RESKEY_state", state)
        .env("OCF_RESKEY_CRM_meta_timeout", "20000")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run Dummy");
    assert_eq!(
        status.status.code(),
        Some(0),
        "Dummy monitor by hand failed"
    );
    started.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if !Path::new(DUMMY).exists() {
        eprintln!("SKIPPED: {DUMMY} is missing; apt-get install resource-agents");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("bench.state").display().to_string();
    std::fs::write(&state, "").expect("state file: Dummy is running");
    let child = Command::new(env!("CARGO_BIN_EXE_baton-lrmd"))
        .arg("--socket-dir")
        .arg(dir.path())
        .env("BATON_LOG", "warn")
        .spawn()
        .expect("start baton-lrmd");
    let lrmd = Lrmd(child);
    let socket = dir.path().join("lrmd.sock");
    while !socket.exists() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_kib = rss_kib(lrmd.0.id());
    let channel = baton_proto::client::connect(&socket, Duration::from_secs(30))
        .await
        .expect("connect");
    let mut client = LrmdClient::new(channel);

    // Warm both paths (page cache, lazy init), then interleave the samples
    // so that drift in the machine's load hits both alike.
    for _ in 0..20 {
        by_hand(&state);
        client
            .exec(ExecRequest {
                action: Some(monitor("bench", &state)),
                record: None,
            })
            .await
            .expect("exec");
    }
    let mut hand = Vec::with_capacity(SAMPLES);
    let mut via_lrmd = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        hand.push(by_hand(&state));
        let started = Instant::now();
        let result = client
            .exec(ExecRequest {
                action: Some(monitor("bench", &state)),
                record: None,
            })
            .await
            .expect("exec")
            .into_inner();
        via_lrmd.push(started.elapsed());
        assert_eq!(result.rc, 0, "{result:?}");
    }
    let (hand_p50, hand_p99) = summary(hand);
    let (lrmd_p50, lrmd_p99) = summary(via_lrmd);
    println!("Dummy monitor, {SAMPLES} samples each");
    println!("  by hand:        p50 {hand_p50:>10.2?}  p99 {hand_p99:>10.2?}");
    println!("  via lrmd (gRPC): p50 {lrmd_p50:>10.2?}  p99 {lrmd_p99:>10.2?}");
    let signed_ms = |a: Duration, b: Duration| (a.as_secs_f64() - b.as_secs_f64()) * 1000.0;
    println!(
        "  overhead:         p50 {:+.2} ms  p99 {:+.2} ms",
        signed_ms(lrmd_p50, hand_p50),
        signed_ms(lrmd_p99, hand_p99)
    );

    let deadline = Instant::now() + LOAD;
    let callers: Vec<_> = (0..CALLERS)
        .map(|i| {
            let mut client = client.clone();
            let state = state.clone();
            tokio::spawn(async move {
                let mut done = 0_u64;
                while Instant::now() < deadline {
                    let request = ExecRequest {
                        action: Some(monitor(&format!("load{i}"), &state)),
                        record: None,
                    };
                    let result = client.exec(request).await.expect("exec").into_inner();
                    assert_eq!(result.rc, 0, "{result:?}");
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for caller in callers {
        total += caller.await.expect("caller");
    }
    let loaded_kib = rss_kib(lrmd.0.id());
    println!(
        "sustained: {total} Dummy monitors in {LOAD:?} from {CALLERS} callers on {} cores = {:.0}/s",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        total as f64 / LOAD.as_secs_f64()
    );
    // The ceiling: the same load spawned by hand, without lrmd.
    let deadline = Instant::now() + LOAD;
    let hands: Vec<_> = (0..CALLERS)
        .map(|_| {
            let state = state.clone();
            std::thread::spawn(move || {
                let mut done = 0_u64;
                while Instant::now() < deadline {
                    by_hand(&state);
                    done += 1;
                }
                done
            })
        })
        .collect();
    let by_hand_total: u64 = hands.into_iter().map(|h| h.join().expect("by hand")).sum();
    println!(
        "by hand, same load: {by_hand_total} in {LOAD:?} = {:.0}/s",
        by_hand_total as f64 / LOAD.as_secs_f64()
    );
    println!(
        "lrmd RSS: idle {:.1} MiB, after load {:.1} MiB",
        idle_kib as f64 / 1024.0,
        loaded_kib as f64 / 1024.0
    );
}
