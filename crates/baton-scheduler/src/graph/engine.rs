//! The working set the transition graph is built in, modelled on
//! Pacemaker's: every action that might be needed (most of them optional,
//! so they end up outside the graph), with flags saying whether it is
//! required, runnable or only a milestone (pseudo), and relations between
//! actions whose flags say how one action's state spreads to the other.
//!
//! Orderings are first recorded between resources and action keys
//! ([`Ordering`]) and turned into relations between concrete actions once
//! every action exists ([`super::apply`]).

use std::collections::BTreeMap;

use crate::unpack::{Cluster, NodeIdx, RscIdx, RscKind};

/// Index of an action in [`Engine::actions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActIdx(pub usize);

/// Action flags (Pacemaker's `pcmk__action_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(u32);

impl Flags {
    /// A milestone: completes when its inputs do, runs nothing.
    pub const PSEUDO: Flags = Flags(1);
    pub const RUNNABLE: Flags = Flags(1 << 1);
    /// Not needed unless something makes it so.
    pub const OPTIONAL: Flags = Flags(1 << 2);
    /// In the graph even though optional.
    pub const ALWAYS_IN_GRAPH: Flags = Flags(1 << 3);
    /// A stop that a live migration may stand in for.
    pub const MIGRATABLE: Flags = Flags(1 << 4);
    /// A recurring operation to start afresh (its parameters changed).
    pub const RESCHEDULE: Flags = Flags(1 << 5);
    pub const NONE: Flags = Flags(0);

    pub fn has(self, f: Flags) -> bool {
        self.0 & f.0 == f.0
    }

    pub fn any(self, f: Flags) -> bool {
        self.0 & f.0 != 0
    }

    pub fn set(&mut self, f: Flags) {
        self.0 |= f.0;
    }

    pub fn clear(&mut self, f: Flags) {
        self.0 &= !f.0;
    }

    pub fn with(self, f: Flags) -> Flags {
        Flags(self.0 | f.0)
    }
}

/// Relation flags (Pacemaker's `pcmk__ar_*`): how two ordered actions
/// affect each other besides the order itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rel(u32);

impl Rel {
    pub const NONE: Rel = Rel(0);
    /// Only the order.
    pub const ORDERED: Rel = Rel(1);
    /// Applies only when the first action is not part of a migration.
    pub const IF_FIRST_UNMIGRATABLE: Rel = Rel(1 << 1);
    /// If the then action is required, so is the first.
    pub const THEN_IMPLIES_FIRST: Rel = Rel(1 << 4);
    /// If the first action is required, so is the then action.
    pub const FIRST_IMPLIES_THEN: Rel = Rel(1 << 5);
    /// As `THEN_IMPLIES_FIRST`, when the then resource is promoted now.
    pub const PROMOTED_THEN_IMPLIES_FIRST: Rel = Rel(1 << 6);
    pub const UNMIGRATABLE_THEN_BLOCKS: Rel = Rel(1 << 7);
    /// If the first action cannot run, neither can the then action.
    pub const UNRUNNABLE_FIRST_BLOCKS: Rel = Rel(1 << 8);
    pub const FIRST_ELSE_THEN: Rel = Rel(1 << 9);
    pub const FIRST_IMPLIES_SAME_NODE_THEN: Rel = Rel(1 << 10);
    /// A stop before a start of the same resource (a restart).
    pub const INTERMEDIATE_STOP: Rel = Rel(1 << 12);
    /// Only between actions on the same node.
    pub const IF_ON_SAME_NODE: Rel = Rel(1 << 15);
    /// If the then action is required, the first is in the graph.
    pub const THEN_IMPLIES_FIRST_GRAPHED: Rel = Rel(1 << 16);
    /// If the first action is required, the then action is in the graph.
    pub const FIRST_IMPLIES_THEN_GRAPHED: Rel = Rel(1 << 17);
    /// A mandatory order that is not symmetrical.
    pub const ASYMMETRIC: Rel = Rel(1 << 20);
    pub const IF_ON_SAME_NODE_OR_TARGET: Rel = Rel(1 << 21);
    /// The then action needs a number of first actions to be runnable.
    pub const MIN_RUNNABLE: Rel = Rel(1 << 22);
    pub const IF_REQUIRED_ON_SAME_NODE: Rel = Rel(1 << 23);
    /// If the then action is required, the first is abandoned.
    pub const THEN_CANCELS_FIRST: Rel = Rel(1 << 25);
    /// One side of a -INFINITY colocation leaving its role before the
    /// other takes its role; in the graph only between required actions
    /// on the same node.
    pub const ANTI_COLOCATION: Rel = Rel(1 << 26);

