//! Runs the scheduler conformance suite.
//!
//! `baton-conformance [--case NAME] [--tier core] [--dir PATH]`: with
//! `--case`, prints our summary and the diff against crm_simulate's; without
//! it, prints the pass rates (Transition Summary, and separately allocation
//! scores). Exit code 0 on success, 1 when the named case
//! fails, 2 on a usage or I/O error.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use baton_scheduler::conformance::{default_cases_dir, run_all, run_case, scores};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut case = None;
    let mut core_only = false;
    let mut dir = default_cases_dir();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--case" => case = args.next(),
            "--tier" => core_only = args.next().as_deref() == Some("core"),
            "--dir" => dir = args.next().map_or(dir, PathBuf::from),
            "-h" | "--help" => {
                println!("usage: baton-conformance [--case NAME] [--tier core] [--dir PATH]");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("error: unknown argument `{other}`; try --help");
                return ExitCode::from(2);
            }
        }
    }
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
                if r.passed() {
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
            let _ = write!(
                out,
                "{}\nfailing cases:\n{}",
                report.render(),
                report.failing_list()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
