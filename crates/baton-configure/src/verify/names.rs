//! The names and values users get wrong: cluster options, resource meta
//! attributes and op attributes against Pacemaker 2.1's own lists (with
//! both spellings of the options renamed after 2.1.5), each value against
//! its type, and typographic quotes pasted from a web page.

use baton_cib::xml::ElementRef;
use baton_cib::{Cib, Score};

use super::{Findings, Severity};
use crate::suggest::suggestion;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Bool,
    Time,
    Integer,
    Score,
    Percentage,
    Text,
    OneOf(&'static [&'static str]),
}

const NO_QUORUM_POLICIES: &[&str] = &["stop", "freeze", "ignore", "demote", "suicide"];
const FENCING_ACTIONS: &[&str] = &["reboot", "off", "poweroff"];
const PLACEMENT: &[&str] = &["default", "utilization", "minimal", "balanced"];
const HEALTH: &[&str] = &[
    "none",
    "migrate-on-red",
    "only-green",
    "progressive",
    "custom",
];
const ROLES: &[&str] = &[
    "Stopped",
    "Started",
    "Unpromoted",
    "Promoted",
    "Slave",
    "Master",
    "#default",
];
const ON_FAIL: &[&str] = &[
    "ignore",
    "block",
    "demote",
    "stop",
    "restart",
    "standby",
    "fence",
    "restart-container",
];

/// Cluster options (`crm_config`), as Pacemaker 2.1's daemons list them.
const CLUSTER_OPTIONS: &[(&str, Kind)] = &[
    ("batch-limit", Kind::Integer),
    ("cancel-removed-actions", Kind::Bool),
    ("cluster-delay", Kind::Time),
    ("cluster-infrastructure", Kind::Text),
    ("cluster-ipc-limit", Kind::Integer),
    ("cluster-name", Kind::Text),
    ("cluster-recheck-interval", Kind::Time),
    ("concurrent-fencing", Kind::Bool),
    ("dc-deadtime", Kind::Time),
    ("dc-version", Kind::Text),
    ("election-timeout", Kind::Time),
    ("enable-acl", Kind::Bool),
    ("enable-startup-probes", Kind::Bool),
    ("fence-reaction", Kind::OneOf(&["stop", "panic"])),
    ("fencing-action", Kind::OneOf(FENCING_ACTIONS)),
    ("fencing-enabled", Kind::Bool),
    ("fencing-max-attempts", Kind::Integer),
    ("fencing-reaction", Kind::OneOf(&["stop", "panic"])),
    ("fencing-timeout", Kind::Time),
    ("fencing-watchdog-timeout", Kind::Text),
    ("have-watchdog", Kind::Bool),
    ("join-finalization-timeout", Kind::Time),
    ("join-integration-timeout", Kind::Time),
    ("last-lrm-refresh", Kind::Text),
    ("load-threshold", Kind::Percentage),
    ("maintenance-mode", Kind::Bool),
    ("migration-limit", Kind::Integer),
    ("no-quorum-policy", Kind::OneOf(NO_QUORUM_POLICIES)),
    ("node-action-limit", Kind::Integer),
    ("node-health-base", Kind::Score),
    ("node-health-green", Kind::Score),
    ("node-health-red", Kind::Score),
    ("node-health-strategy", Kind::OneOf(HEALTH)),
    ("node-health-yellow", Kind::Score),
    ("node-pending-timeout", Kind::Time),
    ("pe-error-series-max", Kind::Integer),
    ("pe-input-series-max", Kind::Integer),
    ("pe-warn-series-max", Kind::Integer),
    ("placement-strategy", Kind::OneOf(PLACEMENT)),
    ("priority-fencing-delay", Kind::Time),
    ("remove-after-stop", Kind::Bool),
    ("shutdown-escalation", Kind::Time),
    ("shutdown-lock", Kind::Bool),
    ("shutdown-lock-limit", Kind::Time),
    ("start-failure-is-fatal", Kind::Bool),
    ("startup-fencing", Kind::Bool),
    ("stonith-action", Kind::OneOf(FENCING_ACTIONS)),
    ("stonith-enabled", Kind::Bool),
    ("stonith-max-attempts", Kind::Integer),
    ("stonith-timeout", Kind::Time),
    ("stonith-watchdog-timeout", Kind::Text),
    ("stop-all-resources", Kind::Bool),
    ("stop-orphan-actions", Kind::Bool),
    ("stop-orphan-resources", Kind::Bool),
    ("stop-removed-actions", Kind::Bool),
    ("stop-removed-resources", Kind::Bool),
    ("symmetric-cluster", Kind::Bool),
    ("transition-delay", Kind::Time),
];