    pub fn has(self, f: Rel) -> bool {
        self.0 & f.0 == f.0 && f.0 != 0
    }

    pub fn any(self, f: Rel) -> bool {
        self.0 & f.0 != 0
    }

    pub fn with(self, f: Rel) -> Rel {
        Rel(self.0 | f.0)
    }

    pub fn without(self, f: Rel) -> Rel {
        Rel(self.0 & !f.0)
    }

    /// Flags that can change the actions they relate, beyond the order and
    /// graph membership.
    pub fn can_change_actions(self) -> bool {
        self.without(
            Rel::THEN_IMPLIES_FIRST_GRAPHED
                .with(Rel::FIRST_IMPLIES_THEN_GRAPHED)
                .with(Rel::ORDERED),
        ) != Rel::NONE
    }
}

/// What an action does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Task {
    Start,
    Stop,
    Monitor,
    Promote,
    Demote,
    Notify,
    /// Cancel a recurring operation (the operation's name).
    Cancel(String),
    MigrateTo,
    MigrateFrom,
    ReloadAgent,
    /// Erase a resource's history on a node.
    Delete,
    /// Milestones of groups and clones.
    Running,
    Stopped,
    Promoted,
    Demoted,
    Notified,
    Stonith,
    DoShutdown,
    ClearFailcount,
    /// Reached when enough of a clone's instances can run
    /// (`clone-one-or-more:ID`, `one-or-more:ID`).
    OneOrMore(String),
    /// An action name an order constraint uses that no agent action has.
    Other(String),
}

impl Task {
    /// The action name, as the graph's `operation` attribute has it.
    pub fn name(&self) -> &str {
        match self {
            Task::Start => "start",
            Task::Stop => "stop",
            Task::Monitor => "monitor",
            Task::Promote => "promote",
            Task::Demote => "demote",
            Task::Notify => "notify",
            Task::Cancel(_) => "cancel",
            Task::MigrateTo => "migrate_to",
            Task::MigrateFrom => "migrate_from",
            Task::ReloadAgent => "reload-agent",
            Task::Delete => "delete",
            Task::Running => "running",
            Task::Stopped => "stopped",
            Task::Promoted => "promoted",
            Task::Demoted => "demoted",
            Task::Notified => "notified",
            Task::Stonith => "stonith",
            Task::DoShutdown => "do_shutdown",
            Task::ClearFailcount => "clear_failcount",
            Task::OneOrMore(label) | Task::Other(label) => label,
        }
    }

    /// The task a name stands for (ordering constraints name actions).
    pub fn parse(name: &str) -> Option<Task> {
        Some(match name {
            "start" => Task::Start,
            "stop" => Task::Stop,
            "monitor" => Task::Monitor,
            "promote" => Task::Promote,
            "demote" => Task::Demote,
            "notify" => Task::Notify,
            "migrate_to" => Task::MigrateTo,
            "migrate_from" => Task::MigrateFrom,
            "reload-agent" | "reload" => Task::ReloadAgent,
            "delete" => Task::Delete,
            "running" => Task::Running,
            "stopped" => Task::Stopped,
            "promoted" => Task::Promoted,
            "demoted" => Task::Demoted,
            "notified" => Task::Notified,
            _ => return None,
        })
    }

