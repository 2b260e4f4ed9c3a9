//! A failure whose on-fail is `standby` keeps its node in standby for as
//! long as the failure is recorded, even once the resource was stopped
//! there: only a clean-up (which erases the failure) brings the node back.

use baton_cib::Cib;
use baton_scheduler::unpack::unpack;
use baton_scheduler::{EpochSeconds, schedule};

/// `svc` (its start on-fail=standby) with `history` on n1.
fn cluster(history: &str) -> Cib {
    let text = format!(
        r#"<cib admin_epoch="0" epoch="5" num_updates="0" validate-with="pacemaker-3.9" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config>
      <cluster_property_set id="options">
        <nvpair id="o-stonith" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources>
      <primitive id="svc" class="lsb" type="svc">
        <operations>
          <op id="svc-start" name="start" interval="0" timeout="20s" on-fail="standby"/>
        </operations>
      </primitive>
      <primitive id="other" class="ocf" provider="heartbeat" type="Dummy"/>
    </resources>
    <constraints>
      <rsc_location id="other-on-n1" rsc="other" node="n1" score="100"/>
    </constraints>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources>
        <lrm_resource id="svc" class="lsb" type="svc">{history}</lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="2"><lrm_resources/></lrm>
    </node_state>
  </status>
</cib>"#
    );
    Cib::parse(&text).expect("test CIB parses")
}

fn op(id: &str, task: &str, call_id: i64, rc: i32) -> String {
    format!(
        r#"<lrm_rsc_op id="{id}" operation_key="svc_{task}_0" operation="{task}" transition-key="1:1:0:00000000-0000-0000-0000-000000000001" transition-magic="0:{rc};1:1:0:00000000-0000-0000-0000-000000000001" call-id="{call_id}" rc-code="{rc}" op-status="0" interval="0" last-rc-change="1000" exec-time="0" queue-time="0" on_node="n1"/>"#
    )
}

#[test]
fn a_failed_start_then_its_stop_leave_the_node_in_standby_on_fail() {
    let history = op("svc_last_failure_0", "start", 2, 1) + &op("svc_last_0", "stop", 3, 0);
    let cib = cluster(&history);
    let cluster = unpack(&cib, EpochSeconds(2000)).expect("unpacks");
    let n1 = cluster.nodes.iter().find(|n| n.uname == "n1").expect("n1");
    assert!(n1.standby && n1.standby_on_fail, "{n1:?}");
    let transition = schedule(&cib, EpochSeconds(2000)).expect("schedules");
    let summary = transition.summary.join("\n");
    assert!(
        summary.contains("other") && summary.contains("( n2 )"),
        "nothing starts on n1 while it is in standby:\n{summary}"
    );
}

#[test]
fn without_the_failure_the_node_takes_resources_again() {
    let cib = cluster(&op("svc_last_0", "stop", 3, 0));
    let cluster = unpack(&cib, EpochSeconds(2000)).expect("unpacks");
    let n1 = cluster.nodes.iter().find(|n| n.uname == "n1").expect("n1");
    assert!(!n1.standby && !n1.standby_on_fail, "{n1:?}");
}
