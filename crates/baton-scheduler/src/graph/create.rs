//! Creating each resource's actions. A primitive gets the stops, starts,
//! demotions and promotions that take it from its current role to its next
//! one (restarting on the way if it must), as Pacemaker's role matrix
//! walks them; the decisions ([`Changes`]) then say which of them are
//! required and which cannot run. Groups and clones get their milestones.

use super::engine::{ActIdx, Engine, Flags, Task, op_key};
use crate::actions::{Changes, Verb};
use crate::placement::Assignment;
use crate::unpack::{NodeIdx, NodeState, Role, RscIdx, RscKind};

/// What creating actions reads: the decisions and where things go.
pub struct Inputs<'a> {
    pub changes: &'a Changes,
    pub assignment: &'a Assignment,
}

/// Where a primitive is going, in Pacemaker's terms.
#[derive(Debug, Clone, Copy)]
pub struct Course {
    pub orig_role: Role,
    pub next_role: Role,
    pub assigned: Option<NodeIdx>,
}

/// The primitive's course, from the decisions: where it starts or stays,
/// and in which role.
pub fn course(eng: &Engine<'_>, inputs: &Inputs<'_>, r: RscIdx) -> Course {
    let rsc = eng.cluster.rsc(r);
    let orig_role = rsc.status.role();
    let changes: Vec<_> = inputs.changes.actions_of(r).collect();
    let start = changes.iter().find(|c| c.task == Verb::Start);
    let stopped_everywhere = rsc
        .status
        .running
        .iter()
        .all(|(n, _)| changes.iter().any(|c| c.task == Verb::Stop && c.node == *n));
    let assigned = match start {
        Some(s) => Some(s.node),
        None if !rsc.status.running.is_empty() && !stopped_everywhere => inputs
            .assignment
            .node_of(r)
            .or_else(|| rsc.status.current_node()),
        None => None,
    };
    let promotes = changes.iter().any(|c| c.task == Verb::Promote);
    let demotes = changes.iter().any(|c| c.task == Verb::Demote);
    let role_bearing = eng.clone_of(r).is_some_and(|c| promotable(eng, c))
        || matches!(orig_role, Role::Promoted | Role::Unpromoted);
    let next_role = match assigned {
        None => Role::Stopped,
        Some(_) if promotes => Role::Promoted,
        Some(_) if !role_bearing => Role::Started,
        Some(_) if orig_role == Role::Promoted && !demotes && start.is_none() => Role::Promoted,
        Some(_) => Role::Unpromoted,
    };
    Course {
        orig_role,
        next_role,
        assigned,
    }
}

pub fn promotable(eng: &Engine<'_>, clone: RscIdx) -> bool {
    matches!(&eng.cluster.rsc(clone).kind, RscKind::Clone(c) if c.promotable)
}

/// The next role on the way from `from` to `to`.
fn next_step(from: Role, to: Role) -> Role {
    use Role::{Promoted, Started, Stopped, Unpromoted};
    match (from, to) {
        (Stopped, Stopped) => Stopped,
        (Stopped, Started) => Started,
        (Stopped, Unpromoted | Promoted) => Unpromoted,
        (Started, Stopped) => Stopped,
        (Started, Started) => Started,
        (Started, Unpromoted) => Unpromoted,
        (Started, Promoted) => Promoted,
        (Unpromoted, Stopped | Started) => Stopped,
        (Unpromoted, Unpromoted) => Unpromoted,
        (Unpromoted, Promoted) => Promoted,
        (Promoted, Promoted) => Promoted,
        (Promoted, _) => Unpromoted,
    }
}

/// The action that takes a resource from `from` to the next role `to`.
fn step_task(from: Role, to: Role) -> Option<Task> {
    use Role::{Promoted, Started, Stopped, Unpromoted};
    match (from, to) {
        (Stopped, Started | Unpromoted) => Some(Task::Start),
        (Started | Unpromoted, Stopped) | (Unpromoted, Started) => Some(Task::Stop),
        (Started | Unpromoted, Promoted) => Some(Task::Promote),
        (Promoted, Stopped | Started | Unpromoted) => Some(Task::Demote),
        _ => None,
    }
}

