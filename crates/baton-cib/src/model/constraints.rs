//! `<constraints>`: location, colocation, order and ticket.

use super::nvset::Rule;
use super::value::{ModelError, boolean, score, typed, view};
use crate::score::Score;
use crate::xml::ElementRef;

/// Any entry of `<constraints>`.
#[derive(Debug, Clone, Copy)]
pub enum Constraint<'a> {
    Location(Location<'a>),
    Colocation(Colocation<'a>),
    Order(Order<'a>),
    Ticket(Ticket<'a>),
    Other(ElementRef<'a>),
}

impl<'a> Constraint<'a> {
    pub(crate) fn from_element(el: ElementRef<'a>) -> Constraint<'a> {
        match el.name() {
            "rsc_location" => Constraint::Location(Location(el)),
            "rsc_colocation" => Constraint::Colocation(Colocation(el)),
            "rsc_order" => Constraint::Order(Order(el)),
            "rsc_ticket" => Constraint::Ticket(Ticket(el)),
            _ => Constraint::Other(el),
        }
    }

    pub fn element(self) -> ElementRef<'a> {
        match self {
            Constraint::Location(c) => c.element(),
            Constraint::Colocation(c) => c.element(),
            Constraint::Order(c) => c.element(),
            Constraint::Ticket(c) => c.element(),
            Constraint::Other(e) => e,
        }
    }
}

view!(
    /// `<rsc_location rsc|rsc-pattern score node role>` or with `<rule>`s.
    Location
);
view!(
    /// `<rsc_colocation rsc with-rsc score rsc-role with-rsc-role>`.
    Colocation
);
view!(
    /// `<rsc_order first then first-action then-action kind|score symmetrical>`.
    Order
);
view!(
    /// `<rsc_ticket ticket rsc rsc-role loss-policy>`.
    Ticket
);
view!(
    /// `<resource_set sequential require-all ordered action role score>`.
    ResourceSet
);

fn resource_sets<'a>(el: ElementRef<'a>) -> impl Iterator<Item = ResourceSet<'a>> + 'a {
    el.children_named("resource_set").map(ResourceSet)
}

impl<'a> Location<'a> {
    pub fn rsc(self) -> Option<&'a str> {
        self.0.attr("rsc")
    }

    pub fn rsc_pattern(self) -> Option<&'a str> {
        self.0.attr("rsc-pattern")
    }

    pub fn node(self) -> Option<&'a str> {
        self.0.attr("node")
    }

    pub fn score(self) -> Result<Option<Score>, ModelError> {
        score(self.0, "score")
    }

    pub fn role(self) -> Option<&'a str> {
        self.0.attr("role")
    }

    pub fn rules(self) -> impl Iterator<Item = Rule<'a>> + 'a {
        self.0.children_named("rule").map(Rule)
    }

    pub fn resource_sets(self) -> impl Iterator<Item = ResourceSet<'a>> + 'a {
        resource_sets(self.0)
    }
}

impl<'a> Colocation<'a> {
    pub fn rsc(self) -> Option<&'a str> {
        self.0.attr("rsc")
    }

    pub fn with_rsc(self) -> Option<&'a str> {
        self.0.attr("with-rsc")
    }

    pub fn score(self) -> Result<Option<Score>, ModelError> {
        score(self.0, "score")
    }

    pub fn rsc_role(self) -> Option<&'a str> {
        self.0.attr("rsc-role")
    }

    pub fn with_rsc_role(self) -> Option<&'a str> {
        self.0.attr("with-rsc-role")
    }

    pub fn node_attribute(self) -> Option<&'a str> {
        self.0.attr("node-attribute")
    }

    pub fn resource_sets(self) -> impl Iterator<Item = ResourceSet<'a>> + 'a {
        resource_sets(self.0)
    }
}

/// The strength of an order constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    Optional,
    Mandatory,
    Serialize,
}

impl<'a> Order<'a> {
    pub fn first(self) -> Option<&'a str> {
        self.0.attr("first")
    }

    pub fn then(self) -> Option<&'a str> {
        self.0.attr("then")
    }

    /// Defaults to `start` when absent.
    pub fn first_action(self) -> &'a str {
        self.0.attr("first-action").unwrap_or("start")
    }

    /// Defaults to the first action when absent.
    pub fn then_action(self) -> &'a str {
        self.0
            .attr("then-action")
            .unwrap_or_else(|| self.first_action())
    }

    /// The explicit `kind`; older configurations use `score` instead.
    pub fn kind(self) -> Result<Option<OrderKind>, ModelError> {
        typed(self.0, "kind", |s| match s.to_ascii_lowercase().as_str() {
            "optional" => Ok(OrderKind::Optional),
            "mandatory" => Ok(OrderKind::Mandatory),
            "serialize" => Ok(OrderKind::Serialize),
            _ => Err("expected Optional, Mandatory or Serialize"),
        })
    }

    pub fn score(self) -> Result<Option<Score>, ModelError> {
        score(self.0, "score")
    }

    pub fn symmetrical(self) -> Result<Option<bool>, ModelError> {
        boolean(self.0, "symmetrical")
    }

    pub fn resource_sets(self) -> impl Iterator<Item = ResourceSet<'a>> + 'a {
        resource_sets(self.0)
    }
}

impl<'a> Ticket<'a> {
    pub fn ticket(self) -> Option<&'a str> {
        self.0.attr("ticket")
    }

    pub fn rsc(self) -> Option<&'a str> {
        self.0.attr("rsc")
    }

    pub fn rsc_role(self) -> Option<&'a str> {
        self.0.attr("rsc-role")
    }

    pub fn loss_policy(self) -> Option<&'a str> {
        self.0.attr("loss-policy")
    }

    pub fn resource_sets(self) -> impl Iterator<Item = ResourceSet<'a>> + 'a {
        resource_sets(self.0)
    }
}

impl<'a> ResourceSet<'a> {
    pub fn sequential(self) -> Result<Option<bool>, ModelError> {
        boolean(self.0, "sequential")
    }

    pub fn require_all(self) -> Result<Option<bool>, ModelError> {
        boolean(self.0, "require-all")
    }

    pub fn ordered(self) -> Result<Option<bool>, ModelError> {
        boolean(self.0, "ordered")
    }

    pub fn action(self) -> Option<&'a str> {
        self.0.attr("action")
    }

    pub fn role(self) -> Option<&'a str> {
        self.0.attr("role")
    }

    pub fn score(self) -> Result<Option<Score>, ModelError> {
        score(self.0, "score")
    }

    /// The member resource ids, in order.
    pub fn resources(self) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .children_named("resource_ref")
            .filter_map(|r| r.attr("id"))
    }
}
