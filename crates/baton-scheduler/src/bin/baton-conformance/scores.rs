//! Allocation and promotion scores against `crm_simulate -s`: the lines
//! are compared as sets, whitespace collapsed, because Pacemaker's files
//! keep them sorted rather than in the order they were weighed.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::corpus::normalize;

/// The score lines of a `.scores` file, normalized (blank lines dropped).
pub fn expected_scores(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(normalize)
        .collect()
}

/// Our score lines, normalized.
pub fn actual_scores(
    lines: &[baton_scheduler::placement::score_log::ScoreLine],
) -> BTreeSet<String> {
    lines.iter().map(|l| normalize(&l.to_string())).collect()
}

/// Lines only Pacemaker printed (`-`) and lines only we printed (`+`).
pub fn diff(expected: &BTreeSet<String>, actual: &BTreeSet<String>) -> String {
    let mut s = String::new();
    for l in expected.difference(actual) {
        let _ = writeln!(s, "- {l}");
    }
    for l in actual.difference(expected) {
        let _ = writeln!(s, "+ {l}");
    }
    s
}
