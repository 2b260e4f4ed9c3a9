//! Fence agents (`fence_*` in the agent directory): what each can do, from
//! its meta-data, and running one with the stdin protocol.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use baton_agents::exec::{self, Exit, Invocation, Limits};
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

    /// Runs `agent` with `stdin` to its end or `timeout`: its stdout when
    /// it exits 0, else what went wrong.
    pub async fn run(
        &self,
        agent: &str,
        stdin: String,
        timeout: Duration,
    ) -> Result<String, String> {
        if !agent.starts_with("fence_") || agent.contains('/') {
            return Err(format!(
                "{agent} is not a fence agent's name (expected fence_<name>)"
            ));
        }
        let invocation = Invocation {
            program: self.dir.join(agent),
            args: Vec::new(),
            env: baton_agents::env::base_env(),
            timeout,
            stdin: Some(stdin),
        };
        let finished = exec::run(&invocation, &Limits::default()).await;
        let said = || {
            let text = if finished.stderr.trim().is_empty() {
                &finished.stdout
            } else {
                &finished.stderr
            };
            text.trim().lines().last().unwrap_or_default().to_owned()
        };
        match &finished.exit {
            Exit::Code(0) => Ok(finished.stdout.clone()),
            Exit::Code(code) => Err(format!("{agent} exited {code}: {}", said())),
            Exit::Signal(signal) => Err(format!("{agent} was killed by signal {signal}")),
            Exit::TimedOut => Err(format!(
                "{agent} did not finish within {} ms",
                timeout.as_millis()
            )),
            Exit::Missing(reason) => Err(format!("{agent} is not installed: {reason}")),
            Exit::Unrunnable { reason, .. } => Err(format!("{agent} cannot run: {reason}")),
        }
    }
}

fn fallback() -> AgentCapabilities {
    AgentCapabilities {
        list: false,
        status: false,
        reboot: true,
    }
}
