//! The status serializes to the `baton quorum status --output json` schema.

use baton_quorum::{Millis, NodeId, NodeVotes, Quorum, QuorumConfig, RingId, Votes};

#[test]
fn status_json_schema() {
    let mut config = QuorumConfig::with_nodes([NodeId(1), NodeId(2)]);
    config.nodes[0].name = Some("node1".to_owned());
    config.nodes.push(NodeVotes {
        votes: Votes(2),
        ..NodeVotes::new(NodeId(3))
    });
    config.two_node = true;
    let mut quorum = Quorum::new(&config).expect("valid config");
    let ring = RingId {
        rep: NodeId(1),
        seq: 0x1c,
    };
    quorum.membership_changed(Millis(0), ring, &[NodeId(3), NodeId(1)]);
    let json = serde_json::to_value(quorum.status()).expect("serializes");
    let want = serde_json::json!({
        "quorate": true,
        "expected_votes": 4,
        "highest_expected": 4,
        "total_votes": 3,
        "quorum": 3,
        "flags": ["Quorate"],
        "wait_for_all_status": false,
        "ring_id": "1.1c",
        "members": [
            {"node_id": 1, "name": "node1", "votes": 1},
            {"node_id": 3, "name": null, "votes": 2},
        ],
    });
    assert_eq!(json, want);
}

#[test]
fn status_before_any_membership() {
    let config = QuorumConfig {
        two_node: true,
        ..QuorumConfig::with_nodes([NodeId(1), NodeId(2)])
    };
    let quorum = Quorum::new(&config).expect("valid config");
    let json = serde_json::to_value(quorum.status()).expect("serializes");
    assert_eq!(json["ring_id"], serde_json::Value::Null);
    assert_eq!(json["flags"], serde_json::json!(["2Node", "WaitForAll"]));
    assert_eq!(json["members"], serde_json::json!([]));
    assert_eq!(quorum.status().flags.to_string(), "2Node WaitForAll");
}
