//! What `apply`, `replace` and `verify` do to a CIB, as a user sees it.

use baton_cib::Cib;
use baton_cib::xml::Style;
use baton_configure::{AgentLookup, ApplyError, Severity, apply, replace, show_text, verify};
use baton_crmsh::ast::{Agent, Command};

/// Only `ocf:pacemaker:*` is installed.
struct PacemakerOnly;

impl AgentLookup for PacemakerOnly {
    fn is_installed(&self, agent: &Agent) -> Option<bool> {
        Some(agent.provider.as_deref() == Some("pacemaker"))
    }
}

fn commands(text: &str) -> Vec<Command> {
    baton_crmsh::parse(text)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|l| l.command)
        .collect()
}

fn run(cib: &mut Cib, text: &str) -> Result<Vec<String>, ApplyError> {
    apply(cib, &commands(text), &PacemakerOnly)
        .map(|notices| notices.iter().map(ToString::to_string).collect())
}

fn loaded(text: &str) -> Cib {
    let mut cib = Cib::empty();
    run(&mut cib, text).unwrap_or_else(|e| panic!("{e}"));
    cib
}

fn xml(cib: &Cib) -> String {
    cib.to_xml(Style::Pretty)
}

#[test]
fn a_failed_batch_changes_nothing() {
    let mut cib = loaded("primitive a ocf:pacemaker:Dummy\n");
    let before = xml(&cib);
    let err = run(
        &mut cib,
        "primitive b ocf:pacemaker:Dummy\ngroup g a nosuch\n",
    )
    .expect_err("nosuch is undefined");
    assert!(matches!(err, ApplyError::Missing { .. }), "{err}");
    assert_eq!(xml(&cib), before);
}

#[test]
fn redefining_replaces_in_place_even_inside_a_group() {
    let mut cib =
        loaded("primitive a ocf:pacemaker:Dummy\nprimitive b ocf:pacemaker:Dummy\ngroup g a b\n");
    run(&mut cib, "primitive a ocf:pacemaker:Stateful params x=1").expect("redefine");
    let text = show_text(&cib, &[]).expect("show");
    assert!(
        text.contains("primitive a ocf:pacemaker:Stateful \\\n\tparams x=1\n"),
        "{text}"
    );
    assert!(text.contains("group g a b\n"), "{text}");
}

#[test]
fn an_id_of_another_kind_is_refused() {
    let mut cib = loaded("primitive a ocf:pacemaker:Dummy\ngroup g a\n");
    let err = run(&mut cib, "primitive g ocf:pacemaker:Dummy").expect_err("g is a group");
    assert_eq!(
        err.to_string(),
        "`g` is already a group, not a primitive; delete it first or choose another id"
    );
}

#[test]
fn wrong_nesting_is_refused() {
    let mut cib = loaded(
        "primitive a ocf:pacemaker:Dummy\nprimitive b ocf:pacemaker:Dummy\ngroup g a\nclone c b\n",
    );
    for (text, why) in [
        ("group g2 g", "a group holds only primitives"),
        ("clone c2 c", "a clone holds a primitive or a group"),
        ("group g3 a", "it already belongs to group `g`"),
        ("clone c3 a", "it already belongs to group `g`"),
    ] {
        let err = run(&mut cib, text).expect_err(text);
        assert!(err.to_string().contains(why), "{text}: {err}");
    }
    // A clone of a group is fine.
    run(&mut cib, "clone cg g").expect("clone of a group");
}

#[test]
fn delete_is_refused_while_referenced_and_keeps_what_a_group_held() {
    let mut cib = loaded(
        "primitive a ocf:pacemaker:Dummy\nprimitive b ocf:pacemaker:Dummy\ngroup g a b\nlocation l g 100: n1\n",
    );
    let err = run(&mut cib, "delete a").expect_err("a is in g");
    assert_eq!(
        err.to_string(),
        "`a` is still referenced by group g; delete or change those first"
    );
    let err = run(&mut cib, "delete g").expect_err("l names g");
    assert!(err.to_string().contains("rsc_location l"), "{err}");
    let notices = run(&mut cib, "delete l g").expect("both at once");
    assert_eq!(
        notices,
        ["g: deleted; what it held stays defined on its own"]
    );
    let text = show_text(&cib, &[]).expect("show");
    assert_eq!(
        text,
        "primitive a ocf:pacemaker:Dummy\nprimitive b ocf:pacemaker:Dummy\n"
    );
    let err = run(&mut cib, "delete nosuch").expect_err("unknown id");
    assert!(matches!(err, ApplyError::NotFound { .. }));
}

