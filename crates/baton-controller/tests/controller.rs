//! The controller over a model group: one CIB, one DC, acknowledged
//! writes, join rounds, attributes and status.

mod common;

use baton_cib::Cib;
use baton_controller::{
    Base, CONTROLLER_RESTART_GRACE_MS, DROPPED_CONFIGURATION_ATTRIBUTE, Event, GroupEvent,
    HistorySlot, LeaveReason, Lifetime, Member, NodeId, OpRecord, Request, RequestError, Term,
};
use common::{Cluster, origin};

fn write_resource(cluster: &mut Cluster, n: u32, id: &str) -> u64 {
    let cib = cluster.with_resource(n, id);
    let base = Some(cluster.nodes[&n].controller.base());
    cluster.request(
        n,
        Request::ReplaceConfiguration {
            cib,
            base,
            origin: origin(),
        },
    )
}

fn assert_one_cib(cluster: &Cluster) {
    let texts: Vec<(u32, String)> = cluster
        .nodes
        .keys()
        .map(|n| (*n, cluster.cib_text(*n)))
        .collect();
    for (n, text) in &texts[1..] {
        assert_eq!(
            text, &texts[0].1,
            "node {n}'s CIB differs from node {}'s",
            texts[0].0
        );
    }
}

#[test]
fn three_nodes_agree_on_one_dc_and_one_cib() {
    let cluster = Cluster::started(3);
    for n in 1..=3 {
        assert_eq!(cluster.dc(n), Some(1), "node {n}'s DC");
    }
    assert_one_cib(&cluster);
    let cib = cluster.cib(1);
    let names: Vec<String> = cib
        .nodes()
        .filter_map(|n| n.uname().map(str::to_owned))
        .collect();
    assert_eq!(names, ["n1", "n2", "n3"]);
    for state in cib.node_states() {
        assert_eq!(state.crmd(), Some("online"), "{:?}", state.uname());
        assert_eq!(state.join(), Some("member"));
    }
    assert_eq!(cib.dc_uuid(), Some("1"));
    assert_eq!(cib.have_quorum().ok().flatten(), Some(true));
}

#[test]
fn a_write_is_on_every_node_when_it_is_acknowledged() {
    let mut cluster = Cluster::started(3);
    let id = write_resource(&mut cluster, 2, "vip");
    cluster.settle();
    let reply = cluster
        .reply(2, id)
        .expect("a reply")
        .clone()
        .expect("written");
    assert!(reply.changed);
    assert!(!reply.without_quorum);
    assert!(cluster.everyone_has("vip"));
    assert_one_cib(&cluster);
    for n in 1..=3 {
        assert!(
            cluster.disks[&n].0.contains("id=\"vip\""),
            "node {n} persisted the write"
        );
    }
    assert_eq!(cluster.cib(3).attr("update-origin"), Some("n2"));
    assert_eq!(
        cluster.cib(3).attr("cib-last-written"),
        Some("Thu Dec  3 06:42:30 2026")
    );
}

#[test]
fn the_writer_answers_only_after_every_member_confirmed() {
    let mut cluster = Cluster::started(3);
    let id = write_resource(&mut cluster, 1, "vip");
    // Deliver messages one at a time until node 1 applied its own write;
    // the others' confirmations come after it.
    let mut steps = 0;
    while !cluster.cib_text(1).contains("id=\"vip\"") && steps < 10 {
        cluster.step();
        steps += 1;
    }
    assert!(
        cluster.cib_text(1).contains("id=\"vip\""),
        "node 1 applied its write"
    );
    assert!(
        cluster.reply(1, id).is_none(),
        "answered before the others confirmed"
    );
    cluster.settle();
    assert!(cluster.reply(1, id).is_some_and(Result::is_ok));
}

#[test]
fn of_two_writes_made_from_one_version_one_wins_and_the_other_is_refused() {
    let mut cluster = Cluster::started(3);
    let first = write_resource(&mut cluster, 1, "from-one");
    let second = write_resource(&mut cluster, 3, "from-three");
    cluster.settle();
    let results = [cluster.reply(1, first), cluster.reply(3, second)];
    let won = results
        .iter()
        .filter(|r| r.is_some_and(Result::is_ok))
        .count();
    assert_eq!(won, 1, "{results:?}");
    let refused = results
        .iter()
        .find_map(|r| match r {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        })
        .expect("one refused");
    assert!(
        matches!(refused, RequestError::Conflict { .. }),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains("nothing was changed"),
        "{refused}"
    );
    let loser = if cluster.reply(1, first).is_some_and(Result::is_ok) {
        "from-three"
    } else {
        "from-one"
    };
    for n in 1..=3 {
        assert!(
            !cluster.cib_text(n).contains(loser),
            "node {n} half-applied {loser}"
        );
    }
    assert_one_cib(&cluster);
}

