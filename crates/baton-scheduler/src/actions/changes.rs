//! The decisions, resource by resource: which primitive starts, stops,
//! promotes, demotes or reloads where (needed but blocked ones included,
//! with why), with the orderings between them. The Transition Summary is
//! read from it, and the transition graph is built around it.

use std::collections::BTreeMap;

use super::{BlockedWhy, Plan};
use crate::unpack::{Cluster, NodeIdx, RscIdx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeId(pub usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    Fence,
    Demote,
    Stop,
    Start,
    Promote,
    /// The agent takes new parameters in place.
    Reload,
}

#[derive(Debug, Clone)]
pub struct Change {
    pub task: Verb,
    pub rsc: Option<RscIdx>,
    pub node: NodeIdx,
    /// Implied by fencing the node: nothing is executed.
    pub pseudo: bool,
    /// Needed but not runnable (kept so the summary can say `(blocked)`).
    pub blocked: bool,
    /// A blocked start the summary does not list: another line already
    /// explains it.
    pub silent: bool,
    /// Why, for the summary (`due to ...`).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub actions: Vec<Change>,
    /// Fence reasons by node.
    pub fence_reason: BTreeMap<NodeIdx, String>,
    /// Each resource's actions, in the order they were added: ordering
    /// and the summary look actions up by resource, and scanning every
    /// action for each lookup made large clusters quadratic.
    by_rsc: BTreeMap<RscIdx, Vec<ChangeId>>,
}

impl Changes {
    fn add(&mut self, action: Change) -> ChangeId {
        let id = ChangeId(self.actions.len());
        if let Some(rsc) = action.rsc {
            self.by_rsc.entry(rsc).or_default().push(id);
        }
        self.actions.push(action);
        id
    }

    fn ids_of(&self, rsc: RscIdx) -> impl Iterator<Item = ChangeId> + '_ {
        self.by_rsc.get(&rsc).into_iter().flatten().copied()
    }

    pub fn actions_of(&self, rsc: RscIdx) -> impl Iterator<Item = &Change> {
        self.ids_of(rsc).map(|id| &self.actions[id.0])
    }
}

pub fn build(
    cluster: &Cluster,
    plans: &BTreeMap<RscIdx, Plan>,
    fenced: &[(NodeIdx, String)],
) -> Changes {
    let mut g = Changes::default();
    for (n, why) in fenced {
        g.add(Change {
            task: Verb::Fence,
            rsc: None,
            node: *n,
            pseudo: false,
            blocked: false,
            silent: false,
            reason: Some(why.clone()),
        });
        g.fence_reason.insert(*n, why.clone());
    }
    for (&r, plan) in plans {
        for &n in &plan.stop_on {
            let role = cluster
                .rsc(r)
                .status
                .running
                .iter()
                .find(|(m, _)| *m == n)
                .map(|(_, r)| *r);
            let pseudo = g.fence_reason.contains_key(&n);
            if plan.demote && role == Some(crate::unpack::Role::Promoted) {
                g.add(Change {
                    task: Verb::Demote,
                    rsc: Some(r),
                    node: n,
                    pseudo,
                    blocked: false,
                    silent: false,
                    reason: None,
                });
            }
            g.add(Change {
                task: Verb::Stop,
                rsc: Some(r),
                node: n,
                pseudo,
                blocked: plan.stop_blocked,
                silent: false,
                reason: plan.stop_reason.clone(),
            });
        }
        // A demote in place (no stop).
        if plan.demote && plan.stop_on.is_empty() {
            for &(n, _) in &cluster.rsc(r).status.running {
                g.add(Change {
                    task: Verb::Demote,
                    rsc: Some(r),
                    node: n,
                    pseudo: false,
                    blocked: false,
                    silent: false,
                    reason: None,
                });
            }
        }
        if let Some(n) = plan.start_on {
            g.add(Change {
                task: Verb::Start,
                rsc: Some(r),
                node: n,
                pseudo: false,
                blocked: false,
                silent: false,
                reason: plan.restart_reason.clone(),
            });
        }
        if let Some((n, why)) = &plan.blocked_start {
            g.add(Change {
                task: Verb::Start,
                rsc: Some(r),
                node: *n,
                pseudo: false,
                blocked: true,
                silent: *why == BlockedWhy::Silent || plan.blocked_promote,
                reason: match why {
                    BlockedWhy::Because(text) => Some(text.clone()),
                    _ => None,
                },
            });
            if plan.blocked_promote {
                g.add(Change {
                    task: Verb::Promote,
                    rsc: Some(r),
                    node: *n,
                    pseudo: false,
                    blocked: true,
                    silent: false,
                    reason: None,
                });
            }
        }
        // A restart there makes the reload moot.
        if let Some(n) = plan.reload_on.filter(|n| !plan.stop_on.contains(n)) {
            g.add(Change {
                task: Verb::Reload,
                rsc: Some(r),
                node: n,
                pseudo: false,
                blocked: false,
                silent: false,
                reason: None,
            });
        }
        if plan.promote {
            let node = plan
                .start_on
                .or_else(|| cluster.rsc(r).status.current_node());
            if let Some(n) = node {
                g.add(Change {
                    task: Verb::Promote,
                    rsc: Some(r),
                    node: n,
                    pseudo: false,
                    blocked: false,
                    silent: false,
                    reason: None,
                });
            }
        }
    }
    g
}
