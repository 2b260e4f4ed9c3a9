//! votequorum's configuration from the cluster config (its payload framing
//! is `baton_quorum::wire`).

use baton_config::ClusterConfig;
use baton_quorum::{NodeId, NodeVotes, QuorumConfig, TieBreaker, Votes};

use crate::local::Member;

/// Pacemaker's `expected-quorum-votes` default under corosync 1.x.
const PLUGIN_EXPECTED_VOTES: u32 = 2;

pub fn config(cluster: &ClusterConfig, members: &[Member]) -> QuorumConfig {
    let q = &cluster.quorum;
    QuorumConfig {
        nodes: members
            .iter()
            .map(|m| NodeVotes {
                id: NodeId(m.node_id),
                name: Some(m.name.clone()),
                votes: Votes(m.votes),
            })
            .collect(),
        expected_votes: q.expected_votes.map(Votes).or_else(|| {
            // corosync 1.x with Pacemaker's plugin: no quorum section, no
            // nodelist. Quorum was a majority of the most nodes seen,
            // starting from Pacemaker's default expected-quorum-votes (2).
            (members.is_empty() && q.provider.is_none()).then_some(Votes(PLUGIN_EXPECTED_VOTES))
        }),
        two_node: q.two_node.unwrap_or(false),
        wait_for_all: q.wait_for_all,
        last_man_standing: q.last_man_standing.unwrap_or(false),
        last_man_standing_window_ms: q
            .last_man_standing_window_ms
            .unwrap_or(QuorumConfig::DEFAULT_LAST_MAN_STANDING_WINDOW_MS),
        auto_tie_breaker: q.auto_tie_breaker.unwrap_or(false),
        auto_tie_breaker_node: match &q.auto_tie_breaker_node {
            None | Some(baton_config::TieBreaker::Lowest) => TieBreaker::Lowest,
            Some(baton_config::TieBreaker::Highest) => TieBreaker::Highest,
            Some(baton_config::TieBreaker::Nodes(ids)) => {
                TieBreaker::Nodes(ids.iter().map(|id| NodeId(id.get())).collect())
            }
        },
        allow_downscale: false,
    }
}
