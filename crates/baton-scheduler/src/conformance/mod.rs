//! The conformance runner: schedules every Pacemaker regression case and
//! compares our Transition Summary with `crm_simulate`'s, line by line with
//! whitespace collapsed, and our allocation scores with `crm_simulate -s`'s
//! (see [`scores`]), reported separately.
//!
//! This is the one module that reads files; the scheduler itself never
//! does. The expected output is read only to compare, never to decide.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub mod scores;

/// Where the corpus lives relative to this crate.
pub fn default_cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pacemaker-scheduler-cases")
}

#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    #[error("cannot read {path}: {source}; is the scheduler corpus checked out there?")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no case named `{0}` in the corpus")]
    NoSuchCase(String),
}

fn read(path: &Path) -> Result<String, ConformanceError> {
    std::fs::read_to_string(path).map_err(|source| ConformanceError::Read {
        path: path.to_owned(),
        source,
    })
}

fn normalize(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The Transition Summary block of a `.summary` file, normalized.
pub fn expected_summary(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| l.trim() != "Transition Summary:")
        .skip(1)
        .take_while(|l| l.trim() != "Executing Cluster Transition:")
        .filter(|l| !l.trim().is_empty())
        .map(normalize)
        .collect()
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    pub expected: Vec<String>,
    /// Our lines, normalized; empty on error.
    pub actual: Vec<String>,
    /// Our lines as printed.
    pub raw: Vec<String>,
    pub error: Option<String>,
    /// `crm_simulate -s`'s score lines and ours, normalized.
    pub expected_scores: BTreeSet<String>,
    pub actual_scores: BTreeSet<String>,
}

impl CaseResult {
    /// A pass needs a successful run: an error never matches, even an
    /// empty expected summary.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.actual == self.expected
    }

    /// The scores match when every line does, in both directions; as for
    /// the summary, an error never matches.
    pub fn scores_passed(&self) -> bool {
        self.error.is_none() && self.actual_scores == self.expected_scores
    }

    /// A unified-style diff of expected (`-`) against ours (`+`).
    pub fn diff(&self) -> String {
        let mut s = String::new();
        if let Some(e) = &self.error {
            let _ = writeln!(s, "error: {e}");
        }
        let exp: BTreeSet<&String> = self.expected.iter().collect();
        let act: BTreeSet<&String> = self.actual.iter().collect();
        for l in &self.expected {
            let mark = if act.contains(l) { ' ' } else { '-' };
            let _ = writeln!(s, "{mark} {l}");
        }
        for l in &self.actual {
            if !exp.contains(l) {
                let _ = writeln!(s, "+ {l}");
            }
        }
        s
    }
}

/// The time a case is run at when the upstream harness passes one
/// (`-t DATE` in `tests-meta.tsv`), in seconds since the epoch.
fn simulated_time(dir: &Path, name: &str) -> Result<Option<i64>, ConformanceError> {
    let meta = read(&dir.join("tests-meta.tsv"))?;
    let args = meta
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.first() == Some(&name)).then(|| cols.get(3).copied())
        })
        .flatten()
        .next()
        .unwrap_or("");
    Ok(args
        .strip_prefix("-t ")
        .map(|date| date.trim().trim_matches('\''))
        .and_then(crate::unpack::parse_timestamp))
}

/// The time now, as `crm_simulate` uses it for an input without an
/// `execution-date`.
pub fn wall_clock() -> crate::EpochSeconds {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    crate::EpochSeconds(i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX))
}

/// Schedules one case (input only) and compares.
pub fn run_case(dir: &Path, name: &str) -> Result<CaseResult, ConformanceError> {
    let xml_path = dir.join("xml").join(format!("{name}.xml"));
    if !xml_path.exists() {
        return Err(ConformanceError::NoSuchCase(name.to_owned()));
    }
    let xml = read(&xml_path)?;
    let expected = expected_summary(&read(&dir.join("summary").join(format!("{name}.summary")))?);
    let expected_scores =
        scores::expected_scores(&read(&dir.join("scores").join(format!("{name}.scores")))?);
    let simulated = simulated_time(dir, name)?;
    let outcome = baton_cib::Cib::parse(&xml)
        .map_err(crate::SchedulerError::from)
        .and_then(|cib| {
            let now = match simulated {
                Some(t) => crate::EpochSeconds(t),
                None => crate::execution_date(&cib)?.unwrap_or_else(wall_clock),
            };
            crate::schedule_with_scores(&cib, now)
        });
    let (raw, actual_scores, error) = match outcome {
        Ok(t) => (t.summary, scores::actual_scores(&t.scores), None),
        Err(e) => (Vec::new(), BTreeSet::new(), Some(e.to_string())),
    };
    Ok(CaseResult {
        name: name.to_owned(),
        expected,
        actual: raw.iter().map(|l| normalize(l)).collect(),
        raw,
        error,
        expected_scores,
        actual_scores,
    })
}

