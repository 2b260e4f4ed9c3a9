//! The configuration on disk: `<state-dir>/cib/` (baton-cib's versioned
//! store: the current copy, its digest, the last versions) and
//! `<state-dir>/cib/dropped/`, where a configuration that lost a join round
//! is kept for the user. `<state-dir>/cib/term` holds the controller's
//! term, which join rounds compare.

use std::path::{Path, PathBuf};

use anyhow::Context;
use baton_cib::Cib;
use baton_cib::persist::Store;
use baton_cib::xml::Document;
use baton_controller::{Persisted, Term, Version};

#[derive(Debug)]
pub struct ConfigStore {
    store: Store,
    dropped: PathBuf,
    term: PathBuf,
}

impl ConfigStore {
    pub fn new(state_dir: &Path) -> ConfigStore {
        let dir = state_dir.join("cib");
        ConfigStore {
            dropped: dir.join("dropped"),
            term: dir.join("term"),
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
        let term = match std::fs::read_to_string(&self.term) {
            Ok(text) => text.trim().parse::<Term>().map_err(|e| {
                anyhow::anyhow!(
                    "{}: {e}; remove the file to start from term 0",
                    self.term.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Term::default(),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", self.term.display()));
            }
        };
        Ok(Some(Persisted { cib, term }))
    }

    /// Writes `text` (a whole CIB) and the term to disk.
    pub fn save(&self, text: &str, term: Term) -> anyhow::Result<()> {
        let document =
            Document::parse(text).context("the controller produced a CIB that does not parse")?;
        self.store.save(&document)?;
        self.save_term(term)
    }

    /// Writes the term alone.
    pub fn save_term(&self, term: Term) -> anyhow::Result<()> {
        write_whole(&self.term, format!("{term}\n").as_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

    const CIB: &str = r#"<cib admin_epoch="0" epoch="3" num_updates="0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>"#;

    #[test]
    fn the_term_survives_a_restart_and_a_damaged_term_file_is_named() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = ConfigStore::new(dir.path());
        let term = Term {
            established: 4,
            current: 6,
        };
        store.save(CIB, term).expect("saved");
        let loaded = store.load().expect("loads").expect("something saved");
        assert_eq!(loaded.term, term);
        assert_eq!(loaded.cib.version().map(|v| v.epoch).ok(), Some(3));

        std::fs::write(dir.path().join("cib/term"), "seven\n").expect("written");
        let error = format!("{:#}", store.load().expect_err("a damaged term file"));
        assert!(error.contains("cib/term"), "{error}");
        assert!(error.contains("expected two numbers"), "{error}");
    }
}
