//! Placement: every resource gets a node (or none), as Pacemaker 2.1.5
//! assigns them, step for step (see `engine` for the working set).
//!
//! Top-level resources are assigned in priority order (configuration
//! order breaking ties; with a utilization-aware placement strategy, those
//! wanting their current node most go first). A resource first lets the
//! primaries it is colocated with choose, then takes their choice and its
//! own dependents' wishes into its node weights and goes to the best node,
//! staying where it runs on a tie. Clone instances are first offered the
//! node they run on; promotable clones then choose which instances to
//! promote.

mod assign;
mod capacity;
mod clone;
mod colocation;
mod engine;
mod init;
mod promotable;
pub mod score_log;

use std::collections::BTreeMap;

use crate::unpack::{Cluster, NoQuorumPolicy, NodeIdx, Role, RscIdx};

/// Where each primitive will be, and in which role.
#[derive(Debug, Clone, Default)]
pub struct Assignment {
    pub node: BTreeMap<RscIdx, NodeIdx>,
    pub role: BTreeMap<RscIdx, Role>,
    /// Top-level resources in the order they were assigned, which is also
    /// the order the Transition Summary lists them in.
    pub order: Vec<RscIdx>,
    /// The node scores weighed along the way, for `crm_simulate -s`.
    pub score_lines: Vec<score_log::ScoreLine>,
    /// Whether to keep `score_lines`: a line per resource and node costs
    /// more than the placement itself on large clusters.
    pub record_scores: bool,
}

impl Assignment {
    pub fn node_of(&self, r: RscIdx) -> Option<NodeIdx> {
        self.node.get(&r).copied()
    }
}

/// What losing quorum does to the plan (placement itself is unaffected:
/// blocked starts are still reported where they would have gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freeze {
    None,
    /// No quorum with no-quorum-policy=stop: everything stops.
    StopAll,
    /// No quorum with freeze: running things stay, nothing new starts.
    KeepRunning,
}

pub fn quorum_freeze(cluster: &Cluster) -> Freeze {
    if cluster.have_quorum {
        return Freeze::None;
    }
    match cluster.options.no_quorum_policy {
        NoQuorumPolicy::Ignore => Freeze::None,
        NoQuorumPolicy::Freeze => Freeze::KeepRunning,
        NoQuorumPolicy::Stop | NoQuorumPolicy::Demote | NoQuorumPolicy::Suicide => Freeze::StopAll,
    }
}

pub fn assign(cluster: &Cluster, record_scores: bool) -> Assignment {
    let mut eng = engine::Engine::new(cluster, record_scores);
    let order = eng.assignment_order();
    for &r in &order {
        eng.assign(r, None);
    }
    let mut out = std::mem::take(&mut eng.out);
    for p in cluster.primitives() {
        let s = eng.state(p);
        let Some(placed) = s.placed else { continue };
        out.node.insert(p, placed.node);
        let promotable = eng.is_promotable(cluster.top_of(p));
        let role = match s.next_role {
            Some(Role::Promoted) => Role::Promoted,
            _ if !s.managed => s.role.unwrap_or(Role::Started),
            _ if promotable => Role::Unpromoted,
            _ => Role::Started,
        };
        out.role.insert(p, role);
    }
    out.order = order;
    out
}

/// Node names compare case-insensitively with digit runs as numbers, so
/// `node2` sorts before `node10`.
pub fn node_name_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let lx = x.iter().take_while(|b| b.is_ascii_digit()).count();
                let ly = y.iter().take_while(|b| b.is_ascii_digit()).count();
                let nx = std::str::from_utf8(&x[..lx])
                    .ok()
                    .and_then(|s| s.parse::<u128>().ok());
                let ny = std::str::from_utf8(&y[..ly])
                    .ok()
                    .and_then(|s| s.parse::<u128>().ok());
                let o = nx.cmp(&ny);
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
                x = &x[lx..];
                y = &y[ly..];
            }
            (Some(c), Some(d)) => {
                let o = c.to_ascii_lowercase().cmp(&d.to_ascii_lowercase());
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}
