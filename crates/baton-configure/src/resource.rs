//! What `crm resource start|stop|manage|unmanage|move|ban|clear` change in
//! the configuration: a resource's `target-role` and `is-managed` meta
//! attributes, and the location constraints crmsh and crm_resource name
//! `cli-prefer-RSC` (move) and `cli-ban-RSC-on-NODE` (ban).

use baton_cib::Cib;
use baton_cib::xml::ElementId;

use crate::apply::ApplyError;
use crate::apply::xml::{find_node, find_object};

const RESOURCES: [&str; 5] = ["primitive", "group", "clone", "master", "bundle"];

/// Which of a resource's attribute sets a change is made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeSet {
    /// `meta_attributes`: what the cluster does with it.
    Meta,
    /// `instance_attributes`: the agent's parameters.
    Params,
    /// `utilization`.
    Utilization,
}

impl AttributeSet {
    /// The element holding this set in a resource.
    #[must_use]
    pub fn element(self) -> &'static str {
        match self {
            AttributeSet::Meta => "meta_attributes",
            AttributeSet::Params => "instance_attributes",
            AttributeSet::Utilization => "utilization",
        }
    }
}

/// A change `baton resource …` makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceChange {
    /// Sets (or, with `None`, removes) an attribute of the resource.
    Attribute {
        resource: String,
        set: AttributeSet,
        name: String,
        value: Option<String>,
    },
    /// Prefers `node` for the resource with INFINITY (`cli-prefer-RSC`).
    Prefer { resource: String, node: String },
    /// Keeps the resource off `node` (`cli-ban-RSC-on-NODE`).
    Ban { resource: String, node: String },
    /// Removes the move and ban constraints of the resource.
    Clear { resource: String },
    /// Puts primitives into a group, after its members, creating it if
    /// needed (pcs's `resource group add`); one taken from another group
    /// leaves it, and a group left empty goes.
    AddToGroup { group: String, members: Vec<String> },
    /// Removes a resource as pcs's `resource delete` does: out of its
    /// group (a group left empty goes too), with every constraint that
    /// names it.
    Delete { resource: String },
}

/// Applies `change`; whether the configuration changed.
pub fn change_resource(cib: &mut Cib, change: &ResourceChange) -> Result<bool, ApplyError> {
    match change {
        ResourceChange::Attribute {
            resource,
            set,
            name,
            value,
        } => {
            let element = resource_element(cib, resource)?;
            Ok(set_attribute(
                cib,
                element,
                resource,
                *set,
                name,
                value.as_deref(),
            ))
        }
        ResourceChange::Prefer { resource, node } => {
            resource_element(cib, resource)?;
            let node = node_name(cib, node)?;
            let id = format!("cli-prefer-{resource}");
            Ok(put_location(cib, &id, resource, &node, "INFINITY"))
        }
        ResourceChange::Ban { resource, node } => {
            resource_element(cib, resource)?;
            let node = node_name(cib, node)?;
            let id = format!("cli-ban-{resource}-on-{node}");
            Ok(put_location(cib, &id, resource, &node, "-INFINITY"))
        }
        ResourceChange::Clear { resource } => {
            resource_element(cib, resource)?;
            Ok(clear(cib, resource))
        }
        ResourceChange::AddToGroup { group, members } => add_to_group(cib, group, members),
        ResourceChange::Delete { resource } => {
            let element = resource_element(cib, resource)?;
            delete(cib, element, resource);
            Ok(true)
        }
    }
}

/// Constraint attributes that name a resource.
const CONSTRAINT_REFERENCES: [&str; 4] = ["rsc", "with-rsc", "first", "then"];

fn delete(cib: &mut Cib, element: ElementId, resource: &str) {
    let parent = cib.document().element(element).parent();
    remove_with_constraints(cib, element, resource);
    let Some(group) = parent else { return };
    let doc = cib.document();
    let empty_group = doc.element(group).name() == "group"
        && doc.get(group).children_named("primitive").next().is_none();
    if empty_group {
        let id = doc.get(group).xml_id().to_owned();
        remove_with_constraints(cib, group, &id);
    }
}

