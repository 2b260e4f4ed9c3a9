//! cluster.toml: reading (with line numbers for every key) and writing.
//!
//! The model types are the schema; this module adds the parts serde cannot
//! derive: `ringX_addr` keys, the tie-breaker's two shapes, and spans.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};

use crate::diag::{Sources, suggest};
use crate::model::{ClusterConfig, LinkNumber, Node, NodeAddr, NodeId, TieBreaker};

/// A `[[nodelist.node]]` table as written, with one key per link.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NodeToml {
    #[serde(skip_serializing_if = "Option::is_none")]
    nodeid: Option<NodeId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quorum_votes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ring0_addr: Option<NodeAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ring1_addr: Option<NodeAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ring2_addr: Option<NodeAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ring3_addr: Option<NodeAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ring4_addr: Option<NodeAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ring5_addr: Option<NodeAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ring6_addr: Option<NodeAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ring7_addr: Option<NodeAddr>,
}

impl NodeToml {
    fn rings(self) -> [Option<NodeAddr>; 8] {
        [
            self.ring0_addr,
            self.ring1_addr,
            self.ring2_addr,
            self.ring3_addr,
            self.ring4_addr,
            self.ring5_addr,
            self.ring6_addr,
            self.ring7_addr,
        ]
    }
}

impl From<NodeToml> for Node {
    fn from(t: NodeToml) -> Node {
        let (nodeid, name, quorum_votes) = (t.nodeid, t.name.clone(), t.quorum_votes);
        let addrs: BTreeMap<LinkNumber, NodeAddr> = (0u8..)
            .zip(t.rings())
            .filter_map(|(link, addr)| Some((LinkNumber::try_from(link).ok()?, addr?)))
            .collect();
        Node {
            nodeid,
            name,
            quorum_votes,
            addrs,
        }
    }
}

impl From<Node> for NodeToml {
    fn from(n: Node) -> NodeToml {
        let mut t = NodeToml {
            nodeid: n.nodeid,
            name: n.name,
            quorum_votes: n.quorum_votes,
            ..NodeToml::default()
        };
        for (link, addr) in n.addrs {
            let slot = match link.get() {
                0 => &mut t.ring0_addr,
                1 => &mut t.ring1_addr,
                2 => &mut t.ring2_addr,
                3 => &mut t.ring3_addr,
                4 => &mut t.ring4_addr,
                5 => &mut t.ring5_addr,
                6 => &mut t.ring6_addr,
                _ => &mut t.ring7_addr,
            };
            *slot = Some(addr);
        }
        t
    }
}

/// `"lowest"`, `"highest"`, or a list of node ids.
impl Serialize for TieBreaker {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Lowest => s.serialize_str("lowest"),
            Self::Highest => s.serialize_str("highest"),
            Self::Nodes(ids) => ids.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for TieBreaker {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TieBreaker;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"lowest\", \"highest\" or a list of node ids such as [1, 3]")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TieBreaker, E> {
                match v {
                    "lowest" => Ok(TieBreaker::Lowest),
                    "highest" => Ok(TieBreaker::Highest),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TieBreaker, A::Error> {
                let mut ids = Vec::new();
                while let Some(id) = seq.next_element()? {
                    ids.push(id);
                }
                if ids.is_empty() {
                    return Err(de::Error::invalid_length(0, &self));
                }
                Ok(TieBreaker::Nodes(ids))
            }
        }
        d.deserialize_any(V)
    }
}

/// A TOML file that could not be read into the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TomlProblem {
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// Dotted path of the key the problem is at, when known.
    pub key: Option<String>,
    pub message: String,
}

pub(crate) fn read(text: &str) -> Result<(ClusterConfig, Sources), TomlProblem> {
    let starts = line_starts(text);
    let spanned = DeTable::parse(text).map_err(|e| problem(&e, &starts, None))?;
    let mut keys = Vec::new();
    walk(spanned.get_ref(), "", &mut keys);
    let config: ClusterConfig =
        toml::from_str(text).map_err(|e| problem(&e, &starts, Some(&keys)))?;
    let mut sources = Sources::default();
    for (path, start, _) in keys {
        sources.set(path, position(&starts, start).0);
    }
    Ok((config, sources))
}

/// Every key with the byte span of its name and of its value.
type KeySpans = Vec<(String, usize, usize)>;

fn walk(table: &DeTable<'_>, prefix: &str, out: &mut KeySpans) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        out.push((path.clone(), key.span().start, value.span().end));
        match value.get_ref() {
            DeValue::Table(sub) => walk(sub, &path, out),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let DeValue::Table(sub) = item.get_ref() {
                        let at = format!("{path}.{i}");
                        out.push((at.clone(), item.span().start, item.span().end));
                        walk(sub, &at, out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn problem(e: &toml::de::Error, starts: &[usize], keys: Option<&KeySpans>) -> TomlProblem {
    let span = e.span();
    let (line, column) = match &span {
        Some(s) => {
            let (l, c) = position(starts, s.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    // The innermost key whose name or value covers the error is the one to name.
    let key = span.and_then(|s| {
        keys?
            .iter()
            .filter(|(_, start, end)| *start <= s.start && s.start < (*end).max(start + 1))
            .max_by_key(|(_, start, _)| *start)
            .map(|(path, _, _)| path.clone())
    });
    let message = e.message().trim_end_matches('.').replace('\n', " ");
    let message = unknown_key_message(&message).unwrap_or(message);
    TomlProblem {
        line,
        column,
        key,
        message,
    }
}

/// serde words an unknown key as "unknown field `x`, expected one of `a`, `b`";
/// say "key" as the file does, and point a typo at the closest name.
fn unknown_key_message(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let hint = suggest(field, &known)
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    Some(format!("unknown key `{field}`{hint}{expected}"))
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// 1-based line and column of a byte offset.
fn position(starts: &[usize], offset: usize) -> (u32, u32) {
    let index = starts.partition_point(|&s| s <= offset).saturating_sub(1);
    let start = starts.get(index).copied().unwrap_or(0);
    let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    (to_u32(index + 1), to_u32(offset.saturating_sub(start) + 1))
}

/// Prints the model as cluster.toml; only values that were set are written.
pub(crate) fn write(config: &ClusterConfig, origin: &str) -> String {
    let body = toml::to_string(config)
        .unwrap_or_else(|e| format!("# could not print the configuration: {e}\n"));
    format!(
        "# cluster.toml for baton, imported from {origin}\n\
         # Only settings written in that file appear here; everything else keeps\n\
         # its default. `baton config check` shows the effective values.\n\n{body}"
    )
}