#[test]
fn notices_for_ms_legacy_options_and_missing_agents() {
    let mut cib = Cib::empty();
    let notices = run(
        &mut cib,
        "primitive db ocf:heartbeat:pgsql\nms ms-db db\nproperty default-resource-stickiness=100 default-action-timeout=60s\n",
    )
    .expect("apply");
    assert_eq!(notices.len(), 4, "{notices:?}");
    assert!(notices[0].contains("ocf:heartbeat:pgsql is not installed"));
    assert!(notices[1].contains("promotable clone"));
    let text = show_text(&cib, &[]).expect("show");
    assert!(
        text.contains("clone ms-db db \\\n\tmeta promotable=true\n"),
        "{text}"
    );
    assert!(
        text.contains("rsc_defaults rsc-options: \\\n\tresource-stickiness=100\n"),
        "{text}"
    );
    assert!(
        text.contains("op_defaults op-options: \\\n\ttimeout=60s\n"),
        "{text}"
    );
    assert!(!text.contains("default-"), "{text}");
}

#[test]
fn property_lines_merge_and_old_spellings_are_updated_in_place() {
    let mut cib = loaded("property stonith-enabled=false\nproperty no-quorum-policy=ignore\n");
    run(&mut cib, "property stonith-enabled=true").expect("update");
    assert_eq!(
        show_text(&cib, &[]).expect("show"),
        "property cib-bootstrap-options: \\\n\tstonith-enabled=true \\\n\tno-quorum-policy=ignore\n"
    );
    // Pacemaker's newer name for the same option updates the one entry.
    let mut cib = loaded("property fencing-enabled=true\n");
    run(&mut cib, "property stonith-enabled=false").expect("update");
    assert_eq!(
        show_text(&cib, &[]).expect("show"),
        "property cib-bootstrap-options: \\\n\tfencing-enabled=false\n"
    );
    assert_eq!(verify(&cib), []);
}

#[test]
fn crmsh_ids_and_layout() {
    let cib = loaded(
        "primitive fs Filesystem params device=/dev/sdb op monitor interval=20s OCF_CHECK_LEVEL=10 op start timeout=60s\ncolocation c inf: a:Started b:Promoted\n",
    );
    let out = xml(&cib);
    for expected in [
        r#"<instance_attributes id="fs-instance_attributes">"#,
        r#"<nvpair id="fs-instance_attributes-device" name="device" value="/dev/sdb"/>"#,
        r#"<op id="fs-monitor-20s" name="monitor" interval="20s">"#,
        r#"<nvpair id="fs-monitor-20s-instance_attributes-OCF_CHECK_LEVEL" name="OCF_CHECK_LEVEL" value="10"/>"#,
        r#"<op id="fs-start-0s" name="start" timeout="60s" interval="0s"/>"#,
        r#"<rsc_colocation id="c" score="INFINITY" rsc="a" with-rsc="b" rsc-role="Started" with-rsc-role="Promoted"/>"#,
    ] {
        assert!(out.contains(expected), "missing {expected} in\n{out}");
    }
}

#[test]
fn replace_drops_what_the_text_no_longer_defines_but_keeps_bundles() {
    let mut cib = Cib::parse(
        r#"<cib epoch="3" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources><primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/><primitive id="b" class="ocf" provider="pacemaker" type="Dummy"/><bundle id="bu"/></resources><constraints><rsc_ticket id="t" rsc="a" ticket="T"/><rsc_location id="l" rsc="b" node="n1" score="1"/></constraints></configuration><status/></cib>"#,
    )
    .expect("cib");
    replace(
        &mut cib,
        &commands("primitive a ocf:pacemaker:Dummy\n"),
        &PacemakerOnly,
    )
    .expect("replace");
    let text = show_text(&cib, &[]).expect("show");
    assert_eq!(
        text,
        "primitive a ocf:pacemaker:Dummy\n# not shown: bundle bu: kept in the CIB; see `baton cib query`\n# not shown: rsc_ticket t: kept in the CIB; see `baton cib query`\n"
    );
    assert_eq!(cib.attr("epoch"), Some("4"));
}

