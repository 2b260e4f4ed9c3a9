//! A cluster of whole nodes in network namespaces: each node runs
//! baton-ringd, baton-lrmd and baton-crmd with its own sockets and state,
//! and the `baton` CLI talks to any node through its socket directory.
// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::cluster::{self, ConfigOptions};
use crate::netns::Net;

/// A fence agent for the tests (stdin protocol): `off` and `reboot` of
/// node N record it in `$dir/N.fenced`, kill N's daemons and take N's link
/// down; `monitor` and `status` succeed.
const FENCE_NETNS: &str = r#"#!/bin/sh
while IFS='=' read -r key value; do
    case "$key" in
        action) action="$value" ;;
        nodename) node="$value" ;;
        dir) dir="$value" ;;
    esac
done
case "$action" in
    metadata|meta-data)
        echo '<?xml version="1.0"?><resource-agent name="fence_netns" shortdesc="powers off a test node"><parameters><parameter name="dir"><content type="string"/><shortdesc lang="en">where the nodes are described</shortdesc></parameter></parameters><actions><action name="off"/><action name="reboot"/><action name="monitor"/><action name="status"/><action name="metadata"/></actions></resource-agent>'
        ;;
    monitor|status) ;;
    off|reboot)
        [ -f "$dir/$node" ] || { echo "no such node: $node" >&2; exit 1; }
        . "$dir/$node"
        echo "$action" >> "$dir/$node.fenced"
        kill -9 $pids 2>/dev/null
        ip -n "$ns" link set "$dev" down
        ;;
    *) echo "unsupported action $action" >&2; exit 1 ;;
esac
"#;

/// How long a test waits for the cluster to reach a state it expects.
pub const SETTLE: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Daemon {
    Ringd,
    Lrmd,
    Fenced,
    Crmd,
}

impl Daemon {
    fn binary(self) -> &'static str {
        match self {
            Daemon::Ringd => "baton-ringd",
            Daemon::Lrmd => "baton-lrmd",
            Daemon::Fenced => "baton-fenced",
            Daemon::Crmd => "baton-crmd",
        }
    }
}

pub struct Stack {
    pub net: Net,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    bin: PathBuf,
    pids: BTreeMap<(usize, Daemon), u32>,
    /// Log files by node and daemon, numbered by restart.
    starts: BTreeMap<(usize, Daemon), u32>,
}

/// The target dir's binaries, built by `cargo build` (the workspace test
/// run builds them); a missing one fails under CI=true.
fn binaries() -> Option<PathBuf> {
    let ringd = cluster::prerequisites()?;
    let dir = ringd.parent()?.to_path_buf();
    for name in ["baton-lrmd", "baton-fenced", "baton-crmd", "baton"] {
        let path = dir.join(name);
        let found = path.is_file();
        if !baton_tests::prerequisite(found, || {
            format!(
                "{} is missing; run cargo build --workspace first",
                path.display()
            )
        }) {
            return None;
        }
    }
    Some(dir)
}

impl Stack {
    /// `nodes` nodes with every daemon running; `None` (a loud skip, or a
    /// failure under CI=true) without root, `ip` or the binaries.
    pub fn start(nodes: usize) -> Option<Stack> {
        let mut stack = Stack::new(nodes)?;
        for node in 1..=nodes {
            stack.start_node(node);
        }
        Some(stack)
    }

    /// `nodes` nodes with every daemon running, from the corosync.conf
    /// `write` makes for the network (given the directory that holds the
    /// authkey, `authkey`).
    pub fn start_with_config(
        nodes: usize,
        write: impl FnOnce(&Net, &Path) -> PathBuf,
    ) -> Option<Stack> {
        let mut stack = Stack::new(nodes)?;
        stack.config = write(&stack.net, stack.dir.path());
        for node in 1..=nodes {
            stack.start_node(node);
        }
        Some(stack)
    }

