//! The persisted ring sequence: ring ids must keep growing across restarts.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

pub fn path(state_dir: &Path, node_id: u32) -> PathBuf {
    state_dir.join(format!("ringid_{node_id}"))
}

/// A missing file means a fresh node (seq 0); a corrupt one is an error,
/// since guessing low could reuse a ring id.
pub fn load(path: &Path) -> anyhow::Result<u64> {
    match std::fs::read_to_string(path) {
        Ok(text) => text.trim().parse().with_context(|| {
            format!(
                "{} does not hold a ring sequence number; remove it only if no other node remembers this one",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Write-temp, fsync, rename, fsync the directory: after a crash the file
/// holds either the old or the new number, never a torn one.
pub fn store(path: &Path, seq: u64) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        writeln!(file, "{seq}")?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    };
    write().with_context(|| format!("cannot persist the ring sequence to {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_defaults_to_zero() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = path(dir.path(), 3);
        assert_eq!(load(&file).expect("missing is zero"), 0);
        store(&file, 42).expect("store");
        assert_eq!(load(&file).expect("load"), 42);
        std::fs::write(&file, "garbage").expect("write");
        assert!(load(&file).is_err());
    }
}
