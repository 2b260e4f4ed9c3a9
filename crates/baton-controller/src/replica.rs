//! Edits of the replicated CIB, laid out as Pacemaker lays it out: node
//! entries and permanent attributes in `configuration/nodes`, per-node
//! `node_state` with transient attributes and operation history in
//! `status`. Each edit says whether it changed anything, so versions are
//! bumped only for real changes.

use std::collections::BTreeMap;

use baton_cib::Cib;
use baton_cib::version::sha256_hex;
use baton_cib::xml::{Document, ElementId, Style};

use crate::NodeId;
use crate::history::{self, OpRecord};

/// The membership fields of a `node_state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Membership<'a> {
    pub in_ccm: bool,
    pub crmd_online: bool,
    /// `None` leaves the attribute out: nobody knows the node to be up
    /// for the cluster (its controller never joined), which Pacemaker
    /// reads as expected down.
    pub expected: Option<&'a str>,
}

fn child_with_id(doc: &Document, parent: ElementId, name: &str, id: &str) -> Option<ElementId> {
    doc.get(parent)
        .children_named(name)
        .find(|e| e.attr("id") == Some(id))
        .map(|e| e.id())
}

fn status(cib: &mut Cib) -> ElementId {
    let doc = cib.document_mut();
    let root = doc.root();
    doc.ensure_child(root, "status")
}

fn find_node_state(cib: &Cib, node: NodeId) -> Option<ElementId> {
    let status = cib.status()?.id();
    child_with_id(cib.document(), status, "node_state", &node.to_string())
}

fn ensure_node_state(cib: &mut Cib, node: NodeId, uname: &str) -> ElementId {
    if let Some(found) = find_node_state(cib, node) {
        return found;
    }
    let status = status(cib);
    let id = node.to_string();
    cib.document_mut()
        .append_new(status, "node_state", &[("id", &id), ("uname", uname)])
}

/// What `f` did to `element`'s subtree.
fn changed_by(cib: &mut Cib, element: ElementId, f: impl FnOnce(&mut Document)) -> bool {
    let before = cib.document().element_to_xml(element, Style::Compact);
    f(cib.document_mut());
    before != cib.document().element_to_xml(element, Style::Compact)
}

/// Sets a node's membership fields, creating its `node_state`.
pub(crate) fn set_membership(cib: &mut Cib, node: NodeId, uname: &str, m: &Membership) -> bool {
    let state = ensure_node_state(cib, node, uname);
    changed_by(cib, state, |doc| {
        doc.set_attr(state, "uname", uname);
        doc.set_attr(state, "in_ccm", if m.in_ccm { "true" } else { "false" });
        doc.set_attr(
            state,
            "crmd",
            if m.crmd_online { "online" } else { "offline" },
        );
        doc.set_attr(state, "crm-debug-origin", "peer_update_callback");
        doc.set_attr(state, "join", if m.crmd_online { "member" } else { "down" });
        match m.expected {
            Some(expected) => doc.set_attr(state, "expected", expected),
            None => {
                doc.remove_attr(state, "expected");
            }
        }
    })
}

/// A node's recorded `expected` value.
pub(crate) fn expected(cib: &Cib, node: NodeId) -> Option<&str> {
    let state = find_node_state(cib, node)?;
    cib.document().get(state).attr("expected")
}

/// Whether the status section has an entry for `node`.
pub(crate) fn has_node_state(cib: &Cib, node: NodeId) -> bool {
    find_node_state(cib, node).is_some()
}

/// A node's transient attributes, in document order.
pub(crate) fn transient_attributes(cib: &Cib, node: NodeId) -> Vec<(String, String)> {
    let Some(state) = find_node_state(cib, node) else {
        return Vec::new();
    };
    cib.document()
        .get(state)
        .children_named("transient_attributes")
        .flat_map(|t| t.children_named("instance_attributes"))
        .flat_map(|s| s.children_named("nvpair"))
        .filter_map(|p| Some((p.attr("name")?.to_owned(), p.attr("value")?.to_owned())))
        .collect()
}

/// Pacemaker's id for a transient attribute: `:` and `#` cannot occur in ids.
fn transient_id(node: NodeId, name: &str) -> String {
    format!("status-{node}-{name}").replace([':', '#'], ".")
}

/// Replaces all of a node's transient attributes.
pub(crate) fn set_transient_attributes(
    cib: &mut Cib,
    node: NodeId,
    uname: &str,
    attributes: &[(String, String)],
) -> bool {
    let state = ensure_node_state(cib, node, uname);
    changed_by(cib, state, |doc| {
        let old: Vec<ElementId> = doc
            .get(state)
            .children_named("transient_attributes")
            .map(|e| e.id())
            .collect();
        for element in old {
            let _ = doc.detach(element);
        }
        if attributes.is_empty() {
            return;
        }
        let id = node.to_string();
        let holder = doc.append_new(state, "transient_attributes", &[("id", &id)]);
        let set_id = format!("status-{node}");
        let set = doc.append_new(holder, "instance_attributes", &[("id", &set_id)]);
        for (name, value) in attributes {
            let pair_id = transient_id(node, name);
            doc.append_new(
                set,
                "nvpair",
                &[("id", &pair_id), ("name", name), ("value", value)],
            );
        }
    })
}

