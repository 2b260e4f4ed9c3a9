//! `baton resource …` on a CIB file: the configuration `crm resource`
//! would leave behind, and refusals that change nothing.

mod common;

use std::path::Path;

use common::{baton, stderr, stdout};

fn cib_with_ip(dir: &Path) -> String {
    let cib = dir.join("cib.xml");
    let path = cib.to_str().expect("utf-8").to_owned();
    for command in [
        "node node1",
        "node node2",
        "primitive ip ocf:heartbeat:Dummy",
    ] {
        let out = baton(&["configure", "--cib", &path, command]);
        assert!(out.status.success(), "{command}: {}", stderr(&out));
    }
    path
}

fn show(cib: &str) -> String {
    stdout(&baton(&["configure", "--cib", cib, "show"]))
}

#[test]
fn stop_move_ban_and_clear_leave_what_crmsh_leaves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = cib_with_ip(dir.path());
    for args in [
        ["resource", "stop", "ip"].as_slice(),
        &["resource", "move", "ip", "node2"],
        &["resource", "ban", "ip", "node1"],
        &["resource", "unmanage", "ip"],
    ] {
        let mut all = args.to_vec();
        all.extend(["--cib", &cib]);
        let out = baton(&all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let shown = show(&cib);
    for line in [
        "location cli-ban-ip-on-node1 ip role=Started -inf: node1",
        "location cli-prefer-ip ip role=Started inf: node2",
        "target-role=Stopped",
        "is-managed=false",
    ] {
        assert!(shown.contains(line), "no {line:?} in:\n{shown}");
    }
    let out = baton(&["resource", "clear", "ip", "--cib", &cib]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!show(&cib).contains("cli-"), "{}", show(&cib));
}

#[test]
fn an_unknown_resource_or_node_changes_nothing_and_says_which() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = cib_with_ip(dir.path());
    let before = std::fs::read_to_string(&cib).expect("cib");
    let out = baton(&["resource", "move", "ip", "node9", "--cib", &cib]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("node9"), "{}", stderr(&out));
    let out = baton(&["resource", "stop", "nope", "--cib", &cib]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&cib).expect("cib"), before);
}
