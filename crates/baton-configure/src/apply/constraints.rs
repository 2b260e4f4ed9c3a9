//! `location`, `colocation` and `order`.

use baton_cib::Cib;
use baton_cib::xml::{Document, ElementId};
use baton_crmsh::ast::{
    BoolOp, Colocation, DateExpression, Expression, Location, LocationTarget, Order, OrderKind,
    OrderStrength, Placement, ResourcePattern, ResourceRef, Rule, Score, SetItem,
};

use super::ApplyError;
use super::xml::{Place, claim_own, put, replace_old, score_text};
use crate::ids::Ids;

/// Replaces any old definition and returns the new, detached element.
fn begin(
    cib: &mut Cib,
    id: &str,
    element: &'static str,
) -> Result<(ElementId, Place, Ids), ApplyError> {
    let place = replace_old(cib, id, &[element], element)?;
    let mut ids = Ids::of(cib);
    claim_own(&mut ids, id)?;
    let doc = cib.document_mut();
    let el = doc.create_element(element);
    doc.set_attr(el, "id", id);
    Ok((el, place, ids))
}

fn end(cib: &mut Cib, el: ElementId, place: Place) {
    let constraints = cib.ensure_section("constraints");
    put(cib.document_mut(), el, place, constraints);
}

pub(super) fn location(cib: &mut Cib, l: &Location) -> Result<(), ApplyError> {
    let owner = format!("location {}", l.id);
    let (el, place, mut ids) = begin(cib, &l.id, "rsc_location")?;
    let doc = cib.document_mut();
    match &l.resource {
        LocationTarget::Pattern(ResourcePattern::Id(rsc)) => doc.set_attr(el, "rsc", rsc),
        LocationTarget::Pattern(ResourcePattern::Regex(re)) => doc.set_attr(el, "rsc-pattern", re),
        LocationTarget::Sets(items) => {
            // Order within a location's set means nothing: no `sequential`.
            write_sets(doc, &mut ids, el, &l.id, items, ("role", false));
        }
    }
    if let Some(role) = &l.role {
        doc.set_attr(el, "role", role);
    }
    if let Some(discovery) = &l.resource_discovery {
        doc.set_attr(el, "resource-discovery", discovery);
    }
    match &l.placement {
        Placement::Node { score, node } => {
            doc.set_attr(el, "score", &score_text(&owner, score)?);
            doc.set_attr(el, "node", node);
        }
        Placement::Rules(rules) => {
            for r in rules {
                rule(doc, &mut ids, el, &l.id, r)?;
            }
        }
    }
    end(cib, el, place);
    Ok(())
}

fn rule(
    doc: &mut Document,
    ids: &mut Ids,
    parent: ElementId,
    owner: &str,
    r: &Rule,
) -> Result<(), ApplyError> {
    let id = match &r.id {
        Some(id) => {
            claim_own(ids, id)?;
            id.clone()
        }
        None => ids.claim(&format!("{owner}-rule")),
    };
    let el = doc.append_new(parent, "rule", &[("id", &id)]);
    match &r.score {
        Score::Attribute(name) => doc.set_attr(el, "score-attribute", name),
        score => doc.set_attr(el, "score", &score_text(owner, score)?),
    }
    if let Some(role) = &r.role {
        doc.set_attr(el, "role", role);
    }
    if r.expressions.len() > 1 {
        let op = match r.boolean_op {
            BoolOp::And => "and",
            BoolOp::Or => "or",
        };
        doc.set_attr(el, "boolean-op", op);
    }
    for e in &r.expressions {
        expression(doc, ids, el, &id, e);
    }
    Ok(())
}

fn expression(doc: &mut Document, ids: &mut Ids, rule: ElementId, rule_id: &str, e: &Expression) {
    let id = ids.claim(&format!("{rule_id}-expression"));
    match e {
        Expression::Compare {
            attribute,
            operation,
            value_type,
            value,
        } => {
            let el = doc.append_new(
                rule,
                "expression",
                &[
                    ("id", &id),
                    ("attribute", attribute),
                    ("operation", operation),
                    ("value", value),
                ],
            );
            if let Some(kind) = value_type {
                doc.set_attr(el, "type", kind);
            }
        }
        Expression::Defined(attribute) | Expression::NotDefined(attribute) => {
            let op = if matches!(e, Expression::Defined(_)) {
                "defined"
            } else {
                "not_defined"
            };
            doc.append_new(
                rule,
                "expression",
                &[("id", &id), ("attribute", attribute), ("operation", op)],
            );
        }
        Expression::Date(date) => {
            let el = doc.append_new(rule, "date_expression", &[("id", &id)]);
            match date {
                DateExpression::Gt(start) => {
                    doc.set_attr(el, "operation", "gt");
                    doc.set_attr(el, "start", start);
                }
                DateExpression::Lt(end) => {
                    doc.set_attr(el, "operation", "lt");
                    doc.set_attr(el, "end", end);
                }
                DateExpression::InRange {
                    start,
                    end,
                    duration,
                } => {
                    doc.set_attr(el, "operation", "in_range");
                    if let Some(start) = start {
                        doc.set_attr(el, "start", start);
                    }
                    if let Some(end) = end {
                        doc.set_attr(el, "end", end);
                    }
                    if !duration.is_empty() {
                        let d_id = ids.claim(&format!("{id}-duration"));
                        let d = doc.append_new(el, "duration", &[("id", &d_id)]);
                        for pair in duration {
                            doc.set_attr(d, &pair.name, &pair.value);
                        }
                    }
                }
                DateExpression::Spec(spec) => {
                    doc.set_attr(el, "operation", "date_spec");
                    let s_id = ids.claim(&format!("{id}-date_spec"));
                    let s = doc.append_new(el, "date_spec", &[("id", &s_id)]);
                    for pair in spec {
                        doc.set_attr(s, &pair.name, &pair.value);
                    }
                }
            }
        }
    }
}

