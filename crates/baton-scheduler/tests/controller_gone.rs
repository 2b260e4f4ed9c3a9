//! A node still in the membership whose controller went away, as baton's
//! controller records it once the restart grace is over (join="down",
//! expected="member"): with fencing it is unclean, as Pacemaker's
//! "peer process is no longer available", so what it ran is recovered
//! elsewhere only after it is fenced. Regression: baton-sim seed 434, where
//! the scheduler read such a node as cleanly offline and started its
//! resource on a second node while the first lrmd still ran it.

use baton_cib::Cib;
use baton_scheduler::{EpochSeconds, Graph, Task, schedule};

/// `ip` running on n2, whose `node_state` is `n2_state`; n1 and n3 are up,
/// the fencing device runs on n1.
fn cluster(n2_state: &str) -> Cib {
    let text = format!(
        r#"<cib admin_epoch="0" epoch="5" num_updates="0" validate-with="pacemaker-3.9" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config>
      <cluster_property_set id="options">
        <nvpair id="o-stonith" name="stonith-enabled" value="true"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1" uname="n1"/>
      <node id="2" uname="n2"/>
      <node id="3" uname="n3"/>
    </nodes>
    <resources>
      <primitive id="fencing" class="stonith" type="fence_dummy"/>
      <primitive id="ip" class="ocf" provider="heartbeat" type="Dummy"/>
    </resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources>
        <lrm_resource id="fencing" class="stonith" type="fence_dummy">
          <lrm_rsc_op id="fencing_last_0" operation_key="fencing_start_0" operation="start" transition-key="2:1:0:00000000-0000-0000-0000-000000000001" transition-magic="0:0;2:1:0:00000000-0000-0000-0000-000000000001" call-id="2" rc-code="0" op-status="0" interval="0" last-rc-change="1000" exec-time="0" queue-time="0" on_node="n1"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="n2" {n2_state}>
      <lrm id="2"><lrm_resources>
        <lrm_resource id="ip" class="ocf" provider="heartbeat" type="Dummy">
          <lrm_rsc_op id="ip_last_0" operation_key="ip_start_0" operation="start" transition-key="1:1:0:00000000-0000-0000-0000-000000000001" transition-magic="0:0;1:1:0:00000000-0000-0000-0000-000000000001" call-id="3" rc-code="0" op-status="0" interval="0" last-rc-change="1000" exec-time="0" queue-time="0" on_node="n2"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="3" uname="n3" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="3"><lrm_resources/></lrm>
    </node_state>
  </status>
</cib>"#
    );
    Cib::parse(&text).expect("test CIB parses")
}

fn fences(graph: &Graph, node: &str) -> bool {
    graph
        .actions
        .iter()
        .any(|a| a.task == Task::Stonith && a.node.as_ref().is_some_and(|n| &*n.name == node))
}

/// ip runs nowhere and starts.
fn starts_ip(summary: &[String]) -> bool {
    summary
        .iter()
        .any(|l| l.contains("Start") && l.contains("ip"))
}

#[test]
fn a_member_whose_controller_is_gone_is_fenced_before_its_resource_moves() {
    let cib = cluster(r#"in_ccm="true" crmd="offline" join="down" expected="member""#);
    let transition = schedule(&cib, EpochSeconds(2000)).expect("schedules");
    assert!(
        fences(&transition.graph, "n2"),
        "n2's lrmd may still run ip: {:?}",
        transition.summary
    );
    assert!(
        transition
            .summary
            .iter()
            .any(|l| l.contains("ip") && l.contains("n2 ->")),
        "ip is moved from n2, not started as if stopped: {:?}",
        transition.summary
    );
}

#[test]
fn a_member_whose_controller_never_joined_is_not_fenced() {
    let cib = cluster(r#"in_ccm="true" crmd="offline" join="down""#);
    let transition = schedule(&cib, EpochSeconds(2000)).expect("schedules");
    assert!(
        !fences(&transition.graph, "n2"),
        "without an expected state it was never up for the cluster: {:?}",
        transition.summary
    );
    assert!(starts_ip(&transition.summary), "{:?}", transition.summary);
}

#[test]
fn a_member_that_left_cleanly_is_not_fenced() {
    let cib = cluster(r#"in_ccm="true" crmd="offline" join="down" expected="down""#);
    let transition = schedule(&cib, EpochSeconds(2000)).expect("schedules");
    assert!(!fences(&transition.graph, "n2"), "{:?}", transition.summary);
    assert!(starts_ip(&transition.summary), "{:?}", transition.summary);
}
