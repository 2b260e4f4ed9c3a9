//! Colocations during assignment: a dependent's node weights follow where
//! its primary went, a primary's weights lean towards where its
//! dependents would like to be (attenuated by score / INFINITY), and
//! role-specific colocations on promotable clones weigh instances'
//! promotion instead.

use std::cmp::Ordering;

use super::engine::{Engine, INFINITY, Placed, Slot, Table, add};
use crate::unpack::{NodeIdx, Role, RscIdx, RscKind};

/// A weight below -INFINITY: a node a merge must not make negative, kept
/// out of the rest of the merge and finally given weight 1.
const UNUSABLE: i32 = -100 * INFINITY;

#[derive(Debug, Clone)]
pub struct Coloc {
    pub dependent: RscIdx,
    pub primary: RscIdx,
    pub score: i32,
    /// `None`: any role.
    pub dependent_role: Option<Role>,
    pub primary_role: Option<Role>,
    /// Whether the dependent may pull an active primary towards it.
    pub influence: bool,
}

/// Which colocations a merge of node scores follows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Select {
    /// Those where the resource is the dependent (else the primary).
    pub this_with: bool,
    /// Never turn a node's weight negative.
    pub nonnegative: bool,
    /// Roll back when the merge would leave no node available.
    pub active: bool,
}

/// What a colocation can still change at this point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Affects {
    Nothing,
    Location,
    Role,
}

fn variant(eng: &Engine<'_>, r: RscIdx) -> u8 {
    match eng.cluster.rsc(r).kind {
        RscKind::Primitive => 0,
        RscKind::Group { .. } => 1,
        RscKind::Clone(_) => 2,
    }
}

/// Order of importance of two resources a resource is colocated with:
/// priority, then clones before groups before primitives, promotable
/// clones first, then by id.
fn cmp_other(eng: &Engine<'_>, a: RscIdx, b: RscIdx) -> Ordering {
    let (pa, pb) = (eng.state(a).priority, eng.state(b).priority);
    pb.cmp(&pa)
        .then_with(|| variant(eng, b).cmp(&variant(eng, a)))
        .then_with(|| {
            if variant(eng, a) == 2 {
                eng.is_promotable(b).cmp(&eng.is_promotable(a))
            } else {
                Ordering::Equal
            }
        })
        .then_with(|| eng.name(a).as_bytes().cmp(eng.name(b).as_bytes()))
}

/// Inserts `c` before the first entry that does not sort before it.
fn insert_sorted(
    eng: &Engine<'_>,
    list: &[usize],
    c: usize,
    key: impl Fn(usize) -> RscIdx,
) -> usize {
    list.iter()
        .position(|&other| cmp_other(eng, key(c), key(other)) != Ordering::Greater)
        .unwrap_or(list.len())
}

