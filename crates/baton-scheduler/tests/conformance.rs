//! Conformance against Pacemaker's scheduler regression corpus: the pass
//! rates are reported, the failing cases are written under target/, the
//! core-tier Transition Summary pass count may never fall below the floor
//! kept in `conformance-floor.txt` (raise the floor when the count goes
//! up), and every core-tier case listed in `graph-passing.txt` must keep
//! Pacemaker's whole transition graph.

use std::path::Path;

use baton_scheduler::EpochSeconds;
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

use corpus::{find_cases_dir, run_all};

#[test]
fn core_tier_pass_count_never_drops_below_the_floor() {
    let dir = find_cases_dir().expect("the scheduler corpus is required for this test");
    assert!(
        dir.join("xml").is_dir(),
        "scheduler corpus missing at {}; it is required for this test",
        dir.display()
    );
    let report = run_all(&dir, false).expect("the corpus is readable");
    assert_eq!(report.results.len(), report.corpus.names.len());
    println!("{}", report.render());

    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        Into::into,
    );
    let out = Path::new(&target).join("conformance-failing.txt");
    if std::fs::create_dir_all(&target).is_ok()
        && std::fs::write(&out, report.failing_list()).is_ok()
    {
        println!("failing cases written to {}", out.display());
    }

    let floor_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance-floor.txt");
    let floor: usize = std::fs::read_to_string(&floor_path)
        .expect("conformance-floor.txt exists")
        .trim()
        .parse()
        .expect("conformance-floor.txt holds a number");
    let core = report.core_passed();
    assert!(
        core >= floor,
        "core-tier conformance fell to {core}, below the floor of {floor}; run \
         `cargo run -p baton-scheduler --bin baton-conformance -- --tier core` to see which cases"
    );

    // The core-tier cases whose whole graph is Pacemaker's: each must stay
    // so (the list only grows).
    let pinned_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("graph-passing.txt");
    let pinned = std::fs::read_to_string(&pinned_path).expect("graph-passing.txt exists");
    let passing = report.core_graph_passing();
    let lost: Vec<&str> = pinned
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !passing.contains(l))
        .collect();
    assert!(
        lost.is_empty(),
        "these core-tier cases no longer get Pacemaker's whole graph: {lost:?}; run \
         `cargo run -p baton-scheduler --bin baton-conformance -- --case NAME` for the diff"
    );
    let gained: Vec<&&str> = passing
        .iter()
        .filter(|name| !pinned.lines().any(|l| l.trim() == **name))
        .collect();
    if !gained.is_empty() {
        println!(
            "these core-tier cases now get the whole graph; add them to graph-passing.txt \
             (`baton-conformance --graph-passing`): {gained:?}"
        );
    }
}

#[test]
fn scheduling_is_deterministic() {
    let dir = find_cases_dir().expect("the scheduler corpus is required for this test");
    for name in ["1484", "594", "662"] {
        let path = dir.join("xml").join(format!("{name}.xml"));
        let xml = std::fs::read_to_string(&path).expect("case readable");
        let cib = baton_cib::Cib::parse(&xml).expect("case parses");
        let now = EpochSeconds(1_700_000_000);
        let a = baton_scheduler::schedule(&cib, now).expect("schedules");
        let b = baton_scheduler::schedule(&cib, now).expect("schedules");
        assert_eq!(a.summary, b.summary, "{name}");
        assert_eq!(a.graph, b.graph, "{name}");
        assert!(
            a.graph.topological_order().is_some(),
            "{name}: graph has a cycle"
        );
    }
}
