//! `baton cib query|import|replace|history`, and the CIB every CIB
//! command works on: the running cluster's (through this node's crmd), or
//! a file with `--cib FILE`, read whole and written whole (temp file,
//! fsync, rename in the same directory), so bad input never half-writes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use baton_cib::Cib;
use baton_cib::xml::Style;
use clap::{Args, Subcommand};

use crate::exit::Code;
use crate::live::{Base, Live};
use crate::output::{Format, print_json, print_text};

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
    /// Take the configuration of a Pacemaker `cibadmin -Q` dump: into a new
    /// CIB file, or into a cluster that has no resources yet.
    Import(ImportArgs),
    /// Replace the configuration with that of a `cibadmin -Q` dump.
    Replace(ImportArgs),
    /// Configurations that join rounds replaced (kept as backups on the
    /// node that held them); `--clear` forgets the warnings.
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The dump to read (XML with a <cib> root).
    pub file: PathBuf,
    /// Write this CIB file instead of the running cluster's CIB.
    #[arg(long, value_name = "TARGET")]
    pub cib: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub cib: CibArg,
    /// Remove the warnings once the backups have been looked at.
    #[arg(long)]
    pub clear: bool,
}

/// The CIB a command reads and writes.
#[derive(Debug)]
pub enum Target {
    File(PathBuf),
    Live(Live),
}

/// `--cib FILE`, or else the running cluster through `socket_dir`.
pub fn target(arg: &CibArg, socket_dir: &Path) -> Target {
    match &arg.cib {
        Some(path) => Target::File(path.clone()),
        None => Target::Live(Live::new(socket_dir)),
    }
}

impl Target {
    /// The CIB, and for the cluster the version a change is based on.
    pub fn load(&self) -> anyhow::Result<(Cib, Option<Base>)> {
        match self {
            Target::File(path) => Ok((open(path)?, None)),
            Target::Live(live) => live.cib().map(|(cib, version)| (cib, Some(version))),
        }
    }

    /// Writes `cib`'s configuration; for the cluster, only if it is still
    /// at `base`.
    pub fn write(&self, cib: &Cib, base: Option<&Base>, client: &str) -> anyhow::Result<()> {
        match self {
            Target::File(path) => save(path, cib),
            Target::Live(live) => live.replace(cib, base, client).map(|_| ()),
        }
    }

    /// Whether a write of an unchanged configuration is still needed (a
    /// missing file is created).
    pub fn wants_write_anyway(&self) -> bool {
        matches!(self, Target::File(path) if !path.exists())
    }

    pub fn describe(&self) -> String {
        match self {
            Target::File(path) => path.display().to_string(),
            Target::Live(_) => "the cluster".to_owned(),
        }
    }
}

/// The configuration as XML, to tell whether an edit changed it.
pub fn configuration_text(cib: &Cib) -> String {
    cib.configuration()
        .map(|c| cib.document().element_to_xml(c.id(), Style::Canonical))
        .unwrap_or_default()
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

pub fn run(command: &CibCommand, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    match command {
        CibCommand::Query(arg) => {
            let (cib, _) = target(arg, socket_dir).load()?;
            print_text(&cib.to_xml(Style::Pretty))?;
            Ok(Code::Success)
        }
        CibCommand::Import(args) => import(args, socket_dir, true),
        CibCommand::Replace(args) => import(args, socket_dir, false),
        CibCommand::History(args) => history(args, socket_dir, format),
    }
}

fn import(args: &ImportArgs, socket_dir: &Path, fresh_only: bool) -> anyhow::Result<Code> {
    let text =
        fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let mut cib = Cib::parse_bytes(&text).with_context(|| {
        format!(
            "{} is not a CIB (expected a `cibadmin -Q` dump)",
            args.file.display()
        )
    })?;
    let target = target(
        &CibArg {
            cib: args.cib.clone(),
        },
        socket_dir,
    );
    let (current, base) = target.load()?;
    if fresh_only {
        let occupied = match &target {
            Target::File(path) => path.exists(),
            Target::Live(_) => ["resources", "constraints"].iter().any(|s| {
                current
                    .section(s)
                    .is_some_and(|e| e.children().next().is_some())
            }),
        };
        if occupied {
            anyhow::bail!(
                "{} already has a configuration; use `baton cib replace` to overwrite it",
                target.describe()
            );
        }
    }
    // A replacement must not look older than what it replaces.
    if let (Ok(old_v), Ok(new_v)) = (current.version(), cib.version())
        && new_v <= old_v
    {
        cib.set_version(old_v.bump_config());
    }
    for line in kept_not_acted_on(&cib) {
        eprintln!("note: kept but not yet acted on by baton: {line}");
    }
    target.write(&cib, base.as_ref(), "baton cib")?;
    let count = |section: &str| cib.section(section).map_or(0, |s| s.children().count());
    print_text(&format!(
        "imported {} into {}: {} nodes, {} resources, {} constraints",
        args.file.display(),
        target.describe(),
        count("nodes"),
        count("resources"),
        count("constraints")
    ))?;
    Ok(Code::Success)
}

#[derive(serde::Serialize)]
struct DroppedJson {
    node: String,
    note: String,
}

/// The dropped-configuration notes join rounds left on nodes.
fn history(args: &HistoryArgs, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let target = target(&args.cib, socket_dir);
    let (cib, _) = target.load()?;
    let attribute = baton_controller::DROPPED_CONFIGURATION_ATTRIBUTE;
    let notes: Vec<DroppedJson> = cib
        .nodes()
        .filter_map(|n| {
            Some(DroppedJson {
                node: n.uname().unwrap_or(n.id()).to_owned(),
                note: n.attribute(attribute)?.to_owned(),
            })
        })
        .collect();
    if args.clear {
        let Target::Live(live) = &target else {
            anyhow::bail!("--clear works on the running cluster");
        };
        for note in &notes {
            live.set_attribute(&note.node, attribute, None, true)?;
        }
        print_text(&format!("cleared {} warning(s)", notes.len()))?;
        return Ok(Code::Success);
    }
    match format {
        Format::Json => print_json(&notes)?,
        Format::Text if notes.is_empty() => {
            print_text("no configuration was replaced by a join round")?;
        }
        Format::Text => {
            let mut text = String::new();
            for note in &notes {
                text.push_str(&format!(
                    "{}: {}
  the old configuration is kept on {} in <state-dir>/cib/dropped/
",
                    note.node, note.note, note.node
                ));
            }
            text.push_str(
                "clear these warnings with `baton cib history --clear`
",
            );
            print_text(&text)?;
        }
    }
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
