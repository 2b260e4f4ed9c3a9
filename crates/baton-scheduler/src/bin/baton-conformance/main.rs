//! Runs the scheduler conformance suite against Pacemaker's regression
//! cases.
//!
//! `baton-conformance [--case NAME] [--tier core] [--dir PATH]
//! [--graph-passing]`: with `--case`, prints our summary and the diffs of
//! summary, scores and graph against crm_simulate's; with
//! `--graph-passing`, the core-tier cases whose whole graph is equal, one
//! per line; otherwise the pass rates. Exit code 0 on success, 1 when the
//! named case fails, 2 on a usage or I/O error.

mod corpus;
mod graph_check;
mod scores;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use corpus::{find_cases_dir, run_all, run_case};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut case = None;
    let mut core_only = false;
    let mut graph_passing = false;
    let mut dir: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--case" => case = args.next(),
            "--tier" => core_only = args.next().as_deref() == Some("core"),
            "--dir" => dir = args.next().map(PathBuf::from),
            "--graph-passing" => graph_passing = true,
            "-h" | "--help" => {
                println!(
                    "usage: baton-conformance [--case NAME] [--tier core] [--dir PATH] [--graph-passing]"
                );
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("error: unknown argument `{other}`; try --help");
                return ExitCode::from(2);
            }
        }
    }
    let dir = match dir.map_or_else(find_cases_dir, Ok) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(name) = case {
        return match run_case(&dir, &name) {
            Ok(r) => {
                println!("ours:");
                for l in &r.raw {
                    println!("{l}");
                }
                println!("\ndiff (- expected only, + ours only):");
                print!("{}", r.diff());
                println!("{}", if r.passed() { "PASS" } else { "FAIL" });
                println!("\nscores diff (- crm_simulate only, + ours only):");
                print!("{}", scores::diff(&r.expected_scores, &r.actual_scores));
                println!("scores {}", if r.scores_passed() { "PASS" } else { "FAIL" });
                println!("\ngraph diff (- expected only, + ours only, ! order not implied):");
                if let Some(g) = &r.graph {
                    print!("{}", g.render());
                }
                println!("graph {}", if r.graph_passed() { "PASS" } else { "FAIL" });
                if r.passed() && r.graph_passed() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        };
    }
    match run_all(&dir, core_only) {
        Ok(report) => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let mut out = std::io::stdout().lock();
            let _ = if graph_passing {
                writeln!(out, "{}", report.core_graph_passing().join("\n"))
            } else {
                write!(
                    out,
                    "{}\nfailing cases:\n{}",
                    report.render(),
                    report.failing_list()
                )
            };
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
