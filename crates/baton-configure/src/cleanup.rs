//! What `crm resource cleanup|refresh` clear, chosen from the CIB's status
//! as `crm_resource` chooses: per node, the history of each primitive (and
//! clone instance) of the resource, with its fail counts. A clean-up takes
//! only what failed there; a refresh takes every history, so the cluster
//! probes the resource afresh everywhere.

use std::collections::BTreeSet;

use baton_cib::Cib;

use crate::apply::ApplyError;
use crate::apply::xml::find_object;

/// Which histories go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanupScope {
    /// Those with a failure or a fail count (`cleanup`).
    Failed,
    /// All of them (`refresh`).
    All,
}

/// One history to erase: a history id (a primitive, or a clone instance
/// `rsc:N`) on a node.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CleanupTarget {
    pub node: String,
    pub resource: String,
}

const FAIL_COUNT_PREFIXES: [&str; 2] = ["fail-count-", "last-failure-"];

/// What cleaning up `resource` (every resource when `None`) on `node`
/// (every node when `None`) erases; empty when there is nothing to clean.
pub fn cleanup_targets(
    cib: &Cib,
    resource: Option<&str>,
    node: Option<&str>,
    scope: CleanupScope,
) -> Result<Vec<CleanupTarget>, ApplyError> {
    let wanted = match resource {
        Some(id) => Some(primitives_of(cib, id)?),
        None => None,
    };
    if let Some(node) = node
        && !known_node(cib, node)
    {
        return Err(ApplyError::Invalid {
            owner: node.to_owned(),
            reason: "there is no such node in the cluster (`baton status` lists them)".to_owned(),
        });
    }
    let mut targets = BTreeSet::new();
    for state in cib.node_states() {
        let Some(uname) = state.uname() else { continue };
        if node.is_some_and(|n| n != uname) {
            continue;
        }
        let mut found: BTreeSet<String> = state
            .transient_attributes()
            .flat_map(|set| set.pairs())
            .filter_map(|pair| counted_resource(pair.name()))
            .collect();
        for history in state.lrm_resources() {
            let failed = history.ops().any(|op| op.id().ends_with("_last_failure_0"));
            if failed || scope == CleanupScope::All {
                found.insert(history.id().to_owned());
            }
        }
        for id in found {
            let base = id.split(':').next().unwrap_or(&id);
            if wanted.as_ref().is_none_or(|w| w.contains(base)) {
                targets.insert(CleanupTarget {
                    node: uname.to_owned(),
                    resource: id,
                });
            }
        }
    }
    Ok(targets.into_iter().collect())
}

/// The resource a `fail-count-RSC#op_interval` (or older flat
/// `fail-count-RSC`) attribute counts for.
fn counted_resource(name: &str) -> Option<String> {
    let rest = FAIL_COUNT_PREFIXES
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))?;
    let resource = rest.rsplit_once('#').map_or(rest, |(r, _)| r);
    Some(resource.to_owned())
}

/// The primitives `id` stands for: itself, a group's or clone's members,
/// or a resource only the status still knows (an orphan).
fn primitives_of(cib: &Cib, id: &str) -> Result<BTreeSet<String>, ApplyError> {
    if let Some(element) = find_object(cib, id) {
        let element = cib.document().get(element);
        let mut ids: BTreeSet<String> = element
            .descendants()
            .filter(|e| e.name() == "primitive")
            .map(|e| e.xml_id().to_owned())
            .collect();
        if element.name() == "primitive" {
            ids.insert(id.to_owned());
        }
        if !ids.is_empty() {
            return Ok(ids);
        }
    }
    let in_history = cib.node_states().any(|state| {
        state
            .lrm_resources()
            .any(|h| h.id().split(':').next() == Some(id))
    });
    if in_history {
        return Ok(BTreeSet::from([id.to_owned()]));
    }
    Err(ApplyError::NotFound { id: id.to_owned() })
}

