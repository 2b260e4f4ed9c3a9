//! Durable storage of CIB versions: the only module here that touches files.
//!
//! Layout of a store directory:
//! - `cib.xml` and `cib.xml.sig`: the current version and its SHA-256 (hex);
//! - `cib-N.xml` and `cib-N.xml.sig`: the last [`DEFAULT_KEEP`] versions,
//!   N increasing, the newest equal to `cib.xml`.
//!
//! Every file is replaced atomically (temporary file in the same directory,
//! write, fsync, rename, fsync of the directory), so a crash leaves each file
//! either old or new, never torn. A version is written as a backup first;
//! `cib.xml` and its signature then become hard links to the backup's
//! files (staged, renamed into place), so the contents are synced once. A file and its signature cannot change together, so a
//! crash between the two renames leaves `cib.xml` new and its signature old;
//! the backup's signature already records the new digest, and loading
//! accepts `cib.xml` on that evidence (saying so in [`Loaded::signature`]).
//! Any other mismatch rejects the file, loudly.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::version::sha256_hex;
use crate::xml::{Document, ParseError, Style};

/// Backups kept (the newest is a copy of `cib.xml`), as Pacemaker's
/// rotation does.
pub const DEFAULT_KEEP: usize = 10;

const CURRENT: &str = "cib.xml";
const SIG_SUFFIX: &str = ".sig";

/// A file that failed verification and was skipped.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct Rejected {
    pub path: PathBuf,
    pub reason: RejectReason,
}

#[derive(Debug, thiserror::Error)]
pub enum RejectReason {
    #[error("the file is missing although backups exist")]
    Missing,
    #[error("its signature file is missing or unreadable")]
    NoSignature,
    #[error("digest mismatch: the signature says {expected} but the content hashes to {actual}")]
    DigestMismatch { expected: String, actual: String },
    #[error("it cannot be read: {0}")]
    Unreadable(io::Error),
    #[error("it is not valid XML: {0}")]
    Parse(ParseError),
}

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "no valid CIB version in {}: all {} candidates failed verification, first {}",
        dir.display(), rejected.len(), rejected.first().map_or(String::new(), ToString::to_string)
    )]
    NoValidVersion {
        dir: PathBuf,
        rejected: Vec<Rejected>,
    },
}

/// The result of a load that found a valid version.
#[derive(Debug)]
pub struct Loaded {
    pub document: Document,
    /// The file it came from: `cib.xml` unless that was rejected.
    pub path: PathBuf,
    pub digest: String,
    /// The signature file that vouched for it: normally `<path>.sig`, but a
    /// backup's after a crash between the two renames of a save.
    pub signature: PathBuf,
    /// Newer files that were skipped. Not empty means the caller must warn.
    pub rejected: Vec<Rejected>,
}

impl Loaded {
    /// Whether `cib.xml` itself was valid.
    pub fn is_clean(&self) -> bool {
        self.rejected.is_empty()
    }
}

