//! Tickets (`rsc_ticket`): a resource that depends on a ticket may run
//! only while the ticket is granted to this site and not in standby. What
//! losing it does is the constraint's `loss-policy`.

use baton_cib::model::{Constraint, parse_bool};
use baton_cib::{Cib, Score};
use std::collections::BTreeMap;

use super::{Cluster, LocationPref, NodeIdx, NodeState, Role, RscIdx};

/// What a lost ticket does to the resources that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loss {
    Stop,
    /// Only promotion is lost.
    Demote,
    /// The nodes running it are fenced.
    Fence,
    /// What runs stays; nothing new starts.
    Freeze,
}

#[derive(Debug, Clone, Copy, Default)]
struct TicketState {
    granted: bool,
    standby: bool,
}

fn ticket_states(cib: &Cib) -> BTreeMap<String, TicketState> {
    let mut states = BTreeMap::new();
    let Some(status) = cib.status() else {
        return states;
    };
    for tickets in status.children_named("tickets") {
        for t in tickets.children_named("ticket_state") {
            let flag = |name: &str| t.attr(name).and_then(parse_bool).unwrap_or(false);
            states.insert(
                t.xml_id().to_owned(),
                TicketState {
                    granted: flag("granted"),
                    standby: flag("standby"),
                },
            );
        }
    }
    states
}

/// Applies every ticket that is not usable: bans, promotion bans, fencing.
pub fn apply(cib: &Cib, cluster: &mut Cluster) {
    let states = ticket_states(cib);
    for c in cib.constraints() {
        let Constraint::Ticket(t) = c else { continue };
        let state = t
            .ticket()
            .and_then(|name| states.get(name))
            .copied()
            .unwrap_or_default();
        if state.granted && !state.standby {
            continue;
        }
        let is_promoted = |r: Option<&str>| {
            r.is_some_and(|r| {
                r.eq_ignore_ascii_case("promoted") || r.eq_ignore_ascii_case("master")
            })
        };
        // (resource, whether only its promoted role depends on the ticket)
        let mut subjects: Vec<(&str, bool)> = t
            .rsc()
            .map(|r| (r, is_promoted(t.rsc_role())))
            .into_iter()
            .collect();
        for set in t.resource_sets() {
            let promoted = is_promoted(set.role());
            subjects.extend(set.resources().map(|r| (r, promoted)));
        }
        for (name, promoted_only) in subjects {
            // A ticket in standby is being handed over: what depends on
            // it is demoted (or stopped), never fenced or frozen.
            let loss = match (state.granted, t.loss_policy()) {
                (true, Some("stop") | None) => Loss::Stop,
                (true, _) if promoted_only => Loss::Demote,
                (true, _) => Loss::Stop,
                (false, Some("demote")) if promoted_only => Loss::Demote,
                (false, Some("fence")) => Loss::Fence,
                (false, Some("freeze")) => Loss::Freeze,
                (false, _) => Loss::Stop,
            };
            for r in cluster.resolve(name) {
                lose(cluster, r, loss, promoted_only);
            }
        }
    }
}

fn lose(cluster: &mut Cluster, r: RscIdx, loss: Loss, promoted_only: bool) {
    let all_nodes: Vec<NodeIdx> = (0..cluster.nodes.len()).map(NodeIdx).collect();
    let mut prims = Vec::new();
    cluster.collect_primitives(r, &mut prims);
    // Where it runs in the role the ticket governs.
    let governed_on: Vec<NodeIdx> = prims
        .iter()
        .flat_map(|&p| cluster.rsc(p).status.running.iter())
        .filter(|(_, role)| !promoted_only || *role == Role::Promoted)
        .map(|(n, _)| *n)
        .collect();
    let ban_promotion = match loss {
        Loss::Demote => true,
        Loss::Freeze | Loss::Fence => promoted_only,
        Loss::Stop => false,
    };
    if ban_promotion {
        for &node in all_nodes
            .iter()
            .filter(|n| loss != Loss::Freeze || !governed_on.contains(n))
        {
            cluster.locations.push(LocationPref {
                rsc: r,
                node,
                score: Score::NEG_INFINITY,
                promoted_only: true,
                recursive: false,
            });
        }
    }
    if loss == Loss::Fence {
        for &n in &governed_on {
            let node = &mut cluster.nodes[n.0];
            if node.is_online() {
                node.state = NodeState::Unclean("deadman ticket was lost".to_owned());
            }
        }
    }
    if ban_promotion {
        return;
    }
    for p in prims {
        let status = &mut cluster.rscs[p.0].status;
        for &n in &all_nodes {
            if !(loss == Loss::Freeze && governed_on.contains(&n)) {
                status.banned.insert(n);
            }
        }
    }
}