fn known_node(cib: &Cib, name: &str) -> bool {
    crate::apply::xml::find_node(cib, name).is_some()
        || cib.node_states().any(|s| s.uname() == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CIB: &str = r#"<cib><configuration><crm_config/><nodes>
        <node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
        <resources>
          <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"/>
          <clone id="web-clone"><primitive id="web" class="ocf" provider="heartbeat" type="apache"/></clone>
        </resources><constraints/></configuration>
        <status>
          <node_state id="1" uname="n1">
            <transient_attributes id="1"><instance_attributes id="status-1">
              <nvpair id="status-1-fail-count-vip.start_0" name="fail-count-vip#start_0" value="INFINITY"/>
            </instance_attributes></transient_attributes>
            <lrm id="1"><lrm_resources>
              <lrm_resource id="vip"><lrm_rsc_op id="vip_last_0"/><lrm_rsc_op id="vip_last_failure_0"/></lrm_resource>
              <lrm_resource id="web:0"><lrm_rsc_op id="web_last_0"/></lrm_resource>
            </lrm_resources></lrm>
          </node_state>
          <node_state id="2" uname="n2">
            <lrm id="2"><lrm_resources>
              <lrm_resource id="vip"><lrm_rsc_op id="vip_last_0"/></lrm_resource>
              <lrm_resource id="web:1"><lrm_rsc_op id="web_last_0"/><lrm_rsc_op id="web_last_failure_0"/></lrm_resource>
              <lrm_resource id="old"><lrm_rsc_op id="old_last_0"/></lrm_resource>
            </lrm_resources></lrm>
          </node_state>
        </status></cib>"#;

    fn targets(
        resource: Option<&str>,
        node: Option<&str>,
        scope: CleanupScope,
    ) -> Vec<(String, String)> {
        let cib = Cib::parse(CIB).expect("the test CIB parses");
        cleanup_targets(&cib, resource, node, scope)
            .expect("a valid clean-up")
            .into_iter()
            .map(|t| (t.node, t.resource))
            .collect()
    }

    fn pair(node: &str, resource: &str) -> (String, String) {
        (node.to_owned(), resource.to_owned())
    }

    #[test]
    fn a_cleanup_takes_only_the_nodes_where_the_resource_failed() {
        assert_eq!(
            targets(Some("vip"), None, CleanupScope::Failed),
            [pair("n1", "vip")]
        );
    }

    #[test]
    fn a_refresh_takes_every_node_that_has_history() {
        assert_eq!(
            targets(Some("vip"), None, CleanupScope::All),
            [pair("n1", "vip"), pair("n2", "vip")]
        );
        assert_eq!(
            targets(Some("vip"), Some("n2"), CleanupScope::All),
            [pair("n2", "vip")]
        );
    }

    #[test]
    fn a_clone_is_cleaned_through_its_instances() {
        assert_eq!(
            targets(Some("web-clone"), None, CleanupScope::Failed),
            [pair("n2", "web:1")]
        );
        assert_eq!(
            targets(Some("web"), None, CleanupScope::All),
            [pair("n1", "web:0"), pair("n2", "web:1")]
        );
    }

    #[test]
    fn everything_failed_is_cleaned_without_a_resource_and_orphans_by_name() {
        assert_eq!(
            targets(None, None, CleanupScope::Failed),
            [pair("n1", "vip"), pair("n2", "web:1")]
        );
        assert_eq!(
            targets(Some("old"), None, CleanupScope::All),
            [pair("n2", "old")]
        );
    }

    #[test]
    fn unknown_resources_and_nodes_are_refused() {
        let cib = Cib::parse(CIB).expect("the test CIB parses");
        let error = cleanup_targets(&cib, Some("nope"), None, CleanupScope::Failed)
            .expect_err("no such resource");
        assert!(error.to_string().contains("nope"), "{error}");
        let error = cleanup_targets(&cib, Some("vip"), Some("n9"), CleanupScope::Failed)
            .expect_err("no such node");
        assert!(error.to_string().contains("n9"), "{error}");
    }
}
