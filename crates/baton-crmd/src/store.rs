//! The configuration on disk: `<state-dir>/cib/` (baton-cib's versioned
//! store: the current copy, its digest, the last versions) and
//! `<state-dir>/cib/dropped/`, where a configuration that lost a join round
//! is kept for the user. `<state-dir>/cib/durable-epoch` holds the epoch of
//! the newest write a majority of nodes applied, which join rounds compare.

use std::path::{Path, PathBuf};

use anyhow::Context;
use baton_cib::Cib;
use baton_cib::persist::Store;
use baton_cib::xml::Document;
use baton_controller::{Persisted, Version};

#[derive(Debug)]
pub struct ConfigStore {
    store: Store,
    dropped: PathBuf,
    durable: PathBuf,
}

impl ConfigStore {
    pub fn new(state_dir: &Path) -> ConfigStore {
        let dir = state_dir.join("cib");
        ConfigStore {
            dropped: dir.join("dropped"),
            durable: dir.join("durable-epoch"),
            store: Store::new(dir),
        }
    }

    /// The newest valid copy; a rejected newer copy is reported loudly.
    pub fn load(&self) -> anyhow::Result<Option<Persisted>> {
        let Some(loaded) = self.store.load()? else {
            tracing::info!(dir = %self.store.dir().display(), "no configuration on disk yet; starting empty");
            return Ok(None);
        };
        for rejected in &loaded.rejected {
            tracing::error!(%rejected, "a copy of the configuration is corrupt and was skipped");
        }
        if !loaded.is_clean() {
            tracing::error!(path = %loaded.path.display(), "continuing with the newest valid copy of the configuration");
        }
        let cib = Cib::from_document(loaded.document)
            .with_context(|| format!("{} is not a CIB", loaded.path.display()))?;
        tracing::info!(path = %loaded.path.display(), version = %cib.version().unwrap_or_default(), "configuration read");
        let durable_epoch = match std::fs::read_to_string(&self.durable) {
            Ok(text) => text.trim().parse().with_context(|| {
                format!(
                    "{} does not hold a number; remove it",
                    self.durable.display()
                )
            })?,
            Err(_) => 0,
        };
        Ok(Some(Persisted { cib, durable_epoch }))
    }

    /// Writes `text` (a whole CIB) and the durable epoch to disk.
    pub fn save(&self, text: &str, durable_epoch: u64) -> anyhow::Result<()> {
        let document =
            Document::parse(text).context("the controller produced a CIB that does not parse")?;
        self.store.save(&document)?;
        self.save_durable_epoch(durable_epoch)
    }

    /// Writes the durable epoch alone.
    pub fn save_durable_epoch(&self, durable_epoch: u64) -> anyhow::Result<()> {
        write_whole(&self.durable, format!("{durable_epoch}\n").as_bytes())
    }

    /// Keeps a configuration that a join round replaced.
    pub fn keep_dropped(
        &self,
        text: &str,
        version: Version,
        replaced_by: Version,
        wall_s: u64,
    ) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(&self.dropped)
            .with_context(|| format!("cannot create {}", self.dropped.display()))?;
        let path = self.dropped.join(format!(
            "cib-{version}-replaced-by-{replaced_by}-{wall_s}.xml"
        ));
        write_whole(&path, text.as_bytes())?;
        Ok(path)
    }
}

/// Writes `path` whole or not at all: a staging file, synced, renamed.
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut staging = path.as_os_str().to_owned();
    staging.push(".staging");
    let staging = PathBuf::from(staging);
    std::fs::write(&staging, bytes)
        .and_then(|()| std::fs::File::open(&staging)?.sync_all())
        .and_then(|()| std::fs::rename(&staging, path))
        .with_context(|| format!("cannot write {}", path.display()))
}
