//! A sandbox in a network namespace of its own, so that its ports
//! (127.0.0.N:8080, the ring's) meet no other sandbox on this machine:
//! shared by the sandbox test and benchmark.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BATON: &str = env!("CARGO_BIN_EXE_baton");

/// A network namespace with only its loopback up, and the sandbox in it;
/// both are removed when it is dropped, whatever happened.
pub struct Isolated {
    namespace: String,
    dir: tempfile::TempDir,
}

impl Isolated {
    pub fn new() -> Isolated {
        let namespace = format!("baton-sbx-{}", std::process::id());
        let ip = |args: &[&str]| {
            let status = Command::new("ip").args(args).status().expect("run ip");
            assert!(status.success(), "ip {args:?} failed");
        };
        ip(&["netns", "add", &namespace]);
        ip(&["netns", "exec", &namespace, "ip", "link", "set", "lo", "up"]);
        Isolated {
            namespace,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn sandbox_dir(&self) -> PathBuf {
        self.dir.path().join("sandbox")
    }

    /// `baton --sandbox-dir … ARGS` inside the namespace.
    pub fn baton(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.namespace, BATON, "--sandbox-dir"])
            .arg(self.sandbox_dir())
            .args(args)
            .output()
            .expect("run baton")
    }

    /// What the web server on sandbox node `node` answers, if it does.
    pub fn fetch(&self, node: u32) -> Option<String> {
        let script = format!(
            "exec 3<>/dev/tcp/127.0.0.{node}/8080 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 2 cat <&3"
        );
        let out = Command::new("ip")
            .args(["netns", "exec", &self.namespace, "bash", "-c", &script])
            .output()
            .expect("run bash");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success() && text.contains("served by")).then_some(text)
    }
}

impl Drop for Isolated {
    fn drop(&mut self) {
        let _ = self.baton(&["sandbox", "down"]);
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.namespace])
            .status();
    }
}

/// Root, `ip`, bash and the daemons' binaries next to `baton`.
pub fn prerequisites() -> bool {
    let daemons = Path::new(BATON).parent().expect("target dir");
    baton_tests::require_root("give the sandbox a network namespace of its own")
        && baton_tests::require_tool("ip", "create a network namespace")
        && baton_tests::require_tool("bash", "fetch the demo web page (/dev/tcp)")
        && ["baton-ringd", "baton-lrmd", "baton-fenced", "baton-crmd"]
            .iter()
            .all(|d| {
                let path = daemons.join(d);
                baton_tests::prerequisite(path.is_file(), || {
                    format!(
                        "{} is missing; run cargo build --workspace first",
                        path.display()
                    )
                })
            })
}

/// The node `sandbox up` says the web group runs on.
pub fn web_node(out: &Output) -> u32 {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("The web group runs on node"))
        .unwrap_or_else(|| panic!("no web line in:\n{stdout}"));
    line["The web group runs on node".len()..]
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no node in {line}"))
}
