//! Our transition graph against a case's `exp/NAME.exp` (the graph
//! `crm_simulate -G` wrote): the same actions, counted as a multiset of
//! labels (operation, key with clone instance numbers removed, node), and
//! every order between two actions of the expected graph that we also
//! have implied by our graph (directly or through other actions).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use baton_cib::xml::{Document, ElementRef};
use baton_scheduler::{ActionKind, Graph};

/// `operation key@node`, instance numbers removed (`ping:1` → `ping`):
/// instance numbers are not stable identities.
pub fn label(operation: &str, key: &str, node: Option<&str>) -> String {
    let mut out = format!("{operation} ");
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            continue;
        }
        out.push(c);
    }
    if let Some(n) = node {
        out.push('@');
        out.push_str(n);
    }
    out
}

/// A graph as labelled actions and edges between them.
#[derive(Debug, Clone, Default)]
pub struct Labelled {
    pub labels: Vec<String>,
    /// `(input, action)` by index into `labels`.
    pub edges: Vec<(usize, usize)>,
}

fn action_label(el: ElementRef<'_>) -> String {
    label(
        el.attr("operation").unwrap_or(""),
        el.attr("operation_key").unwrap_or(""),
        el.attr("on_node"),
    )
}

/// Reads a `.exp` file. Actions are identified by their `id` within it.
pub fn read_expected(text: &str) -> Result<Labelled, String> {
    let doc = Document::parse(text).map_err(|e| format!("bad .exp XML: {e}"))?;
    let root = doc.root_ref();
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Labelled::default();
    fn action_of(synapse: ElementRef<'_>) -> Option<ElementRef<'_>> {
        synapse
            .first_child("action_set")
            .and_then(|set| set.children().next())
    }
    for synapse in root.children_named("synapse") {
        if let Some(a) = action_of(synapse) {
            by_id.insert(a.attr("id").unwrap_or("").to_owned(), out.labels.len());
            out.labels.push(action_label(a));
        }
    }
    for synapse in root.children_named("synapse") {
        let Some(a) = action_of(synapse) else {
            continue;
        };
        let Some(&then) = by_id.get(a.attr("id").unwrap_or("")) else {
            continue;
        };
        for trigger in synapse
            .children_named("inputs")
            .flat_map(|i| i.children_named("trigger"))
        {
            if let Some(input) = trigger.children().next()
                && let Some(&first) = by_id.get(input.attr("id").unwrap_or(""))
            {
                out.edges.push((first, then));
            }
        }
    }
    Ok(out)
}

pub fn ours(graph: &Graph) -> Labelled {
    Labelled {
        labels: graph
            .actions
            .iter()
            .map(|a| {
                let node = a.node.as_ref().filter(|_| a.kind != ActionKind::Pseudo);
                label(a.task.name(), &a.key, node.map(|n| &*n.name))
            })
            .collect(),
        edges: graph
            .actions
            .iter()
            .flat_map(|a| a.inputs.iter().map(move |i| (i.0, a.id.0)))
            .collect(),
    }
}

/// How a graph differs from the expected one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphDiff {
    /// Labels only the expected graph has (with repeats).
    pub missing: Vec<String>,
    /// Labels only ours has.
    pub extra: Vec<String>,
    /// Expected orders between actions we have that our graph does not
    /// imply.
    pub unordered: Vec<(String, String)>,
}

impl GraphDiff {
    pub fn same_actions(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty()
    }

    pub fn passed(&self) -> bool {
        self.same_actions() && self.unordered.is_empty()
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        for l in &self.missing {
            let _ = writeln!(s, "- {l}");
        }
        for l in &self.extra {
            let _ = writeln!(s, "+ {l}");
        }
        for (a, b) in &self.unordered {
            let _ = writeln!(s, "! {a} -> {b} (not implied by ours)");
        }
        s
    }
}

fn counts(labels: &[String]) -> BTreeMap<&str, usize> {
    let mut m = BTreeMap::new();
    for l in labels {
        *m.entry(l.as_str()).or_insert(0) += 1;
    }
    m
}

/// Everything reachable from each action of `g` along its edges.
fn reachability(g: &Labelled) -> Vec<BTreeSet<usize>> {
    let n = g.labels.len();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in &g.edges {
        next[a].push(b);
    }
    (0..n)
        .map(|start| {
            let mut seen = BTreeSet::new();
            let mut stack = vec![start];
            while let Some(x) = stack.pop() {
                for &y in &next[x] {
                    if seen.insert(y) {
                        stack.push(y);
                    }
                }
            }
            seen
        })
        .collect()
}

pub fn compare(expected: &Labelled, ours: &Labelled) -> GraphDiff {
    let (exp_counts, our_counts) = (counts(&expected.labels), counts(&ours.labels));
    let mut diff = GraphDiff::default();
    for (l, &n) in &exp_counts {
        let have = our_counts.get(l).copied().unwrap_or(0);
        diff.missing
            .extend(std::iter::repeat_n((*l).to_owned(), n.saturating_sub(have)));
    }
    for (l, &n) in &our_counts {
        let want = exp_counts.get(l).copied().unwrap_or(0);
        diff.extra
            .extend(std::iter::repeat_n((*l).to_owned(), n.saturating_sub(want)));
    }
    let mut ours_by_label: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, l) in ours.labels.iter().enumerate() {
        ours_by_label.entry(l).or_default().push(i);
    }
    let reach = reachability(ours);
    let mut unordered = BTreeSet::new();
    for &(a, b) in &expected.edges {
        let (la, lb) = (&expected.labels[a], &expected.labels[b]);
        let (Some(xs), Some(ys)) = (
            ours_by_label.get(la.as_str()),
            ours_by_label.get(lb.as_str()),
        ) else {
            continue;
        };
        let implied = xs.iter().any(|&x| ys.iter().any(|y| reach[x].contains(y)));
        if !implied {
            unordered.insert((la.clone(), lb.clone()));
        }
    }
    diff.unordered = unordered.into_iter().collect();
    diff
}
