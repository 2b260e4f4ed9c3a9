//! Unpacking: the CIB's configuration and status turned into the plain,
//! owned working set the later stages read. Nothing after this stage looks
//! at XML again, so every later decision is a function of this data.

mod dates;
mod digest;
mod failcounts;
mod health;
mod history;
mod md5;
mod nodes;
mod operations;
mod options;
mod replay;
mod resources;
mod rules;
mod sets;
mod tickets;
mod utilization;

pub use utilization::Utilization;

pub use dates::{format_timestamp, parse_timestamp};
pub use digest::{DefinitionChange, ParamSet, operation_digest};
pub use history::{FailCount, OnFail, RecurringRecord, Role, RscStatus};
pub use nodes::{NodeInfo, NodeState};
pub use operations::{Agent, OpConfig, RunConfig};
pub use options::{NoQuorumPolicy, Options, PlacementStrategy};
pub use resources::{CloneInfo, MultipleActive, Requires, Rsc, RscKind, RscMeta};

use baton_cib::{Cib, Score};
use std::collections::BTreeMap;

use crate::SchedulerError;

/// Index of a node in [`Cluster::nodes`] (configuration order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeIdx(pub usize);

/// Index of a resource in [`Cluster::rscs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RscIdx(pub usize);

/// A location preference, already resolved to one node.
#[derive(Debug, Clone)]
pub struct LocationPref {
    pub rsc: RscIdx,
    pub node: NodeIdx,
    pub score: Score,
    /// Applies only to the promoted role (`role="Promoted"`).
    pub promoted_only: bool,
    /// Applies in full to everything inside the resource (node health),
    /// rather than as a constraint does, which gives a group's later
    /// members nothing of its score.
    pub recursive: bool,
}

/// `resource-discovery` of a location constraint: whether the resource is
/// probed on the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discovery {
    /// Never probed there.
    Never,
    /// Probed only on nodes that say so.
    Exclusive,
}

#[derive(Debug, Clone)]
pub struct ColocationCons {
    pub id: String,
    pub dependent: RscIdx,
    pub primary: RscIdx,
    pub score: Score,
    pub dependent_role: Option<Role>,
    pub primary_role: Option<Role>,
}

#[derive(Debug, Clone)]
pub struct OrderCons {
    pub id: String,
    pub first: RscIdx,
    pub first_action: String,
    pub then: RscIdx,
    pub then_action: String,
    /// Mandatory orders propagate restarts; optional ones only sequence.
    pub mandatory: bool,
    pub symmetrical: bool,
    /// `require-all=false`: one instance of a clone first side suffices.
    pub require_all: bool,
}

/// A resource that may start once any one of a set of others runs (an
/// order set with `require-all=false`).
#[derive(Debug, Clone)]
pub struct OneOrMoreOrder {
    pub set_id: String,
    pub firsts: Vec<RscIdx>,
    pub then: RscIdx,
    pub symmetrical: bool,
}

/// Everything the scheduler decides from.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub options: Options,
    pub now_s: i64,
    /// The earliest time after `now_s` at which this input would be
    /// scheduled differently (a failure-timeout expiring), in epoch seconds.
    pub recheck_by: Option<i64>,
    pub nodes: Vec<NodeInfo>,
    pub rscs: Vec<Rsc>,
    /// Top-level resources in configuration order.
    pub top: Vec<RscIdx>,
    pub locations: Vec<LocationPref>,
    /// Location constraints that limit probing, by (resource, node).
    pub discovery: Vec<(RscIdx, NodeIdx, Discovery)>,
    pub colocations: Vec<ColocationCons>,
    pub orders: Vec<OrderCons>,
    pub one_or_more_orders: Vec<OneOrMoreOrder>,
    /// Names that stand for several resources in constraints: tags and
    /// the templates primitives are built from.
    pub aliases: BTreeMap<String, Vec<RscIdx>>,
    pub by_id: BTreeMap<String, RscIdx>,
    /// Cloned primitives' instances (`base:N`) by base id, so a history
    /// entry finds its candidates without scanning every resource.
    pub instances_by_base: BTreeMap<String, Vec<RscIdx>>,
    /// Whether any fencing device is configured.
    pub has_fence_device: bool,
    /// Whether this partition has quorum (`have-quorum`).
    pub have_quorum: bool,
    /// The partition lost quorum it had (`no-quorum-panic` on `<cib>`).
    pub no_quorum_panic: bool,
    /// The node the controller runs the cluster from (`dc-uuid`).
    pub dc: Option<NodeIdx>,
    /// Resources only a stopped history still names: placed nowhere, not
    /// shown, their history erased where recorded.
    pub removed: Vec<RscIdx>,
}

impl Cluster {
    /// Records a resource just pushed onto `rscs` in the lookup indexes.
    pub(crate) fn index_instance(&mut self, i: RscIdx) {
        let r = &self.rscs[i.0];
        if r.is_primitive() && r.id != r.base_id {
            self.instances_by_base
                .entry(r.base_id.clone())
                .or_default()
                .push(i);
        }
    }

