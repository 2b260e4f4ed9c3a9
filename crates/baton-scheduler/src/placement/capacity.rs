//! Utilization-aware placement (any placement-strategy but `default`): a
//! resource may only go where what is left of a node's capacity covers it
//! and, when some node can, the resources that must come along with it.

use std::cmp::Ordering;

use super::engine::{Engine, INFINITY};
use crate::unpack::{NodeIdx, RscIdx, RscKind, Utilization};

impl Engine<'_> {
    /// Bans `r` from nodes without room for it (and for what must follow
    /// it, when some node has room for all of that). When no node has
    /// room for all, the node with the most left, to prefer.
    pub(super) fn ban_insufficient_capacity(&mut self, r: RscIdx) -> Option<NodeIdx> {
        if !self.cluster.options.placement_strategy.uses_capacity() {
            return None;
        }
        let mut colocated = Vec::new();
        self.colocated_resources(r, r, &mut colocated);
        if !colocated.contains(&r) {
            colocated.push(r);
        }
        let mut need = Utilization::default();
        for &c in &colocated {
            self.add_utilization(c, &colocated, &mut need);
        }
        let usable: Vec<NodeIdx> = self
            .state(r)
            .allowed
            .iter()
            .filter(|(n, s)| self.available(**n, Some(s.weight)))
            .map(|(n, _)| *n)
            .collect();
        let any_capable = usable.iter().any(|&n| self.has_room(n, &need));
        let mut most_free: Option<NodeIdx> = None;
        for &n in &usable {
            if most_free.is_none_or(|m| self.compare_capacities(n, m) == Ordering::Less) {
                most_free = Some(n);
            }
        }
        let own = self.cluster.rsc(r).utilization.clone();
        let need = if any_capable { need } else { own };
        for n in usable {
            if !self.has_room(n, &need) {
                self.add_node_score(r, n, -INFINITY);
            }
        }
        if any_capable { None } else { most_free }
    }

    fn has_room(&self, n: NodeIdx, need: &Utilization) -> bool {
        let left = &self.capacity[n.0];
        need.0
            .iter()
            .all(|(k, v)| *v <= left.get(k).copied().unwrap_or(0))
    }

    /// `balanced`: the node with more capacity left, name by name, first.
    pub(super) fn compare_capacities(&self, a: NodeIdx, b: NodeIdx) -> Ordering {
        let (ca, cb) = (&self.capacity[a.0], &self.capacity[b.0]);
        let mut result: i64 = 0;
        for (k, va) in ca {
            let vb = cb.get(k).copied().unwrap_or(0);
            result += match va.cmp(&vb) {
                Ordering::Greater => -1,
                Ordering::Less => 1,
                Ordering::Equal => 0,
            };
        }
        for (k, vb) in cb {
            if !ca.contains_key(k) {
                result += match 0.cmp(vb) {
                    Ordering::Greater => -1,
                    Ordering::Less => 1,
                    Ordering::Equal => 0,
                };
            }
        }
        result.cmp(&0)
    }

    /// `r` and everything that must be on its node with it, transitively.
    fn colocated_resources(&self, r: RscIdx, orig: RscIdx, out: &mut Vec<RscIdx>) {
        if self.is_group(r) {
            for m in self.state(r).children.clone() {
                self.colocated_resources(m, orig, out);
            }
        }
        if out.contains(&r) {
            return;
        }
        out.push(r);
        for &c in &self.state(r).this_with {
            let primary = self.colocs[c].primary;
            if primary != orig
                && self.colocs[c].score == INFINITY
                && self.affects_location_preview(r, primary, c)
            {
                self.colocated_resources(primary, orig, out);
            }
        }
        for &c in &self.state(r).with_this {
            let dependent = self.colocs[c].dependent;
            if dependent == orig || (self.is_clone(r) && !self.is_clone(dependent)) {
                continue;
            }
            if self.colocs[c].score == INFINITY && self.affects_location_preview(dependent, r, c) {
                self.colocated_resources(dependent, orig, out);
            }
        }
    }

    /// Adds what `r` still needs (its unassigned primitives) to `need`.
    fn add_utilization(&self, r: RscIdx, all: &[RscIdx], need: &mut Utilization) {
        if !self.state(r).provisional {
            return;
        }
        match &self.cluster.rsc(r).kind {
            RscKind::Primitive => need.add(&self.cluster.rsc(r).utilization),
            RscKind::Group { .. } => {
                for m in self.state(r).children.clone() {
                    if self.state(m).provisional && !all.contains(&m) {
                        self.add_utilization(m, all, need);
                    }
                }
            }
            RscKind::Clone(_) => {
                let mut existing = false;
                for &child in &self.state(r).children {
                    if all.contains(&child) {
                        existing = true;
                    } else if self.state(child).children.iter().any(|m| all.contains(m)) {
                        self.add_utilization(child, all, need);
                        existing = true;
                    }
                }
                if !existing && let Some(first) = self.first_child(r) {
                    self.add_utilization(first, all, need);
                }
            }
        }
    }
}

impl Engine<'_> {
    /// The order top-level resources are assigned in: by priority; with a
    /// utilization-aware strategy, capacity goes first come, first served,
    /// so then those with the higher weight where they run (counting what
    /// they are colocated with) go first, then those with the higher
    /// weight on the best nodes.
    pub(super) fn assignment_order(&mut self) -> Vec<RscIdx> {
        let mut order = self.allocation_order();
        if !self.cluster.options.placement_strategy.uses_capacity() {
            return order;
        }
        let everywhere: super::engine::Table = (0..self.cluster.nodes.len())
            .map(|n| {
                (
                    NodeIdx(n),
                    super::engine::Slot {
                        weight: 0,
                        count: 0,
                    },
                )
            })
            .collect();
        let nodes: Vec<NodeIdx> = self
            .sorted_nodes(&everywhere, None)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let mut weights = std::collections::BTreeMap::new();
        for &r in &order {
            let mut table = None;
            let select = super::colocation::Select {
                this_with: true,
                ..Default::default()
            };
            self.add_colocated_node_scores(r, &mut table, 1.0, select);
            weights.insert(r, table.unwrap_or_default());
        }
        let weight = |r: RscIdx, n: Option<NodeIdx>| {
            n.and_then(|n| weights.get(&r).and_then(|t| t.get(&n)).map(|s| s.weight))
                .unwrap_or(-INFINITY)
        };
        order.sort_by(|&a, &b| {
            let (pa, pb) = (self.state(a).priority, self.state(b).priority);
            pb.cmp(&pa)
                .then_with(|| weight(b, self.current_node(b)).cmp(&weight(a, self.current_node(a))))
                .then_with(|| {
                    nodes
                        .iter()
                        .map(|&n| weight(b, Some(n)).cmp(&weight(a, Some(n))))
                        .find(|o| *o != Ordering::Equal)
                        .unwrap_or(Ordering::Equal)
                })
        });
        order
    }
}