/// Creates the primitive's stop, start, demote and promote actions, with
/// what the decisions say about each.
pub fn primitive_actions(eng: &mut Engine<'_>, inputs: &Inputs<'_>, r: RscIdx) -> Course {
    let course = course(eng, inputs, r);
    let rsc = eng.cluster.rsc(r);
    let current = rsc.status.current_node();
    let changes: Vec<_> = inputs.changes.actions_of(r).cloned().collect();
    let moving = current.is_some()
        && course.assigned.is_some()
        && current != course.assigned
        && course.next_role >= Role::Started;
    let need_stop = moving
        || changes
            .iter()
            .any(|c| c.task == Verb::Stop && Some(c.node) == course.assigned);
    // Down to stopped, then back up to the current role (a restart).
    let mut role = course.orig_role;
    while role != Role::Stopped {
        let next = next_step(role, Role::Stopped);
        let Some(task) = step_task(role, next) else {
            break;
        };
        step(eng, r, task, current, course.assigned, !need_stop);
        role = next;
    }
    while course.orig_role <= course.next_role && role != course.orig_role {
        let next = next_step(role, course.orig_role);
        let Some(task) = step_task(role, next) else {
            break;
        };
        step(eng, r, task, current, course.assigned, !need_stop);
        role = next;
    }
    // Then on to the next role.
    let mut role = course.orig_role;
    while role != course.next_role {
        let next = next_step(role, course.next_role);
        let Some(task) = step_task(role, next) else {
            break;
        };
        step(eng, r, task, current, course.assigned, false);
        role = next;
    }
    apply_decisions(eng, r, &changes);
    recover_unmanaged(eng, r, current);
    pending_start(eng, r, course.assigned);
    let stop_there = changes
        .iter()
        .find(|c| c.task == Verb::Stop && Some(c.node) == current);
    if moving
        && let (Some(from), Some(to), Some(stop)) = (current, course.assigned, stop_there)
        && changes
            .iter()
            .any(|c| c.task == Verb::Start && c.node == to && !c.blocked)
        && crate::actions::can_migrate(eng.cluster, r, stop.pseudo)
    {
        super::migration::create(eng, r, from, to);
    }
    course
}

/// A start still under way is put in the graph where the primitive is
/// going, as Pacemaker does, so what must follow the start (its recurring
/// monitor, its dependents) waits for it.
fn pending_start(eng: &mut Engine<'_>, r: RscIdx, assigned: Option<NodeIdx>) {
    let Some(node) = assigned.filter(|_| eng.cluster.rsc(r).status.start_pending()) else {
        return;
    };
    let key = op_key(eng.rsc_id(r), "start", 0);
    let start = eng.get_or_create(Some(r), key, Task::Start, Some(node), true);
    set_runnable_on_node(eng, start);
    eng.act_mut(start).flags.set(Flags::ALWAYS_IN_GRAPH);
}

/// An unmanaged primitive that failed is still recovered where it is, on
/// paper: its start there is required though never carried out, which
/// makes what contains it required too. (Pacemaker makes such a start
/// optional again when it looks it up to schedule monitors, which it does
/// unless the node or the resource is in maintenance.)
fn recover_unmanaged(eng: &mut Engine<'_>, r: RscIdx, current: Option<NodeIdx>) {
    let rsc = eng.cluster.rsc(r);
    let Some(node) = current else { return };
    if rsc.meta.managed || rsc.status.blocked || !rsc.status.failed {
        return;
    }
    if !eng.cluster.node(node).maintenance && !rsc.meta.maintenance {
        return;
    }
    let key = op_key(eng.rsc_id(r), "start", 0);
    let start = eng.get_or_create(Some(r), key, Task::Start, Some(node), true);
    set_runnable_on_node(eng, start);
    if eng.act(start).flags.has(Flags::RUNNABLE) {
        eng.act_mut(start).flags.clear(Flags::OPTIONAL);
    }
}

/// One step of the walk: stops and demotions wherever the primitive is
/// active, starts and promotions where it is going.
fn step(
    eng: &mut Engine<'_>,
    r: RscIdx,
    task: Task,
    _current: Option<NodeIdx>,
    assigned: Option<NodeIdx>,
    optional: bool,
) {
    let id = eng.rsc_id(r).to_owned();
    let key = op_key(&id, task.name(), 0);
    match task {
        Task::Stop | Task::Demote => {
            let nodes: Vec<NodeIdx> = eng
                .cluster
                .rsc(r)
                .status
                .running
                .iter()
                .map(|(n, _)| *n)
                .collect();
            // Nothing stops what is not managed.
            let rsc = eng.cluster.rsc(r);
            let managed = rsc.meta.managed && !rsc.status.blocked;
            for n in nodes {
                let a = eng.get_or_create(Some(r), key.clone(), task.clone(), Some(n), optional);
                set_runnable_on_node(eng, a);
                if task == Task::Stop && !managed {
                    eng.act_mut(a).flags.clear(Flags::RUNNABLE);
                }
            }
        }
        _ => {
            let a = eng.get_or_create(Some(r), key, task, assigned, true);
            set_runnable_on_node(eng, a);
            if !optional && eng.act(a).flags.has(Flags::RUNNABLE) {
                eng.act_mut(a).flags.clear(Flags::OPTIONAL);
            }
        }
    }
}