#[test]
fn verify_finds_what_crm_verify_finds() {
    let cib = Cib::parse(
        r#"<cib epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes><node id="1" uname="n1"/></nodes><resources>
        <primitive id="a" class="bogus" type="X"><operations><op id="a-m" name="monitor" interval="often"/></operations></primitive>
        <group id="g"><group id="g2"><primitive id="x" class="ocf" provider="pacemaker" type="Dummy"/></group></group>
        <clone id="c"><clone id="c2"><primitive id="y" class="ocf" type="Dummy"/></clone></clone>
        <primitive id="a" class="lsb" type="z"/>
        </resources><constraints>
        <rsc_location id="l" rsc="nosuch" node="n9" score="lots"/>
        </constraints></configuration><status/></cib>"#,
    )
    .expect("cib");
    let findings = verify(&cib);
    let text: Vec<String> = findings.iter().map(ToString::to_string).collect();
    for expected in [
        "error: a: the id is used by a <primitive> and a <primitive>",
        "error: a: unknown resource class `bogus`",
        "error: a: op monitor has interval=`often`",
        "error: g2: a group cannot be inside another group",
        "error: c2: a clone cannot be inside a clone",
        "error: y: an ocf resource needs a provider",
        "error: l: `lots` is not a score",
        "error: l: refers to resource `nosuch`, which does not exist",
        "warning: l: node `n9` is not in the nodes section",
        "error: cluster: Resource start-up disabled since no STONITH resources have been defined",
    ] {
        assert!(
            text.iter().any(|t| t.starts_with(expected)),
            "missing {expected} in {text:#?}"
        );
    }
    assert!(findings.iter().any(|f| f.severity == Severity::Warning));
}

#[test]
fn verify_is_clean_with_a_fence_device_or_stonith_disabled() {
    let fenced = loaded(
        "primitive f stonith:fence_ipmilan params ip=1.2.3.4\nprimitive a ocf:pacemaker:Dummy\n",
    );
    assert_eq!(verify(&fenced), []);
    let test_cluster = loaded("property stonith-enabled=false\nprimitive a ocf:pacemaker:Dummy\n");
    assert_eq!(verify(&test_cluster), []);
}

#[test]
fn verify_warns_of_a_node_no_device_can_fence_and_a_device_that_fences_nobody() {
    let mut cib = loaded(
        "node n1\nnode n2\nnode n3\n\
         primitive f1 stonith:fence_ipmilan params ip=1.2.3.4 pcmk_host_list=n1\n\
         primitive f2 stonith:fence_ipmilan params ip=1.2.3.5 pcmk_host_list=n2\n\
         primitive old stonith:fence_ipmilan params ip=1.2.3.6 pcmk_host_list=oldnode\n\
         primitive a ocf:pacemaker:Dummy\n",
    );
    let text: Vec<String> = verify(&cib).iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "warning: old: its pcmk_host_list/pcmk_host_map names no node of this cluster (n1, n2, n3): it can fence nobody",
            "warning: n3: no fencing device can fence n3 (every device's pcmk_host_list or pcmk_host_map leaves it out): if it is lost, what ran there cannot be recovered",
        ]
    );
    run(
        &mut cib,
        "primitive f3 stonith:fence_ipmilan params ip=1.2.3.7 pcmk_host_list=n3\ndelete old\n",
    )
    .expect("edit");
    assert_eq!(verify(&cib), []);
}

#[test]
fn replace_can_move_a_resource_out_of_a_group_it_drops() {
    let mut cib = loaded("primitive a ocf:pacemaker:Dummy\ngroup g a\n");
    let text = "primitive a ocf:pacemaker:Dummy\nclone c a\n";
    replace(&mut cib, &commands(text), &PacemakerOnly).expect("replace");
    assert_eq!(show_text(&cib, &[]).expect("show"), text);
}

#[test]
fn show_merges_plain_sets_and_reports_sets_with_rules() {
    let cib = Cib::parse(
        r##"<cib epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources><primitive id="a" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="m1"><nvpair id="m1-x" name="x" value="1"/></meta_attributes><meta_attributes id="m2"><nvpair id="m2-x" name="x" value="2"/><nvpair id="m2-y" name="y" value="3"/></meta_attributes><meta_attributes id="m3"><rule id="r" score="0"><expression id="e" attribute="#uname" operation="eq" value="n1"/></rule><nvpair id="m3-z" name="z" value="4"/></meta_attributes></primitive></resources><constraints/></configuration><status/></cib>"##,
    )
    .expect("cib");
    assert_eq!(
        show_text(&cib, &[]).expect("show"),
        "primitive a ocf:pacemaker:Dummy \\\n\tmeta $id=m1 x=1 y=3\n# not shown: meta_attributes m3 of primitive a (it has a rule; redefining a drops it)\n"
    );
}
