//! What running a primitive takes: its agent, its instance parameters and
//! its configured operations, whose attributes every action of that kind
//! carries into the transition graph as `CRM_meta_*`. A primitive built
//! from a `<template>` takes what it does not set itself from there.

use std::collections::BTreeMap;
use std::sync::Arc;

use baton_cib::xml::ElementRef;

use super::history::Role;

/// `class:provider:type`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agent {
    pub class: String,
    pub provider: Option<String>,
    pub kind: String,
}

/// One configured `<op>`.
#[derive(Debug, Clone)]
pub struct OpConfig {
    pub name: String,
    pub interval_ms: u64,
    /// The role it is limited to; `None` when unset.
    pub role: Option<Role>,
    /// A `role` that is not a role: Pacemaker ignores such a recurring op.
    pub bad_role: bool,
    pub enabled: bool,
    /// The `<op>` element's own attributes (`id` aside), over its
    /// meta_attributes.
    pub attrs: BTreeMap<String, String>,
    /// Extra parameters for this operation (`OCF_CHECK_LEVEL`).
    pub params: BTreeMap<String, String>,
}

/// A primitive's agent, parameters and operations, shared by all its
/// clone instances.
#[derive(Debug, Clone, Default)]
pub struct RunConfig {
    pub agent: Arc<Agent>,
    /// Instance attributes from sets without rules, first value winning.
    pub params: Arc<BTreeMap<String, String>>,
    pub ops: Vec<OpConfig>,
}

impl RunConfig {
    /// Reads `primitive`, falling back on `template` for what it lacks.
    pub fn read(primitive: ElementRef<'_>, template: Option<ElementRef<'_>>) -> Arc<RunConfig> {
        let own_or_template = |attr: &str| {
            primitive
                .attr(attr)
                .or_else(|| template.and_then(|t| t.attr(attr)))
                .map(str::to_owned)
        };
        let mut params = plain_pairs(primitive, "instance_attributes");
        let mut ops = read_ops(primitive);
        if let Some(t) = template {
            for (k, v) in plain_pairs(t, "instance_attributes") {
                params.entry(k).or_insert(v);
            }
            for op in read_ops(t) {
                if !ops
                    .iter()
                    .any(|o| o.name == op.name && o.interval_ms == op.interval_ms)
                {
                    ops.push(op);
                }
            }
        }
        Arc::new(RunConfig {
            agent: Arc::new(Agent {
                class: own_or_template("class").unwrap_or_default(),
                provider: own_or_template("provider"),
                kind: own_or_template("type").unwrap_or_default(),
            }),
            params: Arc::new(params),
            ops,
        })
    }

    /// The enabled `<op>` for `name` at `interval_ms`, if configured.
    pub fn op(&self, name: &str, interval_ms: u64) -> Option<&OpConfig> {
        self.find(name, interval_ms).filter(|op| op.enabled)
    }

    /// The `<op>` for `name` at `interval_ms`, enabled or not; `migrate_to`
    /// and `migrate_from` fall back to an op called `migrate`.
    pub fn find(&self, name: &str, interval_ms: u64) -> Option<&OpConfig> {
        let exact = |n: &str, i: u64| {
            self.ops
                .iter()
                .find(|op| op.name == n && op.interval_ms == i)
        };
        exact(name, interval_ms).or_else(|| {
            matches!(name, "migrate_to" | "migrate_from")
                .then(|| exact("migrate", 0))
                .flatten()
        })
    }

    /// The enabled recurring monitor with the shortest interval: probes
    /// without a configuration of their own take its timeout.
    pub fn most_frequent_monitor(&self) -> Option<&OpConfig> {
        self.ops
            .iter()
            .filter(|op| op.name == "monitor" && op.interval_ms > 0 && op.enabled)
            .min_by_key(|op| op.interval_ms)
    }
}

fn read_ops(primitive: ElementRef<'_>) -> Vec<OpConfig> {
    primitive
        .children_named("operations")
        .flat_map(|ops| ops.children_named("op"))
        .filter_map(read_op)
        .collect()
}

fn read_op(op: ElementRef<'_>) -> Option<OpConfig> {
    let mut attrs = plain_pairs(op, "meta_attributes");
    for a in op.attrs() {
        if &*a.name != "id" {
            attrs.insert(a.name.to_string(), a.value.clone());
        }
    }
    let interval_ms = match op.attr("interval") {
        Some(text) => baton_cib::duration::parse_duration_ms(text).ok()?,
        None => 0,
    };
    let role_text = op.attr("role");
    let role = role_text.and_then(super::resources::parse_role);
    Some(OpConfig {
        name: op.attr("name").unwrap_or("").to_owned(),
        interval_ms,
        role,
        bad_role: role_text.is_some() && role.is_none(),
        enabled: op
            .attr("enabled")
            .and_then(baton_cib::model::parse_bool)
            .unwrap_or(true),
        attrs,
        params: plain_pairs(op, "instance_attributes"),
    })
}

/// The pairs of `el`'s `set_name` children that have no rule; the first
/// value of a name wins.
pub fn plain_pairs(el: ElementRef<'_>, set_name: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for set in el
        .children_named(set_name)
        .filter(|s| s.first_child("rule").is_none())
    {
        for p in set.children_named("nvpair") {
            if let (Some(k), Some(v)) = (p.attr("name"), p.attr("value")) {
                m.entry(k.to_owned()).or_insert_with(|| v.to_owned());
            }
        }
    }
    m
}
