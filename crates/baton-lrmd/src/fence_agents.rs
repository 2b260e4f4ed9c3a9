//! Fence agents (`stonith:fence_*`) as `baton ra` shows them. lrmd never
//! runs them as resources (baton-fenced does), but lists them and reads
//! their meta-data, as Pacemaker's `crm ra list stonith` / `info` do.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use baton_agents::metadata::{self, AgentMetadata};

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct FenceAgents {
    dir: PathBuf,
}

impl FenceAgents {
    pub fn new(dir: PathBuf) -> FenceAgents {
        FenceAgents { dir }
    }

    /// The `fence_*` executables of the directory, sorted.
    pub fn list(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| {
                e.metadata()
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| name.starts_with("fence_"))
            .collect();
        names.sort();
        names
    }

    /// `kind`'s meta-data (asked with the stdin protocol's
    /// `action=metadata`), parsed and as printed.
    pub async fn metadata(&self, kind: &str) -> Result<(AgentMetadata, String), String> {
        let stdout = baton_agents::fence::run(
            &self.dir,
            kind,
            "action=metadata\n".to_owned(),
            METADATA_TIMEOUT,
        )
        .await
        .map_err(|why| format!("stonith:{kind} gave no meta-data: {why}"))?;
        let parsed = metadata::parse(&stdout).map_err(|e| format!("stonith:{kind}: {e}"))?;
        Ok((parsed, stdout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install(dir: &std::path::Path, name: &str, script: &str, mode: u32) {
        let path = dir.join(name);
        std::fs::write(&path, script).expect("write agent");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    const AGENT: &str = r#"#!/bin/sh
read line
[ "$line" = "action=metadata" ] || exit 1
echo '<?xml version="1.0"?><resource-agent name="fence_lab" shortdesc="a lab switch"><longdesc>Powers lab nodes off.</longdesc><parameters><parameter name="ip" required="1"><content type="string"/><shortdesc lang="en">switch address</shortdesc></parameter></parameters><actions><action name="off"/><action name="reboot"/><action name="monitor"/><action name="metadata"/></actions></resource-agent>'
"#;

    #[tokio::test]
    async fn fence_agents_are_listed_and_their_meta_data_read_through_stdin() {
        let dir = tempfile::tempdir().expect("tempdir");
        install(dir.path(), "fence_lab", AGENT, 0o755);
        install(dir.path(), "fence_notes.txt", "text", 0o644);
        install(dir.path(), "sshd", "#!/bin/sh\n", 0o755);
        let agents = FenceAgents::new(dir.path().to_path_buf());
        assert_eq!(agents.list(), ["fence_lab"]);
        let (meta, xml) = agents.metadata("fence_lab").await.expect("meta-data");
        assert!(xml.contains("fence_lab"));
        assert_eq!(
            meta.shortdesc, "a lab switch",
            "fence agents say it as an attribute"
        );
        assert_eq!(meta.parameters.len(), 1);
        assert_eq!(meta.parameters[0].name, "ip");
        assert!(meta.parameters[0].required);
        assert!(meta.actions.iter().any(|a| a.name == "reboot"));
        let missing = agents
            .metadata("fence_none")
            .await
            .expect_err("not installed");
        assert!(missing.contains("not installed"), "{missing}");
        let bad = agents
            .metadata("../sshd")
            .await
            .expect_err("not a fence agent");
        assert!(bad.contains("fence_<name>"), "{bad}");
    }
}
