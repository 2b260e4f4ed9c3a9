//! Differential test against the real Pacemaker: random core-feature CIBs
//! from `baton-cibgen`, scheduled by us and by Pacemaker 2.1.5's
//! `crm_simulate -x FILE -S`; the Transition Summaries must agree line by
//! line (whitespace collapsed). A seed that disagrees is reproduced with
//! `baton-cibgen --small --seed N > cib.xml`.

use std::path::Path;
use std::process::Command;

/// The conformance runner's modules, shared with the `baton-conformance`
/// binary; each test uses part of them.
#[allow(dead_code)]
#[path = "../src/bin/baton-conformance/corpus.rs"]
mod corpus;
#[allow(dead_code)]
#[path = "../src/bin/baton-conformance/graph_check.rs"]
mod graph_check;
#[allow(dead_code)]
#[path = "../src/bin/baton-conformance/scores.rs"]
mod scores;

use corpus::{expected_summary, wall_clock};

/// Seeds checked on every run; each is one small random cluster.
const SEEDS: std::ops::Range<u64> = 0..200;

/// Seeds on which we are known to disagree with Pacemaker, with the
/// reason; each is a scheduler bug to fix, kept here so it is not
/// forgotten. The test fails on any other disagreement.
const KNOWN_DISAGREEMENTS: &[(u64, &str)] = &[
    (
        7,
        "a moved primitive should restart the clone ordered after it",
    ),
    (
        10,
        "a colocated dependent's location should pull its primary",
    ),
    (
        19,
        "a colocated dependent's location should pull its primary",
    ),
    (
        53,
        "a promoted instance restarted in place reads as a demotion",
    ),
    (59, "we move resources that Pacemaker leaves in place"),
    (
        71,
        "a colocated dependent's location should pull its primary",
    ),
    (
        81,
        "Pacemaker renumbers clone instances when stickiness is 0",
    ),
    (85, "we move a resource that Pacemaker leaves in place"),
    (
        123,
        "we swap two promotable instances; Pacemaker keeps them",
    ),
    (
        150,
        "a colocated dependent's location should pull its primary",
    ),
    (160, "we swap two clone instances; Pacemaker keeps them"),
];

fn normalize(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Pacemaker's Transition Summary for the CIB in `path`.
fn pacemaker_summary(path: &Path) -> Result<Vec<String>, String> {
    let out = Command::new("crm_simulate")
        .arg("-x")
        .arg(path)
        .arg("-S")
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| format!("cannot run crm_simulate: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !text.contains("Transition Summary:") {
        return Err(format!(
            "crm_simulate printed no Transition Summary (exit {:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(expected_summary(&text))
}

fn our_summary(xml: &str) -> Result<Vec<String>, String> {
    let cib = baton_cib::Cib::parse(xml).map_err(|e| format!("our CIB parser: {e}"))?;
    let transition =
        baton_scheduler::schedule(&cib, wall_clock()).map_err(|e| format!("our scheduler: {e}"))?;
    Ok(transition.summary.iter().map(|l| normalize(l)).collect())
}

/// Expected (`-`) against ours (`+`).
fn diff(expected: &[String], ours: &[String]) -> String {
    let mut text = String::new();
    for line in expected.iter().filter(|l| !ours.contains(l)) {
        text.push_str(&format!("  - {line}\n"));
    }
    for line in ours.iter().filter(|l| !expected.contains(l)) {
        text.push_str(&format!("  + {line}\n"));
    }
    if text.is_empty() {
        text.push_str("  (same lines, different order)\n");
    }
    text
}

#[test]
fn random_cibs_schedule_as_pacemaker_does() {
    if !baton_tests::require_tool(
        "crm_simulate",
        "compare our scheduler with Pacemaker's (package pacemaker-cli-utils)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut agreed = 0;
    let mut unexpected = Vec::new();
    let mut now_agreeing = Vec::new();
    for seed in SEEDS {
        let xml = baton_cibgen::generate(&baton_cibgen::small(seed));
        let path = dir.path().join(format!("seed-{seed}.xml"));
        std::fs::write(&path, &xml).expect("write the generated CIB");
        let expected = pacemaker_summary(&path)
            .unwrap_or_else(|e| panic!("seed {seed}: Pacemaker rejected a generated CIB: {e}"));
        let ours = our_summary(&xml);
        let known = KNOWN_DISAGREEMENTS.iter().any(|(s, _)| *s == seed);
        match ours {
            Ok(ours) if ours == expected => {
                agreed += 1;
                if known {
                    now_agreeing.push(seed);
                }
            }
            _ if known => {}
            Ok(ours) => unexpected.push(format!("seed {seed}:\n{}", diff(&expected, &ours))),
            Err(e) => unexpected.push(format!("seed {seed}: {e}\n")),
        }
    }
    println!(
        "{agreed} of {} random CIBs agree with crm_simulate; {} known disagreements",
        SEEDS.end - SEEDS.start,
        KNOWN_DISAGREEMENTS.len()
    );
    if !now_agreeing.is_empty() {
        println!(
            "these known disagreements now agree; remove them from KNOWN_DISAGREEMENTS: {now_agreeing:?}"
        );
    }
    assert!(
        unexpected.is_empty(),
        "{} random CIBs schedule differently from crm_simulate (replay one with \
         `cargo run -p baton-cibgen -- --small --seed N > cib.xml; crm_simulate -x cib.xml -S`):\n{}",
        unexpected.len(),
        unexpected.join("")
    );
}
