//! The resource tree (primitives, groups, clones with their instances
//! expanded) and the constraints between resources.

use baton_cib::model::{Constraint, Resource, parse_bool};
use baton_cib::{Cib, Score};
use std::collections::BTreeMap;

use super::history::{Role, RscStatus};
use super::rules;
use super::{Cluster, ColocationCons, LocationPref, NodeIdx, OrderCons, RscIdx};
use crate::SchedulerError;

/// Effective meta attributes after inheritance (own, then parents, then
/// `rsc_defaults`).
#[derive(Debug, Clone)]
pub struct RscMeta {
    pub priority: i32,
    pub stickiness: Score,
    /// `None` means Started (the default).
    pub target_role: Option<Role>,
    pub managed: bool,
    /// 0 disables the threshold.
    pub migration_threshold: i64,
    pub failure_timeout_s: i64,
}

#[derive(Debug, Clone)]
pub struct CloneInfo {
    pub instances: Vec<RscIdx>,
    pub clone_max: usize,
    pub clone_node_max: usize,
    pub promotable: bool,
    pub promoted_max: usize,
    pub promoted_node_max: usize,
    pub unique: bool,
    pub interleave: bool,
}

#[derive(Debug, Clone)]
pub enum RscKind {
    Primitive,
    Group { members: Vec<RscIdx> },
    Clone(CloneInfo),
}

#[derive(Debug, Clone)]
pub struct Rsc {
    /// Printed id: clone instances carry `:N`.
    pub id: String,
    /// Configured id (without the instance suffix), used for history and
    /// fail-count lookups.
    pub base_id: String,
    pub kind: RscKind,
    pub parent: Option<RscIdx>,
    pub class: String,
    pub meta: RscMeta,
    pub status: RscStatus,
    /// Configured `on-fail` by (operation, interval ms).
    pub on_fail: BTreeMap<(String, u64), String>,
    /// In the history but no longer configured.
    pub orphan: bool,
}

impl Rsc {
    pub fn is_primitive(&self) -> bool {
        matches!(self.kind, RscKind::Primitive)
    }
}

/// Meta attribute lookup through the inheritance chain.
struct MetaChain<'a> {
    own: Vec<BTreeMap<String, String>>,
    defaults: &'a BTreeMap<String, String>,
}

impl MetaChain<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.own
            .iter()
            .find_map(|m| m.get(name))
            .or_else(|| self.defaults.get(name))
            .map(String::as_str)
    }
}

fn meta_map(r: Resource<'_>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for set in r.meta_attributes().filter(|s| s.rule().is_none()) {
        for p in set.pairs() {
            if let Some(v) = p.value() {
                m.entry(p.name().to_owned()).or_insert(v.to_owned());
            }
        }
    }
    m
}

fn parse_role(s: &str) -> Option<Role> {
    match s.to_ascii_lowercase().as_str() {
        "stopped" => Some(Role::Stopped),
        "started" => Some(Role::Started),
        "unpromoted" | "slave" => Some(Role::Unpromoted),
        "promoted" | "master" => Some(Role::Promoted),
        _ => None,
    }
}

fn score_or(v: Option<&str>, default: Score) -> Score {
    v.and_then(|s| s.parse::<Score>().ok()).unwrap_or(default)
}

fn duration_s(v: Option<&str>) -> i64 {
    v.and_then(|s| baton_cib::duration::parse_duration_ms(s).ok())
        .map_or(0, |ms| i64::try_from(ms / 1000).unwrap_or(i64::MAX))
}

