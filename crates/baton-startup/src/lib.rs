//! What every baton daemon does around its work: logs on stderr (which the
//! journal reads), one tokio runtime, systemd's READY/STOPPING and
//! watchdog, and the exit codes of DESIGN §9 (2 for what cannot start at
//! all, 3 when another daemon serves the socket, 1 for any other failure).

use std::future::Future;
use std::process::ExitCode;

use baton_proto::socket::SocketError;

/// Which runtime the daemon's work runs on.
#[derive(Debug, Clone, Copy)]
pub enum Runtime {
    /// One thread: daemons whose work is one event loop.
    CurrentThread,
    /// A thread per core: daemons that run many agents at once.
    MultiThread,
}

/// Logging for `daemon`; a daemon that cannot log says so and exits 2.
pub fn logging(daemon: &str) -> Result<baton_log::LogGuard, ExitCode> {
    baton_log::init(&baton_log::LogSettings {
        daemon: daemon.into(),
        to_stderr: true,
        to_journal: false,
        logfile: None,
        verbosity: baton_log::Verbosity::Info,
        subsystems: Vec::new(),
    })
    .map_err(|error| {
        eprintln!("{daemon}: {error}");
        ExitCode::from(2)
    })
}

/// Runs `work` to its end; its error is printed as one sentence with its
/// causes, and the exit code says which kind it was.
pub fn run(
    daemon: &str,
    runtime: Runtime,
    work: impl Future<Output = anyhow::Result<()>>,
) -> ExitCode {
    let mut builder = match runtime {
        Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        Runtime::MultiThread => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{daemon}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{daemon}: {error:#}");
            let busy = error
                .chain()
                .any(|c| matches!(c.downcast_ref(), Some(SocketError::Busy { .. })));
            ExitCode::from(if busy { 3 } else { 1 })
        }
    }
}

/// Serves `served` with systemd told READY first and STOPPING after, and
/// its watchdog petted at half its period meanwhile.
pub async fn notified<T>(served: impl Future<Output = T>) -> T {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    let watchdog = tokio::spawn(watchdog());
    let result = served.await;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    watchdog.abort();
    result
}

async fn watchdog() {
    let Some(period) = sd_notify::watchdog_enabled() else {
        return;
    };
    let mut ticks = tokio::time::interval(period / 2);
    loop {
        ticks.tick().await;
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
    }
}

/// The kernel's host name, which the daemons report about themselves.
pub fn node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}
