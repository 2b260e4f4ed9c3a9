//! One fencing device: a `stonith`-class primitive, the parameters its
//! agent gets, and Pacemaker's `pcmk_*` device parameters that say which
//! nodes it fences, how it names them and how long to wait first.

use std::collections::BTreeMap;

use baton_cib::duration::parse_duration_ms;
use baton_cib::model::Primitive;

use crate::AgentCapabilities;
use crate::registry::Problem;

/// How the device finds out whether it can fence a node
/// (`pcmk_host_check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostCheck {
    /// The nodes in `pcmk_host_list` and `pcmk_host_map`.
    StaticList,
    /// The nodes the agent's `list` action prints.
    DynamicList,
    /// The nodes whose `status` the agent can tell.
    Status,
    /// Every node.
    None,
}

/// Which agent parameter names the node (`pcmk_host_argument`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostArgument {
    Named(String),
    /// `none`: the agent is not told.
    Suppressed,
}

/// A delay for every node, or per node (`n1:5s;n2:0`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeDelay {
    pub all_ms: u64,
    pub by_node_ms: BTreeMap<String, u64>,
}

impl NodeDelay {
    #[must_use]
    pub fn for_node(&self, node: &str) -> u64 {
        self.by_node_ms.get(node).copied().unwrap_or(self.all_ms)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    /// The agent, `fence_ipmilan`.
    pub agent: String,
    /// What the agent is given: every instance attribute but `pcmk_*`.
    pub params: BTreeMap<String, String>,
    pub host_list: Vec<String>,
    /// Node name → the name the agent knows it by.
    pub host_map: BTreeMap<String, String>,
    /// `pcmk_host_check` when set; otherwise it depends on the agent.
    pub configured_check: Option<HostCheck>,
    pub host_argument: HostArgument,
    /// `pcmk_<action>_action`: what to run instead of an action.
    pub action_map: BTreeMap<String, String>,
    /// `pcmk_<action>_timeout`, by action.
    pub timeouts_ms: BTreeMap<String, u64>,
    /// `pcmk_<action>_retries`, by action, where set (Pacemaker's default
    /// is [`DEFAULT_RETRIES`]).
    pub retries: BTreeMap<String, u32>,
    pub delay_base: NodeDelay,
    pub delay_max_ms: u64,
    /// Nodes a location constraint bans it from (-INFINITY): their fencers
    /// may not run it, as Pacemaker's fencer does not register it there.
    pub banned_on: std::collections::BTreeSet<String>,
}

/// How many times a failed action is tried again within the fencing's
/// budget when `pcmk_<action>_retries` is not set (Pacemaker's default).
pub const DEFAULT_RETRIES: u32 = 2;

/// The power actions `pcmk_<action>_action`, `_timeout` and `_retries`
/// exist for.
const ACTIONS: [&str; 6] = ["reboot", "off", "on", "list", "monitor", "status"];

impl Device {
    /// Reads a `stonith`-class primitive; every problem is named with the
    /// device and the parameter.
    pub fn from_primitive(primitive: Primitive<'_>) -> Result<Device, Vec<Problem>> {
        let id = primitive.id().to_owned();
        let mut problems = Vec::new();
        let mut problem = |what: String| {
            problems.push(Problem {
                device: Some(id.clone()),
                what,
            });
        };
        let agent = primitive.agent().unwrap_or_default().to_owned();
        if agent.is_empty() {
            problem("it names no agent (expected e.g. stonith:fence_ipmilan)".to_owned());
        }
        let mut all: BTreeMap<String, String> = BTreeMap::new();
        // The first set that names a parameter wins, as in Pacemaker.
        for set in primitive.instance_attributes() {
            for pair in set.pairs() {
                all.entry(pair.name().to_owned())
                    .or_insert_with(|| pair.value().unwrap_or_default().to_owned());
            }
        }
        for (name, value) in &all {
            if value.contains('\n') {
                problem(format!(
                    "{name} holds a line break, which the agent's stdin cannot carry"
                ));
            }
        }
        let mut duration = |name: &str| -> Option<u64> {
            let value = all.get(name)?;
            parse_duration_ms(value)
                .map_err(|_| {
                    problem(format!(
                        "{name}={value} is not a duration (expected e.g. 5s or 500ms)"
                    ));
                })
                .ok()
        };
        let delay_max_ms = duration("pcmk_delay_max").unwrap_or(0);
        let timeouts_ms: BTreeMap<String, u64> = ACTIONS
            .iter()
            .filter_map(|a| Some(((*a).to_owned(), duration(&format!("pcmk_{a}_timeout"))?)))
            .collect();
        let mut retries = BTreeMap::new();
        for action in ACTIONS {
            let name = format!("pcmk_{action}_retries");
            if let Some(value) = all.get(&name) {
                match value.trim().parse::<u32>() {
                    Ok(count) => {
                        retries.insert(action.to_owned(), count);
                    }
                    Err(_) => problem(format!(
                        "{name}={value} is not a number of retries (expected e.g. 2)"
                    )),
                }
            }
        }
        let delay_base = match all.get("pcmk_delay_base") {
            None => NodeDelay::default(),
            Some(text) => node_delay(text).unwrap_or_else(|bad| {
                problem(format!(
                    "pcmk_delay_base={text}: {bad} (expected 5s, or per node n1:5s;n2:0)"
                ));
                NodeDelay::default()
            }),
        };
        let configured_check = match all.get("pcmk_host_check").map(String::as_str) {
            None => None,
            Some("static-list") => Some(HostCheck::StaticList),
            Some("dynamic-list") => Some(HostCheck::DynamicList),
            Some("status") => Some(HostCheck::Status),
            Some("none") => Some(HostCheck::None),
            Some(other) => {
                problem(format!(
                    "pcmk_host_check={other} is not one of static-list, dynamic-list, status, none"
                ));
                None
            }
        };
        let host_map = match all.get("pcmk_host_map") {
            None => BTreeMap::new(),
            Some(text) => host_map(text).unwrap_or_else(|entry| {
                problem(format!(
                    "pcmk_host_map entry `{entry}` has no node:name form (expected e.g. n1:1;n2:2,3)"
                ));
                BTreeMap::new()
            }),
        };
        let host_argument = match all.get("pcmk_host_argument").map(String::as_str) {
            Some("none") => HostArgument::Suppressed,
            Some(name) if !name.is_empty() => HostArgument::Named(name.to_owned()),
            _ => HostArgument::Named("port".to_owned()),
        };
        let action_map = ACTIONS
            .iter()
            .filter_map(|a| {
                let with = all.get(&format!("pcmk_{a}_action"))?;
                Some(((*a).to_owned(), with.clone()))
            })
            .collect();
        let host_list = all
            .get("pcmk_host_list")
            .map(|l| {
                l.split([',', ' ', ';'])
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let device = Device {
            id: id.clone(),
            agent,
            params: all
                .into_iter()
                .filter(|(name, _)| !name.starts_with("pcmk_"))
                .collect(),
            host_list,
            host_map,
            configured_check,
            host_argument,
            action_map,
            timeouts_ms,
            retries,
            delay_base,
            delay_max_ms,
            banned_on: std::collections::BTreeSet::new(),
        };
        if problems.is_empty() {
            Ok(device)
        } else {
            Err(problems)
        }
    }

    /// `pcmk_host_check`, or Pacemaker's default for this agent: a static
    /// list when one is given, else the agent's list, else its status,
    /// else every node.
    #[must_use]
    pub fn host_check(&self, agent: AgentCapabilities) -> HostCheck {
        if let Some(check) = self.configured_check {
            check
        } else if !self.host_list.is_empty() || !self.host_map.is_empty() {
            HostCheck::StaticList
        } else if agent.list {
            HostCheck::DynamicList
        } else if agent.status {
            HostCheck::Status
        } else {
            HostCheck::None
        }
    }

    /// Whether the device fences `node` as far as the configuration says;
    /// `None` when only the agent can tell (its list or status).
    #[must_use]
    pub fn claims(&self, node: &str, agent: AgentCapabilities) -> Option<bool> {
        match self.host_check(agent) {
            HostCheck::StaticList => {
                Some(self.host_list.iter().any(|n| n == node) || self.host_map.contains_key(node))
            }
            HostCheck::None => Some(true),
            HostCheck::DynamicList | HostCheck::Status => None,
        }
    }

    /// The action the agent is asked for: the device's substitute, else
    /// `off` for a `reboot` the agent cannot do.
    #[must_use]
    pub fn agent_action(&self, action: &str, agent: AgentCapabilities) -> String {
        if let Some(with) = self.action_map.get(action) {
            with.clone()
        } else if action == "reboot" && !agent.reboot {
            "off".to_owned()
        } else {
            action.to_owned()
        }
    }

    /// How many times a failed `action` is tried again.
    #[must_use]
    pub fn retries_for(&self, action: &str) -> u32 {
        self.retries.get(action).copied().unwrap_or(DEFAULT_RETRIES)
    }

    /// The name the agent knows `node` by.
    #[must_use]
    pub fn port_of<'a>(&'a self, node: &'a str) -> &'a str {
        self.host_map.get(node).map_or(node, String::as_str)
    }

    /// How long to wait before fencing `node`: `pcmk_delay_base` for it,
    /// plus, when `pcmk_delay_max` is above it, a part of the difference
    /// chosen by `random` (the caller's randomness keeps this pure).
    #[must_use]
    pub fn delay_ms(&self, node: &str, random: u64) -> u64 {
        let base = self.delay_base.for_node(node);
        let spread = self.delay_max_ms.saturating_sub(base);
        base + if spread > 0 { random % spread } else { 0 }
    }

    /// The text the agent reads on its stdin to run `action` (already
    /// substituted) against `node`: the action, the node's name and id,
    /// the node under the device's host argument unless a parameter
    /// already names it, then the device's parameters.
    #[must_use]
    pub fn stdin(&self, action: &str, node: &str, node_id: Option<u32>) -> String {
        let mut text = format!("action={action}\nnodename={node}\n");
        if let Some(id) = node_id {
            text.push_str(&format!("nodeid={id}\n"));
        }
        if let HostArgument::Named(argument) = &self.host_argument {
            let given = self.params.get(argument).map(String::as_str);
            if matches!(given, None | Some("dynamic")) {
                text.push_str(&format!("{argument}={}\n", self.port_of(node)));
            }
        }
        for (name, value) in &self.params {
            if self.host_argument == HostArgument::Named(name.clone()) && value == "dynamic" {
                continue;
            }
            text.push_str(&format!("{name}={value}\n"));
        }
        text
    }
}

/// `5s`, or per node `n1:5s;n2:0` (a bare entry applies to the others).
fn node_delay(text: &str) -> Result<NodeDelay, String> {
    let mut delay = NodeDelay::default();
    for entry in text.split([';', ' ']).filter(|e| !e.is_empty()) {
        match entry.split_once(':') {
            Some((node, value)) => {
                let ms =
                    parse_duration_ms(value).map_err(|_| format!("`{value}` is not a duration"))?;
                delay.by_node_ms.insert(node.to_owned(), ms);
            }
            None => {
                delay.all_ms =
                    parse_duration_ms(entry).map_err(|_| format!("`{entry}` is not a duration"))?;
            }
        }
    }
    Ok(delay)
}

/// `n1:1;n2:2,3` (also `n1=1`, entries separated by `;` or spaces).
fn host_map(text: &str) -> Result<BTreeMap<String, String>, String> {
    text.split([';', ' '])
        .filter(|e| !e.is_empty())
        .map(|entry| {
            let (node, name) = entry
                .split_once([':', '='])
                .filter(|(n, v)| !n.is_empty() && !v.is_empty())
                .ok_or_else(|| entry.to_owned())?;
            Ok((node.to_owned(), name.to_owned()))
        })
        .collect()
}