    /// The milestone that marks this action done for a whole group or
    /// clone (`start` → `running`), or the action itself.
    pub fn completed(&self) -> Task {
        match self {
            Task::Start => Task::Running,
            Task::Stop => Task::Stopped,
            Task::Promote => Task::Promoted,
            Task::Demote => Task::Demoted,
            Task::Notify => Task::Notified,
            other => other.clone(),
        }
    }

    /// A primitive has no milestones: they fold back into the action
    /// (`running` → `start`).
    pub fn for_primitive(&self) -> Task {
        match self {
            Task::Running => Task::Start,
            Task::Stopped => Task::Stop,
            Task::Promoted => Task::Promote,
            Task::Demoted => Task::Demote,
            Task::Notified => Task::Notify,
            other => other.clone(),
        }
    }

    /// Actions that take a resource up (orders starting with them block
    /// what follows when they cannot run).
    pub fn is_up(&self) -> bool {
        matches!(
            self,
            Task::Start | Task::Promote | Task::Running | Task::Promoted
        )
    }
}

/// An operation key: `<id>_<task>_<interval>`.
pub fn op_key(id: &str, task: &str, interval_ms: u64) -> String {
    format!("{id}_{task}_{interval_ms}")
}

/// A notification key: `<id>_<pre|post|confirmed-pre|confirmed-post>_notify_<task>_0`.
pub fn notify_key(id: &str, kind: &str, task: &str) -> String {
    format!("{id}_{kind}_notify_{task}_0")
}

/// One side of a relation, as held by the other action.
#[derive(Debug, Clone)]
pub struct Related {
    pub act: ActIdx,
    pub flags: Rel,
}

#[derive(Debug, Clone)]
pub struct Act {
    /// Pacemaker's action key (uuid), e.g. `ping:1_monitor_10000`.
    pub key: String,
    pub task: Task,
    pub rsc: Option<RscIdx>,
    pub node: Option<NodeIdx>,
    pub flags: Flags,
    pub interval_ms: u64,
    /// Extra meta attributes (notification variables, expected result,
    /// fencing action, ...), without the `CRM_meta_` prefix.
    pub meta: BTreeMap<String, String>,
    pub reason: Option<String>,
    pub priority: i32,
    /// For [`Rel::MIN_RUNNABLE`]: how many inputs must be runnable.
    pub required_runnable_before: usize,
    pub runnable_before: usize,
    pub before: Vec<Related>,
    pub after: Vec<Related>,
    /// The decisions settled whether it is required and runnable: the
    /// spreading of flags leaves those two alone.
    pub decided: bool,
}

/// An operation of a resource as orderings name it: the resource's id
/// completes its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRef {
    pub task: Task,
    pub interval_ms: u64,
}

impl OpRef {
    /// The operation called `name` at interval 0.
    pub fn named(name: &str) -> OpRef {
        OpRef {
            task: Task::parse(name).unwrap_or_else(|| Task::Other(name.to_owned())),
            interval_ms: 0,
        }
    }
}

/// An ordering between resources' actions, resolved to actions later.
#[derive(Debug, Clone)]
pub struct Ordering {
    pub first_rsc: Option<RscIdx>,
    pub first_op: Option<OpRef>,
    pub first: Option<ActIdx>,
    pub then_rsc: Option<RscIdx>,
    pub then_op: Option<OpRef>,
    pub then: Option<ActIdx>,
    pub flags: Rel,
}

pub struct Engine<'c> {
    pub cluster: &'c Cluster,
    pub actions: Vec<Act>,
    /// Each resource's actions, in creation order.
    pub by_rsc: Vec<Vec<ActIdx>>,
    /// Actions of no resource, by key.
    pub singletons: BTreeMap<String, ActIdx>,
    pub orderings: Vec<Ordering>,
    /// Where each primitive is going, once its actions exist.
    pub assigned: Vec<Option<NodeIdx>>,
}

impl<'c> Engine<'c> {
    pub fn new(cluster: &'c Cluster) -> Self {
        Engine {
            cluster,
            actions: Vec::new(),
            by_rsc: vec![Vec::new(); cluster.rscs.len()],
            singletons: BTreeMap::new(),
            orderings: Vec::new(),
            assigned: vec![None; cluster.rscs.len()],
        }
    }