#[test]
fn a_write_from_an_old_copy_is_refused_at_once() {
    let mut cluster = Cluster::started(2);
    write_resource(&mut cluster, 1, "first");
    cluster.settle();
    let stale = Request::ReplaceConfiguration {
        cib: cluster.with_resource(2, "second"),
        base: Some(Base {
            admin_epoch: 0,
            epoch: 1,
            digest: String::new(),
        }),
        origin: origin(),
    };
    let id = cluster.request(2, stale);
    cluster.settle();
    let error = cluster
        .reply(2, id)
        .expect("reply")
        .clone()
        .expect_err("refused");
    assert!(error.to_string().contains("last written by n1"), "{error}");
}

#[test]
fn when_the_dc_dies_the_lowest_remaining_node_takes_over() {
    let mut cluster = Cluster::started(3);
    cluster.stop(1, LeaveReason::ProcessDown);
    cluster.settle();
    assert_eq!(cluster.dc(2), Some(2));
    assert_eq!(cluster.dc(3), Some(2));
    let crmd = |cluster: &Cluster| {
        cluster
            .cib(2)
            .node_states()
            .find(|s| s.uname() == Some("n1"))
            .and_then(|s| s.crmd().map(str::to_owned))
    };
    assert_eq!(
        crmd(&cluster).as_deref(),
        Some("online"),
        "its node is still in the ring: its controller may be restarting"
    );
    cluster.advance(CONTROLLER_RESTART_GRACE_MS);
    let state = cluster
        .cib(2)
        .node_states()
        .find(|s| s.uname() == Some("n1"))
        .expect("n1's state");
    assert_eq!(
        state.crmd(),
        Some("offline"),
        "it did not come back in time"
    );
    assert_eq!(
        state.expected(),
        Some("member"),
        "a crash is not a clean leave"
    );
    // The old DC comes back: the current DC stays.
    cluster.start(1);
    cluster.settle();
    for n in 1..=3 {
        assert_eq!(cluster.dc(n), Some(2), "node {n}");
    }
    assert_one_cib(&cluster);
}

#[test]
fn a_clean_leave_is_recorded_as_expected_down() {
    let mut cluster = Cluster::started(3);
    cluster.stop(3, LeaveReason::Leave);
    cluster.settle();
    let state = cluster
        .cib(1)
        .node_states()
        .find(|s| s.uname() == Some("n3"))
        .expect("n3's state");
    assert_eq!(state.expected(), Some("down"));
}

#[test]
fn a_durable_change_beats_more_changes_made_without_quorum_and_those_are_kept() {
    let mut cluster = Cluster::started(3);
    cluster.repartition(vec![vec![1, 2], vec![3]]);
    cluster.settle();
    let majority = write_resource(&mut cluster, 1, "majority-change");
    cluster.settle();
    assert!(
        cluster
            .reply(1, majority)
            .is_some_and(|r| r.as_ref().is_ok_and(|w| !w.without_quorum)),
        "two of three nodes hold it: durable"
    );
    for id in ["minority-a", "minority-b"] {
        let minority = write_resource(&mut cluster, 3, id);
        cluster.settle();
        assert!(
            cluster
                .reply(3, minority)
                .is_some_and(|r| r.as_ref().is_ok_and(|w| w.without_quorum)),
            "one node of three: not durable, and the answer says so"
        );
    }
    cluster.repartition(vec![vec![1, 2, 3]]);
    cluster.settle();
    assert_one_cib(&cluster);
    assert!(cluster.everyone_has("majority-change"));
    assert!(!cluster.cib_text(3).contains("minority-b"));
    let kept = &cluster.dropped[&3];
    assert!(kept[0].contains("minority-b"), "node 3 keeps what it lost");
    let note = cluster
        .cib(1)
        .nodes()
        .find(|n| n.uname() == Some("n3"))
        .and_then(|n| n.attribute(DROPPED_CONFIGURATION_ATTRIBUTE))
        .map(str::to_owned);
    assert!(
        note.as_deref().is_some_and(|n| n.contains("replaced by")),
        "the cluster records it: {note:?}"
    );
    assert!(cluster.nodes[&1].events.iter().any(|e| matches!(
        e,
        Event::ConfigurationDropped {
            node: NodeId(3),
            ..
        }
    )));
}

