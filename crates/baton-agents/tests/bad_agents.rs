//! Agents that misbehave each end in a clear status, and leave nothing
//! running behind when they are killed.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use baton_agents::exec::Limits;
use baton_agents::name::AgentName;
use baton_agents::outcome::{OpStatus, rc};
use baton_agents::request::ActionRequest;
use baton_agents::run::{ActionResult, Roots, execute};

struct Fixture {
    dir: tempfile::TempDir,
    roots: Roots,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("ocf/resource.d/test")).expect("mkdir");
        let roots = Roots::new(dir.path().join("ocf"));
        Self { dir, roots }
    }

    fn agent(&self, name: &str, body: &str, mode: u32) {
        let path = self.roots.ocf_agent("test", name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write agent");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    /// A file the agents may write pids and markers to.
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn run(&self, name: &str, timeout_ms: u64) -> ActionResult {
        let request = ActionRequest {
            resource_id: "r1".into(),
            agent: AgentName::ocf("test", name),
            action: "start".into(),
            params: BTreeMap::from([("dir".into(), self.dir.path().display().to_string())]),
            meta: BTreeMap::new(),
            interval_ms: 0,
            timeout_ms,
        };
        request.validate().expect("valid request");
        let limits = Limits {
            grace: Duration::from_millis(300),
            ..Limits::default()
        };
        execute(&self.roots, &request, &limits).await
    }
}

/// Kills the pids listed in a file when dropped, so a failing test leaves
/// no stray process.
struct Reap(PathBuf);

impl Drop for Reap {
    fn drop(&mut self) {
        for pid in pids(&self.0) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

fn pids(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Alive means present and not a zombie waiting for a reaper.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

async fn wait_for_pids(file: &Path, count: usize) -> Vec<u32> {
    for _ in 0..100 {
        let found = pids(file);
        if found.len() >= count {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the agent did not record {count} pids in {}",
        file.display()
    );
}

#[tokio::test]
async fn a_hanging_agent_times_out_and_its_whole_group_dies() {
    let fx = Fixture::new();
    let pidfile = fx.file("pids");
    let _reap = Reap(pidfile.clone());
    // The grandchild ignores SIGTERM, so only the SIGKILL after the grace
    // period ends it.
    fx.agent(
        "Hang",
        "(trap '' TERM; echo $(sh -c 'echo $PPID') >> \"$OCF_RESKEY_dir/pids\"; exec sleep 1000) &\necho $$ >> \"$OCF_RESKEY_dir/pids\"\nsleep 1000",
        0o755,
    );
    let started = Instant::now();
    let result = fx.run("Hang", 300).await;
    assert_eq!(result.status, OpStatus::Timeout, "{result:?}");
    assert_eq!(result.rc, rc::ERR_GENERIC);
    assert!(
        result.exit_reason.contains("300 ms"),
        "{}",
        result.exit_reason
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let pids = wait_for_pids(&pidfile, 2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    for pid in pids {
        assert!(!alive(pid), "process {pid} of the timed-out agent survived");
    }
}

#[tokio::test]
async fn dropping_a_running_action_kills_its_group() {
    let fx = Fixture::new();
    let pidfile = fx.file("pids");
    let _reap = Reap(pidfile.clone());
    fx.agent(
        "Slow",
        "sleep 1000 &\necho $! $$ >> \"$OCF_RESKEY_dir/pids\"\nwait",
        0o755,
    );
    let cancelled = tokio::time::timeout(Duration::from_millis(500), fx.run("Slow", 60_000)).await;
    assert!(
        cancelled.is_err(),
        "the agent should still have been running"
    );
    let pids = wait_for_pids(&pidfile, 2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    for pid in pids {
        assert!(!alive(pid), "process {pid} survived the cancelled action");
    }
}

#[tokio::test]
async fn a_daemon_holding_stdout_does_not_delay_the_result() {
    let fx = Fixture::new();
    let pidfile = fx.file("pids");
    let _reap = Reap(pidfile.clone());
    fx.agent(
        "Daemon",
        "sleep 30 &\necho $! >> \"$OCF_RESKEY_dir/pids\"\nseq 1 2000\necho started\nexit 0",
        0o755,
    );
    let started = Instant::now();
    let result = fx.run("Daemon", 10_000).await;
    assert_eq!(
        (result.status, result.rc),
        (OpStatus::Done, rc::SUCCESS),
        "{result:?}"
    );
    // Everything it wrote before it exited is kept.
    assert!(
        result.stdout.ends_with("1999\n2000\nstarted\n"),
        "{}",
        result.stdout
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    let pids = wait_for_pids(&pidfile, 1).await;
    assert!(alive(pids[0]), "a successful start keeps what it started");
}

#[tokio::test]
async fn a_flood_of_output_is_kept_bounded() {
    let fx = Fixture::new();
    fx.agent(
        "Flood",
        "head -c 20000000 /dev/zero | tr '\\0' x\nhead -c 3000000 /dev/zero | tr '\\0' y >&2\necho >&2\necho ocf-exit-reason:flooded >&2\nexit 1",
        0o755,
    );
    let result = fx.run("Flood", 30_000).await;
    assert_eq!(
        (result.status, result.rc),
        (OpStatus::Done, rc::ERR_GENERIC),
        "{}",
        result.exit_reason
    );
    assert_eq!(result.exit_reason, "flooded");
    assert!(result.truncated);
    assert!(result.stdout.len() <= baton_agents::capture::TAIL_BYTES_MAX);
    assert!(result.stderr.len() <= baton_agents::capture::TAIL_BYTES_MAX);
    assert!(result.stdout.ends_with("xxx"));
}

#[tokio::test]
async fn death_by_signal_is_an_error() {
    let fx = Fixture::new();
    fx.agent("Crash", "kill -SEGV $$", 0o755);
    let result = fx.run("Crash", 10_000).await;
    assert_eq!(
        (result.status, result.rc),
        (OpStatus::Error, rc::ERR_GENERIC)
    );
    assert!(
        result.exit_reason.contains("SIGSEGV"),
        "{}",
        result.exit_reason
    );
}

#[tokio::test]
async fn missing_and_unexecutable_agents_say_so() {
    let fx = Fixture::new();
    let missing = fx.run("Nope", 10_000).await;
    assert_eq!(
        (missing.status, missing.rc),
        (OpStatus::NotInstalled, rc::ERR_INSTALLED)
    );
    assert!(
        missing.exit_reason.contains("does not exist"),
        "{}",
        missing.exit_reason
    );

    fx.agent("NoExec", "exit 0", 0o644);
    let noexec = fx.run("NoExec", 10_000).await;
    assert_eq!((noexec.status, noexec.rc), (OpStatus::Error, rc::ERR_PERM));
    assert!(
        noexec.exit_reason.contains("not executable"),
        "{}",
        noexec.exit_reason
    );

    let path = fx.roots.ocf_agent("test", "NoShell");
    std::fs::write(&path, "#!/nonexistent/shell\n").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let noshell = fx.run("NoShell", 10_000).await;
    assert_eq!(noshell.status, OpStatus::NotInstalled, "{noshell:?}");
    assert!(
        noshell.exit_reason.contains("interpreter"),
        "{}",
        noshell.exit_reason
    );
}

#[tokio::test]
async fn codes_outside_ocf_are_errors_and_reasons_are_read() {
    let fx = Fixture::new();
    fx.agent("Odd", "exit 42", 0o755);
    let odd = fx.run("Odd", 10_000).await;
    assert_eq!((odd.status, odd.rc), (OpStatus::Error, rc::ERR_GENERIC));
    assert!(odd.exit_reason.contains("42"), "{}", odd.exit_reason);

    fx.agent(
        "Degraded",
        "echo 'ocf-exit-reason:half the disks' >&2\nexit 190",
        0o755,
    );
    let degraded = fx.run("Degraded", 10_000).await;
    assert_eq!(
        (degraded.status, degraded.rc),
        (OpStatus::Done, rc::DEGRADED)
    );
    assert_eq!(degraded.exit_reason, "half the disks");
}

#[tokio::test]
async fn the_environment_holds_nothing_of_ours() {
    let fx = Fixture::new();
    fx.agent("Env", "env", 0o755);
    let result = fx.run("Env", 10_000).await;
    assert_eq!(result.status, OpStatus::Done);
    let names: Vec<&str> = result
        .stdout
        .lines()
        .filter_map(|l| l.split('=').next())
        .collect();
    // The shell itself adds PWD (and dash nothing else).
    let foreign: Vec<_> = names
        .iter()
        .filter(|n| !n.starts_with("OCF_") && !["PATH", "PWD", "SHLVL", "_"].contains(n))
        .collect();
    assert!(foreign.is_empty(), "leaked into the agent: {foreign:?}");
    assert!(result.stdout.contains("OCF_RESKEY_CRM_meta_timeout=10000"));
    assert!(result.stdout.contains("OCF_RESOURCE_INSTANCE=r1"));
}
