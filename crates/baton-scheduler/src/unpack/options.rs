//! Cluster options (crm_config) with Pacemaker's defaults (FACTS §8.4).
//! Both the pre- and post-2.1.5 spellings are accepted by baton-cib.

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
    })
}
