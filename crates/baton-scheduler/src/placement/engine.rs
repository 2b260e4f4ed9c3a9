//! The assignment working set, as Pacemaker keeps it: every resource
//! (clones, their instances, groups and primitives alike) has a table of
//! allowed nodes with a weight each, flags that say how far its assignment
//! got, the colocations it takes part in, and its roles. Weights are plain
//! integers with Pacemaker's saturating addition, because merging
//! dependents' scores briefly marks nodes with a weight below -INFINITY.

use std::collections::BTreeMap;

use super::Assignment;
use super::colocation::Coloc;
use crate::unpack::{Cluster, Discovery, NodeIdx, Role, RscIdx, RscKind, Utilization};

pub const INFINITY: i32 = 1_000_000;

/// Adds two weights the way every score is added: -INFINITY wins over
/// anything, then +INFINITY; sums saturate at ±INFINITY.
pub fn add(a: i32, b: i32) -> i32 {
    if a <= -INFINITY || b <= -INFINITY {
        return -INFINITY;
    }
    if a >= INFINITY || b >= INFINITY {
        return INFINITY;
    }
    (a + b).clamp(-INFINITY, INFINITY)
}

/// One node in a resource's allowed-node table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub weight: i32,
    /// Instances (or promoted instances) placed on this node so far; only
    /// a clone's own table counts them.
    pub count: u32,
}

pub type Table = BTreeMap<NodeIdx, Slot>;

/// Where a primitive was assigned, with its weight there at the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub node: NodeIdx,
    pub weight: i32,
}

#[derive(Debug, Clone)]
pub struct RscState {
    pub allowed: Table,
    /// Not assigned yet.
    pub provisional: bool,
    /// Being assigned: reaching it again is a colocation loop.
    pub allocating: bool,
    /// Its dependents' scores are being merged: reaching it again is a loop.
    pub merging: bool,
    /// Primitives only.
    pub placed: Option<Placed>,
    /// Current role (`None`: unknown).
    pub role: Option<Role>,
    /// The role it is to have (`None`: not decided yet).
    pub next_role: Option<Role>,
    pub priority: i32,
    /// Promotable instances: promotion priority once constraints are in.
    pub sort_index: i32,
    /// Colocations where it is the dependent, most important primary first.
    pub this_with: Vec<usize>,
    /// Colocations where it is the primary, most important dependent first.
    pub with_this: Vec<usize>,
    /// Clone instances or group members, in the order they are handled.
    pub children: Vec<RscIdx>,
    pub managed: bool,
    /// Some location limits its probes to nodes that say so.
    pub exclusive_discover: bool,
    /// Discovery mode of the location constraints applied on each node.
    pub discover: BTreeMap<NodeIdx, Discovery>,
    /// Promotable clones: promotion scores already added to instances.
    pub promotion_added: bool,
    /// Promotable clones: instances already sorted for promotion.
    pub promotion_sorted: bool,
}

pub struct Engine<'c> {
    pub cluster: &'c Cluster,
    pub rs: Vec<RscState>,
    pub colocs: Vec<Coloc>,
    /// Primitives assigned to each node.
    pub num_resources: Vec<u32>,
    /// What each node has left (its declared utilization, used up by
    /// assignments).
    pub capacity: Vec<BTreeMap<String, i64>>,
    pub out: Assignment,
}

impl<'c> Engine<'c> {
    pub fn state(&self, r: RscIdx) -> &RscState {
        &self.rs[r.0]
    }

    pub fn state_mut(&mut self, r: RscIdx) -> &mut RscState {
        &mut self.rs[r.0]
    }

    pub fn parent(&self, r: RscIdx) -> Option<RscIdx> {
        self.cluster.rsc(r).parent
    }

    pub fn uber_parent(&self, r: RscIdx) -> RscIdx {
        self.cluster.top_of(r)
    }

    pub fn is_group(&self, r: RscIdx) -> bool {
        matches!(self.cluster.rsc(r).kind, RscKind::Group { .. })
    }

    pub fn is_clone(&self, r: RscIdx) -> bool {
        matches!(self.cluster.rsc(r).kind, RscKind::Clone(_))
    }

