//! The cluster configuration: the model, its defaults and derived Totem
//! timers, and the two readers (`cluster.toml` and corosync.conf).
//!
//! Entry points: [`load_path`] reads a file (format chosen by extension),
//! [`Loaded::report`] is `baton config check`, [`Loaded::to_toml`] is
//! `baton config import`, and [`ClusterConfig::timers`] gives Totem its timers.
//!
//! ```
//! use std::path::Path;
//! use baton_config::{Format, SystemResolver, load_str};
//!
//! # fn main() -> Result<(), baton_config::LoadError> {
//! let text = "totem {\n  transport: udpu\n}\nnodelist {\n  node {\n    ring0_addr: 10.0.0.1\n  }\n}\n";
//! let loaded = load_str(text, Path::new("corosync.conf"), Format::Corosync, &SystemResolver)?;
//! assert!(loaded.is_usable());
//! assert_eq!(loaded.config.timers().consensus_ms, 3600);
//! print!("{}", loaded.report()); // `--output json`: serialize `loaded.report()`
//! print!("{}", loaded.to_toml());
//! # Ok(())
//! # }
//! ```

pub mod corosync;
mod diag;
mod model;
mod report;
mod timers;
mod toml_schema;
mod validate;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

pub use corosync::SyntaxError;
pub use diag::{Diagnostic, Severity, Sources};
pub use model::*;
pub use report::{Report, Setting};
pub use timers::*;
pub use toml_schema::TomlProblem;
pub use validate::{Resolver, SystemResolver};

use diag::Sink;

/// Configuration files are a few kilobytes; anything this large is a mistake.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `cluster.toml`.
    Toml,
    /// corosync.conf syntax, any version.
    Corosync,
}

impl Format {
    /// `.toml` files are TOML; anything else is read as corosync.conf.
    pub fn for_path(path: &Path) -> Self {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            Self::Toml
        } else {
            Self::Corosync
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Toml => "cluster.toml",
            Self::Corosync => "corosync.conf syntax",
        })
    }
}

/// Why no configuration could be built at all. Problems with single values
/// do not end up here but in [`Loaded::diagnostics`].
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is larger than {MAX_FILE_BYTES} bytes, which no configuration file needs; check the path", path.display())]
    TooLarge { path: PathBuf },
    #[error("{}:{line}: the file is not UTF-8 text; convert it to UTF-8", path.display())]
    NotUtf8 { path: PathBuf, line: u32 },
    #[error("{}:{}: {error}", path.display(), error.line())]
    Syntax { path: PathBuf, error: SyntaxError },
    #[error("{}", toml_message(path, problem))]
    Toml { path: PathBuf, problem: TomlProblem },
}

fn toml_message(path: &Path, p: &TomlProblem) -> String {
    let at = match (p.line, p.column) {
        (Some(line), Some(column)) => format!("{}:{line}:{column}", path.display()),
        _ => path.display().to_string(),
    };
    let key = p
        .key
        .as_ref()
        .map(|k| format!(" at `{k}`"))
        .unwrap_or_default();
    format!(
        "{at}: invalid cluster.toml{key}: {}; fix it and run `baton config check` again",
        p.message
    )
}

/// A configuration that was read, with everything noticed on the way.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The path as given, used in every message.
    pub file: String,
    pub format: Format,
    pub config: ClusterConfig,
    pub sources: Sources,
    /// Errors first, then warnings, then notices; each group in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// True when there are no errors: warnings and notices do not stop a cluster.
    pub fn is_usable(&self) -> bool {
        !self
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    pub fn report(&self) -> Report {
        Report::new(self)
    }

    /// The equivalent cluster.toml, headed by a comment naming this file and
    /// listing what was noticed while reading it (legacy sections that were
    /// dropped, for instance), so the import explains itself.
    pub fn to_toml(&self) -> String {
        let text = to_toml(&self.config, &self.file);
        if self.diagnostics.is_empty() {
            return text;
        }
        let notes: String = self
            .diagnostics
            .iter()
            .map(|d| match d.line {
                Some(line) => format!("#   line {line}: {}: {}\n", d.severity, d.message),
                None => format!("#   {}: {}\n", d.severity, d.message),
            })
            .collect();
        let (header, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        format!("{header}\n#\n# Noted while reading it:\n{notes}\n{body}")
    }
}

/// Prints `config` as cluster.toml. Only values that were set are written,
/// so defaults keep applying; `origin` is named in the header comment.
pub fn to_toml(config: &ClusterConfig, origin: &str) -> String {
    toml_schema::write(config, origin)
}

/// Reads a configuration file, resolving node host names with the system resolver.
/// baton's configuration file.
pub const DEFAULT_CONFIG: &str = "/etc/baton/cluster.toml";
/// Where a corosync cluster keeps its configuration.
pub const COROSYNC_CONFIG: &str = "/etc/corosync/corosync.conf";

/// The file a daemon reads when none is named: baton's own, else the
/// corosync.conf of a corosync cluster moving to baton (read as it is).
pub fn default_config_path() -> PathBuf {
    let own = Path::new(DEFAULT_CONFIG);
    if !own.exists() && Path::new(COROSYNC_CONFIG).exists() {
        PathBuf::from(COROSYNC_CONFIG)
    } else {
        own.to_path_buf()
    }
}

pub fn load_path(path: &Path) -> Result<Loaded, LoadError> {
    load_path_with(path, &SystemResolver)
}

pub fn load_path_with(path: &Path, resolver: &dyn Resolver) -> Result<Loaded, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
        });
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let before = bytes.get(..e.valid_up_to()).unwrap_or_default();
        let newlines = before.iter().filter(|&&b| b == b'\n').count();
        LoadError::NotUtf8 {
            path: path.to_owned(),
            line: u32::try_from(newlines + 1).unwrap_or(u32::MAX),
        }
    })?;
    load_str(text, path, Format::for_path(path), resolver)
}

/// Reads configuration text; `path` is only used to name the file in messages.
pub fn load_str(
    text: &str,
    path: &Path,
    format: Format,
    resolver: &dyn Resolver,
) -> Result<Loaded, LoadError> {
    let file = path.display().to_string();
    let mut sink = Sink::new(&file);
    let (config, sources) = match format {
        Format::Corosync => corosync::read(text, &mut sink).map_err(|error| LoadError::Syntax {
            path: path.to_owned(),
            error,
        })?,
        Format::Toml => toml_schema::read(text).map_err(|problem| LoadError::Toml {
            path: path.to_owned(),
            problem,
        })?,
    };
    validate::validate(&config, &sources, &mut sink, resolver);
    let mut diagnostics = sink.list;
    diagnostics.sort_by_key(|d| (d.severity, d.line.unwrap_or(u32::MAX)));
    Ok(Loaded {
        file,
        format,
        config,
        sources,
        diagnostics,
    })
}
