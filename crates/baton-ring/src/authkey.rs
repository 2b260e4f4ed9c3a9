//! Reading the cluster authkey, refusing keys that are short or exposed.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// corosync-keygen's minimum and maximum key sizes.
pub const MIN_KEY_BYTES: usize = 128;
pub const MAX_KEY_BYTES: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum AuthkeyError {
    #[error("cannot read the authkey {}: {source}; create it with baton-keygen", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the authkey {} is readable by group or others (mode {mode:o}); run chmod 0400 on it", path.display())]
    Exposed { path: PathBuf, mode: u32 },
    #[error("the authkey {} holds {len} bytes, outside {MIN_KEY_BYTES}..={MAX_KEY_BYTES}; generate a new one with baton-keygen", path.display())]
    BadLength { path: PathBuf, len: u64 },
}

/// Reads the key, refusing it unless it is private to its owner and of a
/// size baton-keygen would write.
pub fn load(path: &Path) -> Result<Zeroizing<Vec<u8>>, AuthkeyError> {
    let unreadable = |source| AuthkeyError::Unreadable {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(AuthkeyError::Exposed {
            path: path.to_owned(),
            mode,
        });
    }
    let bad_length = |len| AuthkeyError::BadLength {
        path: path.to_owned(),
        len,
    };
    if meta.len() > MAX_KEY_BYTES as u64 {
        return Err(bad_length(meta.len()));
    }
    let mut key = Zeroizing::new(Vec::with_capacity(MAX_KEY_BYTES));
    // Read one byte past the limit so a file that grew is still caught.
    file.by_ref()
        .take(MAX_KEY_BYTES as u64 + 1)
        .read_to_end(&mut key)
        .map_err(unreadable)?;
    if !(MIN_KEY_BYTES..=MAX_KEY_BYTES).contains(&key.len()) {
        return Err(bad_length(key.len() as u64));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn write_key(dir: &Path, len: usize, mode: u32) -> PathBuf {
        let path = dir.join("authkey");
        std::fs::write(&path, vec![7u8; len]).expect("write key");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    #[test]
    fn accepts_a_private_key_of_valid_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = load(&write_key(dir.path(), 256, 0o400)).expect("valid key");
        assert_eq!(key.len(), 256);
    }

    #[test]
    fn refuses_exposed_short_and_missing_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let exposed = load(&write_key(dir.path(), 256, 0o640));
        assert!(matches!(exposed, Err(AuthkeyError::Exposed { .. })));
        let short = load(&write_key(dir.path(), 127, 0o600));
        assert!(matches!(
            short,
            Err(AuthkeyError::BadLength { len: 127, .. })
        ));
        let missing = load(&dir.path().join("none"));
        assert!(matches!(missing, Err(AuthkeyError::Unreadable { .. })));
        assert!(
            missing
                .expect_err("missing")
                .to_string()
                .contains("baton-keygen")
        );
    }
}
