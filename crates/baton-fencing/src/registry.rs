//! Every fencing device and topology level of a configuration, and the
//! order in which devices are tried to fence a node.

use std::collections::BTreeMap;

use baton_cib::Cib;

use crate::AgentCapabilities;
use crate::device::Device;
use crate::topology::Level;

/// Something in the configuration that keeps a device or level from
/// being used, said in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{what}", device.as_ref().map(|d| format!("fencing device {d}: ")).unwrap_or_default())]
pub struct Problem {
    pub device: Option<String>,
    pub what: String,
}

/// Whether a device may fence a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Yes,
    /// Its host check leaves the node out: a level that needs it fails.
    No,
    /// Only the agent can tell (dynamic-list or status host check).
    AskAgent,
    /// A topology level names a device the configuration does not define
    /// (or one that is disabled): that level cannot succeed.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub device: String,
    pub claim: Claim,
}

/// The devices to try for one node: each level in turn, every device of
/// a level must succeed; the first level that does ends the fencing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FencePlan {
    pub levels: Vec<Vec<Candidate>>,
}

#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// In configuration order.
    pub devices: Vec<Device>,
    /// By ascending index.
    pub levels: Vec<Level>,
}

impl Registry {
    /// Reads the configuration's devices and levels. What cannot be used
    /// is left out and said why; the rest is usable.
    #[must_use]
    pub fn from_cib(cib: &Cib) -> (Registry, Vec<Problem>) {
        let mut problems = Vec::new();
        let devices: Vec<Device> = cib
            .primitives()
            .filter(|p| p.class() == Some("stonith"))
            .filter(|p| {
                p.meta("target-role")
                    .is_none_or(|r| !r.eq_ignore_ascii_case("stopped"))
            })
            .filter_map(|p| {
                Device::from_primitive(p)
                    .map_err(|e| problems.extend(e))
                    .ok()
            })
            .collect();
        let mut devices: Vec<Device> = devices;
        for location in cib.constraints().filter_map(|c| match c {
            baton_cib::model::Constraint::Location(l) => Some(l),
            _ => None,
        }) {
            let banned = location
                .score()
                .ok()
                .flatten()
                .is_some_and(|s| s == baton_cib::Score::NEG_INFINITY);
            if let (true, Some(rsc), Some(node)) = (banned, location.rsc(), location.node())
                && let Some(device) = devices.iter_mut().find(|d| d.id == rsc)
            {
                device.banned_on.insert(node.to_owned());
            }
        }
        let mut levels: Vec<Level> = cib
            .fencing_topology()
            .into_iter()
            .flat_map(|t| t.children_named("fencing-level"))
            .filter_map(|l| Level::from_element(l).map_err(|e| problems.push(e)).ok())
            .collect();
        levels.sort_by_key(|l| l.index);
        (Registry { devices, levels }, problems)
    }

    #[must_use]
    pub fn device(&self, id: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.id == id)
    }

    /// Whether the fencer on `node` may carry out `plan`: some level's
    /// devices are all defined and none is banned from `node`.
    #[must_use]
    pub fn can_run_on(&self, plan: &FencePlan, node: &str) -> bool {
        plan.levels.iter().any(|level| {
            level.iter().all(|c| {
                c.claim != Claim::No
                    && self
                        .device(&c.device)
                        .is_some_and(|d| !d.banned_on.contains(node))
            })
        })
    }

    /// How to fence `node` (with node attributes `attributes`), given what
    /// each agent can do: the topology's levels for it when it has any,
    /// else every device that may fence it, one at a time.
    #[must_use]
    pub fn plan(
        &self,
        node: &str,
        attributes: &BTreeMap<String, String>,
        agent: impl Fn(&str) -> AgentCapabilities,
    ) -> FencePlan {
        let claim = |device: &Device| match device.claims(node, agent(&device.agent)) {
            Some(true) => Claim::Yes,
            Some(false) => Claim::No,
            None => Claim::AskAgent,
        };
        let levels: Vec<&Level> = self
            .levels
            .iter()
            .filter(|l| l.target.matches(node, attributes))
            .collect();
        if levels.is_empty() {
            return FencePlan {
                levels: self
                    .devices
                    .iter()
                    .map(|d| Candidate {
                        device: d.id.clone(),
                        claim: claim(d),
                    })
                    .filter(|c| c.claim != Claim::No)
                    .map(|c| vec![c])
                    .collect(),
            };
        }
        FencePlan {
            levels: levels
                .iter()
                .map(|level| {
                    level
                        .devices
                        .iter()
                        .map(|id| Candidate {
                            device: id.clone(),
                            claim: self.device(id).map_or(Claim::Unknown, claim),
                        })
                        .collect()
                })
                .collect(),
        }
    }
}