/// A directory of CIB versions. One process writes a store at a time (the
/// CIB daemon owns it); temporary file names are fixed, not per writer.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    keep: usize,
}

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Store {
        Store::with_keep(dir, DEFAULT_KEEP)
    }

    /// `keep` backups (at least 1, so the newest version always has a copy).
    pub fn with_keep(dir: impl Into<PathBuf>, keep: usize) -> Store {
        Store {
            dir: dir.into(),
            keep: keep.max(1),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `doc` as the new current version and returns its digest.
    pub fn save(&self, doc: &Document) -> Result<String, PersistError> {
        fs::create_dir_all(&self.dir).map_err(|e| self.io("create", &self.dir, e))?;
        let bytes = doc.to_xml(Style::Pretty).into_bytes();
        let digest = sha256_hex(&bytes);
        let sig = format!("{digest}\n");
        let n = self
            .backup_numbers()?
            .last()
            .map_or(1, |n| n.saturating_add(1));
        // Backup first: if the current pair is torn by a crash, the newest
        // backup already holds this version. The current pair then links to
        // the backup's files, whose contents are already on disk.
        let backup = format!("cib-{n}.xml");
        self.write_pair(&backup, &bytes, sig.as_bytes())?;
        self.link_pair(&backup, CURRENT)?;
        self.prune()?;
        self.sync_dir()?;
        Ok(digest)
    }

    /// The newest valid version: `cib.xml` if it verifies, else the newest
    /// backup that does, with every skipped file listed. `Ok(None)` when
    /// the directory holds no CIB at all.
    pub fn load(&self) -> Result<Option<Loaded>, PersistError> {
        let current = self.dir.join(CURRENT);
        let backups = self.backup_numbers()?;
        if !current.exists() && backups.is_empty() {
            return Ok(None);
        }
        let backup_sigs: Vec<PathBuf> = backups
            .iter()
            .rev()
            .map(|n| self.dir.join(format!("cib-{n}.xml{SIG_SUFFIX}")))
            .collect();
        let mut rejected = Vec::new();
        let candidates = std::iter::once((current, backup_sigs.as_slice())).chain(
            backups
                .iter()
                .rev()
                .map(|n| (self.dir.join(format!("cib-{n}.xml")), &[][..])),
        );
        for (path, alternate_sigs) in candidates {
            match verify(&path, alternate_sigs) {
                Ok(v) => {
                    return Ok(Some(Loaded {
                        document: v.document,
                        path,
                        digest: v.digest,
                        signature: v.signature,
                        rejected,
                    }));
                }
                Err(reason) => rejected.push(Rejected { path, reason }),
            }
        }
        Err(PersistError::NoValidVersion {
            dir: self.dir.clone(),
            rejected,
        })
    }

    fn io(&self, action: &'static str, path: &Path, source: io::Error) -> PersistError {
        PersistError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }

    /// Numbers of existing backups (either file of the pair), ascending.
    fn backup_numbers(&self) -> Result<Vec<u64>, PersistError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io("list", &self.dir, e)),
        };
        let mut numbers = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.io("list", &self.dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let stem = name.strip_suffix(SIG_SUFFIX).unwrap_or(name);
            if let Some(n) = stem
                .strip_prefix("cib-")
                .and_then(|s| s.strip_suffix(".xml"))
                .and_then(|s| s.parse::<u64>().ok())
            {
                numbers.push(n);
            }
        }
        numbers.sort_unstable();
        numbers.dedup();
        Ok(numbers)
    }

    fn prune(&self) -> Result<(), PersistError> {
        let numbers = self.backup_numbers()?;
        let excess = numbers.len().saturating_sub(self.keep);
        for n in numbers.iter().take(excess) {
            for name in [format!("cib-{n}.xml"), format!("cib-{n}.xml{SIG_SUFFIX}")] {
                let path = self.dir.join(name);
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(self.io("remove", &path, e)),
                }
            }
        }
        Ok(())
    }

    /// Makes `name` and its signature further names of `from`'s files: a
    /// staged hard link renamed into place, each.
    fn link_pair(&self, from: &str, name: &str) -> Result<(), PersistError> {
        for (source, target) in [
            (from.to_owned(), name.to_owned()),
            (format!("{from}{SIG_SUFFIX}"), format!("{name}{SIG_SUFFIX}")),
        ] {
            let tmp = self.dir.join(format!(".{target}.tmp"));
            let _ = fs::remove_file(&tmp);
            fs::hard_link(self.dir.join(&source), &tmp).map_err(|e| self.io("link", &tmp, e))?;
            self.commit(&tmp, &target)?;
        }
        Ok(())
    }

    /// Replaces `name` and its signature. Both temporary files are written
    /// and synced before either rename, which keeps the window in which a
    /// crash leaves a mismatched pair down to two renames.
    fn write_pair(&self, name: &str, bytes: &[u8], sig: &[u8]) -> Result<(), PersistError> {
        let sig_name = format!("{name}{SIG_SUFFIX}");
        let data_tmp = self.stage(name, bytes)?;
        let sig_tmp = self.stage(&sig_name, sig)?;
        self.commit(&data_tmp, name)?;
        self.commit(&sig_tmp, &sig_name)?;
        self.sync_dir()
    }

    fn stage(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, PersistError> {
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let write = || -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()
        };
        write().map_err(|e| self.io("write", &tmp, e))?;
        Ok(tmp)
    }

    fn commit(&self, tmp: &Path, name: &str) -> Result<(), PersistError> {
        let path = self.dir.join(name);
        fs::rename(tmp, &path).map_err(|e| self.io("rename into place", &path, e))
    }

    fn sync_dir(&self) -> Result<(), PersistError> {
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io("sync", &self.dir, e))
    }
}

/// Checks `path` against its own signature or, for `cib.xml`, any
/// backup's. A crash between renaming `cib.xml` and its signature leaves a
/// complete file whose digest only its backup's signature records; later
/// interrupted saves may add newer backups before the pair is whole again.
fn verify(path: &Path, alternate_sigs: &[PathBuf]) -> Result<Verified, RejectReason> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(RejectReason::Missing),
        Err(e) => return Err(RejectReason::Unreadable(e)),
    };
    let actual = sha256_hex(&bytes);
    let own_sig = sig_path(path);
    let own = read_sig(&own_sig);
    let signature = if own.as_deref() == Some(actual.as_str()) {
        own_sig
    } else if let Some(alt) = alternate_sigs
        .iter()
        .find(|a| read_sig(a).as_deref() == Some(actual.as_str()))
    {
        alt.clone()
    } else {
        return Err(match own {
            Some(expected) => RejectReason::DigestMismatch { expected, actual },
            None => RejectReason::NoSignature,
        });
    };
    let document = Document::parse_bytes(&bytes).map_err(RejectReason::Parse)?;
    Ok(Verified {
        document,
        digest: actual,
        signature,
    })
}

struct Verified {
    document: Document,
    digest: String,
    signature: PathBuf,
}

fn sig_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(SIG_SUFFIX);
    PathBuf::from(p)
}

fn read_sig(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
}
