//! `baton-sim --seeds A..B [--nodes N] [--faults all|none|list] [--trace] [--keep-going] [--controllers]`
//! Exit codes: 0 all seeds passed, 1 an invariant was violated, 2 bad usage.

use std::process::ExitCode;
use std::time::Instant;

use baton_sim::{FaultKinds, SimOptions, run};

struct Args {
    seeds: std::ops::Range<u64>,
    nodes: Option<usize>,
    faults: FaultKinds,
    trace: bool,
    keep_going: bool,
    controllers: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seeds: 0..100,
        nodes: None,
        faults: FaultKinds::all(),
        trace: false,
        keep_going: false,
        controllers: false,
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        match word.as_str() {
            "--seeds" => {
                let text = words.next().ok_or("--seeds needs a range like 0..100")?;
                let (start, end) = text
                    .split_once("..")
                    .ok_or("--seeds takes a range like 0..100")?;
                let start: u64 = start
                    .parse()
                    .map_err(|_| format!("bad seed range start {start:?}"))?;
                let end: u64 = end
                    .parse()
                    .map_err(|_| format!("bad seed range end {end:?}"))?;
                if end <= start {
                    return Err(format!("empty seed range {text}"));
                }
                args.seeds = start..end;
            }
            "--nodes" => {
                let text = words.next().ok_or("--nodes needs a number from 2 to 16")?;
                let nodes: usize = text
                    .parse()
                    .map_err(|_| format!("bad node count {text:?}"))?;
                if !(2..=16).contains(&nodes) {
                    return Err(format!("node count {nodes} is outside 2..=16"));
                }
                args.nodes = Some(nodes);
            }
            "--faults" => {
                let text = words.next().ok_or("--faults needs all, none or a list")?;
                args.faults = FaultKinds::parse(&text)?;
            }
            "--trace" => args.trace = true,
            "--keep-going" => args.keep_going = true,
            "--controllers" => args.controllers = true,
            "--help" | "-h" => {
                return Err(
                    "usage: baton-sim --seeds A..B [--nodes N] [--faults all|none|loss,dup,reorder,partition,crash,pause] [--trace] [--keep-going] [--controllers]"
                        .to_owned(),
                );
            }
            other => return Err(format!("unknown argument {other:?}; see --help")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("baton-sim: {message}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let mut passed = 0u64;
    let mut failed: Vec<u64> = Vec::new();
    let mut deliveries = 0u64;
    let mut worst_convergence_ms = 0u64;
    let mut worst_convergence_ratio = 0f64;
    for seed in args.seeds.clone() {
        let options = SimOptions {
            seed,
            nodes: args.nodes,
            faults: args.faults,
            trace: args.trace,
            controllers: args.controllers,
        };
        match run(&options) {
            Ok(summary) => {
                passed += 1;
                deliveries += summary.deliveries;
                worst_convergence_ms = worst_convergence_ms.max(summary.convergence_ms);
                let ratio = summary.convergence_ms as f64 / summary.detection_ms as f64;
                if ratio > worst_convergence_ratio {
                    worst_convergence_ratio = ratio;
                }
                if args.trace {
                    println!("# {summary:?}");
                }
            }
            Err(violation) => {
                eprintln!("FAIL {violation}");
                failed.push(seed);
                if !args.keep_going {
                    return ExitCode::from(1);
                }
            }
        }
    }
    println!(
        "passed {passed} of {} seeds ({}..{}), {deliveries} deliveries, slowest quiet-phase convergence {worst_convergence_ms} ms virtual (worst {worst_convergence_ratio:.2} x token+consensus), {:.1} s wall",
        args.seeds.end - args.seeds.start,
        args.seeds.start,
        args.seeds.end,
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("{} seeds failed: {failed:?}", failed.len());
        ExitCode::from(1)
    }
}
