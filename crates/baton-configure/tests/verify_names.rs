//! What `baton verify` says about the names and values users get wrong,
//! from lines pasted out of tutorials and web pages; and that Pacemaker's
//! own regression CIBs raise none of these errors falsely.

use std::path::Path;

use baton_cib::Cib;
use baton_configure::{AgentLookup, Severity, apply, verify};
use baton_crmsh::ast::Agent;

struct EveryAgent;

impl AgentLookup for EveryAgent {
    fn is_installed(&self, _: &Agent) -> Option<bool> {
        Some(true)
    }
}

/// The findings for a cluster made of `lines` (fencing off, so only what
/// the lines do wrong shows).
fn findings(lines: &str) -> Vec<String> {
    let mut cib = Cib::empty();
    let text = format!("property stonith-enabled=false\n{lines}\n");
    let commands: Vec<_> = baton_crmsh::parse(&text)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|l| l.command)
        .collect();
    apply(&mut cib, &commands, &EveryAgent).unwrap_or_else(|e| panic!("{e}"));
    verify(&cib).iter().map(ToString::to_string).collect()
}

#[test]
fn typos_and_bad_values_are_named_with_what_was_probably_meant() {
    let table: &[(&str, &str)] = &[
        (
            "property stonith-enabld=false",
            "warning: cluster: unknown cluster option `stonith-enabld`: Pacemaker ignores it; did you mean `stonith-enabled`?",
        ),
        (
            "property no-quorum-policy=stopped",
            "error: cluster: `no-quorum-policy=stopped` is not one of stop, freeze, ignore, demote, suicide: Pacemaker uses its default; did you mean `stop`?",
        ),
        (
            "property maintenance-mode=yess",
            "error: cluster: `maintenance-mode=yess` is not a boolean (true/false, yes/no, on/off, 1/0): Pacemaker treats it as false",
        ),
        (
            "property cluster-recheck-interval=fivemin",
            "error: cluster: `cluster-recheck-interval=fivemin` is not a duration (e.g. 30s, 5min, PT1M): Pacemaker uses its default",
        ),
        (
            "primitive db ocf:heartbeat:Dummy\nms ms_db db meta notify=\u{201d}True\u{201d}",
            "error: ms_db: `notify=\u{201d}True\u{201d}` has typographic quotes, pasted from a web page? They are part of the value; write notify=True",
        ),
        (
            "primitive a ocf:heartbeat:Dummy meta target-role=Stoped",
            "error: a: meta attribute `target-role=Stoped` is not one of Stopped, Started, Unpromoted, Promoted, Slave, Master, #default: Pacemaker uses its default; did you mean `Stopped`?",
        ),
        (
            "primitive a ocf:heartbeat:Dummy meta resource-stickness=100",
            "warning: a: unknown meta attribute `resource-stickness`; did you mean `resource-stickiness`?",
        ),
        (
            "primitive a ocf:heartbeat:Dummy op monitor interval=10s on-fail=restrt",
            "error: a: op attribute `on-fail=restrt` is not one of ignore, block, demote, stop, restart, standby, fence, restart-container: Pacemaker uses its default; did you mean `restart`?",
        ),
        (
            "rsc_defaults migration-threshold=often",
            "error: rsc_defaults: meta attribute `migration-threshold=often` is not a score (an integer, INFINITY or -INFINITY): Pacemaker uses its default",
        ),
        (
            "primitive vip ocf:heartbeat:IPaddr2 params ip=\u{201c}10.0.0.1\u{201d}",
            "error: vip: `ip=\u{201c}10.0.0.1\u{201d}` has typographic quotes, pasted from a web page? They are part of the value; write ip=10.0.0.1",
        ),
    ];
    for (lines, expected) in table {
        let found = findings(lines);
        assert_eq!(found, [*expected], "for {lines:?}");
    }
}

#[test]
fn a_pacemaker_1_option_left_in_crm_config_says_what_replaced_it() {
    let cib = Cib::parse(
        r#"<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config><cluster_property_set id="o">
        <nvpair id="o-1" name="stonith-enabled" value="false"/>
        <nvpair id="o-2" name="default-resource-stickiness" value="100"/>
        </cluster_property_set></crm_config><nodes/><resources/><constraints/></configuration><status/></cib>"#,
    )
    .expect("a CIB");
    let found: Vec<String> = verify(&cib).iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [
            "warning: cluster: `default-resource-stickiness` is a Pacemaker 1.x option that Pacemaker 2 ignores; use `rsc_defaults resource-stickiness=…` (baton still reads it, Pacemaker 2 does not)"
        ]
    );
}

#[test]
fn what_the_tutorials_write_correctly_raises_nothing() {
    let found = findings(
        "primitive db ocf:heartbeat:Dummy op monitor interval=10s role=Promoted on-fail=restart\n\
         ms ms_db db meta notify=true master-max=1 clone-max=2 target-role=Started\n\
         rsc_defaults resource-stickiness=100 migration-threshold=3\n\
         op_defaults timeout=60s record-pending=true\n\
         property no-quorum-policy=ignore cluster-recheck-interval=5min",
    );
    assert_eq!(found, Vec::<String>::new());
}

/// Errors of the name and value checks on Pacemaker's own regression CIBs
/// (the `cases` directory beside this repository): each one listed here is
/// a real problem of that CIB.
const REAL_PROBLEMS: &[&str] = &[
    "intervals: error: rsc6: op monitor has timeout=`bad`, which is not a duration (e.g. 30s, 5min, PT1M)",
];

#[test]
fn pacemakers_regression_cibs_raise_no_false_errors() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pacemaker-scheduler-cases/xml");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the scheduler corpus is required at {}: {e}", dir.display()));
    let mut unexpected = Vec::new();
    let mut read = 0;
    for entry in entries {
        let path = entry.expect("entry").path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(cib) = Cib::parse(&text) else { continue };
        read += 1;
        let case = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        for finding in verify(&cib) {
            let ours = ["is not a", "is not one of", "typographic quotes"]
                .iter()
                .any(|p| finding.text.contains(p));
            let line = format!("{case}: {finding}");
            if finding.severity == Severity::Error
                && ours
                && !REAL_PROBLEMS.contains(&line.as_str())
            {
                unexpected.push(line);
            }
        }
    }
    assert!(read > 800, "only {read} corpus CIBs read");
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}
