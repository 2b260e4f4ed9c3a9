//! baton-crmd as a process: how it refuses to start.

use std::process::Command;

const CRMD: &str = env!("CARGO_BIN_EXE_baton-crmd");

fn config(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("corosync.conf");
    std::fs::write(&path, text).expect("write config");
    path
}

const GOOD: &str = "totem {\n  version: 2\n  cluster_name: t\n  crypto_cipher: none\n  crypto_hash: none\n}\nnodelist {\n  node {\n    ring0_addr: 127.0.0.1\n    nodeid: 1\n    name: n1\n  }\n}\n";

#[test]
fn without_ringd_it_says_so_and_exits_1_for_systemd_to_retry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(CRMD)
        .arg("--config")
        .arg(config(dir.path(), GOOD))
        .arg("--socket-dir")
        .arg(dir.path().join("sock"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .output()
        .expect("run baton-crmd");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("start baton-ringd first"), "{stderr}");
    assert!(
        !dir.path().join("sock/crmd.sock").exists(),
        "it served nothing"
    );
}

#[test]
fn a_bad_configuration_is_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config(dir.path(), "totem {\n  token: soon\n}\n");
    let out = Command::new(CRMD)
        .arg("--config")
        .arg(&path)
        .arg("--socket-dir")
        .arg(dir.path())
        .output()
        .expect("run baton-crmd");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(path.to_str().expect("utf-8")), "{stderr}");
}