impl Engine<'_> {
    /// Records that `r` is the dependent in colocation `c`.
    pub fn add_this_with(&mut self, r: RscIdx, c: usize) {
        let key = |i: usize| self.colocs[i].primary;
        let at = insert_sorted(self, &self.state(r).this_with, c, key);
        self.state_mut(r).this_with.insert(at, c);
    }

    /// Records that `r` is the primary in colocation `c`.
    pub fn add_with_this(&mut self, r: RscIdx, c: usize) {
        let key = |i: usize| self.colocs[i].dependent;
        let at = insert_sorted(self, &self.state(r).with_this, c, key);
        self.state_mut(r).with_this.insert(at, c);
    }

    /// Whether `c`'s dependent may pull `rsc` (its primary by default).
    pub fn has_influence(&self, c: usize, rsc: Option<RscIdx>) -> bool {
        let rsc = rsc.unwrap_or(self.colocs[c].primary);
        self.colocs[c].influence || self.running_on(rsc).is_empty()
    }

    fn affects(&self, dependent: RscIdx, primary: RscIdx, c: usize, preview: bool) -> Affects {
        let co = &self.colocs[c];
        if !preview && self.state(primary).provisional {
            return Affects::Nothing;
        }
        if co.dependent_role >= Some(Role::Unpromoted)
            && self
                .parent(dependent)
                .is_some_and(|p| self.in_promotable(p))
            && !self.state(dependent).provisional
        {
            return Affects::Role;
        }
        if !preview && !self.state(dependent).provisional {
            return Affects::Nothing;
        }
        let dep_next = self.state(dependent).next_role;
        let prim_next = self.state(primary).next_role;
        if co.score > 0 {
            if co.dependent_role.is_some() && co.dependent_role != dep_next {
                return Affects::Nothing;
            }
            if co.primary_role.is_some() && co.primary_role != prim_next {
                return Affects::Nothing;
            }
        }
        if co.score < 0 {
            if co.dependent_role.is_some() && co.dependent_role == dep_next {
                return Affects::Nothing;
            }
            if co.primary_role.is_some() && co.primary_role == prim_next {
                return Affects::Nothing;
            }
        }
        Affects::Location
    }

    /// Whether colocation `c` makes `dependent` move with `primary`
    /// (ignoring how far assignment got), for capacity planning.
    pub fn affects_location_preview(&self, dependent: RscIdx, primary: RscIdx, c: usize) -> bool {
        self.affects(dependent, primary, c, true) == Affects::Location
    }

    /// The dependent's weights after its (assigned) primitive primary.
    fn apply_to_weights(&mut self, dependent: RscIdx, primary: RscIdx, c: usize) {
        let score = self.colocs[c].score;
        let primary_node = self.state(primary).placed.map(|p| p.node);
        if primary_node.is_none() && score < 0 {
            return;
        }
        let mut work = self.state(dependent).allowed.clone();
        for (&n, slot) in work.iter_mut() {
            match primary_node {
                None => slot.weight = add(-score, slot.weight),
                Some(p) if p == n => {
                    if score < INFINITY {
                        slot.weight = add(score, slot.weight);
                    }
                }
                Some(_) if score >= INFINITY => slot.weight = add(-score, slot.weight),
                Some(_) => {}
            }
        }
        if score <= -INFINITY || score >= INFINITY || self.any_available(&work) {
            self.state_mut(dependent).allowed = work;
        }
    }

    /// The dependent instance's promotion priority after its primary.
    fn apply_to_priority(&mut self, dependent: RscIdx, primary: RscIdx, c: usize) {
        let co = self.colocs[c].clone();
        let (Some(pn), Some(dn)) = (self.state(primary).placed, self.state(dependent).placed)
        else {
            return;
        };
        if pn.node != dn.node {
            if co.score == INFINITY && co.dependent_role == Some(Role::Promoted) {
                self.state_mut(dependent).priority = -INFINITY;
            }
            return;
        }
        if co.primary_role.is_some() && co.primary_role != self.state(primary).next_role {
            return;
        }
        let sign = if co.dependent_role == Some(Role::Unpromoted) {
            -1
        } else {
            1
        };
        let s = self.state_mut(dependent);
        s.priority = add(sign * co.score, s.priority);
    }

    /// Applies colocation `c` between `dependent` and `primary`: on behalf
    /// of the dependent (`for_dependent`, which may be a group) or of the
    /// primary (the dependent then being a primitive).
    pub fn apply_coloc_score(
        &mut self,
        dependent: RscIdx,
        primary: RscIdx,
        c: usize,
        for_dependent: bool,
    ) {
        if for_dependent {
            match &self.cluster.rsc(dependent).kind {
                RscKind::Group { .. } => {
                    // The first member carries the group; the internal
                    // colocations bring the others along.
                    if let Some(first) = self.first_child(dependent) {
                        self.apply_coloc_score(first, primary, c, true);
                    }
                }
                _ => self.apply_coloc_score(dependent, primary, c, false),
            }
            return;
        }
        match &self.cluster.rsc(primary).kind {
            RscKind::Primitive => match self.affects(dependent, primary, c, false) {
                Affects::Role => self.apply_to_priority(dependent, primary, c),
                Affects::Location => self.apply_to_weights(dependent, primary, c),
                Affects::Nothing => {}
            },
            RscKind::Group { .. } => {
                if self.state(primary).provisional {
                    return;
                }
                // All of a group must be there for a mandatory colocation;
                // for an optional one its start is enough.
                let member = if self.colocs[c].score >= INFINITY {
                    self.last_child(primary)
                } else {
                    self.first_child(primary)
                };
                if let Some(m) = member {
                    self.apply_coloc_score(dependent, m, c, false);
                }
            }
            RscKind::Clone(_) => self.with_clone(dependent, primary, c),
        }
    }

    /// A primitive colocated with a clone.
    fn with_clone(&mut self, dependent: RscIdx, primary: RscIdx, c: usize) {
        let co = self.colocs[c].clone();
        if self.is_promotable(primary) {
            if self.state(primary).provisional {
                return;
            }
            if co.primary_role.is_some() {
                if self.state(dependent).provisional {
                    self.follow_promotable(primary, dependent, c);
                    return;
                }
                if co.dependent_role == Some(Role::Promoted) {
                    self.promotion_follows_promotable(primary, dependent, c);
                    return;
                }
            }
        }
        let interleave = self.clone_info(co.dependent).is_some_and(|d| {
            d.interleave
                && self
                    .clone_info(co.primary)
                    .is_some_and(|p| p.clone_node_max == d.clone_node_max)
        });
        if self.state(primary).provisional {
            return;
        }
        if interleave {
            match self.compatible_child(dependent, primary, None) {
                Some(instance) => self.apply_coloc_score(dependent, instance, c, true),
                None if co.score >= INFINITY => self.assign_everything(dependent, None, true),
                None => {}
            }
            return;
        }
        if co.score >= INFINITY {
            let affected: Vec<Placed> = self
                .state(primary)
                .children
                .clone()
                .into_iter()
                .filter(|&i| !self.is_blocked(i))
                .filter_map(|i| self.assigned_node(i))
                .collect();
            let table = &mut self.rs[dependent.0].allowed;
            exclude(table, &affected, false);
            return;
        }
        for instance in self.state(primary).children.clone() {
            self.apply_coloc_score(dependent, instance, c, false);
        }
    }

    /// A dependent being placed, colocated with one role of a promotable
    /// clone: it leans towards (or must be on) the nodes where instances
    /// will have that role.
    fn follow_promotable(&mut self, primary: RscIdx, dependent: RscIdx, c: usize) {
        let co = self.colocs[c].clone();
        let mut affected = Vec::new();
        for instance in self.state(primary).children.clone() {
            let Some(node) = self.assigned_node(instance) else {
                continue;
            };
            if self.role_of(instance, false) != co.primary_role {
                continue;
            }
            if co.score < INFINITY
                && let Some(slot) = self.state_mut(dependent).allowed.get_mut(&node.node)
            {
                slot.weight = add(slot.weight, co.score);
            }
            affected.push(node);
        }
        if co.score >= INFINITY
            && (co.dependent_role != Some(Role::Promoted)
                || co.primary_role != Some(Role::Promoted))
        {
            exclude(&mut self.rs[dependent.0].allowed, &affected, true);
        }
    }

    /// A dependent instance whose promotion depends on where a promotable
    /// clone has a role.
    fn promotion_follows_promotable(&mut self, primary: RscIdx, dependent: RscIdx, c: usize) {
        let co = self.colocs[c].clone();
        if self
            .compatible_child(dependent, primary, co.primary_role)
            .is_some()
        {
            let s = self.state_mut(dependent);
            s.priority = add(s.priority, co.score);
        } else if co.score >= INFINITY {
            self.state_mut(dependent).priority = -INFINITY;
        }
    }

    /// The instance of `clone` that is (to be) where `local` is, in the
    /// role asked for; when `local` has no node yet, the best of its nodes
    /// that has one.
    pub fn compatible_child(
        &self,
        local: RscIdx,
        clone: RscIdx,
        role: Option<Role>,
    ) -> Option<RscIdx> {
        if let Some(n) = self.assigned_node(local) {
            return self.compatible_child_on(n.node, clone, role);
        }
        let nodes = self.sorted_nodes(&self.state(local).allowed, None);
        nodes
            .into_iter()
            .find_map(|n| self.compatible_child_on(n.0, clone, role))
    }

    fn compatible_child_on(
        &self,
        node: NodeIdx,
        clone: RscIdx,
        role: Option<Role>,
    ) -> Option<RscIdx> {
        self.state(clone).children.iter().copied().find(|&child| {
            if role.is_some() && self.role_of(child, false) != role {
                return false;
            }
            !self.is_blocked(child) && self.assigned_node(child).is_some_and(|p| p.node == node)
        })
    }

    /// Merges into `nodes` the weights of `rsc` (scaled by `factor`) and,
    /// following its colocations, of the resources colocated with it. With
    /// no table yet, starts from `rsc`'s own.
    pub fn add_colocated_node_scores(
        &mut self,
        rsc: RscIdx,
        nodes: &mut Option<Table>,
        factor: f32,
        select: Select,
    ) {
        if self.state(rsc).merging {
            return;
        }
        self.state_mut(rsc).merging = true;
        let work = if self.is_group(rsc) {
            self.init_group_merge(rsc, nodes, factor, select)
        } else {
            Some(match nodes {
                None => self.state(rsc).allowed.clone(),
                Some(table) => {
                    let mut work = table.clone();
                    self.add_matching_scores(&mut work, rsc, factor, select.nonnegative);
                    work
                }
            })
        };
        let Some(mut work) = work else {
            self.state_mut(rsc).merging = false;
            return;
        };
        if self.any_available(&work) {
            let list = if select.this_with {
                self.state(rsc).this_with.clone()
            } else if self.is_group(rsc) {
                self.last_child(rsc)
                    .map(|l| self.state(l).with_this.clone())
                    .unwrap_or_default()
            } else {
                self.state(rsc).with_this.clone()
            };
            let sign: f32 = if factor < 0.0 { -1.0 } else { 1.0 };
            for c in list {
                let other = if select.this_with {
                    self.colocs[c].primary
                } else if !self.has_influence(c, None) {
                    continue;
                } else {
                    self.colocs[c].dependent
                };
                #[allow(clippy::cast_precision_loss)]
                let f = sign * self.colocs[c].score as f32 / INFINITY as f32;
                let mut sub = Some(work);
                self.add_colocated_node_scores(
                    other,
                    &mut sub,
                    f,
                    Select {
                        active: true,
                        ..select
                    },
                );
                work = sub.unwrap_or_default();
            }
        } else if select.active {
            self.state_mut(rsc).merging = false;
            return;
        }
        if select.nonnegative {
            for slot in work.values_mut() {
                if slot.weight == UNUSABLE {
                    slot.weight = 1;
                }
            }
        }
        *nodes = Some(work);
        self.state_mut(rsc).merging = false;
    }

    /// A group merges through its first member (the last, when there is
    /// no table yet): the internal colocations bring the others in.
    fn init_group_merge(
        &mut self,
        rsc: RscIdx,
        nodes: &Option<Table>,
        factor: f32,
        select: Select,
    ) -> Option<Table> {
        let member = if nodes.is_none() {
            self.last_child(rsc)?
        } else {
            self.first_child(rsc)?
        };
        let mut work = nodes.clone();
        self.add_colocated_node_scores(member, &mut work, factor, select);
        work
    }

    /// Adds to each node of `work` `factor` times `rsc`'s weight there.
    fn add_matching_scores(&self, work: &mut Table, rsc: RscIdx, factor: f32, only_positive: bool) {
        for (&n, slot) in work.iter_mut() {
            let score = match self.state(rsc).allowed.get(&n) {
                Some(s) if s.weight > -INFINITY && self.available(n, None) => s.weight,
                _ => -INFINITY,
            };
            if factor < 0.0 && score < 0 {
                continue;
            }
            if slot.weight == UNUSABLE {
                continue;
            }
            #[allow(clippy::cast_precision_loss)]
            let scaled = f64::from(factor * score as f32);
            #[allow(clippy::cast_possible_truncation)]
            let mut weight = if scaled < 0.0 {
                (scaled - 0.5) as i32
            } else {
                (scaled + 0.5) as i32
            };
            // A small factor must not erase a small score altogether.
            if weight == 0 && score != 0 {
                if factor > 0.0 {
                    weight = 1;
                } else if factor < 0.0 {
                    weight = -1;
                }
            }
            let new = add(weight, slot.weight);
            if only_positive && new < 0 && slot.weight > 0 {
                slot.weight = UNUSABLE;
                continue;
            }
            if only_positive && new < 0 && slot.weight == 0 {
                continue;
            }
            slot.weight = new;
        }
    }
}

/// Bans from `table` every node not in `keep` (adding those missing as
/// banned); with `merge`, adds the kept nodes' weights.
fn exclude(table: &mut Table, keep: &[Placed], merge: bool) {
    for (n, slot) in table.iter_mut() {
        match keep.iter().find(|p| p.node == *n) {
            None => slot.weight = -INFINITY,
            Some(p) if merge => slot.weight = add(slot.weight, p.weight),
            Some(_) => {}
        }
    }
    for p in keep {
        table.entry(p.node).or_insert(Slot {
            weight: -INFINITY,
            count: 0,
        });
    }
}
