//! From the working set to the graph the controller runs: the actions
//! that are required and runnable, each with what executing it takes (node,
//! agent, the id the node knows the resource by, parameters and meta
//! attributes), and as inputs the actions it must wait for that are in the
//! graph too.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::engine::{ActIdx, Engine, Flags, Rel, Task, notify_key, op_key};
use super::meta::action_meta;
use super::{Action, ActionId, ActionKind, Graph, GraphSettings, NodeRef, ResourceRef};
use crate::unpack::{NodeState, RscIdx, RscKind};

/// Whether the cluster may act on `r`: a failure that blocks a resource
/// leaves it unmanaged.
fn managed(eng: &Engine<'_>, r: RscIdx) -> bool {
    let rsc = eng.cluster.rsc(r);
    rsc.meta.managed && !rsc.status.blocked
}

/// Whether `a` belongs in the graph at all.
fn in_graph(eng: &Engine<'_>, a: ActIdx) -> bool {
    let act = eng.act(a);
    if !act.flags.has(Flags::RUNNABLE) {
        return false;
    }
    if act.flags.has(Flags::OPTIONAL) && !act.flags.has(Flags::ALWAYS_IN_GRAPH) {
        return false;
    }
    // Nothing is done to an unmanaged (or blocked) resource but
    // monitoring it.
    if let Some(r) = act.rsc
        && !managed(eng, r)
        && act.task != Task::Monitor
        && act.interval_ms == 0
    {
        return false;
    }
    if act.flags.has(Flags::PSEUDO) || matches!(act.task, Task::Stonith | Task::DoShutdown) {
        return true;
    }
    act.node
        .is_some_and(|n| eng.cluster.node(n).state == NodeState::Online)
}

/// Whether `then` waits for `input` in the graph (the relation's flags may
/// say the order applies only in some cases).
fn input_counts(
    eng: &Engine<'_>,
    then: ActIdx,
    input: ActIdx,
    flags: Rel,
    included: &[bool],
) -> bool {
    let first = eng.act(input);
    let runnable = first.flags.has(Flags::RUNNABLE);
    if flags == Rel::NONE
        || (!runnable && !flags.can_change_actions())
        || (!runnable && flags.has(Rel::MIN_RUNNABLE))
        || (flags.has(Rel::UNMIGRATABLE_THEN_BLOCKS) && !runnable)
        || (flags.has(Rel::IF_FIRST_UNMIGRATABLE) && first.flags.has(Flags::MIGRATABLE))
    {
        return false;
    }
    // An optional order on a stop that a migration stands in for.
    if flags == Rel::ORDERED && first.flags.has(Flags::MIGRATABLE) && first.task == Task::Stop {
        return false;
    }
    if flags == Rel::IF_ON_SAME_NODE_OR_TARGET
        || flags == Rel::IF_REQUIRED_ON_SAME_NODE
        || flags == Rel::ANTI_COLOCATION
    {
        let same = first.node.is_none()
            || eng.act(then).node.is_none()
            || first.node == eng.act(then).node;
        return same && !first.flags.has(Flags::OPTIONAL);
    }
    // A failed, unmanaged resource cannot hold up its clone's stop.
    if let (Some(fr), Some(tr)) = (first.rsc, eng.act(then).rsc)
        && fr != tr
        && first.task == Task::Stop
        && eng.is_clone(tr)
        && !managed(eng, fr)
        && eng.cluster.rsc(fr).status.failed
    {
        return false;
    }
    included[input.0]
}

/// The graph: every action that is in it, with its inputs.
pub fn build(eng: &Engine<'_>, settings: GraphSettings) -> Graph {
    let nodes: Vec<NodeRef> = eng
        .cluster
        .nodes
        .iter()
        .map(|n| NodeRef {
            name: Arc::from(n.uname.as_str()),
            id: Arc::from(n.id.as_str()),
        })
        .collect();
    let n = eng.actions.len();
    let included: Vec<bool> = (0..n).map(|i| in_graph(eng, ActIdx(i))).collect();
    let mut ids: BTreeMap<ActIdx, ActionId> = BTreeMap::new();
    for (i, _) in included.iter().enumerate().filter(|(_, inc)| **inc) {
        let id = ActionId(ids.len());
        ids.insert(ActIdx(i), id);
    }
    let mut actions = Vec::with_capacity(ids.len());
    for (&a, &id) in &ids {
        // One input per action that any of its relations to `a` keeps.
        let inputs: BTreeSet<ActionId> = eng
            .act(a)
            .before
            .iter()
            .filter(|r| input_counts(eng, a, r.act, r.flags, &included))
            .filter_map(|r| ids.get(&r.act).copied())
            .collect();
        let inputs: Vec<ActionId> = inputs.into_iter().collect();
        actions.push(describe(eng, &nodes, a, id, inputs));
    }
    Graph { actions, settings }
}

