//! Process groups across real `baton-ringd` processes in network
//! namespaces: members on every node see one message order, and leaving,
//! vanishing and node death are told apart.

#[path = "ring/cluster.rs"]
mod cluster;
#[path = "ring/group_client.rs"]
mod group_client;
#[path = "ring/netns.rs"]
mod netns;

use std::time::Duration;

use baton_proto::ring::ChangeReason;
use cluster::*;
use group_client::Member;

const MESSAGES_PER_SENDER: u32 = 200;
const EVENT_WAIT: Duration = Duration::from_secs(20);

#[test]
fn three_nodes_share_one_message_order_and_see_why_members_leave() {
    let Some(bin) = prerequisites() else { return };
    let (mut net, dir, config) = setup(3, &ConfigOptions::default());
    let pids = start_all(&mut net, &bin, dir.path(), &config);
    for log in net.logs.clone() {
        assert!(
            wait_for_ring(&log, &members(&[1, 2, 3]), Duration::from_secs(10)).is_some(),
            "{} never saw the 3-node ring",
            log.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut members = runtime.block_on(async {
        let mut members = Vec::new();
        for (n, pid) in [(1, 101), (2, 102), (3, 103), (3, 203)] {
            members.push(Member::join(&ringd_socket(dir.path(), n), "crmd", pid).await);
        }
        for member in &mut members {
            let seen = member.wait_for_members(4, EVENT_WAIT).await;
            assert_eq!(seen, [(1, 101), (2, 102), (3, 103), (3, 203)]);
        }
        members
    });

    // Three senders on three nodes at once; every member, the senders
    // included, must see the same 600 messages in the same order.
    let orders = runtime.block_on(async {
        for i in 0..MESSAGES_PER_SENDER {
            for member in &members[..3] {
                member.send(i.to_be_bytes().to_vec()).await;
            }
        }
        let mut orders = Vec::new();
        for member in &mut members {
            let total = 3 * MESSAGES_PER_SENDER as usize;
            orders.push(member.messages(total, EVENT_WAIT).await);
        }
        orders
    });
    for (i, order) in orders.iter().enumerate().skip(1) {
        assert!(order == &orders[0], "member {i} saw another order");
    }
    for sender in [(1, 101), (2, 102), (3, 103)] {
        let sent: Vec<u32> = orders[0]
            .iter()
            .filter(|(node, pid, _)| (*node, *pid) == sender)
            .map(|(_, _, payload)| u32::from_be_bytes(payload[..4].try_into().expect("4 bytes")))
            .collect();
        let expected: Vec<u32> = (0..MESSAGES_PER_SENDER).collect();
        assert_eq!(sent, expected, "{sender:?}'s messages out of order or lost");
    }

    let vanished = members.pop().expect("member 3:203");
    let left = members.remove(1);
    runtime.block_on(async {
        // A process that disconnects without leaving is process down...
        drop(vanished);
        assert_eq!(
            members[0].next_leave(EVENT_WAIT).await,
            [(3, 203, ChangeReason::ProcDown)]
        );
        // ...one that leaves is a leave.
        left.leave().await;
        assert_eq!(
            members[0].next_leave(EVENT_WAIT).await,
            [(2, 102, ChangeReason::Leave)]
        );
    });
    let groups = baton_json(&bin, dir.path(), 1, &["ring", "groups"]);
    assert_eq!(
        groups,
        serde_json::json!({"groups": [{"name": "crmd", "members": [
            {"node_id": 1, "pid": 101}, {"node_id": 3, "pid": 103}
        ]}]})
    );

    // When a node dies, its members leave with node down.
    net.kill9(pids[2]);
    runtime.block_on(async {
        assert_eq!(
            members[0].next_leave(EVENT_WAIT).await,
            [(3, 103, ChangeReason::NodeDown)]
        );
    });
}
