//! `crm_verify -L`: problems in a configuration that Pacemaker would
//! refuse or ignore, as typed findings.

mod names;

use std::collections::{HashMap, HashSet};
use std::fmt;

use baton_cib::xml::ElementRef;
use baton_cib::{Cib, Score};

/// Resource classes Pacemaker 2.1 runs.
const CLASSES: [&str; 7] = [
    "ocf", "lsb", "systemd", "service", "stonith", "nagios", "upstart",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// The id of the object at fault, or "cluster" for cluster-wide ones.
    pub object: String,
    pub text: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{word}: {}: {}", self.object, self.text)
    }
}

struct Findings(Vec<Finding>);

impl Findings {
    fn push(&mut self, severity: Severity, object: &str, text: String) {
        self.0.push(Finding {
            severity,
            object: object.to_owned(),
            text,
        });
    }
}

/// Every finding, errors and warnings in configuration order.
pub fn verify(cib: &Cib) -> Vec<Finding> {
    let mut out = Findings(Vec::new());
    let Some(config) = cib.configuration() else {
        out.push(
            Severity::Error,
            "cib",
            "there is no <configuration> section".into(),
        );
        return out.0;
    };
    duplicate_ids(config, &mut out);
    let resources: HashSet<&str> = cib
        .section("resources")
        .map(|r| {
            r.descendants()
                .filter(|e| {
                    matches!(
                        e.name(),
                        "primitive" | "group" | "clone" | "master" | "bundle"
                    )
                })
                .map(|e| e.xml_id())
                .collect()
        })
        .unwrap_or_default();
    if let Some(section) = cib.section("resources") {
        for el in section.descendants().skip(1) {
            resource(el, &mut out);
        }
    }
    let nodes: HashSet<&str> = cib
        .section("nodes")
        .map(|n| {
            n.children_named("node")
                .flat_map(|n| [n.xml_id(), n.attr("uname").unwrap_or_default()])
                .collect()
        })
        .unwrap_or_default();
    if let Some(section) = cib.section("constraints") {
        for c in section.children() {
            constraint(c, &resources, &nodes, &mut out);
        }
    }
    stonith(cib, &mut out);
    fencing_reach(cib, &mut out);
    names::check(cib, &mut out);
    out.0
}

/// Only the findings about misspelled names, values that do not parse and
/// pasted typographic quotes: what `configure` warns about as it writes.
pub fn names_and_values(cib: &Cib) -> Vec<Finding> {
    let mut out = Findings(Vec::new());
    names::check(cib, &mut out);
    out.0
}

fn duplicate_ids(config: ElementRef<'_>, out: &mut Findings) {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for el in config.descendants() {
        if matches!(el.name(), "resource_ref" | "obj_ref" | "node") {
            continue;
        }
        let Some(id) = el.attr("id") else { continue };
        if let Some(first) = seen.insert(id, el.name()) {
            out.push(
                Severity::Error,
                id,
                format!(
                    "the id is used by a <{first}> and a <{}>; ids must be unique",
                    el.name()
                ),
            );
        }
    }
}

fn resource(el: ElementRef<'_>, out: &mut Findings) {
    let id = el.xml_id();
    let parent = el.parent().map(|p| p.name()).unwrap_or_default();
    match el.name() {
        "primitive" => {
            if el.attr("template").is_none() {
                let class = el.attr("class").unwrap_or_default();
                if !CLASSES.contains(&class) {
                    out.push(
                        Severity::Error,
                        id,
                        format!(
                            "unknown resource class `{class}` (known: {})",
                            CLASSES.join(", ")
                        ),
                    );
                }
                if class == "ocf" && el.attr("provider").is_none() {
                    out.push(
                        Severity::Error,
                        id,
                        "an ocf resource needs a provider".into(),
                    );
                }
            }
            if let Some(ops) = el.first_child("operations") {
                for op in ops.children_named("op") {
                    op_times(id, op, out);
                }
            }
        }
        "group" if parent == "group" => out.push(
            Severity::Error,
            id,
            "a group cannot be inside another group; list its primitives in one group".into(),
        ),
        "clone" | "master" if matches!(parent, "clone" | "master" | "group") => out.push(
            Severity::Error,
            id,
            format!("a clone cannot be inside a {parent}; clone the primitive or group instead"),
        ),
        "group" | "clone" | "master"
            if !el
                .children()
                .any(|c| matches!(c.name(), "primitive" | "group" | "clone" | "master")) =>
        {
            out.push(
                Severity::Error,
                id,
                format!("the {} holds no resource", el.name()),
            );
        }
        _ => {}
    }
}

