//! Nodes and resources back into commands.

use baton_cib::xml::ElementRef;
use baton_crmsh::ast::{
    Agent, AgentRef, AttrSet, Clone, CloneFlavor, Command, Group, Node, Nvpair, Op, Primitive,
};

use super::{attr_set, pairs, ruled_sets};

pub(super) fn node(n: ElementRef<'_>) -> Command {
    let id = n.xml_id();
    let uname = n.attr("uname").unwrap_or(id);
    Command::Node(Node {
        id: (id != uname).then(|| id.to_owned()),
        uname: uname.to_owned(),
        node_type: n.attr("type").map(str::to_owned),
        attributes: attr_set(n, "instance_attributes", &format!("nodes-{id}")),
        utilization: attr_set(n, "utilization", &format!("nodes-{id}-utilization")),
    })
}

/// Primitives first, then groups, then clones, each in document order.
pub(super) fn all(section: ElementRef<'_>, out: &mut Vec<Command>, not_shown: &mut Vec<String>) {
    let mut groups = Vec::new();
    let mut clones = Vec::new();
    for el in section.descendants().skip(1) {
        if matches!(el.name(), "primitive" | "group" | "clone" | "master") && !in_bundle(el) {
            ruled_sets(el, not_shown);
        }
        match el.name() {
            "primitive" if !in_bundle(el) => out.push(primitive(el)),
            "group" => groups.push(group(el)),
            "clone" | "master" => clones.push(clone(el)),
            "template" | "bundle" if el.parent().is_some_and(|p| p.id() == section.id()) => {
                not_shown.push(format!(
                    "{} {}: kept in the CIB; see `baton cib query`",
                    el.name(),
                    el.xml_id()
                ));
            }
            _ => {}
        }
    }
    out.extend(groups);
    out.extend(clones);
}

fn in_bundle(el: ElementRef<'_>) -> bool {
    el.parent().is_some_and(|p| p.name() == "bundle")
}

fn primitive(el: ElementRef<'_>) -> Command {
    let id = el.xml_id();
    let agent = match el.attr("template") {
        Some(t) => AgentRef::Template(t.to_owned()),
        None => AgentRef::Agent(Agent {
            class: el.attr("class").unwrap_or_default().to_owned(),
            provider: el.attr("provider").map(str::to_owned),
            kind: el.attr("type").unwrap_or_default().to_owned(),
        }),
    };
    let ops = el
        .first_child("operations")
        .map(|ops| ops.children_named("op").map(op).collect())
        .unwrap_or_default();
    Command::Primitive(Primitive {
        id: id.to_owned(),
        agent,
        params: attr_set(
            el,
            "instance_attributes",
            &format!("{id}-instance_attributes"),
        ),
        meta: attr_set(el, "meta_attributes", &format!("{id}-meta_attributes")),
        utilization: attr_set(el, "utilization", &format!("{id}-utilization")),
        ops,
    })
}

fn op(el: ElementRef<'_>) -> Op {
    let attributes = el
        .attrs()
        .iter()
        .filter(|a| !matches!(&*a.name, "id" | "name"))
        .map(|a| Nvpair {
            name: a.name.to_string(),
            value: a.value.clone(),
        })
        .collect();
    let nested = |name| el.first_child(name).map(pairs).unwrap_or_default();
    Op {
        name: el.attr("name").unwrap_or_default().to_owned(),
        attributes,
        params: nested("instance_attributes"),
        meta: nested("meta_attributes"),
    }
}

fn group(el: ElementRef<'_>) -> Command {
    let id = el.xml_id();
    Command::Group(Group {
        id: id.to_owned(),
        members: el
            .children_named("primitive")
            .map(|p| p.xml_id().to_owned())
            .collect(),
        params: attr_set(
            el,
            "instance_attributes",
            &format!("{id}-instance_attributes"),
        ),
        meta: attr_set(el, "meta_attributes", &format!("{id}-meta_attributes")),
    })
}

fn clone(el: ElementRef<'_>) -> Command {
    let id = el.xml_id();
    let child = el
        .children()
        .find(|c| matches!(c.name(), "primitive" | "group"))
        .map(|c| c.xml_id().to_owned())
        .unwrap_or_default();
    let flavor = if el.name() == "master" {
        CloneFlavor::MasterSlave
    } else {
        CloneFlavor::Clone
    };
    let meta: AttrSet = attr_set(el, "meta_attributes", &format!("{id}-meta_attributes"));
    Command::Clone(Clone {
        id: id.to_owned(),
        flavor,
        child,
        params: attr_set(
            el,
            "instance_attributes",
            &format!("{id}-instance_attributes"),
        ),
        meta,
    })
}
