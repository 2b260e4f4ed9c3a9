//! baton-fenced as a process: it reads the devices from crmd (a stand-in
//! here), runs the agent with the stdin protocol and says what happened.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use baton_proto::fenced::fenced_client::FencedClient;
use baton_proto::fenced::{
    FenceEvent, FenceOutcome, FenceRequest, FenceResult, FenceState, HistoryRequest,
};
use baton_tests::StandInCrmd;

const FENCED: &str = env!("CARGO_BIN_EXE_baton-fenced");

/// One device, `fence_test`, that fences n2 only.
const CIB: &str = r#"<cib admin_epoch="0" epoch="3" num_updates="0" validate-with="pacemaker-3.9">
  <configuration>
    <crm_config/>
    <nodes>
      <node id="1" uname="n1"/>
      <node id="2" uname="n2"/>
    </nodes>
    <resources>
      <primitive id="st-test" class="stonith" type="fence_test">
        <instance_attributes id="st-test-ia">
          <nvpair id="st-test-hosts" name="pcmk_host_list" value="n2"/>
          <nvpair id="st-test-login" name="login" value="admin"/>
        </instance_attributes>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>"#;

/// Installs `fence_test`: it answers meta-data, and for any other action
/// runs `body` (shell, with the agent's input in `$input`).
fn install_script(agents: &Path, body: &str) {
    let script = format!(
        r#"#!/bin/sh
input=$(cat)
case "$input" in
  *action=metadata*)
    echo '<?xml version="1.0"?><resource-agent name="fence_test"><parameters/><actions><action name="off"/><action name="reboot"/><action name="monitor"/><action name="metadata"/></actions></resource-agent>'
    exit 0;;
esac
{body}
"#
    );
    let path = agents.join("fence_test");
    std::fs::write(&path, script).expect("write agent");
    let mut permissions = std::fs::metadata(&path).expect("agent").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&path, permissions).expect("chmod agent");
}

/// A fence agent that records what it was told and exits `exit_code`.
fn install_agent(agents: &Path, said: &Path, exit_code: u8) {
    let said = said.display();
    install_script(
        agents,
        &format!(
            "printf '%s\\n--\\n' \"$input\" >> {said}\necho \"the power switch refused\" >&2\nexit {exit_code}"
        ),
    );
}

struct Fenced {
    child: Child,
    socket: PathBuf,
}

impl Fenced {
    fn start(sockets: &Path, agents: &Path) -> Fenced {
        let child = Command::new(FENCED)
            .arg("--socket-dir")
            .arg(sockets)
            .arg("--state-dir")
            .arg(sockets.join("state"))
            .arg("--agent-dir")
            .arg(agents)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start baton-fenced");
        Fenced {
            child,
            socket: sockets.join("fenced.sock"),
        }
    }

