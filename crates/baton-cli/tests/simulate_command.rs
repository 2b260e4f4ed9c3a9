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
/// promotable clone, an order constraint, an offline node, a start still
/// under way ("Starting").
const CASES: [&str; 6] = [
    "group1",
    "594",
    "promoted-0",
    "order1",
    "simple1",
    "mon-rsc-3",
];

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
fn instances_with_an_action_under_way_are_listed_alone_with_crm_mons_word() {
    let name = "anon-instance-pending";
    let out = baton(&["simulate", "-x", &case_xml(name)]);
    assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
    let ours = section(&stdout(&out), "Current cluster status:");
    let theirs = section(&expected(name), "Current cluster status:");
    let under_way: Vec<&String> = theirs
        .iter()
        .filter(|l| l.contains("Starting") || l.contains("Stopping"))
        .collect();
    assert_eq!(under_way.len(), 4, "{theirs:#?}");
    for line in under_way {
        assert!(ours.contains(line), "{name}: no {line:?} in {ours:#?}");
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
    // Probes of the three members on both nodes, their starts, and the
    // group's start and running milestones.
    let actions = report["actions"].as_array().expect("action list");
    assert_eq!(actions.len(), 11, "{actions:#?}");
    let position = |id: &serde_json::Value| actions.iter().position(|a| a["id"] == *id);
    for (at, a) in actions.iter().enumerate() {
        for input in a["inputs"].as_array().expect("inputs") {
            assert!(
                position(input).is_some_and(|p| p < at),
                "{} runs before its input {input}",
                a["key"]
            );
        }
    }
    let start = actions
        .iter()
        .find(|a| a["key"] == "child_rsc1_start_0")
        .expect("child_rsc1 starts");
    assert_eq!(start["node"], "node1");
    let waits_for: Vec<&serde_json::Value> = start["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| &actions[position(i).expect("known input")]["key"])
        .collect();
    assert_eq!(
        waits_for.len(),
        3,
        "the start waits for both probes and the group's start: {waits_for:?}"
    );
    assert!(
        waits_for
            .iter()
            .all(|k| *k == "child_rsc1_monitor_0" || *k == "rsc1_start_0")
    );
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

/// One node, one Dummy that failed its monitor at `FAILED_AT` (fail count
/// 1, migration-threshold 1, failure-timeout 60 s): whether it must stop
/// depends on what time it is.
const FAILED_AT: i64 = 1_700_000_000;

fn failed_dummy_cib(execution_date: Option<i64>) -> String {
    let date = execution_date.map_or(String::new(), |t| format!(" execution-date=\"{t}\""));
    format!(
        r#"<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1"{date}>
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o-s" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/></nodes>
    <resources>
      <primitive id="d" class="ocf" provider="pacemaker" type="Dummy">
        <meta_attributes id="d-m">
          <nvpair id="d-m-t" name="migration-threshold" value="1"/>
          <nvpair id="d-m-f" name="failure-timeout" value="60"/>
        </meta_attributes>
        <operations><op id="d-mon" name="monitor" interval="10s"/></operations>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="1"><instance_attributes id="s-1">
        <nvpair id="s-1-f" name="fail-count-d#monitor_10000" value="1"/>
        <nvpair id="s-1-l" name="last-failure-d#monitor_10000" value="{FAILED_AT}"/>
      </instance_attributes></transient_attributes>
      <lrm id="1"><lrm_resources><lrm_resource id="d" class="ocf" provider="pacemaker" type="Dummy">
        <lrm_rsc_op id="d_last_0" operation_key="d_start_0" operation="start" transition-key="1:1:0:x" call-id="1" rc-code="0" op-status="0" interval="0" last-rc-change="{started}" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
        <lrm_rsc_op id="d_monitor_10000" operation_key="d_monitor_10000" operation="monitor" transition-key="2:1:0:x" call-id="2" rc-code="0" op-status="0" interval="10000" last-rc-change="{started}"/>
        <lrm_rsc_op id="d_last_failure_0" operation_key="d_monitor_10000" operation="monitor" transition-key="2:1:0:x" call-id="2" rc-code="7" op-status="0" interval="10000" last-rc-change="{FAILED_AT}"/>
      </lrm_resource></lrm_resources></lrm>
    </node_state>
  </status>
</cib>
"#,
        started = FAILED_AT - 100
    )
}

#[test]
fn failures_expire_at_the_time_given_or_recorded_not_never() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary_at = |execution_date: Option<i64>, args: &[&str]| {
        let path = dir.path().join("failed.xml");
        std::fs::write(&path, failed_dummy_cib(execution_date)).expect("write");
        let mut all = vec!["simulate", "-x", path.to_str().expect("utf-8")];
        all.extend_from_slice(args);
        let out = baton(&all);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        (collapsed(&section(&text, "Transition Summary:")), text)
    };
    let banned = vec!["* Stop d ( n1 ) due to node availability".to_owned()];
    // Ten seconds after the failure, it still counts.
    let (lines, text) = summary_at(Some(FAILED_AT + 10), &[]);
    assert_eq!(lines, banned, "{text}");
    assert!(
        text.starts_with("Using the original execution date of: 2023-11-14 22:13:30Z\n"),
        "{text}"
    );
    // An hour later it has expired: the resource stays where it runs.
    let (lines, text) = summary_at(Some(FAILED_AT + 3600), &[]);
    assert!(lines.is_empty(), "{text}");
    // -t overrides the recorded date, and is not announced as it.
    let (lines, text) = summary_at(Some(FAILED_AT + 3600), &["-t", "2023-11-14 22:13:40Z"]);
    assert_eq!(lines, banned, "{text}");
    assert!(!text.contains("original execution date"), "{text}");
    let path = dir.path().join("failed.xml");
    let out = baton(&[
        "simulate",
        "-x",
        path.to_str().expect("utf-8"),
        "-t",
        "yesterday",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not an ISO 8601 date"),
        "{}",
        stderr(&out)
    );
}

/// `operation key@node` of every action of a transition graph XML, with
/// clone instance numbers removed (they are not stable identities), and
/// the ids its triggers name that are not actions of the graph.
fn graph_labels(xml: &str) -> (Vec<String>, Vec<String>) {
    let doc = baton_cib::xml::Document::parse(xml).expect("graph XML parses");
    let root = doc.root_ref();
    fn action(synapse: baton_cib::xml::ElementRef<'_>) -> baton_cib::xml::ElementRef<'_> {
        synapse
            .first_child("action_set")
            .and_then(|s| s.children().next())
            .expect("a synapse has an action")
    }
    let mut labels = Vec::new();
    let mut ids = Vec::new();
    for synapse in root.children_named("synapse") {
        let a = action(synapse);
        let key: String = a
            .attr("operation_key")
            .unwrap_or("")
            .split(':')
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part.to_owned()
                } else {
                    part.trim_start_matches(|c: char| c.is_ascii_digit())
                        .to_owned()
                }
            })
            .collect();
        labels.push(format!(
            "{} {key}@{}",
            a.attr("operation").unwrap_or(""),
            a.attr("on_node").unwrap_or("")
        ));
        ids.push(a.attr("id").unwrap_or("").to_owned());
    }
    labels.sort();
    let dangling = root
        .descendants()
        .filter(|e| e.name() == "trigger")
        .filter_map(|t| t.children().next())
        .filter_map(|a| a.attr("id"))
        .filter(|id| !ids.iter().any(|i| i == id))
        .map(str::to_owned)
        .collect();
    (labels, dangling)
}

#[test]
fn save_graph_writes_the_transition_graph_pacemaker_writes() {
    let main = cases_dir().join("..");
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["group1", "594", "order1", "clone-no-shuffle", "notify-0"] {
        let cib = main.join("xml").join(format!("{name}.xml"));
        let graph = dir.path().join(format!("{name}.xml"));
        let out = baton(&[
            "simulate",
            "-x",
            cib.to_str().expect("utf-8"),
            "-G",
            graph.to_str().expect("utf-8"),
        ]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let ours = std::fs::read_to_string(&graph).expect("the graph was written");
        let theirs = std::fs::read_to_string(main.join("exp").join(format!("{name}.exp")))
            .expect("the expected graph");
        let (our_labels, dangling) = graph_labels(&ours);
        assert_eq!(our_labels, graph_labels(&theirs).0, "{name}: actions");
        assert!(
            dangling.is_empty(),
            "{name}: inputs outside the graph: {dangling:?}"
        );
        assert!(
            ours.starts_with("<transition_graph cluster-delay=\"60s\" stonith-timeout=\"60s\""),
            "{name}: {ours}"
        );
    }
}