/// The corpus metadata: feature tags per case and the core tier.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    pub names: Vec<String>,
    pub tags: BTreeMap<String, Vec<String>>,
    pub core: BTreeSet<String>,
}

pub fn load_corpus(dir: &Path) -> Result<Corpus, ConformanceError> {
    let mut c = Corpus::default();
    let xml_dir = dir.join("xml");
    let entries = std::fs::read_dir(&xml_dir).map_err(|source| ConformanceError::Read {
        path: xml_dir.clone(),
        source,
    })?;
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "xml")
            && let Some(stem) = p.file_stem().and_then(|s| s.to_str())
        {
            c.names.push(stem.to_owned());
        }
    }
    c.names.sort();
    let index = read(&dir.join("INDEX.tsv"))?;
    for line in index.lines().skip(1) {
        let mut cols = line.split('\t');
        if let (Some(name), Some(tags)) = (cols.next(), cols.next()) {
            c.tags.insert(
                name.to_owned(),
                tags.split(',')
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
    }
    c.core = read(&dir.join("core-tier.txt"))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(c)
}

#[derive(Debug, Clone)]
pub struct Report {
    pub results: Vec<CaseResult>,
    pub corpus: Corpus,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed()).count()
    }

    pub fn core_total(&self) -> usize {
        self.results
            .iter()
            .filter(|r| self.corpus.core.contains(&r.name))
            .count()
    }

    pub fn core_passed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.passed() && self.corpus.core.contains(&r.name))
            .count()
    }

    pub fn scores_passed(&self) -> usize {
        self.results.iter().filter(|r| r.scores_passed()).count()
    }

    pub fn core_scores_passed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.scores_passed() && self.corpus.core.contains(&r.name))
            .count()
    }

    /// (tag, passed, total), sorted by the number of failures, most first.
    pub fn per_tag(&self) -> Vec<(String, usize, usize)> {
        let mut m: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for r in &self.results {
            for t in self.corpus.tags.get(&r.name).into_iter().flatten() {
                let e = m.entry(t).or_default();
                e.1 += 1;
                if r.passed() {
                    e.0 += 1;
                }
            }
        }
        let mut v: Vec<_> = m
            .into_iter()
            .map(|(t, (p, n))| (t.to_owned(), p, n))
            .collect();
        v.sort_by(|a, b| (b.2 - b.1).cmp(&(a.2 - a.1)).then(a.0.cmp(&b.0)));
        v
    }

    pub fn render(&self) -> String {
        let pct = |p: usize, n: usize| {
            if n == 0 {
                0.0
            } else {
                100.0 * p as f64 / n as f64
            }
        };
        let mut s = String::new();
        let (p, n) = (self.passed(), self.results.len());
        let _ = writeln!(s, "overall: {p}/{n} ({:.1}%)", pct(p, n));
        let (cp, cn) = (self.core_passed(), self.core_total());
        let _ = writeln!(s, "core tier: {cp}/{cn} ({:.1}%)", pct(cp, cn));
        let (sp, scp) = (self.scores_passed(), self.core_scores_passed());
        let _ = writeln!(s, "scores overall: {sp}/{n} ({:.1}%)", pct(sp, n));
        let _ = writeln!(s, "scores core tier: {scp}/{cn} ({:.1}%)", pct(scp, cn));
        let _ = writeln!(s, "per feature (passed/total, most failures first):");
        for (t, p, n) in self.per_tag() {
            let _ = writeln!(s, "  {t:<32} {p:>4}/{n:<4} ({:.1}%)", pct(p, n));
        }
        s
    }

    /// Failing case names, core-tier ones marked.
    pub fn failing_list(&self) -> String {
        let mut s = String::new();
        for r in self.results.iter().filter(|r| !r.passed()) {
            let core = if self.corpus.core.contains(&r.name) {
                "core"
            } else {
                "-"
            };
            let _ = writeln!(s, "{}\t{core}", r.name);
        }
        s
    }
}

/// Runs every case (or only the core tier).
pub fn run_all(dir: &Path, core_only: bool) -> Result<Report, ConformanceError> {
    let corpus = load_corpus(dir)?;
    let mut results = Vec::new();
    for name in &corpus.names {
        if core_only && !corpus.core.contains(name) {
            continue;
        }
        results.push(run_case(dir, name)?);
    }
    Ok(Report { results, corpus })
}
