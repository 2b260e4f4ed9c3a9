//! Clone instances: first every instance that runs somewhere usable is
//! offered its current node (up to an even share per node), then the
//! rest go to the best nodes left, at most clone-node-max per node and
//! clone-max in all. Instances are handled in Pacemaker's order: least
//! multiply active, allowed where they run, by priority, active ones,
//! unfailed ones, by their colocations' scores where they run, by number.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::colocation::Select;
use super::engine::{Engine, INFINITY, Slot};
use super::score_log::AssignStage;
use crate::unpack::{NodeIdx, RscIdx};

impl Engine<'_> {
    pub(super) fn assign_clone(&mut self, r: RscIdx, prefer: Option<NodeIdx>) -> Option<NodeIdx> {
        if !self.state(r).provisional || self.state(r).allocating {
            return None;
        }
        if self.is_promotable(r) {
            self.add_promotion_scores(r);
        }
        self.state_mut(r).allocating = true;
        for c in self.state(r).this_with.clone() {
            let primary = self.colocs[c].primary;
            self.assign(primary, prefer);
        }
        for c in self.state(r).with_this.clone() {
            if !self.has_influence(c, None) {
                continue;
            }
            let dependent = self.colocs[c].dependent;
            #[allow(clippy::cast_precision_loss)]
            let factor = self.colocs[c].score as f32 / INFINITY as f32;
            let mut table = Some(self.state(r).allowed.clone());
            self.add_colocated_node_scores(
                dependent,
                &mut table,
                factor,
                Select {
                    active: true,
                    nonnegative: true,
                    ..Select::default()
                },
            );
            if let Some(t) = table {
                self.state_mut(r).allowed = t;
            }
        }
        self.record_scores(AssignStage::Clone, r);
        let mut children = self.state(r).children.clone();
        let by_colocation = self.colocation_scores_where_running(&children);
        children.sort_by(|&a, &b| self.cmp_instance(a, b, &by_colocation));
        self.state_mut(r).children = children;
        self.distribute_instances(r);
        if self.is_promotable(r) {
            self.set_instance_roles(r);
        }
        let s = self.state_mut(r);
        s.provisional = false;
        s.allocating = false;
        None
    }

    fn distribute_instances(&mut self, r: RscIdx) {
        let Some(info) = self.clone_info(r) else {
            return;
        };
        let (max, per_node) = (info.clone_max, info.clone_node_max);
        let nodes: Vec<NodeIdx> = self.state(r).allowed.keys().copied().collect();
        let mut available_nodes = 0usize;
        for n in nodes {
            if let Some(slot) = self.state_mut(r).allowed.get_mut(&n) {
                slot.count = 0;
            }
            if self.available(n, None) {
                available_nodes += 1;
            }
        }
        let all_coloc = max < available_nodes;
        let fair_share = max.checked_div(available_nodes).unwrap_or(1).max(1);
        let children = self.state(r).children.clone();
        let mut allocated = 0usize;
        // Instances stay where they are while those nodes have room.
        for &child in &children {
            if allocated >= max {
                break;
            }
            if self.running_on(child).is_empty()
                || !self.state(child).provisional
                || self.cluster.rsc(child).status.failed
            {
                continue;
            }
            let Some(node) = self.current_node(child) else {
                continue;
            };
            if !self.available(node, None) {
                continue;
            }
            if self
                .top_allowed(child, node)
                .is_some_and(|s| s.count as usize >= fair_share)
            {
                continue;
            }
            if self
                .allocate_instance(child, Some(node), all_coloc, per_node)
                .is_some()
            {
                allocated += 1;
            }
        }
        for &child in &children {
            if !self.state(child).provisional {
                continue;
            }
            if allocated >= max {
                self.add_score_everywhere(child, -INFINITY);
            } else if self
                .allocate_instance(child, None, all_coloc, per_node)
                .is_some()
            {
                allocated += 1;
            }
        }
    }

    fn allocate_instance(
        &mut self,
        child: RscIdx,
        prefer: Option<NodeIdx>,
        all_coloc: bool,
        limit: usize,
    ) -> Option<NodeIdx> {
        if !self.state(child).provisional {
            return self.assigned_node(child).map(|p| p.node);
        }
        if self.state(child).allocating {
            return None;
        }
        if let Some(parent) = self.parent(child) {
            self.inherit_colocations(parent, child, all_coloc);
        }
        if let Some(p) = prefer
            && self
                .state(child)
                .allowed
                .get(&p)
                .is_none_or(|s| s.weight < 0)
        {
            return None;
        }
        let nodes: Vec<NodeIdx> = self.state(child).allowed.keys().copied().collect();
        for n in nodes {
            self.limit_instance(child, n, limit);
        }
        let backup = self.state(child).allowed.clone();
        let mut chosen = self.assign(child, prefer);
        if let (Some(c), Some(p)) = (chosen, prefer)
            && c != p
        {
            // Not its current node after all: undo, it is placed later.
            self.state_mut(child).allowed = backup;
            self.unassign(child);
            chosen = None;
        }
        if let Some(c) = chosen
            && let Some(slot) = self.top_allowed_mut(child, c)
        {
            slot.count += 1;
        }
        chosen
    }

    /// Bans `child` from `n` unless the node is usable, its clone allowed
    /// there, and the node holds fewer than `limit` of its instances.
    fn limit_instance(&mut self, child: RscIdx, n: NodeIdx, limit: usize) {
        if self.available(n, None) && !self.cluster.rsc(child).orphan {
            match self.top_allowed(child, n) {
                Some(slot) if slot.weight < 0 => self.update_score(child, n, slot.weight),
                Some(slot) if (slot.count as usize) < limit => return,
                _ => {}
            }
        }
        self.update_score(child, n, -INFINITY);
    }

    /// An instance takes on its clone's colocations: all of them when the
    /// clone cannot run everywhere, else only mandatory ones and those
    /// keeping it away.
    fn inherit_colocations(&mut self, parent: RscIdx, child: RscIdx, all: bool) {
        for c in self.state(parent).this_with.clone() {
            let score = self.colocs[c].score;
            if all || score < 0 || score == INFINITY {
                self.add_this_with(child, c);
            }
        }
        for c in self.state(parent).with_this.clone() {
            if !self.has_influence(c, Some(child)) {
                continue;
            }
            if all || self.colocs[c].score < 0 {
                self.add_with_this(child, c);
            }
        }
    }

    /// The order clone instances are assigned in; `by_colocation` holds
    /// [`Self::colocation_scores_where_running`].
    pub(super) fn cmp_instance(
        &self,
        a: RscIdx,
        b: RscIdx,
        by_colocation: &BTreeMap<RscIdx, i32>,
    ) -> Ordering {
        let (on_a, on_b) = (self.running_on(a), self.running_on(b));
        if !on_a.is_empty() && !on_b.is_empty() {
            let by_count = on_a.len().cmp(&on_b.len());
            if by_count != Ordering::Equal {
                return by_count;
            }
        }
        let mut node_a = self.current_node(a);
        let mut node_b = self.current_node(b);
        // Active where it may no longer run: last.
        let allowed = |r: RscIdx, n: &mut Option<NodeIdx>| match *n {
            Some(x) if self.state(r).allowed.get(&x).is_none_or(|s| s.weight < 0) => {
                *n = None;
                false
            }
            _ => true,
        };
        let (can_a, can_b) = (allowed(a, &mut node_a), allowed(b, &mut node_b));
        if can_a != can_b {
            return can_b.cmp(&can_a);
        }
        let by_priority = self.state(b).priority.cmp(&self.state(a).priority);
        if by_priority != Ordering::Equal {
            return by_priority;
        }
        let (na, nb) = match (node_a, node_b) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) => (x, y),
        };
        let (usable_a, usable_b) = (self.available(na, None), self.available(nb, None));
        if usable_a != usable_b {
            return usable_b.cmp(&usable_a);
        }
        let (ta, tb) = match (self.top_allowed(a, na), self.top_allowed(b, nb)) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) => (x, y),
        };
        let by_load = ta.count.cmp(&tb.count);
        if by_load != Ordering::Equal {
            return by_load;
        }
        let (failed_a, failed_b) = (self.did_fail(a), self.did_fail(b));
        if failed_a != failed_b {
            return failed_a.cmp(&failed_b);
        }
        let score = |r: RscIdx| by_colocation.get(&r).copied().unwrap_or(0);
        score(b)
            .cmp(&score(a))
            .then_with(|| instance_number(self.name(a)).cmp(&instance_number(self.name(b))))
    }

    /// For each of `instances` that runs somewhere, the weight its node
    /// gets from the clone's colocations alone: the more an instance's
    /// node is wanted, the earlier it keeps it.
    pub(super) fn colocation_scores_where_running(
        &mut self,
        instances: &[RscIdx],
    ) -> BTreeMap<RscIdx, i32> {
        let mut out = BTreeMap::new();
        for &r in instances {
            let (Some(parent), Some(node)) = (self.parent(r), self.current_node(r)) else {
                continue;
            };
            let weight = self.base_weight(node);
            let mut table = Some([(node, Slot { weight, count: 0 })].into_iter().collect());
            for c in self.state(parent).this_with.clone() {
                let primary = self.colocs[c].primary;
                #[allow(clippy::cast_precision_loss)]
                let factor = self.colocs[c].score as f32 / INFINITY as f32;
                self.add_colocated_node_scores(primary, &mut table, factor, Select::default());
            }
            for c in self.state(parent).with_this.clone() {
                if !self.has_influence(c, Some(r)) {
                    continue;
                }
                let dependent = self.colocs[c].dependent;
                #[allow(clippy::cast_precision_loss)]
                let factor = self.colocs[c].score as f32 / INFINITY as f32;
                let select = Select {
                    nonnegative: true,
                    ..Select::default()
                };
                self.add_colocated_node_scores(dependent, &mut table, factor, select);
            }
            let weight = table
                .and_then(|t| t.get(&node).map(|s| s.weight))
                .unwrap_or(0);
            out.insert(r, weight);
        }
        out
    }
}

/// The number after the last `:` of an instance id.
fn instance_number(id: &str) -> i64 {
    id.rsplit_once(':')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}