/// Sets or deletes one transient attribute.
pub(crate) fn set_transient(
    cib: &mut Cib,
    node: NodeId,
    uname: &str,
    name: &str,
    value: Option<&str>,
) -> bool {
    let mut attributes = transient_attributes(cib, node);
    let at = attributes.iter().position(|(n, _)| n == name);
    match (at, value) {
        (Some(i), Some(v)) => v.clone_into(&mut attributes[i].1),
        (Some(i), None) => {
            attributes.remove(i);
        }
        (None, Some(v)) => attributes.push((name.to_owned(), v.to_owned())),
        (None, None) => return false,
    }
    set_transient_attributes(cib, node, uname, &attributes)
}

/// Replaces a node's operation history.
pub(crate) fn set_history(cib: &mut Cib, node: NodeId, uname: &str, records: &[OpRecord]) -> bool {
    let state = ensure_node_state(cib, node, uname);
    changed_by(cib, state, |doc| {
        let old: Vec<ElementId> = doc
            .get(state)
            .children_named("lrm")
            .map(|e| e.id())
            .collect();
        for element in old {
            let _ = doc.detach(element);
        }
        let id = node.to_string();
        let lrm = doc.append_new(state, "lrm", &[("id", &id)]);
        let resources = doc.append_new(lrm, "lrm_resources", &[]);
        history::write(doc, resources, uname, records);
    })
}

fn nodes_section(cib: &mut Cib) -> ElementId {
    cib.ensure_section("nodes")
}

fn ensure_node_entry_id(cib: &mut Cib, node: NodeId, uname: &str) -> ElementId {
    let nodes = nodes_section(cib);
    let id = node.to_string();
    if let Some(found) = child_with_id(cib.document(), nodes, "node", &id) {
        return found;
    }
    cib.document_mut()
        .append_new(nodes, "node", &[("id", &id), ("uname", uname)])
}

/// Adds `<node id uname/>` to the nodes section unless the node has an
/// entry; a node known by name only gets its id.
pub(crate) fn ensure_node_entry(cib: &mut Cib, node: NodeId, uname: &str) -> bool {
    let nodes = nodes_section(cib);
    let id = node.to_string();
    let doc = cib.document();
    if child_with_id(doc, nodes, "node", &id).is_some() {
        return false;
    }
    let by_name = doc
        .get(nodes)
        .children_named("node")
        .find(|e| e.attr("uname") == Some(uname) && e.attr("id").is_none_or(str::is_empty))
        .map(|e| e.id());
    match by_name {
        Some(entry) => cib.document_mut().set_attr(entry, "id", &id),
        None => {
            ensure_node_entry_id(cib, node, uname);
        }
    }
    true
}

/// Sets or deletes a permanent node attribute.
pub(crate) fn set_node_attribute(
    cib: &mut Cib,
    node: NodeId,
    uname: &str,
    name: &str,
    value: Option<&str>,
) -> bool {
    let entry = ensure_node_entry_id(cib, node, uname);
    changed_by(cib, entry, |doc| {
        let pairs: Vec<(ElementId, Option<ElementId>)> = doc
            .get(entry)
            .children_named("instance_attributes")
            .filter(|s| s.first_child("rule").is_none())
            .flat_map(|s| {
                let set = s.id();
                s.children_named("nvpair")
                    .filter(|p| p.attr("name") == Some(name))
                    .map(move |p| (set, Some(p.id())))
            })
            .collect();
        match value {
            None => {
                for (_, pair) in pairs {
                    if let Some(pair) = pair {
                        let _ = doc.detach(pair);
                    }
                }
            }
            Some(value) => {
                if let Some((_, Some(pair))) = pairs.first() {
                    doc.set_attr(*pair, "value", value);
                    return;
                }
                let set_id = format!("nodes-{node}");
                let set = doc
                    .get(entry)
                    .children_named("instance_attributes")
                    .find(|s| s.first_child("rule").is_none())
                    .map(|s| s.id());
                let set = set.unwrap_or_else(|| {
                    doc.append_new(entry, "instance_attributes", &[("id", &set_id)])
                });
                let pair_id = format!("nodes-{node}-{name}");
                doc.append_new(
                    set,
                    "nvpair",
                    &[("id", &pair_id), ("name", name), ("value", value)],
                );
            }
        }
    })
}

/// Node names by id, from the nodes section.
pub(crate) fn node_names(cib: &Cib) -> BTreeMap<NodeId, String> {
    cib.nodes()
        .filter_map(|n| {
            let id = n.id().parse::<u32>().ok()?;
            Some((NodeId(id), n.uname().unwrap_or(n.id()).to_owned()))
        })
        .collect()
}

