//! `delete ID…`: refused while anything still points at a resource.

use baton_cib::Cib;
use baton_cib::xml::ElementRef;

use super::xml::{find_node, find_object, take_out};
use super::{ApplyError, Notice};

pub(super) fn delete(
    cib: &mut Cib,
    ids: &[String],
    notices: &mut Vec<Notice>,
) -> Result<(), ApplyError> {
    let mut doomed = Vec::new();
    for id in ids {
        let el = find_object(cib, id)
            .or_else(|| find_node(cib, id))
            .ok_or_else(|| ApplyError::NotFound { id: id.clone() })?;
        doomed.push(el);
    }
    for (id, &el) in ids.iter().zip(&doomed) {
        let r = cib.document().get(el);
        if is_resource(r) {
            let by = referrers(cib, id, ids);
            if !by.is_empty() {
                return Err(ApplyError::Referenced {
                    id: id.clone(),
                    by: by.join(", "),
                });
            }
        }
    }
    let resources = cib.ensure_section("resources");
    for (id, el) in ids.iter().zip(doomed) {
        let r = cib.document().get(el);
        // Deleting a group or clone keeps what it held, as crmsh does.
        let children: Vec<_> = if matches!(r.name(), "group" | "clone" | "master") {
            r.children()
                .filter(|c| is_resource(*c))
                .map(|c| c.id())
                .collect()
        } else {
            Vec::new()
        };
        if !children.is_empty() {
            notices.push(Notice {
                object: id.clone(),
                text: "deleted; what it held stays defined on its own".into(),
            });
        }
        let doc = cib.document_mut();
        for child in children {
            let _ = doc.detach(child);
            let _ = doc.append_child(resources, child);
        }
        take_out(doc, el);
    }
    Ok(())
}

fn is_resource(r: ElementRef<'_>) -> bool {
    matches!(
        r.name(),
        "primitive" | "group" | "clone" | "master" | "bundle" | "template"
    )
}

/// What names resource `id`: constraints, and the group or clone holding
/// it, except objects deleted in the same command.
fn referrers(cib: &Cib, id: &str, deleting: &[String]) -> Vec<String> {
    let mut by = Vec::new();
    if let Some(el) = find_object(cib, id)
        && let Some(parent) = cib.document().get(el).parent()
        && matches!(parent.name(), "group" | "clone" | "master")
        && !deleting.iter().any(|d| d == parent.xml_id())
    {
        by.push(format!("{} {}", parent.name(), parent.xml_id()));
    }
    if let Some(constraints) = cib.section("constraints") {
        for c in constraints.children() {
            if deleting.iter().any(|d| d == c.xml_id()) {
                continue;
            }
            if constraint_names(c, id) {
                by.push(format!("{} {}", c.name(), c.xml_id()));
            }
        }
    }
    by
}

fn constraint_names(c: ElementRef<'_>, id: &str) -> bool {
    ["rsc", "with-rsc", "first", "then"]
        .iter()
        .any(|a| c.attr(a) == Some(id))
        || c.descendants()
            .any(|e| e.name() == "resource_ref" && e.attr("id") == Some(id))
}
