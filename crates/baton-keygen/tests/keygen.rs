//! baton-keygen as an admin runs it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn keygen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baton-keygen"))
        .args(args)
        .output()
        .expect("run baton-keygen")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn key_arg(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn writes_256_random_bytes_readable_by_owner_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("authkey");
    let out = keygen(&["-k", &key_arg(&path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let key = std::fs::read(&path).expect("key written");
    assert_eq!(key.len(), 256);
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o400, "mode {mode:o}");
    let distinct = key.iter().collect::<std::collections::BTreeSet<_>>().len();
    assert!(
        distinct > 64,
        "256 random bytes with only {distinct} distinct values"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("list").count(),
        1,
        "temporary files left behind"
    );
}

#[test]
fn two_keys_differ() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    assert!(keygen(&["-k", &key_arg(&a)]).status.success());
    assert!(keygen(&["-k", &key_arg(&b)]).status.success());
    assert_ne!(std::fs::read(a).expect("a"), std::fs::read(b).expect("b"));
}

#[test]
fn size_is_honoured_within_corosync_bounds() {
    let dir = tempfile::tempdir().expect("tempdir");
    for size in ["128", "4096"] {
        let path = dir.path().join(size);
        let out = keygen(&["-k", &key_arg(&path), "-s", size]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(std::fs::read(&path).expect("key").len().to_string(), size);
    }
    for size in ["127", "4097", "big"] {
        let path = dir.path().join(size);
        let out = keygen(&["-k", &key_arg(&path), "-s", size]);
        assert_eq!(out.status.code(), Some(1), "size {size} accepted");
        assert!(
            text(&out.stderr).contains("128..=4096") || size == "big",
            "{}",
            text(&out.stderr)
        );
        assert!(!path.exists());
    }
}

#[test]
fn an_existing_key_is_kept_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("authkey");
    assert!(keygen(&["-k", &key_arg(&path)]).status.success());
    let original = std::fs::read(&path).expect("key");

    let refused = keygen(&["-k", &key_arg(&path)]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("--force"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(
        std::fs::read(&path).expect("key"),
        original,
        "key changed without --force"
    );

    let forced = keygen(&["-k", &key_arg(&path), "--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    let replaced = std::fs::read(&path).expect("key");
    assert_eq!(replaced.len(), 256);
    assert_ne!(replaced, original);
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o400);
}

#[test]
fn a_missing_directory_is_named_with_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no/such/dir/authkey");
    let out = keygen(&["-k", &key_arg(&path)]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("does not exist") && stderr.contains("mkdir -p"),
        "{stderr}"
    );
}

#[test]
fn a_random_device_is_read_and_a_short_one_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("entropy");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(300).collect();
    std::fs::write(&source, &bytes).expect("write source");

    let path = dir.path().join("authkey");
    let out = keygen(&["-k", &key_arg(&path), "-s", "200", "-r", &key_arg(&source)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&path).expect("key"), bytes[..200]);

    let short = dir.path().join("short-key");
    let out = keygen(&["-k", &key_arg(&short), "-s", "400", "-r", &key_arg(&source)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("only 300 of the 400"),
        "{}",
        text(&out.stderr)
    );
    assert!(!short.exists(), "a short key was written");
}
