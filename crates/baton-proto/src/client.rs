//! Connecting to a daemon's socket. Every call made on the returned channel
//! carries a deadline: a wedged daemon must turn into an error, never a hang.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

/// What a CLI call waits for before it gives up.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no daemon is listening on {path}; is it running, and is --socket-dir right?")]
    NotListening { path: PathBuf },
    #[error("permission denied on {path}; run as root or as a member of group haclient")]
    PermissionDenied { path: PathBuf },
    #[error("cannot connect to {path}: {source}")]
    Transport {
        path: PathBuf,
        source: tonic::transport::Error,
    },
}

/// Connects to the daemon serving `path`; each call fails after `call_timeout`.
pub async fn connect(path: &Path, call_timeout: Duration) -> Result<Channel, ConnectError> {
    // tonic reports every connection failure alike, so probe first to tell
    // the user which one it is.
    if let Err(error) = tokio::net::UnixStream::connect(path).await {
        return Err(match error.kind() {
            io::ErrorKind::PermissionDenied => ConnectError::PermissionDenied {
                path: path.to_path_buf(),
            },
            _ => ConnectError::NotListening {
                path: path.to_path_buf(),
            },
        });
    }
    let transport = |source| ConnectError::Transport {
        path: path.to_path_buf(),
        source,
    };
    Endpoint::from_shared(format!("unix://{}", path.display()))
        .map_err(transport)?
        .connect_timeout(call_timeout)
        .timeout(call_timeout)
        .connect()
        .await
        .map_err(transport)
}
