//! Running one agent process under supervision (CRATES §9): its own process
//! group, a clean environment, a hard timeout enforced on the whole group
//! (SIGTERM, a grace period, then SIGKILL), and bounded output that is read
//! until the agent exits, never until EOF: a `start` that leaves a daemon
//! holding the pipes must not hang us.

use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::capture::{TAIL_BYTES_MAX, Tail};
use crate::env::Env;

#[derive(Debug, Clone)]
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Env,
    pub timeout: Duration,
    /// Written to the agent's stdin, which is then closed (fence agents
    /// read their parameters there); `None` gives /dev/null.
    pub stdin: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Between SIGTERM and SIGKILL once the timeout has passed.
    pub grace: Duration,
    /// How long taking what an exited agent left in its pipes may take
    /// (descendants may hold the pipes open for ever, so nobody waits for
    /// their end).
    pub drain: Duration,
    /// Kept per stream.
    pub tail_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(2),
            drain: Duration::from_millis(100),
            tail_bytes: TAIL_BYTES_MAX,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// Killed at its timeout, with all of its process group.
    TimedOut,
    /// The program (or its interpreter) does not exist.
    Missing(String),
    /// It exists but could not be started.
    Unrunnable {
        permission: bool,
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct Finished {
    pub exit: Exit,
    /// From spawn to the agent's exit.
    pub elapsed: Duration,
    pub stdout: String,
    pub stderr: String,
    pub truncated: bool,
}

impl Finished {
    fn without_output(exit: Exit, started: Instant) -> Self {
        Self {
            exit,
            elapsed: started.elapsed(),
            stdout: String::new(),
            stderr: String::new(),
            truncated: false,
        }
    }
}

/// Runs `invocation` to its end or its timeout. Must be called within a
/// tokio runtime; if the returned future is dropped early, the whole process
/// group is killed.
pub async fn run(invocation: &Invocation, limits: &Limits) -> Finished {
    let started = Instant::now();
    if let Err(exit) = check_program(invocation) {
        return Finished::without_output(exit, started);
    }
    let mut command = Command::new(&invocation.program);
    command
        .args(&invocation.args)
        .env_clear()
        .envs(invocation.env.iter().map(|(name, value)| (name, value)))
        .current_dir("/")
        .process_group(0)
        .kill_on_drop(true)
        .stdin(if invocation.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => return Finished::without_output(spawn_failure(invocation, &error), started),
    };
    // A freshly spawned child always has a pid; 0 would signal our own group.
    let Some(pid) = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .filter(|id| *id > 0)
    else {
        let reason = "the agent exited before it could be supervised".to_owned();
        return Finished::without_output(
            Exit::Unrunnable {
                permission: false,
                reason,
            },
            started,
        );
    };
    let mut group = GroupGuard(Some(Pid::from_raw(pid)));
    if let (Some(text), Some(mut pipe)) = (invocation.stdin.clone(), child.stdin.take()) {
        // An agent that exits without reading is its own business: the
        // write fails, its exit says what happened.
        tokio::spawn(async move {
            let _ = pipe.write_all(text.as_bytes()).await;
        });
    }
    let stdout = Reader::start(child.stdout.take(), limits.tail_bytes);
    let stderr = Reader::start(child.stderr.take(), limits.tail_bytes);
    let exit = match tokio::time::timeout(invocation.timeout, child.wait()).await {
        Ok(Ok(status)) => {
            // Descendants left behind by a successful action (a started
            // daemon) are the point of the action: leave them.
            group.disarm();
            match (status.code(), status.signal()) {
                (Some(code), _) => Exit::Code(code),
                (None, Some(signal)) => Exit::Signal(signal),
                (None, None) => Exit::Unrunnable {
                    permission: false,
                    reason: format!("the agent ended with an unknown status {status}"),
                },
            }
        }
        Ok(Err(error)) => Exit::Unrunnable {
            permission: false,
            reason: format!("waiting for the agent failed: {error}"),
        },
        Err(_elapsed) => {
            group.signal(Signal::SIGTERM);
            let _ = tokio::time::timeout(limits.grace, child.wait()).await;
            // Unconditionally: descendants may ignore SIGTERM after the
            // leader is gone. (Should the leader have been reaped during
            // the grace and the group emptied, the id is unused: ESRCH.)
            group.signal(Signal::SIGKILL);
            group.disarm();
            let _ = child.wait().await;
            Exit::TimedOut
        }
    };
    let elapsed = started.elapsed();
    let ((stdout, stdout_cut), (stderr, stderr_cut)) =
        tokio::join!(stdout.finish(limits.drain), stderr.finish(limits.drain));
    Finished {
        exit,
        elapsed,
        stdout,
        stderr,
        truncated: stdout_cut || stderr_cut,
    }
}

fn check_program(invocation: &Invocation) -> Result<(), Exit> {
    let path = invocation.program.display();
    match std::fs::metadata(&invocation.program) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            Err(Exit::Missing(format!("{path} does not exist")))
        }
        Err(error) => Err(Exit::Unrunnable {
            permission: error.kind() == io::ErrorKind::PermissionDenied,
            reason: format!("cannot read {path}: {error}"),
        }),
        Ok(meta) if !meta.is_file() => Err(Exit::Unrunnable {
            permission: false,
            reason: format!("{path} is not a regular file"),
        }),
        Ok(meta) if meta.permissions().mode() & 0o111 == 0 => Err(Exit::Unrunnable {
            permission: true,
            reason: format!("{path} is not executable; chmod +x it"),
        }),
        Ok(_) => Ok(()),
    }
}

