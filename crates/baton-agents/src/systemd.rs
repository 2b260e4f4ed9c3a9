//! The systemd class, over systemd's D-Bus API (FACTS §6.3). start and stop
//! queue a job with mode "replace" and wait for its JobRemoved signal;
//! monitor reads ActiveState until it settles. A host without a reachable
//! system bus gets a clear not-installed result, never a hang.
//!
//! While the cluster manages a unit, a runtime drop-in orders it before
//! baton-crmd (so systemd stops it after the cluster at shutdown) and turns
//! off systemd's own restarts (the cluster decides about recovery).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio_stream::StreamExt;
use zbus::OwnedObjectPath;

use crate::outcome::{OpStatus, Verdict, rc};
use crate::request::ActionRequest;
use crate::run::ActionResult;

/// Where systemd listens, and where runtime drop-ins go.
#[derive(Debug, Clone)]
pub struct SystemdPaths {
    pub bus_address: String,
    pub runtime_units: PathBuf,
}

impl Default for SystemdPaths {
    fn default() -> Self {
        Self {
            bus_address: "unix:path=/run/dbus/system_bus_socket".into(),
            runtime_units: PathBuf::from("/run/systemd/system"),
        }
    }
}

/// How often an unsettled unit (activating, deactivating) is looked at again.
const SETTLE_POLL: Duration = Duration::from_millis(200);
const DROP_IN: &str = "50-baton.conf";

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
trait Manager {
    fn subscribe(&self) -> zbus::Result<()>;
    fn reload(&self) -> zbus::Result<()>;
    fn load_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;
    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn list_unit_files(&self) -> zbus::Result<Vec<(String, String)>>;
    #[zbus(signal)]
    fn job_removed(
        &self,
        id: u32,
        job: OwnedObjectPath,
        unit: String,
        result: String,
    ) -> zbus::Result<()>;
}

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Unit",
    default_service = "org.freedesktop.systemd1"
)]
trait Unit {
    #[zbus(property)]
    fn active_state(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn load_state(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn description(&self) -> zbus::Result<String>;
}

/// Whether systemd is this host's init (sd_booted(3)'s test).
pub fn booted() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// `nginx` → `nginx.service`; a name with a unit suffix stays as it is.
pub fn unit_name(kind: &str) -> String {
    const SUFFIXES: [&str; 6] = [
        ".service", ".socket", ".mount", ".timer", ".target", ".path",
    ];
    if SUFFIXES.iter().any(|s| kind.ends_with(s)) {
        kind.to_owned()
    } else {
        format!("{kind}.service")
    }
}

pub async fn execute(
    paths: &SystemdPaths,
    request: &ActionRequest,
    timeout: Duration,
) -> ActionResult {
    let started = Instant::now();
    let unit = unit_name(&request.agent.kind);
    let attempt = async {
        let connection = connect(paths).await.map_err(|e| (true, e))?;
        act(paths, &connection, &unit, &request.action)
            .await
            .map_err(|e| (false, e))
    };
    let (verdict, stdout) = match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(done)) => done,
        Ok(Err((connecting, error))) => (failure(paths, &unit, connecting, &error), String::new()),
        Err(_elapsed) => (
            Verdict::failed(
                OpStatus::Timeout,
                rc::ERR_GENERIC,
                format!(
                    "systemd did not finish {} of {unit} within {} ms",
                    request.action,
                    timeout.as_millis()
                ),
            ),
            String::new(),
        ),
    };
    ActionResult {
        exec_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        stdout,
        ..ActionResult::not_run(verdict)
    }
}

