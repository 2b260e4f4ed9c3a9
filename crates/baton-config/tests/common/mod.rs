//! Helpers shared by the integration tests.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use baton_config::{Format, Loaded, Resolver, Severity, load_str};

/// Knows the example host names, so no test depends on DNS.
#[derive(Debug)]
pub struct FakeDns;

impl Resolver for FakeDns {
    fn resolves(&self, host: &str) -> bool {
        host.starts_with("web") || host.starts_with("node") || host.starts_with("local")
    }

    /// `local…` names are mapped to 127.0.1.1, as Debian maps its own.
    fn loopback_only(&self, host: &str) -> bool {
        host.starts_with("local")
    }
}

pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/examples/corosync")
}

pub fn corosync(text: &str) -> Loaded {
    load_str(text, Path::new("test.conf"), Format::Corosync, &FakeDns)
        .unwrap_or_else(|e| panic!("{e}"))
}

pub fn toml(text: &str) -> Loaded {
    load_str(text, Path::new("cluster.toml"), Format::Toml, &FakeDns)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Diagnostics of one severity, rendered as the user sees them.
pub fn lines(loaded: &Loaded, severity: Severity) -> Vec<String> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .map(ToString::to_string)
        .collect()
}
