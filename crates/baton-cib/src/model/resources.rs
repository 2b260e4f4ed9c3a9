//! `<resources>`: primitives, groups, clones (and legacy `<master>`),
//! with templates and bundles kept as raw elements.

use super::nodes::plain_lookup;
use super::nvset::NvSet;
use super::value::{ModelError, boolean, duration_ms, parse_bool, view};
use crate::xml::ElementRef;

/// Any entry of `<resources>` (or child of a group or clone).
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    Primitive(Primitive<'a>),
    Group(Group<'a>),
    Clone(Clone<'a>),
    /// `<template>`: a primitive skeleton referenced by `template=`.
    Template(ElementRef<'a>),
    Bundle(ElementRef<'a>),
    Other(ElementRef<'a>),
}

impl<'a> Resource<'a> {
    pub(crate) fn from_element(el: ElementRef<'a>) -> Resource<'a> {
        match el.name() {
            "primitive" => Resource::Primitive(Primitive(el)),
            "group" => Resource::Group(Group(el)),
            "clone" | "master" => Resource::Clone(Clone(el)),
            "template" => Resource::Template(el),
            "bundle" => Resource::Bundle(el),
            _ => Resource::Other(el),
        }
    }

    pub fn element(self) -> ElementRef<'a> {
        match self {
            Resource::Primitive(p) => p.element(),
            Resource::Group(g) => g.element(),
            Resource::Clone(c) => c.element(),
            Resource::Template(e) | Resource::Bundle(e) | Resource::Other(e) => e,
        }
    }

    pub fn id(self) -> &'a str {
        self.element().xml_id()
    }

    pub fn meta_attributes(self) -> impl Iterator<Item = NvSet<'a>> + 'a {
        self.element().children_named("meta_attributes").map(NvSet)
    }

    /// A meta attribute from the first rule-less set that has it.
    pub fn meta(self, name: &str) -> Option<&'a str> {
        plain_lookup(self.meta_attributes(), name)
    }
}

view!(
    /// `<primitive id class provider type>`.
    Primitive
);
view!(
    /// `<group>`: members start in order, each colocated with the previous.
    Group
);
view!(
    /// `<clone>` or the legacy `<master>` (always promotable).
    Clone
);
view!(
    /// An `<op>` inside `<operations>`.
    Op
);

impl<'a> Primitive<'a> {
    /// `ocf`, `lsb`, `systemd`, `stonith`, `service`.
    pub fn class(self) -> Option<&'a str> {
        self.0.attr("class")
    }

    pub fn provider(self) -> Option<&'a str> {
        self.0.attr("provider")
    }

    /// The agent name (the `type` attribute).
    pub fn agent(self) -> Option<&'a str> {
        self.0.attr("type")
    }

    /// The `<template>` this primitive inherits from.
    pub fn template(self) -> Option<&'a str> {
        self.0.attr("template")
    }

    pub fn instance_attributes(self) -> impl Iterator<Item = NvSet<'a>> + 'a {
        self.0.children_named("instance_attributes").map(NvSet)
    }

    pub fn meta_attributes(self) -> impl Iterator<Item = NvSet<'a>> + 'a {
        self.0.children_named("meta_attributes").map(NvSet)
    }

    pub fn utilization(self) -> impl Iterator<Item = NvSet<'a>> + 'a {
        self.0.children_named("utilization").map(NvSet)
    }

    pub fn operations(self) -> impl Iterator<Item = Op<'a>> + 'a {
        self.0
            .children_named("operations")
            .flat_map(|ops| ops.children_named("op"))
            .map(Op)
    }

    /// A meta attribute from the first rule-less set that has it.
    pub fn meta(self, name: &str) -> Option<&'a str> {
        plain_lookup(self.meta_attributes(), name)
    }

    /// An instance parameter from the first rule-less set that has it.
    pub fn param(self, name: &str) -> Option<&'a str> {
        plain_lookup(self.instance_attributes(), name)
    }
}

impl<'a> Group<'a> {
    pub fn members(self) -> impl Iterator<Item = Primitive<'a>> + 'a {
        self.0.children_named("primitive").map(Primitive)
    }
}

impl<'a> Clone<'a> {
    /// The cloned resource (a primitive or a group).
    pub fn child(self) -> Option<Resource<'a>> {
        self.0
            .children()
            .find(|c| matches!(c.name(), "primitive" | "group"))
            .map(Resource::from_element)
    }

    /// Written as `<master>` (Pacemaker 1.x syntax).
    pub fn is_legacy_master(self) -> bool {
        self.0.name() == "master"
    }

    /// `<master>`, or a clone with meta `promotable=true`.
    pub fn is_promotable(self) -> Result<bool, ModelError> {
        if self.is_legacy_master() {
            return Ok(true);
        }
        let sets = self.0.children_named("meta_attributes").map(NvSet);
        let Some(pair) = sets
            .filter(|s| s.rule().is_none())
            .find_map(|s| s.pairs().find(|p| p.name() == "promotable"))
        else {
            return Ok(false);
        };
        let value = pair.value().unwrap_or("");
        parse_bool(value).ok_or_else(|| ModelError::BadValue {
            element: "nvpair".to_owned(),
            id: pair.id().to_owned(),
            attr: "value".to_owned(),
            value: value.to_owned(),
            reason: "expected true or false".to_owned(),
        })
    }
}

impl<'a> Op<'a> {
    /// The action: `monitor`, `start`, `stop`, `promote`, …
    pub fn name(self) -> &'a str {
        self.0.attr("name").unwrap_or("")
    }

    /// The interval in ms (0 when absent).
    pub fn interval_ms(self) -> Result<u64, ModelError> {
        Ok(duration_ms(self.0, "interval")?.unwrap_or(0))
    }

    /// The explicit timeout in ms, if set here.
    pub fn timeout_ms(self) -> Result<Option<u64>, ModelError> {
        duration_ms(self.0, "timeout")
    }

    pub fn start_delay_ms(self) -> Result<Option<u64>, ModelError> {
        duration_ms(self.0, "start-delay")
    }

    pub fn role(self) -> Option<&'a str> {
        self.0.attr("role")
    }

    pub fn on_fail(self) -> Option<&'a str> {
        self.0.attr("on-fail")
    }

    /// `enabled`, true when absent.
    pub fn enabled(self) -> Result<bool, ModelError> {
        Ok(boolean(self.0, "enabled")?.unwrap_or(true))
    }

    pub fn record_pending(self) -> Result<Option<bool>, ModelError> {
        boolean(self.0, "record-pending")
    }

    /// Extra parameters such as `OCF_CHECK_LEVEL`.
    pub fn instance_attributes(self) -> impl Iterator<Item = NvSet<'a>> + 'a {
        self.0.children_named("instance_attributes").map(NvSet)
    }

    pub fn meta_attributes(self) -> impl Iterator<Item = NvSet<'a>> + 'a {
        self.0.children_named("meta_attributes").map(NvSet)
    }
}
