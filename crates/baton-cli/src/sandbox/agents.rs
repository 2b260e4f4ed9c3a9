//! The sandbox's demo agents and fence agent, shipped inside this binary
//! (so `cargo run`, `target/release` and the package all have them) and
//! written into the sandbox with the paths of the node they serve.

use std::path::Path;

use baton_configure::AgentLookup;
use baton_crmsh::ast::Agent;

use super::layout::{Layout, address, node_name};

const OCF_AGENTS: [(&str, &str); 3] = [
    ("Dummy", include_str!("../../sandbox/Dummy")),
    ("WebServer", include_str!("../../sandbox/WebServer")),
    ("Stateful", include_str!("../../sandbox/Stateful")),
];
const FENCE_AGENT: &str = include_str!("../../sandbox/fence_sandbox");
pub const DEMO_CONFIGURATION: &str = include_str!("../../sandbox/demo.crm");

/// Writes every node's OCF tree (`ocf:baton:…`) and the fence agent.
pub fn install(layout: &Layout, nodes: u32, baton: &Path) -> anyhow::Result<()> {
    for node in 1..=nodes {
        let dir = layout.ocf_root(node).join("resource.d").join("baton");
        std::fs::create_dir_all(&dir)?;
        let node_dir = layout.node(node);
        for (name, text) in OCF_AGENTS {
            let text = text
                .replace("@NODE_DIR@", &node_dir.display().to_string())
                .replace("@ADDRESS@", &address(node))
                .replace("@NODE@", &node_name(node))
                .replace("@BATON@", &baton.display().to_string());
            executable(&dir.join(name), &text)?;
        }
    }
    std::fs::create_dir_all(layout.fence_agents())?;
    let text = FENCE_AGENT
        .replace("@SANDBOX@", &layout.root.display().to_string())
        .replace("@BATON@", &baton.display().to_string());
    executable(&layout.fence_agents().join("fence_sandbox"), &text)
}

fn executable(path: &Path, text: &str) -> anyhow::Result<()> {
    super::write_file(path, text.as_bytes())?;
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    Ok(())
}

/// Ends the services the agents started on `node` (a PID file names each;
/// the process must still be the sandbox's) and forgets the agents' state,
/// as a machine that dies does.
pub fn power_off(layout: &Layout, node: u32) {
    let state = layout.node(node).join("agents");
    let Ok(entries) = std::fs::read_dir(&state) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "pid") {
            // The server's command line names its PID file.
            super::processes::end_recorded(&path, &path);
        }
    }
    let _ = std::fs::remove_dir_all(&state);
}

/// Agents the sandbox's nodes have: its own, whatever this machine has
/// besides is not looked for.
pub struct SandboxAgents;

impl AgentLookup for SandboxAgents {
    fn is_installed(&self, agent: &Agent) -> Option<bool> {
        let ours = match agent.class.as_str() {
            "ocf" => {
                agent.provider.as_deref() == Some("baton")
                    && OCF_AGENTS.iter().any(|(name, _)| *name == agent.kind)
            }
            "stonith" => agent.kind == "fence_sandbox",
            _ => return None,
        };
        Some(ours)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_configuration_parses_and_names_only_the_sandbox_agents() {
        let commands = baton_crmsh::parse(DEMO_CONFIGURATION).expect("demo.crm parses");
        let mut cib = baton_cib::Cib::empty();
        let notices = baton_configure::apply(
            &mut cib,
            &commands.into_iter().map(|l| l.command).collect::<Vec<_>>(),
            &SandboxAgents,
        )
        .expect("demo.crm applies");
        assert!(notices.is_empty(), "{notices:?}");
        let errors: Vec<String> = baton_configure::verify(&cib)
            .iter()
            .filter(|f| f.severity == baton_configure::Severity::Error)
            .map(ToString::to_string)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}
