//! From a request to a result: where each class's program lives, what it is
//! called with, and how its exit maps onto the OCF rc and status.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::env::{base_env, ocf_env};
use crate::exec::{self, Exit, Finished, Invocation, Limits};
use crate::name::Class;
use crate::outcome::{self, OpStatus, Verdict, rc};
use crate::request::ActionRequest;
use crate::systemd::{self, SystemdPaths};

/// Where agents are found on this host.
#[derive(Debug, Clone)]
pub struct Roots {
    /// `/usr/lib/ocf`; agents are in `resource.d/PROVIDER/TYPE` below it.
    pub ocf_root: PathBuf,
    /// `/etc/init.d`.
    pub lsb_dir: PathBuf,
    pub systemd: SystemdPaths,
    /// baton's stand-ins for the Pacemaker tools agents call.
    pub tools: Option<AgentTools>,
}

/// Where OCF and LSB agents find the Pacemaker tools they call
/// (`${HA_SBIN_DIR}/crm_attribute`, or plain `crm_attribute` on PATH), and
/// the socket directory those reach this node's daemons through.
#[derive(Debug, Clone)]
pub struct AgentTools {
    pub dir: PathBuf,
    pub socket_dir: PathBuf,
}

impl Roots {
    pub fn new(ocf_root: PathBuf) -> Self {
        Self {
            ocf_root,
            lsb_dir: PathBuf::from("/etc/init.d"),
            systemd: SystemdPaths::default(),
            tools: None,
        }
    }

    /// `env` with the tools put first: HA_SBIN_DIR, the front of PATH, and
    /// BATON_SOCKET_DIR for the tools themselves.
    fn with_tools(&self, mut env: crate::env::Env) -> crate::env::Env {
        let Some(tools) = &self.tools else {
            return env;
        };
        let dir = tools.dir.to_string_lossy().into_owned();
        for (name, value) in &mut env {
            if name == "PATH" {
                *value = format!("{dir}:{value}");
            }
        }
        env.push(("HA_SBIN_DIR".to_owned(), dir));
        env.push((
            "BATON_SOCKET_DIR".to_owned(),
            tools.socket_dir.to_string_lossy().into_owned(),
        ));
        env
    }

    pub fn ocf_agent(&self, provider: &str, kind: &str) -> PathBuf {
        self.ocf_root.join("resource.d").join(provider).join(kind)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionResult {
    pub rc: i32,
    pub status: OpStatus,
    pub exec_ms: u64,
    pub exit_reason: String,
    pub stdout: String,
    pub stderr: String,
    pub truncated: bool,
}

impl ActionResult {
    /// A result for an action that never ran (refused, cancelled, no bus).
    pub fn not_run(verdict: Verdict) -> Self {
        Self {
            rc: verdict.rc,
            status: verdict.status,
            exec_ms: 0,
            exit_reason: verdict.reason.unwrap_or_default(),
            stdout: String::new(),
            stderr: String::new(),
            truncated: false,
        }
    }
}

/// Runs `request` (already validated) to its end. Never fails: every way an
/// agent can go wrong is a status.
pub async fn execute(roots: &Roots, request: &ActionRequest, limits: &Limits) -> ActionResult {
    let timeout = Duration::from_millis(request.timeout_ms);
    match effective_class(request.agent.class) {
        Class::Ocf => {
            let provider = request.agent.provider.as_deref().unwrap_or_default();
            let invocation = Invocation {
                stdin: None,
                program: roots.ocf_agent(provider, &request.agent.kind),
                args: vec![request.action.clone()],
                env: roots.with_tools(ocf_env(request, &roots.ocf_root)),
                timeout,
            };
            let finished = exec::run(&invocation, limits).await;
            let verdict = verdict(&finished, timeout, outcome::ocf_exit);
            result(finished, verdict)
        }
        Class::Lsb => {
            let program = roots.lsb_dir.join(&request.agent.kind);
            if request.action == "meta-data" {
                return lsb_metadata(&program, &request.agent.kind);
            }
            let is_status = matches!(request.action.as_str(), "monitor" | "status");
            let invocation = Invocation {
                stdin: None,
                program,
                args: vec![if is_status {
                    "status".into()
                } else {
                    request.action.clone()
                }],
                env: roots.with_tools(base_env()),
                timeout,
            };
            let finished = exec::run(&invocation, limits).await;
            let map = if is_status {
                outcome::lsb_status_exit
            } else {
                outcome::lsb_action_exit
            };
            let verdict = verdict(&finished, timeout, map);
            result(finished, verdict)
        }
        Class::Systemd | Class::Service => systemd::execute(&roots.systemd, request, timeout).await,
    }
}

/// `service:` means systemd where the host runs it, else LSB.
pub fn effective_class(class: Class) -> Class {
    match class {
        Class::Service if systemd::booted() => Class::Systemd,
        Class::Service => Class::Lsb,
        class => class,
    }
}

fn verdict(finished: &Finished, timeout: Duration, map: fn(i32) -> Verdict) -> Verdict {
    match &finished.exit {
        Exit::Code(code) => {
            let mut verdict = map(*code);
            let given = outcome::exit_reason(&finished.stderr)
                .or_else(|| outcome::exit_reason(&finished.stdout));
            if given.is_some() {
                verdict.reason = given;
            }
            verdict
        }
        Exit::Signal(signal) => {
            let name = nix::sys::signal::Signal::try_from(*signal)
                .map(|s| s.as_str())
                .unwrap_or("an unknown signal");
            let reason = format!("the agent was killed by signal {signal} ({name})");
            Verdict::failed(OpStatus::Error, rc::ERR_GENERIC, reason)
        }
        Exit::TimedOut => Verdict::failed(
            OpStatus::Timeout,
            rc::ERR_GENERIC,
            format!(
                "the agent did not finish within its timeout of {} ms and was killed with its process group",
                timeout.as_millis()
            ),
        ),
        Exit::Missing(reason) => {
            Verdict::failed(OpStatus::NotInstalled, rc::ERR_INSTALLED, reason.clone())
        }
        Exit::Unrunnable { permission, reason } => {
            let code = if *permission {
                rc::ERR_PERM
            } else {
                rc::ERR_GENERIC
            };
            Verdict::failed(OpStatus::Error, code, reason.clone())
        }
    }
}

fn result(finished: Finished, verdict: Verdict) -> ActionResult {
    ActionResult {
        rc: verdict.rc,
        status: verdict.status,
        exec_ms: u64::try_from(finished.elapsed.as_millis()).unwrap_or(u64::MAX),
        exit_reason: verdict.reason.unwrap_or_default(),
        stdout: finished.stdout,
        stderr: finished.stderr,
        truncated: finished.truncated,
    }
}

/// LSB scripts have no meta-data action; their header stands in for it.
fn lsb_metadata(program: &Path, name: &str) -> ActionResult {
    match std::fs::read_to_string(program) {
        Ok(script) => ActionResult {
            stdout: crate::lsb::metadata_xml(name, &script),
            ..ActionResult::not_run(Verdict::done(rc::SUCCESS))
        },
        Err(error) => ActionResult::not_run(Verdict::failed(
            OpStatus::NotInstalled,
            rc::ERR_INSTALLED,
            format!("cannot read {}: {error}", program.display()),
        )),
    }
}
