//! The resource tree (primitives, groups, clones with their instances
//! expanded) and the constraints between resources.

use baton_cib::model::{Constraint, Resource, parse_bool};
use baton_cib::{Cib, Score};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::digest::ParamSet;
use super::history::{Role, RscStatus};
use super::operations::RunConfig;
use super::rules;
use super::sets;
use super::utilization::Utilization;
use super::{Cluster, ColocationCons, Discovery, LocationPref, NodeIdx, OrderCons, RscIdx};
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
    /// In maintenance (itself or the whole cluster): left alone, and its
    /// recurring monitors cancelled.
    pub maintenance: bool,
    /// 0 disables the threshold.
    pub migration_threshold: i64,
    pub failure_timeout_s: i64,
    /// `allow-migrate`: it may move by live migration instead of a stop
    /// and a start.
    pub allow_migrate: bool,
    /// What its starts and promotions need first (`requires`).
    pub requires: Requires,
    /// What to do when it is found active on more than one node.
    pub multiple_active: MultipleActive,
    /// Group members start one after another (`ordered`, inherited from
    /// the group).
    pub ordered: bool,
    /// `allow-unhealthy-nodes`: node health does not keep it away.
    pub allow_unhealthy_nodes: bool,
}

/// `requires`: what a start or promotion must wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Requires {
    /// It may even start without quorum.
    Nothing,
    #[default]
    Quorum,
    /// The fencing of any node it may be active on.
    Fencing,
    /// Fencing, and the node it runs on unfenced.
    Unfencing,
}

impl Requires {
    pub fn fencing(self) -> bool {
        matches!(self, Requires::Fencing | Requires::Unfencing)
    }
}

/// `multiple-active`: recovery of a resource found active on several nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MultipleActive {
    /// Stop it everywhere, then start it once.
    #[default]
    StopStart,
    /// Stop it everywhere.
    StopOnly,
    /// Leave it alone.
    Block,
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
    /// `clone-min`: instances that must run before what is ordered after
    /// the clone may start.
    pub clone_min: usize,
    /// Instances are told before and after each other's actions.
    pub notify: bool,
    /// Instances start and stop one after another, by number.
    pub ordered: bool,
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
    /// Agent, parameters and operations (empty for groups and clones).
    pub run: Arc<RunConfig>,
    pub meta: RscMeta,
    pub status: RscStatus,
    /// Configured `on-fail` by (operation, interval ms).
    pub on_fail: BTreeMap<(String, u64), String>,
    /// In the history but no longer configured.
    pub orphan: bool,
    /// What its parameter digests are computed over; `None` when they
    /// cannot be checked.
    pub params: Option<ParamSet>,
    /// What it needs of a node (`<utilization>`).
    pub utilization: Utilization,
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

