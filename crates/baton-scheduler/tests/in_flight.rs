//! Actions still running on a node, as the node reports them: the state
//! they leave unknown is probed there before anything starts elsewhere.

use baton_cib::Cib;
use baton_scheduler::{EpochSeconds, Graph, schedule};

/// `ip` on n2 with `history` there, nothing known on n1, and n2 in
/// standby so that `ip` belongs on n1.
fn cluster(history: &str) -> Cib {
    let text = format!(
        r#"<cib admin_epoch="0" epoch="5" num_updates="0" validate-with="pacemaker-3.9" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config>
      <cluster_property_set id="options">
        <nvpair id="o-stonith" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1" uname="n1"/>
      <node id="2" uname="n2">
        <instance_attributes id="n2-ia"><nvpair id="n2-standby" name="standby" value="on"/></instance_attributes>
      </node>
    </nodes>
    <resources>
      <primitive id="ip" class="ocf" provider="heartbeat" type="Dummy"/>
    </resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources/></lrm>
    </node_state>
    <node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="2"><lrm_resources>
        <lrm_resource id="ip" class="ocf" provider="heartbeat" type="Dummy">{history}</lrm_resource>
      </lrm_resources></lrm>
    </node_state>
  </status>
</cib>"#
    );
    Cib::parse(&text).expect("test CIB parses")
}

fn op(task: &str, call_id: i64, rc: i32, status: i32) -> String {
    format!(
        r#"<lrm_rsc_op id="ip_last_0" operation_key="ip_{task}_0" operation="{task}" transition-key="1:1:0:00000000-0000-0000-0000-000000000001" transition-magic="{status}:{rc};1:1:0:00000000-0000-0000-0000-000000000001" call-id="{call_id}" rc-code="{rc}" op-status="{status}" interval="0" last-rc-change="1000" exec-time="0" queue-time="0" on_node="n2"/>"#
    )
}

fn find<'g>(graph: &'g Graph, key: &str, node: &str) -> Option<&'g baton_scheduler::Action> {
    graph
        .actions
        .iter()
        .find(|a| a.key == key && a.node.as_ref().is_some_and(|n| &*n.name == node))
}

/// Whether `later` waits, directly or through others, for `first`.
fn waits_for(
    graph: &Graph,
    later: &baton_scheduler::Action,
    first: &baton_scheduler::Action,
) -> bool {
    let mut todo = later.inputs.clone();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(id) = todo.pop() {
        if id == first.id {
            return true;
        }
        if seen.insert(id) {
            todo.extend(graph.action(id).inputs.iter().copied());
        }
    }
    false
}

#[test]
fn a_stop_still_running_is_probed_there_before_the_resource_starts_elsewhere() {
    let cib = cluster(&op("stop", -1, 193, -1));
    let graph = schedule(&cib, EpochSeconds(2000)).expect("schedules").graph;
    let start = find(&graph, "ip_start_0", "n1").expect("ip starts on n1");
    let probe = find(&graph, "ip_monitor_0", "n2")
        .expect("ip's state on n2 is unknown while its stop runs: it is probed there");
    assert!(
        waits_for(&graph, start, probe),
        "the start on n1 waits for n2's probe, which the executor runs after the stop"
    );
}

#[test]
fn a_finished_stop_needs_no_probe() {
    let cib = cluster(&op("stop", 3, 0, 0));
    let graph = schedule(&cib, EpochSeconds(2000)).expect("schedules").graph;
    assert!(
        find(&graph, "ip_start_0", "n1").is_some(),
        "ip starts on n1"
    );
    assert!(
        find(&graph, "ip_monitor_0", "n2").is_none(),
        "n2's history says ip is stopped there"
    );
}
