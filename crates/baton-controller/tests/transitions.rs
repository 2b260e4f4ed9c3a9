//! The transition engine over a model group and model resources: resources
//! start where the scheduler says, exactly once; failures are counted and
//! recovered; nodes that leave are recovered from (after fencing when it is
//! enabled); a clean shutdown moves resources first.

mod common;

use baton_controller::{CONTROLLER_RESTART_GRACE_MS, Event, LeaveReason, Request, RequestError};
use common::world::Agent;
use common::{Cluster, fencing_device, meta, prefer, primitive};

/// A started three-node cluster running `vip`, with fencing (and a
/// fencing device) or without.
fn with_vip(fencing: bool) -> Cluster {
    let mut cluster = Cluster::started(3);
    cluster.configure(1, |cib| {
        cib.set_property("stonith-enabled", if fencing { "true" } else { "false" });
        if fencing {
            fencing_device(cib);
        }
        primitive(cib, "vip", "IPaddr2", "10s");
    });
    cluster
}

/// A started three-node cluster without fencing, where `vip` prefers n1
/// (score 100) and n1's agent for it behaves as `agent` says.
fn vip_preferring_n1(agent: Agent) -> Cluster {
    let mut cluster = Cluster::started(3);
    cluster.world.agents.insert((1, "vip".into()), agent);
    cluster.configure(1, |cib| {
        cib.set_property("stonith-enabled", "false");
        primitive(cib, "vip", "IPaddr2", "10s");
        prefer(cib, "vip", "n1", "100");
    });
    cluster
}

fn the_node_of(cluster: &Cluster, resource: &str) -> u32 {
    let nodes = cluster.world.where_active(resource);
    assert_eq!(nodes.len(), 1, "{resource} runs on {nodes:?}");
    nodes[0]
}

fn transient(cluster: &Cluster, n: u32, holder: u32, name: &str) -> Option<String> {
    let text = cluster.cib_text(n);
    let id = format!("status-{holder}-{}", name.replace('#', "."));
    let at = text.find(&format!("id=\"{id}\""))?;
    let rest = &text[at..];
    let value = rest.split("value=\"").nth(1)?;
    Some(value.split('"').next()?.to_owned())
}

#[test]
fn a_resource_starts_on_exactly_one_node_and_is_monitored() {
    let mut cluster = with_vip(false);
    let node = the_node_of(&cluster, "vip");
    assert_eq!(cluster.world.runs(node, "vip", "start"), 1);
    assert_eq!(
        cluster.world.runs(node, "vip", "monitor"),
        2,
        "probe, then the recurring monitor"
    );
    for n in 1..=3 {
        let text = cluster.cib_text(n);
        assert!(text.contains("id=\"vip_last_0\""), "n{n} records the start");
        assert!(
            text.contains("id=\"vip_monitor_10000\""),
            "n{n} records the monitor"
        );
        assert!(text.contains("transition-magic=\"0:0;"), "{text}");
    }
    // Nothing left to do: a recheck plans nothing, restarts nothing.
    let log = cluster.world.log.len();
    cluster.advance(16 * 60 * 1000);
    assert_eq!(
        cluster.world.log.len(),
        log,
        "{:?}",
        &cluster.world.log[log..]
    );
    let dc = cluster.dc(1).expect("a DC");
    let completed = cluster
        .events(dc)
        .iter()
        .filter(|e| matches!(e, Event::TransitionCompleted { .. }))
        .count();
    assert!(
        completed >= 2,
        "the first transition and the recheck completed"
    );
}

#[test]
fn a_failed_monitor_restarts_the_resource_in_place_and_counts_the_failure() {
    let mut cluster = with_vip(false);
    let node = the_node_of(&cluster, "vip");
    cluster.break_resource(node, "vip");
    assert_eq!(the_node_of(&cluster, "vip"), node, "restarted where it was");
    assert_eq!(cluster.world.runs(node, "vip", "start"), 2);
    for n in 1..=3 {
        assert_eq!(
            transient(&cluster, n, node, "fail-count-vip#monitor_10000").as_deref(),
            Some("1"),
            "n{n}'s copy counts the failure"
        );
        assert!(transient(&cluster, n, node, "last-failure-vip#monitor_10000").is_some());
        assert!(cluster.cib_text(n).contains("id=\"vip_last_failure_0\""));
    }
}