fn build_meta(chain: &MetaChain<'_>, cluster: &Cluster, in_clone: bool) -> RscMeta {
    let default_stick = if in_clone {
        Score::new(1)
    } else {
        cluster.options.legacy_stickiness.unwrap_or(Score::ZERO)
    };
    let stickiness = score_or(chain.get("resource-stickiness"), default_stick);
    // Like every meta attribute, target-role is inherited only when the
    // resource does not set it itself.
    let target_role = chain.get("target-role").and_then(parse_role);
    let managed = chain.get("is-managed").and_then(parse_bool).unwrap_or(true)
        && !chain
            .get("maintenance")
            .and_then(parse_bool)
            .unwrap_or(false)
        && !cluster.options.maintenance_mode;
    let migration_threshold = chain
        .get("migration-threshold")
        .and_then(|s| s.parse::<Score>().ok())
        .map_or(i64::from(Score::INFINITY_VALUE), |s| i64::from(s.value()));
    RscMeta {
        priority: chain
            .get("priority")
            .and_then(|s| s.parse::<Score>().ok())
            .map_or(0, Score::value),
        stickiness,
        target_role,
        managed,
        migration_threshold,
        failure_timeout_s: duration_s(chain.get("failure-timeout")),
    }
}

fn defaults(cib: &Cib) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for set in cib.rsc_defaults().filter(|s| s.rule().is_none()) {
        for p in set.pairs() {
            if let Some(v) = p.value() {
                m.entry(p.name().to_owned()).or_insert(v.to_owned());
            }
        }
    }
    m
}

struct Builder<'c> {
    defaults: BTreeMap<String, String>,
    cluster: &'c mut Cluster,
}

impl Builder<'_> {
    fn push(&mut self, rsc: Rsc) -> RscIdx {
        let i = RscIdx(self.cluster.rscs.len());
        self.cluster.by_id.entry(rsc.id.clone()).or_insert(i);
        self.cluster.rscs.push(rsc);
        i
    }

    /// Adds `r` (and its children) with the parents' meta maps in `chain`.
    fn add(
        &mut self,
        r: Resource<'_>,
        parent: Option<RscIdx>,
        chain: &[BTreeMap<String, String>],
        suffix: &str,
        in_clone: bool,
    ) -> Option<RscIdx> {
        let mut own = vec![meta_map(r)];
        own.extend(chain.iter().cloned());
        let meta = build_meta(
            &MetaChain {
                own: own.clone(),
                defaults: &self.defaults,
            },
            self.cluster,
            in_clone,
        );
        let base_id = r.id().to_owned();
        let id = format!("{base_id}{suffix}");
        match r {
            Resource::Primitive(p) => {
                let on_fail = p
                    .operations()
                    .filter_map(|op| {
                        let f = op.on_fail()?;
                        Some(((op.name().to_owned(), op.interval_ms().ok()?), f.to_owned()))
                    })
                    .collect();
                Some(self.push(Rsc {
                    id,
                    base_id,
                    kind: RscKind::Primitive,
                    parent,
                    class: p.class().unwrap_or("").to_owned(),
                    meta,
                    status: RscStatus::default(),
                    on_fail,
                    orphan: false,
                }))
            }
            Resource::Group(g) => {
                let me = self.push(Rsc {
                    id,
                    base_id,
                    kind: RscKind::Group {
                        members: Vec::new(),
                    },
                    parent,
                    class: String::new(),
                    meta,
                    status: RscStatus::default(),
                    on_fail: BTreeMap::new(),
                    orphan: false,
                });
                let members: Vec<RscIdx> = g
                    .members()
                    .filter_map(|m| {
                        self.add(Resource::Primitive(m), Some(me), &own, suffix, in_clone)
                    })
                    .collect();
                self.cluster.rscs[me.0].kind = RscKind::Group { members };
                Some(me)
            }
            Resource::Clone(c) => {
                let child = c.child()?;
                let m = &own[0];
                let get = |k: &str| m.get(k).map(String::as_str);
                let node_count = self.cluster.nodes.len();
                let count =
                    |k: &str, d: usize| get(k).and_then(|v| v.parse::<usize>().ok()).unwrap_or(d);
                let promotable = c.is_promotable().unwrap_or(false);
                let info = CloneInfo {
                    instances: Vec::new(),
                    clone_max: count("clone-max", node_count),
                    clone_node_max: count("clone-node-max", 1),
                    promotable,
                    promoted_max: get("promoted-max")
                        .or(get("master-max"))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1),
                    promoted_node_max: get("promoted-node-max")
                        .or(get("master-node-max"))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1),
                    unique: get("globally-unique").and_then(parse_bool).unwrap_or(false),
                    interleave: get("interleave").and_then(parse_bool).unwrap_or(false),
                };
                let max = info.clone_max;
                let me = self.push(Rsc {
                    id,
                    base_id,
                    kind: RscKind::Clone(info),
                    parent,
                    class: String::new(),
                    meta,
                    status: RscStatus::default(),
                    on_fail: BTreeMap::new(),
                    orphan: false,
                });
                let mut instances = Vec::new();
                for n in 0..max {
                    let sfx = format!(":{n}");
                    if let Some(i) = self.add(child, Some(me), &own, &sfx, true) {
                        instances.push(i);
                    }
                }
                if let RscKind::Clone(info) = &mut self.cluster.rscs[me.0].kind {
                    info.instances = instances;
                }
                // Constraints may name the cloned child; they mean the clone.
                self.cluster.by_id.insert(child.id().to_owned(), me);
                Some(me)
            }
            Resource::Template(_) | Resource::Bundle(_) | Resource::Other(_) => None,
        }
    }
}

