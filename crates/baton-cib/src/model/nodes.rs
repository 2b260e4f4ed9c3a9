//! `<nodes><node>` entries.

use super::nvset::NvSet;
use super::value::view;

view!(
    /// A `<node id uname type>` in the configuration.
    Node
);

impl<'a> Node<'a> {
    pub fn uname(self) -> Option<&'a str> {
        self.0.attr("uname")
    }

    /// `member` (also the meaning of a missing type), `remote` or `ping`.
    pub fn node_type(self) -> &'a str {
        self.0.attr("type").unwrap_or("member")
    }

    pub fn instance_attributes(self) -> impl Iterator<Item = NvSet<'a>> + 'a {
        self.0.children_named("instance_attributes").map(NvSet)
    }

    pub fn utilization(self) -> impl Iterator<Item = NvSet<'a>> + 'a {
        self.0.children_named("utilization").map(NvSet)
    }

    /// A node attribute from the first rule-less set that has it.
    pub fn attribute(self, name: &str) -> Option<&'a str> {
        plain_lookup(self.instance_attributes(), name)
    }
}

/// First value of `name` among `sets` that carry no rule. Rule-guarded sets
/// need evaluation against a time and node, which is the scheduler's job.
pub(crate) fn plain_lookup<'a>(
    sets: impl Iterator<Item = NvSet<'a>>,
    name: &str,
) -> Option<&'a str> {
    sets.filter(|s| s.rule().is_none())
        .find_map(|s| s.get(name))
}