#[test]
fn after_migration_threshold_failures_the_resource_moves() {
    let mut cluster = with_vip(false);
    cluster.configure(1, |cib| meta(cib, "vip", "migration-threshold", "2"));
    let node = the_node_of(&cluster, "vip");
    cluster.break_resource(node, "vip");
    assert_eq!(
        the_node_of(&cluster, "vip"),
        node,
        "one failure: restarted in place"
    );
    cluster.break_resource(node, "vip");
    let moved = the_node_of(&cluster, "vip");
    assert_ne!(moved, node, "two failures: it moves");
}

#[test]
fn when_its_failure_times_out_the_resource_may_return_without_waiting_for_a_recheck() {
    let mut cluster = with_vip(false);
    let home = the_node_of(&cluster, "vip");
    cluster.configure(1, |cib| {
        meta(cib, "vip", "migration-threshold", "1");
        meta(cib, "vip", "failure-timeout", "60s");
        prefer(cib, "vip", &format!("n{home}"), "100");
    });
    cluster.break_resource(home, "vip");
    assert_ne!(
        the_node_of(&cluster, "vip"),
        home,
        "banned after one failure"
    );
    // Far sooner than cluster-recheck-interval (15 minutes).
    cluster.advance(62_000);
    assert_eq!(
        the_node_of(&cluster, "vip"),
        home,
        "back once the failure expired"
    );
}

#[test]
fn a_start_that_never_answers_fails_after_its_timeout_and_is_recovered_elsewhere() {
    let mut cluster = vip_preferring_n1(Agent::StartNeverAnswers);
    assert!(
        cluster.world.where_active("vip").is_empty(),
        "still starting"
    );
    // The start's timeout (20 s) plus cluster-delay (60 s).
    cluster.advance(81_000);
    let dc = cluster.dc(1).expect("a DC");
    assert!(
        cluster
            .events(dc)
            .iter()
            .any(|e| matches!(e, Event::ActionFailed { key, .. } if key == "vip_start_0")),
        "the start is failed: {:?}",
        cluster.events(dc)
    );
    for n in 1..=3 {
        let cib = cluster.cib_text(n);
        assert!(
            cib.contains("id=\"vip_last_failure_0\"") && cib.contains("op-status=\"2\""),
            "n{n} records the start as timed out"
        );
    }
    let now_on = the_node_of(&cluster, "vip");
    assert_ne!(now_on, 1, "recovered elsewhere");
    assert_eq!(
        cluster.world.runs(1, "vip", "stop"),
        1,
        "stopped where it may have half started"
    );
}

#[test]
fn a_start_that_fails_is_recovered_on_another_node() {
    let mut cluster = Cluster::started(3);
    for n in 1..=3 {
        cluster
            .world
            .agents
            .insert((n, "vip".into()), Agent::FailsToStart);
    }
    cluster.world.agents.remove(&(3, "vip".into()));
    cluster.configure(1, |cib| {
        cib.set_property("stonith-enabled", "false");
        primitive(cib, "vip", "IPaddr2", "10s");
        prefer(cib, "vip", "n1", "100");
    });
    assert_eq!(the_node_of(&cluster, "vip"), 3);
    assert_eq!(
        transient(&cluster, 1, 1, "fail-count-vip#start_0").as_deref(),
        Some("INFINITY"),
        "a failed start bans the node (start-failure-is-fatal)"
    );
}

#[test]
fn a_cleanup_forgets_a_failed_start_and_the_resource_returns_to_its_preferred_node() {
    let mut cluster = vip_preferring_n1(Agent::FailsToStart);
    let elsewhere = the_node_of(&cluster, "vip");
    assert_ne!(elsewhere, 1, "banned from n1 by its failed start");
    // The admin repairs n1, then cleans up from another node.
    cluster.world.agents.clear();
    let id = cluster.request(
        2,
        Request::Cleanup {
            targets: vec![("n1".into(), "vip".into())],
        },
    );
    cluster.settle();
    assert!(
        cluster.reply(2, id).is_some_and(Result::is_ok),
        "{:?}",
        cluster.reply(2, id)
    );
    assert_eq!(
        the_node_of(&cluster, "vip"),
        1,
        "back where it is preferred"
    );
    for n in 1..=3 {
        assert_eq!(transient(&cluster, n, 1, "fail-count-vip#start_0"), None);
        assert!(
            !cluster
                .cib_text(n)
                .contains("vip_last_failure_0\" operation_key=\"vip_start_0"),
            "n{n} forgot the failed start"
        );
    }
}

