//! Fence agents (`fence_*` in the agent directory): what each can do, from
//! its meta-data, and running one with the stdin protocol.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use baton_fencing::AgentCapabilities;

/// Meta-data takes little time; an agent that hangs on it is not waited for.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Agents {
    dir: PathBuf,
    known: Mutex<HashMap<String, AgentCapabilities>>,
}

impl Agents {
    pub fn new(dir: PathBuf) -> Agents {
        Agents {
            dir,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// What `agent` can do; an agent whose meta-data cannot be read is
    /// taken to do reboot and neither list nor status.
    pub async fn capabilities(&self, agent: &str) -> AgentCapabilities {
        if let Some(known) = self.lock().get(agent) {
            return *known;
        }
        let capabilities = match self
            .run(agent, "action=metadata\n".into(), METADATA_TIMEOUT)
            .await
        {
            Ok(output) => match baton_agents::metadata::parse(&output) {
                Ok(metadata) => {
                    let has = |name: &str| metadata.actions.iter().any(|a| a.name == name);
                    AgentCapabilities {
                        list: has("list"),
                        status: has("status"),
                        reboot: has("reboot"),
                    }
                }
                Err(error) => {
                    tracing::warn!(%agent, %error, "unreadable fence agent meta-data");
                    return fallback();
                }
            },
            Err(error) => {
                tracing::warn!(%agent, %error, "no fence agent meta-data");
                return fallback();
            }
        };
        self.lock().insert(agent.to_owned(), capabilities);
        capabilities
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, AgentCapabilities>> {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `agent` with `stdin` to its end or `timeout`: how it exited,
    /// else why it did not run to its end.
    pub async fn ask(
        &self,
        agent: &str,
        stdin: String,
        timeout: Duration,
    ) -> Result<baton_agents::fence::Answer, String> {
        baton_agents::fence::ask(&self.dir, agent, stdin, timeout).await
    }

    /// Runs `agent` with `stdin` to its end or `timeout`: its stdout when
    /// it exits 0, else what went wrong.
    pub async fn run(
        &self,
        agent: &str,
        stdin: String,
        timeout: Duration,
    ) -> Result<String, String> {
        baton_agents::fence::run(&self.dir, agent, stdin, timeout).await
    }
}

fn fallback() -> AgentCapabilities {
    AgentCapabilities {
        list: false,
        status: false,
        reboot: true,
    }
}
