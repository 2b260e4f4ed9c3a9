//! Diagnostics (errors, warnings, notices) and where each setting came from.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The configuration cannot be used as written.
    Error,
    /// Probably not what the user meant; the configuration still works.
    Warning,
    /// Worth knowing, nothing to fix (legacy sections, derived behaviour).
    Notice,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Notice => "notice",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    /// `None` when the problem is about something the file does not contain.
    pub line: Option<u32>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "{}:{}: {}: {}",
                self.file, line, self.severity, self.message
            ),
            None => write!(f, "{}: {}: {}", self.file, self.severity, self.message),
        }
    }
}

/// Collects diagnostics for one file.
#[derive(Debug)]
pub(crate) struct Sink {
    file: String,
    pub(crate) list: Vec<Diagnostic>,
}

impl Sink {
    pub(crate) fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            list: Vec::new(),
        }
    }

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        line: Option<u32>,
        message: impl Into<String>,
    ) {
        self.list.push(Diagnostic {
            severity,
            file: self.file.clone(),
            line,
            message: message.into(),
        });
    }

    pub(crate) fn error(&mut self, line: Option<u32>, message: impl Into<String>) {
        self.push(Severity::Error, line, message);
    }

    pub(crate) fn warning(&mut self, line: Option<u32>, message: impl Into<String>) {
        self.push(Severity::Warning, line, message);
    }

    pub(crate) fn notice(&mut self, line: Option<u32>, message: impl Into<String>) {
        self.push(Severity::Notice, line, message);
    }
}

/// Line of every explicitly set value, keyed by its dotted path
/// (`totem.token`, `totem.interface.0.mcastport`, `nodelist.node.1.ring0_addr`).
/// Kept outside the model so that a corosync.conf and its imported TOML
/// compare equal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sources(BTreeMap<String, u32>);

impl Sources {
    pub fn line(&self, path: &str) -> Option<u32> {
        self.0.get(path).copied()
    }

    pub(crate) fn set(&mut self, path: String, line: u32) {
        self.0.insert(path, line);
    }
}

/// Where an effective value comes from, as the check report shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Line(u32),
    Default,
    Derived(&'static str),
}

/// The known name closest to a misspelled one, if it is close enough to be a typo.
pub(crate) fn suggest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 3);
    known
        .iter()
        // Lengths further apart than the limit cannot be within it; skipping
        // them keeps long junk lines cheap.
        .filter(|k| k.chars().count().abs_diff(word.chars().count()) <= limit)
        .map(|k| (distance(&word, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal string alignment distance: a swapped pair of letters (`totme`) counts as one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn typos_get_a_suggestion_and_strangers_do_not() {
        let known = ["totem", "nodelist", "quorum", "logging"];
        assert_eq!(suggest("totme", &known), Some("totem"));
        assert_eq!(suggest("qorum", &known), Some("quorum"));
        assert_eq!(suggest("frobnicate", &known), None);
    }
}
