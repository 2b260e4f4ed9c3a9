//! `baton explain RSC` on a CIB file: where the resource runs, the plan,
//! its scores, and every setting that weighs on them, as sentences.

mod common;

use common::{baton, stderr, stdout};

const CIB: &str = r#"<cib admin_epoch="0" epoch="5" num_updates="0" validate-with="pacemaker-3.9" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="options">
      <nvpair id="o-stonith" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes>
      <node id="1" uname="n1"/>
      <node id="2" uname="n2"/>
      <node id="3" uname="n3"><instance_attributes id="n3-ia"><nvpair id="n3-standby" name="standby" value="on"/></instance_attributes></node>
    </nodes>
    <resources>
      <primitive id="vip" class="ocf" provider="heartbeat" type="Dummy">
        <meta_attributes id="vip-meta"><nvpair id="vip-mt" name="migration-threshold" value="3"/></meta_attributes>
      </primitive>
      <primitive id="off" class="ocf" provider="heartbeat" type="Dummy">
        <meta_attributes id="off-meta"><nvpair id="off-tr" name="target-role" value="Stopped"/></meta_attributes>
      </primitive>
    </resources>
    <constraints>
      <rsc_location id="prefer-n1" rsc="vip" node="n1" score="100"/>
      <rsc_location id="cli-ban-vip-on-n2" rsc="vip" role="Started" node="n2" score="-INFINITY"/>
    </constraints>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="1"><instance_attributes id="status-1">
        <nvpair id="status-1-fc" name="fail-count-vip#monitor_10000" value="1"/>
        <nvpair id="status-1-lf" name="last-failure-vip#monitor_10000" value="1000"/>
      </instance_attributes></transient_attributes>
      <lrm id="1"><lrm_resources>
        <lrm_resource id="vip" class="ocf" provider="heartbeat" type="Dummy">
          <lrm_rsc_op id="vip_last_0" operation_key="vip_start_0" operation="start" transition-key="1:1:0:00000000-0000-0000-0000-000000000001" transition-magic="0:0;1:1:0:00000000-0000-0000-0000-000000000001" call-id="3" rc-code="0" op-status="0" interval="0" last-rc-change="1000" exec-time="0" queue-time="0" on_node="n1"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="3" uname="n3" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>"#;

fn explain(args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    std::fs::write(&cib, CIB).expect("write cib");
    let mut all = vec!["explain"];
    all.extend(args);
    all.extend(["--cib", cib.to_str().expect("utf-8")]);
    baton(&all)
}

#[test]
fn explain_says_where_it_runs_and_every_score_that_decided() {
    let out = explain(&["vip"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for said in [
        "vip runs on n1.",
        "The cluster plans nothing for it.",
        "Allocation scores (highest wins; -INFINITY never): n1 100, n3 0, n2 -INFINITY",
        "location prefer-n1: 100 on n1",
        "location cli-ban-vip-on-n2: -INFINITY on n2 (left by `resource move`/`ban`; `baton resource clear vip` removes it)",
        "n1: 1 failure against migration-threshold 3",
        "n3 is in standby",
    ] {
        assert!(text.contains(said), "no {said:?} in:\n{text}");
    }
}

#[test]
fn explain_says_why_a_resource_does_not_run() {
    let out = explain(&["off"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("off is not running."), "{text}");
    assert!(
        text.contains("target-role is Stopped: the cluster keeps it stopped (`baton resource start off` lets it run)"),
        "{text}"
    );
}

#[test]
fn explain_json_and_an_unknown_resource() {
    let out = explain(&["vip", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["running_on"], serde_json::json!(["n1"]));
    assert_eq!(
        json["scores"][0],
        serde_json::json!({"node": "n1", "score": "100"})
    );
    let out = explain(&["nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("there is no resource \"nope\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_groups_scores_are_its_first_members_which_place_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    let cib = cib.to_str().expect("utf-8");
    for command in [
        "node n1",
        "node n2",
        "property stonith-enabled=false",
        "primitive a ocf:heartbeat:Dummy",
        "primitive b ocf:heartbeat:Dummy",
        "group g a b",
        "location g-on-n2 g 50: n2",
    ] {
        let out = baton(&["configure", "--cib", cib, command]);
        assert!(out.status.success(), "{command}: {}", stderr(&out));
    }
    let out = baton(&["explain", "g", "--cib", cib]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("g is not running."), "{text}");
    assert!(text.contains("n2 50, n1 0"), "{text}");
    assert!(text.contains("location g-on-n2: 50 on n2"), "{text}");
}