/// Everything the controller needs to run `a`.
fn describe(
    eng: &Engine<'_>,
    nodes: &[NodeRef],
    a: ActIdx,
    id: ActionId,
    inputs: Vec<ActionId>,
) -> Action {
    let cluster = eng.cluster;
    let act = eng.act(a);
    let kind = if matches!(
        act.task,
        Task::Stonith | Task::DoShutdown | Task::ClearFailcount
    ) {
        ActionKind::ClusterEvent
    } else if act.flags.has(Flags::PSEUDO) {
        ActionKind::Pseudo
    } else {
        ActionKind::ResourceOp
    };
    let node = act.node.map(|n| nodes[n.0].clone());
    let history_id = act
        .rsc
        .and_then(|r| cluster.rsc(r).status.history_id.clone());
    let (key, internal_key) = match &history_id {
        Some(h) => (history_key(act, h), Some(act.key.clone())),
        None => (act.key.clone(), None),
    };
    let mut meta = BTreeMap::new();
    let mut params = Arc::default();
    if let Some(r) = act.rsc {
        let rsc = cluster.rsc(r);
        let task_name = match &act.task {
            Task::Cancel(name) => name.clone(),
            t => t.name().to_owned(),
        };
        meta = action_meta(cluster, rsc, &task_name, act.interval_ms);
        if kind != ActionKind::Pseudo {
            params = match rsc.run.find(&task_name, act.interval_ms) {
                Some(op) if !op.params.is_empty() => {
                    let mut own = (*rsc.run.params).clone();
                    own.extend(op.params.iter().map(|(k, v)| (k.clone(), v.clone())));
                    Arc::new(own)
                }
                _ => Arc::clone(&rsc.run.params),
            };
        }
        add_resource_meta(eng, r, &mut meta);
    }
    meta.extend(act.meta.iter().map(|(k, v)| (k.clone(), v.clone())));
    let resource = act
        .rsc
        .filter(|_| kind != ActionKind::Pseudo)
        .map(|r| resource_ref(eng, r, history_id.as_deref()));
    let downed = match act.task {
        Task::DoShutdown => node.iter().map(|n| n.id.to_string()).collect(),
        Task::Stonith
            if matches!(
                act.meta.get("stonith_action").map(String::as_str),
                Some("reboot" | "off" | "poweroff")
            ) =>
        {
            node.iter().map(|n| n.id.to_string()).collect()
        }
        _ => Vec::new(),
    };
    let priority = act
        .priority
        .max(act.rsc.map_or(0, |r| cluster.rsc(r).meta.priority));
    Action {
        id,
        kind,
        task: act.task.clone(),
        key,
        internal_key,
        node,
        resource_id: act.rsc.map(|r| cluster.rsc(r).id.clone()),
        resource,
        interval_ms: act.interval_ms,
        target_rc: meta.get("op_target_rc").and_then(|v| v.parse().ok()),
        timeout_ms: meta.get("timeout").and_then(|v| v.parse().ok()),
        params,
        meta: meta
            .into_iter()
            .map(|(k, v)| (k.replace('-', "_"), v))
            .collect(),
        downed,
        priority,
        inputs,
    }
}

/// The operation key under the id the node knows the resource by.
fn history_key(act: &super::engine::Act, history_id: &str) -> String {
    match act.task {
        Task::Notify => notify_key(
            history_id,
            act.meta.get("notify_type").map_or("pre", String::as_str),
            act.meta.get("notify_operation").map_or("", String::as_str),
        ),
        Task::Cancel(ref name) => op_key(history_id, name, act.interval_ms),
        ref t => op_key(history_id, t.name(), act.interval_ms),
    }
}

fn resource_ref(eng: &Engine<'_>, r: RscIdx, history_id: Option<&str>) -> ResourceRef {
    let rsc = eng.cluster.rsc(r);
    let anonymous_instance = eng
        .clone_of(r)
        .is_some_and(|c| matches!(&eng.cluster.rsc(c).kind, RscKind::Clone(info) if !info.unique));
    let (id, long_id) = if rsc.orphan
        && let Some(h) = history_id
    {
        (h.to_owned(), Some(rsc.id.clone()))
    } else if anonymous_instance {
        let long = history_id
            .filter(|h| *h != rsc.base_id)
            .map_or_else(|| rsc.id.clone(), str::to_owned);
        (rsc.base_id.clone(), Some(long))
    } else {
        (rsc.id.clone(), None)
    };
    ResourceRef {
        id,
        long_id,
        agent: Arc::clone(&rsc.run.agent),
    }
}

/// What a resource and the clone around it tell every action: the
/// instance number, and the clone's shape.
fn add_resource_meta(eng: &Engine<'_>, r: RscIdx, meta: &mut BTreeMap<String, String>) {
    let rsc = eng.cluster.rsc(r);
    if rsc.is_primitive()
        && let Some((_, n)) = rsc.id.rsplit_once(':')
        && eng.clone_of(r).is_some()
    {
        meta.insert("clone".to_owned(), n.to_owned());
    }
    let clone = if eng.is_clone(r) {
        Some(r)
    } else {
        eng.clone_of(r)
    };
    if let Some(c) = clone
        && let RscKind::Clone(info) = &eng.cluster.rsc(c).kind
    {
        meta.insert("globally-unique".to_owned(), info.unique.to_string());
        meta.insert("notify".to_owned(), info.notify.to_string());
        meta.insert("clone-max".to_owned(), info.clone_max.to_string());
        meta.insert("clone-node-max".to_owned(), info.clone_node_max.to_string());
        if info.promotable {
            for name in ["promoted-max", "master-max"] {
                meta.insert(name.to_owned(), info.promoted_max.to_string());
            }
            for name in ["promoted-node-max", "master-node-max"] {
                meta.insert(name.to_owned(), info.promoted_node_max.to_string());
            }
        }
    }
}
