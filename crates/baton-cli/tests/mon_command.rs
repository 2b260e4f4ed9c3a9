//! `baton mon` refreshes the status until stopped, and says so while the
//! node's crmd cannot be reached (against a stand-in crmd).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use baton_tests::StandInCrmd;

const CIB: &str = r#"<cib admin_epoch="0" epoch="2" num_updates="0" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config/>
    <nodes><node id="1" uname="n1"/></nodes>
    <resources/><constraints/>
  </configuration>
  <status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/></status>
</cib>"#;

/// What `baton mon ARGS` prints in `for_how_long` (then it is killed).
fn mon(sockets: &std::path::Path, args: &[&str], for_how_long: Duration) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("--socket-dir")
        .arg(sockets)
        .arg("mon")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start baton mon");
    std::thread::sleep(for_how_long);
    let _ = child.kill();
    let _ = child.wait();
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    out
}

#[test]
fn mon_refreshes_the_status_every_interval() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let crmd = StandInCrmd {
        cib: CIB.to_owned(),
        node: "n1".to_owned(),
        ..StandInCrmd::default()
    };
    let server = {
        let _inside = runtime.enter();
        crmd.serve(dir.path())
    };
    let out = mon(
        dir.path(),
        &["--interval", "1"],
        Duration::from_millis(2500),
    );
    server.abort();
    assert!(out.matches("Node List:").count() >= 2, "{out}");
}

#[test]
fn one_shot_mon_prints_once_and_exits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let crmd = StandInCrmd {
        cib: CIB.to_owned(),
        ..StandInCrmd::default()
    };
    let server = {
        let _inside = runtime.enter();
        crmd.serve(dir.path())
    };
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("--socket-dir")
        .arg(dir.path())
        .args(["mon", "-1"])
        .output()
        .expect("run baton mon -1");
    server.abort();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("Node List:")
            .count(),
        1
    );
}

#[test]
fn without_a_crmd_mon_says_it_is_not_connected_and_keeps_trying() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = mon(dir.path(), &["-i", "1"], Duration::from_millis(1500));
    assert!(out.matches("Not connected").count() >= 1, "{out}");
}