    /// Where `r` is going: a primitive's node, a group's first member's.
    pub fn assigned_node(&self, r: RscIdx) -> Option<NodeIdx> {
        if self.is_primitive(r) {
            return self.assigned.get(r.0).copied().flatten();
        }
        if self.is_group(r) {
            return self.children(r).iter().find_map(|&m| self.assigned_node(m));
        }
        None
    }

    /// The nodes `r` may run on at all: every node in a symmetric
    /// cluster, else those a location constraint names for it (or for
    /// what contains it, or what it contains).
    pub fn allowed_nodes(&self, r: RscIdx) -> Vec<NodeIdx> {
        let cluster = self.cluster;
        if cluster.options.symmetric {
            return (0..cluster.nodes.len()).map(NodeIdx).collect();
        }
        let mut related = vec![r];
        cluster.collect_primitives(r, &mut related);
        let mut at = cluster.rsc(r).parent;
        while let Some(p) = at {
            related.push(p);
            at = cluster.rsc(p).parent;
        }
        let mut nodes: Vec<NodeIdx> = cluster
            .locations
            .iter()
            .filter(|l| related.contains(&l.rsc))
            .map(|l| l.node)
            .collect();
        nodes.sort();
        nodes.dedup();
        nodes
    }

    pub fn act(&self, a: ActIdx) -> &Act {
        &self.actions[a.0]
    }

    pub fn act_mut(&mut self, a: ActIdx) -> &mut Act {
        &mut self.actions[a.0]
    }

    /// Clears `f` on `a`, unless the decisions settled it; true if that
    /// changed anything.
    pub fn clear(&mut self, a: ActIdx, f: Flags) -> bool {
        let act = &mut self.actions[a.0];
        if act.decided && f.any(Flags::OPTIONAL.with(Flags::RUNNABLE)) || !act.flags.any(f) {
            return false;
        }
        act.flags.clear(f);
        true
    }

    /// Sets `f` on `a`, unless the decisions settled it; true if that
    /// changed anything.
    pub fn set(&mut self, a: ActIdx, f: Flags) -> bool {
        let act = &mut self.actions[a.0];
        if act.decided && f.any(Flags::OPTIONAL.with(Flags::RUNNABLE)) || act.flags.has(f) {
            return false;
        }
        act.flags.set(f);
        true
    }

