//! Name/value sets (`instance_attributes`, `meta_attributes`,
//! `utilization`, `cluster_property_set`) and the rules that guard them.

use super::value::{ModelError, score, view};
use crate::score::Score;
use crate::xml::ElementRef;

view!(
    /// A set of `<nvpair>`s, possibly guarded by a `<rule>`.
    NvSet
);
view!(
    /// One `<nvpair id name value>`.
    NvPair
);
view!(
    /// A `<rule>`: terms combined with `boolean-op`.
    Rule
);
view!(
    /// An `<expression attribute operation value type value-source>`.
    Expression
);
view!(
    /// A `<date_expression operation start end>` with an optional
    /// `<date_spec>` or `<duration>` child.
    DateExpression
);

impl<'a> NvSet<'a> {
    /// A reference to a set defined elsewhere (`id-ref`).
    pub fn id_ref(self) -> Option<&'a str> {
        self.0.attr("id-ref")
    }

    /// The precedence of this set among its siblings.
    pub fn score(self) -> Result<Option<Score>, ModelError> {
        score(self.0, "score")
    }

    /// The rule deciding whether the set applies; `None` means always.
    pub fn rule(self) -> Option<Rule<'a>> {
        self.0.first_child("rule").map(Rule)
    }

    pub fn pairs(self) -> impl Iterator<Item = NvPair<'a>> + 'a {
        self.0.children_named("nvpair").map(NvPair)
    }

    /// The value of the first pair called `name`.
    pub fn get(self, name: &str) -> Option<&'a str> {
        self.pairs()
            .find(|p| p.name() == name)
            .and_then(|p| p.value())
    }
}

impl<'a> NvPair<'a> {
    pub fn name(self) -> &'a str {
        self.0.attr("name").unwrap_or("")
    }

    pub fn value(self) -> Option<&'a str> {
        self.0.attr("value")
    }
}

/// How a rule combines its terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BooleanOp {
    And,
    Or,
}

/// One term of a rule.
#[derive(Debug, Clone, Copy)]
pub enum RuleTerm<'a> {
    Expression(Expression<'a>),
    Date(DateExpression<'a>),
    Rule(Rule<'a>),
    /// `<rsc_expression>` or `<op_expression>` (only valid in defaults).
    Other(ElementRef<'a>),
}

impl<'a> Rule<'a> {
    pub fn score(self) -> Result<Option<Score>, ModelError> {
        score(self.0, "score")
    }

    pub fn score_attribute(self) -> Option<&'a str> {
        self.0.attr("score-attribute")
    }

    pub fn role(self) -> Option<&'a str> {
        self.0.attr("role")
    }

    /// `and` unless the rule says `or`.
    pub fn boolean_op(self) -> Result<BooleanOp, ModelError> {
        let op = super::value::typed(self.0, "boolean-op", |s| match s {
            "and" => Ok(BooleanOp::And),
            "or" => Ok(BooleanOp::Or),
            _ => Err("expected and or or"),
        })?;
        Ok(op.unwrap_or(BooleanOp::And))
    }

    pub fn terms(self) -> impl Iterator<Item = RuleTerm<'a>> + 'a {
        self.0.children().map(|c| match c.name() {
            "expression" => RuleTerm::Expression(Expression(c)),
            "date_expression" => RuleTerm::Date(DateExpression(c)),
            "rule" => RuleTerm::Rule(Rule(c)),
            _ => RuleTerm::Other(c),
        })
    }
}

impl<'a> Expression<'a> {
    pub fn attribute(self) -> Option<&'a str> {
        self.0.attr("attribute")
    }

    /// `lt`, `gt`, `lte`, `gte`, `eq`, `ne`, `defined` or `not_defined`.
    pub fn operation(self) -> Option<&'a str> {
        self.0.attr("operation")
    }

    pub fn value(self) -> Option<&'a str> {
        self.0.attr("value")
    }

    /// `string`, `integer`, `number` or `version` (the `type` attribute).
    pub fn value_type(self) -> Option<&'a str> {
        self.0.attr("type")
    }

    /// `literal`, `param` or `meta`.
    pub fn value_source(self) -> Option<&'a str> {
        self.0.attr("value-source")
    }
}

impl<'a> DateExpression<'a> {
    /// `in_range`, `gt`, `lt` or `date_spec`.
    pub fn operation(self) -> Option<&'a str> {
        self.0.attr("operation")
    }

    pub fn start(self) -> Option<&'a str> {
        self.0.attr("start")
    }

    pub fn end(self) -> Option<&'a str> {
        self.0.attr("end")
    }

    pub fn date_spec(self) -> Option<ElementRef<'a>> {
        self.0.first_child("date_spec")
    }

    pub fn duration(self) -> Option<ElementRef<'a>> {
        self.0.first_child("duration")
    }
}
