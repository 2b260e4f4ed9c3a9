//! DOM helpers shared by the command appliers.

use baton_cib::Cib;
use baton_cib::xml::{Child, Document, ElementId};
use baton_crmsh::ast::{AttrSet, Nvpair, Score};

use super::ApplyError;
use crate::ids::Ids;

/// Element names of the objects `configure` defines, by section.
const OBJECTS: [&str; 10] = [
    "primitive",
    "group",
    "clone",
    "master",
    "template",
    "bundle",
    "rsc_location",
    "rsc_colocation",
    "rsc_order",
    "rsc_ticket",
];

/// The resource or constraint called `id`, anywhere in the configuration.
/// Nodes have ids of their own (a remote node shares its resource's).
pub(crate) fn find_object(cib: &Cib, id: &str) -> Option<ElementId> {
    let config = cib.configuration()?;
    config
        .descendants()
        .find(|e| e.attr("id") == Some(id) && OBJECTS.contains(&e.name()))
        .map(|e| e.id())
}

/// The node whose id or name is `name`.
pub(crate) fn find_node(cib: &Cib, name: &str) -> Option<ElementId> {
    cib.section("nodes")?
        .children_named("node")
        .find(|n| n.xml_id() == name || n.attr("uname") == Some(name))
        .map(|n| n.id())
}

/// Where a replaced object stood: its parent and position.
pub(crate) type Place = Option<(ElementId, usize)>;

/// Takes `old` out of the tree, returning where it was.
pub(crate) fn take_out(doc: &mut Document, old: ElementId) -> Place {
    let parent = doc.element(old).parent()?;
    let at = doc
        .element(parent)
        .children()
        .iter()
        .position(|c| *c == Child::Element(old))?;
    // `old` has a parent, so it is not the root.
    let _ = doc.detach(old);
    Some((parent, at))
}

/// Puts the detached `new` at `place`, or at the end of `fallback`.
pub(crate) fn put(doc: &mut Document, new: ElementId, place: Place, fallback: ElementId) {
    let (parent, at) = place.unwrap_or((fallback, usize::MAX));
    // `new` was just created, so it is detached and cannot form a cycle.
    let _ = doc.insert_child(parent, at, new);
}

/// Removes an existing object called `id` so it can be redefined, after
/// checking it is of the kind being defined. Returns its place.
pub(crate) fn replace_old(
    cib: &mut Cib,
    id: &str,
    names: &[&str],
    wanted: &'static str,
) -> Result<Place, ApplyError> {
    let Some(old) = find_object(cib, id) else {
        return Ok(None);
    };
    let existing = cib.document().element(old).name().to_owned();
    if !names.contains(&existing.as_str()) {
        return Err(ApplyError::WrongKind {
            id: id.to_owned(),
            existing,
            wanted,
        });
    }
    Ok(take_out(cib.document_mut(), old))
}

/// Claims the object's own id after its old definition is gone.
pub(crate) fn claim_own(ids: &mut Ids, id: &str) -> Result<(), ApplyError> {
    if ids.take(id) {
        Ok(())
    } else {
        Err(ApplyError::IdTaken { id: id.to_owned() })
    }
}

/// Writes `set` as `<element id=…>` with nvpairs under `parent`; nothing
/// when the set is empty.
pub(crate) fn write_set(
    doc: &mut Document,
    ids: &mut Ids,
    parent: ElementId,
    element: &str,
    set: &AttrSet,
    default_id: &str,
) -> Result<(), ApplyError> {
    if set.is_empty() {
        return Ok(());
    }
    let set_id = match &set.id {
        Some(id) => {
            claim_own(ids, id)?;
            id.clone()
        }
        None => ids.claim(default_id),
    };
    let el = doc.append_new(parent, element, &[("id", &set_id)]);
    write_pairs(doc, ids, el, &set_id, &set.pairs);
    Ok(())
}

pub(crate) fn write_pairs(
    doc: &mut Document,
    ids: &mut Ids,
    set: ElementId,
    set_id: &str,
    pairs: &[Nvpair],
) {
    for pair in pairs {
        let id = ids.claim(&format!("{set_id}-{}", pair.name));
        doc.append_new(
            set,
            "nvpair",
            &[("id", &id), ("name", &pair.name), ("value", &pair.value)],
        );
    }
}

/// A score as the CIB spells it; attribute names only where rules allow them.
pub(crate) fn score_text(owner: &str, score: &Score) -> Result<String, ApplyError> {
    match score {
        Score::Value(n) => Ok(n.to_string()),
        Score::Infinity => Ok("INFINITY".into()),
        Score::MinusInfinity => Ok("-INFINITY".into()),
        Score::Attribute(name) => Err(ApplyError::Invalid {
            owner: owner.to_owned(),
            reason: format!("`{name}` is not a score (a number, inf or -inf)"),
        }),
    }
}
