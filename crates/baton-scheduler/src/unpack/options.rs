//! Cluster options (crm_config) with Pacemaker's defaults (FACTS §8.4).
//! Both the pre- and post-2.1.5 spellings are accepted by baton-cib.

use std::collections::BTreeMap;

use baton_cib::xml::ElementRef;
use baton_cib::{Cib, Score};

use crate::SchedulerError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoQuorumPolicy {
    Stop,
    Ignore,
    Freeze,
    Demote,
    Suicide,
}

/// `placement-strategy`: how utilization shapes placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacementStrategy {
    /// Utilization is ignored; ties go to the node with fewer resources.
    Default,
    /// Nodes without the capacity are not used.
    Utilization,
    /// Capacity is respected and ties are not spread.
    Minimal,
    /// Capacity is respected and ties go to the node with more left.
    Balanced,
}

impl PlacementStrategy {
    pub fn uses_capacity(self) -> bool {
        self != PlacementStrategy::Default
    }

    /// Whether ties go to the node with fewer resources assigned.
    pub fn counts_resources(self) -> bool {
        self != PlacementStrategy::Minimal
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub fencing_enabled: bool,
    pub fencing_action: String,
    pub symmetric: bool,
    pub no_quorum_policy: NoQuorumPolicy,
    pub maintenance_mode: bool,
    pub stop_all_resources: bool,
    pub startup_fencing: bool,
    pub stop_removed_resources: bool,
    pub placement_strategy: PlacementStrategy,
    /// Legacy `default-resource-stickiness` in crm_config (pre-2.0), used
    /// only when `rsc_defaults` does not set stickiness.
    pub legacy_stickiness: Option<Score>,
    /// Some resource requires unfencing (or a device provides it): nodes
    /// are unfenced before such resources run there.
    pub enable_unfencing: bool,
    /// Probe resources whose state on a node is unknown.
    pub enable_startup_probes: bool,
    /// A failed start bans the node at once (else it counts one failure).
    pub start_failure_is_fatal: bool,
    /// Fencing actions may run at the same time.
    pub concurrent_fencing: bool,
    /// `priority-fencing-delay`, whole seconds (0: off): fencing a lost
    /// node that ran the most important resources waits this long.
    pub priority_fencing_delay_s: u64,
    /// Recurring operations no longer configured are cancelled.
    pub cancel_removed_actions: bool,
    /// Settings the transition graph carries for the controller, as
    /// written (`cluster-delay`, `fencing-timeout`, `batch-limit`,
    /// `migration-limit`).
    pub cluster_delay: String,
    pub fencing_timeout: String,
    pub batch_limit: String,
    pub migration_limit: String,
    /// `op_defaults` meta attributes from sets without rules.
    pub op_defaults: BTreeMap<String, String>,
}

fn text(cib: &Cib, name: &str, default: &str) -> String {
    cib.property(name).unwrap_or(default).to_owned()
}

fn op_defaults(cib: &Cib) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for set in cib.op_defaults().filter(|s| s.rule().is_none()) {
        for p in set.pairs() {
            if let Some(v) = p.value() {
                m.entry(p.name().to_owned()).or_insert_with(|| v.to_owned());
            }
        }
    }
    m
}

/// Whether any resource meta attribute (or resource default) asks for
/// unfencing: `requires=unfencing` or a device that `provides` it.
fn unfencing_in_use(cib: &Cib) -> bool {
    let asks = |set: ElementRef<'_>| {
        set.children_named("nvpair").any(|p| {
            matches!(p.attr("name"), Some("requires" | "provides"))
                && p.attr("value") == Some("unfencing")
        })
    };
    let in_resources = cib.section("resources").is_some_and(|r| {
        r.descendants()
            .any(|e| e.name() == "meta_attributes" && asks(e))
    });
    in_resources || cib.rsc_defaults().any(|s| asks(s.element()))
}

fn flag(cib: &Cib, name: &str, default: bool) -> Result<bool, SchedulerError> {
    Ok(cib.property_bool(name)?.unwrap_or(default))
}

pub fn read(cib: &Cib) -> Result<Options, SchedulerError> {
    let no_quorum_policy = match cib.property("no-quorum-policy").unwrap_or("stop") {
        "ignore" => NoQuorumPolicy::Ignore,
        "freeze" => NoQuorumPolicy::Freeze,
        "demote" => NoQuorumPolicy::Demote,
        "suicide" => NoQuorumPolicy::Suicide,
        _ => NoQuorumPolicy::Stop,
    };
    let action = cib.property("fencing-action").unwrap_or("reboot");
    // Pacemaker accepts "poweroff" as a synonym for "off".
    let fencing_action = if action == "poweroff" { "off" } else { action }.to_owned();
    let legacy_stickiness = cib
        .property("default-resource-stickiness")
        .and_then(|v| v.parse::<Score>().ok());
    Ok(Options {
        fencing_enabled: flag(cib, "fencing-enabled", true)?,
        fencing_action,
        symmetric: flag(cib, "symmetric-cluster", true)?,
        no_quorum_policy,
        maintenance_mode: flag(cib, "maintenance-mode", false)?,
        stop_all_resources: flag(cib, "stop-all-resources", false)?,
        startup_fencing: flag(cib, "startup-fencing", true)?,
        stop_removed_resources: flag(cib, "stop-removed-resources", true)?,
        placement_strategy: match cib.property("placement-strategy") {
            Some("utilization") => PlacementStrategy::Utilization,
            Some("minimal") => PlacementStrategy::Minimal,
            Some("balanced") => PlacementStrategy::Balanced,
            _ => PlacementStrategy::Default,
        },
        legacy_stickiness,
        enable_unfencing: unfencing_in_use(cib),
        enable_startup_probes: flag(cib, "enable-startup-probes", true)?,
        start_failure_is_fatal: flag(cib, "start-failure-is-fatal", true)?,
        concurrent_fencing: flag(cib, "concurrent-fencing", false)?,
        priority_fencing_delay_s: cib
            .property("priority-fencing-delay")
            .and_then(|v| baton_cib::duration::parse_duration_ms(v).ok())
            .map_or(0, |ms| ms / 1000),
        cancel_removed_actions: flag(cib, "cancel-removed-actions", true)?,
        cluster_delay: text(cib, "cluster-delay", "60s"),
        fencing_timeout: text(cib, "fencing-timeout", "60s"),
        batch_limit: text(cib, "batch-limit", "0"),
        migration_limit: text(cib, "migration-limit", "-1"),
        op_defaults: op_defaults(cib),
    })
}
