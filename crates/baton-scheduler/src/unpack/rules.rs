//! Rule evaluation against a node's attributes (location rules). Date
//! expressions are not evaluated yet: a rule that needs one never matches.

use baton_cib::Score;
use baton_cib::model::{BooleanOp, Expression, Rule, RuleTerm};
use std::cmp::Ordering;

use super::nodes::NodeInfo;

/// The rule's score when it matches `node`, else `None`.
pub fn evaluate(rule: Rule<'_>, node: &NodeInfo) -> Option<Score> {
    if !matches(rule, node) {
        return None;
    }
    if let Some(attr) = rule.score_attribute() {
        return node.attrs.get(attr).and_then(|v| v.parse::<Score>().ok());
    }
    Some(rule.score().ok().flatten().unwrap_or(Score::ZERO))
}

fn matches(rule: Rule<'_>, node: &NodeInfo) -> bool {
    let op = rule.boolean_op().unwrap_or(BooleanOp::And);
    let mut results = rule.terms().filter_map(|t| match t {
        RuleTerm::Expression(e) => Some(expression(e, node)),
        RuleTerm::Rule(r) => Some(matches(r, node)),
        RuleTerm::Date(_) => Some(false),
        RuleTerm::Other(_) => None,
    });
    match op {
        BooleanOp::And => results.all(|b| b),
        BooleanOp::Or => results.any(|b| b),
    }
}

fn compare(a: &str, b: &str, kind: &str) -> Option<Ordering> {
    match kind {
        "integer" | "number" => {
            let x = a.trim().parse::<f64>().ok()?;
            let y = b.trim().parse::<f64>().ok()?;
            x.partial_cmp(&y)
        }
        "version" => {
            let parts =
                |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
            Some(parts(a).cmp(&parts(b)))
        }
        _ => Some(a.cmp(b)),
    }
}

fn expression(e: Expression<'_>, node: &NodeInfo) -> bool {
    let Some(attr) = e.attribute() else {
        return false;
    };
    let have = node.attrs.get(attr).map(String::as_str);
    let op = e.operation().unwrap_or("eq");
    match op {
        "defined" => return have.is_some(),
        "not_defined" => return have.is_none(),
        _ => {}
    }
    let want = match e.value_source() {
        Some("param") | Some("meta") => return false,
        _ => e.value(),
    };
    let (Some(have), Some(want)) = (have, want) else {
        return op == "ne" && have.is_none();
    };
    // Without an explicit type, numbers compare as numbers when both parse.
    let kind = e.value_type().unwrap_or_else(|| {
        if have.parse::<f64>().is_ok() && want.parse::<f64>().is_ok() && op != "eq" && op != "ne" {
            "number"
        } else {
            "string"
        }
    });
    let Some(ord) = compare(have, want, kind) else {
        return false;
    };
    match op {
        "eq" => ord == Ordering::Equal,
        "ne" => ord != Ordering::Equal,
        "lt" => ord == Ordering::Less,
        "lte" => ord != Ordering::Greater,
        "gt" => ord == Ordering::Greater,
        "gte" => ord != Ordering::Less,
        _ => false,
    }
}