#[test]
fn a_cleanup_of_an_unknown_node_is_refused_and_changes_nothing() {
    let mut cluster = with_vip(false);
    let before = cluster.cib_text(1);
    let id = cluster.request(
        1,
        Request::Cleanup {
            targets: vec![("n9".into(), "vip".into())],
        },
    );
    cluster.settle();
    assert!(
        matches!(cluster.reply(1, id), Some(Err(RequestError::UnknownNode(n))) if n == "n9"),
        "{:?}",
        cluster.reply(1, id)
    );
    assert_eq!(cluster.cib_text(1), before);
}

#[test]
fn when_its_node_dies_without_fencing_the_resource_runs_on_a_survivor() {
    let mut cluster = with_vip(false);
    let node = the_node_of(&cluster, "vip");
    cluster.crash(node);
    let now_on = the_node_of(&cluster, "vip");
    assert_ne!(now_on, node);
    assert!(cluster.world.fenced.is_empty(), "fencing is disabled");
}

#[test]
fn with_fencing_a_dead_nodes_resource_starts_elsewhere_only_after_it_is_fenced() {
    let mut cluster = with_vip(true);
    let node = the_node_of(&cluster, "vip");
    let starts_before = cluster.world.log.len();
    cluster.crash(node);
    assert_eq!(cluster.world.fenced, [format!("n{node}")]);
    let now_on = the_node_of(&cluster, "vip");
    assert_ne!(now_on, node);
    let fence = cluster
        .world
        .first(&format!("n{node}"), "fence")
        .expect("fenced");
    let restart = cluster.world.log[starts_before..]
        .iter()
        .position(|(_, r, op)| r == "vip" && op == "start")
        .map(|i| i + starts_before)
        .expect("started again");
    assert!(fence < restart, "fenced first: {:?}", cluster.world.log);
}

#[test]
fn when_fencing_fails_the_resource_is_not_recovered_and_attempts_are_bounded() {
    let mut cluster = with_vip(true);
    let node = the_node_of(&cluster, "vip");
    cluster.world.fencing_fails = true;
    cluster.crash(node);
    for _ in 0..30 {
        cluster.advance(1_000);
    }
    assert!(
        cluster.world.where_active("vip").is_empty(),
        "never two copies"
    );
    assert_eq!(cluster.world.fence_attempts, 10, "stonith-max-attempts");
}

#[test]
fn a_partition_without_quorum_stops_its_resources_and_the_majority_recovers_them() {
    let mut cluster = with_vip(false);
    let node = the_node_of(&cluster, "vip");
    let others: Vec<u32> = (1..=3).filter(|n| *n != node).collect();
    cluster.repartition(vec![others.clone(), vec![node]]);
    cluster.settle();
    let now_on = the_node_of(&cluster, "vip");
    assert!(
        others.contains(&now_on),
        "the majority runs it (on n{now_on})"
    );
    assert_eq!(
        cluster.world.runs(node, "vip", "stop"),
        1,
        "the cut-off node stopped it"
    );
}

/// `vip` on one node and `web` on another; then the node running `vip`
/// is cut off alone under `policy`; the cluster and that node.
fn cut_off_under(policy: &str) -> (Cluster, u32) {
    let mut cluster = with_vip(false);
    let alone = the_node_of(&cluster, "vip");
    let other = alone % 3 + 1;
    cluster.configure(1, |cib| {
        cib.set_property("no-quorum-policy", policy);
        primitive(cib, "web", "Dummy", "10s");
        prefer(cib, "web", &format!("n{other}"), "100");
    });
    assert_eq!(the_node_of(&cluster, "web"), other);
    let others: Vec<u32> = (1..=3).filter(|n| *n != alone).collect();
    cluster.repartition(vec![others, vec![alone]]);
    cluster.settle();
    (cluster, alone)
}

#[test]
fn a_partition_without_quorum_under_freeze_keeps_what_it_runs_and_starts_nothing() {
    let (cluster, alone) = cut_off_under("freeze");
    assert!(cluster.world.active_on(alone).contains("vip"), "vip kept");
    assert!(
        !cluster.world.active_on(alone).contains("web"),
        "web not taken over"
    );
    assert_eq!(cluster.world.runs(alone, "vip", "stop"), 0);
}