/// Options of Pacemaker 1.x that Pacemaker 2 ignores, and what replaced them.
const DROPPED_OPTIONS: &[(&str, &str)] = &[
    (
        "default-resource-stickiness",
        "`rsc_defaults resource-stickiness=…` (baton still reads it, Pacemaker 2 does not)",
    ),
    ("is-managed-default", "`rsc_defaults is-managed=…`"),
    ("default-action-timeout", "`op_defaults timeout=…`"),
    (
        "expected-quorum-votes",
        "corosync's quorum section (`expected_votes`)",
    ),
];

/// Resource meta attributes (also in `rsc_defaults`), clones' included.
const META: &[(&str, Kind)] = &[
    ("allow-migrate", Kind::Bool),
    ("allow-unhealthy-nodes", Kind::Bool),
    ("clone-max", Kind::Integer),
    ("clone-min", Kind::Integer),
    ("clone-node-max", Kind::Integer),
    ("container-attribute-target", Kind::Text),
    ("critical", Kind::Bool),
    ("failure-timeout", Kind::Time),
    ("globally-unique", Kind::Bool),
    ("interleave", Kind::Bool),
    ("is-managed", Kind::Bool),
    ("maintenance", Kind::Bool),
    ("master-max", Kind::Integer),
    ("master-node-max", Kind::Integer),
    ("migration-threshold", Kind::Score),
    (
        "multiple-active",
        Kind::OneOf(&["block", "stop_only", "stop_start", "stop_unexpected"]),
    ),
    ("notify", Kind::Bool),
    ("ordered", Kind::Bool),
    ("priority", Kind::Integer),
    ("promotable", Kind::Bool),
    ("promoted-max", Kind::Integer),
    ("promoted-node-max", Kind::Integer),
    ("remote-addr", Kind::Text),
    ("remote-connect-timeout", Kind::Time),
    ("remote-node", Kind::Text),
    ("remote-port", Kind::Integer),
    (
        "requires",
        Kind::OneOf(&["nothing", "quorum", "fencing", "unfencing"]),
    ),
    ("resource-stickiness", Kind::Score),
    ("target-role", Kind::OneOf(ROLES)),
];

/// `<op>` attributes and `op_defaults` names (interval, timeout and
/// start-delay are checked as durations with the operations).
const OP: &[(&str, Kind)] = &[
    ("description", Kind::Text),
    ("enabled", Kind::Bool),
    ("id", Kind::Text),
    ("interval", Kind::Text),
    ("interval-origin", Kind::Text),
    ("name", Kind::Text),
    ("on-fail", Kind::OneOf(ON_FAIL)),
    ("record-pending", Kind::Bool),
    ("requires", Kind::Text),
    ("role", Kind::OneOf(ROLES)),
    ("start-delay", Kind::Text),
    ("timeout", Kind::Text),
];

pub(super) fn check(cib: &Cib, out: &mut Findings) {
    for set in cib
        .section("crm_config")
        .into_iter()
        .flat_map(|c| c.children())
    {
        for (name, value) in pairs(set) {
            cluster_option(name, value, out);
        }
    }
    let resources = cib.section("resources").into_iter();
    let defaults = cib.section("rsc_defaults").into_iter();
    for holder in resources.chain(defaults).flat_map(|s| s.descendants()) {
        if holder.name() != "meta_attributes" {
            continue;
        }
        let owner = holder.parent().map_or("rsc_defaults", |p| p.xml_id());
        let owner = if owner.is_empty() {
            "rsc_defaults"
        } else {
            owner
        };
        for (name, value) in pairs(holder) {
            named(owner, "meta attribute", name, value, META, out);
        }
    }
    for op in cib
        .section("resources")
        .into_iter()
        .flat_map(|s| s.descendants())
        .filter(|e| e.name() == "op")
    {
        let owner = op
            .parent()
            .and_then(|ops| ops.parent())
            .map_or("op", |p| p.xml_id());
        for attr in op.attrs() {
            named(owner, "op attribute", &attr.name, &attr.value, OP, out);
        }
    }
    for set in cib
        .section("op_defaults")
        .into_iter()
        .flat_map(|s| s.children())
    {
        for (name, value) in pairs(set) {
            named("op_defaults", "op default", name, value, OP, out);
        }
    }
    pasted_quotes(cib, out);
}

/// The name and value of each of a set's nvpairs.
fn pairs(set: ElementRef<'_>) -> impl Iterator<Item = (&str, &str)> {
    set.children_named("nvpair")
        .filter_map(|p| Some((p.attr("name")?, p.attr("value").unwrap_or_default())))
}

