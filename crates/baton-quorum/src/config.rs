//! The quorum configuration as the caller states it, and its validation into
//! the effective settings the state machine runs on.

use std::collections::{BTreeMap, BTreeSet};

use crate::types::{NodeId, Votes};

/// One nodelist entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeVotes {
    pub id: NodeId,
    /// Carried only so that the status can name its members.
    pub name: Option<String>,
    /// `quorum_votes`; 1 unless configured.
    pub votes: Votes,
}

impl NodeVotes {
    pub fn new(id: NodeId) -> Self {
        Self {
            id,
            name: None,
            votes: Votes(1),
        }
    }
}

/// Which side of an exact half split keeps quorum under `auto_tie_breaker`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TieBreaker {
    /// The side holding the lowest node id of the last quorate membership.
    #[default]
    Lowest,
    /// The side holding the highest node id of the last quorate membership.
    Highest,
    /// Checked in order: the first listed node present wins; a listed node
    /// that was in the previous membership but is missing now means the other
    /// side has it, so this side loses.
    Nodes(Vec<NodeId>),
}

/// The `quorum` section plus the nodelist's votes. `Default` is an empty
/// nodelist with every option off; fill in `nodes` (see [`QuorumConfig::with_nodes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumConfig {
    pub nodes: Vec<NodeVotes>,
    /// `quorum.expected_votes`: replaces the nodelist's vote sum.
    pub expected_votes: Option<Votes>,
    pub two_node: bool,
    /// Unset means "on with two_node, off otherwise".
    pub wait_for_all: Option<bool>,
    pub last_man_standing: bool,
    pub last_man_standing_window_ms: u64,
    pub auto_tie_breaker: bool,
    pub auto_tie_breaker_node: TieBreaker,
    pub allow_downscale: bool,
}

impl QuorumConfig {
    /// votequorum's default `last_man_standing_window`.
    pub const DEFAULT_LAST_MAN_STANDING_WINDOW_MS: u64 = 10_000;

    /// A nodelist of one vote per node, every option at its default.
    pub fn with_nodes(ids: impl IntoIterator<Item = NodeId>) -> Self {
        Self {
            nodes: ids.into_iter().map(NodeVotes::new).collect(),
            ..Self::default()
        }
    }
}

impl Default for QuorumConfig {
    fn default() -> Self {
        Self {
            nodes: Vec::new(),
            expected_votes: None,
            two_node: false,
            wait_for_all: None,
            last_man_standing: false,
            last_man_standing_window_ms: Self::DEFAULT_LAST_MAN_STANDING_WINDOW_MS,
            auto_tie_breaker: false,
            auto_tie_breaker_node: TieBreaker::Lowest,
            allow_downscale: false,
        }
    }
}

/// Why a quorum configuration cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "the nodelist is empty and quorum.expected_votes is not set; list the nodes or set expected_votes"
    )]
    NoNodes,
    #[error("node id 0 is reserved; number the nodes from 1")]
    NodeIdZero,
    #[error("node {node} is listed twice in the nodelist; give each node its own id")]
    DuplicateNode { node: NodeId },
    #[error(
        "node {node} has 0 quorum_votes; give it at least 1 vote or remove it from the nodelist"
    )]
    ZeroVotes { node: NodeId },
    #[error("the nodelist's quorum_votes add up to more than {max}; lower the votes")]
    TooManyVotes { max: u32 },
    #[error("quorum.expected_votes is 0; set it to at least 1 or remove it")]
    ZeroExpectedVotes,
    #[error(
        "last_man_standing needs every node to have 1 vote, but node {node} has {votes}; set its quorum_votes to 1 or turn last_man_standing off"
    )]
    LastManStandingVotes { node: NodeId, votes: Votes },
    #[error("auto_tie_breaker_node lists no nodes; list node ids or use lowest or highest")]
    TieBreakerEmpty,
    #[error(
        "auto_tie_breaker_node names node {node}, which is not in the nodelist; add it to the nodelist or remove it from the list"
    )]
    TieBreakerUnknownNode { node: NodeId },
    #[error("auto_tie_breaker_node names node {node} twice; list each node once")]
    TieBreakerDuplicate { node: NodeId },
}

/// The effective settings, after defaults and implications are applied.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub votes: BTreeMap<NodeId, Votes>,
    pub names: BTreeMap<NodeId, String>,
    /// The floor for `allow_downscale` and the starting expected votes.
    pub configured_expected: Votes,
    /// Only in effect with at most two configured nodes.
    pub two_node: bool,
    pub wait_for_all: bool,
    pub last_man_standing_window_ms: Option<u64>,
    pub tie_breaker: Option<TieBreaker>,
    pub allow_downscale: bool,
}

impl Settings {
    pub fn new(config: &QuorumConfig) -> Result<Self, ConfigError> {
        let mut votes = BTreeMap::new();
        let mut names = BTreeMap::new();
        let mut sum: u32 = 0;
        for node in &config.nodes {
            if node.id.0 == 0 {
                return Err(ConfigError::NodeIdZero);
            }
            if node.votes.0 == 0 {
                return Err(ConfigError::ZeroVotes { node: node.id });
            }
            if votes.insert(node.id, node.votes).is_some() {
                return Err(ConfigError::DuplicateNode { node: node.id });
            }
            if let Some(name) = &node.name {
                names.insert(node.id, name.clone());
            }
            sum = sum
                .checked_add(node.votes.0)
                .ok_or(ConfigError::TooManyVotes { max: u32::MAX })?;
        }
        let configured_expected = match config.expected_votes {
            Some(Votes(0)) => return Err(ConfigError::ZeroExpectedVotes),
            Some(expected) => expected,
            None if votes.is_empty() => return Err(ConfigError::NoNodes),
            None => Votes(sum),
        };
        if config.last_man_standing
            && let Some((&node, &v)) = votes.iter().find(|(_, v)| v.0 != 1)
        {
            return Err(ConfigError::LastManStandingVotes { node, votes: v });
        }
        if config.auto_tie_breaker
            && let TieBreaker::Nodes(list) = &config.auto_tie_breaker_node
        {
            check_tie_breaker_list(list, &votes)?;
        }
        // two_node is a two-node rule: with more configured nodes it is ignored
        // entirely, including the wait_for_all it would imply.
        let two_node = config.two_node && votes.len() <= 2;
        Ok(Self {
            votes,
            names,
            configured_expected,
            two_node,
            wait_for_all: config.wait_for_all.unwrap_or(two_node),
            last_man_standing_window_ms: config
                .last_man_standing
                .then_some(config.last_man_standing_window_ms),
            tie_breaker: config
                .auto_tie_breaker
                .then(|| config.auto_tie_breaker_node.clone()),
            allow_downscale: config.allow_downscale,
        })
    }

    /// A member missing from the nodelist still counts, with the default
    /// single vote, so that unexpected voters raise expected votes rather
    /// than go unseen.
    pub fn votes_of(&self, node: NodeId) -> Votes {
        self.votes.get(&node).copied().unwrap_or(Votes(1))
    }
}

fn check_tie_breaker_list(
    list: &[NodeId],
    votes: &BTreeMap<NodeId, Votes>,
) -> Result<(), ConfigError> {
    if list.is_empty() {
        return Err(ConfigError::TieBreakerEmpty);
    }
    let mut seen = BTreeSet::new();
    for &node in list {
        if !votes.contains_key(&node) {
            return Err(ConfigError::TieBreakerUnknownNode { node });
        }
        if !seen.insert(node) {
            return Err(ConfigError::TieBreakerDuplicate { node });
        }
    }
    Ok(())
}