/// Detaches `element` and every constraint (or set member) naming `id`.
fn remove_with_constraints(cib: &mut Cib, element: ElementId, id: &str) {
    let mut gone = vec![element];
    if let Some(constraints) = cib.section("constraints") {
        for constraint in constraints.children() {
            if CONSTRAINT_REFERENCES
                .iter()
                .any(|a| constraint.attr(a) == Some(id))
            {
                gone.push(constraint.id());
                continue;
            }
            gone.extend(
                constraint
                    .descendants()
                    .filter(|e| e.name() == "resource_ref" && e.attr("id") == Some(id))
                    .map(|e| e.id()),
            );
        }
    }
    let doc = cib.document_mut();
    for element in gone {
        let _ = doc.detach(element);
    }
}

fn add_to_group(cib: &mut Cib, group: &str, members: &[String]) -> Result<bool, ApplyError> {
    let invalid = |owner: &str, reason: String| ApplyError::Invalid {
        owner: owner.to_owned(),
        reason,
    };
    let mut primitives = Vec::new();
    for member in members {
        let element = resource_element(cib, member)?;
        let doc = cib.document();
        if doc.element(element).name() != "primitive" {
            return Err(invalid(
                member,
                "only primitives can join a group".to_owned(),
            ));
        }
        let parent = doc.get(element).parent().map(|p| p.name().to_owned());
        if parent
            .as_deref()
            .is_some_and(|p| p != "resources" && p != "group")
        {
            return Err(invalid(
                member,
                "it is cloned; group the primitives first, then clone the group".to_owned(),
            ));
        }
        primitives.push(element);
    }
    let (group_element, mut changed) = match find_object(cib, group) {
        Some(element) if cib.document().element(element).name() == "group" => (element, false),
        Some(element) => {
            let kind = cib.document().element(element).name().to_owned();
            return Err(invalid(group, format!("it is a {kind}, not a group")));
        }
        None => {
            let resources = cib.ensure_section("resources");
            let created = cib
                .document_mut()
                .append_new(resources, "group", &[("id", group)]);
            (created, true)
        }
    };
    for element in primitives {
        let doc = cib.document_mut();
        let old_parent = doc.element(element).parent();
        if old_parent == Some(group_element) {
            continue;
        }
        let _ = doc.detach(element);
        let _ = doc.append_child(group_element, element);
        changed = true;
        if let Some(old) = old_parent
            && doc.element(old).name() == "group"
            && doc.get(old).children_named("primitive").next().is_none()
        {
            let _ = doc.detach(old);
        }
    }
    Ok(changed)
}

fn resource_element(cib: &Cib, id: &str) -> Result<ElementId, ApplyError> {
    find_object(cib, id)
        .filter(|&e| RESOURCES.contains(&cib.document().element(e).name()))
        .ok_or_else(|| ApplyError::NotFound { id: id.to_owned() })
}

/// The node's name as the nodes section spells it.
fn node_name(cib: &Cib, node: &str) -> Result<String, ApplyError> {
    let element = find_node(cib, node).ok_or_else(|| ApplyError::Invalid {
        owner: node.to_owned(),
        reason: "there is no such node in the cluster (`baton status` lists them)".to_owned(),
    })?;
    let element = cib.document().element(element);
    Ok(element
        .attr("uname")
        .unwrap_or_else(|| element.attr("id").unwrap_or(node))
        .to_owned())
}

fn set_attribute(
    cib: &mut Cib,
    element: ElementId,
    resource: &str,
    set: AttributeSet,
    name: &str,
    value: Option<&str>,
) -> bool {
    let doc = cib.document_mut();
    let sets: Vec<ElementId> = doc
        .get(element)
        .children_named(set.element())
        .map(|s| s.id())
        .collect();
    let existing = sets.iter().find_map(|&set| {
        doc.get(set)
            .children_named("nvpair")
            .find(|p| p.attr("name") == Some(name))
            .map(|p| p.id())
    });
    match (existing, value) {
        (Some(pair), Some(value)) => {
            if doc.element(pair).attr("value") == Some(value) {
                return false;
            }
            doc.set_attr(pair, "value", value);
            true
        }
        (Some(pair), None) => {
            let _ = doc.detach(pair);
            true
        }
        (None, None) => false,
        (None, Some(value)) => {
            let set = match sets.first() {
                Some(&set) => set,
                None => doc.append_new(
                    element,
                    set.element(),
                    &[("id", &format!("{resource}-{}", set.element()))],
                ),
            };
            let set_id = doc.element(set).attr("id").unwrap_or(resource).to_owned();
            doc.append_new(
                set,
                "nvpair",
                &[
                    ("id", &format!("{set_id}-{name}")),
                    ("name", name),
                    ("value", value),
                ],
            );
            true
        }
    }
}

