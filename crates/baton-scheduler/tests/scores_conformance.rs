//! Allocation scores against Pacemaker's regression corpus (`scores/`):
//! the core-tier count of cases whose score lines all match may never fall
//! below the floor in `scores-floor.txt` (raise it when the count goes up).
//! Kept apart from the Transition Summary floor: scores are a diagnostic,
//! and a change in how they are shown must not hold back a placement fix.

use std::path::Path;

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

use corpus::{find_cases_dir, run_all, wall_clock};

#[test]
fn core_tier_scores_pass_count_never_drops_below_the_floor() {
    let dir = find_cases_dir().expect("the scheduler corpus is required for this test");
    assert!(
        dir.join("scores").is_dir(),
        "scheduler corpus missing at {}; it is required for this test",
        dir.display()
    );
    let report = run_all(&dir, true).expect("the corpus is readable");
    let floor_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scores-floor.txt");
    let floor: usize = std::fs::read_to_string(&floor_path)
        .expect("scores-floor.txt exists")
        .trim()
        .parse()
        .expect("scores-floor.txt holds a number");
    let passed = report.core_scores_passed();
    assert!(
        passed >= floor,
        "core-tier allocation scores fell to {passed} matching cases, below the floor of \
         {floor}; run `cargo run -p baton-scheduler --bin baton-conformance -- --case NAME` \
         on a core case to see its scores diff"
    );
}

#[test]
fn a_cold_group_binds_later_members_to_the_first_ones_node() {
    let path = find_cases_dir()
        .expect("the scheduler corpus is required for this test")
        .join("xml")
        .join("group1.xml");
    let xml = std::fs::read_to_string(&path).expect("case readable");
    let cib = baton_cib::Cib::parse(&xml).expect("case parses");
    let t = baton_scheduler::schedule_with_scores(&cib, wall_clock()).expect("schedules");
    let lines: Vec<String> = t.scores.iter().map(ToString::to_string).collect();
    for want in [
        "pcmk__group_assign: rsc1 allocation score on node2: 0",
        "pcmk__primitive_assign: child_rsc1 allocation score on node2: 0",
        "pcmk__primitive_assign: child_rsc3 allocation score on node2: -INFINITY",
    ] {
        assert!(
            lines.iter().any(|l| l == want),
            "missing `{want}` in {lines:#?}"
        );
    }
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "score lines are kept sorted");
}
