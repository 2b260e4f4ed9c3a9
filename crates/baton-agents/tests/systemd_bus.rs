//! The systemd class against a stand-in systemd served on a private
//! dbus-daemon: jobs, JobRemoved, ActiveState, the runtime drop-in, and a
//! clear not-installed result when no bus answers.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use baton_agents::exec::Limits;
use baton_agents::name::{AgentName, Class};
use baton_agents::outcome::{OpStatus, rc};
use baton_agents::request::ActionRequest;
use baton_agents::run::{ActionResult, Roots, execute};
use baton_agents::systemd::SystemdPaths;
use zbus::OwnedObjectPath;
use zbus::object_server::SignalEmitter;

/// Unit name → ActiveState, for the units this pretend host has.
type Units = Arc<Mutex<HashMap<String, String>>>;

fn unit_path(name: &str) -> OwnedObjectPath {
    let escaped: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("_{b:02x}")
            }
        })
        .collect();
    OwnedObjectPath::try_from(format!("/org/freedesktop/systemd1/unit/{escaped}")).expect("path")
}

struct FakeManager {
    units: Units,
    jobs: AtomicU32,
}

#[zbus::interface(name = "org.freedesktop.systemd1.Manager")]
impl FakeManager {
    async fn subscribe(&self) {}

    async fn reload(&self) {}

    async fn load_unit(
        &self,
        name: &str,
        #[zbus(object_server)] server: &zbus::ObjectServer,
    ) -> OwnedObjectPath {
        let path = unit_path(name);
        let unit = FakeUnit {
            name: name.to_owned(),
            units: Arc::clone(&self.units),
        };
        let _ = server.at(path.clone(), unit).await;
        path
    }

    async fn start_unit(
        &self,
        name: &str,
        _mode: &str,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> OwnedObjectPath {
        // "broken" fails to start, as a unit whose ExecStart exits 1 does.
        let (state, result) = if name == "broken.service" {
            ("failed", "failed")
        } else {
            ("active", "done")
        };
        self.job(name, state, result, emitter)
    }

    async fn stop_unit(
        &self,
        name: &str,
        _mode: &str,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> OwnedObjectPath {
        self.job(name, "inactive", "done", emitter)
    }

    async fn list_unit_files(&self) -> Vec<(String, String)> {
        let units = self.units.lock().expect("units");
        units
            .keys()
            .map(|name| {
                (
                    format!("/usr/lib/systemd/system/{name}"),
                    "disabled".to_owned(),
                )
            })
            .collect()
    }

    #[zbus(signal)]
    async fn job_removed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        job: OwnedObjectPath,
        unit: &str,
        result: &str,
    ) -> zbus::Result<()>;
}

impl FakeManager {
    /// Queues a job that finishes a little later, as systemd's do.
    fn job(
        &self,
        name: &str,
        state: &str,
        result: &str,
        emitter: SignalEmitter<'_>,
    ) -> OwnedObjectPath {
        let id = self.jobs.fetch_add(1, Ordering::Relaxed);
        let job = OwnedObjectPath::try_from(format!("/org/freedesktop/systemd1/job/{id}"))
            .expect("job path");
        let emitter = emitter.to_owned();
        let (units, name, state, result, signal_job) = (
            Arc::clone(&self.units),
            name.to_owned(),
            state.to_owned(),
            result.to_owned(),
            job.clone(),
        );
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if let Some(current) = units.lock().expect("units").get_mut(&name) {
                *current = state;
            }
            let _ = FakeManager::job_removed(&emitter, id, signal_job, &name, &result).await;
        });
        job
    }
}

struct FakeUnit {
    name: String,
    units: Units,
}

#[zbus::interface(name = "org.freedesktop.systemd1.Unit")]
impl FakeUnit {
    #[zbus(property)]
    fn active_state(&self) -> String {
        self.units
            .lock()
            .expect("units")
            .get(&self.name)
            .cloned()
            .unwrap_or_else(|| "inactive".into())
    }

    #[zbus(property)]
    fn load_state(&self) -> String {
        let known = self.units.lock().expect("units").contains_key(&self.name);
        if known {
            "loaded".into()
        } else {
            "not-found".into()
        }
    }

    #[zbus(property)]
    fn description(&self) -> String {
        format!("Pretend {}", self.name)
    }
}

/// A private dbus-daemon, killed (by its pid) on drop.
struct Bus {
    daemon: Child,
    address: String,
}

