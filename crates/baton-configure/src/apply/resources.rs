//! `node`, `primitive`, `group`, `clone` and `ms`.

use baton_cib::Cib;
use baton_cib::xml::ElementId;
use baton_crmsh::ast::{AgentRef, AttrSet, CloneFlavor, Node, Nvpair, Op, Primitive};

use super::xml::{claim_own, find_object, put, replace_old, take_out, write_pairs, write_set};
use super::{AgentLookup, ApplyError, Notice};
use crate::ids::Ids;

pub(super) fn node(cib: &mut Cib, node: &Node) -> Result<(), ApplyError> {
    let nodes = cib.ensure_section("nodes");
    let doc = cib.document();
    // A node is known by id or by name; redefining keeps the id it has.
    let old = doc.get(nodes).children_named("node").find(|n| {
        n.attr("uname") == Some(&node.uname) || node.id.as_deref().is_some_and(|i| n.xml_id() == i)
    });
    let old_id = old.map(|n| n.xml_id().to_owned());
    let place = old
        .map(|n| n.id())
        .and_then(|old| take_out(cib.document_mut(), old));
    let id = node
        .id
        .clone()
        .or(old_id)
        .unwrap_or_else(|| node.uname.clone());
    let mut ids = Ids::of(cib);
    let doc = cib.document_mut();
    let el = doc.create_element("node");
    doc.set_attr(el, "id", &id);
    doc.set_attr(el, "uname", &node.uname);
    if let Some(kind) = &node.node_type {
        doc.set_attr(el, "type", kind);
    }
    write_set(
        doc,
        &mut ids,
        el,
        "instance_attributes",
        &node.attributes,
        &format!("nodes-{id}"),
    )?;
    write_set(
        doc,
        &mut ids,
        el,
        "utilization",
        &node.utilization,
        &format!("nodes-{id}-utilization"),
    )?;
    put(doc, el, place, nodes);
    Ok(())
}

pub(super) fn primitive(cib: &mut Cib, p: &Primitive) -> Result<(), ApplyError> {
    let resources = cib.ensure_section("resources");
    let place = replace_old(cib, &p.id, &["primitive"], "primitive")?;
    let mut ids = Ids::of(cib);
    claim_own(&mut ids, &p.id)?;
    let doc = cib.document_mut();
    let el = doc.create_element("primitive");
    doc.set_attr(el, "id", &p.id);
    match &p.agent {
        AgentRef::Agent(agent) => {
            doc.set_attr(el, "class", &agent.class);
            if let Some(provider) = &agent.provider {
                doc.set_attr(el, "provider", provider);
            }
            doc.set_attr(el, "type", &agent.kind);
        }
        AgentRef::Template(name) => doc.set_attr(el, "template", name),
    }
    let id = &p.id;
    write_set(
        doc,
        &mut ids,
        el,
        "instance_attributes",
        &p.params,
        &format!("{id}-instance_attributes"),
    )?;
    write_set(
        doc,
        &mut ids,
        el,
        "meta_attributes",
        &p.meta,
        &format!("{id}-meta_attributes"),
    )?;
    write_set(
        doc,
        &mut ids,
        el,
        "utilization",
        &p.utilization,
        &format!("{id}-utilization"),
    )?;
    if !p.ops.is_empty() {
        let ops = doc.append_new(el, "operations", &[]);
        for op in &p.ops {
            write_op(doc, &mut ids, ops, id, op);
        }
    }
    put(doc, el, place, resources);
    Ok(())
}

/// `<op id="RSC-NAME-INTERVAL" name interval …>`; an op without an
/// interval gets `interval=0s`, as crmsh writes it.
fn write_op(doc: &mut baton_cib::xml::Document, ids: &mut Ids, ops: ElementId, rsc: &str, op: &Op) {
    let interval = op
        .attributes
        .iter()
        .find(|a| a.name == "interval")
        .map_or("0s", |a| a.value.as_str());
    let id = ids.claim(&format!("{rsc}-{}-{interval}", op.name));
    let el = doc.append_new(ops, "op", &[("id", &id), ("name", &op.name)]);
    for attr in &op.attributes {
        doc.set_attr(el, &attr.name, &attr.value);
    }
    if el_attr_missing(doc, el, "interval") {
        doc.set_attr(el, "interval", "0s");
    }
    for (element, pairs) in [
        ("instance_attributes", &op.params),
        ("meta_attributes", &op.meta),
    ] {
        if !pairs.is_empty() {
            let set_id = ids.claim(&format!("{id}-{element}"));
            let set = doc.append_new(el, element, &[("id", &set_id)]);
            write_pairs(doc, ids, set, &set_id, pairs);
        }
    }
}

