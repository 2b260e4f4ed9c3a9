//! Writing commands in the layout of `crm configure show`: the head on one
//! line, each further section on a continued line of its own.

use std::fmt::Write;

use crate::ast::{
    Agent, AgentRef, AttrSet, BoolOp, CloneFlavor, Command, DateExpression, Expression,
    LocationTarget, Nvpair, Op, OrderKind, OrderStrength, Placement, PropertyKind, ResourcePattern,
    ResourceRef, Rule, Score, SetItem,
};

/// One command, without a trailing newline.
pub fn command(command: &Command) -> String {
    let mut lines: Vec<String> = Vec::new();
    match command {
        Command::Node(node) => {
            let mut head = String::from("node ");
            if let Some(id) = &node.id {
                let _ = write!(head, "{id}: ");
            }
            head.push_str(&node.uname);
            if let Some(kind) = &node.node_type {
                let _ = write!(head, ":{kind}");
            }
            lines.push(head);
            section(&mut lines, "attributes", &node.attributes);
            section(&mut lines, "utilization", &node.utilization);
        }
        Command::Primitive(p) => {
            lines.push(format!("primitive {} {}", p.id, agent_ref(&p.agent)));
            section(&mut lines, "params", &p.params);
            section(&mut lines, "meta", &p.meta);
            section(&mut lines, "utilization", &p.utilization);
            for o in &p.ops {
                op(&mut lines, o);
            }
        }
        Command::Group(g) => {
            lines.push(format!("group {} {}", g.id, g.members.join(" ")));
            section(&mut lines, "params", &g.params);
            section(&mut lines, "meta", &g.meta);
        }
        Command::Clone(c) => {
            let keyword = match c.flavor {
                CloneFlavor::Clone => "clone",
                CloneFlavor::MasterSlave => "ms",
            };
            lines.push(format!("{keyword} {} {}", c.id, c.child));
            section(&mut lines, "params", &c.params);
            section(&mut lines, "meta", &c.meta);
        }
        Command::Location(l) => {
            let mut head = format!("location {} {}", l.id, location_target(&l.resource));
            if let Some(role) = &l.role {
                let _ = write!(head, " role={}", value(role));
            }
            if let Some(discovery) = &l.resource_discovery {
                let _ = write!(head, " resource-discovery={}", value(discovery));
            }
            match &l.placement {
                Placement::Node { score: s, node } => {
                    let _ = write!(head, " {}: {node}", score(s));
                    lines.push(head);
                }
                Placement::Rules(rules) => {
                    lines.push(head);
                    lines.extend(rules.iter().map(rule));
                }
            }
        }
        Command::Colocation(c) => {
            let mut head = format!(
                "colocation {} {}: {}",
                c.id,
                score(&c.score),
                items(&c.resources)
            );
            if let Some(attribute) = &c.node_attribute {
                let _ = write!(head, " node-attribute={}", value(attribute));
            }
            lines.push(head);
        }
        Command::Order(o) => {
            let mut head = format!("order {}", o.id);
            match &o.strength {
                Some(OrderStrength::Kind(kind)) => {
                    let word = match kind {
                        OrderKind::Mandatory => "Mandatory",
                        OrderKind::Optional => "Optional",
                        OrderKind::Serialize => "Serialize",
                    };
                    let _ = write!(head, " {word}:");
                }
                Some(OrderStrength::Score(s)) => {
                    let _ = write!(head, " {}:", score(s));
                }
                None => {}
            }
            let _ = write!(head, " {}", items(&o.resources));
            if let Some(symmetrical) = o.symmetrical {
                let _ = write!(head, " symmetrical={symmetrical}");
            }
            lines.push(head);
        }
        Command::Property(p) => {
            let keyword = match p.kind {
                PropertyKind::Cluster => "property",
                PropertyKind::RscDefaults => "rsc_defaults",
                PropertyKind::OpDefaults => "op_defaults",
            };
            lines.push(match &p.set.id {
                Some(id) => format!("{keyword} {id}:"),
                None => keyword.to_owned(),
            });
            lines.extend(p.set.pairs.iter().map(nvpair));
        }
        Command::Delete(ids) => lines.push(format!("delete {}", ids.join(" "))),
    }
    lines.join(" \\\n\t")
}

/// Commands separated by newlines, ending with one.
pub fn commands<'a>(commands: impl IntoIterator<Item = &'a Command>) -> String {
    commands.into_iter().map(|c| command(c) + "\n").collect()
}

fn section(lines: &mut Vec<String>, keyword: &str, set: &AttrSet) {
    if set.is_empty() {
        return;
    }
    let mut line = keyword.to_owned();
    if let Some(id) = &set.id {
        let _ = write!(line, " $id={}", value(id));
    }
    for pair in &set.pairs {
        let _ = write!(line, " {}", nvpair(pair));
    }
    lines.push(line);
}

