//! Support for baton's whole-system tests.

mod stand_in_crmd;

use std::process::Command;

pub use stand_in_crmd::StandInCrmd;

/// Whether a test that needs `tool` may run. Under `CI=true` a missing
/// prerequisite fails the test: CI must install what its tests need, and a
/// silent skip would hide that. Elsewhere the test is skipped, loudly.
pub fn require_tool(tool: &str, why: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|out| out.status.success());
    prerequisite(found, || {
        format!("{tool} is not installed; it is needed to {why}")
    })
}

/// Whether the Debian package `package` is installed, judged by a file it
/// ships; CI fails without it, elsewhere the test is skipped loudly.
pub fn require_package(package: &str, file: &str, why: &str) -> bool {
    let found = std::path::Path::new(file).exists();
    prerequisite(found, || {
        format!("the package {package} is not installed ({file} is missing); it is needed to {why}")
    })
}

/// Whether the test runs as root; CI (which runs as root) fails without it,
/// elsewhere the test is skipped loudly.
pub fn require_root(why: &str) -> bool {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0");
    prerequisite(is_root, || format!("this test must run as root to {why}"))
}

/// Whether a prerequisite described by `message` is `met`; the rule of
/// [`require_tool`] for anything else a test needs.
pub fn prerequisite(met: bool, message: impl FnOnce() -> String) -> bool {
    if met {
        return true;
    }
    let message = message();
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message} (CI=true: a missing prerequisite is a failure; install it in .ci/run)");
    }
    eprintln!("SKIPPED: {message}");
    false
}