    pub fn clone_info(&self, r: RscIdx) -> Option<&'c crate::unpack::CloneInfo> {
        match &self.cluster.rsc(r).kind {
            RscKind::Clone(c) => Some(c),
            _ => None,
        }
    }

    /// Whether `r` is a promotable clone.
    pub fn is_promotable(&self, r: RscIdx) -> bool {
        self.clone_info(r).is_some_and(|c| c.promotable)
    }

    /// Whether `r` is in a promotable clone (or is one): its instances and
    /// their members all carry the clone's promotability.
    pub fn in_promotable(&self, r: RscIdx) -> bool {
        self.is_promotable(self.uber_parent(r))
    }

    /// Instances of an anonymous clone (and their members) are
    /// interchangeable; anything else is unique.
    pub fn is_unique(&self, r: RscIdx) -> bool {
        self.clone_info(self.uber_parent(r))
            .is_none_or(|c| c.unique)
    }

    /// Whether `r` is an instance of a globally unique clone.
    pub fn parent_is_unique_clone(&self, r: RscIdx) -> bool {
        self.parent(r)
            .and_then(|p| self.clone_info(p))
            .is_some_and(|c| c.unique)
    }

    pub fn first_child(&self, r: RscIdx) -> Option<RscIdx> {
        self.state(r).children.first().copied()
    }

    pub fn last_child(&self, r: RscIdx) -> Option<RscIdx> {
        self.state(r).children.last().copied()
    }

    /// May `n` run resources at all (and, with `consider_weight`, does
    /// `weight` allow it)?
    pub fn available(&self, n: NodeIdx, weight: Option<i32>) -> bool {
        self.cluster.node(n).can_run() && weight.is_none_or(|w| w >= 0)
    }

    pub fn any_available(&self, table: &Table) -> bool {
        table
            .iter()
            .any(|(&n, s)| self.available(n, Some(s.weight)))
    }

    /// The nodes `r` is active on, in the order they were found.
    pub fn running_on(&self, r: RscIdx) -> Vec<NodeIdx> {
        let mut prims = Vec::new();
        self.cluster.collect_primitives(r, &mut prims);
        let mut out: Vec<NodeIdx> = Vec::new();
        for p in prims {
            for &(n, _) in &self.cluster.rsc(p).status.running {
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        if !self.cluster.rsc(r).is_primitive() {
            out.sort();
        }
        out
    }

    /// The node `r` is said to be on: the first it was found active on,
    /// or, when its recovery does not wait for fencing, the first healthy
    /// one.
    pub fn current_node(&self, r: RscIdx) -> Option<NodeIdx> {
        let on = self.running_on(r);
        if self.cluster.rsc(r).meta.requires.fencing() {
            return on.first().copied();
        }
        on.iter()
            .copied()
            .find(|&n| self.cluster.node(n).is_online())
            .or_else(|| on.first().copied())
    }

    /// Where `r` was assigned, when that is exactly one node (a group's
    /// members may be split).
    pub fn assigned_node(&self, r: RscIdx) -> Option<Placed> {
        let mut found: Vec<Placed> = Vec::new();
        self.collect_placed(r, &mut found);
        match found.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    fn collect_placed(&self, r: RscIdx, found: &mut Vec<Placed>) {
        if self.cluster.rsc(r).is_primitive() {
            if let Some(p) = self.state(r).placed
                && !found.iter().any(|f| f.node == p.node)
            {
                found.push(p);
            }
            return;
        }
        for &c in &self.state(r).children {
            self.collect_placed(c, found);
        }
    }

    /// The role `r` has now (`current`) or is to have; a collective's is
    /// the highest of its children's.
    pub fn role_of(&self, r: RscIdx, current: bool) -> Option<Role> {
        if self.cluster.rsc(r).is_primitive() {
            let s = self.state(r);
            return if current { s.role } else { s.next_role };
        }
        self.state(r)
            .children
            .iter()
            .map(|&c| self.role_of(c, current))
            .max()
            .flatten()
    }

    pub fn set_next_role(&mut self, r: RscIdx, role: Role) {
        self.state_mut(r).next_role = Some(role);
    }

    pub fn is_blocked(&self, r: RscIdx) -> bool {
        let mut prims = Vec::new();
        self.cluster.collect_primitives(r, &mut prims);
        prims.iter().any(|&p| self.cluster.rsc(p).status.blocked)
    }

    pub fn did_fail(&self, r: RscIdx) -> bool {
        let mut prims = Vec::new();
        self.cluster.collect_primitives(r, &mut prims);
        prims.iter().any(|&p| self.cluster.rsc(p).status.failed)
    }

    /// A node's own weight: -INFINITY when it was not up and joined when
    /// the CIB was read, or is shutting down. Tables built after that
    /// start from it.
    pub fn base_weight(&self, n: NodeIdx) -> i32 {
        let node = self.cluster.node(n);
        if node.in_membership && !node.shutdown {
            0
        } else {
            -INFINITY
        }
    }

    /// Adds `score` on `n` to `r` and everything inside it, adding the
    /// node (with its own weight) to tables that lack it.
    pub fn add_node_score(&mut self, r: RscIdx, n: NodeIdx, score: i32) {
        for c in self.state(r).children.clone() {
            self.add_node_score(c, n, score);
        }
        let weight = self.base_weight(n);
        let slot = self
            .state_mut(r)
            .allowed
            .entry(n)
            .or_insert(Slot { weight, count: 0 });
        slot.weight = add(slot.weight, score);
    }

    /// [`Self::add_node_score`] on every node.
    pub fn add_score_everywhere(&mut self, r: RscIdx, score: i32) {
        for n in 0..self.cluster.nodes.len() {
            self.add_node_score(r, NodeIdx(n), score);
        }
    }

    /// Adds `score` on `n` to `r` and its children where they already
    /// allow the node.
    pub fn update_score(&mut self, r: RscIdx, n: NodeIdx, score: i32) {
        if let Some(slot) = self.state_mut(r).allowed.get_mut(&n) {
            slot.weight = add(slot.weight, score);
        }
        for c in self.state(r).children.clone() {
            self.update_score(c, n, score);
        }
    }

    /// The parent's entry for `n` (the resource's own for top-level ones).
    pub fn top_allowed(&self, r: RscIdx, n: NodeIdx) -> Option<Slot> {
        let holder = self.parent(r).unwrap_or(r);
        self.state(holder).allowed.get(&n).copied()
    }

    pub fn top_allowed_mut(&mut self, r: RscIdx, n: NodeIdx) -> Option<&mut Slot> {
        let holder = self.parent(r).unwrap_or(r);
        self.state_mut(holder).allowed.get_mut(&n)
    }

    pub fn name(&self, r: RscIdx) -> &'c str {
        &self.cluster.rsc(r).id
    }

    pub fn node_name(&self, n: NodeIdx) -> &'c str {
        &self.cluster.node(n).uname
    }

    /// Takes a primitive off the node it was assigned to.
    pub fn unassign(&mut self, r: RscIdx) {
        let Some(old) = self.state_mut(r).placed.take() else {
            return;
        };
        self.state_mut(r).provisional = true;
        self.num_resources[old.node.0] = self.num_resources[old.node.0].saturating_sub(1);
        let need = &self.cluster.rsc(r).utilization;
        release(&mut self.capacity[old.node.0], need);
    }

    /// Assigns primitive `r` to `chosen` (or nowhere), unless the node
    /// cannot take it and `force` is not set; it is then no longer
    /// provisional. Whether it got a node.
    pub fn finalize(&mut self, r: RscIdx, chosen: Option<Placed>, force: bool) -> bool {
        let mut chosen = chosen;
        if !force
            && let Some(c) = chosen
            && (c.weight < 0 || !self.available(c.node, Some(c.weight)))
        {
            self.set_next_role(r, Role::Stopped);
            chosen = None;
        }
        self.unassign(r);
        self.state_mut(r).provisional = false;
        let Some(c) = chosen else {
            self.set_next_role(r, Role::Stopped);
            return false;
        };
        self.state_mut(r).placed = Some(c);
        self.num_resources[c.node.0] += 1;
        let need = &self.cluster.rsc(r).utilization;
        consume(&mut self.capacity[c.node.0], need);
        true
    }

    /// Assigns every primitive in `r` to `n` (or nowhere).
    pub fn assign_everything(&mut self, r: RscIdx, n: Option<NodeIdx>, force: bool) {
        if self.cluster.rsc(r).is_primitive() {
            let chosen = n.map(|node| Placed {
                node,
                weight: self.state(r).allowed.get(&node).map_or(0, |s| s.weight),
            });
            self.finalize(r, chosen, force);
            return;
        }
        for c in self.state(r).children.clone() {
            self.assign_everything(c, n, force);
        }
    }
}

/// Takes what `need` uses from what a node has left; a name the node does
/// not declare is recorded as none left.
fn consume(left: &mut BTreeMap<String, i64>, need: &Utilization) {
    for (k, v) in &need.0 {
        match left.get_mut(k) {
            Some(e) => *e = e.saturating_sub(*v),
            None => {
                left.insert(k.clone(), 0);
            }
        }
    }
}

fn release(left: &mut BTreeMap<String, i64>, need: &Utilization) {
    for (k, v) in &need.0 {
        let e = left.entry(k.clone()).or_insert(0);
        *e = e.saturating_add(*v);
    }
}
