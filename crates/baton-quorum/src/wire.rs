//! How a [`NodeInfo`] travels on the ring: one agreed-order payload whose
//! first byte says it is votequorum's, so other services sharing the ring
//! (process groups use tag 2) tell it apart.

use crate::{NodeInfo, Votes};

/// First byte of a votequorum payload. Unknown tags are ignored, so later
/// services can share the ring with older nodes.
pub const TAG_NODE_INFO: u8 = 1;
const NODE_INFO_LEN: usize = 1 + 4 + 1 + 1;

impl NodeInfo {
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(NODE_INFO_LEN);
        out.push(TAG_NODE_INFO);
        out.extend_from_slice(&self.expected_votes.0.to_be_bytes());
        out.push(u8::from(self.quorate));
        out.push(u8::from(self.wait_for_all_status));
        out
    }

    /// `None` for another service's payload or a malformed one.
    #[must_use]
    pub fn decode(payload: &[u8]) -> Option<NodeInfo> {
        let [TAG_NODE_INFO, a, b, c, d, quorate, wait] = *payload else {
            return None;
        };
        Some(NodeInfo {
            expected_votes: Votes(u32::from_be_bytes([a, b, c, d])),
            quorate: quorate != 0,
            wait_for_all_status: wait != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_info_round_trips_and_other_payloads_are_not_node_info() {
        let info = NodeInfo {
            expected_votes: Votes(5),
            quorate: true,
            wait_for_all_status: false,
        };
        assert_eq!(NodeInfo::decode(&info.encode()), Some(info));
        assert_eq!(NodeInfo::decode(&[]), None);
        assert_eq!(NodeInfo::decode(&[2, 0, 0, 0, 5, 1, 0]), None);
        assert_eq!(NodeInfo::decode(&info.encode()[..6]), None);
        assert_eq!(NodeInfo::decode(&[0xA5; 7]), None);
    }
}
