//! The working set before anything is assigned: every resource allowed on
//! every node with weight 0 (in a symmetric cluster), then location
//! constraints, node health, stickiness where a resource runs, bans
//! (failures, migration-threshold, tickets, removed resources) and
//! exclusive discovery; and the colocations each resource takes part in,
//! including each group member's with the member before it.

use std::collections::BTreeMap;

use super::Assignment;
use super::colocation::Coloc;
use super::engine::{Engine, INFINITY, RscState, Slot};
use crate::unpack::{Cluster, Discovery, MultipleActive, NodeIdx, OnFail, Role, RscIdx, RscKind};

impl<'c> Engine<'c> {
    pub fn new(cluster: &'c Cluster, record_scores: bool) -> Engine<'c> {
        let all_nodes: BTreeMap<NodeIdx, Slot> = (0..cluster.nodes.len())
            .map(|n| {
                (
                    NodeIdx(n),
                    Slot {
                        weight: 0,
                        count: 0,
                    },
                )
            })
            .collect();
        let rs = (0..cluster.rscs.len())
            .map(|i| initial_state(cluster, RscIdx(i), &all_nodes))
            .collect();
        let mut eng = Engine {
            cluster,
            rs,
            colocs: Vec::new(),
            num_resources: vec![0; cluster.nodes.len()],
            capacity: cluster.nodes.iter().map(|n| n.capacity.0.clone()).collect(),
            out: Assignment {
                record_scores,
                ..Assignment::default()
            },
        };
        eng.apply_locations();
        eng.pin_unmanaged();
        eng.apply_stickiness();
        eng.apply_bans();
        eng.apply_exclusive_discovery();
        eng.add_colocations();
        eng
    }

    /// Location constraints (and node health, which applies in full to
    /// everything inside a resource).
    fn apply_locations(&mut self) {
        let cluster = self.cluster;
        for l in &cluster.locations {
            // The promoted role is not known yet: those weigh promotion.
            if l.promoted_only {
                continue;
            }
            if l.recursive {
                self.add_node_score(l.rsc, l.node, l.score.value());
            } else {
                self.apply_location(l.rsc, l.node, l.score.value());
            }
        }
        for &(r, n, mode) in &cluster.discovery {
            self.apply_discovery(r, n, mode);
        }
    }

    /// A constraint's score on a resource: a clone passes it to each
    /// instance; a group gives it to its first member only (the others
    /// follow the first), though every member is allowed on the node.
    fn apply_location(&mut self, r: RscIdx, n: NodeIdx, score: i32) {
        let slot = self.state_mut(r).allowed.entry(n).or_insert(Slot {
            weight: 0,
            count: 0,
        });
        slot.weight = super::engine::add(slot.weight, score);
        let children = self.state(r).children.clone();
        match &self.cluster.rsc(r).kind {
            RscKind::Primitive => {}
            RscKind::Group { .. } => {
                for (i, m) in children.into_iter().enumerate() {
                    self.apply_location(m, n, if i == 0 { score } else { 0 });
                }
            }
            RscKind::Clone(_) => {
                for c in children {
                    self.apply_location(c, n, score);
                }
            }
        }
    }

    fn apply_discovery(&mut self, r: RscIdx, n: NodeIdx, mode: Discovery) {
        let s = self.state_mut(r);
        s.allowed.entry(n).or_insert(Slot {
            weight: 0,
            count: 0,
        });
        if mode == Discovery::Exclusive {
            s.exclusive_discover = true;
        }
        let strongest = s.discover.get(&n).map_or(mode, |&m| stronger(m, mode));
        s.discover.insert(n, strongest);
        for c in self.state(r).children.clone() {
            self.apply_discovery(c, n, mode);
        }
    }

    /// An unmanaged primitive belongs where it runs; one active on several
    /// nodes that is only to be stopped belongs nowhere.
    fn pin_unmanaged(&mut self) {
        let cluster = self.cluster;
        for p in cluster.primitives() {
            let rsc = cluster.rsc(p);
            if !rsc.meta.managed {
                for &(n, _) in &rsc.status.running {
                    self.add_node_score(p, n, INFINITY);
                }
            } else if rsc.status.running.len() > 1
                && rsc.meta.multiple_active == MultipleActive::StopOnly
            {
                for slot in self.state_mut(p).allowed.values_mut() {
                    slot.weight = -INFINITY;
                }
            }
        }
    }

    /// A managed resource active on exactly one node prefers to stay.
    fn apply_stickiness(&mut self) {
        let cluster = self.cluster;
        for p in cluster.primitives() {
            let rsc = cluster.rsc(p);
            let stickiness = rsc.meta.stickiness.value();
            if !rsc.meta.managed || stickiness < 1 || rsc.status.running.len() != 1 {
                continue;
            }
            let node = rsc.status.running[0].0;
            // In an asymmetric cluster it stays only where still allowed.
            if !cluster.options.symmetric && !self.state(p).allowed.contains_key(&node) {
                continue;
            }
            self.add_node_score(p, node, stickiness);
        }
    }

    /// Failures and tickets ban a primitive (or, for an anonymous clone
    /// instance, the whole clone) from nodes; a stop failure bans only the
    /// primitive; a removed resource is banned everywhere.
    fn apply_bans(&mut self) {
        let cluster = self.cluster;
        for p in cluster.primitives() {
            let rsc = cluster.rsc(p);
            let target = if self.is_unique(p) {
                p
            } else {
                self.uber_parent(p)
            };
            for &n in &rsc.status.banned {
                self.add_node_score(target, n, -INFINITY);
            }
            for &n in &rsc.status.stop_failed_on {
                self.add_node_score(p, n, -INFINITY);
            }
            if rsc.status.stopped_by_failure {
                self.add_score_everywhere(target, -INFINITY);
            }
            if rsc.orphan && cluster.options.stop_removed_resources {
                self.add_score_everywhere(p, -INFINITY);
            }
        }
    }

    /// Where a location limits discovery to some nodes, the others are out.
    fn apply_exclusive_discovery(&mut self) {
        let cluster = self.cluster;
        for &top in &cluster.top {
            let exclusive_top = self.state(top).exclusive_discover;
            self.exclude_undiscovered(top, exclusive_top);
        }
    }

    fn exclude_undiscovered(&mut self, r: RscIdx, exclusive_top: bool) {
        if !(exclusive_top || self.state(r).exclusive_discover) {
            return;
        }
        for c in self.state(r).children.clone() {
            self.exclude_undiscovered(c, exclusive_top);
        }
        let s = self.state_mut(r);
        let discover = s.discover.clone();
        for (n, slot) in s.allowed.iter_mut() {
            if discover.get(n) != Some(&Discovery::Exclusive) {
                slot.weight = -INFINITY;
            }
        }
    }

    /// The configured colocations, then each group member's mandatory
    /// colocation with the member before it.
    fn add_colocations(&mut self) {
        let cluster = self.cluster;
        for c in &cluster.colocations {
            if c.score.value() == 0 {
                continue;
            }
            self.add_colocation(Coloc {
                dependent: c.dependent,
                primary: c.primary,
                score: c.score.value(),
                dependent_role: c.dependent_role,
                primary_role: c.primary_role,
                influence: true,
            });
        }
        for top in self.allocation_order() {
            self.add_group_colocations(top);
        }
    }

    fn add_group_colocations(&mut self, r: RscIdx) {
        let children = self.state(r).children.clone();
        if self.is_group(r) {
            for pair in children.windows(2) {
                self.add_colocation(Coloc {
                    dependent: pair[1],
                    primary: pair[0],
                    score: INFINITY,
                    dependent_role: None,
                    primary_role: None,
                    influence: true,
                });
            }
            return;
        }
        for c in children {
            self.add_group_colocations(c);
        }
    }

    fn add_colocation(&mut self, c: Coloc) {
        let (dependent, primary) = (c.dependent, c.primary);
        self.colocs.push(c);
        let i = self.colocs.len() - 1;
        self.add_this_with(dependent, i);
        self.add_with_this(primary, i);
    }

    /// Top-level resources, highest priority first (configuration order
    /// breaking ties).
    pub fn allocation_order(&self) -> Vec<RscIdx> {
        let mut order = self.cluster.top.clone();
        order.sort_by_key(|&r| std::cmp::Reverse(self.cluster.rsc(r).meta.priority));
        order
    }
}

fn stronger(a: Discovery, b: Discovery) -> Discovery {
    if a == Discovery::Exclusive || b == Discovery::Exclusive {
        Discovery::Exclusive
    } else {
        Discovery::Never
    }
}

fn initial_state(cluster: &Cluster, r: RscIdx, all_nodes: &BTreeMap<NodeIdx, Slot>) -> RscState {
    let rsc = cluster.rsc(r);
    let children = match &rsc.kind {
        RscKind::Primitive => Vec::new(),
        RscKind::Group { members } => members.clone(),
        RscKind::Clone(info) => info.instances.clone(),
    };
    let promotable_top = matches!(
        &cluster.rsc(cluster.top_of(r)).kind,
        RscKind::Clone(info) if info.promotable
    );
    // A failure's on-fail can hold it down (stop) or back (demote);
    // target-role can only lower that.
    let mut next_role = match rsc.status.on_fail {
        OnFail::Stop if rsc.status.failed => Some(Role::Stopped),
        OnFail::Demote => Some(Role::Unpromoted),
        _ => None,
    };
    let requested = match rsc.meta.target_role {
        Some(Role::Stopped) => Some(Role::Stopped),
        Some(Role::Unpromoted) if promotable_top => Some(Role::Unpromoted),
        _ => None,
    };
    if requested.is_some() && (next_role.is_none() || requested < next_role) {
        next_role = requested;
    }
    let role = rsc.is_primitive().then(|| rsc.status.role());
    RscState {
        allowed: if cluster.options.symmetric {
            all_nodes.clone()
        } else {
            BTreeMap::new()
        },
        provisional: true,
        allocating: false,
        merging: false,
        placed: None,
        role,
        next_role,
        priority: rsc.meta.priority,
        sort_index: 0,
        this_with: Vec::new(),
        with_this: Vec::new(),
        children,
        // A resource whose failure blocks it is left alone.
        managed: rsc.meta.managed && !rsc.status.blocked,
        exclusive_discover: false,
        discover: BTreeMap::new(),
        promotion_added: false,
        promotion_sorted: false,
    }
}
