//! What `load replace` removes: every object the new text does not define.

use std::collections::HashSet;

use baton_cib::Cib;
use baton_crmsh::ast::Command;

use super::xml::take_out;

/// Property sets are rewritten whole, so a pair left out of the text goes.
pub(super) fn clear_properties(cib: &mut Cib) {
    let mut doomed = Vec::new();
    for (section, element) in [
        ("crm_config", "cluster_property_set"),
        ("rsc_defaults", "meta_attributes"),
        ("op_defaults", "meta_attributes"),
    ] {
        if let Some(s) = cib.section(section) {
            doomed.extend(s.children_named(element).map(|c| c.id()));
        }
    }
    for id in doomed {
        take_out(cib.document_mut(), id);
    }
}

/// Removes nodes, resources and constraints `commands` do not define. A
/// removed group or clone leaves what it held (if still defined) in place.
pub(super) fn undefined(cib: &mut Cib, commands: &[Command]) {
    let defined: HashSet<&str> = commands.iter().filter_map(Command::id).collect();
    let mut doomed = Vec::new();
    if let Some(nodes) = cib.section("nodes") {
        doomed.extend(
            nodes
                .children_named("node")
                .filter(|n| !defined.contains(n.attr("uname").unwrap_or(n.xml_id())))
                .map(|n| n.id()),
        );
    }
    if let Some(constraints) = cib.section("constraints") {
        doomed.extend(
            constraints
                .children()
                .filter(|c| c.name() != "rsc_ticket" && !defined.contains(c.xml_id()))
                .map(|c| c.id()),
        );
    }
    let mut lifted = Vec::new();
    if let Some(resources) = cib.section("resources") {
        for el in resources.descendants().skip(1) {
            let container = matches!(el.name(), "group" | "clone" | "master");
            if !(container || el.name() == "primitive") || defined.contains(el.xml_id()) {
                continue;
            }
            if el.parent().is_some_and(|p| p.name() == "bundle") {
                continue;
            }
            if container {
                lifted.extend(
                    el.children()
                        .filter(|c| defined.contains(c.xml_id()))
                        .map(|c| (c.id(), el.id())),
                );
            }
            doomed.push(el.id());
        }
    }
    let doc = cib.document_mut();
    for (child, container) in lifted {
        // Put the child where its container stood.
        let Some(parent) = doc.element(container).parent() else {
            continue;
        };
        let at = doc
            .element(parent)
            .children()
            .iter()
            .position(|c| *c == baton_cib::xml::Child::Element(container))
            .unwrap_or(usize::MAX);
        let _ = doc.detach(child);
        let _ = doc.insert_child(parent, at, child);
    }
    for id in doomed {
        take_out(doc, id);
    }
}
