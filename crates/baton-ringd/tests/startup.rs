//! A ringd that cannot start says why in one sentence and exits 2 (DESIGN
//! §9), so systemd does not respawn it into the same error. Building this
//! test also builds the `baton-ringd` binary that the multi-node tests in
//! `tests/` start.

use std::process::Command;

fn ringd(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_baton-ringd"))
        .args(args)
        .output()
        .expect("run baton-ringd");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_config_is_exit_2_naming_the_file() {
    let (code, stderr) = ringd(&["--config", "/nonexistent/cluster.toml"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/cluster.toml"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_bad_value_is_exit_2_with_file_line_and_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("corosync.conf");
    std::fs::write(&conf, "totem {\n token: fast\n}\n").expect("write");
    let (code, stderr) = ringd(&["--config", conf.to_str().expect("utf-8")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("corosync.conf:2: error: `totem.token: fast`"),
        "{stderr}"
    );
    assert!(stderr.contains("baton config check"), "{stderr}");
}
