//! Assigning primitives and groups: a primitive first lets the primaries
//! it is colocated with choose, takes their choice and its dependents'
//! wishes into its weights, then goes to its best node (staying put on a
//! tie); a group assigns its members in order, each colocated with the one
//! before.

use std::cmp::Ordering;

use super::engine::{Engine, INFINITY, Placed, Slot, Table};
use super::score_log::AssignStage;
use crate::unpack::{NoQuorumPolicy, NodeIdx, PlacementStrategy, Role, RscIdx, RscKind};

impl Engine<'_> {
    /// Assigns `r` (whatever kind it is), preferring `prefer` when all
    /// else is equal; the node it went to, when that is one node.
    pub fn assign(&mut self, r: RscIdx, prefer: Option<NodeIdx>) -> Option<NodeIdx> {
        match &self.cluster.rsc(r).kind {
            RscKind::Primitive => self.assign_primitive(r, prefer),
            RscKind::Group { .. } => self.assign_group(r, prefer),
            RscKind::Clone(_) => self.assign_clone(r, prefer),
        }
    }

    /// The nodes of `table`, most desirable first: by weight (unusable
    /// nodes last), then by what is left of their capacity (`balanced`),
    /// then fewest resources, then `active`, then by name.
    pub fn sorted_nodes(&self, table: &Table, active: Option<NodeIdx>) -> Vec<(NodeIdx, Slot)> {
        let mut nodes: Vec<(NodeIdx, Slot)> = table.iter().map(|(n, s)| (*n, *s)).collect();
        let strategy = self.cluster.options.placement_strategy;
        let weight = |(n, s): &(NodeIdx, Slot)| {
            if self.available(*n, None) {
                s.weight
            } else {
                -INFINITY
            }
        };
        nodes.sort_by(|a, b| {
            let by_weight = weight(b).cmp(&weight(a));
            if by_weight != Ordering::Equal || strategy == PlacementStrategy::Minimal {
                return by_weight.then_with(|| self.by_name(a.0, b.0));
            }
            let by_capacity = if strategy == PlacementStrategy::Balanced {
                self.compare_capacities(a.0, b.0)
            } else {
                Ordering::Equal
            };
            by_capacity
                .then_with(|| self.num_resources[a.0.0].cmp(&self.num_resources[b.0.0]))
                .then_with(|| match active {
                    Some(x) if x == a.0 => Ordering::Less,
                    Some(x) if x == b.0 => Ordering::Greater,
                    _ => Ordering::Equal,
                })
                .then_with(|| self.by_name(a.0, b.0))
        });
        nodes
    }

    fn by_name(&self, a: NodeIdx, b: NodeIdx) -> Ordering {
        self.node_name(a)
            .as_bytes()
            .cmp(self.node_name(b).as_bytes())
    }

    fn assign_primitive(&mut self, r: RscIdx, prefer: Option<NodeIdx>) -> Option<NodeIdx> {
        // A child is never assigned before its parent.
        if let Some(p) = self.parent(r)
            && !self.state(p).allocating
        {
            self.assign(p, prefer);
        }
        if !self.state(r).provisional {
            return self.state(r).placed.map(|p| p.node);
        }
        if self.state(r).allocating {
            return None;
        }
        self.state_mut(r).allocating = true;
        for c in self.state(r).this_with.clone() {
            self.apply_this_with(r, c);
        }
        for c in self.state(r).with_this.clone() {
            self.apply_with_this(r, c);
        }
        let s = self.state(r);
        if s.next_role == Some(Role::Stopped) {
            self.add_score_everywhere(r, -INFINITY);
        } else if s.next_role > s.role
            && !self.cluster.have_quorum
            && self.cluster.options.no_quorum_policy == NoQuorumPolicy::Freeze
        {
            self.state_mut(r).next_role = self.state(r).role;
        }
        self.record_scores(AssignStage::Primitive, r);
        let options = &self.cluster.options;
        // Without a fencing device nothing can be recovered safely.
        if options.fencing_enabled && !self.cluster.has_fence_device {
            self.state_mut(r).managed = false;
        }
        if !self.state(r).managed {
            self.state_mut(r).next_role = self.state(r).role;
            let current = self.current_node(r).map(|node| Placed {
                node,
                weight: self.base_weight(node),
            });
            self.finalize(r, current, true);
        } else if options.stop_all_resources {
            self.finalize(r, None, true);
        } else if self.state(r).provisional {
            self.assign_best_node(r, prefer);
        }
        self.state_mut(r).allocating = false;
        self.state(r).placed.map(|p| p.node)
    }

    /// Lets the primary of `c` choose first, then follows it (undoing a
    /// role-specific or optional anti-colocation that leaves nowhere to go).
    fn apply_this_with(&mut self, r: RscIdx, c: usize) {
        let co = &self.colocs[c];
        let primary = co.primary;
        let archive = (co.dependent_role >= Some(Role::Promoted)
            || (co.score < 0 && co.score > -INFINITY))
            .then(|| self.state(r).allowed.clone());
        self.assign(primary, None);
        self.apply_coloc_score(r, primary, c, true);
        if let Some(old) = archive
            && !self.any_available(&self.state(r).allowed)
        {
            self.state_mut(r).allowed = old;
        }
    }

    /// Leans towards where the dependent of `c` would like to be.
    fn apply_with_this(&mut self, r: RscIdx, c: usize) {
        if !self.has_influence(c, None) {
            return;
        }
        let co = &self.colocs[c];
        let dependent = co.dependent;
        #[allow(clippy::cast_precision_loss)]
        let factor = co.score as f32 / INFINITY as f32;
        let mut table = Some(self.state(r).allowed.clone());
        self.add_colocated_node_scores(
            dependent,
            &mut table,
            factor,
            super::colocation::Select {
                active: true,
                ..Default::default()
            },
        );
        if let Some(t) = table {
            self.state_mut(r).allowed = t;
        }
    }

    fn assign_best_node(&mut self, r: RscIdx, prefer: Option<NodeIdx>) -> bool {
        let most_free = self.ban_insufficient_capacity(r);
        let prefer = prefer.or(most_free);
        if !self.state(r).provisional {
            return self.state(r).placed.is_some();
        }
        let current = self.current_node(r);
        let nodes = self.sorted_nodes(&self.state(r).allowed, current);
        let best = nodes.first().copied();
        let mut chosen = None;
        if let (Some(p), Some(best)) = (prefer, best)
            && let Some(slot) = self.state(r).allowed.get(&p)
            && slot.weight >= best.1.weight
            && self.available(p, Some(slot.weight))
        {
            chosen = Some((p, *slot));
        }
        if chosen.is_none()
            && let Some(best) = best
        {
            let mut pick = best;
            if !self.parent_is_unique_clone(r) && pick.1.weight > 0 && self.available(pick.0, None)
            {
                // On a tie, stay where it runs.
                if let Some(running) = current
                    && self.available(running, None)
                {
                    for &(n, slot) in nodes.iter().skip(1) {
                        if slot.weight != pick.1.weight {
                            break;
                        }
                        if n == running {
                            pick = (n, slot);
                        }
                    }
                }
            }
            chosen = Some(pick);
        }
        let placed = chosen.map(|(node, slot)| Placed {
            node,
            weight: slot.weight,
        });
        self.finalize(r, placed, false)
    }

    fn assign_group(&mut self, g: RscIdx, prefer: Option<NodeIdx>) -> Option<NodeIdx> {
        if !self.state(g).provisional || self.state(g).allocating {
            return None;
        }
        let Some(first) = self.first_child(g) else {
            self.state_mut(g).provisional = false;
            return None;
        };
        self.state_mut(g).allocating = true;
        self.state_mut(g).role = self.state(first).role;
        self.expand_group_colocations(g);
        self.record_scores(AssignStage::Group, g);
        let mut first_assigned = None;
        for m in self.state(g).children.clone() {
            let node = self.assign(m, prefer);
            first_assigned = first_assigned.or(node);
        }
        self.state_mut(g).next_role = self.state(first).next_role;
        let s = self.state_mut(g);
        s.allocating = false;
        s.provisional = false;
        first_assigned
    }

    /// "Group with X" becomes "first member with X" and "X with group"
    /// becomes "X with last member"; after an unmanaged member, every later
    /// member carries the group's mandatory colocations itself.
    fn expand_group_colocations(&mut self, g: RscIdx) {
        let members = self.state(g).children.clone();
        let Some((&first, rest)) = members.split_first() else {
            return;
        };
        let this_with = std::mem::take(&mut self.state_mut(g).this_with);
        for &c in &this_with {
            self.add_this_with(first, c);
        }
        let mut any_unmanaged = !self.state(first).managed;
        for &m in rest {
            if any_unmanaged {
                for &c in &this_with {
                    if self.colocs[c].score == INFINITY {
                        self.add_this_with(m, c);
                    }
                }
            } else if !self.state(m).managed {
                any_unmanaged = true;
            }
        }
        let with_this = std::mem::take(&mut self.state_mut(g).with_this);
        if let Some(&last) = members.last() {
            for c in with_this {
                self.add_with_this(last, c);
            }
        }
    }
}
