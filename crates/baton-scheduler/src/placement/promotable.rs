//! Promotable clones: the agents' promotion scores (`master-<id>` node
//! attributes) first make nodes more attractive to instances, then, once
//! instances are placed, set each one's promotion priority; location
//! constraints and colocations for the promoted role add to it, and the
//! highest go first, up to promoted-max (promoted-node-max per node).

use baton_cib::Score;

use super::colocation::Select;
use super::engine::{Engine, INFINITY, add};
use crate::unpack::{NoQuorumPolicy, NodeIdx, Role, RscIdx};

impl Engine<'_> {
    /// Adds the promotion scores to the instances' weights, and makes the
    /// best one each instance's priority, before instances are placed.
    pub(super) fn add_promotion_scores(&mut self, clone: RscIdx) {
        if self.state(clone).promotion_added {
            return;
        }
        self.state_mut(clone).promotion_added = true;
        for child in self.state(clone).children.clone() {
            let nodes: Vec<NodeIdx> = self.state(child).allowed.keys().copied().collect();
            for n in nodes {
                // A node that will never promote must not attract
                // instances, or they would shuffle.
                if !self.available(n, None) {
                    continue;
                }
                let (score, _) = self.promotion_score(child, n);
                if score > 0
                    && let Some(slot) = self.state_mut(child).allowed.get_mut(&n)
                {
                    slot.weight = add(slot.weight, score);
                }
                if score > self.state(child).priority {
                    self.state_mut(child).priority = score;
                }
            }
        }
    }

    /// The promotion score of instance `r` on `n` (a cloned group's is the
    /// sum of its members'), and whether none was set.
    fn promotion_score(&self, r: RscIdx, n: NodeIdx) -> (i32, bool) {
        if !self.cluster.rsc(r).is_primitive() {
            let mut score = 0i32;
            let mut unset = true;
            for &m in &self.state(r).children {
                let (s, member_unset) = self.promotion_score(m, n);
                unset &= member_unset;
                score = score.saturating_add(s);
            }
            return (score, unset);
        }
        if !self.promotion_score_applies(r, n) {
            return (0, true);
        }
        let rsc = self.cluster.rsc(r);
        let attrs = &self.cluster.node(n).attrs;
        let name = rsc.status.history_id.as_deref().unwrap_or(&rsc.id);
        let mut value = attrs.get(&format!("master-{name}"));
        if value.is_none() && !self.is_unique(r) && rsc.base_id != rsc.id {
            value = attrs.get(&format!("master-{}", rsc.base_id));
        }
        match value {
            Some(v) => (v.parse::<Score>().map_or(0, Score::value), false),
            None => (0, true),
        }
    }

    /// Whether `r`'s promotion score on `n` counts: where it runs, where
    /// it (or for anonymous clones, any instance with none active there)
    /// was probed, or anywhere while nothing was probed at all; and only
    /// where it is allowed.
    fn promotion_score_applies(&self, r: RscIdx, n: NodeIdx) -> bool {
        let rsc = self.cluster.rsc(r);
        let allowed = || self.state(r).allowed.get(&n).is_some_and(|s| s.weight >= 0);
        if !self.is_unique(r) {
            let clone = self.uber_parent(r);
            let same_primitive = |m: RscIdx| self.cluster.rsc(m).base_id == rsc.base_id;
            let mut prims = Vec::new();
            self.cluster.collect_primitives(clone, &mut prims);
            prims.retain(|&m| same_primitive(m));
            let active = prims.iter().copied().find(|&m| {
                self.cluster
                    .rsc(m)
                    .status
                    .running
                    .iter()
                    .any(|(x, _)| *x == n)
            });
            if active == Some(r) {
                return allowed();
            }
            if active.is_none()
                && prims
                    .iter()
                    .any(|&m| self.cluster.rsc(m).status.known_on.contains(&n))
            {
                return allowed();
            }
        }
        let status = &rsc.status;
        if status.running.is_empty() && status.known_on.is_empty() {
            return allowed();
        }
        if status.known_on.contains(&n) || status.running.iter().any(|(x, _)| *x == n) {
            return allowed();
        }
        false
    }

    /// Chooses which placed instances of `clone` are promoted.
    pub(super) fn set_instance_roles(&mut self, clone: RscIdx) {
        for slot in self.state_mut(clone).allowed.values_mut() {
            slot.count = 0;
        }
        for child in self.state(clone).children.clone() {
            self.set_instance_priority(child, clone);
        }
        self.sort_for_promotion(clone);
        let mut promoted = 0usize;
        for child in self.state(clone).children.clone() {
            self.set_instance_role(child, clone, &mut promoted);
        }
    }

    /// `r` and everything in it stay unpromoted where placed (stopped
    /// where not).
    fn set_unpromoted(&mut self, r: RscIdx) {
        let role = if self.any_placed(r) {
            Role::Unpromoted
        } else {
            Role::Stopped
        };
        self.set_next_role(r, role);
        for c in self.state(r).children.clone() {
            self.set_unpromoted(c);
        }
    }

    /// `r` and everything in it without a role yet are promoted.
    fn set_promoted(&mut self, r: RscIdx) {
        if self.state(r).next_role.is_none() {
            self.set_next_role(r, Role::Promoted);
        }
        for c in self.state(r).children.clone() {
            self.set_promoted(c);
        }
    }

    fn any_placed(&self, r: RscIdx) -> bool {
        let mut prims = Vec::new();
        self.cluster.collect_primitives(r, &mut prims);
        prims.iter().any(|&p| self.state(p).placed.is_some())
    }

    fn set_current_unpromoted(&mut self, r: RscIdx) {
        if self.state(r).role == Some(Role::Started) {
            self.state_mut(r).role = Some(Role::Unpromoted);
        }
        for c in self.state(r).children.clone() {
            self.set_current_unpromoted(c);
        }
    }

    fn set_instance_priority(&mut self, instance: RscIdx, clone: RscIdx) {
        if self.role_of(instance, true) == Some(Role::Started) {
            self.set_current_unpromoted(instance);
        }
        let Some(chosen) = self.assigned_node(instance) else {
            // Placed nowhere, it cannot be promoted.
            self.state_mut(instance).sort_index = -INFINITY;
            return;
        };
        let next_role = self.role_of(instance, false);
        match next_role {
            None | Some(Role::Started) => {
                let (score, unset) = self.promotion_score(instance, chosen.node);
                // Without a score only constraints can make it promotable.
                self.state_mut(instance).priority = if unset { -1 } else { score };
            }
            Some(Role::Unpromoted | Role::Stopped) => {
                self.state_mut(instance).priority = -INFINITY;
            }
            Some(Role::Promoted) => {}
        }
        for l in &self.cluster.locations {
            if l.promoted_only && l.node == chosen.node && (l.rsc == instance || l.rsc == clone) {
                let s = self.state_mut(instance);
                s.priority = add(s.priority, l.score.value());
            }
        }
        for c in self.state(instance).this_with.clone() {
            let primary = self.colocs[c].primary;
            self.apply_coloc_score(instance, primary, c, true);
        }
        let s = self.state_mut(instance);
        s.sort_index = if next_role == Some(Role::Promoted) {
            INFINITY
        } else {
            s.priority
        };
    }

    /// Folds the instances' priorities and the promoted-role colocations
    /// into the clone's node weights, takes each instance's node weight as
    /// its final priority, and sorts the instances by it.
    fn sort_for_promotion(&mut self, clone: RscIdx) {
        if self.state(clone).promotion_sorted {
            return;
        }
        self.state_mut(clone).promotion_sorted = true;
        self.state_mut(clone).merging = true;
        for child in self.state(clone).children.clone() {
            let index = self.state(child).sort_index;
            if index < 0 {
                continue;
            }
            if let Some(chosen) = self.assigned_node(child)
                && let Some(slot) = self.state_mut(clone).allowed.get_mut(&chosen.node)
            {
                slot.weight = add(index, slot.weight);
            }
        }
        for c in self.state(clone).this_with.clone() {
            let co = self.colocs[c].clone();
            if co.dependent_role != Some(Role::Promoted) {
                continue;
            }
            let select = Select {
                active: co.score < INFINITY,
                ..Select::default()
            };
            self.merge_into_clone(clone, co.primary, co.score, select);
        }
        for c in self.state(clone).with_this.clone() {
            let co = self.colocs[c].clone();
            if co.primary_role != Some(Role::Promoted) || !self.has_influence(c, None) {
                continue;
            }
            let select = Select {
                active: true,
                nonnegative: true,
                ..Select::default()
            };
            self.merge_into_clone(clone, co.dependent, co.score, select);
        }
        for child in self.state(clone).children.clone() {
            let unmanaged_promoted =
                !self.state(child).managed && self.state(child).next_role == Some(Role::Promoted);
            if unmanaged_promoted {
                self.state_mut(child).sort_index = INFINITY;
            } else if let Some(chosen) = self.assigned_node(child)
                && self.state(child).sort_index >= 0
            {
                let weight = self
                    .state(clone)
                    .allowed
                    .get(&chosen.node)
                    .map_or(0, |s| s.weight);
                self.state_mut(child).sort_index = weight;
            }
        }
        let mut children = self.state(clone).children.clone();
        let by_colocation = self.colocation_scores_where_running(&children);
        children.sort_by(|&a, &b| {
            let (sa, sb) = (self.state(a).sort_index, self.state(b).sort_index);
            sb.cmp(&sa)
                .then_with(|| self.role_of(b, true).cmp(&self.role_of(a, true)))
                .then_with(|| self.cmp_instance(a, b, &by_colocation))
        });
        self.state_mut(clone).children = children;
        self.state_mut(clone).merging = false;
    }

    fn merge_into_clone(&mut self, clone: RscIdx, other: RscIdx, score: i32, select: Select) {
        #[allow(clippy::cast_precision_loss)]
        let factor = score as f32 / INFINITY as f32;
        let mut table = Some(self.state(clone).allowed.clone());
        self.add_colocated_node_scores(other, &mut table, factor, select);
        if let Some(t) = table {
            self.state_mut(clone).allowed = t;
        }
    }

    fn set_instance_role(&mut self, instance: RscIdx, clone: RscIdx, promoted: &mut usize) {
        self.record_promotion(instance);
        let promoted_max = self.clone_info(clone).map_or(0, |c| c.promoted_max);
        let chosen = if self.state(instance).sort_index < 0 {
            None
        } else if *promoted < promoted_max || !self.state(clone).managed {
            self.node_to_be_promoted_on(instance)
        } else {
            None
        };
        let Some(node) = chosen else {
            self.set_unpromoted(instance);
            return;
        };
        if self.role_of(instance, true) < Some(Role::Promoted)
            && !self.cluster.have_quorum
            && self.cluster.options.no_quorum_policy == NoQuorumPolicy::Freeze
        {
            self.set_unpromoted(instance);
            return;
        }
        if let Some(slot) = self.state_mut(clone).allowed.get_mut(&node) {
            slot.count += 1;
        }
        self.set_promoted(instance);
        *promoted += 1;
    }

    /// The node `r` can be promoted on, if any: where it is placed, with
    /// a non-negative priority, usable, and with room for another promoted
    /// instance (a cloned group's members must all qualify).
    fn node_to_be_promoted_on(&self, r: RscIdx) -> Option<NodeIdx> {
        for &c in &self.state(r).children {
            self.node_to_be_promoted_on(c)?;
        }
        let node = self.assigned_node(r)?.node;
        let managed = self.state(r).managed;
        if !managed {
            if self.role_of(r, true) != Some(Role::Promoted) {
                return None;
            }
        } else if self.state(r).priority < 0 || !self.available(node, None) {
            return None;
        }
        let clone = self.uber_parent(r);
        let slot = self.state(clone).allowed.get(&node)?;
        let per_node = self.clone_info(clone).map_or(0, |c| c.promoted_node_max);
        if managed && slot.count as usize >= per_node {
            return None;
        }
        Some(node)
    }
}
