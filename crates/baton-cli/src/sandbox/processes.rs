//! The sandbox's daemons as processes: where their binaries are, starting
//! one in its own process group with its log and PID file, and ending the
//! ones the sandbox started (by the PIDs it recorded, checked against what
//! runs under that PID now).

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::layout::{Layout, node_name};

/// In start order: ringd first (the others ask it who they are).
pub const DAEMONS: [&str; 4] = ["baton-ringd", "baton-lrmd", "baton-fenced", "baton-crmd"];

/// The directory of the daemons' binaries: next to this `baton`. Run from
/// `cargo run` in a fresh clone they may not be built yet: then they are
/// built with the same profile first.
pub fn binaries() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot tell where this baton binary is")?;
    let dir = exe
        .parent()
        .context("this baton binary has no directory")?
        .to_path_buf();
    let missing: Vec<&str> = DAEMONS
        .iter()
        .copied()
        .filter(|d| !dir.join(d).is_file())
        .collect();
    if missing.is_empty() {
        return Ok(dir);
    }
    let (Some(cargo), Some(manifest)) = (
        std::env::var_os("CARGO"),
        std::env::var_os("CARGO_MANIFEST_DIR"),
    ) else {
        bail!(
            "{} not found next to {} (install the baton package, or build them with `cargo build --release`)",
            missing.join(", "),
            exe.display()
        );
    };
    eprintln!("Building {} (first run only)…", missing.join(", "));
    let mut build = Command::new(cargo);
    build
        .arg("build")
        .arg("--manifest-path")
        .arg(Path::new(&manifest).join("Cargo.toml"));
    if dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    for daemon in &missing {
        build.args(["-p", daemon]);
    }
    let status = build.status().context("cannot run cargo build")?;
    if !status.success() {
        bail!(
            "building {} failed (see cargo's output above)",
            missing.join(", ")
        );
    }
    Ok(dir)
}

/// Starts `daemon` for `node`; returns its PID once recorded.
pub fn start(layout: &Layout, bin: &Path, node: u32, daemon: &str) -> anyhow::Result<u32> {
    let sockets = layout.sockets(node);
    let state = layout.state(node);
    for dir in [&sockets, &state, &layout.logs(node), &layout.pids(node)] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut command = Command::new(bin.join(daemon));
    command.arg("--socket-dir").arg(&sockets);
    match daemon {
        "baton-ringd" => {
            command
                .arg("--config")
                .arg(layout.config())
                .arg("--node")
                .arg(node_name(node))
                .arg("--state-dir")
                .arg(&state);
        }
        "baton-crmd" => {
            command
                .arg("--config")
                .arg(layout.config())
                .arg("--state-dir")
                .arg(&state);
        }
        "baton-lrmd" => {
            command
                .arg("--state-dir")
                .arg(&state)
                .arg("--ocf-root")
                .arg(layout.ocf_root(node));
        }
        _ => {
            command
                .arg("--state-dir")
                .arg(&state)
                .arg("--agent-dir")
                .arg(layout.fence_agents());
        }
    }
    let log_path = layout.logs(node).join(format!("{daemon}.log"));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let child = command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: a terminal's ^C, or a fence agent's
        // process group ending, does not take it along.
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.join(daemon).display()))?;
    let pid = child.id();
    let pid_file = layout.pids(node).join(format!("{daemon}.pid"));
    crate::sandbox::write_file(&pid_file, format!("{pid}\n").as_bytes())?;
    if daemon == "baton-ringd" {
        wait_for(&sockets.join("ringd.sock"), pid, &log_path)?;
    }
    Ok(pid)
}

/// Waits for a daemon's socket, or says why it exited.
fn wait_for(socket: &Path, pid: u32, log: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        if !alive(pid) || Instant::now() > deadline {
            let said = std::fs::read_to_string(log).unwrap_or_default();
            let last = said.lines().last().unwrap_or("(nothing)");
            bail!(
                "{} did not come up; its log ({}) ends: {last}",
                socket.display(),
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// `node`'s daemons that run now, as (daemon, PID).
pub fn running(layout: &Layout, node: u32) -> Vec<(String, u32)> {
    DAEMONS
        .iter()
        .filter_map(|daemon| {
            let pid = recorded(layout, node, daemon)?;
            ours(layout, node, pid).then(|| ((*daemon).to_owned(), pid))
        })
        .collect()
}

fn recorded(layout: &Layout, node: u32, daemon: &str) -> Option<u32> {
    pid_in(&layout.pids(node).join(format!("{daemon}.pid")))
}

/// Whether `pid` is still the sandbox's daemon of `node` (a PID can be
/// reused by anything once its process ended).
fn ours(layout: &Layout, node: u32, pid: u32) -> bool {
    names(pid, &layout.sockets(node)) && alive(pid)
}

fn pid_in(pid_file: &Path) -> Option<u32> {
    std::fs::read_to_string(pid_file).ok()?.trim().parse().ok()
}

/// Whether process `pid`'s command line has `arg` as one of its words.
fn names(pid: u32, arg: &Path) -> bool {
    let wanted = arg.as_os_str().as_encoded_bytes();
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| cmdline.split(|b| *b == 0).any(|word| word == wanted))
}

/// Kills the process `pid_file` names if its command line still names
/// `arg` (and it is not this one), and removes the file.
pub fn end_recorded(pid_file: &Path, arg: &Path) {
    if let Some(pid) = pid_in(pid_file)
        && pid != std::process::id()
        && names(pid, arg)
    {
        let _ = signal(pid, "KILL");
    }
    let _ = std::fs::remove_file(pid_file);
}

fn alive(pid: u32) -> bool {
    // A zombie has ended; only its parent has not collected it yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

/// Ends a boot of `node` that a fence agent's reboot scheduled, if one is
/// pending (its PID file names it; its command line names the sandbox).
pub fn cancel_boot(layout: &Layout, node: u32) {
    end_recorded(&layout.pids(node).join("boot.pid"), &layout.root);
}

/// Kills `node`'s daemons at once (SIGKILL, ringd first so that nothing it
/// could still say reaches the others), as when a machine dies. Returns
/// how many were running.
pub fn kill(layout: &Layout, node: u32) -> anyhow::Result<usize> {
    let daemons = running(layout, node);
    for (_, pid) in &daemons {
        signal(*pid, "KILL")?;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while daemons.iter().any(|(_, pid)| alive(*pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    for daemon in DAEMONS {
        let _ = std::fs::remove_file(layout.pids(node).join(format!("{daemon}.pid")));
    }
    Ok(daemons.len())
}

/// Stops `node`'s daemons cleanly (SIGTERM, crmd first so that it hands
/// its resources over), waiting up to `within`; what is left is killed.
pub fn stop(layout: &Layout, node: u32, within: Duration) -> anyhow::Result<()> {
    let mut daemons = running(layout, node);
    daemons.reverse();
    let deadline = Instant::now() + within;
    for (_, pid) in &daemons {
        signal(*pid, "TERM")?;
        while alive(*pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    kill(layout, node).map(|_| ())
}

fn signal(pid: u32, name: &str) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .context("cannot run kill")?;
    // It may have ended on its own meanwhile: nothing left to do then.
    if !status.success() && alive(pid) {
        bail!("cannot send SIG{name} to {pid}");
    }
    Ok(())
}
