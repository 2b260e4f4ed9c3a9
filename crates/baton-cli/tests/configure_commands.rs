//! `baton configure|verify|cib` on CIB files, as an admin runs them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{baton, stderr, stdout};

fn baton_with_input(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run baton");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// `baton configure --cib CIB ARGS…`
fn configure(cib: &Path, args: &[&str]) -> Output {
    let mut all = vec!["configure", "--cib", s(cib)];
    all.extend_from_slice(args);
    baton(&all)
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/examples/crmsh")
        .join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn ok(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

/// The `<configuration>` element of a CIB file, without the version.
fn configuration(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read cib");
    let start = text.find("<configuration").expect("configuration");
    let end = text.find("</configuration>").expect("configuration end");
    text[start..end].to_owned()
}

// What crmsh 4.4.1's `crm configure show` prints for the CIB baton writes
// from each example (taken from `CIB_file=cib.xml crm configure show`).
const GROUP_SHOW: &str = r#"primitive web lsb:httpd \
	meta target-role=Started \
	op monitor interval=30s timeout=20s on-fail=restart
primitive webip IPaddr \
	params ip=192.168.192.222
primitive webstore Filesystem \
	params device="192.168.192.196:/webdocs" fstype=nfs directory="/var/www/html" \
	op start timeout=60 interval=0 \
	op stop timeout=60 interval=0 \
	op monitor interval=60 timeout=60 on-fail=standby
group web_srv webip webstore web
property cib-bootstrap-options: \
	stonith-enabled=false \
	no-quorum-policy=ignore
rsc_defaults rsc-options: \
	resource-stickiness=INFINITY
"#;

const CONSTRAINTS_SHOW: &str = r#"primitive web lsb:httpd \
	meta target-role=Started \
	op monitor interval=30s timeout=20s on-fail=restart
primitive webip IPaddr \
	params ip=192.168.192.222
primitive webstore Filesystem \
	params device="192.168.192.196:/webdocs" fstype=nfs directory="/var/www/html" \
	op start timeout=60 interval=0 \
	op stop timeout=60 interval=0 \
	op monitor interval=60 timeout=60 on-fail=standby
order webip_before_webstore_before_httpd webip webstore web
colocation webservice_with_webstore_with_webip inf: web webstore webip
property cib-bootstrap-options: \
	stonith-enabled=false \
	no-quorum-policy=ignore
"#;

#[test]
fn examples_load_and_show_as_crm_configure_show_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (file, expected) in [
        ("web-ha-group.crm", GROUP_SHOW),
        ("web-ha-constraints.crm", CONSTRAINTS_SHOW),
    ] {
        let cib = dir.path().join(format!("{file}.xml"));
        let load = configure(&cib, &["load", "update", s(&example(file))]);
        ok(&load);
        let show = configure(&cib, &["show"]);
        ok(&show);
        assert_eq!(stdout(&show), expected, "{file}");
    }
}

#[test]
fn legacy_stickiness_property_becomes_rsc_defaults_with_a_notice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    let load = configure(&cib, &["load", "update", s(&example("web-ha-group.crm"))]);
    ok(&load);
    assert!(stderr(&load).contains("default-resource-stickiness was dropped in Pacemaker 2.0"));
    assert!(!configuration(&cib).contains("default-resource-stickiness"));
}

/// A file's commands, continuation lines joined.
fn commands_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        match line.trim_end().strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                if !current.trim().is_empty() {
                    out.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    out
}

#[test]
fn examples_pasted_line_by_line_give_the_same_cib_as_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["web-ha-group.crm", "web-ha-constraints.crm"] {
        let loaded = dir.path().join(format!("{file}.loaded.xml"));
        let pasted = dir.path().join(format!("{file}.pasted.xml"));
        ok(&configure(&loaded, &["load", "update", s(&example(file))]));
        let text = std::fs::read_to_string(example(file)).expect("read example");
        for command in commands_of(&text) {
            ok(&configure(&pasted, &[&command]));
        }
        assert_eq!(configuration(&loaded), configuration(&pasted), "{file}");
    }
}