    /// `nodes` nodes with their network and configuration, nothing running.
    pub fn new(nodes: usize) -> Option<Stack> {
        let bin = binaries()?;
        let (net, dir, config) = cluster::setup(nodes, &ConfigOptions::default());
        Some(Stack {
            net,
            dir,
            config,
            bin,
            pids: BTreeMap::new(),
            starts: BTreeMap::new(),
        })
    }

    /// Where fenced looks for fence agents: the tests' own.
    pub fn agent_dir(&self) -> PathBuf {
        self.dir.path().join("fence-agents")
    }

    /// Installs `fence_netns`, a fence agent that powers a node of this
    /// stack off (kills its daemons, takes its link down), and tells it the
    /// node's daemons as they run now. It records each fencing in
    /// `<fence_dir>/<node>.fenced` before it acts. Returns `fence_dir`, the
    /// device's `dir` parameter.
    pub fn install_fence_agent(&self) -> PathBuf {
        let agents = self.agent_dir();
        std::fs::create_dir_all(&agents).expect("agent dir");
        let agent = agents.join("fence_netns");
        std::fs::write(&agent, FENCE_NETNS).expect("write fence_netns");
        std::fs::set_permissions(&agent, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod fence_netns");
        let dir = self.dir.path().join("fenced-nodes");
        std::fs::create_dir_all(&dir).expect("fence dir");
        for node in 1..=self.nodes() {
            let pids: Vec<String> = [Daemon::Ringd, Daemon::Lrmd, Daemon::Fenced, Daemon::Crmd]
                .iter()
                .filter_map(|d| self.pids.get(&(node, *d)))
                .map(ToString::to_string)
                .collect();
            let facts = format!(
                "pids='{}'\nns='{}'\ndev='{}'\n",
                pids.join(" "),
                self.net.namespace(node),
                Net::device(0)
            );
            std::fs::write(dir.join(format!("n{node}")), facts).expect("write fence facts");
        }
        dir
    }

    /// Where the daemons' binaries are.
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    pub fn nodes(&self) -> usize {
        self.net.node_count()
    }

    pub fn socket_dir(&self, node: usize) -> PathBuf {
        self.dir.path().join(format!("sock{node}"))
    }

    pub fn state_dir(&self, node: usize) -> PathBuf {
        self.dir.path().join(format!("state{node}"))
    }

    /// What node `node`'s lrmd sees as /etc/init.d.
    fn init_d(&self, node: usize) -> PathBuf {
        self.dir.path().join(format!("init.d{node}"))
    }

    /// Installs `/etc/init.d/NAME` on every node, as `script(node)` says.
    pub fn install_lsb_script(&self, name: &str, script: impl Fn(usize) -> String) {
        for node in 1..=self.nodes() {
            let init_d = self.init_d(node);
            std::fs::create_dir_all(&init_d).expect("init.d dir");
            let path = init_d.join(name);
            std::fs::write(&path, script(node)).expect("write LSB script");
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .expect("chmod LSB script");
        }
    }

    pub fn start_node(&mut self, node: usize) {
        for daemon in [Daemon::Ringd, Daemon::Lrmd, Daemon::Fenced, Daemon::Crmd] {
            self.start_daemon(node, daemon);
        }
    }

    pub fn start_daemon(&mut self, node: usize, daemon: Daemon) {
        let count = self.starts.entry((node, daemon)).or_insert(0);
        *count += 1;
        let log = self
            .dir
            .path()
            .join(format!("{}{node}.{count}.log", daemon.binary()));
        let sock = self.socket_dir(node);
        let state = self.state_dir(node);
        let name = format!("n{node}");
        let config = self.config.to_str().expect("utf-8 path").to_owned();
        let sock = sock.to_str().expect("utf-8 path").to_owned();
        let state = state.to_str().expect("utf-8 path").to_owned();
        let agents = self.agent_dir().to_str().expect("utf-8 path").to_owned();
        let mut args = vec!["--socket-dir", &sock];
        match daemon {
            Daemon::Ringd => {
                args.extend(["--state-dir", &state, "--config", &config, "--node", &name])
            }
            Daemon::Crmd => args.extend(["--state-dir", &state, "--config", &config]),
            Daemon::Lrmd => args.extend(["--state-dir", &state]),
            Daemon::Fenced => args.extend(["--state-dir", &state, "--agent-dir", &agents]),
        }
        let program = self.bin.join(daemon.binary());
        let pid = if daemon == Daemon::Lrmd {
            // Agents keep state under /run (Dummy and Stateful in /run,
            // IPaddr2 in /run/resource-agents): each node gets its own, as
            // a machine would, in the mount namespace `ip netns exec` made
            // for it; its LSB scripts are the test's (see
            // `install_lsb_script`).
            let init_d = self.init_d(node);
            std::fs::create_dir_all(&init_d).expect("init.d dir");
            let script = format!(
                "mount -t tmpfs baton-test /run && \
                 mkdir -p /run/resource-agents /run/lock && \
                 mount --bind {} /etc/init.d && exec \"$0\" \"$@\"",
                init_d.display()
            );
            let mut wrapped = vec!["-c", &script, path(&program)];
            wrapped.extend(&args);
            self.net.spawn(node, Path::new("/bin/sh"), &wrapped, log)
        } else {
            self.net.spawn(node, &program, &args, log)
        };
        self.pids.insert((node, daemon), pid);
        if daemon == Daemon::Ringd {
            // crmd asks ringd who it is at start: let the socket appear.
            self.wait_for_socket(node, "ringd.sock");
        }
    }

    fn wait_for_socket(&self, node: usize, name: &str) {
        let path = self.socket_dir(node).join(name);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !path.exists() {
            assert!(
                Instant::now() < deadline,
                "{} never appeared",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self, node: usize, daemon: Daemon) -> u32 {
        self.pids[&(node, daemon)]
    }

    pub fn kill9(&mut self, node: usize, daemon: Daemon) {
        if let Some(pid) = self.pids.remove(&(node, daemon)) {
            self.net.kill9(pid);
        }
    }

    /// Every daemon of `node` dies at once, as when the machine crashes:
    /// ringd first, so that nothing it could still say reaches the others.
    pub fn crash(&mut self, node: usize) {
        for daemon in [Daemon::Ringd, Daemon::Crmd, Daemon::Lrmd, Daemon::Fenced] {
            self.kill9(node, daemon);
        }
    }

    /// Sends SIGTERM to one of `node`'s daemons and waits until it exited.
    pub fn terminate(&mut self, node: usize, daemon: Daemon, within: Duration) {
        let pid = self.pids[&(node, daemon)];
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + within;
        while self.net.alive(pid) {
            assert!(
                Instant::now() < deadline,
                "{} on node {node} did not exit within {within:?} of SIGTERM\n{}",
                daemon.binary(),
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.pids.remove(&(node, daemon));
    }

    /// Node `node` loses power: every daemon dies and its network goes
    /// down, so nothing it held (an address) answers any more.
    pub fn power_off(&mut self, node: usize) {
        self.crash(node);
        let device = crate::netns::Net::device(0);
        self.net
            .run_in(node, &["ip", "link", "set", &device, "down"]);
    }

    /// Node `node` boots again after [`Stack::power_off`]: what it held
    /// died with it (only its own address comes back), then its daemons
    /// start.
    pub fn power_on(&mut self, node: usize) {
        let device = crate::netns::Net::device(0);
        let own = format!("{}/24", self.net.addr_on(node, 0));
        self.net
            .run_in(node, &["ip", "addr", "flush", "dev", &device]);
        self.net
            .run_in(node, &["ip", "addr", "add", &own, "dev", &device]);
        self.net.run_in(node, &["ip", "link", "set", &device, "up"]);
        self.start_node(node);
    }

    /// The nodes `baton status` on `node` shows `resource` running on.
    pub fn running_on(&self, node: usize, resource: &str) -> Option<Vec<String>> {
        let status = self.status(node)?;
        let found = find_resource(&status["resources"], resource)?;
        let nodes = found["nodes"].as_array()?;
        Some(
            nodes
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect(),
        )
    }

    /// Waits until `node` shows `resource` running on exactly one node;
    /// that node's name.
    pub fn wait_until_running(&self, node: usize, resource: &str) -> String {
        let status = self.wait_for(node, &format!("{resource} running on one node"), |s| {
            find_resource(&s["resources"], resource)
                .and_then(|r| r["nodes"].as_array().map(Vec::len))
                == Some(1)
        });
        let found = find_resource(&status["resources"], resource).expect("found above");
        found["nodes"][0].as_str().expect("a node name").to_owned()
    }

    /// `baton --socket-dir <node's> ARGS…`.
    pub fn baton(&self, node: usize, args: &[&str]) -> Output {
        std::process::Command::new(self.bin.join("baton"))
            .arg("--socket-dir")
            .arg(self.socket_dir(node))
            .args(args)
            .output()
            .expect("run baton")
    }

    /// `baton status --output json` on `node`; `None` while its crmd does
    /// not answer.
    pub fn status(&self, node: usize) -> Option<serde_json::Value> {
        let out = self.baton(node, &["--output", "json", "status"]);
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    /// Polls `node`'s status until `wanted` holds; the last status seen.
    pub fn wait_for(
        &self,
        node: usize,
        what: &str,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + SETTLE;
        loop {
            let status = self.status(node);
            if let Some(status) = &status
                && wanted(status)
            {
                return status.clone();
            }
            assert!(
                Instant::now() < deadline,
                "node {node} never reached: {what}; last status {status:?}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until every node in `nodes` sees `dc` as DC and exactly
    /// `online` online.
    pub fn wait_for_dc(&self, nodes: &[usize], dc: &str, online: &[&str]) {
        for &node in nodes {
            self.wait_for(node, &format!("DC {dc}, online {online:?}"), |s| {
                s["dc"] == dc && online_names(s) == online
            });
        }
    }

    /// Waits until every node in `nodes` sees the same DC and exactly
    /// `online` online; that DC.
    pub fn wait_for_agreed_dc(&self, nodes: &[usize], online: &[&str]) -> String {
        let deadline = Instant::now() + SETTLE;
        loop {
            let seen: Vec<Option<serde_json::Value>> =
                nodes.iter().map(|&n| self.status(n)).collect();
            let dcs: Vec<Option<String>> = seen
                .iter()
                .map(|s| {
                    s.as_ref()
                        .filter(|s| online_names(s) == online)
                        .and_then(|s| s["dc"].as_str().map(str::to_owned))
                })
                .collect();
            if let Some(Some(first)) = dcs.first()
                && dcs.iter().all(|d| d.as_ref() == Some(first))
            {
                return first.clone();
            }
            assert!(
                Instant::now() < deadline,
                "nodes {nodes:?} never agreed on a DC with {online:?} online: {seen:?}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The CIB `node` holds, as XML.
    pub fn cib(&self, node: usize) -> String {
        let out = self.baton(node, &["cib", "query"]);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every log of the test, for a failure message.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for log in &self.net.logs {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            out.push_str(&format!("==== {} ====\n{text}\n", log.display()));
        }
        out
    }

    pub fn crmd_socket(&self, node: usize) -> PathBuf {
        self.socket_dir(node).join("crmd.sock")
    }
}

/// The resource `id` in a status's resource tree.
pub fn find_resource<'a>(
    resources: &'a serde_json::Value,
    id: &str,
) -> Option<&'a serde_json::Value> {
    resources.as_array()?.iter().find_map(|r| {
        if r["id"] == id {
            Some(r)
        } else {
            find_resource(&r["children"], id)
        }
    })
}

/// The names of the nodes a status shows online (standby counts).
pub fn online_names(status: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = status["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .filter(|n| n["state"] == "online" || n["state"] == "standby")
                .filter_map(|n| n["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `out` succeeded, or the test fails with its stderr and the logs.
pub fn ok(stack: &Stack, out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}\n{}",
        out.status.code(),
        stderr(out),
        stack.logs()
    );
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
