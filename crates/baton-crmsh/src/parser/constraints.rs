//! `location`, `colocation` and `order`, with rules and resource sets.

use super::{Cursor, is_xml_id, score_value};
use crate::ast::{
    BoolOp, Colocation, DateExpression, Expression, Location, LocationTarget, Nvpair, Order,
    OrderKind, OrderStrength, Placement, ResourcePattern, ResourceRef, Rule, Score, SetItem,
};
use crate::error::ParseError;

const COMPARISONS: [&str; 6] = ["lt", "gt", "lte", "gte", "eq", "ne"];
const VALUE_TYPES: [&str; 4] = ["string", "integer", "number", "version"];

/// `location ID RSC|/REGEX/|SETS [role=R] [resource-discovery=D]
///  (SCORE: NODE | rule [$id=ID] [$role=R] SCORE: EXPR [rule …])`
pub(super) fn location(cursor: &mut Cursor<'_>) -> Result<Location, ParseError> {
    let id = cursor.object_id("a constraint id")?;
    let resource = if matches!(cursor.peek_text(), Some("(" | "[")) {
        LocationTarget::Sets(items(cursor, |c| {
            c.at_keyword("rule") || score_token(c).is_some()
        })?)
    } else {
        let regex = cursor
            .peek()
            .and_then(|t| t.text.strip_prefix('/')?.strip_suffix('/'))
            .filter(|regex| !regex.is_empty());
        match regex {
            Some(regex) => {
                cursor.next();
                LocationTarget::Pattern(ResourcePattern::Regex(regex.to_owned()))
            }
            None => LocationTarget::Pattern(ResourcePattern::Id(
                cursor.object_id("a resource id or /regex/")?,
            )),
        }
    };
    let mut role = None;
    let mut resource_discovery = None;
    while let Some(pair) = cursor.nvpair() {
        match pair.name.as_str() {
            "role" => role = Some(pair.value),
            "resource-discovery" => resource_discovery = Some(pair.value),
            _ => return Err(cursor.expected("role=, resource-discovery=, a score or rule")),
        }
    }
    let placement = if cursor.at_keyword("rule") {
        let mut rules = Vec::new();
        while cursor.at_keyword("rule") {
            cursor.next();
            rules.push(rule(cursor)?);
        }
        Placement::Rules(rules)
    } else {
        let score = numeric_score(cursor)?;
        let node = cursor.id("a node name")?;
        Placement::Node { score, node }
    };
    Ok(Location {
        id,
        resource,
        role,
        resource_discovery,
        placement,
    })
}

/// The next token as `SCORE:`, if it is one (not consumed).
fn score_token(cursor: &Cursor<'_>) -> Option<Score> {
    let token = cursor.peek()?;
    if token.quoted {
        return None;
    }
    score_value(token.text.strip_suffix(':')?)
}

fn numeric_score(cursor: &mut Cursor<'_>) -> Result<Score, ParseError> {
    let score = score_token(cursor)
        .ok_or_else(|| cursor.expected("a score such as inf:, -inf: or 100:"))?;
    cursor.next();
    Ok(score)
}

fn rule(cursor: &mut Cursor<'_>) -> Result<Rule, ParseError> {
    let mut id = None;
    let mut role = None;
    while cursor.peek().is_some_and(|t| t.text.starts_with('$')) {
        let Some(pair) = cursor.nvpair() else {
            return Err(cursor.expected("$id=ID or $role=ROLE"));
        };
        match pair.name.as_str() {
            "$id" => id = Some(pair.value),
            "$role" => role = Some(pair.value),
            _ => return Err(cursor.expected("$id=, $role= or a score")),
        }
    }
    let score_text = cursor
        .peek()
        .filter(|t| !t.quoted)
        .and_then(|t| t.text.strip_suffix(':'))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            cursor.expected("a score such as inf:, 100: or an attribute name followed by :")
        })?;
    let score = match score_value(score_text) {
        Some(score) => score,
        None if is_xml_id(score_text) => Score::Attribute(score_text.to_owned()),
        None => {
            return Err(
                cursor.expected("a score such as inf:, 100: or an attribute name followed by :")
            );
        }
    };
    cursor.next();
    let mut expressions = vec![expression(cursor)?];
    let mut boolean_op = None;
    while let Some(word) = cursor.peek_text() {
        let op = match word {
            "and" => BoolOp::And,
            "or" => BoolOp::Or,
            _ => break,
        };
        if boolean_op.is_some_and(|seen| seen != op) {
            return Err(cursor.expected(
                "the same operator throughout one rule (split and/or into separate rules)",
            ));
        }
        boolean_op = Some(op);
        cursor.next();
        expressions.push(expression(cursor)?);
    }
    Ok(Rule {
        id,
        role,
        score,
        boolean_op: boolean_op.unwrap_or(BoolOp::And),
        expressions,
    })
}

