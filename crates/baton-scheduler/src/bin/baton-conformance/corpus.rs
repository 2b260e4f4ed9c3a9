//! Runs Pacemaker's scheduler regression cases and compares, separately,
//! our Transition Summary with `crm_simulate`'s (line by line, whitespace
//! collapsed), our allocation scores with `crm_simulate -s`'s, and our
//! transition graph with the case's `.exp` (see `graph_check`).
//!
//! The expected output is read only to compare, never to decide. The
//! corpus is found at run time (see [`find_cases_dir`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use baton_scheduler::EpochSeconds;

use crate::graph_check::{self, GraphDiff};
use crate::scores;

/// The corpus directory: `$BATON_SCHEDULER_CASES`, else the first
/// `shared/pacemaker-scheduler-cases` (or `pacemaker-scheduler-cases`)
/// found in the current directory or one above it.
pub fn find_cases_dir() -> Result<PathBuf, CorpusError> {
    if let Some(dir) = std::env::var_os("BATON_SCHEDULER_CASES") {
        return Ok(PathBuf::from(dir));
    }
    let start = std::env::current_dir().map_err(|source| CorpusError::Read {
        path: PathBuf::from("."),
        source,
    })?;
    for dir in start.ancestors() {
        for candidate in [
            dir.join("shared/pacemaker-scheduler-cases"),
            dir.join("pacemaker-scheduler-cases"),
        ] {
            if candidate.join("INDEX.tsv").is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(CorpusError::NotFound(start))
}

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no scheduler corpus (pacemaker-scheduler-cases with an INDEX.tsv) in or above {0}; pass --dir or set BATON_SCHEDULER_CASES"
    )]
    NotFound(PathBuf),
    #[error("no case named `{0}` in the corpus")]
    NoSuchCase(String),
}

fn read(path: &Path) -> Result<String, CorpusError> {
    std::fs::read_to_string(path).map_err(|source| CorpusError::Read {
        path: path.to_owned(),
        source,
    })
}

pub fn normalize(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The Transition Summary block of a `.summary` file (or of
/// `crm_simulate`'s output), normalized.
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
    /// Our graph against the `.exp`; `None` on error.
    pub graph: Option<GraphDiff>,
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

    /// The whole graph is equal: the same actions, and every expected
    /// order implied.
    pub fn graph_passed(&self) -> bool {
        self.graph.as_ref().is_some_and(GraphDiff::passed)
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
fn simulated_time(meta: &str, name: &str) -> Option<i64> {
    let args = meta
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.first() == Some(&name)).then(|| cols.get(3).copied())
        })
        .flatten()
        .next()
        .unwrap_or("");
    args.strip_prefix("-t ")
        .map(|date| date.trim().trim_matches('\''))
        .and_then(baton_scheduler::unpack::parse_timestamp)
}

/// The time now, as `crm_simulate` uses it for an input without an
/// `execution-date`.
pub fn wall_clock() -> EpochSeconds {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    EpochSeconds(i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX))
}

/// Schedules a case's CIB at its simulated time, else its execution
/// date, else now.
fn schedule_case(xml: &str, simulated: Option<i64>) -> Result<baton_scheduler::Transition, String> {
    let cib = baton_cib::Cib::parse(xml).map_err(|e| e.to_string())?;
    let now = match simulated {
        Some(t) => EpochSeconds(t),
        None => baton_scheduler::execution_date(&cib)
            .map_err(|e| e.to_string())?
            .unwrap_or_else(wall_clock),
    };
    baton_scheduler::schedule_with_scores(&cib, now).map_err(|e| e.to_string())
}

/// Schedules one case (input only) and compares.
pub fn run_case(dir: &Path, name: &str) -> Result<CaseResult, CorpusError> {
    let meta = read(&dir.join("tests-meta.tsv"))?;
    run_case_with(dir, name, &meta)
}

fn run_case_with(dir: &Path, name: &str, meta: &str) -> Result<CaseResult, CorpusError> {
    let xml_path = dir.join("xml").join(format!("{name}.xml"));
    if !xml_path.exists() {
        return Err(CorpusError::NoSuchCase(name.to_owned()));
    }
    let xml = read(&xml_path)?;
    let expected = expected_summary(&read(&dir.join("summary").join(format!("{name}.summary")))?);
    let expected_scores =
        scores::expected_scores(&read(&dir.join("scores").join(format!("{name}.scores")))?);
    let expected_graph =
        graph_check::read_expected(&read(&dir.join("exp").join(format!("{name}.exp")))?);
    let simulated = simulated_time(meta, name);
    let outcome = schedule_case(&xml, simulated);
    let (raw, actual_scores, graph, error) = match outcome {
        Ok(t) => {
            let graph = expected_graph
                .ok()
                .map(|exp| graph_check::compare(&exp, &graph_check::ours(&t.graph)));
            (t.summary, scores::actual_scores(&t.scores), graph, None)
        }
        Err(e) => (Vec::new(), BTreeSet::new(), None, Some(e)),
    };
    Ok(CaseResult {
        name: name.to_owned(),
        expected,
        actual: raw.iter().map(|l| normalize(l)).collect(),
        raw,
        error,
        expected_scores,
        actual_scores,
        graph,
    })
}