fn agent_ref(agent: &AgentRef) -> String {
    match agent {
        AgentRef::Template(name) => format!("@{name}"),
        // crmsh shows the default class and provider as the bare type.
        AgentRef::Agent(Agent {
            class,
            provider: Some(provider),
            kind,
        }) if class == "ocf" && provider == "heartbeat" => kind.clone(),
        AgentRef::Agent(Agent {
            class,
            provider: Some(provider),
            kind,
        }) => format!("{class}:{provider}:{kind}"),
        AgentRef::Agent(Agent {
            class,
            provider: None,
            kind,
        }) => format!("{class}:{kind}"),
    }
}

/// `op NAME …`, with its parameters and meta on continued lines of their
/// own, as crmsh shows them.
fn op(lines: &mut Vec<String>, op: &Op) {
    let mut line = format!("op {}", op.name);
    for pair in &op.attributes {
        let _ = write!(line, " {}", nvpair(pair));
    }
    lines.push(line);
    for (keyword, pairs) in [("op_params", &op.params), ("op_meta", &op.meta)] {
        if !pairs.is_empty() {
            let words: Vec<String> = pairs.iter().map(nvpair).collect();
            lines.push(format!("{keyword} {}", words.join(" ")));
        }
    }
}

pub fn score(score: &Score) -> String {
    match score {
        Score::Value(n) => n.to_string(),
        Score::Infinity => "inf".into(),
        Score::MinusInfinity => "-inf".into(),
        Score::Attribute(name) => name.clone(),
    }
}

fn location_target(target: &LocationTarget) -> String {
    match target {
        LocationTarget::Pattern(ResourcePattern::Id(id)) => id.clone(),
        LocationTarget::Pattern(ResourcePattern::Regex(regex)) => token(&format!("/{regex}/")),
        LocationTarget::Sets(sets) => items(sets),
    }
}

fn rule(rule: &Rule) -> String {
    let mut line = String::from("rule");
    if let Some(id) = &rule.id {
        let _ = write!(line, " $id={}", value(id));
    }
    if let Some(role) = &rule.role {
        let _ = write!(line, " $role={}", value(role));
    }
    let _ = write!(line, " {}:", score(&rule.score));
    let joiner = match rule.boolean_op {
        BoolOp::And => " and ",
        BoolOp::Or => " or ",
    };
    let expressions: Vec<String> = rule.expressions.iter().map(expression).collect();
    let _ = write!(line, " {}", expressions.join(joiner));
    line
}

fn expression(expression: &Expression) -> String {
    match expression {
        Expression::Compare {
            attribute,
            operation,
            value_type,
            value: v,
        } => match value_type {
            Some(kind) => format!("{attribute} {kind}:{operation} {}", value(v)),
            None => format!("{attribute} {operation} {}", value(v)),
        },
        Expression::Defined(attribute) => format!("defined {attribute}"),
        Expression::NotDefined(attribute) => format!("not_defined {attribute}"),
        Expression::Date(DateExpression::Gt(date)) => format!("date gt {}", value(date)),
        Expression::Date(DateExpression::Lt(date)) => format!("date lt {}", value(date)),
        Expression::Date(DateExpression::InRange {
            start,
            end,
            duration,
        }) => {
            let mut text = String::from("date in");
            if let Some(start) = start {
                let _ = write!(text, " start={}", value(start));
            }
            if let Some(end) = end {
                let _ = write!(text, " end={}", value(end));
            }
            if !duration.is_empty() {
                text.push_str(" duration");
                for pair in duration {
                    let _ = write!(text, " {}", nvpair(pair));
                }
            }
            text
        }
        Expression::Date(DateExpression::Spec(spec)) => {
            let pairs: Vec<String> = spec.iter().map(nvpair).collect();
            format!("date spec {}", pairs.join(" "))
        }
    }
}

fn items(items: &[SetItem]) -> String {
    let words: Vec<String> = items
        .iter()
        .map(|item| match item {
            SetItem::Resource(r) => resource_ref(r),
            SetItem::Set {
                require_all,
                resources,
                attributes,
                ..
            } => {
                let (open, close) = if *require_all { ("(", ")") } else { ("[", "]") };
                let mut inner: Vec<String> = resources.iter().map(resource_ref).collect();
                inner.extend(attributes.iter().map(nvpair));
                format!("{open} {} {close}", inner.join(" "))
            }
        })
        .collect();
    words.join(" ")
}

fn resource_ref(r: &ResourceRef) -> String {
    match &r.qualifier {
        Some(q) => format!("{}:{q}", r.id),
        None => r.id.clone(),
    }
}

fn nvpair(pair: &Nvpair) -> String {
    format!("{}={}", pair.name, value(&pair.value))
}

/// Bare when it lexes back as this one token, else quoted.
fn token(text: &str) -> String {
    let bare = !text.is_empty()
        && !text.starts_with(['(', ')', '[', ']'])
        && !text
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'));
    if bare { text.to_owned() } else { value(text) }
}

/// Values are quoted when crmsh would: when they hold anything beyond
/// letters, digits and a few punctuation marks, or are empty.
pub fn value(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '_' | '.' | '-' | '+' | ':' | ',' | '@' | '%' | '#')
        });
    if plain {
        return text.to_owned();
    }
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}
