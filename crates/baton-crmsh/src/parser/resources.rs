//! `node`, `primitive`, `group`, `clone` and `ms`.

use super::Cursor;
use crate::ast::{Agent, AgentRef, AttrSet, Clone, CloneFlavor, Group, Node, Op, Primitive};
use crate::error::ParseError;

const PRIMITIVE_SECTIONS: [&str; 5] = ["params", "meta", "utilization", "op", "operations"];
/// Properties of an `<op>` element; any other `op` key is a parameter of
/// the operation, as `OCF_CHECK_LEVEL=10` is.
const OP_PROPERTIES: [&str; 12] = [
    "id",
    "interval",
    "timeout",
    "on-fail",
    "role",
    "enabled",
    "record-pending",
    "start-delay",
    "interval-origin",
    "description",
    "requires",
    "$id",
];

/// `node [$id=ID] [ID:] uname[:type] [attributes k=v…] [utilization k=v…]`
pub(super) fn node(cursor: &mut Cursor<'_>) -> Result<Node, ParseError> {
    let mut id = None;
    if let Some(pair) = cursor.nvpair() {
        if pair.name != "$id" {
            return Err(cursor.expected("a node name"));
        }
        id = Some(pair.value);
    }
    let mut name = cursor.id("a node name")?;
    // `crm configure show` prints `node 1: alice`: the id, then the name.
    if let Some(node_id) = name.strip_suffix(':')
        && cursor.peek().is_some()
    {
        id = Some(node_id.to_owned());
        name = cursor.id("a node name after the node id")?;
    }
    let (uname, node_type) = match name.split_once(':') {
        Some((uname, kind)) => (uname.to_owned(), Some(kind.to_owned())),
        None => (name, None),
    };
    let mut attributes = AttrSet::default();
    let mut utilization = AttrSet::default();
    loop {
        if cursor.at_keyword("attributes") {
            cursor.next();
            cursor.attr_set_into(&mut attributes, &["utilization"])?;
        } else if cursor.at_keyword("utilization") {
            cursor.next();
            cursor.attr_set_into(&mut utilization, &["attributes"])?;
        } else if cursor.at_nvpair() {
            // Old crmsh wrote node attributes without the keyword.
            cursor.attr_set_into(&mut attributes, &["utilization"])?;
        } else {
            break;
        }
    }
    Ok(Node {
        id,
        uname,
        node_type,
        attributes,
        utilization,
    })
}

/// `primitive ID AGENT|@TEMPLATE [params …] [meta …] [utilization …] [op NAME …]…`
pub(super) fn primitive(cursor: &mut Cursor<'_>) -> Result<Primitive, ParseError> {
    let id = cursor.object_id("a resource id")?;
    let agent_token = cursor.word("a resource agent such as ocf:heartbeat:IPaddr2")?;
    let agent = Some(agent_token)
        .filter(|t| super::is_word(&t.text))
        .and_then(|t| agent_ref(&t.text))
        .ok_or_else(|| {
            ParseError::new(
                agent_token.at,
                "class:provider:type, class:type, type or @template",
                format!("`{}`", agent_token.text),
            )
        })?;
    let mut primitive = Primitive {
        id,
        agent,
        params: AttrSet::default(),
        meta: AttrSet::default(),
        utilization: AttrSet::default(),
        ops: Vec::new(),
    };
    while let Some(section) = cursor.peek() {
        if section.quoted || !PRIMITIVE_SECTIONS.contains(&section.text.as_str()) {
            return Err(cursor.expected("params, meta, utilization or op"));
        }
        cursor.next();
        match section.text.as_str() {
            "params" => cursor.attr_set_into(&mut primitive.params, &PRIMITIVE_SECTIONS)?,
            "meta" => cursor.attr_set_into(&mut primitive.meta, &PRIMITIVE_SECTIONS)?,
            "utilization" => {
                cursor.attr_set_into(&mut primitive.utilization, &PRIMITIVE_SECTIONS)?
            }
            // `operations $id=ID` names the <operations> element only.
            "operations" => {
                cursor.pairs(&PRIMITIVE_SECTIONS)?;
            }
            _ => primitive.ops.push(op(cursor)?),
        }
    }
    Ok(primitive)
}

