//! A baton-lrmd started for one test, stopped (by its pid) when dropped.

#![allow(dead_code, reason = "each test file uses a different part")]

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use baton_proto::lrmd::lrmd_client::LrmdClient;
use baton_proto::lrmd::{Action, ExecRequest, ExecResult};
use tonic::transport::Channel;

pub const LRMD: &str = env!("CARGO_BIN_EXE_baton-lrmd");

/// An OCF root with baton's own agents (provider `baton`, from the repo's
/// `agents/ocf`) and room for test agents (provider `test`).
pub struct OcfRoot {
    pub dir: tempfile::TempDir,
}

impl OcfRoot {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let resource_d = dir.path().join("ocf/resource.d");
        std::fs::create_dir_all(resource_d.join("test")).expect("mkdir");
        let repo_agents = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../agents/ocf/baton");
        std::os::unix::fs::symlink(repo_agents, resource_d.join("baton")).expect("symlink");
        Self { dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("ocf")
    }

    pub fn agent(&self, name: &str, body: &str) {
        let path = self.path().join("resource.d/test").join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write agent");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// A scratch file path for state files and markers.
    pub fn scratch(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

pub struct Daemon {
    child: Child,
    pub socket_dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts baton-lrmd on `ocf_root`, prefixed by `wrapper` (e.g.
    /// `ip netns exec NAME`), with `env` added.
    pub fn start(ocf_root: &Path, wrapper: &[&str], env: &[(&str, &str)]) -> Self {
        let socket_dir = tempfile::tempdir().expect("tempdir");
        let mut argv: Vec<String> = wrapper.iter().map(|s| (*s).to_owned()).collect();
        argv.push(LRMD.to_owned());
        let mut command = Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .arg("--socket-dir")
            .arg(socket_dir.path())
            .arg("--state-dir")
            .arg(socket_dir.path())
            .arg("--ocf-root")
            .arg(ocf_root)
            .env("BATON_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        let child = command.spawn().expect("spawn baton-lrmd");
        let daemon = Self { child, socket_dir };
        let socket = daemon.socket();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "baton-lrmd did not create {}",
                socket.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        daemon
    }

    pub fn socket(&self) -> PathBuf {
        self.socket_dir.path().join("lrmd.sock")
    }

    pub async fn client(&self) -> LrmdClient<Channel> {
        let channel = baton_proto::client::connect(&self.socket(), Duration::from_secs(60))
            .await
            .expect("connect");
        LrmdClient::new(channel)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn action(resource: &str, agent: &str, action: &str, params: &[(&str, &str)]) -> Action {
    Action {
        resource_id: resource.to_owned(),
        agent: agent.to_owned(),
        action: action.to_owned(),
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<HashMap<_, _>>(),
        meta: HashMap::new(),
        interval_ms: 0,
        timeout_ms: 20_000,
    }
}

pub async fn exec(client: &mut LrmdClient<Channel>, action: Action) -> ExecResult {
    client
        .exec(ExecRequest {
            action: Some(action),
            record: None,
        })
        .await
        .expect("exec")
        .into_inner()
}
