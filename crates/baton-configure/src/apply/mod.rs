//! Commands → CIB, the way `crm configure` writes them.
//!
//! A batch is applied to a copy and only handed back whole: a command that
//! fails leaves the caller's CIB untouched. Redefining an id replaces the
//! object in place (crmsh's `load update`).

mod constraints;
mod delete;
mod properties;
mod prune;
mod resources;
pub(crate) mod xml;

use std::fmt;

use baton_cib::Cib;
use baton_cib::model::ModelError;
use baton_cib::xml::Style;
use baton_crmsh::ast::{Agent, Command};

/// Whether an agent is installed on this machine. `None` when the class is
/// not one that can be looked up (the question is then left open).
pub trait AgentLookup {
    fn is_installed(&self, agent: &Agent) -> Option<bool>;

    /// Installed agents of `agent`'s class, written as crmsh writes them
    /// (`ocf:heartbeat:IPaddr2`): what a misspelled one may have meant.
    fn installed_like(&self, _agent: &Agent) -> Vec<String> {
        Vec::new()
    }

    /// The parameters the agent's meta-data declares, when it can be read.
    fn parameters(&self, _agent: &Agent) -> Option<Vec<AgentParameter>> {
        None
    }
}

/// A parameter an agent's meta-data declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentParameter {
    pub name: String,
    pub required: bool,
}

/// Something the user should know about an applied command that is not an
/// error: a legacy form rewritten, an agent missing on this node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Notice {
    pub object: String,
    pub text: String,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.object, self.text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("`{id}` is already a {existing}, not a {wanted}; delete it first or choose another id")]
    WrongKind {
        id: String,
        existing: String,
        wanted: &'static str,
    },
    #[error("id `{id}` is already used by another element; choose another id")]
    IdTaken { id: String },
    #[error("{owner} refers to `{id}`, which is not defined; define it first")]
    Missing { owner: String, id: String },
    #[error("{owner} cannot hold `{id}`: {reason}")]
    Nesting {
        owner: String,
        id: String,
        reason: String,
    },
    #[error("{owner}: {reason}")]
    Invalid { owner: String, reason: String },
    #[error("nothing has id `{id}`; `show` lists the objects")]
    NotFound { id: String },
    #[error("`{id}` is still referenced by {by}; delete or change those first")]
    Referenced { id: String, by: String },
    #[error("the CIB version cannot be bumped")]
    Version(#[from] ModelError),
}

/// Applies `commands` in order (a file's objects in dependency order when
/// it deletes nothing), then bumps the epoch if the configuration changed.
pub fn apply(
    cib: &mut Cib,
    commands: &[Command],
    agents: &dyn AgentLookup,
) -> Result<Vec<Notice>, ApplyError> {
    let mut work = cib.clone();
    let notices = apply_all(&mut work, commands, agents)?;
    finish(cib, work)?;
    Ok(notices)
}

/// `load replace`: the configuration becomes exactly `commands`, except for
/// what the language cannot express (templates, bundles, tickets, alerts,
/// ACLs, fencing topology), which is kept. Objects still defined are
/// updated where they stand, so replacing with `show`'s text changes nothing.
pub fn replace(
    cib: &mut Cib,
    commands: &[Command],
    agents: &dyn AgentLookup,
) -> Result<Vec<Notice>, ApplyError> {
    let mut work = cib.clone();
    prune::clear_properties(&mut work);
    // Pruning first frees resources the text moves out of a container it
    // no longer defines.
    prune::undefined(&mut work, commands);
    let notices = apply_all(&mut work, commands, agents)?;
    finish(cib, work)?;
    Ok(notices)
}

fn finish(cib: &mut Cib, mut work: Cib) -> Result<(), ApplyError> {
    if configuration_xml(&work) != configuration_xml(cib) {
        work.bump_config()?;
    }
    *cib = work;
    Ok(())
}

fn configuration_xml(cib: &Cib) -> String {
    cib.configuration()
        .map(|c| c.document().element_to_xml(c.id(), Style::Canonical))
        .unwrap_or_default()
}

fn apply_all(
    cib: &mut Cib,
    commands: &[Command],
    agents: &dyn AgentLookup,
) -> Result<Vec<Notice>, ApplyError> {
    let mut ordered: Vec<&Command> = commands.iter().collect();
    // A file may define a group before its members; crmsh resolves that, so
    // objects go in dependency order. With deletes the text's order matters.
    if !commands.iter().any(|c| matches!(c, Command::Delete(_))) {
        ordered.sort_by_key(|c| rank(c));
    }
    let mut notices = Vec::new();
    for command in ordered {
        apply_one(cib, command, agents, &mut notices)?;
    }
    Ok(notices)
}

fn rank(command: &Command) -> u8 {
    match command {
        Command::Node(_) => 0,
        Command::Primitive(_) => 1,
        Command::Group(_) => 2,
        Command::Clone(_) => 3,
        Command::Location(_) | Command::Colocation(_) | Command::Order(_) => 4,
        Command::Property(_) | Command::Delete(_) => 5,
    }
}

fn apply_one(
    cib: &mut Cib,
    command: &Command,
    agents: &dyn AgentLookup,
    notices: &mut Vec<Notice>,
) -> Result<(), ApplyError> {
    match command {
        Command::Node(n) => resources::node(cib, n),
        Command::Primitive(p) => {
            resources::primitive(cib, p)?;
            notices.extend(resources::agent_notices(p, agents));
            Ok(())
        }
        Command::Group(g) => resources::group(cib, g),
        Command::Clone(c) => resources::clone(cib, c, notices),
        Command::Location(l) => constraints::location(cib, l),
        Command::Colocation(c) => constraints::colocation(cib, c),
        Command::Order(o) => constraints::order(cib, o),
        Command::Property(p) => properties::apply(cib, p, notices),
        Command::Delete(ids) => delete::delete(cib, ids, notices),
    }
}
