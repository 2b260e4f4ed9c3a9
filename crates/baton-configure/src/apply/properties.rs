//! `property`, `rsc_defaults`, `op_defaults`. Several `property` lines
//! merge into one set (crmsh would reject the second as a duplicate).

use baton_cib::Cib;
use baton_cib::xml::ElementId;
use baton_crmsh::ast::{Nvpair, PropertyKind, PropertySet};

use super::xml::write_pairs;
use super::{ApplyError, Notice};
use crate::ids::Ids;

pub(crate) const BOOTSTRAP_SET: &str = "cib-bootstrap-options";
pub(crate) const RSC_DEFAULTS_SET: &str = "rsc-options";
pub(crate) const OP_DEFAULTS_SET: &str = "op-options";

/// Cluster options Pacemaker 2.0 dropped, and where their meaning moved.
const MOVED: [(&str, PropertyKind, &str); 3] = [
    (
        "default-resource-stickiness",
        PropertyKind::RscDefaults,
        "resource-stickiness",
    ),
    (
        "is-managed-default",
        PropertyKind::RscDefaults,
        "is-managed",
    ),
    (
        "default-action-timeout",
        PropertyKind::OpDefaults,
        "timeout",
    ),
];

pub(super) fn apply(
    cib: &mut Cib,
    p: &PropertySet,
    notices: &mut Vec<Notice>,
) -> Result<(), ApplyError> {
    for pair in &p.set.pairs {
        let moved = MOVED
            .iter()
            .find(|(old, _, _)| p.kind == PropertyKind::Cluster && *old == pair.name);
        if let Some((old, kind, new)) = moved {
            let keyword = if *kind == PropertyKind::RscDefaults {
                "rsc_defaults"
            } else {
                "op_defaults"
            };
            notices.push(Notice {
                object: "property".into(),
                text: format!(
                    "{old} was dropped in Pacemaker 2.0: written as `{keyword} {new}={}`",
                    pair.value
                ),
            });
            set(
                cib,
                *kind,
                None,
                &Nvpair {
                    name: (*new).into(),
                    value: pair.value.clone(),
                },
            )?;
        } else {
            set(cib, p.kind, p.set.id.as_deref(), pair)?;
        }
    }
    if p.set.pairs.is_empty() {
        // `property $id=x:` alone still defines the (empty) set.
        set_element(cib, p.kind, p.set.id.as_deref());
    }
    Ok(())
}

fn set(
    cib: &mut Cib,
    kind: PropertyKind,
    id: Option<&str>,
    pair: &Nvpair,
) -> Result<(), ApplyError> {
    if kind == PropertyKind::Cluster && id.is_none_or(|i| i == BOOTSTRAP_SET) {
        // Updates the entry in effect under either the old or new spelling.
        cib.set_property(&pair.name, &pair.value);
        return Ok(());
    }
    let set = set_element(cib, kind, id);
    let existing = cib
        .document()
        .get(set)
        .children_named("nvpair")
        .find(|n| n.attr("name") == Some(&pair.name))
        .map(|n| n.id());
    match existing {
        Some(nv) => cib.document_mut().set_attr(nv, "value", &pair.value),
        None => {
            let mut ids = Ids::of(cib);
            let set_id = cib.document().get(set).xml_id().to_owned();
            write_pairs(
                cib.document_mut(),
                &mut ids,
                set,
                &set_id,
                std::slice::from_ref(pair),
            );
        }
    }
    Ok(())
}

/// The set `id` (or the default one) of `kind`, created if missing.
fn set_element(cib: &mut Cib, kind: PropertyKind, id: Option<&str>) -> ElementId {
    let (section, element, default) = match kind {
        PropertyKind::Cluster => ("crm_config", "cluster_property_set", BOOTSTRAP_SET),
        PropertyKind::RscDefaults => ("rsc_defaults", "meta_attributes", RSC_DEFAULTS_SET),
        PropertyKind::OpDefaults => ("op_defaults", "meta_attributes", OP_DEFAULTS_SET),
    };
    let id = id.unwrap_or(default);
    let section = cib.ensure_section(section);
    let existing = cib
        .document()
        .get(section)
        .children_named(element)
        .find(|s| s.xml_id() == id)
        .map(|s| s.id());
    existing.unwrap_or_else(|| {
        cib.document_mut()
            .append_new(section, element, &[("id", id)])
    })
}
