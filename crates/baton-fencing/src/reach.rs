//! `baton fence test NODE`: whether a device can reach a node, asked of its
//! agent without shooting. The agent's `list` says whether it knows the
//! node's port, its `status` whether it can tell the port's power state
//! (on or off, both mean reachable), and failing both its `monitor`
//! whether the device itself answers.

use crate::{AgentCapabilities, Device};

/// The harmless action that tells the most about reaching a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReachCheck {
    List,
    Status,
    Monitor,
}

impl ReachCheck {
    #[must_use]
    pub fn action(self) -> &'static str {
        match self {
            ReachCheck::List => "list",
            ReachCheck::Status => "status",
            ReachCheck::Monitor => "monitor",
        }
    }
}

/// What one check found, in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub reachable: bool,
    pub detail: String,
}

impl Device {
    /// The check for reaching a node: `list` when the agent has it, else
    /// `status`, else `monitor` (which cannot tell one node from another).
    #[must_use]
    pub fn reach_check(&self, agent: AgentCapabilities) -> ReachCheck {
        if agent.list {
            ReachCheck::List
        } else if agent.status {
            ReachCheck::Status
        } else {
            ReachCheck::Monitor
        }
    }

    /// Judges the agent's answer to `check` about `node`: its exit code and
    /// what it printed.
    #[must_use]
    pub fn judge_reach(&self, check: ReachCheck, node: &str, code: i32, stdout: &str) -> Reach {
        let port = self.port_of(node);
        let reach = |reachable: bool, detail: String| Reach { reachable, detail };
        match (check, code) {
            (ReachCheck::List, 0) => {
                let listed = stdout
                    .lines()
                    .filter_map(|line| line.split([',', ' ']).next())
                    .any(|name| name.trim() == port);
                if listed {
                    reach(true, format!("its list names {port}"))
                } else {
                    reach(false, format!("its list does not name {port}"))
                }
            }
            (ReachCheck::Status, 0) => reach(true, format!("{port} is on")),
            (ReachCheck::Status, 2) => reach(true, format!("{port} is off")),
            (ReachCheck::Monitor, 0) => reach(
                true,
                "the device answers (its agent cannot tell one node from another)".to_owned(),
            ),
            (check, code) => reach(
                false,
                format!("{} {} exited {code}", self.agent, check.action()),
            ),
        }
    }
}