/// Whether a start (or promotion) of `r` on `node` can run as far as the
/// node and quorum go: the node is up and joined, and without quorum the
/// policy lets it (`freeze` only what is already active and not rising).
fn runnable_where(eng: &Engine<'_>, r: RscIdx, node: NodeIdx) -> bool {
    let cluster = eng.cluster;
    if cluster.node(node).state != NodeState::Online {
        return false;
    }
    let rsc = cluster.rsc(r);
    if rsc.meta.requires == crate::unpack::Requires::Nothing || cluster.have_quorum {
        return true;
    }
    match cluster.options.no_quorum_policy {
        crate::unpack::NoQuorumPolicy::Ignore => true,
        crate::unpack::NoQuorumPolicy::Freeze => !rsc.status.running.is_empty(),
        crate::unpack::NoQuorumPolicy::Demote => {
            matches!(rsc.status.role(), Role::Promoted | Role::Unpromoted)
        }
        _ => false,
    }
}

/// An action on a node that is down, unclean or still joining cannot run.
pub fn set_runnable_on_node(eng: &mut Engine<'_>, a: ActIdx) {
    let runnable = match eng.act(a).node {
        None => false,
        Some(n) => eng.cluster.node(n).state == NodeState::Online,
    };
    if !runnable {
        eng.act_mut(a).flags.clear(Flags::RUNNABLE);
    }
}

/// Makes the primitive's state-changing actions what the decisions say:
/// required where decided, runnable unless blocked, pseudo where fencing
/// implies them; and settles them so ordering does not change that.
fn apply_decisions(eng: &mut Engine<'_>, r: RscIdx, changes: &[crate::actions::Change]) {
    let id = eng.rsc_id(r).to_owned();
    for c in changes {
        let task = match c.task {
            Verb::Start => Task::Start,
            Verb::Stop => Task::Stop,
            Verb::Promote => Task::Promote,
            Verb::Demote => Task::Demote,
            Verb::Reload => Task::ReloadAgent,
            Verb::Fence => continue,
        };
        // A start or promotion that cannot run where it is going (no
        // quorum, a node still joining) was never required; one blocked by
        // what it is ordered after was.
        let never_required = c.blocked
            && matches!(task, Task::Start | Task::Promote)
            && !runnable_where(eng, r, c.node);
        let key = op_key(&id, task.name(), 0);
        let a = eng.get_or_create(Some(r), key, task, Some(c.node), false);
        let act = eng.act_mut(a);
        if never_required {
            act.flags.set(Flags::OPTIONAL);
        } else {
            act.flags.clear(Flags::OPTIONAL);
        }
        if c.blocked {
            act.flags.clear(Flags::RUNNABLE);
        } else {
            act.flags.set(Flags::RUNNABLE);
        }
        if c.pseudo {
            act.flags.set(Flags::PSEUDO);
        }
        if act.reason.is_none() {
            act.reason.clone_from(&c.reason);
        }
    }
    for &a in &eng.by_rsc[r.0].clone() {
        let act = eng.act_mut(a);
        if matches!(
            act.task,
            Task::Start | Task::Stop | Task::Promote | Task::Demote | Task::ReloadAgent
        ) {
            let decided = changes.iter().any(|c| {
                c.node == act.node.unwrap_or(c.node)
                    && matches!(
                        (&act.task, c.task),
                        (Task::Start, Verb::Start)
                            | (Task::Stop, Verb::Stop)
                            | (Task::Promote, Verb::Promote)
                            | (Task::Demote, Verb::Demote)
                            | (Task::ReloadAgent, Verb::Reload)
                    )
            });
            if !decided {
                act.flags.set(Flags::OPTIONAL);
            }
            act.decided = true;
        }
    }
}

/// A group's milestones (and its members' actions, created before).
pub fn group_actions(eng: &mut Engine<'_>, g: RscIdx, promotable: bool) {
    let mut tasks = vec![Task::Start, Task::Running, Task::Stop, Task::Stopped];
    if promotable {
        tasks.extend([Task::Demote, Task::Demoted, Task::Promote, Task::Promoted]);
    }
    for task in tasks {
        let key = op_key(eng.rsc_id(g), task.name(), 0);
        let a = eng.get_or_create(Some(g), key, task, None, true);
        eng.act_mut(a)
            .flags
            .set(Flags::PSEUDO.with(Flags::RUNNABLE));
    }
}

/// A milestone of a group or clone.
pub fn pseudo(
    eng: &mut Engine<'_>,
    r: RscIdx,
    task: Task,
    optional: bool,
    runnable: bool,
) -> ActIdx {
    let key = op_key(eng.rsc_id(r), task.name(), 0);
    let a = eng.get_or_create(Some(r), key, task, None, optional);
    let act = eng.act_mut(a);
    act.flags.set(Flags::PSEUDO);
    if runnable {
        act.flags.set(Flags::RUNNABLE);
    } else {
        act.flags.clear(Flags::RUNNABLE);
    }
    a
}
