//! `priority-fencing-delay`: after a split, fencing the lost node that ran
//! the more important resources waits, so that its half shoots first and
//! it survives. Node priority is the sum of its resources' `priority`
//! (a promoted instance counts one more).

use baton_cib::Cib;
use baton_scheduler::graph::PRIORITY_FENCING_DELAY;
use baton_scheduler::{EpochSeconds, Task, schedule};

/// n2 is lost (not in the membership) while running `db` (priority
/// `db_priority`); n1 runs `web` (priority 1).
fn split(delay: Option<&str>, db_priority: u32) -> Cib {
    let delay = delay.map_or(String::new(), |d| {
        format!(r#"<nvpair id="o-pfd" name="priority-fencing-delay" value="{d}"/>"#)
    });
    let started = |rsc: &str, node: &str| {
        format!(
            r#"<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_start_0" operation="start" transition-key="1:1:0:00000000-0000-0000-0000-000000000001" transition-magic="0:0;1:1:0:00000000-0000-0000-0000-000000000001" call-id="2" rc-code="0" op-status="0" interval="0" last-rc-change="1000" exec-time="0" queue-time="0" on_node="{node}"/></lrm_resource>"#
        )
    };
    let text = format!(
        r#"<cib admin_epoch="0" epoch="5" num_updates="0" validate-with="pacemaker-3.9" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config>
      <cluster_property_set id="options">{delay}</cluster_property_set>
    </crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources>
      <primitive id="fencer" class="stonith" type="fence_dummy"/>
      <primitive id="web" class="ocf" provider="heartbeat" type="Dummy">
        <meta_attributes id="web-meta"><nvpair id="web-p" name="priority" value="1"/></meta_attributes>
      </primitive>
      <primitive id="db" class="ocf" provider="heartbeat" type="Dummy">
        <meta_attributes id="db-meta"><nvpair id="db-p" name="priority" value="{db_priority}"/></meta_attributes>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources>{web}</lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="n2" in_ccm="false" crmd="offline" join="down" expected="member">
      <lrm id="2"><lrm_resources>{db}</lrm_resources></lrm>
    </node_state>
  </status>
</cib>"#,
        web = started("web", "n1"),
        db = started("db", "n2"),
    );
    Cib::parse(&text).expect("test CIB parses")
}

/// The fencing of n2 and what its meta says about the delay.
fn fencing_delay(cib: &Cib) -> Option<String> {
    let transition = schedule(cib, EpochSeconds(2000)).expect("schedules");
    let fence = transition
        .graph
        .actions
        .iter()
        .find(|a| a.task == Task::Stonith)
        .unwrap_or_else(|| panic!("n2 is fenced:\n{}", transition.summary.join("\n")));
    assert_eq!(
        fence.node.as_ref().map(|n| n.name.to_string()),
        Some("n2".into())
    );
    fence.meta.get(PRIORITY_FENCING_DELAY).cloned()
}

#[test]
fn the_lost_node_with_the_more_important_resources_is_fenced_after_the_delay() {
    assert_eq!(
        fencing_delay(&split(Some("15s"), 10)).as_deref(),
        Some("15")
    );
}

#[test]
fn the_lost_node_with_the_less_important_resources_is_fenced_at_once() {
    let mut cib = split(Some("15s"), 0);
    assert_eq!(fencing_delay(&cib).as_deref(), Some("0"));
    cib = split(Some("1min"), 0);
    assert_eq!(fencing_delay(&cib).as_deref(), Some("0"));
}

#[test]
fn equal_priorities_or_no_setting_leave_the_choice_to_the_two_node_tie_break() {
    assert_eq!(fencing_delay(&split(Some("15s"), 1)), None);
    assert_eq!(fencing_delay(&split(None, 10)), None);
}
