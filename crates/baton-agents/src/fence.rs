//! Running a fence agent (`fence_*`) with the stdin protocol: one
//! `name=value` line per argument, the answer on stdout. baton-fenced runs
//! them to fence; baton-lrmd only to read their meta-data.

use std::path::Path;
use std::time::Duration;

use crate::exec::{self, Exit, Invocation, Limits};

/// How a fence agent that ran to its end exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: i32,
    pub stdout: String,
    /// The last line it wrote (stderr first, else stdout), for a sentence.
    pub said: String,
}

/// Runs `agent` from `dir` with `stdin` to its end or `timeout`: its stdout
/// when it exits 0, else a sentence saying what went wrong.
pub async fn run(
    dir: &Path,
    agent: &str,
    stdin: String,
    timeout: Duration,
) -> Result<String, String> {
    let answer = ask(dir, agent, stdin, timeout).await?;
    if answer.code == 0 {
        Ok(answer.stdout)
    } else {
        Err(format!("{agent} exited {}: {}", answer.code, answer.said))
    }
}

/// Runs `agent` from `dir` with `stdin` to its end or `timeout`: how it
/// exited, whatever the code (a `status` that answers 2 says "off"), or a
/// sentence when it did not run to its end.
pub async fn ask(
    dir: &Path,
    agent: &str,
    stdin: String,
    timeout: Duration,
) -> Result<Answer, String> {
    if !agent.starts_with("fence_") || agent.contains('/') {
        return Err(format!(
            "{agent} is not a fence agent's name (expected fence_<name>)"
        ));
    }
    let invocation = Invocation {
        program: dir.join(agent),
        args: Vec::new(),
        env: crate::env::base_env(),
        timeout,
        stdin: Some(stdin),
    };
    let finished = exec::run(&invocation, &Limits::default()).await;
    let said = {
        let text = if finished.stderr.trim().is_empty() {
            &finished.stdout
        } else {
            &finished.stderr
        };
        text.trim().lines().last().unwrap_or_default().to_owned()
    };
    match finished.exit {
        Exit::Code(code) => Ok(Answer {
            code,
            stdout: finished.stdout,
            said,
        }),
        Exit::Signal(signal) => Err(format!("{agent} was killed by signal {signal}")),
        Exit::TimedOut => Err(format!(
            "{agent} did not finish within {} ms",
            timeout.as_millis()
        )),
        Exit::Missing(reason) => Err(format!("{agent} is not installed: {reason}")),
        Exit::Unrunnable { reason, .. } => Err(format!("{agent} cannot run: {reason}")),
    }
}
