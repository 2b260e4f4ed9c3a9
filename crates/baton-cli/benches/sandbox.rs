//! The sandbox as a newcomer meets it: `sandbox up` until the demo
//! resources run and the web page answers, and `sandbox kill` of the node
//! serving it until a survivor answers (polled every 20 ms, as `curl`
//! would see it).
//!
//! Needs root and `ip` (each run gets its own network namespace) and
//! release binaries:
//! `cargo build --release --workspace && cargo bench -p baton-cli --bench sandbox`
//! Options after `--`: `--runs N` (default 5).

#[path = "../tests/support/isolated.rs"]
mod isolated;

use std::time::{Duration, Instant};

use isolated::{Isolated, prerequisites, web_node};

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    if !prerequisites() {
        return;
    }
    let runs = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let mut up_ms = Vec::new();
    let mut failover_ms = Vec::new();
    for run in 1..=runs {
        let sandbox = Isolated::new();
        let began = Instant::now();
        let up = sandbox.baton(&["sandbox", "up", "--nodes", "3"]);
        assert!(up.status.success(), "sandbox up failed: {up:?}");
        let up_time = began.elapsed();
        let web = web_node(&up);
        assert!(sandbox.fetch(web).is_some(), "the web page does not answer");
        let kill = sandbox.baton(&["sandbox", "kill", &web.to_string()]);
        assert!(kill.status.success(), "sandbox kill failed: {kill:?}");
        let killed = Instant::now();
        while !(1..=3)
            .filter(|n| *n != web)
            .any(|n| sandbox.fetch(n).is_some())
        {
            assert!(
                killed.elapsed() < Duration::from_secs(30),
                "the web page never answered from a survivor"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let failover = killed.elapsed();
        println!(
            "run {run}: up {:.0} ms, node{web} killed → web answers elsewhere {:.0} ms",
            up_time.as_secs_f64() * 1e3,
            failover.as_secs_f64() * 1e3
        );
        up_ms.push(up_time.as_secs_f64() * 1e3);
        failover_ms.push(failover.as_secs_f64() * 1e3);
    }
    println!(
        "median of {runs}: sandbox up → resources running and the page answering {:.0} ms; kill of the web node → page answering from a survivor {:.0} ms",
        median(&mut up_ms),
        median(&mut failover_ms)
    );
}
