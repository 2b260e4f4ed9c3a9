//! A whole write (a node attribute, a clean-up) that a join round
//! interrupts is made again: against a stand-in crmd that refuses the
//! first writes as a round would.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use baton_tests::StandInCrmd;

/// A failed start of `vip` on n1, for a clean-up to find.
const CIB: &str = r#"<cib admin_epoch="0" epoch="2" num_updates="0">
  <configuration><crm_config/><nodes><node id="1" uname="n1"/></nodes>
    <resources><primitive id="vip" class="ocf" provider="heartbeat" type="Dummy"/></resources>
    <constraints/></configuration>
  <status><node_state id="1" uname="n1"><lrm id="1"><lrm_resources>
    <lrm_resource id="vip" class="ocf" provider="heartbeat" type="Dummy">
      <lrm_rsc_op id="vip_last_failure_0" operation_key="vip_start_0" operation="start" rc-code="1" op-status="0" interval="0"/>
    </lrm_resource></lrm_resources></lrm></node_state></status>
</cib>"#;

const ATTRIBUTE: &[&str] = &["node", "status-attr", "n1", "set", "cache", "warm"];
const CLEANUP: &[&str] = &["resource", "cleanup", "vip"];

/// `baton ARGS` against a crmd refusing `refusals` whole writes: (exit
/// code, stdout, stderr, writes it received).
fn write_against(args: &[&str], refusals: u32) -> (Option<i32>, String, String, u32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let writes = Arc::new(AtomicU32::new(0));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let crmd = StandInCrmd {
        cib: CIB.to_owned(),
        refusals,
        writes: Arc::clone(&writes),
        ..StandInCrmd::default()
    };
    let server = {
        let _inside = runtime.enter();
        crmd.serve(dir.path())
    };
    let out = run_baton(dir.path(), args);
    server.abort();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        writes.load(Ordering::SeqCst),
    )
}

fn run_baton(sockets: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("--socket-dir")
        .arg(sockets)
        .args(args)
        .output()
        .expect("run baton")
}

#[test]
fn an_interrupted_attribute_write_is_made_again() {
    let (code, _, stderr, writes) = write_against(ATTRIBUTE, 2);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(writes, 3, "two refusals, then the write");
}

#[test]
fn an_interrupted_cleanup_is_made_again_and_says_what_it_cleaned() {
    let (code, stdout, stderr, writes) = write_against(CLEANUP, 1);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(writes, 2, "one refusal, then the clean-up");
    assert_eq!(stdout.trim(), "Cleaned up vip on n1");
}

#[test]
fn a_write_interrupted_every_time_gives_up_and_says_why() {
    for args in [ATTRIBUTE, CLEANUP] {
        let (code, _, stderr, writes) = write_against(args, u32::MAX);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("run the command again"), "{stderr}");
        assert_eq!(writes, 3, "{args:?} is tried three times, not forever");
    }
}
