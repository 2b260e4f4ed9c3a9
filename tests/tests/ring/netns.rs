//! A throwaway cluster network: one bridge namespace and one namespace per
//! node, joined by veth pairs. Names and subnets carry the test's pid and a
//! per-process counter so parallel tests and runs never collide; Drop kills
//! what it started (by PID) and deletes every namespace, even on panic.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT_NET: AtomicU32 = AtomicU32::new(0);

/// Link 0 keeps the plain names (v1, w1); link 1 adds "b", and so on.
fn link_suffix(link: usize) -> String {
    match link {
        0 => String::new(),
        l => char::from(b'a' + l as u8).to_string(),
    }
}

fn run(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ip {args:?}: {e}"));
    assert!(
        out.status.success(),
        "ip {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub struct Net {
    tag: String,
    /// The /24 of each link, as "10.a.b".
    subnets: Vec<String>,
    nodes: usize,
    namespaces: Vec<String>,
    children: Vec<(String, Child)>,
    pub logs: Vec<PathBuf>,
}

impl Net {
    pub fn new(nodes: usize) -> Net {
        Net::with_links(nodes, 1)
    }

    /// `links` separate networks (knet links), each its own bridge and
    /// subnet; node i's device on link l is [`Net::device`]`(l)`.
    pub fn with_links(nodes: usize, links: usize) -> Net {
        let pid = std::process::id();
        let k = NEXT_NET.fetch_add(1, Ordering::Relaxed);
        let tag = format!("bt{pid}x{k}");
        // 10.(200+k).(pid mod 250).0/24 for link 0, 10.(150+k)… for link 1:
        // they exist only inside these namespaces.
        let subnets = (0..links)
            .map(|l| format!("10.{}.{}", 200 - 50 * l as u32 + (k % 50), pid % 250))
            .collect();
        let mut net = Net {
            tag,
            subnets,
            nodes,
            namespaces: Vec::new(),
            children: Vec::new(),
            logs: Vec::new(),
        };
        let bridge = net.add_ns("br");
        let node_namespaces: Vec<String> =
            (1..=nodes).map(|i| net.add_ns(&format!("n{i}"))).collect();
        for link in 0..links {
            let br = format!("br{link}");
            // No IGMP querier lives here: flood multicast instead of
            // snooping, as a plain switch would.
            run(&[
                "-n",
                &bridge,
                "link",
                "add",
                &br,
                "type",
                "bridge",
                "mcast_snooping",
                "0",
            ]);
            run(&["-n", &bridge, "link", "set", &br, "up"]);
            for (i, ns) in (1..=nodes).zip(&node_namespaces) {
                let inner = Net::device(link);
                let outer = format!("w{i}{}", link_suffix(link));
                run(&[
                    "link", "add", &inner, "netns", ns, "type", "veth", "peer", "name", &outer,
                    "netns", &bridge,
                ]);
                run(&[
                    "-n",
                    ns,
                    "addr",
                    "add",
                    &format!("{}/24", net.addr_on(i, link)),
                    "dev",
                    &inner,
                ]);
                run(&["-n", ns, "link", "set", &inner, "up"]);
                run(&["-n", ns, "link", "set", "lo", "up"]);
                run(&["-n", &bridge, "link", "set", &outer, "master", &br]);
                run(&["-n", &bridge, "link", "set", &outer, "up"]);
            }
        }
        net
    }

    /// A node's network device on `link`, inside its namespace: `eth0`,
    /// `eth1`…, as on the machines the tutorials were written for (agents
    /// such as `ocf:heartbeat:IPaddr` default to `eth0`).
    pub fn device(link: usize) -> String {
        format!("eth{link}")
    }

    pub fn link_count(&self) -> usize {
        self.subnets.len()
    }

    /// Node `node`'s address on `link`.
    pub fn addr_on(&self, node: usize, link: usize) -> String {
        format!("{}.{node}", self.subnets[link])
    }

    fn add_ns(&mut self, suffix: &str) -> String {
        let name = format!("{}{suffix}", self.tag);
        run(&["netns", "add", &name]);
        self.namespaces.push(name.clone());
        name
    }

    /// The /24 of `link`, e.g. "10.201.17" (append ".0" for the network).
    pub fn subnet(&self, link: usize) -> &str {
        &self.subnets[link]
    }

    /// Node `node`'s address on link 0.
    pub fn addr(&self, node: usize) -> String {
        self.addr_on(node, 0)
    }

    pub fn node_count(&self) -> usize {
        self.nodes
    }

    /// Starts `program args` inside node `node`'s namespace; returns its PID.
    pub fn spawn(&mut self, node: usize, program: &Path, args: &[&str], log: PathBuf) -> u32 {
        let ns = format!("{}n{node}", self.tag);
        let out = File::create(&log).expect("create log");
        let err = out.try_clone().expect("clone log");
        // `ip netns exec` execs the program in place, so the PID is its own.
        let child = Command::new("ip")
            .args(["netns", "exec", &ns])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn in namespace");
        let pid = child.id();
        self.logs.push(log);
        self.children.push((ns, child));
        pid
    }

    /// Runs a short command inside node `node`'s namespace to completion.
    pub fn run_in(&self, node: usize, command: &[&str]) {
        let ns = format!("{}n{node}", self.tag);
        let status = Command::new("ip")
            .args(["netns", "exec", &ns])
            .args(command)
            .status()
            .expect("run in namespace");
        assert!(status.success(), "{command:?} failed in {ns}");
    }

    /// Node `node`'s namespace.
    pub fn namespace(&self, node: usize) -> String {
        format!("{}n{node}", self.tag)
    }

    /// Gives the bridge namespace an address on link 0 (`.254`), so that
    /// it can reach the nodes' addresses as a client would.
    pub fn address_bridge(&self) {
        let bridge = format!("{}br", self.tag);
        let addr = format!("{}.254/24", self.subnets[0]);
        run(&["-n", &bridge, "addr", "add", &addr, "dev", "br0"]);
    }

    /// Cuts node `node` off the others on link 0 at the switch: its own
    /// link stays up (its addresses stay usable), nothing reaches the rest.
    pub fn cut(&self, node: usize) {
        let bridge = format!("{}br", self.tag);
        run(&[
            "-n",
            &bridge,
            "link",
            "set",
            &format!("w{node}"),
            "nomaster",
        ]);
    }

    /// Plugs a node cut off by [`Net::cut`] back into the switch.
    pub fn reconnect(&self, node: usize) {
        let bridge = format!("{}br", self.tag);
        run(&[
            "-n",
            &bridge,
            "link",
            "set",
            &format!("w{node}"),
            "master",
            "br0",
        ]);
    }

    /// Whether `command` succeeds in the bridge namespace.
    pub fn succeeds_in_bridge(&self, command: &[&str]) -> bool {
        Command::new("ip")
            .args(["netns", "exec", &format!("{}br", self.tag)])
            .args(command)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Whether node `node`'s interfaces hold `addr`.
    pub fn holds_address(&self, node: usize, addr: &str) -> bool {
        namespace_holds_address(&self.namespace(node), addr)
    }

    /// Starts a command in the bridge namespace, where it can see the
    /// frames of every node's port; the caller waits for it.
    pub fn spawn_in_bridge(&self, command: &[&str]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &format!("{}br", self.tag)])
            .args(command)
            .spawn()
            .expect("spawn in the bridge namespace")
    }

    /// SIGKILL one child we started, by its PID, and reap it.
    pub fn kill9(&mut self, pid: u32) {
        if let Some(i) = self.children.iter().position(|(_, c)| c.id() == pid) {
            let (_, mut child) = self.children.remove(i);
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops one child we started (SIGSTOP, by its PID) for `pause`, then
    /// lets it continue: a process that was not scheduled.
    pub fn pause(&self, pid: u32, pause: std::time::Duration) {
        assert!(
            self.children.iter().any(|(_, c)| c.id() == pid),
            "pid {pid} is not ours"
        );
        let signal = |name: &str| {
            let status = Command::new("kill")
                .args([name, &pid.to_string()])
                .status()
                .expect("run kill");
            assert!(status.success(), "kill {name} {pid} failed");
        };
        signal("-STOP");
        std::thread::sleep(pause);
        signal("-CONT");
    }

    /// Whether the child with this PID is still running.
    pub fn alive(&mut self, pid: u32) -> bool {
        self.children
            .iter_mut()
            .find(|(_, c)| c.id() == pid)
            .is_some_and(|(_, c)| c.try_wait().is_ok_and(|s| s.is_none()))
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            for log in &self.logs {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                eprintln!("==== {} ====\n{text}", log.display());
            }
        }
        for ns in self.namespaces.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// Whether the interfaces of namespace `ns` hold `addr` (for threads that
/// watch namespaces without the [`Net`]).
pub fn namespace_holds_address(ns: &str, addr: &str) -> bool {
    let out = Command::new("ip")
        .args(["-n", ns, "-o", "addr", "show"])
        .output()
        .expect("ip addr show");
    String::from_utf8_lossy(&out.stdout).contains(&format!(" {addr}/"))
}
