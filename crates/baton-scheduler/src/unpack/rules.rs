//! Rule evaluation against a node's attributes and the time (location
//! rules).

use baton_cib::Score;
use baton_cib::model::{BooleanOp, Expression, Rule, RuleTerm};
use std::cmp::Ordering;

use std::collections::BTreeMap;

/// Node attributes by name.
pub type Attrs = BTreeMap<String, String>;

/// The rule's score when it matches a node with `attrs` at `now_s`, else
/// `None`.
pub fn evaluate(rule: Rule<'_>, attrs: &Attrs, now_s: i64) -> Option<Score> {
    if !matches(rule, attrs, now_s) {
        return None;
    }
    if let Some(attr) = rule.score_attribute() {
        return attrs.get(attr).and_then(|v| v.parse::<Score>().ok());
    }
    Some(rule.score().ok().flatten().unwrap_or(Score::ZERO))
}

fn matches(rule: Rule<'_>, attrs: &Attrs, now_s: i64) -> bool {
    let op = rule.boolean_op().unwrap_or(BooleanOp::And);
    let mut results = rule.terms().filter_map(|t| match t {
        RuleTerm::Expression(e) => Some(expression(e, attrs)),
        RuleTerm::Rule(r) => Some(matches(r, attrs, now_s)),
        RuleTerm::Date(d) => Some(super::dates::matches(d, now_s)),
        RuleTerm::Other(_) => None,
    });
    match op {
        BooleanOp::And => results.all(|b| b),
        BooleanOp::Or => results.any(|b| b),
    }
}

/// The integer a value starts with, as C's strtoll reads it: "3.6" is 3.
pub(super) fn leading_integer(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits_from = usize::from(s.starts_with(['-', '+']));
    let end = digits_from
        + s[digits_from..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
    if end == digits_from {
        return None;
    }
    s[..end].parse().ok()
}

/// Values that do not parse as the requested type compare as strings.
fn compare(a: &str, b: &str, kind: &str) -> Option<Ordering> {
    match kind {
        "integer" => match (leading_integer(a), leading_integer(b)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => Some(a.cmp(b)),
        },
        "number" => match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
            (Ok(x), Ok(y)) => x.partial_cmp(&y),
            _ => Some(a.cmp(b)),
        },
        "version" => {
            let parts =
                |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
            Some(parts(a).cmp(&parts(b)))
        }
        _ => Some(a.cmp(b)),
    }
}

fn expression(e: Expression<'_>, attrs: &Attrs) -> bool {
    let Some(attr) = e.attribute() else {
        return false;
    };
    let have = attrs.get(attr).map(String::as_str);
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
