//! Logging for baton's daemons.
//!
//! Where lines go follows the cluster config's `logging` section: stderr,
//! the journal (`to_syslog`), and a file. The file is opened in append mode,
//! so logrotate's `copytruncate` (what corosync and pacemaker ship) works: after
//! the file is truncated, the next line lands at its start, not at the old
//! offset behind a hole. File writes go through a background thread so a slow
//! disk never delays the protocol loop, and no line is ever dropped.
//!
//! Verbosity is per subsystem, named as in corosync.conf (`TOTEM`, `QUORUM`,
//! `CPG`, …); the `BATON_LOG` environment variable, in `tracing` filter
//! syntax, overrides everything.

use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

pub const FILTER_ENV: &str = "BATON_LOG";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Info,
    Debug,
    Trace,
}

impl Verbosity {
    fn directive(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    /// The daemon's binary name; the journal's SYSLOG_IDENTIFIER.
    pub daemon: String,
    pub to_stderr: bool,
    pub to_journal: bool,
    pub logfile: Option<PathBuf>,
    pub verbosity: Verbosity,
    /// Per-subsystem verbosity, e.g. `("TOTEM", Verbosity::Debug)`.
    pub subsystems: Vec<(String, Verbosity)>,
}

impl LogSettings {
    /// What the cluster config's `logging` section asks of `daemon`, with
    /// corosync's defaults for what it leaves unset: stderr and syslog on, no
    /// file, no debug.
    pub fn from_config(daemon: &str, logging: &baton_config::Logging) -> Self {
        let file_wanted = logging.to_logfile.unwrap_or(false);
        Self {
            daemon: daemon.to_owned(),
            to_stderr: logging.to_stderr.unwrap_or(true),
            to_journal: logging.to_syslog.unwrap_or(true),
            logfile: logging.logfile.clone().filter(|_| file_wanted),
            verbosity: verbosity_of(logging.debug),
            subsystems: logging
                .logger_subsys
                .iter()
                .map(|s| (s.subsys.clone(), verbosity_of(s.debug)))
                .collect(),
        }
    }
}

fn verbosity_of(debug: Option<baton_config::DebugLevel>) -> Verbosity {
    match debug {
        None | Some(baton_config::DebugLevel::Off) => Verbosity::Info,
        Some(baton_config::DebugLevel::On) => Verbosity::Debug,
        Some(baton_config::DebugLevel::Trace) => Verbosity::Trace,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot open the log file {path}: {source}; fix its directory or set to_logfile: no")]
    OpenFile { path: PathBuf, source: io::Error },
    #[error("the {FILTER_ENV} environment variable is not a valid filter: {0}")]
    BadFilter(String),
    #[error("logging was already set up in this process")]
    AlreadySet,
}

/// Keeps the file writer's background thread alive; dropping it flushes.
#[must_use = "dropping the guard stops file logging"]
#[derive(Debug)]
pub struct LogGuard {
    _file_writer: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Installs the process-wide subscriber.
pub fn init(settings: &LogSettings) -> Result<LogGuard, LogError> {
    let filter = match std::env::var(FILTER_ENV) {
        Ok(directives) => {
            EnvFilter::try_new(&directives).map_err(|e| LogError::BadFilter(e.to_string()))?
        }
        Err(_) => filter_for(settings),
    };
    let (layers, guard) = build_layers(settings, std::env::var_os("JOURNAL_STREAM").is_some())?;
    let subscriber = Registry::default().with(layers.with_filter(filter));
    tracing::subscriber::set_global_default(subscriber).map_err(|_| LogError::AlreadySet)?;
    Ok(guard)
}

/// The filter the settings ask for, without the environment override.
pub fn filter_for(settings: &LogSettings) -> EnvFilter {
    let mut directives = vec![settings.verbosity.directive().to_owned()];
    for (subsystem, verbosity) in &settings.subsystems {
        for target in subsystem_targets(subsystem) {
            directives.push(format!("{target}={}", verbosity.directive()));
        }
    }
    EnvFilter::new(directives.join(","))
}

/// The code a corosync subsystem name covers in baton.
fn subsystem_targets(subsystem: &str) -> Vec<String> {
    match subsystem.to_ascii_uppercase().as_str() {
        "TOTEM" | "TOTEMSRP" => vec!["baton_totem".into()],
        "QUORUM" | "VOTEQ" => vec!["baton_quorum".into()],
        "CPG" | "KNET" | "MAIN" | "SERV" | "CFG" => vec!["baton_ringd".into()],
        other => vec![format!("baton_{}", other.to_ascii_lowercase())],
    }
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// The output layers for `settings`. Under systemd stderr already reaches
/// the journal, so it is skipped when the journal layer is active, or every
/// line would be stored twice.
pub fn build_layers(
    settings: &LogSettings,
    stderr_is_journal: bool,
) -> Result<(Vec<BoxedLayer>, LogGuard), LogError> {
    let mut layers: Vec<BoxedLayer> = Vec::new();
    let mut journal_active = false;
    if settings.to_journal
        && let Ok(journal) = tracing_journald::layer()
    {
        layers.push(Box::new(
            journal.with_syslog_identifier(settings.daemon.clone()),
        ));
        journal_active = true;
    }
    if settings.to_stderr && !(journal_active && stderr_is_journal) {
        layers.push(Box::new(
            tracing_subscriber::fmt::layer()
                .with_writer(io::stderr)
                .with_ansi(false),
        ));
    }
    let mut file_writer = None;
    if let Some(path) = &settings.logfile {
        let file = open_append(path)?;
        let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .thread_name("baton-log-writer")
            .finish(file);
        layers.push(Box::new(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false),
        ));
        file_writer = Some(guard);
    }
    Ok((
        layers,
        LogGuard {
            _file_writer: file_writer,
        },
    ))
}

fn open_append(path: &Path) -> Result<std::fs::File, LogError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| LogError::OpenFile {
            path: path.to_path_buf(),
            source,
        })
}
