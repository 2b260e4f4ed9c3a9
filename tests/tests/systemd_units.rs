//! The unit files as systemd reads them, and the start order the cluster
//! needs: crmd only once ringd, lrmd and fenced run.

use std::path::{Path, PathBuf};
use std::process::Command;

use baton_tests::require_tool;

const DAEMONS: [&str; 4] = ["ringd", "crmd", "lrmd", "fenced"];

fn systemd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../systemd")
}

fn unit(name: &str) -> String {
    std::fs::read_to_string(systemd_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn values<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .flat_map(str::split_whitespace)
        .collect()
}

#[test]
fn systemd_analyze_verify_reports_nothing() {
    if !require_tool("systemd-analyze", "verify the systemd units") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(systemd_dir()).expect("systemd/") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_owned();
        // The binaries are not installed here; verify checks ExecStart exists.
        let text = std::fs::read_to_string(&path)
            .expect("read unit")
            .lines()
            .map(|l| {
                if l.starts_with("ExecStart=") {
                    "ExecStart=/bin/true"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let copy = dir.path().join(&name);
        std::fs::write(&copy, text).expect("copy unit");
        files.push(copy);
    }
    assert_eq!(files.len(), 5, "four daemon units and baton.target");
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&files)
        .output()
        .expect("run systemd-analyze");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{report}");
    assert!(
        report.trim().is_empty(),
        "systemd-analyze complained:\n{report}"
    );
}

#[test]
fn every_daemon_is_a_notify_service_that_is_not_respawned_after_fatal_errors() {
    for daemon in DAEMONS {
        let text = unit(&format!("baton-{daemon}.service"));
        assert_eq!(values(&text, "Type"), ["notify"], "{daemon}");
        assert_eq!(values(&text, "Restart"), ["on-failure"], "{daemon}");
        for code in ["2", "3", "100"] {
            assert!(
                values(&text, "RestartPreventExitStatus").contains(&code),
                "{daemon}: {code}"
            );
        }
        assert_eq!(values(&text, "RuntimeDirectory"), ["baton"], "{daemon}");
        assert_eq!(
            values(&text, "RuntimeDirectoryPreserve"),
            ["yes"],
            "{daemon}"
        );
        assert!(
            values(&unit("baton.target"), "Wants")
                .contains(&format!("baton-{daemon}.service").as_str()),
            "baton.target does not pull in {daemon}"
        );
    }
}

#[test]
fn crmd_starts_after_its_peers_and_is_never_cut_short() {
    let crmd = unit("baton-crmd.service");
    for peer in ["ringd", "lrmd", "fenced"] {
        let name = format!("baton-{peer}.service");
        assert!(
            values(&crmd, "After").contains(&name.as_str()),
            "crmd not after {peer}"
        );
        assert!(
            values(&crmd, "Requires").contains(&name.as_str()),
            "crmd does not require {peer}"
        );
    }
    assert_eq!(values(&crmd, "SendSIGKILL"), ["no"]);
    assert_eq!(values(&crmd, "TimeoutStopSec"), ["30min"]);
}