pub fn read(cib: &Cib, cluster: &mut Cluster) -> Result<(), SchedulerError> {
    let mut b = Builder {
        defaults: defaults(cib),
        cluster,
    };
    for r in cib.resources() {
        if let Some(i) = b.add(r, None, &[], "", false) {
            b.cluster.top.push(i);
        }
    }
    Ok(())
}

fn role_attr(v: Option<&str>) -> Option<Role> {
    v.and_then(parse_role).filter(|r| *r != Role::Started)
}

pub fn read_constraints(cib: &Cib, cluster: &mut Cluster) -> Result<(), SchedulerError> {
    for c in cib.constraints() {
        match c {
            Constraint::Location(l) => {
                let Some(rsc) = l.rsc().and_then(|r| cluster.by_id.get(r).copied()) else {
                    continue;
                };
                let promoted_only = role_attr(l.role()) == Some(Role::Promoted);
                if let Some(node) = l.node() {
                    let (Some(n), Some(score)) = (cluster.node_by_name(node), l.score()?) else {
                        continue;
                    };
                    cluster.locations.push(LocationPref {
                        rsc,
                        node: n,
                        score,
                        promoted_only,
                    });
                    continue;
                }
                for rule in l.rules() {
                    let rule_promoted = role_attr(rule.role()) == Some(Role::Promoted);
                    for n in 0..cluster.nodes.len() {
                        let node = &cluster.nodes[n];
                        if let Some(score) = rules::evaluate(rule, node) {
                            cluster.locations.push(LocationPref {
                                rsc,
                                node: NodeIdx(n),
                                score,
                                promoted_only: promoted_only || rule_promoted,
                            });
                        }
                    }
                }
            }
            Constraint::Colocation(co) => {
                let (Some(d), Some(p)) = (co.rsc(), co.with_rsc()) else {
                    continue;
                };
                let (Some(&dependent), Some(&primary)) =
                    (cluster.by_id.get(d), cluster.by_id.get(p))
                else {
                    continue;
                };
                cluster.colocations.push(ColocationCons {
                    id: co.id().to_owned(),
                    dependent,
                    primary,
                    score: co.score()?.unwrap_or(Score::ZERO),
                    dependent_role: role_attr(co.rsc_role()),
                    primary_role: role_attr(co.with_rsc_role()),
                });
            }
            Constraint::Order(o) => {
                let (Some(f), Some(t)) = (o.first(), o.then()) else {
                    continue;
                };
                let (Some(&first), Some(&then)) = (cluster.by_id.get(f), cluster.by_id.get(t))
                else {
                    continue;
                };
                let mandatory = match o.kind()? {
                    Some(k) => k == baton_cib::model::OrderKind::Mandatory,
                    None => o.score()?.is_none_or(|s| s.value() > 0),
                };
                cluster.orders.push(OrderCons {
                    id: o.id().to_owned(),
                    first,
                    first_action: o.first_action().to_owned(),
                    then,
                    then_action: o.then_action().to_owned(),
                    mandatory,
                    symmetrical: o.symmetrical()?.unwrap_or(true),
                });
            }
            Constraint::Ticket(_) | Constraint::Other(_) => {}
        }
    }
    Ok(())
}
