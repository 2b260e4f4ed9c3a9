//! Scheduler time and peak memory on large generated clusters (16 × 500,
//! 32 × 2,000 and 32 × 5,000 primitives with groups, clones and
//! constraints), cold (nothing probed yet) and all running.
//!
//! Run: `cargo bench -p baton-scheduler --bench scale [-- --keep DIR]`
//!
//! Each size runs in a child process of this binary so that its peak RSS
//! (`VmHWM`) is its own. `--keep DIR` leaves the CIB files in DIR, for
//! timing `crm_simulate -x FILE -S` on the same input.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use baton_cibgen::{Spec, State};

const SEED: u64 = 1;

/// (nodes, primitives, runs); fewer runs for the slow sizes.
const SIZES: [(usize, usize, usize); 3] = [(16, 500, 11), (32, 2_000, 5), (32, 5_000, 3)];

fn file_name(spec: &Spec) -> String {
    let state = match spec.state {
        State::Cold => "cold",
        State::Running => "running",
        State::Busy => "busy",
    };
    format!("n{}-p{}-{state}.xml", spec.nodes, spec.primitives)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Peak resident set of this process, from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Child: parse and schedule `path` `runs` times; print one table row.
fn measure(path: &Path, runs: usize) {
    let xml = std::fs::read_to_string(path).expect("read the generated CIB");
    let mut parse = Vec::new();
    let mut schedule = Vec::new();
    let mut summary_lines = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let cib = baton_cib::Cib::parse(&xml).expect("a generated CIB parses");
        parse.push(start.elapsed());
        let start = Instant::now();
        let transition =
            baton_scheduler::schedule(&cib, baton_scheduler::EpochSeconds(1_700_000_000))
                .expect("a generated CIB schedules");
        schedule.push(start.elapsed());
        summary_lines = transition.summary.len();
    }
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let (parse, schedule) = (median(parse), median(schedule));
    println!(
        "| {name} | {:.1} MiB | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} MiB | {summary_lines} |",
        xml.len() as f64 / (1 << 20) as f64,
        parse.as_secs_f64() * 1e3,
        schedule.as_secs_f64() * 1e3,
        (parse + schedule).as_secs_f64() * 1e3,
        peak_rss_kib().unwrap_or(0) as f64 / 1024.0,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    if let (Some(path), Some(runs)) = (flag("--measure"), flag("--runs")) {
        measure(Path::new(path), runs.parse().expect("--runs N"));
        return;
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let dir: PathBuf = flag("--keep").map_or_else(|| temp.path().to_owned(), PathBuf::from);
    std::fs::create_dir_all(&dir).expect("create the CIB directory");
    let me = std::env::current_exe().expect("own path");
    println!("| CIB | size | parse | schedule | total | peak RSS | summary lines |");
    println!("|---|---|---|---|---|---|---|");
    for (nodes, primitives, runs) in SIZES {
        for state in [State::Cold, State::Running] {
            let spec = Spec {
                nodes,
                primitives,
                state,
                seed: SEED,
            };
            let path = dir.join(file_name(&spec));
            std::fs::write(&path, baton_cibgen::generate(&spec)).expect("write the CIB");
            let status = Command::new(&me)
                .arg("--measure")
                .arg(&path)
                .args(["--runs", &runs.to_string()])
                .status()
                .expect("run the measuring child");
            assert!(status.success(), "measuring {} failed", path.display());
        }
    }
}