    /// The id actions of `r` are keyed by (`rsc:N` for instances).
    pub fn rsc_id(&self, r: RscIdx) -> &'c str {
        &self.cluster.rsc(r).id
    }

    pub fn is_primitive(&self, r: RscIdx) -> bool {
        self.cluster.rsc(r).is_primitive()
    }

    pub fn is_clone(&self, r: RscIdx) -> bool {
        matches!(self.cluster.rsc(r).kind, RscKind::Clone(_))
    }

    pub fn is_group(&self, r: RscIdx) -> bool {
        matches!(self.cluster.rsc(r).kind, RscKind::Group { .. })
    }

    pub fn children(&self, r: RscIdx) -> &'c [RscIdx] {
        match &self.cluster.rsc(r).kind {
            RscKind::Primitive => &[],
            RscKind::Group { members } => members,
            RscKind::Clone(c) => &c.instances,
        }
    }

    /// The action with `key` for `rsc` on `node` (a node-less action
    /// matches any node and is placed there), or a new one.
    pub fn get_or_create(
        &mut self,
        rsc: Option<RscIdx>,
        key: String,
        task: Task,
        node: Option<NodeIdx>,
        optional: bool,
    ) -> ActIdx {
        let existing = match rsc {
            Some(r) => self.find_keyed(r, &key, &task, node),
            None => self
                .singletons
                .get(&key)
                .copied()
                .filter(|&a| node.is_none() || self.act(a).node == node),
        };
        let a = match existing {
            Some(a) => a,
            None => {
                let interval_ms = parse_interval(&key);
                let a = ActIdx(self.actions.len());
                let mut flags = Flags::RUNNABLE;
                if optional {
                    flags.set(Flags::OPTIONAL);
                }
                self.actions.push(Act {
                    key: key.clone(),
                    task,
                    rsc,
                    node,
                    flags,
                    interval_ms,
                    meta: BTreeMap::new(),
                    reason: None,
                    priority: 0,
                    required_runnable_before: 0,
                    runnable_before: 0,
                    before: Vec::new(),
                    after: Vec::new(),
                    decided: false,
                });
                match rsc {
                    Some(r) => self.by_rsc[r.0].push(a),
                    None => {
                        self.singletons.insert(key, a);
                    }
                }
                a
            }
        };
        if !optional {
            self.act_mut(a).flags.clear(Flags::OPTIONAL);
        }
        a
    }

    /// `rsc`'s action with `key` (doing `task`, or cancelling what the key
    /// names): on `node`, or anywhere when `node` is `None`. A matching
    /// action without a node is placed on `node`.
    fn find_keyed(
        &mut self,
        rsc: RscIdx,
        key: &str,
        task: &Task,
        node: Option<NodeIdx>,
    ) -> Option<ActIdx> {
        for i in 0..self.by_rsc[rsc.0].len() {
            let a = self.by_rsc[rsc.0][i];
            let act = &mut self.actions[a.0];
            let same_kind = act.task == *task
                || matches!(task, Task::Cancel(_))
                || matches!(act.task, Task::Cancel(_));
            if !same_kind || act.key != key {
                continue;
            }
            match (node, act.node) {
                (None, _) => return Some(a),
                (Some(n), None) => {
                    act.node = Some(n);
                    return Some(a);
                }
                (Some(n), Some(m)) if n == m => return Some(a),
                _ => {}
            }
        }
        None
    }

    /// `rsc`'s actions doing `op`: on `node`, or anywhere when `node` is
    /// `None`. A matching action without a node is placed on `node`.
    pub fn find_op(&mut self, rsc: RscIdx, op: &OpRef, node: Option<NodeIdx>) -> Vec<ActIdx> {
        let mut out = Vec::new();
        for i in 0..self.by_rsc[rsc.0].len() {
            let a = self.by_rsc[rsc.0][i];
            let act = &mut self.actions[a.0];
            if act.task != op.task
                || act.interval_ms != op.interval_ms
                || act.key.contains("_notify_")
            {
                continue;
            }
            match (node, act.node) {
                (None, _) => out.push(a),
                (Some(n), None) => {
                    act.node = Some(n);
                    out.push(a);
                }
                (Some(n), Some(m)) if n == m => out.push(a),
                _ => {}
            }
        }
        out
    }

    /// `rsc`'s actions doing `task` at `interval_ms` on exactly `node`.
    pub fn find_exact(
        &self,
        rsc: RscIdx,
        task: &Task,
        interval_ms: u64,
        node: NodeIdx,
    ) -> Vec<ActIdx> {
        self.by_rsc[rsc.0]
            .iter()
            .copied()
            .filter(|&a| {
                let act = self.act(a);
                act.task == *task && act.interval_ms == interval_ms && act.node == Some(node)
            })
            .collect()
    }

    /// The most recently created action of `rsc` doing `task` (on `node`
    /// when given), as Pacemaker's newest-first lists find it.
    pub fn find_task(&self, rsc: RscIdx, task: &Task, node: Option<NodeIdx>) -> Option<ActIdx> {
        self.by_rsc[rsc.0].iter().rev().copied().find(|&a| {
            let act = self.act(a);
            act.task == *task && node.is_none_or(|n| act.node == Some(n))
        })
    }

    /// `rsc`'s actions for `task` at interval 0 (on `node` when given).
    pub fn rsc_actions(&mut self, rsc: RscIdx, task: &str, node: Option<NodeIdx>) -> Vec<ActIdx> {
        self.find_op(rsc, &OpRef::named(task), node)
    }

    /// Records "`first` then `then`": false if they were already so related
    /// by one of these flags.
    pub fn order(&mut self, first: ActIdx, then: ActIdx, flags: Rel) -> bool {
        if flags == Rel::NONE || first == then {
            return false;
        }
        let duplicate = self
            .act(first)
            .after
            .iter()
            .any(|r| r.act == then && r.flags.any(flags));
        if duplicate {
            return false;
        }
        self.act_mut(first).after.push(Related { act: then, flags });
        self.act_mut(then)
            .before
            .push(Related { act: first, flags });
        true
    }

    /// Records an ordering between resources' actions (by key) or actions.
    pub fn new_ordering(&mut self, o: Ordering) {
        let mut o = o;
        if o.first_rsc.is_none() {
            o.first_rsc = o.first.and_then(|a| self.act(a).rsc);
        }
        if o.then_rsc.is_none() {
            o.then_rsc = o.then.and_then(|a| self.act(a).rsc);
        }
        let op_of = |eng: &Self, a: ActIdx| OpRef {
            task: eng.act(a).task.clone(),
            interval_ms: eng.act(a).interval_ms,
        };
        if o.first_op.is_none() {
            o.first_op = o.first.map(|a| op_of(self, a));
        }
        if o.then_op.is_none() {
            o.then_op = o.then.map(|a| op_of(self, a));
        }
        let equivalents = super::migration::equivalents(self, &o);
        self.orderings.push(o);
        for (first, first_task, then, then_task, flags) in equivalents {
            self.orderings.push(Ordering {
                first_rsc: Some(first),
                first_op: Some(OpRef::named(first_task)),
                first: None,
                then_rsc: Some(then),
                then_op: Some(OpRef::named(then_task)),
                then: None,
                flags,
            });
        }
    }

    /// "`first` `first_task` then `then` `then_task`" between resources.
    pub fn order_rsc(
        &mut self,
        first: RscIdx,
        first_task: &str,
        then: RscIdx,
        then_task: &str,
        flags: Rel,
    ) {
        self.new_ordering(Ordering {
            first_rsc: Some(first),
            first_op: Some(OpRef::named(first_task)),
            first: None,
            then_rsc: Some(then),
            then_op: Some(OpRef::named(then_task)),
            then: None,
            flags,
        });
    }

    /// "`first` then `then` `then_task`" from an action to a resource.
    pub fn order_act_rsc(&mut self, first: ActIdx, then: RscIdx, then_task: &str, flags: Rel) {
        self.new_ordering(Ordering {
            first_rsc: None,
            first_op: None,
            first: Some(first),
            then_rsc: Some(then),
            then_op: Some(OpRef::named(then_task)),
            then: None,
            flags,
        });
    }

    /// "`first` `first_task` then `then`" from a resource to an action.
    pub fn order_rsc_act(&mut self, first: RscIdx, first_task: &str, then: ActIdx, flags: Rel) {
        self.new_ordering(Ordering {
            first_rsc: Some(first),
            first_op: Some(OpRef::named(first_task)),
            first: None,
            then_rsc: None,
            then_op: None,
            then: Some(then),
            flags,
        });
    }

    /// "`first` then `then`" between two actions, resolved with the rest.
    pub fn order_acts_later(&mut self, first: ActIdx, then: ActIdx, flags: Rel) {
        self.new_ordering(Ordering {
            first_rsc: None,
            first_op: None,
            first: Some(first),
            then_rsc: None,
            then_op: None,
            then: Some(then),
            flags,
        });
    }

    /// The clone `r` is an instance of (through a cloned group), if any.
    pub fn clone_of(&self, r: RscIdx) -> Option<RscIdx> {
        let mut at = self.cluster.rsc(r).parent;
        while let Some(p) = at {
            if self.is_clone(p) {
                return Some(p);
            }
            at = self.cluster.rsc(p).parent;
        }
        None
    }
}

/// The interval of an operation key (`rsc_monitor_10000` → 10000).
pub fn parse_interval(key: &str) -> u64 {
    key.rsplit_once('_')
        .and_then(|(_, i)| i.parse().ok())
        .unwrap_or(0)
}