    /// A client, once the daemon serves.
    async fn client(&self) -> FencedClient<tonic::transport::Channel> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match baton_proto::client::connect(&self.socket, Duration::from_secs(10)).await {
                Ok(channel) => return FencedClient::new(channel),
                Err(error) if Instant::now() > deadline => panic!("fenced.sock: {error}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    async fn history(&self, target: &str) -> Vec<FenceEvent> {
        self.client()
            .await
            .history(HistoryRequest {
                target: target.to_owned(),
            })
            .await
            .expect("history answers")
            .into_inner()
            .events
    }

    async fn fence(&self, target: &str) -> FenceResult {
        self.fence_after(target, 0).await
    }

    async fn fence_after(&self, target: &str, delay_ms: u64) -> FenceResult {
        self.client()
            .await
            .fence(FenceRequest {
                target: target.to_owned(),
                target_id: 2,
                action: "reboot".to_owned(),
                timeout_ms: 10_000,
                client: "test".to_owned(),
                delay_ms,
            })
            .await
            .expect("fence answers")
            .into_inner()
    }
}

impl Drop for Fenced {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_stand_in_crmd(sockets: &Path) -> tokio::task::JoinHandle<()> {
    let crmd = StandInCrmd {
        cib: CIB.to_owned(),
        ..StandInCrmd::default()
    };
    crmd.serve(sockets)
}

fn dirs() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let sockets = dir.path().join("run");
    let agents = dir.path().join("agents");
    std::fs::create_dir_all(&sockets).expect("run dir");
    std::fs::create_dir_all(&agents).expect("agent dir");
    let said = dir.path().join("said");
    (dir, sockets, agents, said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_is_fenced_by_the_device_that_lists_it_with_the_agent_told_whom() {
    let (_dir, sockets, agents, said) = dirs();
    install_agent(&agents, &said, 0);
    let crmd = serve_stand_in_crmd(&sockets);
    let fenced = Fenced::start(&sockets, &agents);

    let result = fenced.fence("n2").await;
    assert_eq!(result.outcome(), FenceOutcome::Ok, "{}", result.reason);
    assert_eq!(result.devices, ["st-test"]);
    let told = std::fs::read_to_string(&said).expect("the agent ran");
    for line in [
        "action=reboot",
        "nodename=n2",
        "nodeid=2",
        "port=n2",
        "login=admin",
    ] {
        assert!(told.lines().any(|l| l == line), "no {line} in:\n{told}");
    }

    let result = fenced.fence("n1").await;
    assert_eq!(result.outcome(), FenceOutcome::Failed);
    assert!(result.reason.contains("n1"), "{}", result.reason);
    assert_eq!(
        std::fs::read_to_string(&said)
            .expect("said")
            .matches("--")
            .count(),
        1,
        "no device fences n1, so no agent ran for it"
    );
    crmd.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_agent_fails_the_fencing_with_what_it_said() {
    let (_dir, sockets, agents, said) = dirs();
    install_agent(&agents, &said, 1);
    let crmd = serve_stand_in_crmd(&sockets);
    let fenced = Fenced::start(&sockets, &agents);

    let result = fenced.fence("n2").await;
    assert_eq!(result.outcome(), FenceOutcome::Failed);
    assert!(
        result.reason.contains("st-test") && result.reason.contains("the power switch refused"),
        "{}",
        result.reason
    );
    crmd.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_crmd_nothing_is_fenced_and_the_reason_names_crmd() {
    let (_dir, sockets, agents, said) = dirs();
    install_agent(&agents, &said, 0);
    let fenced = Fenced::start(&sockets, &agents);

    let result = fenced.fence("n2").await;
    assert_eq!(result.outcome(), FenceOutcome::Failed);
    assert!(result.reason.contains("baton-crmd"), "{}", result.reason);
    assert!(!said.exists(), "no agent ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_tells_each_fencing_newest_first_and_survives_a_restart() {
    let (_dir, sockets, agents, said) = dirs();
    install_agent(&agents, &said, 0);
    let crmd = serve_stand_in_crmd(&sockets);
    let fenced = Fenced::start(&sockets, &agents);
    assert_eq!(
        fenced.fence_after("n2", 1_500).await.outcome(),
        FenceOutcome::Ok
    );
    assert_eq!(fenced.fence("n1").await.outcome(), FenceOutcome::Failed);

    let all = fenced.history("").await;
    let seen: Vec<(&str, FenceState)> =
        all.iter().map(|e| (e.target.as_str(), e.state())).collect();
    assert_eq!(
        seen,
        [("n1", FenceState::Failed), ("n2", FenceState::Successful)]
    );
    let n2 = &all[1];
    assert_eq!(n2.devices, ["st-test"]);
    assert_eq!((n2.action.as_str(), n2.client.as_str()), ("reboot", "test"));
    assert!(
        n2.completed_ms - n2.requested_ms >= 1_500,
        "the requested delay came first: {n2:?}"
    );
    assert!(all[0].reason.contains("n1"), "{:?}", all[0]);

    drop(fenced);
    let again = Fenced::start(&sockets, &agents);
    let kept: Vec<String> = again
        .history("n2")
        .await
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        kept,
        std::slice::from_ref(&n2.id),
        "kept on disk across a restart"
    );
    crmd.abort();
}

#[test]
fn a_second_fenced_on_the_same_socket_exits_3() {
    let (_dir, sockets, agents, _said) = dirs();
    let first = Fenced::start(&sockets, &agents);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !first.socket.exists() {
        assert!(Instant::now() < deadline, "the first never served");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = Command::new(FENCED)
        .arg("--socket-dir")
        .arg(&sockets)
        .arg("--state-dir")
        .arg(sockets.join("state"))
        .arg("--agent-dir")
        .arg(&agents)
        .output()
        .expect("run a second baton-fenced");
    assert_eq!(out.status.code(), Some(3));
}

/// `fence_test` that fails its first `failures` power actions, then
/// succeeds; each attempt leaves a line in `said`.
fn install_flaky_agent(agents: &Path, said: &Path, failures: u32) {
    let said = said.display();
    install_script(
        agents,
        &format!(
            "printf 'try\\n' >> {said}\n[ \"$(wc -l < {said})\" -gt {failures} ] && exit 0\necho \"the switch is busy\" >&2\nexit 1"
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_is_tried_again_as_pcmk_retries_allow() {
    let (_dir, sockets, agents, said) = dirs();
    install_flaky_agent(&agents, &said, 2);
    let crmd = serve_stand_in_crmd(&sockets);
    let fenced = Fenced::start(&sockets, &agents);
    let result = fenced.fence("n2").await;
    assert_eq!(result.outcome(), FenceOutcome::Ok, "{}", result.reason);
    let tries = std::fs::read_to_string(&said).expect("the agent ran");
    assert_eq!(
        tries.lines().count(),
        3,
        "two failures, then the default second retry"
    );
    crmd.abort();

    let (_dir, sockets, agents, said) = dirs();
    install_flaky_agent(&agents, &said, 1);
    let crmd = StandInCrmd {
        cib: CIB.replace(
            r#"<nvpair id="st-test-login" name="login" value="admin"/>"#,
            r#"<nvpair id="st-test-retries" name="pcmk_reboot_retries" value="0"/>"#,
        ),
        ..StandInCrmd::default()
    }
    .serve(&sockets);
    let fenced = Fenced::start(&sockets, &agents);
    let result = fenced.fence("n2").await;
    assert_eq!(result.outcome(), FenceOutcome::Failed);
    assert!(
        result.reason.contains("the switch is busy")
            && result.reason.contains("(1 of 1 attempts made)"),
        "{}",
        result.reason
    );
    crmd.abort();
}
