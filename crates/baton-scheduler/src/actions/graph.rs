//! The action graph: actions plus "must finish before" edges. The DC will
//! execute it; the Transition Summary is read back from it.

use std::collections::{BTreeMap, BTreeSet};

use super::{BlockedWhy, Plan};
use crate::unpack::{Cluster, NodeIdx, RscIdx, RscKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActionId(pub usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Task {
    Fence,
    Demote,
    Stop,
    Start,
    Promote,
    /// The agent takes new parameters in place.
    Reload,
}

#[derive(Debug, Clone)]
pub struct Action {
    pub task: Task,
    pub rsc: Option<RscIdx>,
    pub node: NodeIdx,
    /// Implied by fencing the node: nothing is executed.
    pub pseudo: bool,
    /// Needed but not runnable (kept so the summary can say `(blocked)`).
    pub blocked: bool,
    /// Why, for the summary (`due to ...`).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub actions: Vec<Action>,
    /// `(before, after)` pairs.
    pub edges: BTreeSet<(ActionId, ActionId)>,
    /// Fence reasons by node.
    pub fence_reason: BTreeMap<NodeIdx, String>,
    /// Each resource's actions, in the order they were added: ordering
    /// and the summary look actions up by resource, and scanning every
    /// action for each lookup made large clusters quadratic.
    by_rsc: BTreeMap<RscIdx, Vec<ActionId>>,
}

impl Graph {
    fn add(&mut self, action: Action) -> ActionId {
        let id = ActionId(self.actions.len());
        if let Some(rsc) = action.rsc {
            self.by_rsc.entry(rsc).or_default().push(id);
        }
        self.actions.push(action);
        id
    }

    fn find(&self, task: Task, rsc: RscIdx) -> Vec<ActionId> {
        self.ids_of(rsc)
            .filter(|id| {
                let a = &self.actions[id.0];
                a.task == task && !a.blocked
            })
            .collect()
    }

    fn ids_of(&self, rsc: RscIdx) -> impl Iterator<Item = ActionId> + '_ {
        self.by_rsc.get(&rsc).into_iter().flatten().copied()
    }

    pub fn actions_of(&self, rsc: RscIdx) -> impl Iterator<Item = &Action> {
        self.ids_of(rsc).map(|id| &self.actions[id.0])
    }

    fn order(&mut self, before: &[ActionId], after: &[ActionId]) {
        for &b in before {
            for &a in after {
                if a != b {
                    self.edges.insert((b, a));
                }
            }
        }
    }

    /// A valid execution order (Kahn's algorithm, lowest id first), or
    /// `None` if the edges form a cycle.
    pub fn topological_order(&self) -> Option<Vec<ActionId>> {
        let n = self.actions.len();
        let mut indegree = vec![0usize; n];
        for &(_, a) in &self.edges {
            indegree[a.0] += 1;
        }
        let mut ready: BTreeSet<usize> = (0..n).filter(|i| indegree[*i] == 0).collect();
        let mut out = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            out.push(ActionId(i));
            for &(b, a) in self.edges.range((ActionId(i), ActionId(0))..) {
                if b.0 != i {
                    break;
                }
                indegree[a.0] -= 1;
                if indegree[a.0] == 0 {
                    ready.insert(a.0);
                }
            }
        }
        (out.len() == n).then_some(out)
    }
}

