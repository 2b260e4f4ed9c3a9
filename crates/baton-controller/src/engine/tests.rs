use std::collections::BTreeMap;
use std::sync::Arc;

use baton_scheduler::{Action, ActionId, ActionKind, Graph, GraphSettings, NodeRef, Task};

use super::*;

fn action(id: usize, kind: ActionKind, task: Task, node: Option<&str>, inputs: &[usize]) -> Action {
    Action {
        id: ActionId(id),
        kind,
        task,
        key: format!("a{id}"),
        internal_key: None,
        node: node.map(|n| NodeRef {
            name: Arc::from(n),
            id: Arc::from(n),
        }),
        resource_id: None,
        resource: None,
        interval_ms: 0,
        timeout_ms: Some(1_000),
        target_rc: None,
        params: Arc::new(BTreeMap::new()),
        meta: BTreeMap::new(),
        downed: Vec::new(),
        priority: 0,
        inputs: inputs.iter().map(|i| ActionId(*i)).collect(),
    }
}

fn graph(actions: Vec<Action>, settings: GraphSettings) -> Graph {
    Graph { actions, settings }
}

fn op(id: usize, task: Task, node: &str, inputs: &[usize]) -> Action {
    action(id, ActionKind::ResourceOp, task, Some(node), inputs)
}

#[test]
fn actions_start_when_what_they_wait_for_completed_and_milestones_pass_at_once() {
    // stop(0) -> stopped milestone(1) -> start(2)
    let mut run = Run::new(
        1,
        graph(
            vec![
                op(0, Task::Stop, "n1", &[]),
                action(1, ActionKind::Pseudo, Task::Stopped, None, &[0]),
                op(2, Task::Start, "n2", &[1]),
            ],
            GraphSettings::default(),
        ),
    );
    assert_eq!(run.start_ready(Millis(0)), [ActionId(0)]);
    assert!(
        run.start_ready(Millis(1)).is_empty(),
        "nothing else is ready"
    );
    assert!(run.complete(ActionId(0), true));
    assert_eq!(
        run.start_ready(Millis(2)),
        [ActionId(2)],
        "the milestone passed"
    );
    assert!(!run.is_over());
    assert!(run.complete(ActionId(2), true));
    assert!(run.is_over());
    assert_eq!(run.counts().complete, 3);
}

#[test]
fn a_failed_action_keeps_what_waits_for_it_from_starting() {
    let mut run = Run::new(
        1,
        graph(
            vec![op(0, Task::Stop, "n1", &[]), op(1, Task::Start, "n2", &[0])],
            GraphSettings::default(),
        ),
    );
    run.start_ready(Millis(0));
    run.complete(ActionId(0), false);
    assert!(run.start_ready(Millis(1)).is_empty());
    assert!(run.is_over());
    assert_eq!(run.counts().skipped, 1);
}

#[test]
fn an_abort_lets_in_flight_actions_finish_and_starts_nothing_more() {
    let mut run = Run::new(
        1,
        graph(
            vec![
                op(0, Task::Start, "n1", &[]),
                op(1, Task::Start, "n2", &[0]),
            ],
            GraphSettings::default(),
        ),
    );
    run.start_ready(Millis(0));
    run.abort("Configuration change");
    assert!(!run.is_over(), "the start in flight is awaited");
    run.complete(ActionId(0), true);
    assert!(run.start_ready(Millis(1)).is_empty());
    assert!(run.is_over());
    assert_eq!(run.aborted(), Some("Configuration change"));
}

#[test]
fn an_action_past_its_timeout_plus_cluster_delay_fails() {
    let settings = GraphSettings {
        cluster_delay: "2s".to_owned(),
        ..GraphSettings::default()
    };
    let mut run = Run::new(1, graph(vec![op(0, Task::Start, "n1", &[])], settings));
    run.start_ready(Millis(0));
    assert_eq!(
        run.next_deadline(),
        Some(Millis(3_000)),
        "1 s timeout + 2 s delay"
    );
    assert!(run.expire(Millis(2_999)).is_empty());
    assert_eq!(run.expire(Millis(3_000)), [ActionId(0)]);
    assert!(
        !run.complete(ActionId(0), true),
        "a late result changes nothing"
    );
    assert!(run.is_over());
}

#[test]
fn batch_and_migration_limits_hold_actions_back() {
    let settings = GraphSettings {
        batch_limit: "2".to_owned(),
        migration_limit: Some("1".to_owned()),
        ..GraphSettings::default()
    };
    let mut run = Run::new(
        1,
        graph(
            vec![
                op(0, Task::MigrateTo, "n1", &[]),
                op(1, Task::MigrateTo, "n1", &[]),
                op(2, Task::Start, "n2", &[]),
                op(3, Task::Start, "n2", &[]),
            ],
            settings,
        ),
    );
    assert_eq!(run.start_ready(Millis(0)), [ActionId(0), ActionId(2)]);
    run.complete(ActionId(0), true);
    assert_eq!(run.start_ready(Millis(1)), [ActionId(1)]);
    run.complete(ActionId(2), true);
    assert_eq!(run.start_ready(Millis(2)), [ActionId(3)]);
}

#[test]
fn higher_priority_actions_start_first() {
    let mut high = op(1, Task::Start, "n1", &[]);
    high.priority = 5;
    let mut run = Run::new(
        1,
        graph(
            vec![op(0, Task::Start, "n1", &[]), high],
            GraphSettings::default(),
        ),
    );
    assert_eq!(run.start_ready(Millis(0)), [ActionId(1), ActionId(0)]);
}
