//! `baton lrm exec` and `baton ra …` against a running baton-lrmd: the JSON
//! contract of DESIGN §9 and the exit codes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Daemon, OcfRoot};
use serde_json::Value;

/// The `baton` binary, built beside baton-lrmd by a workspace build.
fn baton() -> Option<PathBuf> {
    let path = Path::new(common::LRMD).with_file_name("baton");
    baton_tests::prerequisite(path.exists(), || {
        format!(
            "{} is not built; run `cargo build -p baton-cli` (a workspace test builds it)",
            path.display()
        )
    })
    .then_some(path)
}

fn run(baton: &Path, socket_dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(baton)
        .arg("--socket-dir")
        .arg(socket_dir)
        .args(args)
        .output()
        .expect("run baton");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.code(), text)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[test]
fn lrm_exec_and_ra_through_the_cli() {
    let Some(baton) = baton() else { return };
    let root = OcfRoot::new();
    root.agent("Hang", "sleep 1000");
    let daemon = Daemon::start(&root.path(), &[], &[]);
    let dir = daemon.socket_dir.path();
    let state = format!("state={}", root.scratch("cli.state"));
    let exec = |action: &str, extra: &[&str]| {
        let args = [
            &[
                "--output",
                "json",
                "lrm",
                "exec",
                "ocf:baton:Demo",
                action,
                &state,
                "--resource",
                "d",
            ][..],
            extra,
        ]
        .concat();
        run(&baton, dir, &args)
    };

    let (code, out) = exec("start", &[]);
    assert_eq!(code, Some(0), "{out}");
    let start = json(&out);
    assert_eq!(
        (start["rc"].as_i64(), start["status"].as_str()),
        (Some(0), Some("done"))
    );
    assert!(
        start["exec_ms"].is_u64()
            && start["exit_reason"].is_string()
            && start["output"].is_string(),
        "{start}"
    );

    let (code, out) = exec("monitor", &["--interval", "10000"]);
    assert_eq!(
        (code, json(&out)["rc"].as_i64()),
        (Some(0), Some(0)),
        "{out}"
    );
    assert_eq!(exec("stop", &[]).0, Some(0));
    let (code, out) = exec("monitor", &[]);
    assert_eq!(
        (code, json(&out)["rc"].as_i64()),
        (Some(1), Some(7)),
        "a stopped monitor is rc 7, exit 1: {out}"
    );

    let (code, out) = run(
        &baton,
        dir,
        &[
            "--output",
            "json",
            "lrm",
            "exec",
            "ocf:test:Hang",
            "start",
            "--timeout",
            "200",
        ],
    );
    assert_eq!(
        (code, json(&out)["status"].as_str()),
        (Some(1), Some("timeout")),
        "{out}"
    );
    let (code, out) = run(
        &baton,
        dir,
        &["lrm", "exec", "ocf:baton:Demo", "start", "novalue"],
    );
    assert_eq!(code, Some(2), "{out}");
    let (code, out) = run(&baton, dir, &["lrm", "exec", "ocf:baton:Demo"]);
    assert_eq!(code, Some(2), "{out}");

    let (code, out) = run(&baton, dir, &["ra", "classes"]);
    assert_eq!(code, Some(0));
    assert!(
        out.lines().any(|l| l == "ocf") && out.lines().any(|l| l == "lsb"),
        "{out}"
    );
    let (code, out) = run(&baton, dir, &["ra", "list", "ocf:baton"]);
    assert_eq!((code, out.trim()), (Some(0), "ocf:baton:Demo"));
    let (code, out) = run(
        &baton,
        dir,
        &["--output", "json", "ra", "info", "ocf:baton:Demo"],
    );
    assert_eq!(code, Some(0), "{out}");
    let info = json(&out);
    let state_param = &info["parameters"][0];
    assert_eq!(state_param["name"], "state");
    assert_eq!(state_param["type"], "string");
    assert_eq!(state_param["required"], false);
    assert!(state_param["default"].is_string() && state_param["description"] == "State file");
    assert!(
        info["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .any(|a| a["name"] == "start" && a["timeout_ms"] == 20_000)
    );
    let (code, out) = run(&baton, dir, &["ra", "info", "ocf:baton:Demo"]);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("ocf:baton:Demo - baton demo resource"),
        "{out}"
    );
    assert!(out.contains("start            timeout=20s"), "{out}");
    let (code, out) = run(&baton, dir, &["ra", "info", "ocf:baton:Nope"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("not installed") || out.contains("does not exist"),
        "{out}"
    );
}

#[test]
fn an_absent_lrmd_is_exit_3() {
    let Some(baton) = baton() else { return };
    let empty = tempfile::tempdir().expect("tempdir");
    let (code, out) = run(
        &baton,
        empty.path(),
        &["lrm", "exec", "ocf:baton:Demo", "monitor"],
    );
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("lrmd.sock"), "{out}");
    assert_eq!(run(&baton, empty.path(), &["ra", "classes"]).0, Some(3));
}