fn expression(cursor: &mut Cursor<'_>) -> Result<Expression, ParseError> {
    let first = cursor.id("an expression such as `#uname eq node1` or `defined pingd`")?;
    match first.as_str() {
        "defined" => return Ok(Expression::Defined(cursor.id("an attribute name")?)),
        "not_defined" => return Ok(Expression::NotDefined(cursor.id("an attribute name")?)),
        "date" => return date(cursor).map(Expression::Date),
        _ => {}
    }
    let op_token = cursor.word("a comparison (lt, gt, lte, gte, eq, ne)")?;
    let (value_type, operation) = match op_token.text.split_once(':') {
        Some((kind, op)) => (Some(kind), op),
        None => (None, op_token.text.as_str()),
    };
    if !COMPARISONS.contains(&operation) || value_type.is_some_and(|t| !VALUE_TYPES.contains(&t)) {
        return Err(ParseError::new(
            op_token.at,
            "a comparison (lt, gt, lte, gte, eq, ne), optionally typed as string:, integer:, number: or version:",
            format!("`{}`", op_token.text),
        ));
    }
    let value = cursor.word("a value to compare with")?.text.clone();
    Ok(Expression::Compare {
        attribute: first,
        operation: operation.to_owned(),
        value_type: value_type.map(str::to_owned),
        value,
    })
}

fn date(cursor: &mut Cursor<'_>) -> Result<DateExpression, ParseError> {
    let op = cursor.id("gt, lt, in or spec")?;
    match op.as_str() {
        "gt" => Ok(DateExpression::Gt(cursor.id("a date")?)),
        "lt" => Ok(DateExpression::Lt(cursor.id("a date")?)),
        "in" | "in_range" => {
            let mut start = None;
            let mut end = None;
            let mut duration = Vec::new();
            loop {
                if cursor.at_keyword("duration") {
                    cursor.next();
                    duration.extend(cursor.pairs(&[])?);
                } else if let Some(pair) = cursor.nvpair() {
                    match pair.name.as_str() {
                        "start" => start = Some(pair.value),
                        "end" => end = Some(pair.value),
                        _ => duration.push(pair),
                    }
                } else {
                    break;
                }
            }
            if start.is_none() && end.is_none() {
                return Err(cursor.expected("start= or end="));
            }
            Ok(DateExpression::InRange {
                start,
                end,
                duration,
            })
        }
        "spec" | "date_spec" => {
            let spec = cursor.pairs(&[])?;
            if spec.is_empty() {
                return Err(cursor.expected("fields such as hours=9-17 weekdays=1-5"));
            }
            Ok(DateExpression::Spec(spec))
        }
        _ => Err(cursor.expected("gt, lt, in or spec")),
    }
}

/// `colocation ID SCORE: RSC[:ROLE] WITH-RSC[:ROLE] … [node-attribute=A]`
pub(super) fn colocation(cursor: &mut Cursor<'_>) -> Result<Colocation, ParseError> {
    let id = cursor.object_id("a constraint id")?;
    let score = numeric_score(cursor)?;
    let resources = items(cursor, |c| {
        c.peek()
            .is_some_and(|t| t.text.starts_with("node-attribute="))
    })?;
    let mut node_attribute = None;
    if let Some(pair) = cursor.nvpair() {
        node_attribute = Some(pair.value);
    }
    require_two(cursor, &resources)?;
    Ok(Colocation {
        id,
        score,
        resources,
        node_attribute,
    })
}