/// Writes `<rsc_location id rsc node score>`, replacing one of that id.
fn put_location(cib: &mut Cib, id: &str, resource: &str, node: &str, score: &str) -> bool {
    let wanted = [
        ("id", id),
        ("rsc", resource),
        ("role", "Started"),
        ("node", node),
        ("score", score),
    ];
    if let Some(old) = find_object(cib, id) {
        let same = wanted
            .iter()
            .all(|(name, value)| cib.document().element(old).attr(name) == Some(*value));
        if same {
            return false;
        }
        let _ = cib.document_mut().detach(old);
    }
    let constraints = cib.ensure_section("constraints");
    cib.document_mut()
        .append_new(constraints, "rsc_location", &wanted);
    true
}

fn clear(cib: &mut Cib, resource: &str) -> bool {
    let prefer = format!("cli-prefer-{resource}");
    let ban = format!("cli-ban-{resource}-on-");
    let Some(constraints) = cib.section("constraints") else {
        return false;
    };
    let gone: Vec<ElementId> = constraints
        .children_named("rsc_location")
        .filter(|c| {
            c.attr("rsc") == Some(resource)
                && c.attr("id")
                    .is_some_and(|id| id == prefer || id.starts_with(&ban))
        })
        .map(|c| c.id())
        .collect();
    for element in &gone {
        let _ = cib.document_mut().detach(*element);
    }
    !gone.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cib() -> Cib {
        Cib::parse(
            r#"<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config/>
<nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
<resources><primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2"/></resources>
<constraints/></configuration><status/></cib>"#,
        )
        .expect("parses")
    }

    fn meta(resource: &str, name: &str, value: Option<&str>) -> ResourceChange {
        ResourceChange::Attribute {
            resource: resource.to_owned(),
            set: AttributeSet::Meta,
            name: name.to_owned(),
            value: value.map(str::to_owned),
        }
    }

    #[test]
    fn stop_then_start_sets_target_role_in_one_meta_set() {
        let mut cib = cib();
        assert!(
            change_resource(&mut cib, &meta("ip", "target-role", Some("Stopped"))).expect("ok")
        );
        assert!(
            !change_resource(&mut cib, &meta("ip", "target-role", Some("Stopped"))).expect("ok")
        );
        assert!(
            change_resource(&mut cib, &meta("ip", "target-role", Some("Started"))).expect("ok")
        );
        let xml = cib.to_xml(baton_cib::xml::Style::Compact);
        assert!(xml.contains(r#"<meta_attributes id="ip-meta_attributes"><nvpair id="ip-meta_attributes-target-role" name="target-role" value="Started"/></meta_attributes>"#), "{xml}");
    }

    #[test]
    fn move_and_ban_write_crmsh_ids_and_clear_removes_them_only() {
        let mut cib = cib();
        let prefer = ResourceChange::Prefer {
            resource: "ip".to_owned(),
            node: "node2".to_owned(),
        };
        let ban = ResourceChange::Ban {
            resource: "ip".to_owned(),
            node: "node1".to_owned(),
        };
        assert!(change_resource(&mut cib, &prefer).expect("move"));
        assert!(change_resource(&mut cib, &ban).expect("ban"));
        let xml = cib.to_xml(baton_cib::xml::Style::Compact);
        assert!(xml.contains(r#"<rsc_location id="cli-prefer-ip" rsc="ip" role="Started" node="node2" score="INFINITY"/>"#), "{xml}");
        assert!(xml.contains(r#"<rsc_location id="cli-ban-ip-on-node1" rsc="ip" role="Started" node="node1" score="-INFINITY"/>"#), "{xml}");
        let clear = ResourceChange::Clear {
            resource: "ip".to_owned(),
        };
        assert!(change_resource(&mut cib, &clear).expect("clear"));
        assert!(!cib.to_xml(baton_cib::xml::Style::Compact).contains("cli-"));
        assert!(!change_resource(&mut cib, &clear).expect("nothing left"));
    }

    #[test]
    fn unknown_resources_and_nodes_are_refused() {
        let mut cib = cib();
        assert!(matches!(
            change_resource(&mut cib, &meta("nope", "is-managed", Some("false"))),
            Err(ApplyError::NotFound { .. })
        ));
        let prefer = ResourceChange::Prefer {
            resource: "ip".to_owned(),
            node: "node9".to_owned(),
        };
        assert!(matches!(
            change_resource(&mut cib, &prefer),
            Err(ApplyError::Invalid { .. })
        ));
    }
}