#[test]
fn shown_text_loads_back_to_the_same_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["web-ha-group.crm", "web-ha-constraints.crm"] {
        let first = dir.path().join("first.xml");
        let second = dir.path().join("second.xml");
        let shown = dir.path().join("shown.crm");
        ok(&configure(&first, &["load", "replace", s(&example(file))]));
        let show = configure(&first, &["show"]);
        ok(&show);
        std::fs::write(&shown, stdout(&show)).expect("write");
        ok(&configure(&second, &["load", "replace", s(&shown)]));
        // The shown text lists objects sorted as crmsh does, so the reloaded
        // CIB may hold them in another order: compare what they say.
        let show_again = configure(&second, &["show"]);
        ok(&show_again);
        assert_eq!(stdout(&show), stdout(&show_again), "{file}");
        let elements = |path: &Path| configuration(path).matches('<').count();
        assert_eq!(elements(&first), elements(&second), "{file}");
    }
}

#[test]
fn verify_of_example_without_stonith_is_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    ok(&configure(
        &cib,
        &["load", "update", s(&example("web-ha-group.crm"))],
    ));
    let verify = baton(&["verify", "--cib", s(&cib)]);
    ok(&verify);
    assert_eq!(stdout(&verify), "");
}

#[test]
fn verify_reports_missing_stonith_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    ok(&configure(
        &cib,
        &["primitive", "vip", "IPaddr2", "params", "ip=10.0.0.9"],
    ));
    let verify = baton(&["verify", "--cib", s(&cib)]);
    assert_eq!(verify.status.code(), Some(1));
    let text = stdout(&verify);
    assert!(
        text.contains("Resource start-up disabled since no STONITH resources have been defined"),
        "{text}"
    );
    assert!(text.contains("property stonith-enabled=false"), "{text}");
    assert!(
        text.contains("Errors found during check: config not valid"),
        "{text}"
    );

    let json = baton(&["verify", "--cib", s(&cib), "--output", "json"]);
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(report["valid"], false);
    assert_eq!(report["findings"][0]["severity"], "error");
}

#[test]
fn delete_of_a_referenced_resource_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    ok(&configure(
        &cib,
        &["load", "update", s(&example("web-ha-constraints.crm"))],
    ));
    let before = std::fs::read(&cib).expect("read");
    let delete = configure(&cib, &["delete", "webip"]);
    assert_eq!(delete.status.code(), Some(2));
    assert!(
        stderr(&delete).contains("`webip` is still referenced by rsc_colocation"),
        "{}",
        stderr(&delete)
    );
    assert_eq!(std::fs::read(&cib).expect("read"), before);
    // Deleting the constraints first makes it possible.
    ok(&configure(
        &cib,
        &[
            "delete",
            "webservice_with_webstore_with_webip",
            "webip_before_webstore_before_httpd",
        ],
    ));
    ok(&configure(&cib, &["delete", "webip"]));
    assert!(!configuration(&cib).contains("\"webip\""));
}

#[test]
fn syntax_errors_exit_2_naming_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    let bad = dir.path().join("bad.crm");
    std::fs::write(
        &bad,
        "primitive a Dummy\nprimitive b Dummy op monitor interval=10s (\n",
    )
    .expect("write");
    let load = configure(&cib, &["load", "update", s(&bad)]);
    assert_eq!(load.status.code(), Some(2));
    assert!(
        stderr(&load).contains("line 2, column"),
        "{}",
        stderr(&load)
    );
    assert!(!cib.exists(), "a failed load must not create the CIB");
}

#[test]
fn failed_commands_leave_the_cib_file_byte_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    ok(&configure(
        &cib,
        &["load", "update", s(&example("web-ha-group.crm"))],
    ));
    let before = std::fs::read(&cib).expect("read");
    let bad = dir.path().join("half.crm");
    // The first command is fine, the second fails: nothing of the file lands.
    std::fs::write(&bad, "primitive extra Dummy\ngroup web_srv2 web\n").expect("write");
    for args in [
        vec!["primitive", "x", "Dummy", "op", "("],
        vec!["group", "web_srv", "nosuch"],
        vec!["clone", "c", "web_srv2"],
        vec!["delete", "nosuch"],
        vec!["group", "g2", "web"],
        vec!["load", "update", s(&bad)],
        vec!["show", "nosuch"],
    ] {
        let mut full = vec!["configure", "--cib", s(&cib)];
        full.extend(args.iter().copied());
        let out = baton(&full);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(std::fs::read(&cib).expect("read"), before, "{args:?}");
    }
}

