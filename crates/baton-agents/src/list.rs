//! What agents this host has: OCF providers and agents, LSB scripts.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::name::{AgentName, Class};
use crate::run::Roots;

/// Init scripts that are not services.
const LSB_NOT_SERVICES: [&str; 4] = ["README", "skeleton", "rc", "rcS"];

/// The classes this host can run.
pub fn classes() -> Vec<Class> {
    Class::ALL
        .into_iter()
        .filter(|class| *class != Class::Systemd || crate::systemd::booted())
        .collect()
}

/// The OCF providers under `ocf_root`, sorted.
pub fn providers(roots: &Roots) -> Vec<String> {
    let mut names = entries(&roots.ocf_root.join("resource.d"), |path| path.is_dir());
    names.sort();
    names
}

/// The agents of `class` (and `provider`, for OCF; `None` means all), sorted.
/// systemd units come from systemd; without it there are none to list.
pub async fn agents(roots: &Roots, class: Class, provider: Option<&str>) -> Vec<AgentName> {
    let mut agents = Vec::new();
    match crate::run::effective_class(class) {
        Class::Ocf => {
            let providers = provider.map_or_else(|| providers(roots), |p| vec![p.to_owned()]);
            for provider in providers {
                let dir = roots.ocf_root.join("resource.d").join(&provider);
                for kind in entries(&dir, is_executable) {
                    agents.push(AgentName::ocf(&provider, &kind));
                }
            }
        }
        Class::Systemd | Class::Service => {
            let units = crate::systemd::list_units(&roots.systemd)
                .await
                .unwrap_or_else(|error| {
                    tracing::warn!(%error, "cannot list systemd units");
                    Vec::new()
                });
            agents.extend(units.into_iter().map(|kind| AgentName {
                class,
                provider: None,
                kind,
            }));
        }
        Class::Lsb => {
            for kind in entries(&roots.lsb_dir, is_executable) {
                if !LSB_NOT_SERVICES.contains(&kind.as_str()) {
                    agents.push(AgentName {
                        class,
                        provider: None,
                        kind,
                    });
                }
            }
        }
    }
    agents.sort();
    agents
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Names in `dir` matching `keep`, skipping hidden files (`.ocf-shellfuncs`).
fn entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    read.flatten()
        .filter(|entry| keep(&entry.path()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| !name.starts_with('.'))
        .collect()
}
