//! baton-lrmd as a process: real agents through its gRPC service.

mod common;

use std::time::{Duration, Instant};

use baton_proto::lrmd::{
    CancelMonitorRequest, ExecRequest, HistoryRequest, HistorySlot, ListAgentsRequest,
    MetadataRequest, OpStatus, Record, StartMonitorRequest, WatchMonitorsRequest,
};
use common::{Daemon, OcfRoot, action, exec};
use tokio_stream::StreamExt;

#[tokio::test]
async fn demo_agent_lifecycle_and_metadata() {
    let root = OcfRoot::new();
    let daemon = Daemon::start(&root.path(), &[], &[]);
    let mut client = daemon.client().await;
    let state = root.scratch("demo.state");
    let params = [("state", state.as_str())];
    let agent = "ocf:baton:Demo";
    let steps = [
        ("monitor", 7),
        ("start", 0),
        ("monitor", 0),
        ("start", 0),
        ("stop", 0),
        ("monitor", 7),
        ("stop", 0),
    ];
    for (step, expected) in steps {
        let result = exec(&mut client, action("demo", agent, step, &params)).await;
        assert_eq!(
            (result.status(), result.rc),
            (OpStatus::Done, expected),
            "{step}: {result:?}"
        );
    }
    let bad = exec(
        &mut client,
        action("demo", agent, "start", &[("delay", "soon")]),
    )
    .await;
    assert_eq!(bad.rc, 6, "{bad:?}");
    assert!(bad.exit_reason.contains("delay"), "{}", bad.exit_reason);

    for _ in 0..2 {
        let meta = client
            .metadata(MetadataRequest {
                agent: agent.into(),
            })
            .await
            .expect("metadata")
            .into_inner();
        assert_eq!(meta.shortdesc, "baton demo resource");
        let names: Vec<_> = meta.parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["state", "delay"]);
        let monitor = meta
            .actions
            .iter()
            .find(|a| a.name == "monitor")
            .expect("monitor");
        assert_eq!((monitor.timeout_ms, monitor.interval_ms), (20_000, 10_000));
    }
    let listed = client
        .list_agents(ListAgentsRequest {
            class: "ocf".into(),
            provider: "baton".into(),
        })
        .await
        .expect("list")
        .into_inner()
        .agents;
    assert_eq!(listed, ["ocf:baton:Demo"]);
}

#[tokio::test]
async fn dummy_from_resource_agents_lifecycle() {
    if !baton_tests::require_package(
        "resource-agents",
        "/usr/lib/ocf/resource.d/heartbeat/Dummy",
        "run Dummy",
    ) {
        return;
    }
    let state_dir = tempfile::tempdir().expect("tempdir");
    let state = state_dir.path().join("dummy.state").display().to_string();
    let daemon = Daemon::start(std::path::Path::new("/usr/lib/ocf"), &[], &[]);
    let mut client = daemon.client().await;
    let params = [("state", state.as_str())];
    for (step, expected) in [("start", 0), ("monitor", 0), ("stop", 0), ("monitor", 7)] {
        let result = exec(
            &mut client,
            action("dummy1", "ocf:heartbeat:Dummy", step, &params),
        )
        .await;
        assert_eq!(
            (result.status(), result.rc),
            (OpStatus::Done, expected),
            "{step}: {result:?}"
        );
    }
    let meta = client
        .metadata(MetadataRequest {
            agent: "ocf:heartbeat:Dummy".into(),
        })
        .await
        .expect("metadata")
        .into_inner();
    assert!(
        meta.parameters
            .iter()
            .any(|p| p.name == "state" && p.r#type == "string")
    );
}

#[tokio::test]
async fn one_action_per_resource_at_a_time_and_resources_in_parallel() {
    let root = OcfRoot::new();
    root.agent("Slow", "sleep 1\nexit 0");
    let daemon = Daemon::start(&root.path(), &[], &[]);
    let client = daemon.client().await;
    let run = |resource: &'static str| {
        let mut client = client.clone();
        tokio::spawn(async move {
            exec(&mut client, action(resource, "ocf:test:Slow", "start", &[])).await
        })
    };
    let started = Instant::now();
    let (a, b) = (run("same"), run("same"));
    let (a, b) = (a.await.expect("a"), b.await.expect("b"));
    let serialized = started.elapsed();
    assert!(
        serialized >= Duration::from_millis(1900),
        "same resource overlapped: {serialized:?}"
    );
    assert!(
        a.queue_ms.max(b.queue_ms) >= 900,
        "queue times {} and {}",
        a.queue_ms,
        b.queue_ms
    );

    let started = Instant::now();
    let (c, d) = (run("one"), run("two"));
    let (c, d) = (c.await.expect("c"), d.await.expect("d"));
    assert_eq!((c.rc, d.rc), (0, 0));
    let parallel = started.elapsed();
    assert!(
        parallel < Duration::from_millis(1800),
        "two resources did not run in parallel: {parallel:?}"
    );
}