#[test]
fn a_change_bumps_the_epoch_and_a_no_op_does_not_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    ok(&configure(&cib, &["property", "stonith-enabled=false"]));
    assert!(
        std::fs::read_to_string(&cib)
            .expect("read")
            .contains("epoch=\"1\"")
    );
    ok(&configure(&cib, &["property", "stonith-enabled=false"]));
    assert!(
        std::fs::read_to_string(&cib)
            .expect("read")
            .contains("epoch=\"1\"")
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cib, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    ok(&configure(&cib, &["primitive", "d", "ocf:pacemaker:Dummy"]));
    assert!(
        std::fs::read_to_string(&cib)
            .expect("read")
            .contains("epoch=\"2\"")
    );
    let mode = std::fs::metadata(&cib).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the CIB keeps its mode");
    let leftovers = std::fs::read_dir(dir.path()).expect("ls").count();
    assert_eq!(leftovers, 1, "no staging file is left behind");
}

#[test]
fn show_xml_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    ok(&configure(
        &cib,
        &["load", "update", s(&example("web-ha-group.crm"))],
    ));
    let xml = configure(&cib, &["show", "xml", "webip"]);
    ok(&xml);
    let head = r#"<primitive id="webip" class="ocf" provider="heartbeat" type="IPaddr">"#;
    assert!(stdout(&xml).starts_with(head), "{}", stdout(&xml));
    let json = baton(&[
        "--output",
        "json",
        "configure",
        "--cib",
        s(&cib),
        "show",
        "web_srv",
    ]);
    ok(&json);
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(value["commands"][0], "group web_srv webip webstore web");
}

#[test]
fn without_a_cib_file_and_without_a_running_crmd_the_cluster_is_unreachable() {
    let empty = tempfile::tempdir().expect("tempdir");
    for args in [
        vec!["configure", "show"],
        vec!["configure", "primitive", "d", "ocf:pacemaker:Dummy"],
        vec!["verify"],
        vec!["cib", "query"],
        vec!["status"],
    ] {
        let mut full = vec!["--socket-dir", s(empty.path())];
        full.extend(&args);
        let out = baton(&full);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        assert!(
            stderr(&out).contains("cannot reach baton-crmd"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn cib_import_lists_what_baton_keeps_but_does_not_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("dump.xml");
    std::fs::write(
        &dump,
        r#"<cib admin_epoch="0" epoch="7" num_updates="3" validate-with="pacemaker-3.9"><configuration><crm_config/><nodes><node id="1" uname="n1"/></nodes><resources><primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/><bundle id="b1"><docker image="x"/></bundle></resources><constraints><rsc_ticket id="t1" rsc="d" ticket="T"/></constraints></configuration><status><node_state id="1" uname="n1"/></status></cib>"#,
    )
    .expect("write");
    let target = dir.path().join("cib.xml");
    let import = baton(&["cib", "import", s(&dump), "--cib", s(&target)]);
    ok(&import);
    let notes = stderr(&import);
    for kept in ["status section", "bundle b1", "rsc_ticket t1"] {
        assert!(notes.contains(kept), "{notes}");
    }
    let again = baton(&["cib", "import", s(&dump), "--cib", s(&target)]);
    assert_eq!(again.status.code(), Some(2));
    ok(&baton(&["cib", "replace", s(&dump), "--cib", s(&target)]));
    let query = baton(&["cib", "query", "--cib", s(&target)]);
    ok(&query);
    assert!(stdout(&query).contains("<bundle id=\"b1\">"));
    // A replacement never goes back in version.
    assert!(stdout(&query).contains("epoch=\"8\""), "{}", stdout(&query));
    let show = configure(&target, &["show"]);
    ok(&show);
    assert!(
        stdout(&show).contains("# not shown: bundle b1"),
        "{}",
        stdout(&show)
    );
    assert!(
        stdout(&show).contains("# not shown: rsc_ticket t1"),
        "{}",
        stdout(&show)
    );
}

#[test]
fn the_shell_applies_staged_changes_only_on_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    let out = baton_with_input(
        &["configure", "--cib", s(&cib)],
        "primitive a ocf:pacemaker:Dummy \\\n op monitor interval=10s\nshow\ncommit\nprimitive b ocf:pacemaker:Dummy\nquit\nn\n",
    );
    ok(&out);
    assert!(
        stdout(&out).contains("op monitor interval=10s"),
        "{}",
        stdout(&out)
    );
    let config = configuration(&cib);
    assert!(config.contains("id=\"a\""));
    assert!(
        !config.contains("id=\"b\""),
        "uncommitted changes must not be written"
    );
    assert!(stderr(&out).contains("discarded"), "{}", stderr(&out));
    assert!(
        std::fs::read_to_string(&cib)
            .expect("read")
            .contains("epoch=\"1\"")
    );

    // Two staged commands, then quit and accept: one configuration change.
    let out = baton_with_input(
        &["configure", "--cib", s(&cib)],
        "primitive c ocf:pacemaker:Dummy\nprimitive d ocf:pacemaker:Dummy\nquit\ny\n",
    );
    ok(&out);
    let text = std::fs::read_to_string(&cib).expect("read");
    assert!(
        text.contains("id=\"d\"") && text.contains("epoch=\"2\""),
        "{text}"
    );
}

#[test]
fn edit_applies_the_saved_text_and_refuses_text_that_does_not_parse() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    ok(&configure(&cib, &["primitive", "a", "ocf:pacemaker:Dummy"]));
    let edit = |editor: &str, args: &[&str]| {
        let mut full = vec!["configure", "--cib", s(&cib), "edit"];
        full.extend(args);
        Command::new(env!("CARGO_BIN_EXE_baton"))
            .args(&full)
            .env("EDITOR", editor)
            .output()
            .expect("run baton")
    };
    ok(&edit("sed -i 's/Dummy/Stateful/'", &["a"]));
    assert!(configuration(&cib).contains("type=\"Stateful\""));
    let before = std::fs::read(&cib).expect("read");
    let bad = edit("sed -i 's/primitive a/primitive/'", &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("line 1, column"), "{}", stderr(&bad));
    assert_eq!(std::fs::read(&cib).expect("read"), before);
}

#[test]
fn a_misspelled_option_is_written_but_said_at_once_and_a_pasted_quote_fails_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    let typo = configure(&cib, &["property", "stonith-enabld=false"]);
    assert_eq!(typo.status.code(), Some(0), "{}", stderr(&typo));
    assert!(
        stderr(&typo).contains(
            "warning: cluster: unknown cluster option `stonith-enabld`: Pacemaker ignores it; did you mean `stonith-enabled`?"
        ),
        "{}",
        stderr(&typo)
    );
    let again = configure(&cib, &["property", "no-quorum-policy=ignore"]);
    assert!(
        !stderr(&again).contains("stonith-enabld"),
        "only what a change brings is said: {}",
        stderr(&again)
    );
    let pasted = configure(
        &cib,
        &[
            "primitive",
            "db",
            "ocf:heartbeat:Dummy",
            "meta",
            "notify=\u{201d}True\u{201d}",
        ],
    );
    assert!(
        stderr(&pasted).contains("typographic quotes"),
        "{}",
        stderr(&pasted)
    );
    let verify = baton(&["verify", "--cib", s(&cib)]);
    assert_eq!(verify.status.code(), Some(1), "{}", stdout(&verify));
    assert!(
        stdout(&verify).contains("error: db: `notify=\u{201d}True\u{201d}` has typographic quotes"),
        "{}",
        stdout(&verify)
    );
}