pub(super) fn parse_role(s: &str) -> Option<Role> {
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

/// What a start or promotion needs: as configured, else quorum for fence
/// devices and what fencing and unfencing settings imply for the rest.
fn requires(configured: Option<&str>, class: Option<&str>, cluster: &Cluster) -> Requires {
    let fence_device = class == Some("stonith");
    let fencing = cluster.options.fencing_enabled;
    match configured {
        Some("nothing") => Requires::Nothing,
        Some("quorum") => Requires::Quorum,
        Some("fencing") => Requires::Fencing,
        Some("unfencing") if fencing && !fence_device => Requires::Unfencing,
        Some("unfencing") => Requires::Quorum,
        _ if fence_device => Requires::Quorum,
        _ if cluster.options.enable_unfencing => Requires::Unfencing,
        _ if fencing => Requires::Fencing,
        _ if cluster.options.no_quorum_policy == super::NoQuorumPolicy::Ignore => Requires::Nothing,
        _ => Requires::Quorum,
    }
}

fn build_meta(
    chain: &MetaChain<'_>,
    cluster: &Cluster,
    in_clone: bool,
    class: Option<&str>,
) -> RscMeta {
    let default_stick = if in_clone {
        Score::new(1)
    } else {
        cluster.options.legacy_stickiness.unwrap_or(Score::ZERO)
    };
    let stickiness = score_or(chain.get("resource-stickiness"), default_stick);
    // Like every meta attribute, target-role is inherited only when the
    // resource does not set it itself.
    let target_role = chain.get("target-role").and_then(parse_role);
    let maintenance = chain
        .get("maintenance")
        .and_then(parse_bool)
        .unwrap_or(false)
        || cluster.options.maintenance_mode;
    let managed = chain.get("is-managed").and_then(parse_bool).unwrap_or(true) && !maintenance;
    let migration_threshold = chain
        .get("migration-threshold")
        .and_then(|s| s.parse::<Score>().ok())
        .map_or(i64::from(Score::INFINITY_VALUE), |s| i64::from(s.value()));
    RscMeta {
        priority: chain
            .get("priority")
            .and_then(|s| {
                // "2.0" means 2, as C's strtol reads it.
                s.parse::<Score>()
                    .ok()
                    .map(Score::value)
                    .or_else(|| rules::leading_integer(s).and_then(|v| i32::try_from(v).ok()))
            })
            .unwrap_or(0),
        stickiness,
        target_role,
        managed,
        maintenance,
        migration_threshold,
        failure_timeout_s: duration_s(chain.get("failure-timeout")),
        allow_migrate: chain
            .get("allow-migrate")
            .and_then(parse_bool)
            .unwrap_or(false),
        requires: requires(chain.get("requires"), class, cluster),
        ordered: chain.get("ordered").and_then(parse_bool).unwrap_or(true),
        allow_unhealthy_nodes: chain
            .get("allow-unhealthy-nodes")
            .and_then(parse_bool)
            .unwrap_or(false),
        multiple_active: match chain.get("multiple-active") {
            Some("stop_only") => MultipleActive::StopOnly,
            Some("block") => MultipleActive::Block,
            _ => MultipleActive::StopStart,
        },
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
    /// Each primitive's agent, parameters and operations, by id.
    run_configs: BTreeMap<String, Arc<RunConfig>>,
    cluster: &'c mut Cluster,
}

impl Builder<'_> {
    fn push(&mut self, rsc: Rsc) -> RscIdx {
        let i = RscIdx(self.cluster.rscs.len());
        self.cluster.by_id.entry(rsc.id.clone()).or_insert(i);
        self.cluster.rscs.push(rsc);
        self.cluster.index_instance(i);
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
        let class = match r {
            Resource::Primitive(p) => self
                .run_configs
                .get(r.id())
                .map_or(p.class(), |run| Some(run.agent.class.as_str())),
            _ => None,
        };
        let meta = build_meta(
            &MetaChain {
                own: own.clone(),
                defaults: &self.defaults,
            },
            self.cluster,
            in_clone,
            class,
        );
        let base_id = r.id().to_owned();
        let id = format!("{base_id}{suffix}");
        match r {
            Resource::Primitive(p) => {
                let template = p.template().filter(|_| !in_clone);
                let mut on_fail: BTreeMap<(String, u64), String> = p
                    .operations()
                    .filter_map(|op| {
                        let f = op.on_fail()?;
                        Some(((op.name().to_owned(), op.interval_ms().ok()?), f.to_owned()))
                    })
                    .collect();
                // A demote without its own on-fail takes the promoted
                // monitor's (unless that one says demote).
                let promoted_monitor = p.operations().find_map(|op| {
                    let promoted = op.role().and_then(parse_role) == Some(Role::Promoted);
                    (op.name() == "monitor" && promoted)
                        .then(|| op.on_fail())
                        .flatten()
                        .filter(|f| *f != "demote")
                });
                if let Some(f) = promoted_monitor {
                    on_fail
                        .entry(("demote".to_owned(), 0))
                        .or_insert_with(|| f.to_owned());
                }
                let me = self.push(Rsc {
                    id,
                    base_id,
                    kind: RscKind::Primitive,
                    parent,
                    run: self.run_configs.get(p.id()).cloned().unwrap_or_default(),
                    meta,
                    status: RscStatus::default(),
                    on_fail,
                    orphan: false,
                    params: ParamSet::of(p),
                    utilization: Utilization::of(p.element()),
                });
                if let Some(t) = template {
                    self.cluster
                        .aliases
                        .entry(t.to_owned())
                        .or_default()
                        .push(me);
                }
                Some(me)
            }
            Resource::Group(g) => {
                let me = self.push(Rsc {
                    id,
                    base_id,
                    kind: RscKind::Group {
                        members: Vec::new(),
                    },
                    parent,
                    run: Arc::default(),
                    meta,
                    status: RscStatus::default(),
                    on_fail: BTreeMap::new(),
                    orphan: false,
                    params: None,
                    utilization: Utilization::default(),
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
                // Only OCF and fencing agents can tell unique instances
                // apart: a clone of anything else is anonymous, one
                // instance per node.
                let unique_capable = child_classes(child, &self.run_configs)
                    .iter()
                    .all(|c| matches!(c.as_str(), "ocf" | "stonith"));
                let unique = unique_capable
                    && get("globally-unique")
                        .and_then(parse_bool)
                        .unwrap_or(count("clone-node-max", 1) > 1);
                let info = CloneInfo {
                    instances: Vec::new(),
                    clone_max: count("clone-max", node_count),
                    clone_node_max: if unique {
                        count("clone-node-max", 1)
                    } else {
                        1
                    },
                    promotable,
                    promoted_max: get("promoted-max")
                        .or(get("master-max"))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1),
                    promoted_node_max: get("promoted-node-max")
                        .or(get("master-node-max"))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1),
                    unique,
                    interleave: get("interleave").and_then(parse_bool).unwrap_or(false),
                    clone_min: count("clone-min", 0),
                    notify: get("notify").and_then(parse_bool).unwrap_or(false),
                    ordered: get("ordered").and_then(parse_bool).unwrap_or(false),
                };
                let max = info.clone_max;
                let me = self.push(Rsc {
                    id,
                    base_id,
                    kind: RscKind::Clone(info),
                    parent,
                    run: Arc::default(),
                    meta,
                    status: RscStatus::default(),
                    on_fail: BTreeMap::new(),
                    orphan: false,
                    params: None,
                    utilization: Utilization::default(),
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

/// The agent classes of a clone's child (a primitive, or a group's
/// members).
fn child_classes(child: Resource<'_>, run: &BTreeMap<String, Arc<RunConfig>>) -> Vec<String> {
    let class = |id: &str| {
        run.get(id)
            .map_or_else(String::new, |r| r.agent.class.clone())
    };
    match child {
        Resource::Primitive(p) => vec![class(p.id())],
        Resource::Group(g) => g.members().map(|m| class(m.id())).collect(),
        _ => Vec::new(),
    }
}

pub fn read(cib: &Cib, cluster: &mut Cluster) -> Result<(), SchedulerError> {
    let templates: BTreeMap<&str, baton_cib::xml::ElementRef<'_>> = cib
        .resources()
        .filter_map(|r| match r {
            Resource::Template(t) => Some((t.xml_id(), t)),
            _ => None,
        })
        .collect();
    let run_configs = cib
        .primitives()
        .map(|p| {
            let template = p.template().and_then(|t| templates.get(t).copied());
            (p.id().to_owned(), RunConfig::read(p.element(), template))
        })
        .collect();
    let mut b = Builder {
        defaults: defaults(cib),
        run_configs,
        cluster,
    };
    for r in cib.resources() {
        if let Some(i) = b.add(r, None, &[], "", false) {
            b.cluster.top.push(i);
        }
    }
    read_tags(cib, cluster);
    Ok(())
}

/// `<tags>`: each tag stands for the resources it references.
fn read_tags(cib: &Cib, cluster: &mut Cluster) {
    let Some(tags) = cib.section("tags") else {
        return;
    };
    for tag in tags.children_named("tag") {
        let members: Vec<RscIdx> = tag
            .children_named("obj_ref")
            .filter_map(|r| r.attr("id"))
            .flat_map(|id| cluster.resolve(id))
            .collect();
        cluster
            .aliases
            .entry(tag.xml_id().to_owned())
            .or_default()
            .extend(members);
    }
}

pub(super) fn role_attr(v: Option<&str>) -> Option<Role> {
    v.and_then(parse_role).filter(|r| *r != Role::Started)
}

pub fn read_constraints(cib: &Cib, cluster: &mut Cluster) -> Result<(), SchedulerError> {
    for c in cib.constraints() {
        match c {
            Constraint::Location(l) => {
                let mut targets = l.rsc().map(|r| cluster.resolve(r)).unwrap_or_default();
                for set in l.resource_sets() {
                    for id in set.resources() {
                        targets.extend(cluster.resolve(id));
                    }
                }
                for rsc in targets {
                    read_location(l, rsc, cluster)?;
                }
            }
            Constraint::Colocation(co) => {
                let score = co.score()?.unwrap_or(Score::ZERO);
                if co.resource_sets().next().is_some() {
                    sets::expand_colocation(cluster, co.resource_sets(), co.id(), score)?;
                    continue;
                }
                let (Some(d), Some(p)) = (co.rsc(), co.with_rsc()) else {
                    continue;
                };
                let (dependents, primaries) = (cluster.resolve(d), cluster.resolve(p));
                // Pacemaker does not pair up two tags or templates.
                if dependents.len() > 1 && primaries.len() > 1 {
                    continue;
                }
                for &dependent in &dependents {
                    for &primary in &primaries {
                        cluster.colocations.push(ColocationCons {
                            id: co.id().to_owned(),
                            dependent,
                            primary,
                            score,
                            dependent_role: role_attr(co.rsc_role()),
                            primary_role: role_attr(co.with_rsc_role()),
                        });
                    }
                }
            }
            Constraint::Order(o) => {
                // Pacemaker ignores a kind it does not know, as if unset.
                let mandatory = match o.kind().ok().flatten() {
                    Some(k) => k == baton_cib::model::OrderKind::Mandatory,
                    None => o.score()?.is_none_or(|s| s.value() > 0),
                };
                let symmetrical = o.symmetrical()?.unwrap_or(true);
                if o.resource_sets().next().is_some() {
                    let options = sets::OrderOptions {
                        id: o.id().to_owned(),
                        mandatory,
                        symmetrical,
                    };
                    sets::expand_order(cluster, o.resource_sets(), &options)?;
                    continue;
                }
                let (Some(f), Some(t)) = (o.first(), o.then()) else {
                    continue;
                };
                for first in cluster.resolve(f) {
                    for then in cluster.resolve(t) {
                        cluster.orders.push(OrderCons {
                            id: o.id().to_owned(),
                            first,
                            first_action: o.first_action().to_owned(),
                            then,
                            then_action: o.then_action().to_owned(),
                            mandatory,
                            symmetrical,
                            require_all: o.attr("require-all").and_then(parse_bool).unwrap_or(true),
                        });
                    }
                }
            }
            Constraint::Ticket(_) | Constraint::Other(_) => {}
        }
    }
    Ok(())
}

/// A location constraint's preferences for `rsc`: a fixed node, or rules
/// evaluated against every node.
fn read_location(
    l: baton_cib::model::Location<'_>,
    rsc: RscIdx,
    cluster: &mut Cluster,
) -> Result<(), SchedulerError> {
    let promoted_only = role_attr(l.role()) == Some(Role::Promoted);
    let discovery = match l.attr("resource-discovery") {
        Some("never") => Some(Discovery::Never),
        Some("exclusive") => Some(Discovery::Exclusive),
        _ => None,
    };
    if let Some(node) = l.node() {
        if let (Some(n), Some(score)) = (cluster.node_by_name(node), l.score()?) {
            cluster.locations.push(LocationPref {
                rsc,
                node: n,
                score,
                promoted_only,
                recursive: false,
            });
            if let Some(mode) = discovery {
                cluster.discovery.push((rsc, n, mode));
            }
        }
        return Ok(());
    }
    for rule in l.rules() {
        let rule_promoted = role_attr(rule.role()) == Some(Role::Promoted);
        for n in 0..cluster.nodes.len() {
            if let Some(score) = rules::evaluate(rule, &cluster.nodes[n].attrs, cluster.now_s) {
                cluster.locations.push(LocationPref {
                    rsc,
                    node: NodeIdx(n),
                    score,
                    promoted_only: promoted_only || rule_promoted,
                    recursive: false,
                });
                if let Some(mode) = discovery {
                    cluster.discovery.push((rsc, NodeIdx(n), mode));
                }
            }
        }
    }
    Ok(())
}