/// No bus, or a bus without systemd on it, means the class is not installed
/// here; anything else is systemd saying no.
fn failure(paths: &SystemdPaths, unit: &str, connecting: bool, error: &zbus::Error) -> Verdict {
    let unreachable = connecting
        || matches!(error, zbus::Error::MethodError(name, _, _) if name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown");
    if unreachable {
        Verdict::failed(
            OpStatus::NotInstalled,
            rc::ERR_INSTALLED,
            format!(
                "cannot manage the unit {unit}: no systemd answers on the system bus {} ({error}); use an ocf or lsb agent",
                paths.bus_address
            ),
        )
    } else {
        Verdict::failed(
            OpStatus::Error,
            rc::ERR_GENERIC,
            format!("systemd refused to act on {unit}: {error}"),
        )
    }
}

async fn connect(paths: &SystemdPaths) -> zbus::Result<zbus::Connection> {
    zbus::connection::Builder::address(paths.bus_address.as_str())
        .build()
        .await
}

/// The verdict, and the stdout of the action (meta-data's XML).
async fn act(
    paths: &SystemdPaths,
    connection: &zbus::Connection,
    unit: &str,
    action: &str,
) -> zbus::Result<(Verdict, String)> {
    let manager = ManagerProxy::new(connection).await?;
    let verdict = match action {
        "start" => {
            write_drop_in(paths, unit);
            manager.reload().await?;
            let result = run_job(&manager, unit, true).await?;
            let state = active_state(connection, &manager, unit).await?;
            match (result.as_str(), state.as_str()) {
                ("done", "active" | "reloading") => Verdict::done(rc::SUCCESS),
                _ => Verdict::failed(
                    OpStatus::Done,
                    rc::ERR_GENERIC,
                    format!("the start job of {unit} ended \"{result}\" and the unit is {state}"),
                ),
            }
        }
        "stop" => {
            let result = match run_job(&manager, unit, false).await {
                Err(zbus::Error::MethodError(name, _, _))
                    if name.as_str() == "org.freedesktop.systemd1.NoSuchUnit" =>
                {
                    "done".to_owned()
                }
                other => other?,
            };
            if remove_drop_in(paths, unit) {
                manager.reload().await?;
            }
            let state = active_state(connection, &manager, unit).await?;
            match (result.as_str(), state.as_str()) {
                (_, "inactive" | "failed") => Verdict::done(rc::SUCCESS),
                _ => Verdict::failed(
                    OpStatus::Done,
                    rc::ERR_GENERIC,
                    format!("the stop job of {unit} ended \"{result}\" and the unit is {state}"),
                ),
            }
        }
        "monitor" | "status" => monitor(connection, &manager, unit).await?,
        "meta-data" => {
            let description = unit_proxy(connection, &manager, unit)
                .await?
                .description()
                .await?;
            return Ok((
                Verdict::done(rc::SUCCESS),
                crate::lsb::described_xml(unit, &description, &description),
            ));
        }
        other => Verdict::failed(
            OpStatus::Error,
            rc::ERR_UNIMPLEMENTED,
            format!("systemd units have no action {other:?}; use start, stop or monitor"),
        ),
    };
    Ok((verdict, String::new()))
}

/// Queues a start or stop job and waits for systemd to report its result.
async fn run_job(manager: &ManagerProxy<'_>, unit: &str, start: bool) -> zbus::Result<String> {
    // Listen before queueing, or a fast job's signal is missed.
    let mut removed = manager.receive_job_removed().await?;
    manager.subscribe().await?;
    let job = if start {
        manager.start_unit(unit, "replace").await?
    } else {
        manager.stop_unit(unit, "replace").await?
    };
    while let Some(signal) = removed.next().await {
        let args = signal.args()?;
        if args.job == job {
            return Ok(args.result);
        }
    }
    Err(zbus::Error::Failure(format!(
        "the bus closed before the job of {unit} finished"
    )))
}

async fn unit_proxy<'a>(
    connection: &'a zbus::Connection,
    manager: &ManagerProxy<'_>,
    unit: &str,
) -> zbus::Result<UnitProxy<'a>> {
    let path = manager.load_unit(unit).await?;
    UnitProxy::builder(connection)
        .path(path)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
}

async fn active_state(
    connection: &zbus::Connection,
    manager: &ManagerProxy<'_>,
    unit: &str,
) -> zbus::Result<String> {
    unit_proxy(connection, manager, unit)
        .await?
        .active_state()
        .await
}

async fn monitor(
    connection: &zbus::Connection,
    manager: &ManagerProxy<'_>,
    unit: &str,
) -> zbus::Result<Verdict> {
    let proxy = unit_proxy(connection, manager, unit).await?;
    if proxy.load_state().await? == "not-found" {
        return Ok(Verdict::failed(
            OpStatus::NotInstalled,
            rc::ERR_INSTALLED,
            format!("systemd knows no unit {unit}"),
        ));
    }
    // The caller's timeout bounds this loop.
    loop {
        match proxy.active_state().await?.as_str() {
            "active" | "reloading" => return Ok(Verdict::done(rc::SUCCESS)),
            "activating" | "deactivating" => tokio::time::sleep(SETTLE_POLL).await,
            _ => return Ok(Verdict::done(rc::NOT_RUNNING)),
        }
    }
}

fn drop_in_path(paths: &SystemdPaths, unit: &str) -> PathBuf {
    paths.runtime_units.join(format!("{unit}.d")).join(DROP_IN)
}

/// Best effort: a unit that cannot get the drop-in still starts; only the
/// shutdown order and systemd's restarts differ.
fn write_drop_in(paths: &SystemdPaths, unit: &str) {
    let path = drop_in_path(paths, unit);
    let text = format!(
        "[Unit]\nDescription=Cluster Controlled {unit}\nBefore=baton-crmd.service\n\n[Service]\nRestart=no\n"
    );
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, text));
    if let Err(error) = written {
        tracing::warn!(unit, path = %path.display(), %error, "cannot write the cluster drop-in");
    }
}

/// Whether a drop-in was there to remove.
fn remove_drop_in(paths: &SystemdPaths, unit: &str) -> bool {
    let path = drop_in_path(paths, unit);
    let removed = std::fs::remove_file(&path).is_ok();
    if let Some(dir) = path.parent() {
        // Only succeeds when empty, which is what we want.
        let _ = std::fs::remove_dir(dir);
    }
    removed
}

/// The service units systemd knows, without their `.service` suffix.
pub async fn list_units(paths: &SystemdPaths) -> zbus::Result<Vec<String>> {
    let connection = connect(paths).await?;
    let files = ManagerProxy::new(&connection)
        .await?
        .list_unit_files()
        .await?;
    let mut names: Vec<String> = files
        .iter()
        .filter_map(|(path, _state)| {
            Path::new(path)
                .file_name()?
                .to_str()?
                .strip_suffix(".service")
                .map(str::to_owned)
        })
        .filter(|name| !name.ends_with('@'))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_suffix_is_implied() {
        assert_eq!(unit_name("nginx"), "nginx.service");
        assert_eq!(unit_name("nginx.service"), "nginx.service");
        assert_eq!(unit_name("web.socket"), "web.socket");
        assert_eq!(unit_name("getty@tty1"), "getty@tty1.service");
    }
}