#[test]
fn a_misspelled_agent_or_parameter_gets_what_was_probably_meant() {
    if !baton_tests::require_package(
        "resource-agents",
        "/usr/lib/ocf/resource.d/heartbeat/IPaddr2",
        "suggest an installed agent",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let cib = dir.path().join("cib.xml");
    let typo = configure(
        &cib,
        &[
            "primitive",
            "vip2",
            "ocf:heartbeat:IPadr2",
            "params",
            "ip=10.0.0.1",
        ],
    );
    assert_eq!(typo.status.code(), Some(0), "{}", stderr(&typo));
    assert!(
        stderr(&typo).contains(
            "notice: vip2: agent ocf:heartbeat:IPadr2 is not installed on this node; did you mean `ocf:heartbeat:IPaddr2`?"
        ),
        "{}",
        stderr(&typo)
    );
    let params = configure(
        &cib,
        &[
            "primitive",
            "vip",
            "ocf:heartbeat:IPaddr2",
            "params",
            "ipp=10.0.0.1",
        ],
    );
    assert_eq!(
        stderr(&params).lines().collect::<Vec<_>>(),
        [
            "notice: vip: agent ocf:heartbeat:IPaddr2 requires the parameter `ip`, which is not given: the resource cannot start without it",
            "notice: vip: `ipp` is not a parameter of ocf:heartbeat:IPaddr2 (the agent ignores it); did you mean `ip`?",
        ]
    );
    let right = configure(
        &cib,
        &[
            "primitive",
            "vip3",
            "ocf:heartbeat:IPaddr2",
            "params",
            "ip=10.0.0.3",
            "cidr_netmask=24",
        ],
    );
    assert_eq!(stderr(&right), "", "a correct primitive raises nothing");
}
