//! `baton configure … --dry-run` shows what a change would make the
//! cluster do and changes nothing.

mod common;

use common::{baton, stderr, stdout};

/// vip runs on n1; n2 is online too.
const CIB: &str = r#"<cib admin_epoch="0" epoch="5" num_updates="0" validate-with="pacemaker-3.9" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="options">
      <nvpair id="o-stonith" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources><primitive id="vip" class="ocf" provider="heartbeat" type="Dummy"/></resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources>
        <lrm_resource id="vip" class="ocf" provider="heartbeat" type="Dummy">
          <lrm_rsc_op id="vip_last_0" operation_key="vip_start_0" operation="start" transition-key="1:1:0:00000000-0000-0000-0000-000000000001" transition-magic="0:0;1:1:0:00000000-0000-0000-0000-000000000001" call-id="3" rc-code="0" op-status="0" interval="0" last-rc-change="1000" exec-time="0" queue-time="0" on_node="n1"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="2"><lrm_resources>
        <lrm_resource id="vip" class="ocf" provider="heartbeat" type="Dummy">
          <lrm_rsc_op id="vip_last_0" operation_key="vip_monitor_0" operation="monitor" transition-key="2:1:7:00000000-0000-0000-0000-000000000001" transition-magic="0:7;2:1:7:00000000-0000-0000-0000-000000000001" call-id="1" rc-code="7" op-status="0" interval="0" last-rc-change="1000" exec-time="0" queue-time="0" on_node="n2"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
  </status>
</cib>"#;

fn cib_file(dir: &std::path::Path) -> String {
    let path = dir.join("cib.xml");
    std::fs::write(&path, CIB).expect("write cib");
    path.to_str().expect("utf-8").to_owned()
}

#[test]
fn a_dry_run_shows_the_move_a_ban_would_cause_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = cib_file(dir.path());
    let out = baton(&[
        "configure",
        "--cib",
        &cib,
        "location",
        "no-n1",
        "vip",
        "-inf:",
        "n1",
        "--dry-run",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Transition Summary (if committed):"),
        "{text}"
    );
    assert!(
        text.contains("Move") && text.contains("vip") && text.contains("n1 -> n2"),
        "{text}"
    );
    assert!(text.contains("Nothing was changed (--dry-run)."), "{text}");
    assert_eq!(std::fs::read_to_string(&cib).expect("cib"), CIB);
}

#[test]
fn a_dry_run_of_what_is_already_configured_says_nothing_would_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = cib_file(dir.path());
    let out = baton(&[
        "configure",
        "--dry-run",
        "--cib",
        &cib,
        "property",
        "stonith-enabled=false",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Nothing would change"),
        "{}",
        stdout(&out)
    );
    let out = baton(&["configure", "--cib", &cib, "show", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