#[tokio::test]
async fn recurring_monitor_reports_its_first_result_and_each_change() {
    let root = OcfRoot::new();
    let daemon = Daemon::start(&root.path(), &[], &[]);
    let mut client = daemon.client().await;
    let state = root.scratch("watched.state");
    let params = [("state", state.as_str())];
    let mut watch = client
        .watch_monitors(WatchMonitorsRequest {})
        .await
        .expect("watch")
        .into_inner();
    let mut monitor = action("watched", "ocf:baton:Demo", "monitor", &params);
    monitor.interval_ms = 100;
    client
        .start_monitor(StartMonitorRequest {
            action: Some(monitor),
            record: None,
        })
        .await
        .expect("start monitor");
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), watch.next())
            .await
            .expect("a monitor result in time")
            .expect("stream open")
            .expect("no stream error")
    };
    let first = next().await;
    assert_eq!(
        (first.resource_id.as_str(), first.rc, first.interval_ms),
        ("watched", 7, 100)
    );
    std::fs::write(&state, "").expect("start by hand");
    let running = next().await;
    assert_eq!((running.status(), running.rc), (OpStatus::Done, 0));
    std::fs::remove_file(&state).expect("fail by hand");
    assert_eq!(next().await.rc, 7);
    let cancelled = client
        .cancel_monitor(CancelMonitorRequest {
            resource_id: "watched".into(),
            action: "monitor".into(),
            interval_ms: 100,
        })
        .await
        .expect("cancel")
        .into_inner();
    assert!(cancelled.cancelled);
    assert_eq!(next().await.status(), OpStatus::Cancelled);
    // Unchanged results are not repeated, and nothing follows a cancel.
    std::fs::write(&state, "").expect("touch");
    let quiet = tokio::time::timeout(Duration::from_millis(500), watch.next()).await;
    assert!(
        quiet.is_err(),
        "a cancelled monitor still reported: {quiet:?}"
    );
}

#[tokio::test]
async fn ready_is_notified_and_the_daemon_environment_stays_out_of_agents() {
    let root = OcfRoot::new();
    root.agent("Env", "env");
    let notify_path = root.dir.path().join("notify.sock");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).expect("bind notify socket");
    notify
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let daemon = Daemon::start(
        &root.path(),
        &[],
        &[
            ("NOTIFY_SOCKET", notify_path.to_str().expect("utf-8")),
            ("BATON_TEST_SECRET", "leak"),
        ],
    );
    let mut buffer = [0_u8; 256];
    let n = notify.recv(&mut buffer).expect("a notification");
    assert!(
        String::from_utf8_lossy(&buffer[..n])
            .lines()
            .any(|l| l == "READY=1")
    );
    let mut client = daemon.client().await;
    let result = exec(&mut client, action("env", "ocf:test:Env", "start", &[])).await;
    assert_eq!(result.rc, 0);
    for leaked in ["NOTIFY_SOCKET", "BATON_TEST_SECRET", "HOME=", "LISTEN_FDS"] {
        assert!(
            !result.stdout_tail.contains(leaked),
            "{leaked} reached the agent:\n{}",
            result.stdout_tail
        );
    }
}

#[tokio::test]
async fn timeouts_and_bad_requests_through_the_daemon() {
    let root = OcfRoot::new();
    root.agent("Hang", "sleep 1000");
    let daemon = Daemon::start(&root.path(), &[], &[]);
    let mut client = daemon.client().await;
    let mut hang = action("hang", "ocf:test:Hang", "start", &[]);
    hang.timeout_ms = 200;
    let result = exec(&mut client, hang).await;
    assert_eq!(result.status(), OpStatus::Timeout, "{result:?}");
    let mut zero = action("hang", "ocf:test:Hang", "start", &[]);
    zero.timeout_ms = 0;
    let refused = client
        .exec(baton_proto::lrmd::ExecRequest {
            action: Some(zero),
            record: None,
        })
        .await;
    assert_eq!(
        refused.expect_err("refused").code(),
        tonic::Code::InvalidArgument
    );
}

#[test]
fn a_second_daemon_on_the_same_socket_exits_3() {
    let root = OcfRoot::new();
    let first = Daemon::start(&root.path(), &[], &[]);
    let out = std::process::Command::new(common::LRMD)
        .arg("--socket-dir")
        .arg(first.socket_dir.path())
        .output()
        .expect("run a second baton-lrmd");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already serving"), "{stderr}");
}

#[tokio::test]
async fn the_history_keeps_what_the_cluster_ran_and_nothing_else() {
    let root = OcfRoot::new();
    let daemon = Daemon::start(&root.path(), &[], &[]);
    let mut client = daemon.client().await;
    let state = root.scratch("kept.state");
    let params = [("state", state.as_str())];
    let recorded = |expected_rc, key: &str| Record {
        expected_rc,
        transition_key: key.to_owned(),
        op_digest: String::new(),
    };
    let mut run = async |resource: &str, op: &str, record: Option<Record>| {
        client
            .exec(ExecRequest {
                action: Some(action(resource, "ocf:baton:Demo", op, &params)),
                record,
            })
            .await
            .expect("exec")
            .into_inner()
    };
    run("kept", "monitor", Some(recorded(7, "1:1:7:x"))).await;
    run("kept", "start", Some(recorded(0, "2:1:0:x"))).await;
    run("by-hand", "monitor", None).await;
    let mut client = daemon.client().await;
    let entries = client
        .history(HistoryRequest {})
        .await
        .expect("history")
        .into_inner()
        .entries;
    let seen: Vec<(HistorySlot, String, String, i32)> = entries
        .iter()
        .map(|e| {
            let result = e.result.clone().unwrap_or_default();
            let key = e.record.clone().unwrap_or_default().transition_key;
            (e.slot(), result.resource_id, key, result.rc)
        })
        .collect();
    assert_eq!(
        seen,
        [(
            HistorySlot::Last,
            "kept".to_owned(),
            "2:1:0:x".to_owned(),
            0
        )],
        "the probe's rc 7 was expected, the start replaced it, and a run by hand is not the cluster's"
    );
    assert!(entries[0].call_id >= 2 && entries[0].last_rc_change_s > 0);
}