impl Bus {
    fn start(dir: &Path) -> Self {
        let socket = dir.join("bus");
        let config = dir.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n<busconfig><type>session</type><listen>unix:path={}</listen><auth>EXTERNAL</auth><policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/><allow receive_sender=\"*\"/><allow eavesdrop=\"true\"/><allow own=\"*\"/><allow user=\"*\"/></policy></busconfig>\n",
                socket.display()
            ),
        )
        .expect("bus config");
        let daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "dbus-daemon did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            daemon,
            address: format!("unix:path={}", socket.display()),
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

async fn run(roots: &Roots, agent: &str, action: &str) -> ActionResult {
    let request = ActionRequest {
        resource_id: "svc".into(),
        agent: agent.parse::<AgentName>().expect("agent"),
        action: action.into(),
        params: BTreeMap::new(),
        meta: BTreeMap::new(),
        interval_ms: 0,
        timeout_ms: 10_000,
    };
    execute(roots, &request, &Limits::default()).await
}

#[tokio::test]
async fn units_start_stop_and_are_monitored_over_dbus() {
    if !baton_tests::require_tool("dbus-daemon", "serve a stand-in systemd on a private bus") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let bus = Bus::start(dir.path());
    let units: Units = Arc::new(Mutex::new(HashMap::from([
        ("web.service".to_owned(), "inactive".to_owned()),
        ("broken.service".to_owned(), "inactive".to_owned()),
    ])));
    let manager = FakeManager {
        units: Arc::clone(&units),
        jobs: AtomicU32::new(1),
    };
    let _systemd = zbus::connection::Builder::address(bus.address.as_str())
        .name("org.freedesktop.systemd1")
        .serve_at("/org/freedesktop/systemd1", manager)
        .build()
        .await
        .expect("stand-in systemd on the bus");
    let mut roots = Roots::new(dir.path().join("ocf"));
    roots.systemd = SystemdPaths {
        bus_address: bus.address.clone(),
        runtime_units: dir.path().join("units"),
    };
    let drop_in = dir.path().join("units/web.service.d/50-baton.conf");

    assert_eq!(
        run(&roots, "systemd:web", "monitor").await.rc,
        rc::NOT_RUNNING
    );
    let start = run(&roots, "systemd:web", "start").await;
    assert_eq!(
        (start.status, start.rc),
        (OpStatus::Done, rc::SUCCESS),
        "{start:?}"
    );
    let written = std::fs::read_to_string(&drop_in).expect("the drop-in while managed");
    assert!(
        written.contains("Restart=no") && written.contains("Before=baton-crmd.service"),
        "{written}"
    );
    assert_eq!(
        run(&roots, "systemd:web.service", "monitor").await.rc,
        rc::SUCCESS
    );
    let stop = run(&roots, "systemd:web", "stop").await;
    assert_eq!(
        (stop.status, stop.rc),
        (OpStatus::Done, rc::SUCCESS),
        "{stop:?}"
    );
    assert!(!drop_in.exists(), "the drop-in outlived the stop");
    assert_eq!(
        run(&roots, "systemd:web", "monitor").await.rc,
        rc::NOT_RUNNING
    );

    let broken = run(&roots, "systemd:broken", "start").await;
    assert_eq!(broken.rc, rc::ERR_GENERIC, "{broken:?}");
    assert!(
        broken.exit_reason.contains("failed"),
        "{}",
        broken.exit_reason
    );
    let missing = run(&roots, "systemd:nothing", "monitor").await;
    assert_eq!(
        (missing.status, missing.rc),
        (OpStatus::NotInstalled, rc::ERR_INSTALLED)
    );

    let meta = run(&roots, "systemd:web", "meta-data").await;
    let meta = baton_agents::metadata::parse(&meta.stdout).expect("meta-data");
    assert_eq!(meta.shortdesc, "Pretend web.service");
    let listed = baton_agents::list::agents(&roots, Class::Systemd, None).await;
    let listed: Vec<_> = listed.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["systemd:broken", "systemd:web"]);
}

#[tokio::test]
async fn no_bus_means_not_installed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut roots = Roots::new(dir.path().join("ocf"));
    roots.systemd = SystemdPaths {
        bus_address: format!("unix:path={}", dir.path().join("no-bus").display()),
        runtime_units: dir.path().join("units"),
    };
    for action in ["start", "monitor", "stop"] {
        let result = run(&roots, "systemd:nginx", action).await;
        assert_eq!(
            (result.status, result.rc),
            (OpStatus::NotInstalled, rc::ERR_INSTALLED),
            "{action}: {result:?}"
        );
        assert!(
            result.exit_reason.contains("nginx.service"),
            "{}",
            result.exit_reason
        );
    }
    assert!(
        !dir.path().join("units").exists(),
        "no drop-in is written without systemd"
    );
}