/// `order ID [Mandatory:|Optional:|Serialize:|SCORE:] FIRST[:ACTION] THEN[:ACTION] … [symmetrical=B]`
pub(super) fn order(cursor: &mut Cursor<'_>) -> Result<Order, ParseError> {
    let id = cursor.object_id("a constraint id")?;
    let mut strength = None;
    if let Some(token) = cursor.peek().filter(|t| !t.quoted)
        && let Some(word) = token.text.strip_suffix(':')
    {
        strength =
            Some(match word.to_ascii_lowercase().as_str() {
                "mandatory" => OrderStrength::Kind(OrderKind::Mandatory),
                "optional" => OrderStrength::Kind(OrderKind::Optional),
                "serialize" => OrderStrength::Kind(OrderKind::Serialize),
                _ => OrderStrength::Score(score_value(word).ok_or_else(|| {
                    cursor.expected("Mandatory:, Optional:, Serialize: or a score")
                })?),
            });
        cursor.next();
    }
    let resources = items(cursor, |c| {
        c.peek().is_some_and(|t| t.text.starts_with("symmetrical="))
    })?;
    let mut symmetrical = None;
    if let Some(pair) = cursor.nvpair() {
        symmetrical = Some(match pair.value.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => true,
            "false" | "no" | "0" | "off" => false,
            _ => return Err(cursor.expected("symmetrical=true or symmetrical=false")),
        });
    }
    require_two(cursor, &resources)?;
    Ok(Order {
        id,
        strength,
        resources,
        symmetrical,
    })
}

fn require_two(cursor: &Cursor<'_>, items: &[SetItem]) -> Result<(), ParseError> {
    let count: usize = items
        .iter()
        .map(|item| match item {
            SetItem::Resource(_) => 1,
            SetItem::Set { resources, .. } => resources.len(),
        })
        .sum();
    if count < 2 {
        return Err(cursor.expected("at least two resources"));
    }
    Ok(())
}

/// Resources and `( … )` / `[ … ]` sets, until `stop` says so or the end.
fn items(
    cursor: &mut Cursor<'_>,
    stop: impl Fn(&Cursor<'_>) -> bool,
) -> Result<Vec<SetItem>, ParseError> {
    let mut items = Vec::new();
    while cursor.peek().is_some() && !stop(cursor) {
        let open = cursor.peek_text();
        if let Some(open @ ("(" | "[")) = open {
            cursor.next();
            let close = if open == "(" { ")" } else { "]" };
            let mut resources = Vec::new();
            let mut attributes: Vec<Nvpair> = Vec::new();
            loop {
                match cursor.peek_text() {
                    Some(text) if text == close => {
                        cursor.next();
                        break;
                    }
                    Some(_) => {
                        if let Some(pair) = cursor.nvpair() {
                            attributes.push(pair);
                        } else {
                            resources
                                .push(resource_ref(cursor, &format!("a resource or `{close}`"))?);
                        }
                    }
                    None => return Err(cursor.expected(&format!("`{close}` to close the set"))),
                }
            }
            if resources.is_empty() {
                return Err(cursor.expected("a resource inside the set"));
            }
            items.push(SetItem::Set {
                sequential: false,
                require_all: open == "(",
                resources,
                attributes,
            });
        } else {
            items.push(SetItem::Resource(resource_ref(cursor, "a resource id")?));
        }
    }
    Ok(items)
}

/// `id[:role]` or `id[:action]`.
fn resource_ref(cursor: &mut Cursor<'_>, what: &str) -> Result<ResourceRef, ParseError> {
    let at = cursor.peek().map(|t| t.at);
    let text = cursor.id(what)?;
    let (id, qualifier) = match text.split_once(':') {
        Some((id, "")) => (id, None),
        Some((id, qualifier)) => (id, Some(qualifier.to_owned())),
        None => (text.as_str(), None),
    };
    if !is_xml_id(id) {
        return Err(ParseError::new(
            at.unwrap_or_default(),
            format!(
                "{what}: an id of letters, digits, '_', '-', '.', optionally followed by :role or :action"
            ),
            format!("`{text}`"),
        ));
    }
    Ok(ResourceRef {
        id: id.to_owned(),
        qualifier,
    })
}
