//! The differential soak: many random clusters from `baton-cibgen`,
//! scheduled by us and by Pacemaker 2.1.5's `crm_simulate`, compared on
//! summaries and graphs (see `tests/oracle`). `cargo test` runs 200 seeds
//! of each kind; this runs as many as asked and reports the agreement.
//!
//! Run: `cargo run --release -p baton-scheduler --example differential --
//! [--small] [--from N] [--count N] [--cache DIR] [--quiet]`
//! (busy clusters, seeds 0..2000, by default). A seed that disagrees is
//! reproduced with `baton-cibgen --busy --seed N > cib.xml`.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[allow(dead_code)]
#[path = "../src/bin/baton-conformance/corpus.rs"]
mod corpus;
#[allow(dead_code)]
#[path = "../src/bin/baton-conformance/graph_check.rs"]
mod graph_check;
#[allow(dead_code)]
#[path = "../tests/oracle/mod.rs"]
mod oracle;
#[allow(dead_code)]
#[path = "../src/bin/baton-conformance/scores.rs"]
mod scores;

struct Args {
    small: bool,
    from: u64,
    count: u64,
    cache: Option<PathBuf>,
    quiet: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        small: false,
        from: 0,
        count: 2_000,
        cache: None,
        quiet: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--small" => args.small = true,
            "--quiet" => args.quiet = true,
            "--from" => {
                args.from = value("--from")?
                    .parse()
                    .map_err(|e| format!("--from: {e}"))?
            }
            "--count" => {
                args.count = value("--count")?
                    .parse()
                    .map_err(|e| format!("--count: {e}"))?;
            }
            "--cache" => args.cache = Some(PathBuf::from(value("--cache")?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("differential: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("differential: cannot make a temp dir: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let oracle = match oracle::Oracle::new(dir.path(), args.cache.as_deref()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("differential: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let next = AtomicU64::new(args.from);
    let end = args.from + args.count;
    let tally = Mutex::new((0u64, 0u64, Vec::new()));
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= end {
                        break;
                    }
                    let spec = if args.small {
                        baton_cibgen::small(seed)
                    } else {
                        baton_cibgen::busy(seed)
                    };
                    let xml = baton_cibgen::generate(&spec);
                    let verdict = oracle
                        .pacemaker(&format!("seed-{seed}"), &xml)
                        .and_then(|p| oracle::compare(&p, &xml));
                    let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                    match verdict {
                        Ok(v) => {
                            t.0 += u64::from(v.summary_agrees());
                            t.1 += u64::from(v.agrees());
                            if !v.agrees() {
                                t.2.push((seed, v.render()));
                            }
                        }
                        Err(e) => t.2.push((seed, format!("  error: {e}\n"))),
                    }
                }
            });
        }
    });
    let (summaries, both, mut failures) = tally.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort();
    if !args.quiet {
        for (seed, text) in &failures {
            println!("seed {seed}:\n{text}");
        }
    }
    let seeds: Vec<u64> = failures.iter().map(|(s, _)| *s).collect();
    println!("disagreeing seeds: {seeds:?}");
    let pct = |n: u64| 100.0 * n as f64 / args.count.max(1) as f64;
    println!(
        "{} {} clusters: summaries agree {summaries} ({:.1}%), summaries and graphs {both} ({:.1}%)",
        args.count,
        if args.small { "small" } else { "busy" },
        pct(summaries),
        pct(both)
    );
    std::process::ExitCode::SUCCESS
}
