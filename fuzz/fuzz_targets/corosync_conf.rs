//! Feeds arbitrary bytes to the corosync.conf reader; any panic is a bug.

#![no_main]

use std::path::Path;

use baton_config::{Format, Resolver, load_str};

/// Host names never resolve, so the fuzzer does not wait on DNS.
struct Offline;

impl Resolver for Offline {
    fn resolves(&self, _: &str) -> bool {
        false
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(loaded) = load_str(&text, Path::new("fuzz.conf"), Format::Corosync, &Offline) {
        let _ = loaded.report().to_string();
        let _ = loaded.to_toml();
    }
});
