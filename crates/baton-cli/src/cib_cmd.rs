//! `baton cib query|import|replace`, and the CIB file every CIB command
//! works on with `--cib FILE`: read whole, written whole (temp file, fsync,
//! rename in the same directory), so bad input never half-writes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use baton_cib::Cib;
use baton_cib::xml::Style;
use clap::{Args, Subcommand};

use crate::exit::Code;
use crate::output::print_text;

/// Which CIB a command works on.
#[derive(Debug, Clone, Args)]
pub struct CibArg {
    /// Work on this CIB file instead of the running cluster; a missing file
    /// starts as an empty CIB.
    #[arg(long, value_name = "FILE")]
    pub cib: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CibCommand {
    /// Print the CIB as XML (like `cibadmin -Q`).
    Query(CibArg),
    /// Start a new CIB file from a Pacemaker `cibadmin -Q` dump.
    Import(ImportArgs),
    /// Replace a CIB file with a Pacemaker `cibadmin -Q` dump.
    Replace(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The dump to read (XML with a <cib> root).
    pub file: PathBuf,
    /// The CIB file to write.
    #[arg(long, value_name = "TARGET")]
    pub cib: PathBuf,
}

/// The CIB file `arg` names; without one, says the cluster is not
/// reachable yet (exit 3) and returns `None`.
pub fn target(arg: &CibArg) -> Option<&Path> {
    if arg.cib.is_none() {
        eprintln!(
            "baton: the running cluster's CIB is served by baton-crmd, which does not exist yet; work on a CIB file with --cib FILE"
        );
    }
    arg.cib.as_deref()
}

pub fn open(path: &Path) -> anyhow::Result<Cib> {
    match fs::read(path) {
        Ok(bytes) => Cib::parse_bytes(&bytes)
            .with_context(|| format!("{} is not a usable CIB; fix or remove it", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Cib::empty()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes `cib` to `path` whole or not at all.
pub fn save(path: &Path, cib: &Cib) -> anyhow::Result<()> {
    let fail = || format!("cannot write {}; it is unchanged", path.display());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = dir.join(format!(".{name}.baton-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut file = fs::File::create(&staging)?;
        // A CIB holds secrets (fence passwords): keep the old file's mode.
        if let Ok(old) = fs::metadata(path) {
            file.set_permissions(old.permissions())?;
        }
        file.write_all(cib.to_xml(Style::Pretty).as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        fs::rename(&staging, path)?;
        // The rename itself must survive a crash too.
        fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&staging);
    }
    result.with_context(fail)
}

pub fn run(command: &CibCommand) -> anyhow::Result<Code> {
    match command {
        CibCommand::Query(arg) => {
            let Some(path) = target(arg) else {
                return Ok(Code::Unreachable);
            };
            print_text(&open(path)?.to_xml(Style::Pretty))?;
            Ok(Code::Success)
        }
        CibCommand::Import(args) => {
            if args.cib.exists() {
                anyhow::bail!(
                    "{} already exists; use `baton cib replace` to overwrite it",
                    args.cib.display()
                );
            }
            import(args)
        }
        CibCommand::Replace(args) => import(args),
    }
}

fn import(args: &ImportArgs) -> anyhow::Result<Code> {
    let text =
        fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let mut cib = Cib::parse_bytes(&text).with_context(|| {
        format!(
            "{} is not a CIB (expected a `cibadmin -Q` dump)",
            args.file.display()
        )
    })?;
    // A replacement must not look older than what it replaces.
    if let Ok(old) = open(&args.cib)
        && let (Ok(old_v), Ok(new_v)) = (old.version(), cib.version())
        && new_v <= old_v
    {
        cib.set_version(old_v.bump_config());
    }
    for line in kept_not_acted_on(&cib) {
        eprintln!("note: kept but not yet acted on by baton: {line}");
    }
    save(&args.cib, &cib)?;
    let count = |section: &str| cib.section(section).map_or(0, |s| s.children().count());
    print_text(&format!(
        "imported {} into {}: {} nodes, {} resources, {} constraints",
        args.file.display(),
        args.cib.display(),
        count("nodes"),
        count("resources"),
        count("constraints")
    ))?;
    Ok(Code::Success)
}

/// Parts of a Pacemaker CIB baton stores but does not use yet.
fn kept_not_acted_on(cib: &Cib) -> Vec<String> {
    let mut out = Vec::new();
    let states = cib.status().map_or(0, |s| s.children().count());
    if states > 0 {
        out.push(format!(
            "status section ({states} node states; the cluster rewrites it)"
        ));
    }
    if let Some(config) = cib.configuration() {
        for el in config.descendants() {
            let what = match el.name() {
                "template" | "bundle" | "rsc_ticket" | "tag" => {
                    format!("{} {}", el.name(), el.xml_id())
                }
                "alerts" | "acls" | "fencing-topology" if el.children().next().is_some() => {
                    el.name().to_owned()
                }
                _ => continue,
            };
            out.push(what);
        }
    }
    out
}
