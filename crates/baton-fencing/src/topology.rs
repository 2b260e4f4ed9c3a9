//! `fencing-topology`: for a node, levels of devices tried in ascending
//! index; every device of a level must succeed, the first level that does
//! ends the fencing.

use std::collections::BTreeMap;

use baton_cib::xml::ElementRef;
use regex_lite::Regex;

use crate::registry::Problem;

/// Which nodes a level is for.
#[derive(Debug, Clone)]
pub enum LevelTarget {
    Node(String),
    /// A regular expression a node's name matches (anywhere in it, as
    /// Pacemaker's POSIX regexec does).
    Pattern(Regex),
    /// Nodes whose node attribute `name` is `value`.
    Attribute {
        name: String,
        value: String,
    },
}

impl PartialEq for LevelTarget {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (LevelTarget::Node(a), LevelTarget::Node(b)) => a == b,
            (LevelTarget::Pattern(a), LevelTarget::Pattern(b)) => a.as_str() == b.as_str(),
            (
                LevelTarget::Attribute { name, value },
                LevelTarget::Attribute {
                    name: other_name,
                    value: other_value,
                },
            ) => name == other_name && value == other_value,
            _ => false,
        }
    }
}

impl LevelTarget {
    /// Whether the level is for the node called `node` with node
    /// attributes `attributes`.
    #[must_use]
    pub fn matches(&self, node: &str, attributes: &BTreeMap<String, String>) -> bool {
        match self {
            LevelTarget::Node(name) => name == node,
            LevelTarget::Pattern(pattern) => pattern.is_match(node),
            LevelTarget::Attribute { name, value } => attributes.get(name) == Some(value),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub id: String,
    /// 1 to 9.
    pub index: u32,
    pub target: LevelTarget,
    pub devices: Vec<String>,
}

impl Level {
    /// Reads a `<fencing-level>`, naming what is wrong with it.
    pub fn from_element(level: ElementRef<'_>) -> Result<Level, Problem> {
        let id = level.attr("id").unwrap_or_default().to_owned();
        let problem = |what: String| Problem {
            device: None,
            what: format!("fencing-level {id}: {what}"),
        };
        let index = level
            .attr("index")
            .and_then(|i| i.parse::<u32>().ok())
            .filter(|i| (1..=9).contains(i))
            .ok_or_else(|| problem("index must be a number from 1 to 9".to_owned()))?;
        let target = match (
            level.attr("target"),
            level.attr("target-pattern"),
            level.attr("target-attribute"),
        ) {
            (Some(node), None, None) => LevelTarget::Node(node.to_owned()),
            (None, Some(pattern), None) => {
                LevelTarget::Pattern(Regex::new(pattern).map_err(|e| {
                    problem(format!(
                        "target-pattern {pattern} is not a regular expression: {e}"
                    ))
                })?)
            }
            (None, None, Some(name)) => LevelTarget::Attribute {
                name: name.to_owned(),
                value: level
                    .attr("target-value")
                    .ok_or_else(|| problem("target-attribute needs a target-value".to_owned()))?
                    .to_owned(),
            },
            _ => {
                return Err(problem(
                    "exactly one of target, target-pattern or target-attribute is needed"
                        .to_owned(),
                ));
            }
        };
        let devices: Vec<String> = level
            .attr("devices")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect();
        if devices.is_empty() {
            return Err(problem("it names no devices".to_owned()));
        }
        Ok(Level {
            id,
            index,
            target,
            devices,
        })
    }
}
