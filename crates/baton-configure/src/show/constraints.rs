//! Constraints back into commands.

use baton_cib::xml::ElementRef;
use baton_crmsh::ast::{
    BoolOp, Colocation, Command, DateExpression, Expression, Location, LocationTarget, Nvpair,
    Order, OrderKind, OrderStrength, Placement, ResourcePattern, ResourceRef, Rule, Score, SetItem,
};

use super::score;
use crate::ids::rule_id;

pub(super) fn all(section: ElementRef<'_>, out: &mut Vec<Command>, not_shown: &mut Vec<String>) {
    let mut by_kind: [Vec<Command>; 3] = Default::default();
    for c in section.children() {
        match c.name() {
            "rsc_location" => by_kind[0].push(location(c)),
            "rsc_colocation" => by_kind[1].push(colocation(c)),
            "rsc_order" => by_kind[2].push(order(c)),
            name => not_shown.push(format!(
                "{name} {}: kept in the CIB; see `baton cib query`",
                c.xml_id()
            )),
        }
    }
    out.extend(by_kind.into_iter().flatten());
}

fn location(c: ElementRef<'_>) -> Command {
    let id = c.xml_id();
    let resource = if let Some(rsc) = c.attr("rsc") {
        LocationTarget::Pattern(ResourcePattern::Id(rsc.to_owned()))
    } else if let Some(re) = c.attr("rsc-pattern") {
        LocationTarget::Pattern(ResourcePattern::Regex(re.to_owned()))
    } else {
        // A location's sets are always bracketed: bare ids there would
        // read as the node.
        LocationTarget::Sets(sets(c, "role", true))
    };
    let placement = match c.attr("node") {
        Some(node) => Placement::Node {
            score: score(c.attr("score").unwrap_or("0")),
            node: node.to_owned(),
        },
        None => Placement::Rules(
            c.children_named("rule")
                .enumerate()
                .map(|(i, r)| rule(r, &rule_id(id, i)))
                .collect(),
        ),
    };
    Command::Location(Location {
        id: id.to_owned(),
        resource,
        role: c.attr("role").map(str::to_owned),
        resource_discovery: c.attr("resource-discovery").map(str::to_owned),
        placement,
    })
}

fn rule(r: ElementRef<'_>, default_id: &str) -> Rule {
    let score = match (r.attr("score"), r.attr("score-attribute")) {
        (Some(s), _) => score(s),
        (None, Some(a)) => Score::Attribute(a.to_owned()),
        (None, None) => Score::Value(0),
    };
    let boolean_op = if r.attr("boolean-op") == Some("or") {
        BoolOp::Or
    } else {
        BoolOp::And
    };
    Rule {
        id: (r.xml_id() != default_id).then(|| r.xml_id().to_owned()),
        role: r.attr("role").map(str::to_owned),
        score,
        boolean_op,
        expressions: r.children().filter_map(expression).collect(),
    }
}

fn expression(e: ElementRef<'_>) -> Option<Expression> {
    let attr = |name| e.attr(name).map(str::to_owned);
    match e.name() {
        "expression" => {
            let attribute = attr("attribute").unwrap_or_default();
            Some(match e.attr("operation").unwrap_or_default() {
                "defined" => Expression::Defined(attribute),
                "not_defined" => Expression::NotDefined(attribute),
                op => Expression::Compare {
                    attribute,
                    operation: op.to_owned(),
                    value_type: attr("type"),
                    value: attr("value").unwrap_or_default(),
                },
            })
        }
        "date_expression" => {
            let fields = |name| e.first_child(name).map(fields).unwrap_or_default();
            Some(Expression::Date(
                match e.attr("operation").unwrap_or_default() {
                    "gt" => DateExpression::Gt(attr("start").unwrap_or_default()),
                    "lt" => DateExpression::Lt(attr("end").unwrap_or_default()),
                    "date_spec" => DateExpression::Spec(fields("date_spec")),
                    _ => DateExpression::InRange {
                        start: attr("start"),
                        end: attr("end"),
                        duration: fields("duration"),
                    },
                },
            ))
        }
        _ => None,
    }
}

/// An element's attributes other than its id, as pairs.
fn fields(el: ElementRef<'_>) -> Vec<Nvpair> {
    el.attrs()
        .iter()
        .filter(|a| &*a.name != "id")
        .map(|a| Nvpair {
            name: a.name.to_string(),
            value: a.value.clone(),
        })
        .collect()
}

fn colocation(c: ElementRef<'_>) -> Command {
    let resources = match (c.attr("rsc"), c.attr("with-rsc")) {
        (Some(a), Some(b)) => vec![
            plain(a, c.attr("rsc-role")),
            plain(b, c.attr("with-rsc-role")),
        ],
        _ => sets(c, "role", false),
    };
    Command::Colocation(Colocation {
        id: c.xml_id().to_owned(),
        score: score(c.attr("score").unwrap_or("INFINITY")),
        resources,
        node_attribute: c.attr("node-attribute").map(str::to_owned),
    })
}

fn order(c: ElementRef<'_>) -> Command {
    let resources = match (c.attr("first"), c.attr("then")) {
        (Some(a), Some(b)) => vec![
            plain(a, c.attr("first-action")),
            plain(b, c.attr("then-action")),
        ],
        _ => sets(c, "action", false),
    };
    let strength = match (c.attr("kind"), c.attr("score")) {
        (Some(kind), _) => Some(match kind.to_ascii_lowercase().as_str() {
            "optional" => OrderStrength::Kind(OrderKind::Optional),
            "serialize" => OrderStrength::Kind(OrderKind::Serialize),
            _ => OrderStrength::Kind(OrderKind::Mandatory),
        }),
        (None, Some(s)) => Some(OrderStrength::Score(score(s))),
        (None, None) => None,
    };
    let symmetrical = c.attr("symmetrical").and_then(baton_cib::model::parse_bool);
    Command::Order(Order {
        id: c.xml_id().to_owned(),
        strength,
        resources,
        symmetrical,
    })
}

fn plain(id: &str, qualifier: Option<&str>) -> SetItem {
    SetItem::Resource(ResourceRef {
        id: id.to_owned(),
        qualifier: qualifier.map(str::to_owned),
    })
}

/// Resource sets: a plain sequential set reads as its members (unless
/// `bracket`), any other as `( … )` (or `[ … ]` when not all are required)
/// with its attributes.
fn sets(c: ElementRef<'_>, qualifier: &str, bracket: bool) -> Vec<SetItem> {
    let mut items = Vec::new();
    for set in c.children_named("resource_set") {
        let q = set.attr(qualifier);
        let resources: Vec<ResourceRef> = set
            .children_named("resource_ref")
            .map(|r| ResourceRef {
                id: r.xml_id().to_owned(),
                qualifier: q.map(str::to_owned),
            })
            .collect();
        let attributes: Vec<Nvpair> = set
            .attrs()
            .iter()
            .filter(|a| !matches!(&*a.name, "id" | "require-all") && *a.name != *qualifier)
            .filter(|a| !(&*a.name == "sequential" && a.value == "false"))
            .map(|a| Nvpair {
                name: a.name.to_string(),
                value: a.value.clone(),
            })
            .collect();
        let require_all = set.attr("require-all") != Some("false");
        let sequential = set.attr("sequential") != Some("false");
        if sequential && require_all && attributes.is_empty() && !bracket {
            items.extend(resources.into_iter().map(SetItem::Resource));
        } else {
            items.push(SetItem::Set {
                sequential: false,
                require_all,
                resources,
                attributes,
            });
        }
    }
    items
}