fn cluster_option(name: &str, value: &str, out: &mut Findings) {
    if let Some((_, kind)) = CLUSTER_OPTIONS.iter().find(|(n, _)| *n == name) {
        typed("cluster", &format!("`{name}={value}`"), value, *kind, out);
    } else if let Some((_, instead)) = DROPPED_OPTIONS.iter().find(|(n, _)| *n == name) {
        out.push(
            Severity::Warning,
            "cluster",
            format!("`{name}` is a Pacemaker 1.x option that Pacemaker 2 ignores; use {instead}"),
        );
    } else {
        let names = CLUSTER_OPTIONS.iter().map(|(n, _)| *n);
        out.push(
            Severity::Warning,
            "cluster",
            format!(
                "unknown cluster option `{name}`: Pacemaker ignores it{}",
                suggestion(name, names)
            ),
        );
    }
}

/// A meta or op attribute: its type when known; a name close to a known
/// one is a likely typo (others may be the agent's own, so they pass).
fn named(
    owner: &str,
    what: &str,
    name: &str,
    value: &str,
    known: &[(&str, Kind)],
    out: &mut Findings,
) {
    if let Some((_, kind)) = known.iter().find(|(n, _)| *n == name) {
        typed(
            owner,
            &format!("{what} `{name}={value}`"),
            value,
            *kind,
            out,
        );
        return;
    }
    let hint = suggestion(name, known.iter().map(|(n, _)| *n));
    if !hint.is_empty() {
        out.push(
            Severity::Warning,
            owner,
            format!("unknown {what} `{name}`{hint}"),
        );
    }
}

/// A value that does not parse as `kind` is an error: Pacemaker would read
/// something else than what was meant.
fn typed(owner: &str, what: &str, value: &str, kind: Kind, out: &mut Findings) {
    if has_typographic_quotes(value) {
        return;
    }
    let problem = match kind {
        Kind::Bool if baton_cib::model::parse_bool(value).is_none() => Some(
            "is not a boolean (true/false, yes/no, on/off, 1/0): Pacemaker treats it as false"
                .to_owned(),
        ),
        Kind::Time if baton_cib::duration::parse_duration_ms(value).is_err() => {
            Some("is not a duration (e.g. 30s, 5min, PT1M): Pacemaker uses its default".to_owned())
        }
        Kind::Integer if !leading_integer(value) => {
            Some("is not an integer: Pacemaker uses its default".to_owned())
        }
        Kind::Score if value.trim().parse::<Score>().is_err() && !leading_integer(value) => Some(
            "is not a score (an integer, INFINITY or -INFINITY): Pacemaker uses its default"
                .to_owned(),
        ),
        Kind::Percentage if value.trim().trim_end_matches('%').parse::<u32>().is_err() => {
            Some("is not a percentage (e.g. 80%): Pacemaker uses its default".to_owned())
        }
        Kind::OneOf(choices) if !choices.iter().any(|c| c.eq_ignore_ascii_case(value)) => {
            Some(format!(
                "is not one of {}: Pacemaker uses its default{}",
                choices.join(", "),
                suggestion(value, choices.iter().copied())
            ))
        }
        _ => None,
    };
    if let Some(problem) = problem {
        out.push(Severity::Error, owner, format!("{what} {problem}"));
    }
}

/// Pacemaker reads integers as C's strtol does: leading digits (after a
/// sign) count and the rest is ignored, so `1.0` is 1 but `often` is not a
/// number at all.
fn leading_integer(value: &str) -> bool {
    let digits = value.trim().trim_start_matches(['+', '-']);
    digits.starts_with(|c: char| c.is_ascii_digit())
}

const TYPOGRAPHIC_QUOTES: [char; 8] = [
    '\u{201c}', '\u{201d}', '\u{201e}', '\u{2018}', '\u{2019}', '\u{201a}', '\u{00ab}', '\u{00bb}',
];

fn has_typographic_quotes(value: &str) -> bool {
    value.contains(TYPOGRAPHIC_QUOTES)
}

/// Any value in the configuration with quotes a web page or word processor
/// makes: the quotes became part of the value.
fn pasted_quotes(cib: &Cib, out: &mut Findings) {
    let Some(configuration) = cib.configuration() else {
        return;
    };
    for pair in configuration.descendants().filter(|e| e.name() == "nvpair") {
        let value = pair.attr("value").unwrap_or_default();
        if !has_typographic_quotes(value) {
            continue;
        }
        let owner = pair
            .parent()
            .and_then(|set| set.parent())
            .map_or("cluster", |p| p.xml_id());
        let name = pair.attr("name").unwrap_or_default();
        let meant = value.trim_matches(TYPOGRAPHIC_QUOTES);
        out.push(
            Severity::Error,
            if owner.is_empty() { "cluster" } else { owner },
            format!(
                "`{name}={value}` has typographic quotes, pasted from a web page? They are part of the value; write {name}={meant}"
            ),
        );
    }
}
