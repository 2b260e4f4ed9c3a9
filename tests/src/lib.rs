//! Support for baton's whole-system tests.

use std::process::Command;

/// Whether a test that needs `tool` may run. Under `CI=true` a missing
/// prerequisite fails the test: CI must install what its tests need, and a
/// silent skip would hide that. Elsewhere the test is skipped, loudly.
pub fn require_tool(tool: &str, why: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|out| out.status.success());
    if found {
        return true;
    }
    let message = format!("{tool} is not installed; it is needed to {why}");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message} (CI=true: a missing prerequisite is a failure; install it in .ci/run)");
    }
    eprintln!("SKIPPED: {message}");
    false
}