#[test]
fn a_partition_without_quorum_under_ignore_carries_on_as_if_it_had_quorum() {
    let (cluster, alone) = cut_off_under("ignore");
    assert!(cluster.world.active_on(alone).contains("vip"), "vip kept");
    assert!(
        cluster.world.active_on(alone).contains("web"),
        "web taken over: it ignores that it lost quorum"
    );
}

#[test]
fn a_clean_shutdown_moves_resources_first_and_needs_no_fencing() {
    let mut cluster = with_vip(true);
    let node = the_node_of(&cluster, "vip");
    cluster.shut_down(node);
    cluster.settle();
    assert!(
        cluster.nodes[&node].exit.is_some(),
        "the DC let it go: {:?}",
        cluster.events(node)
    );
    let now_on = the_node_of(&cluster, "vip");
    assert_ne!(now_on, node, "moved before the node left");
    cluster.stop(node, LeaveReason::Leave);
    cluster.settle();
    assert_eq!(the_node_of(&cluster, "vip"), now_on, "nothing moves again");
    assert!(
        cluster.world.fenced.is_empty(),
        "a clean leave is not fenced"
    );
}

#[test]
fn a_restarted_controller_restarts_nothing() {
    let mut cluster = with_vip(false);
    let node = the_node_of(&cluster, "vip");
    let log = cluster.world.log.len();
    cluster.stop(node, LeaveReason::ProcessDown);
    cluster.settle();
    cluster.start(node);
    cluster.settle();
    assert_eq!(the_node_of(&cluster, "vip"), node);
    let restarts: Vec<_> = cluster.world.log[log..]
        .iter()
        .filter(|(_, _, op)| op == "start" || op == "stop")
        .collect();
    assert!(restarts.is_empty(), "{restarts:?}");
}

#[test]
fn a_start_that_ends_after_its_controller_restarted_is_recorded_and_monitored() {
    let mut cluster = vip_preferring_n1(Agent::StartAnswersLater);
    assert!(cluster.world.where_active("vip").is_empty(), "starting");
    cluster.stop(1, LeaveReason::ProcessDown);
    cluster.settle();
    cluster.start(1);
    cluster.settle();
    // The new DC puts the start under way in its graph again (as
    // Pacemaker does); lrmd runs that one after the held one, at once.
    cluster.world.agents.clear();
    cluster.answer_held_starts(1);
    assert_eq!(the_node_of(&cluster, "vip"), 1);
    for n in 1..=3 {
        let cib = cluster.cib_text(n);
        assert!(
            cib.contains("id=\"vip_last_0\"") && !cib.contains("rc-code=\"193\""),
            "n{n} records the start's result, not a pending start: {cib}"
        );
    }
    assert!(
        cluster
            .world
            .history(1)
            .iter()
            .any(|r| r.resource == "vip" && r.interval_ms > 0),
        "vip is monitored: {:?}",
        cluster.world.history(1)
    );
    assert_eq!(
        cluster.world.runs(1, "vip", "start"),
        2,
        "the start under way, then the new DC's repeat of it, and no other"
    );
}

#[test]
fn a_restarted_lrmd_has_its_resources_probed_and_kept_running() {
    let mut cluster = with_vip(false);
    let node = the_node_of(&cluster, "vip");
    let log = cluster.world.log.len();
    cluster.restart_lrmd(node);
    let since: Vec<_> = cluster.world.log[log..].to_vec();
    assert!(
        since.contains(&(node, "vip".to_owned(), "monitor".to_owned())),
        "probed again: {since:?}"
    );
    assert!(
        !since.iter().any(|(_, _, op)| op == "start" || op == "stop"),
        "nothing restarted: {since:?}"
    );
    assert_eq!(the_node_of(&cluster, "vip"), node);
    assert!(
        cluster
            .world
            .history(node)
            .iter()
            .any(|r| r.interval_ms > 0),
        "its recurring monitor runs again"
    );
}