fn el_attr_missing(doc: &baton_cib::xml::Document, el: ElementId, name: &str) -> bool {
    doc.element(el).attr(name).is_none()
}

/// What a user should know about a primitive's agent: that it is not
/// installed here (and what they probably meant), a required parameter
/// left out, a parameter the agent does not declare.
pub(super) fn agent_notices(p: &Primitive, agents: &dyn AgentLookup) -> Vec<Notice> {
    let AgentRef::Agent(agent) = &p.agent else {
        return Vec::new();
    };
    let name = match &agent.provider {
        Some(provider) => format!("{}:{provider}:{}", agent.class, agent.kind),
        None => format!("{}:{}", agent.class, agent.kind),
    };
    let notice = |text: String| Notice {
        object: p.id.clone(),
        text,
    };
    if agents.is_installed(agent) == Some(false) {
        let installed = agents.installed_like(agent);
        let hint = crate::suggest::suggestion(&name, installed.iter().map(String::as_str));
        let text = if hint.is_empty() {
            format!(
                "agent {name} is not installed on this node (fine if the resource runs elsewhere)"
            )
        } else {
            format!("agent {name} is not installed on this node{hint}")
        };
        return vec![notice(text)];
    }
    let Some(declared) = agents.parameters(agent) else {
        return Vec::new();
    };
    let given: Vec<&str> = p.params.pairs.iter().map(|n| n.name.as_str()).collect();
    // The fencer tells a fence agent these itself, for each fencing.
    let supplied: &[&str] = if agent.class == "stonith" {
        &["action", "port", "plug", "nodename"]
    } else {
        &[]
    };
    let mut notices: Vec<Notice> = declared
        .iter()
        .filter(|d| d.required && !given.contains(&d.name.as_str()))
        .filter(|d| !supplied.contains(&d.name.as_str()))
        .map(|d| {
            notice(format!(
                "agent {name} requires the parameter `{}`, which is not given: the resource cannot start without it",
                d.name
            ))
        })
        .collect();
    // Fencing devices also take Pacemaker's own pcmk_* parameters.
    for undeclared in given
        .iter()
        .filter(|g| !g.starts_with("pcmk_") && !declared.iter().any(|d| d.name == **g))
    {
        let hint = crate::suggest::suggestion(undeclared, declared.iter().map(|d| d.name.as_str()));
        notices.push(notice(format!(
            "`{undeclared}` is not a parameter of {name} (the agent ignores it){hint}"
        )));
    }
    notices
}