fn op(cursor: &mut Cursor<'_>) -> Result<Op, ParseError> {
    let name = cursor
        .id("an operation name such as monitor, start or stop")?
        .clone();
    let mut op = Op {
        name,
        attributes: Vec::new(),
        params: Vec::new(),
        meta: Vec::new(),
    };
    loop {
        if cursor.at_keyword("op_params") {
            cursor.next();
            op.params.extend(cursor.pairs(&PRIMITIVE_SECTIONS)?);
        } else if cursor.at_keyword("op_meta") {
            cursor.next();
            op.meta.extend(cursor.pairs(&PRIMITIVE_SECTIONS)?);
        } else if let Some(pair) = cursor.nvpair() {
            if OP_PROPERTIES.contains(&pair.name.as_str()) {
                op.attributes.push(pair);
            } else {
                op.params.push(pair);
            }
        } else {
            return Ok(op);
        }
    }
}

/// crmsh's defaults: class ocf, and provider heartbeat for ocf.
pub fn agent_ref(text: &str) -> Option<AgentRef> {
    if let Some(template) = text.strip_prefix('@') {
        return (!template.is_empty()).then(|| AgentRef::Template(template.to_owned()));
    }
    let parts: Vec<&str> = text.split(':').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let (class, provider, kind) = match parts.as_slice() {
        [kind] => ("ocf", Some("heartbeat"), *kind),
        [class, kind] if class.eq_ignore_ascii_case("ocf") => ("ocf", Some("heartbeat"), *kind),
        [class, kind] => (*class, None, *kind),
        [class, provider, kind] => (*class, Some(*provider), *kind),
        _ => return None,
    };
    Some(AgentRef::Agent(Agent {
        class: class.to_owned(),
        provider: provider.map(str::to_owned),
        kind: kind.to_owned(),
    }))
}

/// `group ID RSC… [params …] [meta …]`
pub(super) fn group(cursor: &mut Cursor<'_>) -> Result<Group, ParseError> {
    let id = cursor.object_id("a group id")?;
    let mut members = Vec::new();
    while cursor.peek().is_some() && !cursor.at_keyword("params") && !cursor.at_keyword("meta") {
        members.push(cursor.object_id("a member resource id, params or meta")?);
    }
    if members.is_empty() {
        return Err(cursor.expected("at least one member resource"));
    }
    let (params, meta) = params_and_meta(cursor)?;
    Ok(Group {
        id,
        members,
        params,
        meta,
    })
}

/// `clone ID RSC [params …] [meta …]` and the deprecated `ms ID RSC …`.
pub(super) fn clone(cursor: &mut Cursor<'_>, master_slave: bool) -> Result<Clone, ParseError> {
    let id = cursor.object_id("a clone id")?;
    let child = cursor.object_id("the resource to clone")?;
    let (params, meta) = params_and_meta(cursor)?;
    Ok(Clone {
        id,
        flavor: if master_slave {
            CloneFlavor::MasterSlave
        } else {
            CloneFlavor::Clone
        },
        child,
        params,
        meta,
    })
}

fn params_and_meta(cursor: &mut Cursor<'_>) -> Result<(AttrSet, AttrSet), ParseError> {
    let mut params = AttrSet::default();
    let mut meta = AttrSet::default();
    while let Some(section) = cursor.peek() {
        match section.text.as_str() {
            "params" if !section.quoted => {
                cursor.next();
                cursor.attr_set_into(&mut params, &["params", "meta"])?;
            }
            "meta" if !section.quoted => {
                cursor.next();
                cursor.attr_set_into(&mut meta, &["params", "meta"])?;
            }
            _ => return Err(cursor.expected("params or meta")),
        }
    }
    Ok((params, meta))
}
