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

/// `baton COMMAND… --cib CIB WORDS…` (the first `depth` arguments name the
/// command), which must succeed.
fn pcs(cib: &str, depth: usize, args: &[&str]) {
    let out = baton(&with_cib(cib, depth, args));
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
}

fn with_cib<'a>(cib: &'a str, depth: usize, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args[..depth].to_vec();
    all.extend(["--cib", cib]);
    all.extend(&args[depth..]);
    all
}

#[test]
fn the_pcs_tutorial_forms_write_what_pcs_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = cib_with_ip(dir.path());
    let set = [
        "property",
        "set",
        "stonith-enabled=false",
        "no-quorum-policy=ignore",
    ];
    pcs(&cib, 2, &set);
    pcs(&cib, 2, &["property", "unset", "no-quorum-policy"]);
    let create = [
        "resource",
        "create",
        "vip",
        "ocf:heartbeat:Dummy",
        "fake=10.0.0.9",
        "op",
        "monitor",
        "interval=30s",
        "--group",
        "web",
    ];
    pcs(&cib, 2, &create);
    pcs(
        &cib,
        2,
        &["resource", "create", "site", "Dummy", "--disabled"],
    );
    pcs(&cib, 3, &["resource", "group", "add", "web", "site"]);
    pcs(
        &cib,
        2,
        &["constraint", "order", "start", "vip", "then", "start", "ip"],
    );
    pcs(
        &cib,
        2,
        &[
            "constraint",
            "colocation",
            "add",
            "ip",
            "with",
            "web",
            "INFINITY",
        ],
    );
    let location = [
        "constraint",
        "location",
        "web",
        "prefers",
        "node1=50",
        "node2=45",
    ];
    pcs(&cib, 2, &location);
    pcs(&cib, 2, &["resource", "enable", "site"]);
    let shown = show(&cib);
    for line in [
        "property cib-bootstrap-options: \\\n\tstonith-enabled=false",
        "primitive vip Dummy \\\n\tparams fake=10.0.0.9 \\\n\top monitor interval=30s",
        "group web vip site",
        "order order-vip-ip-mandatory Mandatory: vip:start ip:start",
        "colocation colocation-ip-web-INFINITY inf: ip web",
        "location location-web-node1-50 web 50: node1",
        "location location-web-node2-45 web 45: node2",
    ] {
        assert!(shown.contains(line), "no {line:?} in:\n{shown}");
    }
    assert!(!shown.contains("no-quorum-policy"), "{shown}");
    assert!(
        !shown.contains("target-role"),
        "enable removes it:\n{shown}"
    );
    let listed = stdout(&baton(&["constraint", "list", "--cib", &cib]));
    assert_eq!(listed.lines().count(), 4, "{listed}");
    pcs(&cib, 2, &["constraint", "delete", "location-web-node2-45"]);
    assert!(!show(&cib).contains("location-web-node2-45"));
    pcs(&cib, 2, &["resource", "delete", "site"]);
    assert!(show(&cib).contains("group web vip\n"), "{}", show(&cib));
    // The last member takes its group and every constraint naming either.
    pcs(&cib, 2, &["resource", "delete", "vip"]);
    let shown = show(&cib);
    for gone in [
        "group web",
        "order-vip-ip",
        "colocation-ip-web",
        "location-web",
    ] {
        assert!(!shown.contains(gone), "{gone} is left in:\n{shown}");
    }
    assert!(shown.contains("primitive ip"), "{shown}");
    // --disabled joins a meta section given before the ops, not the ops.
    let create = [
        "resource",
        "create",
        "x",
        "Dummy",
        "fake=1",
        "meta",
        "resource-stickiness=1",
        "op",
        "monitor",
        "interval=5s",
        "--disabled",
    ];
    pcs(&cib, 2, &create);
    let shown = show(&cib);
    assert!(
        shown.contains("meta target-role=Stopped resource-stickiness=1"),
        "{shown}"
    );
    assert!(!shown.contains("op_params"), "{shown}");
}

#[test]
fn malformed_pcs_forms_change_nothing_and_say_how() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = cib_with_ip(dir.path());
    let before = std::fs::read_to_string(&cib).expect("cib");
    for (depth, args, says) in [
        (2, vec!["property", "set", "stonith-enabled"], "NAME=VALUE"),
        (
            2,
            vec!["constraint", "order", "ip", "web"],
            "usage: constraint order",
        ),
        (
            2,
            vec!["constraint", "colocation", "ip", "web"],
            "usage: constraint colocation",
        ),
        (
            3,
            vec!["resource", "group", "add", "ip", "ip"],
            "not a group",
        ),
        (
            2,
            vec!["property", "unset", "no-such-option"],
            "no-such-option",
        ),
    ] {
        let out = baton(&with_cib(&cib, depth, &args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(std::fs::read_to_string(&cib).expect("cib"), before);
}