#[test]
fn changes_made_alone_are_kept_when_the_others_made_none() {
    let mut cluster = Cluster::started(3);
    cluster.repartition(vec![vec![1, 2], vec![3]]);
    cluster.settle();
    write_resource(&mut cluster, 3, "alone");
    cluster.settle();
    cluster.repartition(vec![vec![1, 2, 3]]);
    cluster.settle();
    assert_one_cib(&cluster);
    assert!(cluster.everyone_has("alone"));
    assert!(
        cluster.dropped.is_empty(),
        "an older copy of the same history loses nothing"
    );
    assert!(
        !cluster
            .cib_text(1)
            .contains(DROPPED_CONFIGURATION_ATTRIBUTE)
    );
}

#[test]
fn nodes_that_learned_each_other_in_another_order_merge_without_a_warning() {
    let mut cluster = Cluster::new(2);
    cluster.repartition(vec![vec![1], vec![2]]);
    cluster.start(1);
    cluster.start(2);
    cluster.advance(2_500);
    cluster.repartition(vec![vec![1, 2]]);
    cluster.settle();
    assert_one_cib(&cluster);
    assert!(cluster.dropped.is_empty(), "no user change was lost");
    assert!(
        !cluster
            .cib_text(1)
            .contains(DROPPED_CONFIGURATION_ATTRIBUTE)
    );
}

#[test]
fn without_the_whole_nodelist_the_first_dc_waits_for_quiet_membership() {
    let mut cluster = Cluster::new(3);
    cluster.start(2);
    cluster.start(3);
    cluster.settle();
    assert_eq!(cluster.dc(2), None, "nobody takes over at once");
    cluster.advance(1_000);
    assert_eq!(cluster.dc(2), None, "not before the settle time");
    cluster.advance(1_500);
    assert_eq!(cluster.dc(2), Some(2));
    assert_eq!(cluster.dc(3), Some(2));
    // The whole nodelist at once: no waiting.
    let complete = Cluster::started(3);
    assert_eq!(complete.dc(3), Some(1));
}

#[test]
fn transient_attributes_vanish_with_their_node_and_permanent_ones_stay() {
    let mut cluster = Cluster::started(3);
    for (name, lifetime) in [("cache", Lifetime::Reboot), ("rack", Lifetime::Forever)] {
        cluster.request(
            1,
            Request::SetNodeAttribute {
                node: "n3".into(),
                name: name.into(),
                value: Some("a".into()),
                lifetime,
                origin: origin(),
            },
        );
    }
    cluster.settle();
    let transient = |c: &Cluster, n: u32| {
        c.cib(n)
            .node_states()
            .find(|s| s.uname() == Some("n3"))
            .is_some_and(|s| {
                s.transient_attributes()
                    .any(|set| set.get("cache").is_some())
            })
    };
    assert!(transient(&cluster, 2));
    let permanent = |c: &Cluster, n: u32| {
        c.cib(n)
            .nodes()
            .find(|x| x.uname() == Some("n3"))
            .and_then(|x| x.attribute("rack").map(str::to_owned))
    };
    assert_eq!(permanent(&cluster, 2).as_deref(), Some("a"));
    cluster.repartition(vec![vec![1, 2], vec![3]]);
    cluster.settle();
    assert!(!transient(&cluster, 1), "gone with its node");
    assert_eq!(permanent(&cluster, 1).as_deref(), Some("a"));
}

#[test]
fn a_restarted_controller_gets_the_cluster_state_and_keeps_its_attributes() {
    let mut cluster = Cluster::started(3);
    cluster.request(
        2,
        Request::SetNodeAttribute {
            node: "n2".into(),
            name: "fail-count-vip#monitor_10000".into(),
            value: Some("1".into()),
            lifetime: Lifetime::Reboot,
            origin: origin(),
        },
    );
    write_resource(&mut cluster, 1, "vip");
    cluster.settle();
    cluster.stop(2, LeaveReason::ProcessDown);
    cluster.settle();
    cluster.start(2);
    cluster.settle();
    assert_one_cib(&cluster);
    assert!(cluster.cib_text(2).contains("id=\"vip\""));
    assert!(
        cluster
            .cib_text(1)
            .contains("status-2-fail-count-vip.monitor_10000"),
        "its node stayed in the ring, so its transient attributes stay"
    );
}

