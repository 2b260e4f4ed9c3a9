//! Binding a daemon's Unix socket.
//!
//! A daemon must never steal the socket of a live peer, never delete a file
//! that is not a socket, and never expose a socket with the wrong mode, even
//! for an instant. So the socket is bound under a temporary name, given its
//! mode, then hard-linked to its real name: `link(2)` fails when the name
//! exists, which makes the final step atomic and no-clobber.

use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio_stream::wrappers::UnixListenerStream;

/// Owner and group `haclient` may connect; nobody else.
pub const SOCKET_MODE: u32 = 0o660;

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("cannot create the socket directory {dir}: {source}")]
    CreateDir { dir: PathBuf, source: io::Error },
    #[error(
        "another process is already serving on {path}; stop it first, or pass another --socket-dir"
    )]
    Busy { path: PathBuf },
    #[error("{path} exists and is not a socket; move it away, or pass another --socket-dir")]
    NotASocket { path: PathBuf },
    #[error("cannot bind the socket {path}: {source}")]
    Bind { path: PathBuf, source: io::Error },
}

/// A bound, listening socket whose file is removed when it is dropped.
#[derive(Debug)]
pub struct UnixSocket {
    listener: tokio::net::UnixListener,
    file: SocketFile,
}

impl UnixSocket {
    /// Binds `path` with mode [`SOCKET_MODE`], creating its parent directory
    /// and replacing a stale socket left by a dead daemon. Must be called
    /// within a tokio runtime.
    pub fn bind(path: &Path) -> Result<Self, SocketError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| SocketError::CreateDir {
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        remove_if_stale(path)?;
        let bind_error = |source| SocketError::Bind {
            path: path.to_path_buf(),
            source,
        };
        let staging = staging_path(path);
        let _ = std::fs::remove_file(&staging);
        let listener = std::os::unix::net::UnixListener::bind(&staging).map_err(bind_error)?;
        let staged = (|| {
            std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(SOCKET_MODE))?;
            std::fs::hard_link(&staging, path)
        })();
        let _ = std::fs::remove_file(&staging);
        match staged {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                return Err(SocketError::Busy {
                    path: path.to_path_buf(),
                });
            }
            Err(error) => return Err(bind_error(error)),
        }
        let file = SocketFile::new(path).map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let listener = tokio::net::UnixListener::from_std(listener).map_err(bind_error)?;
        Ok(Self { listener, file })
    }

    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// Serves `router` until `shutdown` completes, then removes the socket file.
    pub async fn serve(
        self,
        router: tonic::transport::server::Router,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), tonic::transport::Error> {
        let Self { listener, file } = self;
        let result = router
            .serve_with_incoming_shutdown(UnixListenerStream::new(listener), shutdown)
            .await;
        drop(file);
        result
    }
}

fn staging_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.staging", std::process::id()))
}

/// A socket file nobody accepts on is left by a daemon that died; anything
/// else at that path is refused rather than deleted.
fn remove_if_stale(path: &Path) -> Result<(), SocketError> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(SocketError::Bind {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if !metadata.file_type().is_socket() {
        return Err(SocketError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(SocketError::Busy {
            path: path.to_path_buf(),
        }),
        Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path).or_else(|source| match source.kind() {
                io::ErrorKind::NotFound => Ok(()),
                _ => Err(SocketError::Bind {
                    path: path.to_path_buf(),
                    source,
                }),
            })
        }
        Err(source) => Err(SocketError::Bind {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Removes the socket file on drop, but only while it is still the one this
/// process bound: a successor may already have replaced it.
#[derive(Debug)]
struct SocketFile {
    path: PathBuf,
    inode: u64,
}

impl SocketFile {
    fn new(path: &Path) -> io::Result<Self> {
        let inode = std::fs::symlink_metadata(path)?.ino();
        Ok(Self {
            path: path.to_path_buf(),
            inode,
        })
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let still_ours = std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.ino() == self.inode);
        if still_ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Completes on SIGTERM or SIGINT: what every daemon passes to
/// [`UnixSocket::serve`] so that systemd's stop ends it cleanly.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot watch SIGTERM/SIGINT; stop the daemon with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("stopping");
}
