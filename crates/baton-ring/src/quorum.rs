//! votequorum on the ring: its configuration from the cluster config, and
//! the payload framing that keeps its NodeInfo apart from other messages
//! delivered in agreed order.

use baton_config::ClusterConfig;
use baton_quorum::{NodeId, NodeInfo, NodeVotes, QuorumConfig, TieBreaker, Votes};

use crate::local::Member;

/// First byte of a delivered payload: who it is for. Unknown tags are
/// ignored, so later services can share the ring with older nodes.
pub const TAG_NODE_INFO: u8 = 1;
const NODE_INFO_LEN: usize = 1 + 4 + 1 + 1;

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
        expected_votes: q.expected_votes.map(Votes),
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

pub fn encode(info: &NodeInfo) -> Vec<u8> {
    let mut out = Vec::with_capacity(NODE_INFO_LEN);
    out.push(TAG_NODE_INFO);
    out.extend_from_slice(&info.expected_votes.0.to_be_bytes());
    out.push(u8::from(info.quorate));
    out.push(u8::from(info.wait_for_all_status));
    out
}

/// `None` for another service's payload or a malformed one.
pub fn decode(payload: &[u8]) -> Option<NodeInfo> {
    let [TAG_NODE_INFO, a, b, c, d, quorate, wfa] = *payload else {
        return None;
    };
    Some(NodeInfo {
        expected_votes: Votes(u32::from_be_bytes([a, b, c, d])),
        quorate: quorate != 0,
        wait_for_all_status: wfa != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_info_round_trips_and_rejects_others() {
        let info = NodeInfo {
            expected_votes: Votes(5),
            quorate: true,
            wait_for_all_status: false,
        };
        assert_eq!(decode(&encode(&info)), Some(info));
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[2, 0, 0, 0, 5, 1, 0]), None);
        assert_eq!(decode(&encode(&info)[..6]), None);
    }
}
