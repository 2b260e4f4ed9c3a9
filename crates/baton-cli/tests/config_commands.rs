//! `baton config check|import` run as an admin runs them.

mod common;

use std::path::{Path, PathBuf};

use common::{baton, stderr, stdout};

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/examples/corosync");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("shared examples missing at {}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "expected the three tutorial configs");
    files
}

#[test]
fn every_example_checks_as_usable_and_imports_to_a_usable_toml() {
    let dir = tempfile::tempdir().expect("tempdir");
    for example in examples() {
        let path = example.to_str().expect("utf-8 path");
        let check = baton(&["config", "check", path]);
        assert_eq!(
            check.status.code(),
            Some(0),
            "{path}:\n{}{}",
            stdout(&check),
            stderr(&check)
        );
        assert!(
            stdout(&check).contains("totem.consensus"),
            "effective values missing"
        );
        assert!(stdout(&check).contains("the configuration is usable"));

        let import = baton(&["config", "import", path]);
        assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
        let toml = dir.path().join(format!(
            "{}.toml",
            example.file_stem().expect("stem").to_string_lossy()
        ));
        std::fs::write(&toml, import.stdout).expect("write toml");
        let recheck = baton(&["config", "check", toml.to_str().expect("utf-8")]);
        assert_eq!(
            recheck.status.code(),
            Some(0),
            "imported TOML rejected:\n{}",
            stdout(&recheck)
        );
        let effective = |text: String| -> Vec<String> {
            text.lines()
                .filter(|l| l.starts_with("  "))
                .map(|l| l.split("  (").next().unwrap_or(l).trim_end().to_owned())
                .collect()
        };
        assert_eq!(
            effective(stdout(&check)),
            effective(stdout(&recheck)),
            "{path}: import changed the meaning"
        );
    }
}

#[test]
fn legacy_sections_get_a_notice_each() {
    let whitetank = examples()
        .into_iter()
        .find(|p| p.ends_with("whitetank-plugin.conf"))
        .expect("whitetank");
    let out = baton(&["config", "check", whitetank.to_str().expect("utf-8")]);
    let text = stdout(&out);
    for section in ["compatibility", "`service`", "`aisexec`", "`amf`"] {
        assert!(text.contains(section), "no notice for {section}:\n{text}");
    }
}

#[test]
fn bad_values_and_misspellings_name_file_line_and_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("corosync.conf");
    std::fs::write(
        &conf,
        "totme {\n}\ntotem {\n  transport: udpu\n  token: fast\n}\nnodelist {\n  node {\n    ring0_addr: 127.0.0.1\n    nodeid: 1\n  }\n}\n",
    )
    .expect("write");
    let out = baton(&["config", "check", conf.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "an unusable config must exit 2");
    let text = stdout(&out);
    assert!(
        text.contains("corosync.conf:5: error: `totem.token: fast`"),
        "{text}"
    );
    assert!(
        text.contains("corosync.conf:1: warning: unknown section `totme`")
            && text.contains("did you mean `totem`"),
        "{text}"
    );

    let import = baton(&["config", "import", conf.to_str().expect("utf-8")]);
    assert_eq!(import.status.code(), Some(2));
    assert!(
        import.stdout.is_empty(),
        "an unusable config must not be imported"
    );
    assert!(
        stderr(&import).contains("fix them, then import again"),
        "{}",
        stderr(&import)
    );
}

#[test]
fn json_output_is_machine_readable() {
    let example = &examples()[0];
    let out = baton(&[
        "--output",
        "json",
        "config",
        "check",
        example.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid json");
    assert_eq!(report["usable"], true);
    let settings = report["settings"].as_array().expect("settings");
    let token = settings
        .iter()
        .find(|s| s["key"] == "totem.token")
        .expect("token");
    assert_eq!(token["value"], "3000");
    assert_eq!(token["source"], "default");
}

#[test]
fn unreadable_files_are_one_sentence_and_exit_2() {
    let out = baton(&["config", "check", "/nonexistent/corosync.conf"]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.starts_with("baton: ") && text.contains("/nonexistent/corosync.conf"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
}