/// Two plain resources, as crmsh writes them without a set.
fn pair(items: &[SetItem]) -> Option<(&ResourceRef, &ResourceRef)> {
    match items {
        [SetItem::Resource(a), SetItem::Resource(b)] => Some((a, b)),
        _ => None,
    }
}

/// `colocation c inf: A B` places A with B: rsc=A, with-rsc=B.
pub(super) fn colocation(cib: &mut Cib, c: &Colocation) -> Result<(), ApplyError> {
    let owner = format!("colocation {}", c.id);
    let (el, place, mut ids) = begin(cib, &c.id, "rsc_colocation")?;
    let doc = cib.document_mut();
    doc.set_attr(el, "score", &score_text(&owner, &c.score)?);
    if let Some((a, b)) = pair(&c.resources) {
        doc.set_attr(el, "rsc", &a.id);
        doc.set_attr(el, "with-rsc", &b.id);
        if let Some(role) = &a.qualifier {
            doc.set_attr(el, "rsc-role", role);
        }
        if let Some(role) = &b.qualifier {
            doc.set_attr(el, "with-rsc-role", role);
        }
    } else {
        write_sets(doc, &mut ids, el, &c.id, &c.resources, ("role", true));
    }
    if let Some(attribute) = &c.node_attribute {
        doc.set_attr(el, "node-attribute", attribute);
    }
    end(cib, el, place);
    Ok(())
}

pub(super) fn order(cib: &mut Cib, o: &Order) -> Result<(), ApplyError> {
    let owner = format!("order {}", o.id);
    let (el, place, mut ids) = begin(cib, &o.id, "rsc_order")?;
    let doc = cib.document_mut();
    match &o.strength {
        Some(OrderStrength::Kind(kind)) => {
            let word = match kind {
                OrderKind::Mandatory => "Mandatory",
                OrderKind::Optional => "Optional",
                OrderKind::Serialize => "Serialize",
            };
            doc.set_attr(el, "kind", word);
        }
        Some(OrderStrength::Score(score)) => doc.set_attr(el, "score", &score_text(&owner, score)?),
        None => {}
    }
    if let Some((a, b)) = pair(&o.resources) {
        doc.set_attr(el, "first", &a.id);
        doc.set_attr(el, "then", &b.id);
        if let Some(action) = &a.qualifier {
            doc.set_attr(el, "first-action", action);
        }
        if let Some(action) = &b.qualifier {
            doc.set_attr(el, "then-action", action);
        }
    } else {
        write_sets(doc, &mut ids, el, &o.id, &o.resources, ("action", true));
    }
    if let Some(symmetrical) = o.symmetrical {
        doc.set_attr(
            el,
            "symmetrical",
            if symmetrical { "true" } else { "false" },
        );
    }
    end(cib, el, place);
    Ok(())
}

/// Resource sets as crmsh writes them: each run of plain resources with
/// the same qualifier is one sequential set, each `( … )` or `[ … ]` a set
/// of its own. `qualifier` names the set attribute `:x` stands for, and
/// whether `( … )` means `sequential=false`.
fn write_sets(
    doc: &mut Document,
    ids: &mut Ids,
    parent: ElementId,
    owner: &str,
    items: &[SetItem],
    (qualifier, ordered): (&str, bool),
) {
    let mut runs: Vec<(Option<&str>, Vec<&str>)> = Vec::new();
    let flush = |doc: &mut Document, ids: &mut Ids, runs: &mut Vec<(Option<&str>, Vec<&str>)>| {
        for (q, members) in runs.drain(..) {
            let set = new_set(doc, ids, parent, owner);
            if let Some(q) = q {
                doc.set_attr(set, qualifier, q);
            }
            refs(doc, set, &members);
        }
    };
    for item in items {
        match item {
            SetItem::Resource(r) => {
                let q = r.qualifier.as_deref();
                match runs.last_mut() {
                    Some((last, members)) if *last == q => members.push(&r.id),
                    _ => runs.push((q, vec![&r.id])),
                }
            }
            SetItem::Set {
                sequential,
                require_all,
                resources,
                attributes,
            } => {
                flush(doc, ids, &mut runs);
                let set = new_set(doc, ids, parent, owner);
                if ordered && !sequential {
                    doc.set_attr(set, "sequential", "false");
                }
                if !require_all {
                    doc.set_attr(set, "require-all", "false");
                }
                if let Some(q) = resources.iter().find_map(|r| r.qualifier.as_deref()) {
                    doc.set_attr(set, qualifier, q);
                }
                for a in attributes {
                    doc.set_attr(set, &a.name, &a.value);
                }
                let members: Vec<&str> = resources.iter().map(|r| r.id.as_str()).collect();
                refs(doc, set, &members);
            }
        }
    }
    flush(doc, ids, &mut runs);
}

fn new_set(doc: &mut Document, ids: &mut Ids, parent: ElementId, owner: &str) -> ElementId {
    let n = doc.get(parent).children_named("resource_set").count();
    let id = ids.claim(&format!("{owner}-{n}"));
    doc.append_new(parent, "resource_set", &[("id", &id)])
}

fn refs(doc: &mut Document, set: ElementId, members: &[&str]) {
    for m in members {
        doc.append_new(set, "resource_ref", &[("id", m)]);
    }
}