#[test]
fn stickiness_and_location_decide_where_a_resource_goes_when_its_node_returns() {
    let mut cluster = with_vip(false);
    cluster.configure(1, |cib| prefer(cib, "vip", "n1", "100"));
    assert_eq!(
        the_node_of(&cluster, "vip"),
        1,
        "it goes where it is preferred"
    );
    cluster.crash(1);
    assert_ne!(the_node_of(&cluster, "vip"), 1);
    cluster.repartition(vec![vec![1, 2, 3]]);
    cluster.start(1);
    cluster.settle();
    assert_eq!(
        the_node_of(&cluster, "vip"),
        1,
        "no stickiness: it fails back"
    );
    cluster.configure(1, |cib| meta(cib, "vip", "resource-stickiness", "200"));
    cluster.crash(1);
    let second = the_node_of(&cluster, "vip");
    cluster.repartition(vec![vec![1, 2, 3]]);
    cluster.start(1);
    cluster.settle();
    assert_eq!(
        the_node_of(&cluster, "vip"),
        second,
        "stickiness 200 > 100: it stays"
    );
}

#[test]
fn a_controller_that_does_not_come_back_has_its_resources_recovered_after_the_grace() {
    let mut cluster = with_vip(false);
    let node = the_node_of(&cluster, "vip");
    cluster.stop(node, LeaveReason::ProcessDown);
    cluster.settle();
    assert_eq!(
        the_node_of(&cluster, "vip"),
        node,
        "within the grace nothing moves"
    );
    cluster.advance(CONTROLLER_RESTART_GRACE_MS);
    // Its lrmd still runs vip, but the cluster cannot reach it: without
    // fencing it is recovered elsewhere (the user's choice).
    let elsewhere: Vec<u32> = cluster
        .world
        .where_active("vip")
        .into_iter()
        .filter(|n| *n != node)
        .collect();
    assert_eq!(elsewhere.len(), 1, "{:?}", cluster.world.log);
}

/// Regression (baton-sim seed 434): the DC declared the controller lost,
/// its node stayed in the ring, and the scheduler read the node as cleanly
/// offline, so `vip` started elsewhere while that node's lrmd still ran it.
#[test]
fn with_fencing_a_controller_that_does_not_come_back_has_its_node_fenced_first() {
    let mut cluster = with_vip(true);
    let node = the_node_of(&cluster, "vip");
    let starts_before = cluster.world.log.len();
    cluster.stop(node, LeaveReason::ProcessDown);
    cluster.settle();
    cluster.advance(CONTROLLER_RESTART_GRACE_MS);
    assert_eq!(cluster.world.fenced, [format!("n{node}")]);
    let now_on = the_node_of(&cluster, "vip");
    assert_ne!(now_on, node);
    let fence = cluster
        .world
        .first(&format!("n{node}"), "fence")
        .expect("fenced");
    let restart = cluster.world.log[starts_before..]
        .iter()
        .position(|(_, r, op)| r == "vip" && op == "start")
        .map(|i| i + starts_before)
        .expect("started again");
    assert!(fence < restart, "fenced first: {:?}", cluster.world.log);
}

/// Fencing devices run in the controllers, not in lrmd: a join round must
/// still know where one runs, or the DC starts it again and its probe
/// "fails" where it already runs.
#[test]
fn a_join_round_keeps_where_a_fencing_device_runs() {
    let mut cluster = with_vip(true);
    let dc = cluster.dc(1).expect("a DC");
    let holder = cluster
        .cib_text(dc)
        .split("<node_state ")
        .find(|state| state.contains("operation_key=\"fencing_start_0\""))
        .and_then(|state| state.split("uname=\"n").nth(1))
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse::<u32>().ok())
        .expect("the device started somewhere");
    let other = (1..=3).find(|n| *n != holder && *n != dc).unwrap_or(holder);
    let before = cluster.events(dc).len();
    cluster.crash(other);
    cluster.start(other);
    cluster.repartition(vec![vec![1, 2, 3]]);
    cluster.settle();
    let events = &cluster.events(dc)[before..];
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::TransitionStarted { cause, .. } if cause == "DC takeover")),
        "the rejoin made a join round: {events:?}"
    );
    let device_trouble: Vec<&Event> = events
        .iter()
        .filter(|e| match e {
            Event::ActionFailed { key, .. } => key.starts_with("fencing"),
            Event::ActionInitiated { key, .. } => {
                key.starts_with("fencing_start") || key.starts_with("fencing_stop")
            }
            _ => false,
        })
        .collect();
    assert!(
        device_trouble.is_empty(),
        "the device was started again or its probe failed: {device_trouble:?}"
    );
}
