//! LSB init scripts, and `service:` falling back to them on a host without
//! systemd: actions run, `status` codes map per the LSB table.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use baton_agents::exec::Limits;
use baton_agents::name::AgentName;
use baton_agents::outcome::{OpStatus, rc};
use baton_agents::request::ActionRequest;
use baton_agents::run::{ActionResult, Roots, execute};

/// An LSB-style script: running while its state file exists; `status` of a
/// stopped service says 3, as LSB asks.
const SCRIPT: &str = r#"#!/bin/sh
### BEGIN INIT INFO
# Provides: webish
# Short-Description: A pretend web server
# Description: Pretends to serve pages.
### END INIT INFO
STATE="$(dirname "$0")/../webish.state"
case "$1" in
  start) touch "$STATE" ;;
  stop) rm -f "$STATE" ;;
  status) [ -f "$STATE" ] && exit 0; exit 3 ;;
  dead) exit 1 ;;
  *) exit 3 ;;
esac
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    roots: Roots,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let init_d = dir.path().join("init.d");
        std::fs::create_dir(&init_d).expect("mkdir");
        let script = init_d.join("webish");
        std::fs::write(&script, SCRIPT).expect("write");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let roots = Roots {
            lsb_dir: init_d,
            ..Roots::new(dir.path().join("ocf"))
        };
        Self { _dir: dir, roots }
    }

    async fn run(&self, agent: &str, action: &str) -> ActionResult {
        let request = ActionRequest {
            resource_id: "web".into(),
            agent: agent.parse::<AgentName>().expect("agent"),
            action: action.into(),
            params: BTreeMap::new(),
            meta: BTreeMap::new(),
            interval_ms: 0,
            timeout_ms: 10_000,
        };
        execute(&self.roots, &request, &Limits::default()).await
    }
}

#[tokio::test]
async fn lsb_lifecycle_maps_status_codes() {
    let fx = Fixture::new();
    for (action, expected) in [
        ("monitor", 7),
        ("start", 0),
        ("status", 0),
        ("monitor", 0),
        ("stop", 0),
        ("monitor", 7),
    ] {
        let result = fx.run("lsb:webish", action).await;
        assert_eq!(
            (result.status, result.rc),
            (OpStatus::Done, expected),
            "{action}: {result:?}"
        );
    }
    // An action other than status keeps LSB codes 0-7 as they are.
    assert_eq!(fx.run("lsb:webish", "dead").await.rc, rc::ERR_GENERIC);
    let missing = fx.run("lsb:nothing", "start").await;
    assert_eq!(
        (missing.status, missing.rc),
        (OpStatus::NotInstalled, rc::ERR_INSTALLED)
    );
}

#[tokio::test]
async fn lsb_metadata_comes_from_the_header() {
    let fx = Fixture::new();
    let result = fx.run("lsb:webish", "meta-data").await;
    assert_eq!(result.rc, 0);
    let meta = baton_agents::metadata::parse(&result.stdout).expect("parse");
    assert_eq!(meta.shortdesc, "A pretend web server");
}

#[tokio::test]
async fn service_without_systemd_runs_the_init_script() {
    if baton_agents::systemd::booted() {
        eprintln!("SKIPPED: this host runs systemd, so service: means systemd here");
        return;
    }
    let fx = Fixture::new();
    assert_eq!(fx.run("service:webish", "start").await.rc, 0);
    assert_eq!(fx.run("service:webish", "monitor").await.rc, 0);
    assert_eq!(fx.run("service:webish", "stop").await.rc, 0);
    let listed =
        baton_agents::list::agents(&fx.roots, baton_agents::name::Class::Service, None).await;
    assert_eq!(
        listed.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["service:webish"]
    );
}
