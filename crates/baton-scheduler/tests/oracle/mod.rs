//! The differential oracle: one CIB scheduled by us and by Pacemaker
//! 2.1.5's `crm_simulate -x FILE -S -G GRAPH`, compared on the Transition
//! Summary (line by line, whitespace collapsed) and on the transition
//! graph (the conformance runner's multiset of action labels plus every
//! Pacemaker edge implied by ours).
//!
//! Shared by `tests/differential.rs` and the soak command
//! (`examples/differential.rs`); the including crate declares the
//! conformance runner's `corpus` and `graph_check` modules at its root.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::corpus::{expected_summary, normalize, wall_clock};
use crate::graph_check::{self, Labelled};

/// What Pacemaker made of one CIB.
#[derive(Debug, Clone)]
pub struct Pacemaker {
    pub summary: Vec<String>,
    pub graph: Labelled,
}

/// Runs `crm_simulate`, remembering its answers in `cache` (if any) by
/// the CIB's text and `crm_simulate`'s version: it is a pure function of
/// both, and most of a run's time.
#[derive(Debug)]
pub struct Oracle {
    workdir: PathBuf,
    cache: Option<PathBuf>,
    version: String,
}

impl Oracle {
    pub fn new(workdir: &Path, cache: Option<&Path>) -> Result<Oracle, String> {
        let out = Command::new("crm_simulate")
            .arg("--version")
            .output()
            .map_err(|e| format!("cannot run crm_simulate: {e}"))?;
        if let Some(dir) = cache {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        Ok(Oracle {
            workdir: workdir.to_owned(),
            cache: cache.map(Path::to_owned),
            version: String::from_utf8_lossy(&out.stdout).into_owned(),
        })
    }

    /// Pacemaker's summary and graph for `xml`; `name` names its files.
    pub fn pacemaker(&self, name: &str, xml: &str) -> Result<Pacemaker, String> {
        let cached = self.cache.as_ref().map(|dir| {
            let mut hasher = DefaultHasher::new();
            (xml, &self.version).hash(&mut hasher);
            dir.join(format!("{:016x}", hasher.finish()))
        });
        let (out_path, graph_path) = match &cached {
            Some(stem) => (stem.with_extension("out"), stem.with_extension("graph")),
            None => (
                self.workdir.join(format!("{name}.out")),
                self.workdir.join(format!("{name}.graph")),
            ),
        };
        if cached.is_none() || !out_path.exists() || !graph_path.exists() {
            self.run(name, xml, &out_path, &graph_path)?;
        }
        let text = std::fs::read_to_string(&out_path).map_err(|e| e.to_string())?;
        let graph = std::fs::read_to_string(&graph_path).map_err(|e| e.to_string())?;
        Ok(Pacemaker {
            summary: expected_summary(&text),
            graph: graph_check::read_expected(&graph)?,
        })
    }

    fn run(&self, name: &str, xml: &str, out_path: &Path, graph_path: &Path) -> Result<(), String> {
        let cib = self.workdir.join(format!("{name}.xml"));
        std::fs::write(&cib, xml).map_err(|e| e.to_string())?;
        // Written beside and renamed, so an interrupted run caches nothing.
        let graph_tmp = self.workdir.join(format!("{name}.graph.tmp"));
        let out = Command::new("crm_simulate")
            .arg("-x")
            .arg(&cib)
            .arg("-S")
            .arg("-G")
            .arg(&graph_tmp)
            .env("LC_ALL", "C")
            .output()
            .map_err(|e| format!("cannot run crm_simulate: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !text.contains("Transition Summary:") || !graph_tmp.exists() {
            return Err(format!(
                "crm_simulate rejected it (exit {:?}): {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        std::fs::write(out_path, text.as_bytes()).map_err(|e| e.to_string())?;
        std::fs::rename(&graph_tmp, graph_path).map_err(|e| e.to_string())
    }
}

/// How our answer differs from Pacemaker's; empty when they agree.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// Summary lines only Pacemaker's (`-`) or only ours (`+`) has.
    pub summary: String,
    /// The graph difference, as the conformance runner renders it.
    pub graph: String,
}

impl Verdict {
    pub fn agrees(&self) -> bool {
        self.summary.is_empty() && self.graph.is_empty()
    }

    pub fn summary_agrees(&self) -> bool {
        self.summary.is_empty()
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        for line in self.summary.lines().chain(self.graph.lines()) {
            text.push_str("  ");
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

/// Schedules `xml` at its execution date (else now, as `crm_simulate`)
/// and compares with Pacemaker's answer.
pub fn compare(pacemaker: &Pacemaker, xml: &str) -> Result<Verdict, String> {
    let cib = baton_cib::Cib::parse(xml).map_err(|e| format!("our CIB parser: {e}"))?;
    let now = baton_scheduler::execution_date(&cib)
        .map_err(|e| format!("our scheduler: {e}"))?
        .unwrap_or_else(wall_clock);
    let transition =
        baton_scheduler::schedule(&cib, now).map_err(|e| format!("our scheduler: {e}"))?;
    let ours: Vec<String> = transition.summary.iter().map(|l| normalize(l)).collect();
    let graph = graph_check::compare(&pacemaker.graph, &graph_check::ours(&transition.graph));
    Ok(Verdict {
        summary: summary_diff(&pacemaker.summary, &ours),
        graph: graph.render(),
    })
}

fn summary_diff(expected: &[String], ours: &[String]) -> String {
    if expected == ours {
        return String::new();
    }
    let mut text = String::new();
    for line in expected.iter().filter(|l| !ours.contains(l)) {
        text.push_str(&format!("- {line}\n"));
    }
    for line in ours.iter().filter(|l| !expected.contains(l)) {
        text.push_str(&format!("+ {line}\n"));
    }
    if text.is_empty() {
        text.push_str("(same summary lines, different order)\n");
    }
    text
}