fn op_times(rsc: &str, op: ElementRef<'_>, out: &mut Findings) {
    for attr in ["interval", "timeout", "start-delay"] {
        if let Some(value) = op.attr(attr)
            && baton_cib::duration::parse_duration_ms(value).is_err()
        {
            out.push(
                Severity::Error,
                rsc,
                format!(
                    "op {} has {attr}=`{value}`, which is not a duration (e.g. 30s, 5min, PT1M)",
                    op.attr("name").unwrap_or_default()
                ),
            );
        }
    }
}

fn constraint(
    c: ElementRef<'_>,
    resources: &HashSet<&str>,
    nodes: &HashSet<&str>,
    out: &mut Findings,
) {
    let id = c.xml_id();
    for el in c.descendants() {
        if let Some(s) = el.attr("score")
            && s.parse::<Score>().is_err()
        {
            out.push(
                Severity::Error,
                id,
                format!("`{s}` is not a score (a number, INFINITY or -INFINITY)"),
            );
        }
        let refs: Vec<&str> = if el.name() == "resource_ref" {
            el.attr("id").into_iter().collect()
        } else {
            ["rsc", "with-rsc", "first", "then"]
                .iter()
                .filter_map(|a| el.attr(a))
                .collect()
        };
        for r in refs {
            if !resources.contains(r) {
                out.push(
                    Severity::Error,
                    id,
                    format!(
                        "refers to resource `{r}`, which does not exist; the constraint is ignored"
                    ),
                );
            }
        }
    }
    if c.name() == "rsc_location"
        && let Some(node) = c.attr("node")
        && !nodes.contains(node)
    {
        out.push(
            Severity::Warning,
            id,
            format!("node `{node}` is not in the nodes section (fine if it has not joined yet)"),
        );
    }
}

fn stonith(cib: &Cib, out: &mut Findings) {
    let enabled = cib
        .property("stonith-enabled")
        .is_none_or(|v| baton_cib::model::parse_bool(v) != Some(false));
    let has_device = cib.section("resources").is_some_and(|r| {
        r.descendants()
            .any(|e| e.name() == "primitive" && e.attr("class") == Some("stonith"))
    });
    if enabled && !has_device {
        out.push(
            Severity::Error,
            "cluster",
            "Resource start-up disabled since no STONITH resources have been defined; define a fence device (e.g. `primitive fence-n1 stonith:fence_ipmilan params …`), or for a test cluster without shared data disable fencing with `property stonith-enabled=false`".into(),
        );
    }
}

/// Fencing devices that cannot be used, and nodes no device can fence, as
/// far as the configuration tells (a device without a static host list may
/// reach anyone: only its agent knows).
fn fencing_reach(cib: &Cib, out: &mut Findings) {
    let (registry, problems) = baton_fencing::Registry::from_cib(cib);
    for problem in problems {
        let object = problem
            .device
            .clone()
            .unwrap_or_else(|| "fencing-topology".to_owned());
        out.push(Severity::Warning, &object, problem.what);
    }
    if registry.devices.is_empty() {
        return;
    }
    let nodes: Vec<&str> = cib.nodes().filter_map(|n| n.uname()).collect();
    let no_agent = |_: &str| baton_fencing::AgentCapabilities::default();
    for device in &registry.devices {
        let static_list = !device.host_list.is_empty() || !device.host_map.is_empty();
        if static_list
            && !nodes.is_empty()
            && !nodes
                .iter()
                .any(|n| device.claims(n, no_agent("")) == Some(true))
        {
            out.push(
                Severity::Warning,
                &device.id,
                format!(
                    "its pcmk_host_list/pcmk_host_map names no node of this cluster ({}): it can fence nobody",
                    nodes.join(", ")
                ),
            );
        }
    }
    for node in cib.nodes() {
        let Some(name) = node.uname() else { continue };
        let attributes = node
            .instance_attributes()
            .flat_map(|set| set.pairs())
            .filter_map(|p| Some((p.name().to_owned(), p.value()?.to_owned())))
            .collect();
        let plan = registry.plan(name, &attributes, no_agent);
        let usable = |level: &Vec<baton_fencing::Candidate>| {
            level.iter().all(|c| {
                matches!(
                    c.claim,
                    baton_fencing::Claim::Yes | baton_fencing::Claim::AskAgent
                )
            })
        };
        if !plan.levels.iter().any(usable) {
            out.push(
                Severity::Warning,
                name,
                format!("no fencing device can fence {name} (every device's pcmk_host_list or pcmk_host_map leaves it out): if it is lost, what ran there cannot be recovered"),
            );
        }
    }
}
