//! Where a sandbox keeps everything: one directory, a subdirectory per node
//! (`node1/run` sockets, `node1/state`, `node1/log`, `node1/pids`,
//! `node1/ocf` agents), the shared configuration, key and fence agents.

use std::path::{Path, PathBuf};

/// The most nodes a sandbox runs (127.0.0.1 .. 127.0.0.16).
pub const MAX_NODES: u32 = 16;

#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    /// `--sandbox-dir` / `BATON_SANDBOX_DIR`, else `$XDG_RUNTIME_DIR/baton-sandbox`,
    /// else `/tmp/baton-sandbox-$UID`.
    pub fn resolve(given: Option<&Path>) -> Layout {
        let root = match given {
            Some(dir) => dir.to_path_buf(),
            None => match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
                Some(runtime) => Path::new(&runtime).join("baton-sandbox"),
                None => PathBuf::from(format!("/tmp/baton-sandbox-{}", uid())),
            },
        };
        Layout { root }
    }

    pub fn config(&self) -> PathBuf {
        self.root.join("corosync.conf")
    }

    pub fn authkey(&self) -> PathBuf {
        self.root.join("authkey")
    }

    pub fn fence_agents(&self) -> PathBuf {
        self.root.join("fence-agents")
    }

    pub fn node(&self, node: u32) -> PathBuf {
        self.root.join(node_name(node))
    }

    pub fn sockets(&self, node: u32) -> PathBuf {
        self.node(node).join("run")
    }

    pub fn state(&self, node: u32) -> PathBuf {
        self.node(node).join("state")
    }

    pub fn logs(&self, node: u32) -> PathBuf {
        self.node(node).join("log")
    }

    pub fn pids(&self, node: u32) -> PathBuf {
        self.node(node).join("pids")
    }

    pub fn ocf_root(&self, node: u32) -> PathBuf {
        self.node(node).join("ocf")
    }

    /// The nodes this sandbox was made with (from the configuration).
    pub fn nodes(&self) -> Vec<u32> {
        (1..=MAX_NODES)
            .take_while(|&n| self.node(n).is_dir())
            .collect()
    }
}

pub fn node_name(node: u32) -> String {
    format!("node{node}")
}

pub fn address(node: u32) -> String {
    format!("127.0.0.{node}")
}

/// `node2`, `2` → 2.
pub fn parse_node(text: &str) -> Option<u32> {
    let number = text.strip_prefix("node").unwrap_or(text);
    number.parse().ok().filter(|n| (1..=MAX_NODES).contains(n))
}

/// The ring's port: one per user, so two users' sandboxes on one machine
/// (and a real cluster on 5405) do not meet.
pub fn port() -> u32 {
    15405 + uid() % 10_000
}

pub fn uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().next().map(str::to_owned))
        })
        .and_then(|uid| uid.parse().ok())
        .unwrap_or(0)
}

/// corosync.conf for `nodes` nodes on 127.0.0.N, a short token (loopback
/// is fast and a newcomer should see failover quickly; no per-node token
/// growth) and crypto on.
pub fn corosync_conf(layout: &Layout, nodes: u32) -> String {
    let members: String = (1..=nodes)
        .map(|n| {
            format!(
                "  node {{\n    ring0_addr: {}\n    nodeid: {n}\n    name: {}\n  }}\n",
                address(n),
                node_name(n)
            )
        })
        .collect();
    format!(
        "# baton sandbox: {nodes} nodes on this machine\n\
         totem {{\n  version: 2\n  cluster_name: sandbox\n  transport: knet\n  token: 300\n  token_coefficient: 0\n\
         \x20 crypto_cipher: aes256\n  crypto_hash: sha256\n  keyfile: {key}\n\
         \x20 interface {{\n    linknumber: 0\n    mcastport: {port}\n  }}\n}}\n\
         nodelist {{\n{members}}}\n\
         quorum {{\n  provider: corosync_votequorum\n{two_node}}}\n",
        key = layout.authkey().display(),
        port = port(),
        // Two nodes keep quorum when one dies (the other fences it first).
        two_node = if nodes == 2 { "  two_node: 1\n" } else { "" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_named_and_numbered_alike() {
        assert_eq!(parse_node("node3"), Some(3));
        assert_eq!(parse_node("3"), Some(3));
        assert_eq!(parse_node("node0"), None);
        assert_eq!(parse_node("web1"), None);
        assert_eq!(node_name(3), "node3");
    }

    #[test]
    fn the_generated_configuration_is_one_baton_accepts_without_warnings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout {
            root: dir.path().to_path_buf(),
        };
        std::fs::write(layout.authkey(), [7u8; 256]).expect("key");
        let text = corosync_conf(&layout, 3);
        let loaded = baton_config::load_str(
            &text,
            &layout.config(),
            baton_config::Format::Corosync,
            &baton_config::SystemResolver,
        )
        .expect("the sandbox's configuration parses");
        let problems: Vec<String> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity <= baton_config::Severity::Warning)
            .map(ToString::to_string)
            .collect();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(loaded.config.nodelist.nodes.len(), 3);
    }
}