#[test]
fn status_is_rebuilt_from_each_nodes_own_history() {
    let mut cluster = Cluster::new(2);
    // vip is configured, so the history says where it runs.
    let mut configured = Cib::empty();
    let resources = configured.ensure_section("resources");
    configured.document_mut().append_new(
        resources,
        "primitive",
        &[
            ("id", "vip"),
            ("class", "ocf"),
            ("provider", "heartbeat"),
            ("type", "IPaddr2"),
        ],
    );
    let text = configured.to_xml(baton_cib::xml::Style::Compact);
    for n in [1, 2] {
        cluster.disks.insert(n, (text.clone(), Term::default()));
    }
    cluster.histories.insert(
        2,
        vec![OpRecord {
            slot: HistorySlot::Last,
            resource: "vip".into(),
            class: "ocf".into(),
            provider: Some("heartbeat".into()),
            agent: "IPaddr2".into(),
            operation: "start".into(),
            interval_ms: 0,
            call_id: 7,
            rc: 0,
            op_status: 0,
            last_rc_change_s: 1_796_280_150,
            exec_ms: 30,
            queue_ms: 0,
            exit_reason: String::new(),
            transition_key: Some("3:1:0:00000000-0000-0000-0000-000000000001".into()),
            op_digest: None,
        }],
    );
    cluster.start(1);
    cluster.start(2);
    cluster.settle();
    assert!(cluster.nodes[&1].controller.status_complete());
    let cib = cluster.cib(1);
    let op = cib
        .node_states()
        .find(|s| s.uname() == Some("n2"))
        .and_then(|s| s.lrm_resources().next())
        .and_then(|r| r.ops().next())
        .expect("n2's recorded start");
    assert_eq!(op.id(), "vip_last_0");
    assert_eq!(op.operation_key(), Some("vip_start_0"));
    let text = cluster.cib_text(2);
    assert!(text.contains("transition-magic=\"0:0;3:1:0:"), "{text}");
}

#[test]
fn malformed_messages_are_counted_and_change_nothing() {
    let mut cluster = Cluster::started(2);
    let before = cluster.cib_text(1);
    let stranger = Member {
        node: NodeId(2),
        pid: 1,
    };
    for payload in [vec![], vec![9, 1, 2], vec![1, 1, b'{'], vec![1, 7]] {
        let now = cluster.now;
        cluster
            .nodes
            .get_mut(&1)
            .expect("node 1")
            .controller
            .handle_group(
                now,
                GroupEvent::Message {
                    sender: stranger,
                    payload,
                },
            );
    }
    cluster.settle();
    assert_eq!(cluster.nodes[&1].controller.malformed_messages(), 4);
    assert_eq!(cluster.cib_text(1), before);
}

#[test]
fn a_configuration_too_big_for_one_message_travels_in_parts() {
    let mut cluster = Cluster::started(2);
    let mut cib = cluster.cib(1).clone();
    // Nothing to run: this is about the size of the messages.
    cib.set_property("stop-all-resources", "true");
    cib.set_property("enable-startup-probes", "false");
    let resources = cib.ensure_section("resources");
    for i in 0..12_000 {
        let id = format!("rsc-with-a-long-name-{i:05}");
        cib.document_mut().append_new(
            resources,
            "primitive",
            &[
                ("id", &id),
                ("class", "ocf"),
                ("provider", "heartbeat"),
                ("type", "Dummy"),
            ],
        );
    }
    let text = cib.to_xml(baton_cib::xml::Style::Compact);
    assert!(text.len() > 1024 * 1024, "the test needs more than 1 MiB");
    let id = cluster.request(
        2,
        Request::ReplaceConfiguration {
            cib: text,
            base: None,
            origin: origin(),
        },
    );
    cluster.settle();
    assert!(cluster.reply(2, id).is_some_and(Result::is_ok));
    assert!(cluster.everyone_has("rsc-with-a-long-name-11999"));
    // A new member joins: the winner's CIB goes out in parts too.
    let mut bigger = Cluster::new(3);
    bigger.disks = cluster.disks.clone();
    bigger.start(1);
    bigger.start(2);
    bigger.start(3);
    bigger.settle();
    assert!(bigger.everyone_has("rsc-with-a-long-name-11999"));
}

#[test]
fn requests_before_joining_and_for_unknown_nodes_are_refused_with_reasons() {
    let mut cluster = Cluster::started(2);
    let id = cluster.request(
        1,
        Request::SetNodeAttribute {
            node: "n9".into(),
            name: "x".into(),
            value: Some("1".into()),
            lifetime: Lifetime::Forever,
            origin: origin(),
        },
    );
    cluster.settle();
    assert_eq!(
        cluster.reply(1, id),
        Some(&Err(RequestError::UnknownNode("n9".into())))
    );
    let id = cluster.request(
        1,
        Request::ReplaceConfiguration {
            cib: "<cib><configuration".into(),
            base: None,
            origin: origin(),
        },
    );
    cluster.settle();
    assert!(matches!(
        cluster.reply(1, id),
        Some(Err(RequestError::Invalid(_)))
    ));
}

