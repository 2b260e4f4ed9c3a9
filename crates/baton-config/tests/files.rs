//! Reading from disk: format by extension, and errors that name the path.

use std::path::Path;

use baton_config::{Format, Resolver, load_path_with};

#[derive(Debug)]
struct Offline;

impl Resolver for Offline {
    fn resolves(&self, _: &str) -> bool {
        false
    }
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
    path
}

#[test]
fn format_follows_the_extension() {
    assert_eq!(
        Format::for_path(Path::new("/etc/baton/cluster.toml")),
        Format::Toml
    );
    assert_eq!(
        Format::for_path(Path::new("/etc/corosync/corosync.conf")),
        Format::Corosync
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let toml = write(&dir, "c.toml", b"[quorum]\nprovider = \"corosync_votequorum\"\n[[nodelist.node]]\nnodeid = 1\nring0_addr = \"10.0.0.1\"\n");
    let loaded = load_path_with(&toml, &Offline).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.format, Format::Toml);
    assert!(loaded.is_usable(), "{}", loaded.report());
}

#[test]
fn missing_file_names_the_path() {
    let err = load_path_with(Path::new("/nonexistent/baton/corosync.conf"), &Offline)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("cannot read /nonexistent/baton/corosync.conf")
    );
}

#[test]
fn binary_and_overlong_input_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let binary = write(&dir, "bin.conf", b"totem {\n token: 3000\n\xff\xfe\n}\n");
    let msg = load_path_with(&binary, &Offline)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        msg.ends_with("bin.conf:3: the file is not UTF-8 text; convert it to UTF-8"),
        "{msg}"
    );
    let long = write(
        &dir,
        "long.conf",
        format!("totem {{\n cluster_name: {}\n}}\n", "x".repeat(600)).as_bytes(),
    );
    let msg = load_path_with(&long, &Offline)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        msg.contains("long.conf:2: the line is 615 characters long but the limit is 511"),
        "{msg}"
    );
}
