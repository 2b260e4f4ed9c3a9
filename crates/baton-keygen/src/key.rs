//! Producing and storing the key. The file appears whole or not at all: it is
//! written under a temporary name with mode 0400, synced, then linked (no
//! clobber) or renamed (with `--force`) into place.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// corosync 3 accepts keys from 128 to 4096 bytes.
pub const MIN_KEY_BYTES: u16 = 128;
pub const MAX_KEY_BYTES: u16 = 4096;
const KEY_MODE: u32 = 0o400;

#[derive(Debug)]
pub struct KeyRequest {
    pub path: PathBuf,
    pub size_bytes: usize,
    pub random_device: Option<PathBuf>,
    pub replace: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read random bytes from {device}: {source}")]
    RandomDevice { device: PathBuf, source: io::Error },
    #[error(
        "{device} gave only {got} of the {wanted} random bytes needed; use a device such as /dev/urandom"
    )]
    ShortRandom {
        device: PathBuf,
        got: usize,
        wanted: usize,
    },
    #[error("the kernel random generator failed: {0}")]
    Kernel(getrandom::Error),
    #[error(
        "{path} already exists; keep it, or pass --force to replace it (then copy the new key to every node)"
    )]
    Exists { path: PathBuf },
    #[error(
        "the directory {dir} does not exist; create it (mkdir -p {dir}) or choose another file with -k"
    )]
    MissingDirectory { dir: PathBuf },
    #[error("permission denied writing {path}; run baton-keygen as root")]
    PermissionDenied { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

impl KeyError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::RandomDevice { .. } | Self::ShortRandom { .. } | Self::Kernel(_) => 1,
            _ => 2,
        }
    }
}

pub fn write_key(request: &KeyRequest) -> Result<(), KeyError> {
    let key = random_bytes(request)?;
    let dir = match request.path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(KeyError::MissingDirectory { dir });
    }
    if !request.replace && request.path.exists() {
        return Err(KeyError::Exists {
            path: request.path.clone(),
        });
    }
    let staging = staging_path(&request.path);
    let result = write_staged(&staging, &key, &request.path)
        .and_then(|()| publish(&staging, &request.path, request.replace));
    let _ = std::fs::remove_file(&staging);
    result?;
    sync_dir(&dir).map_err(|source| write_error(&request.path, source))
}

fn random_bytes(request: &KeyRequest) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let mut key = Zeroizing::new(vec![0u8; request.size_bytes]);
    let Some(device) = &request.random_device else {
        getrandom::fill(&mut key).map_err(KeyError::Kernel)?;
        return Ok(key);
    };
    let device_error = |source| KeyError::RandomDevice {
        device: device.clone(),
        source,
    };
    let mut source = File::open(device).map_err(device_error)?;
    let mut filled = 0;
    while filled < key.len() {
        match source.read(&mut key[filled..]) {
            Ok(0) => {
                return Err(KeyError::ShortRandom {
                    device: device.clone(),
                    got: filled,
                    wanted: key.len(),
                });
            }
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(device_error(error)),
        }
    }
    Ok(key)
}

fn staging_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.new", std::process::id()))
}

fn write_staged(staging: &Path, key: &[u8], final_path: &Path) -> Result<(), KeyError> {
    let _ = std::fs::remove_file(staging);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(KEY_MODE)
        .open(staging)
        .map_err(|source| write_error(final_path, source))?;
    file.write_all(key)
        .and_then(|()| file.sync_all())
        .map_err(|source| write_error(final_path, source))
}

fn publish(staging: &Path, path: &Path, replace: bool) -> Result<(), KeyError> {
    let result = if replace {
        std::fs::rename(staging, path)
    } else {
        std::fs::hard_link(staging, path)
    };
    result.map_err(|source| match source.kind() {
        io::ErrorKind::AlreadyExists => KeyError::Exists {
            path: path.to_path_buf(),
        },
        _ => write_error(path, source),
    })
}

fn write_error(path: &Path, source: io::Error) -> KeyError {
    match source.kind() {
        io::ErrorKind::PermissionDenied => KeyError::PermissionDenied {
            path: path.to_path_buf(),
        },
        _ => KeyError::Write {
            path: path.to_path_buf(),
            source,
        },
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