/// Regression (baton-sim seed 517): a ring change delivered while a join
/// round decided was held, then dropped with everything else delivered
/// before the decision, and the winner's Sync carried the ring it had
/// applied, which missed it. The node that left stayed `in_ccm` until the
/// next ring change, so the scheduler did not see it lost.
#[test]
fn a_node_that_leaves_the_ring_while_a_round_decides_is_out_of_the_membership_after_it() {
    let mut cluster = Cluster::started(4);
    cluster.stop(4, LeaveReason::ProcessDown);
    cluster.settle();
    // Node 4's controller comes back: a join round starts, and before it
    // decides node 3 goes down and leaves the ring.
    cluster.start(4);
    cluster.crash(3);
    for n in [1, 2, 4] {
        assert!(cluster.nodes[&n].controller.status_complete(), "node {n}");
        let cib = cluster.cib(n);
        let state = cib
            .node_states()
            .find(|s| s.uname() == Some("n3"))
            .expect("n3's state");
        assert_eq!(state.in_ccm(), Some("false"), "on node {n}");
        assert_eq!(
            state.expected(),
            Some("member"),
            "a crash is no clean leave"
        );
    }
    assert_one_cib(&cluster);
}

/// The same for a node whose controller was already gone (restarting):
/// no view tells of it, only the ring does, and the ring adopted from the
/// round must do what a ring change does: its transient attributes go.
#[test]
fn a_restarting_node_that_leaves_the_ring_while_a_round_decides_loses_its_transient_attributes() {
    let mut cluster = Cluster::started(4);
    cluster.request(
        1,
        Request::SetNodeAttribute {
            node: "n3".into(),
            name: "cache".into(),
            value: Some("a".into()),
            lifetime: Lifetime::Reboot,
            origin: origin(),
        },
    );
    cluster.settle();
    cluster.stop(3, LeaveReason::ProcessDown);
    cluster.stop(4, LeaveReason::ProcessDown);
    cluster.settle();
    let n3 = |c: &Cluster, n: u32| {
        let cib = c.cib(n);
        let state = cib
            .node_states()
            .find(|s| s.uname() == Some("n3"))
            .expect("n3's state");
        let cached = state
            .transient_attributes()
            .any(|set| set.get("cache").is_some());
        (state.in_ccm().map(str::to_owned), cached)
    };
    assert_eq!(n3(&cluster, 1), (Some("true".into()), true), "restarting");
    cluster.start(4);
    cluster.crash(3);
    for n in [1, 2, 4] {
        assert_eq!(
            n3(&cluster, n),
            (Some("false".into()), false),
            "on node {n}"
        );
    }
    assert_one_cib(&cluster);
}

/// A node in the ring whose controller was never seen has no expected
/// state: nothing says it was ever up for the cluster, and the scheduler
/// fences a node expected up whose controller is gone, so a controller
/// slower to start than its ring would be fenced.
#[test]
fn a_node_in_the_ring_whose_controller_never_joined_is_not_expected_up_until_it_leaves() {
    let mut cluster = Cluster::started(3);
    // The whole cluster restarts; node 3's ring is back, its controller
    // not yet. The nodes section names it, the status (never kept) does not.
    for n in 1..=3 {
        cluster.stop(n, LeaveReason::Leave);
    }
    cluster.start(1);
    cluster.start(2);
    cluster.settle();
    cluster.advance(2_000);
    assert_eq!(cluster.dc(1), Some(1));
    let cib = cluster.cib(1);
    let state = cib
        .node_states()
        .find(|s| s.uname() == Some("n3"))
        .expect("n3 is in the ring: it has a state");
    assert_eq!(state.in_ccm(), Some("true"));
    assert_eq!(state.crmd(), Some("offline"));
    assert_eq!(state.expected(), None, "never seen up");

    // It leaves the ring without its controller ever having been seen:
    // nobody here knows what it ran, so it counts as up (and is fenced).
    cluster.repartition(vec![vec![1, 2], vec![3]]);
    cluster.settle();
    let state = cluster
        .cib(1)
        .node_states()
        .find(|s| s.uname() == Some("n3"))
        .expect("n3 keeps its state");
    assert_eq!(state.in_ccm(), Some("false"));
    assert_eq!(
        state.expected(),
        Some("member"),
        "a node gone whose state nobody knows may run anything"
    );
}