pub fn build(
    cluster: &Cluster,
    plans: &BTreeMap<RscIdx, Plan>,
    fenced: &[(NodeIdx, String)],
) -> Graph {
    let mut g = Graph::default();
    let mut fence_ids = BTreeMap::new();
    for (n, why) in fenced {
        let id = g.add(Action {
            task: Task::Fence,
            rsc: None,
            node: *n,
            pseudo: false,
            blocked: false,
            reason: Some(why.clone()),
        });
        fence_ids.insert(*n, id);
        g.fence_reason.insert(*n, why.clone());
    }
    for (&r, plan) in plans {
        let mut demotes = Vec::new();
        let mut stops = Vec::new();
        for &n in &plan.stop_on {
            let role = cluster
                .rsc(r)
                .status
                .running
                .iter()
                .find(|(m, _)| *m == n)
                .map(|(_, r)| *r);
            let pseudo = fence_ids.contains_key(&n);
            if plan.demote && role == Some(crate::unpack::Role::Promoted) {
                demotes.push(g.add(Action {
                    task: Task::Demote,
                    rsc: Some(r),
                    node: n,
                    pseudo,
                    blocked: false,
                    reason: None,
                }));
            }
            let s = g.add(Action {
                task: Task::Stop,
                rsc: Some(r),
                node: n,
                pseudo,
                blocked: plan.stop_blocked,
                reason: plan.stop_reason.clone(),
            });
            if let Some(&f) = fence_ids.get(&n) {
                g.order(&[f], &[s]);
            }
            stops.push(s);
        }
        g.order(&demotes, &stops);
        // A demote in place (no stop).
        if plan.demote && plan.stop_on.is_empty() {
            for &(n, _) in &cluster.rsc(r).status.running {
                g.add(Action {
                    task: Task::Demote,
                    rsc: Some(r),
                    node: n,
                    pseudo: false,
                    blocked: false,
                    reason: None,
                });
            }
        }
        let mut starts = Vec::new();
        if let Some(n) = plan.start_on {
            let s = g.add(Action {
                task: Task::Start,
                rsc: Some(r),
                node: n,
                pseudo: false,
                blocked: false,
                reason: plan.restart_reason.clone(),
            });
            g.order(&stops, &[s]);
            // Safety: nothing that ran on a fenced node starts elsewhere
            // before the fence is confirmed.
            for m in &cluster.rsc(r).status.running {
                if let Some(&f) = fence_ids.get(&m.0) {
                    g.order(&[f], &[s]);
                }
            }
            starts.push(s);
        }
        if let Some((n, why)) = &plan.blocked_start
            && *why != BlockedWhy::Silent
        {
            g.add(Action {
                task: Task::Start,
                rsc: Some(r),
                node: *n,
                pseudo: false,
                blocked: true,
                reason: match why {
                    BlockedWhy::Because(text) => Some(text.clone()),
                    _ => None,
                },
            });
        }
        if let Some(n) = plan.reload_on {
            g.add(Action {
                task: Task::Reload,
                rsc: Some(r),
                node: n,
                pseudo: false,
                blocked: false,
                reason: None,
            });
        }
        if plan.promote {
            let node = plan
                .start_on
                .or_else(|| cluster.rsc(r).status.current_node());
            if let Some(n) = node {
                let p = g.add(Action {
                    task: Task::Promote,
                    rsc: Some(r),
                    node: n,
                    pseudo: false,
                    blocked: false,
                    reason: None,
                });
                g.order(&starts, &[p]);
            }
        }
    }
    add_ordering_edges(cluster, &mut g);
    g
}

/// Group member order and order constraints, with their implied reverse
/// for stops.
fn add_ordering_edges(cluster: &Cluster, g: &mut Graph) {
    let mut pairs: Vec<(Vec<RscIdx>, Vec<RscIdx>, bool)> = Vec::new();
    for r in 0..cluster.rscs.len() {
        if let RscKind::Group { members } = &cluster.rsc(RscIdx(r)).kind {
            for w in members
                .windows(2)
                .filter(|w| cluster.rsc(w[1]).meta.ordered)
            {
                pairs.push((vec![w[0]], vec![w[1]], true));
            }
        }
    }
    for o in &cluster.orders {
        let mut first = Vec::new();
        cluster.collect_primitives(o.first, &mut first);
        let mut then = Vec::new();
        cluster.collect_primitives(o.then, &mut then);
        if o.first_action == "start" && o.then_action == "start" {
            pairs.push((first, then, o.symmetrical));
        }
    }
    for (first, then, symmetrical) in pairs {
        for &f in &first {
            for &t in &then {
                let fs = g.find(Task::Start, f);
                let ts = g.find(Task::Start, t);
                g.order(&fs, &ts);
                if symmetrical {
                    let tstop = g.find(Task::Stop, t);
                    let fstop = g.find(Task::Stop, f);
                    g.order(&tstop, &fstop);
                }
            }
        }
    }
}