    pub fn node_by_name(&self, name: &str) -> Option<NodeIdx> {
        self.nodes.iter().position(|n| n.uname == name).map(NodeIdx)
    }

    pub fn node(&self, i: NodeIdx) -> &NodeInfo {
        &self.nodes[i.0]
    }

    pub fn rsc(&self, i: RscIdx) -> &Rsc {
        &self.rscs[i.0]
    }

    /// Every primitive (including clone instances) in configuration order.
    pub fn primitives(&self) -> Vec<RscIdx> {
        let mut out = Vec::new();
        for &t in &self.top {
            self.collect_primitives(t, &mut out);
        }
        out
    }

    pub fn collect_primitives(&self, i: RscIdx, out: &mut Vec<RscIdx>) {
        match &self.rsc(i).kind {
            RscKind::Primitive => out.push(i),
            RscKind::Group { members } => {
                for &m in members {
                    self.collect_primitives(m, out);
                }
            }
            RscKind::Clone(c) => {
                for &m in &c.instances {
                    self.collect_primitives(m, out);
                }
            }
        }
    }

    /// no-quorum-policy=suicide applies: the partition lost the quorum it
    /// had (the CIB's `no-quorum-panic` flag; never having had it is not a
    /// loss), so every node in it fences itself.
    pub fn suicide(&self) -> bool {
        self.no_quorum_panic
            && !self.have_quorum
            && self.options.no_quorum_policy == NoQuorumPolicy::Suicide
    }

    /// The resources a constraint naming `id` applies to: the resource
    /// itself, or every resource a tag or template stands for.
    pub fn resolve(&self, id: &str) -> Vec<RscIdx> {
        match self.by_id.get(id) {
            Some(&i) => vec![i],
            None => self.aliases.get(id).cloned().unwrap_or_default(),
        }
    }

    /// Whether `r` may be probed on `node`: not where a location constraint
    /// (on it or what contains it) says never, and when one says exclusive,
    /// only where such a constraint names the node.
    pub fn discovery_allowed(&self, r: RscIdx, node: NodeIdx) -> bool {
        let mut subjects = vec![r];
        let mut at = self.rsc(r).parent;
        while let Some(p) = at {
            subjects.push(p);
            at = self.rsc(p).parent;
        }
        let rules: Vec<_> = self
            .discovery
            .iter()
            .filter(|(rsc, _, _)| subjects.contains(rsc))
            .collect();
        let here = |mode: Discovery| rules.iter().any(|(_, n, m)| *n == node && *m == mode);
        if here(Discovery::Never) {
            return false;
        }
        let exclusive = rules.iter().any(|(_, _, m)| *m == Discovery::Exclusive);
        !exclusive || here(Discovery::Exclusive)
    }

    /// The outermost resource containing `i`.
    pub fn top_of(&self, mut i: RscIdx) -> RscIdx {
        while let Some(p) = self.rsc(i).parent {
            i = p;
        }
        i
    }
}

/// Reads the whole working set as of `now`.
pub fn unpack(cib: &Cib, now: crate::EpochSeconds) -> Result<Cluster, SchedulerError> {
    let options = options::read(cib)?;
    let now_s = now.0;
    let have_quorum = cib.have_quorum()?.unwrap_or(false);
    let nodes = nodes::read(cib, &options, now_s)?;
    let dc = cib
        .dc_uuid()
        .and_then(|id| nodes.iter().position(|n| n.id == id))
        .map(NodeIdx);
    let mut cluster = Cluster {
        options,
        now_s,
        recheck_by: None,
        nodes,
        rscs: Vec::new(),
        top: Vec::new(),
        locations: Vec::new(),
        discovery: Vec::new(),
        colocations: Vec::new(),
        orders: Vec::new(),
        one_or_more_orders: Vec::new(),
        aliases: BTreeMap::new(),
        by_id: BTreeMap::new(),
        instances_by_base: BTreeMap::new(),
        has_fence_device: false,
        have_quorum,
        no_quorum_panic: cib
            .attr("no-quorum-panic")
            .and_then(baton_cib::model::parse_bool)
            .unwrap_or(false),
        dc,
        removed: Vec::new(),
    };
    if cluster.suicide() {
        for n in &mut cluster.nodes {
            if n.is_online() {
                n.state = NodeState::Unclean("cluster does not have quorum".to_owned());
            }
        }
    }
    resources::read(cib, &mut cluster)?;
    cluster.has_fence_device = cluster
        .rscs
        .iter()
        .any(|r| matches!(r.kind, RscKind::Primitive) && r.run.agent.class == "stonith");
    history::read(cib, &mut cluster)?;
    resources::read_constraints(cib, &mut cluster)?;
    tickets::apply(cib, &mut cluster);
    health::apply(cib, &mut cluster);
    Ok(cluster)
}
