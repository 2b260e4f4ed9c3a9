//! **Resource convergence.** After the faults stop, within the bound, the
//! DC's transitions are complete, nothing runs in any lrmd, and the world
//! is what the scheduler wants: the DC's status says of every primitive
//! exactly where it is active, planning again would change nothing, and
//! every primitive is active on exactly one live node unless the scheduler
//! may not run it anywhere (banned everywhere by failures, or blocked by a
//! stop that failed) (CONTROLLER.md §8 "convergence"; STYLE rule 7).

use std::collections::{BTreeMap, BTreeSet};

use baton_cib::Cib;
use baton_scheduler::EpochSeconds;

use super::{EndOfRun, Invariant, Observation};

#[derive(Debug)]
pub struct ResourceConvergence;

impl Invariant for ResourceConvergence {
    fn name(&self) -> &'static str {
        "resource-convergence"
    }

    fn observe(&mut self, _observation: &Observation<'_>) -> Result<(), String> {
        Ok(())
    }

    fn finish(&mut self, end: &EndOfRun) -> Result<(), String> {
        let Some(dc) = end.controllers.first().and_then(|c| c.dc) else {
            return Ok(());
        };
        let Some(dc) = end.controllers.iter().find(|c| c.node.0 == dc) else {
            return Err(format!("the DC, node {dc}, has no controller at the end"));
        };
        if !dc.transition_idle {
            return Err(format!(
                "the DC, node {}, still runs or plans a transition",
                dc.node
            ));
        }
        if !end.world_idle {
            return Err("an lrmd action, monitor report or fencing is still under way".to_owned());
        }
        let cib = Cib::parse(&dc.cib).map_err(|e| format!("the DC's CIB does not parse: {e}"))?;
        resources_converged(&cib, &end.world, end.wall_s)
    }
}

/// Whether the world (resources active per live node, by node name) is
/// what the DC's CIB records and the scheduler wants at `wall_s`.
pub fn resources_converged(
    cib: &Cib,
    world: &BTreeMap<String, BTreeSet<String>>,
    wall_s: i64,
) -> Result<(), String> {
    let now = EpochSeconds(wall_s);
    let transition = baton_scheduler::schedule(cib, now).map_err(|e| e.to_string())?;
    if !transition.graph.actions.is_empty() {
        return Err(format!(
            "the scheduler still wants {:?} ({:?})",
            transition
                .graph
                .actions
                .iter()
                .map(|a| (&a.key, a.node.as_ref().map(|n| n.name.to_string())))
                .collect::<Vec<_>>(),
            transition.summary
        ));
    }
    let cluster = baton_scheduler::unpack::unpack(cib, now).map_err(|e| e.to_string())?;
    for index in cluster.primitives() {
        let rsc = cluster.rsc(index);
        // Fencing devices run in the controllers, not in any lrmd: the
        // world does not hold them, and the scheduler wanting nothing
        // already says they are where they should be.
        if rsc.run.agent.class == "stonith" {
            continue;
        }
        let recorded: BTreeSet<&str> = rsc
            .status
            .running
            .iter()
            .map(|(node, _)| cluster.node(*node).uname.as_str())
            .collect();
        let actual: BTreeSet<&str> = world
            .iter()
            .filter(|(_, active)| active.contains(&rsc.id))
            .map(|(node, _)| node.as_str())
            .collect();
        // A stop that failed without fencing leaves the resource blocked:
        // the cluster must assume it still runs, whatever the agent left.
        let agrees = if rsc.status.blocked {
            actual.is_subset(&recorded)
        } else {
            recorded == actual
        };
        if !agrees {
            return Err(format!(
                "{} is active on {actual:?} but the DC's status says {recorded:?}",
                rsc.id
            ));
        }
        // Blocked (fencing disabled) after a split that recovered it too:
        // two copies that only the user can clean up, by their choice.
        if actual.len() > 1 && !rsc.status.blocked {
            return Err(format!("{} is active on {actual:?}", rsc.id));
        }
        let runnable = world.keys().any(|name| {
            cluster
                .node_by_name(name)
                .is_some_and(|node| !rsc.status.banned.contains(&node))
        });
        let held_back = rsc.status.blocked || rsc.status.stopped_by_failure || !runnable;
        if actual.is_empty() && !held_back {
            return Err(format!("{} is stopped though it may run", rsc.id));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CIB: &str = r#"<cib admin_epoch="0" epoch="3" num_updates="0" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources><primitive id="w1" class="ocf" provider="heartbeat" type="Dummy"/></resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources>
        <lrm_resource id="w1" class="ocf" provider="heartbeat" type="Dummy">
          <lrm_rsc_op id="w1_last_0" operation_key="w1_start_0" operation="start" call-id="2" rc-code="0" op-status="0" interval="0" transition-key="1:1:0:x"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="2"><lrm_resources>
        <lrm_resource id="w1" class="ocf" provider="heartbeat" type="Dummy">
          <lrm_rsc_op id="w1_last_0" operation_key="w1_monitor_0" operation="monitor" call-id="1" rc-code="7" op-status="0" interval="0" transition-key="2:1:7:x"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
  </status>
</cib>"#;

    fn world(n1: &[&str], n2: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
        let set = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect();
        BTreeMap::from([("n1".to_owned(), set(n1)), ("n2".to_owned(), set(n2))])
    }

    #[test]
    fn a_world_that_differs_from_the_status_is_caught() {
        let cib = Cib::parse(CIB).expect("test CIB parses");
        assert_eq!(resources_converged(&cib, &world(&["w1"], &[]), 0), Ok(()));
        assert!(
            resources_converged(&cib, &world(&[], &[]), 0).is_err(),
            "w1 failed unnoticed"
        );
        assert!(
            resources_converged(&cib, &world(&["w1"], &["w1"]), 0).is_err(),
            "a copy nobody knows of"
        );
    }

    #[test]
    fn a_stopped_resource_the_scheduler_would_start_is_caught() {
        let stopped = CIB.replace(
            r#"operation_key="w1_start_0" operation="start" call-id="2" rc-code="0""#,
            r#"operation_key="w1_stop_0" operation="stop" call-id="2" rc-code="0""#,
        );
        let cib = Cib::parse(&stopped).expect("test CIB parses");
        let result = resources_converged(&cib, &world(&[], &[]), 0);
        assert!(result.is_err(), "the scheduler would start w1: {result:?}");
    }
}
