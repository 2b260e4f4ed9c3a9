//! `baton simulate` as a user runs it on Pacemaker's own regression cases:
//! what it prints must read like `crm_simulate` 2.1.5's output for the same
//! CIB (the case's `.summary` file).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{baton, stderr, stdout};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pacemaker-scheduler-cases/v2.1.5")
}

fn case_xml(name: &str) -> String {
    let path = cases_dir().join("xml").join(format!("{name}.xml"));
    assert!(
        path.exists(),
        "scheduler corpus missing at {}; it is required for this test",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

fn expected(name: &str) -> String {
    let path = cases_dir().join("summary").join(format!("{name}.summary"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The lines under `header` up to the next section header, blank lines
/// dropped.
fn section(text: &str, header: &str) -> Vec<String> {
    const HEADERS: [&str; 5] = [
        "Current cluster status:",
        "Allocation Scores:",
        "Transition Summary:",
        "Executing Cluster Transition:",
        "Revised Cluster Status:",
    ];
    text.lines()
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| !HEADERS.contains(l))
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Summary lines are padded into columns; compare them whitespace-collapsed.
fn collapsed(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Cases our scheduler agrees on: a cold group, fencing with moves, a
/// promotable clone, an order constraint, an offline node.
const CASES: [&str; 5] = ["group1", "594", "promoted-0", "order1", "simple1"];

#[test]
fn status_and_transition_summary_read_like_crm_simulate() {
    for name in CASES {
        let out = baton(&["simulate", "-x", &case_xml(name)]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let ours = stdout(&out);
        let theirs = expected(name);
        assert_eq!(
            section(&ours, "Current cluster status:"),
            section(&theirs, "Current cluster status:"),
            "{name}: current status"
        );
        assert_eq!(
            collapsed(&section(&ours, "Transition Summary:")),
            collapsed(&section(&theirs, "Transition Summary:")),
            "{name}: transition summary"
        );
        assert!(
            !ours.contains("Executing Cluster Transition:"),
            "{name}: without -S nothing is executed"
        );
    }
}

#[test]
fn simulate_executes_fencing_before_recovery_and_shows_the_result() {
    let out = baton(&["simulate", "-S", "-x", &case_xml("594")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ours = stdout(&out);
    let steps = section(&ours, "Executing Cluster Transition:");
    let fence = steps
        .iter()
        .position(|l| l == "  * Fencing hadev3 (reboot)")
        .unwrap_or_else(|| panic!("no fencing step in:\n{ours}"));
    let first_start = steps
        .iter()
        .position(|l| l.contains(" start on "))
        .unwrap_or_else(|| panic!("no start step in:\n{ours}"));
    assert!(fence < first_start, "a start ran before fencing:\n{ours}");
    assert!(steps.contains(&"  * Resource action: DcIPaddr        stop on hadev2".to_owned()));
    assert_eq!(
        section(&ours, "Revised Cluster Status:"),
        section(&expected("594"), "Revised Cluster Status:")
    );
}

#[test]
fn json_output_lists_the_summary_and_the_actions() {
    let out = baton(&[
        "--output",
        "json",
        "simulate",
        "-S",
        "-x",
        &case_xml("group1"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let summary = report["transition_summary"]
        .as_array()
        .expect("summary list");
    assert_eq!(summary.len(), 3);
    assert_eq!(
        summary[0]
            .as_str()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")),
        Some("* Start child_rsc1 ( node1 )".to_owned())
    );
    let actions = report["actions"].as_array().expect("action list");
    assert_eq!(actions.len(), 3);
    assert_eq!(actions[0]["task"], "start");
    assert_eq!(actions[0]["resource"], "child_rsc1");
    assert_eq!(actions[0]["node"], "node1");
}

#[test]
fn a_missing_file_is_named_and_exits_2() {
    let out = baton(&["simulate", "-x", "/nonexistent/cib.xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read /nonexistent/cib.xml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn broken_xml_is_reported_with_its_line_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken.xml");
    std::fs::write(
        &path,
        "<cib>\n  <configuration>\n    <nodes>\n      <node id=\"1\" uname=\"a\">\n    </nodes>\n",
    )
    .expect("write");
    let out = baton(&["simulate", "-x", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("broken.xml is not a usable CIB"), "{err}");
    assert!(err.contains("line 5"), "{err}");
    assert!(out.stdout.is_empty());
}

/// The score lines `crm_simulate -s` prints for a case, from the main
/// corpus's `scores/` files (sorted there, as we print them).
fn expected_scores(name: &str) -> Vec<String> {
    let path = cases_dir().join("../scores").join(format!("{name}.scores"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("  * {l}"))
        .collect()
}

/// Cases whose allocation and promotion scores we print exactly as
/// crm_simulate does: a cold group (with members bound to the first one's
/// node), a cold anonymous clone and a promotable clone.
const SCORE_CASES: [&str; 3] = ["group1", "clone-anon-probe-1", "promoted-0"];

#[test]
fn allocation_scores_read_like_crm_simulate_between_status_and_summary() {
    for name in SCORE_CASES {
        let out = baton(&["simulate", "-s", "-x", &case_xml(name)]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(
            section(&text, "Allocation Scores:"),
            expected_scores(name),
            "{name}"
        );
        let scores_at = text.find("Allocation Scores:");
        let summary_at = text.find("Transition Summary:");
        assert!(
            scores_at.is_some() && scores_at < summary_at,
            "{name}: scores must come before the Transition Summary:\n{text}"
        );
    }
    let group1 = stdout(&baton(&["simulate", "-s", "-x", &case_xml("group1")]));
    assert!(
        group1.contains(
            "  * pcmk__primitive_assign: child_rsc2 allocation score on node2: -INFINITY\n"
        ),
        "{group1}"
    );
}

#[test]
fn scores_are_shown_only_when_asked_for() {
    let plain = stdout(&baton(&["simulate", "-x", &case_xml("group1")]));
    assert!(!plain.contains("Allocation Scores:"), "{plain}");
    let json = stdout(&baton(&[
        "--output",
        "json",
        "simulate",
        "-x",
        &case_xml("group1"),
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid json");
    assert!(v.get("scores").is_none(), "{json}");
}

#[test]
fn json_scores_list_the_lines_without_the_bullet() {
    let out = baton(&[
        "--output",
        "json",
        "simulate",
        "-s",
        "-x",
        &case_xml("promoted-0"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid json");
    let scores: Vec<String> = v["scores"]
        .as_array()
        .expect("a scores array")
        .iter()
        .map(|l| l.as_str().expect("a line").to_owned())
        .collect();
    let expected: Vec<String> = expected_scores("promoted-0")
        .iter()
        .map(|l| l.trim_start_matches("  * ").to_owned())
        .collect();
    assert_eq!(scores, expected);
}

#[test]
fn a_generated_cluster_starts_every_resource_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cold.xml");
    let spec = baton_cibgen::Spec {
        nodes: 3,
        primitives: 20,
        state: baton_cibgen::State::Cold,
        seed: 11,
    };
    std::fs::write(&path, baton_cibgen::generate(&spec)).expect("write");
    let out = baton(&["simulate", "-S", "-x", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ours = stdout(&out);
    let revised = section(&ours, "Revised Cluster Status:");
    assert!(
        revised.iter().all(|l| !l.ends_with(" Stopped")),
        "something stayed stopped:\n{ours}"
    );
    let starts = section(&ours, "Executing Cluster Transition:")
        .iter()
        .filter(|l| l.contains(" start on "))
        .count();
    assert_eq!(starts, section(&ours, "Transition Summary:").len());
}

/// crm_simulate's text for the CIB in `path`.
fn crm_simulate(path: &Path) -> String {
    let out = Command::new("crm_simulate")
        .arg("-x")
        .arg(path)
        .arg("-S")
        .env("LC_ALL", "C")
        .output()
        .expect("run crm_simulate");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn status_blocks_match_crm_simulate_on_generated_clusters() {
    if !baton_tests::require_tool(
        "crm_simulate",
        "compare baton simulate's output with Pacemaker's (package pacemaker-cli-utils)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut revised_compared = 0;
    for seed in 0..20 {
        let path = dir.path().join(format!("seed-{seed}.xml"));
        std::fs::write(&path, baton_cibgen::generate(&baton_cibgen::small(seed))).expect("write");
        let out = baton(&["simulate", "-S", "-x", path.to_str().expect("utf-8")]);
        assert_eq!(out.status.code(), Some(0), "seed {seed}: {}", stderr(&out));
        let (ours, theirs) = (stdout(&out), crm_simulate(&path));
        assert_eq!(
            section(&ours, "Current cluster status:"),
            section(&theirs, "Current cluster status:"),
            "seed {seed}: current status"
        );
        // The revised status can only agree where the decisions do; the
        // scheduler's differential test tracks the seeds where they do not.
        let summary = |text: &str| collapsed(&section(text, "Transition Summary:"));
        if summary(&ours) == summary(&theirs) {
            assert_eq!(
                section(&ours, "Revised Cluster Status:"),
                section(&theirs, "Revised Cluster Status:"),
                "seed {seed}: revised status"
            );
            revised_compared += 1;
        }
    }
    assert!(
        revised_compared >= 15,
        "only {revised_compared} of 20 generated clusters were scheduled as Pacemaker does"
    );
}