/// Replaces `cib`'s configuration with `new`'s; whether it changed.
pub(crate) fn replace_configuration(cib: &mut Cib, new: &Cib) -> bool {
    let Some(source) = new.configuration().map(|c| c.id()) else {
        return false;
    };
    let before = cib.configuration().map(|c| config_text(cib, c.id()));
    let copy = cib.document_mut().copy_from(new.document(), source);
    let doc = cib.document_mut();
    let root = doc.root();
    let old = doc.get(root).first_child("configuration").map(|c| c.id());
    let position = doc
        .element(root)
        .children()
        .iter()
        .position(|c| matches!(c, baton_cib::xml::Child::Element(e) if Some(*e) == old))
        .unwrap_or(0);
    if let Some(old) = old {
        let _ = doc.detach(old);
    }
    let _ = doc.insert_child(root, position, copy);
    before != Some(config_text(cib, copy))
}

fn config_text(cib: &Cib, config: ElementId) -> String {
    cib.document().element_to_xml(config, Style::Canonical)
}

/// SHA-256 of the configuration without bare `<node id uname/>` entries:
/// two configurations with the same user changes have the same digest even
/// if they learned their nodes in another order.
pub(crate) fn user_digest(cib: &Cib) -> String {
    let Some(config) = cib.configuration() else {
        return sha256_hex(b"");
    };
    let doc = cib.document();
    let mut text = String::new();
    for section in config.children() {
        if section.name() == "nodes" {
            let mut entries: Vec<String> = section
                .children()
                .filter(|n| n.children().next().is_some())
                .map(|n| doc.element_to_xml(n.id(), Style::Canonical))
                .collect();
            entries.sort();
            text.push_str("<nodes>");
            text.extend(entries);
            text.push_str("</nodes>");
        } else {
            doc.write_element(section.id(), Style::Canonical, &mut text);
        }
    }
    sha256_hex(text.as_bytes())
}

/// The CIB without its status, as it is kept on disk. Built from the
/// configuration alone: copying the whole CIB to drop its status cost more
/// than the rest of a write once the status held every resource's history.
pub(crate) fn configuration_only(cib: &Cib) -> String {
    let source = cib.document();
    let root = source.get(source.root());
    let mut doc = baton_cib::xml::Document::new(root.name());
    let top = doc.root();
    for attr in root.attrs() {
        doc.set_attr(top, &attr.name, &attr.value);
    }
    for child in root.children().filter(|c| c.name() != "status") {
        let copy = doc.copy_from(source, child.id());
        let _ = doc.append_child(top, copy);
    }
    doc.append_new(top, "status", &[]);
    doc.to_xml(Style::Pretty)
}

/// The `lrm_resources` element of a node, created when missing.
fn lrm_resources(cib: &mut Cib, node: NodeId, uname: &str) -> ElementId {
    let state = ensure_node_state(cib, node, uname);
    let doc = cib.document_mut();
    let lrm = match doc.get(state).first_child("lrm").map(|e| e.id()) {
        Some(lrm) => lrm,
        None => {
            let id = node.to_string();
            doc.append_new(state, "lrm", &[("id", &id)])
        }
    };
    doc.ensure_child(lrm, "lrm_resources")
}

fn find_lrm_resource(cib: &Cib, node: NodeId, resource: &str) -> Option<ElementId> {
    let state = find_node_state(cib, node)?;
    let doc = cib.document();
    let resources = doc
        .get(state)
        .first_child("lrm")?
        .first_child("lrm_resources")?
        .id();
    child_with_id(doc, resources, "lrm_resource", resource)
}

/// Writes `records` into a node's history, each replacing the record of
/// the same id.
pub(crate) fn record_ops(cib: &mut Cib, node: NodeId, uname: &str, records: &[OpRecord]) -> bool {
    if records.is_empty() {
        return false;
    }
    let resources = lrm_resources(cib, node, uname);
    for record in records {
        let doc = cib.document();
        let existing = child_with_id(doc, resources, "lrm_resource", &record.resource);
        let doc = cib.document_mut();
        let element = existing.unwrap_or_else(|| history::append_resource(doc, resources, record));
        let id = record.record_id();
        if let Some(old) = child_with_id(doc, element, "lrm_rsc_op", &id) {
            let _ = doc.detach(old);
        }
        history::write_op(doc, element, uname, record);
    }
    true
}

/// Erases one record of a node's history.
pub(crate) fn erase_op(cib: &mut Cib, node: NodeId, resource: &str, record_id: &str) -> bool {
    let Some(element) = find_lrm_resource(cib, node, resource) else {
        return false;
    };
    let doc = cib.document_mut();
    match child_with_id(doc, element, "lrm_rsc_op", record_id) {
        Some(op) => doc.detach(op).is_ok(),
        None => false,
    }
}

/// Erases a resource's whole history on a node.
pub(crate) fn erase_resource(cib: &mut Cib, node: NodeId, resource: &str) -> bool {
    match find_lrm_resource(cib, node, resource) {
        Some(element) => cib.document_mut().detach(element).is_ok(),
        None => false,
    }
}

/// The value of one of a node's transient attributes.
pub(crate) fn transient_value(cib: &Cib, node: NodeId, name: &str) -> Option<String> {
    transient_attributes(cib, node)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}
