//! Durable storage: rotation, verification, loud fallback, and crash safety
//! under SIGKILL at random points.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use baton_cib::persist::{PersistError, RejectReason, Store};
use baton_cib::{Cib, Version};

fn cib_at(epoch: u64, filler: usize) -> Cib {
    let mut cib = Cib::empty();
    cib.set_version(Version {
        admin_epoch: 0,
        epoch,
        num_updates: 0,
    });
    // Vary the size so a torn write would be visible.
    cib.set_property("filler", &"x".repeat(filler));
    cib
}

fn epoch_of(doc: &baton_cib::xml::Document) -> u64 {
    let cib = Cib::from_document(doc.clone()).expect("a cib");
    cib.version().expect("version").epoch
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn empty_directory_loads_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(
        Store::new(dir.path().join("absent"))
            .load()
            .expect("load")
            .is_none()
    );
}

#[test]
fn keeps_the_last_versions_and_loads_the_newest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::with_keep(dir.path(), 3);
    for epoch in 1..=5 {
        store.save(cib_at(epoch, 10).document()).expect("save");
    }
    assert_eq!(
        files(dir.path()),
        [
            "cib-3.xml",
            "cib-3.xml.sig",
            "cib-4.xml",
            "cib-4.xml.sig",
            "cib-5.xml",
            "cib-5.xml.sig",
            "cib.xml",
            "cib.xml.sig"
        ]
    );
    let loaded = store.load().expect("load").expect("a version");
    assert!(loaded.is_clean());
    assert_eq!(epoch_of(&loaded.document), 5);
    assert!(loaded.path.ends_with("cib.xml"));
}

#[test]
fn corrupt_current_falls_back_loudly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::new(dir.path());
    for epoch in 1..=3 {
        store.save(cib_at(epoch, 10).document()).expect("save");
    }
    let current = dir.path().join("cib.xml");
    let mut bytes = std::fs::read(&current).expect("read");
    bytes[20] ^= 1;
    std::fs::write(&current, bytes).expect("corrupt");
    // The newest backup is also damaged: the load must go one further back.
    std::fs::write(dir.path().join("cib-3.xml.sig"), "0000\n").expect("bad sig");

    let loaded = store.load().expect("load").expect("a version");
    assert_eq!(epoch_of(&loaded.document), 2);
    assert!(loaded.path.ends_with("cib-2.xml"));
    assert_eq!(loaded.rejected.len(), 2);
    let first = loaded.rejected[0].to_string();
    assert!(first.contains("cib.xml: digest mismatch"), "{first}");
    assert!(matches!(
        loaded.rejected[1].reason,
        RejectReason::DigestMismatch { .. }
    ));
}

#[test]
fn nothing_valid_is_an_error_naming_the_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::new(dir.path());
    store.save(cib_at(1, 1).document()).expect("save");
    for name in ["cib.xml.sig", "cib-1.xml.sig"] {
        std::fs::remove_file(dir.path().join(name)).expect("remove");
    }
    let err = store.load().expect_err("nothing valid");
    assert!(
        matches!(err, PersistError::NoValidVersion { ref rejected, .. } if rejected.len() == 2)
    );
    let msg = err.to_string();
    assert!(
        msg.contains("cib.xml: its signature file is missing"),
        "{msg}"
    );
}

#[test]
fn stale_current_signature_is_vouched_for_by_the_backup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::new(dir.path());
    store.save(cib_at(1, 1).document()).expect("save");
    let old_sig = std::fs::read(dir.path().join("cib.xml.sig")).expect("sig");
    store.save(cib_at(2, 1).document()).expect("save");
    // As if the crash came between renaming cib.xml and its signature: the
    // old signature file is still in place (its own file, not the backup's).
    std::fs::remove_file(dir.path().join("cib.xml.sig")).expect("unlink sig");
    std::fs::write(dir.path().join("cib.xml.sig"), &old_sig).expect("stale sig");
    let loaded = store.load().expect("load").expect("a version");
    assert!(loaded.is_clean());
    assert!(loaded.path.ends_with("cib.xml"));
    assert!(loaded.signature.ends_with("cib-2.xml.sig"));
    // A later save interrupted after its backup must not change that.
    let newer = cib_at(3, 1);
    let bytes = newer.to_xml(baton_cib::xml::Style::Pretty);
    std::fs::write(dir.path().join("cib-3.xml"), &bytes).expect("backup");
    let sig = format!("{}\n", baton_cib::version::sha256_hex(bytes.as_bytes()));
    std::fs::write(dir.path().join("cib-3.xml.sig"), sig).expect("backup sig");
    let again = store.load().expect("load").expect("a version");
    assert!(again.is_clean());
    assert_eq!(epoch_of(&again.document), 2);
    assert_eq!(epoch_of(&loaded.document), 2);
}

#[test]
fn missing_current_with_backups_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::new(dir.path());
    store.save(cib_at(7, 1).document()).expect("save");
    std::fs::remove_file(dir.path().join("cib.xml")).expect("remove");
    let loaded = store.load().expect("load").expect("a version");
    assert_eq!(epoch_of(&loaded.document), 7);
    assert!(matches!(loaded.rejected[0].reason, RejectReason::Missing));
}

const CHILD_ENV: &str = "BATON_CIB_CRASH_CHILD_DIR";

/// Run as a child by `survives_sigkill_at_random_points`: saves ever newer
/// versions until killed. A normal test run (no env var) does nothing.
#[test]
fn crash_child_writer() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let store = Store::with_keep(&dir, 4);
    let mut epoch = match store.load() {
        Ok(Some(l)) => epoch_of(&l.document),
        _ => 0,
    };
    loop {
        epoch += 1;
        let filler = usize::try_from(epoch % 97).unwrap_or(0) * 300;
        store.save(cib_at(epoch, filler).document()).expect("save");
    }
}

/// A few hundred SIGKILLs at random moments: every load afterwards must
/// give one complete, digest-valid version, never older than the last one
/// seen (a rejected current file is acceptable because it is reported).
#[test]
fn survives_sigkill_at_random_points() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let store = Store::with_keep(dir.path(), 4);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64 | 1);
    eprintln!("crash test seed {seed}");
    let mut rng = seed;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let started = Instant::now();
    let (mut kills, mut fallbacks, mut torn_pairs, mut last_epoch) = (0, 0, 0, 0);
    while kills < 300 && started.elapsed() < Duration::from_secs(15) {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn writer");
        std::thread::sleep(Duration::from_micros(2_000 + next() % 25_000));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        kills += 1;
        let Some(loaded) = store
            .load()
            .unwrap_or_else(|e| panic!("after kill {kills}: {e}"))
        else {
            continue;
        };
        let epoch = epoch_of(&loaded.document);
        assert!(
            epoch >= last_epoch,
            "went back from {last_epoch} to {epoch} after kill {kills}"
        );
        last_epoch = epoch;
        if !loaded.is_clean() {
            fallbacks += 1;
        }
        if !loaded.signature.ends_with("cib.xml.sig") {
            torn_pairs += 1;
        }
    }
    eprintln!(
        "{kills} kills, last epoch {last_epoch}, {torn_pairs} torn current pairs \
         verified by the backup signature, {fallbacks} loud fallbacks"
    );
    assert!(kills >= 50, "only {kills} kills in the time budget");
    assert!(last_epoch > 0, "the writer never completed a save");
}