pub(super) fn group(cib: &mut Cib, g: &baton_crmsh::ast::Group) -> Result<(), ApplyError> {
    let owner = format!("group {}", g.id);
    let old = find_object(cib, &g.id);
    let members = g
        .members
        .iter()
        .map(|m| {
            member(
                cib,
                &owner,
                m,
                old,
                &["primitive"],
                "a group holds only primitives",
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(dup) = g
        .members
        .iter()
        .enumerate()
        .find(|(i, m)| g.members[..*i].contains(m))
    {
        return Err(ApplyError::Invalid {
            owner,
            reason: format!("`{}` is listed twice", dup.1),
        });
    }
    let new = container(
        cib,
        &g.id,
        &["group"],
        "group",
        old,
        &members,
        &g.params,
        &g.meta,
        &[],
    )?;
    for m in members {
        move_into(cib, m, new);
    }
    Ok(())
}

pub(super) fn clone(
    cib: &mut Cib,
    c: &baton_crmsh::ast::Clone,
    notices: &mut Vec<Notice>,
) -> Result<(), ApplyError> {
    let owner = format!("clone {}", c.id);
    let old = find_object(cib, &c.id);
    let child = member(
        cib,
        &owner,
        &c.child,
        old,
        &["primitive", "group"],
        "a clone holds a primitive or a group, not another clone",
    )?;
    let mut extra = Vec::new();
    let promotable_set = c.meta.pairs.iter().any(|p| p.name == "promotable");
    if c.flavor == CloneFlavor::MasterSlave {
        if !promotable_set {
            extra.push(Nvpair {
                name: "promotable".into(),
                value: "true".into(),
            });
        }
        notices.push(Notice {
            object: c.id.clone(),
            text: "`ms` is deprecated: written as a promotable clone (`clone … meta promotable=true`), as crmsh 4.4 and Pacemaker 2.1 do".into(),
        });
    }
    let new = container(
        cib,
        &c.id,
        &["clone", "master"],
        "clone",
        old,
        &[child],
        &c.params,
        &c.meta,
        &extra,
    )?;
    move_into(cib, child, new);
    Ok(())
}

/// Checks that `id` can go into the container being (re)defined: it exists,
/// is of an allowed kind, and belongs to nothing else.
fn member(
    cib: &Cib,
    owner: &str,
    id: &str,
    container: Option<ElementId>,
    kinds: &[&str],
    why: &str,
) -> Result<ElementId, ApplyError> {
    let nesting = |reason: String| ApplyError::Nesting {
        owner: owner.to_owned(),
        id: id.to_owned(),
        reason,
    };
    let el = find_object(cib, id).ok_or_else(|| ApplyError::Missing {
        owner: owner.to_owned(),
        id: id.to_owned(),
    })?;
    let doc = cib.document();
    let r = doc.get(el);
    if !kinds.contains(&r.name()) {
        return Err(nesting(format!("it is a {}; {why}", r.name())));
    }
    match r.parent() {
        Some(p) if p.name() == "resources" || Some(p.id()) == container => Ok(el),
        Some(p) => Err(nesting(format!(
            "it already belongs to {} `{}`",
            p.name(),
            p.xml_id()
        ))),
        None => Ok(el),
    }
}

/// Builds a group or clone element in place of `old`. Children of `old`
/// that are not `keep` go back to the top of `<resources>`.
#[allow(clippy::too_many_arguments, reason = "one call per container kind")]
fn container(
    cib: &mut Cib,
    id: &str,
    names: &[&str],
    element: &'static str,
    old: Option<ElementId>,
    keep: &[ElementId],
    params: &AttrSet,
    meta: &AttrSet,
    extra_meta: &[Nvpair],
) -> Result<ElementId, ApplyError> {
    let resources = cib.ensure_section("resources");
    if let Some(old) = old {
        let strays: Vec<ElementId> = cib
            .document()
            .get(old)
            .children()
            .filter(|c| matches!(c.name(), "primitive" | "group") && !keep.contains(&c.id()))
            .map(|c| c.id())
            .collect();
        for stray in strays {
            move_into(cib, stray, resources);
        }
    }
    let place = replace_old(cib, id, names, element)?;
    let mut ids = Ids::of(cib);
    claim_own(&mut ids, id)?;
    let doc = cib.document_mut();
    let el = doc.create_element(element);
    doc.set_attr(el, "id", id);
    write_set(
        doc,
        &mut ids,
        el,
        "instance_attributes",
        params,
        &format!("{id}-instance_attributes"),
    )?;
    let mut meta = meta.clone();
    meta.pairs.splice(0..0, extra_meta.iter().cloned());
    write_set(
        doc,
        &mut ids,
        el,
        "meta_attributes",
        &meta,
        &format!("{id}-meta_attributes"),
    )?;
    put(doc, el, place, resources);
    Ok(el)
}

fn move_into(cib: &mut Cib, child: ElementId, parent: ElementId) {
    let doc = cib.document_mut();
    // Resources are never the root; `parent` is never inside `child`.
    let _ = doc.detach(child);
    let _ = doc.append_child(parent, child);
}