fn spawn_failure(invocation: &Invocation, error: &io::Error) -> Exit {
    let path = invocation.program.display();
    match error.kind() {
        // The file exists (checked above), so its interpreter is missing.
        io::ErrorKind::NotFound => {
            Exit::Missing(format!("{path} names an interpreter that is not installed"))
        }
        io::ErrorKind::PermissionDenied => Exit::Unrunnable {
            permission: true,
            reason: format!("permission denied running {path}"),
        },
        _ => Exit::Unrunnable {
            permission: false,
            reason: format!("cannot run {path}: {error}"),
        },
    }
}

/// Kills the agent's whole process group unless disarmed: on timeout, and
/// when the supervising future is dropped (cancel, shutdown).
#[derive(Debug)]
struct GroupGuard(Option<Pid>);

impl GroupGuard {
    fn signal(&self, signal: Signal) {
        if let Some(group) = self.0 {
            // ESRCH: the group is already empty, which is what we want.
            let _ = killpg(group, signal);
        }
    }

    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
    }
}

/// Reads one pipe into a bounded tail in the background.
struct Reader {
    tail: Arc<Mutex<Tail>>,
    task: Option<JoinHandle<()>>,
    exited: Option<oneshot::Sender<()>>,
}

impl Reader {
    fn start(pipe: Option<impl AsyncRead + AsFd + Unpin + Send + 'static>, limit: usize) -> Self {
        let tail = Arc::new(Mutex::new(Tail::new(limit)));
        let (exited, mut on_exit) = oneshot::channel::<()>();
        let task = pipe.map(|mut pipe| {
            let tail = Arc::clone(&tail);
            tokio::spawn(async move {
                let mut chunk = vec![0_u8; 16 * 1024];
                let push = |bytes: &[u8]| {
                    tail.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(bytes);
                };
                loop {
                    tokio::select! {
                        biased;
                        read = pipe.read(&mut chunk) => match read {
                            Ok(n @ 1..) => push(&chunk[..n]),
                            _ => return,
                        },
                        _ = &mut on_exit => break,
                    }
                }
                // The agent has exited, so all it wrote is in the pipe
                // already: take that without waiting for an end of file
                // that descendants holding the pipe may never give (the
                // pipe is non-blocking, so an empty one answers at once).
                while let Ok(n @ 1..) = nix::unistd::read(pipe.as_fd(), &mut chunk) {
                    push(&chunk[..n]);
                }
            })
        });
        Self {
            tail,
            task,
            exited: Some(exited),
        }
    }

    /// Takes what the exited agent left in the pipe, waiting at most
    /// `drain` for the reader.
    async fn finish(mut self, drain: Duration) -> (String, bool) {
        if let Some(exited) = self.exited.take() {
            let _ = exited.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(drain, &mut task).await.is_err()
        {
            task.abort();
        }
        let tail = std::mem::take(&mut *self.tail.lock().unwrap_or_else(PoisonError::into_inner));
        tail.finish()
    }
}