/// The corpus metadata: feature tags per case and the core tier.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    pub names: Vec<String>,
    pub tags: BTreeMap<String, Vec<String>>,
    pub core: BTreeSet<String>,
}

pub fn load_corpus(dir: &Path) -> Result<Corpus, CorpusError> {
    let mut c = Corpus::default();
    let xml_dir = dir.join("xml");
    let entries = std::fs::read_dir(&xml_dir).map_err(|source| CorpusError::Read {
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

fn pct(p: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        100.0 * p as f64 / n as f64
    }
}

impl Report {
    fn count(&self, core_only: bool, pass: impl Fn(&CaseResult) -> bool) -> usize {
        self.results
            .iter()
            .filter(|r| !core_only || self.corpus.core.contains(&r.name))
            .filter(|r| pass(r))
            .count()
    }

    pub fn passed(&self) -> usize {
        self.count(false, CaseResult::passed)
    }

    pub fn core_total(&self) -> usize {
        self.count(true, |_| true)
    }

    pub fn core_passed(&self) -> usize {
        self.count(true, CaseResult::passed)
    }

    pub fn core_scores_passed(&self) -> usize {
        self.count(true, CaseResult::scores_passed)
    }

    pub fn core_graph_passed(&self) -> usize {
        self.count(true, CaseResult::graph_passed)
    }

    /// The core-tier cases whose whole graph is equal, sorted.
    pub fn core_graph_passing(&self) -> Vec<&str> {
        self.results
            .iter()
            .filter(|r| self.corpus.core.contains(&r.name) && r.graph_passed())
            .map(|r| r.name.as_str())
            .collect()
    }

    /// (tag, summary passed, graph passed, total), most summary failures
    /// first.
    pub fn per_tag(&self) -> Vec<(String, usize, usize, usize)> {
        let mut m: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
        for r in &self.results {
            for t in self.corpus.tags.get(&r.name).into_iter().flatten() {
                let e = m.entry(t).or_default();
                e.2 += 1;
                if r.passed() {
                    e.0 += 1;
                }
                if r.graph_passed() {
                    e.1 += 1;
                }
            }
        }
        let mut v: Vec<_> = m
            .into_iter()
            .map(|(t, (p, g, n))| (t.to_owned(), p, g, n))
            .collect();
        v.sort_by(|a, b| (b.3 - b.1).cmp(&(a.3 - a.1)).then(a.0.cmp(&b.0)));
        v
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        let n = self.results.len();
        let cn = self.core_total();
        let line = |s: &mut String, what: &str, p: usize, n: usize| {
            let _ = writeln!(s, "{what}: {p}/{n} ({:.1}%)", pct(p, n));
        };
        line(&mut s, "overall", self.passed(), n);
        line(&mut s, "core tier", self.core_passed(), cn);
        line(
            &mut s,
            "scores overall",
            self.count(false, CaseResult::scores_passed),
            n,
        );
        line(&mut s, "scores core tier", self.core_scores_passed(), cn);
        line(
            &mut s,
            "graph overall",
            self.count(false, CaseResult::graph_passed),
            n,
        );
        line(&mut s, "graph core tier", self.core_graph_passed(), cn);
        let same_actions = |r: &CaseResult| r.graph.as_ref().is_some_and(GraphDiff::same_actions);
        line(
            &mut s,
            "graph actions core tier",
            self.count(true, same_actions),
            cn,
        );
        let _ = writeln!(
            s,
            "per feature (summary passed, graph passed / total, most summary failures first):"
        );
        for (t, p, g, n) in self.per_tag() {
            let _ = writeln!(
                s,
                "  {t:<32} {p:>4} {g:>4} /{n:<4} ({:.1}% / {:.1}%)",
                pct(p, n),
                pct(g, n)
            );
        }
        s
    }

    /// Failing case names, core-tier ones marked, with what failed.
    pub fn failing_list(&self) -> String {
        let mut s = String::new();
        for r in self
            .results
            .iter()
            .filter(|r| !r.passed() || !r.graph_passed())
        {
            let core = if self.corpus.core.contains(&r.name) {
                "core"
            } else {
                "-"
            };
            let what = match (r.passed(), r.graph_passed()) {
                (false, false) => "summary,graph",
                (false, true) => "summary",
                _ => "graph",
            };
            let _ = writeln!(s, "{}\t{core}\t{what}", r.name);
        }
        s
    }
}

/// Runs every case (or only the core tier).
pub fn run_all(dir: &Path, core_only: bool) -> Result<Report, CorpusError> {
    let corpus = load_corpus(dir)?;
    let meta = read(&dir.join("tests-meta.tsv"))?;
    let mut results = Vec::new();
    for name in &corpus.names {
        if core_only && !corpus.core.contains(name) {
            continue;
        }
        results.push(run_case_with(dir, name, &meta)?);
    }
    Ok(Report { results, corpus })
}
