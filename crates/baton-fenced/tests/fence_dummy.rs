//! baton-fenced with Debian's own `fence_dummy` (fence-agents): the stdin
//! protocol against a real agent, a topology level that fails so the next
//! one fences, a fencing that outlasts its budget, and `Test` asking each
//! device whether it reaches the node without shooting.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use baton_proto::fenced::fenced_client::FencedClient;
use baton_proto::fenced::{DeviceReach, FenceOutcome, FenceRequest, FenceResult, TestRequest};
use baton_tests::StandInCrmd;

const FENCED: &str = env!("CARGO_BIN_EXE_baton-fenced");
const FENCE_DUMMY: &str = "/usr/sbin/fence_dummy";

/// Level 1 for n2 is a `fence_dummy` of type fail (it gives up powering
/// off after a second), level 2 one that keeps the power state in
/// `status`, level 3 an agent that is not installed.
fn cib(status: &Path) -> String {
    format!(
        r#"<cib admin_epoch="0" epoch="3" num_updates="0" validate-with="pacemaker-3.9">
  <configuration>
    <crm_config/>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources>
      <primitive id="st-fail" class="stonith" type="fence_dummy">
        <instance_attributes id="st-fail-ia">
          <nvpair id="st-fail-type" name="type" value="fail"/>
          <nvpair id="st-fail-timeout" name="power_timeout" value="1"/>
          <nvpair id="st-fail-hosts" name="pcmk_host_list" value="n2"/>
        </instance_attributes>
      </primitive>
      <primitive id="st-file" class="stonith" type="fence_dummy">
        <instance_attributes id="st-file-ia">
          <nvpair id="st-file-status" name="status_file" value="{}"/>
          <nvpair id="st-file-hosts" name="pcmk_host_list" value="n2"/>
        </instance_attributes>
      </primitive>
      <primitive id="st-missing" class="stonith" type="fence_missing">
        <instance_attributes id="st-missing-ia">
          <nvpair id="st-missing-hosts" name="pcmk_host_list" value="n2"/>
        </instance_attributes>
      </primitive>
    </resources>
    <constraints/>
    <fencing-topology>
      <fencing-level id="l1" target="n2" index="1" devices="st-fail"/>
      <fencing-level id="l2" target="n2" index="2" devices="st-file"/>
      <fencing-level id="l3" target="n2" index="3" devices="st-missing"/>
    </fencing-topology>
  </configuration>
  <status/>
</cib>"#,
        status.display()
    )
}

struct Setup {
    _dir: tempfile::TempDir,
    sockets: PathBuf,
    status: PathBuf,
    fenced: Child,
    crmd: tokio::task::JoinHandle<()>,
}

impl Setup {
    /// `None` (a loud skip, or a failure under CI=true) without fence-agents.
    fn start() -> Option<Setup> {
        if !baton_tests::require_package("fence-agents", FENCE_DUMMY, "run a real fence agent") {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let sockets = dir.path().join("run");
        let agents = dir.path().join("agents");
        std::fs::create_dir_all(&sockets).expect("run dir");
        std::fs::create_dir_all(&agents).expect("agent dir");
        std::os::unix::fs::symlink(FENCE_DUMMY, agents.join("fence_dummy")).expect("link agent");
        let status = dir.path().join("status");
        let crmd = StandInCrmd {
            cib: cib(&status),
            ..StandInCrmd::default()
        }
        .serve(&sockets);
        let fenced = Command::new(FENCED)
            .arg("--socket-dir")
            .arg(&sockets)
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .arg("--agent-dir")
            .arg(&agents)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start baton-fenced");
        Some(Setup {
            _dir: dir,
            sockets,
            status,
            fenced,
            crmd,
        })
    }

    async fn client(&self) -> FencedClient<tonic::transport::Channel> {
        let socket = self.sockets.join("fenced.sock");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match baton_proto::client::connect(&socket, Duration::from_secs(60)).await {
                Ok(channel) => return FencedClient::new(channel),
                Err(error) if Instant::now() > deadline => panic!("fenced.sock: {error}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    async fn fence(&self, action: &str, timeout_ms: u64) -> FenceResult {
        self.client()
            .await
            .fence(FenceRequest {
                target: "n2".to_owned(),
                target_id: 2,
                action: action.to_owned(),
                timeout_ms,
                client: "test".to_owned(),
                delay_ms: 0,
            })
            .await
            .expect("fence answers")
            .into_inner()
    }

    async fn test(&self, target: &str) -> Vec<DeviceReach> {
        self.client()
            .await
            .test(TestRequest {
                target: target.to_owned(),
            })
            .await
            .expect("test answers")
            .into_inner()
            .devices
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = self.fenced.kill();
        let _ = self.fenced.wait();
        self.crmd.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_first_level_fails_the_next_level_powers_the_node_off() {
    let Some(setup) = Setup::start() else {
        return;
    };
    std::fs::write(&setup.status, "on").expect("power on");
    let result = setup.fence("off", 30_000).await;
    assert_eq!(result.outcome(), FenceOutcome::Ok, "{}", result.reason);
    assert_eq!(result.devices, ["st-file"], "level 2 fenced it");
    let state = std::fs::read_to_string(&setup.status).expect("fence_dummy wrote its state");
    assert_eq!(state.trim(), "off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fencing_that_outlasts_its_budget_is_reported_timed_out() {
    let Some(setup) = Setup::start() else {
        return;
    };
    let result = setup.fence("reboot", 500).await;
    assert_eq!(
        result.outcome(),
        FenceOutcome::TimedOut,
        "{}",
        result.reason
    );
    assert!(result.reason.contains("500 ms"), "{}", result.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_asks_each_device_without_shooting() {
    let Some(setup) = Setup::start() else {
        return;
    };
    std::fs::write(&setup.status, "on").expect("power on");
    let devices = setup.test("n2").await;
    let seen: Vec<(&str, &str, bool, &str)> = devices
        .iter()
        .map(|d| {
            (
                d.device.as_str(),
                d.check.as_str(),
                d.reachable,
                d.detail.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen[..2],
        [
            ("st-fail", "status", true, "n2 is on"),
            ("st-file", "status", true, "n2 is on"),
        ]
    );
    assert_eq!(devices.len(), 3, "{devices:?}");
    assert_eq!(
        (devices[2].device.as_str(), devices[2].reachable),
        ("st-missing", false)
    );
    assert!(
        devices[2].detail.contains("fence_missing is not installed"),
        "{}",
        devices[2].detail
    );
    assert_eq!(
        std::fs::read_to_string(&setup.status)
            .expect("state")
            .trim(),
        "on",
        "nothing was shot"
    );
    assert!(setup.test("n1").await.is_empty(), "no device may fence n1");
}
