//! `baton configure`: the crmsh configure language on the running
//! cluster's CIB (or a CIB file with `--cib`), one command at a time, from a
//! file (`load`), in $EDITOR (`edit`) or in an interactive shell (no command
//! words).

use std::path::Path;

use anyhow::Context;
use baton_cib::Cib;
use baton_cib::xml::Style;
use baton_configure::{AgentLookup, AgentParameter};
use baton_crmsh::ast::{Agent, Command};
use clap::Args;

use crate::cib_cmd::{CibArg, Target, configuration_text, target};
use crate::exit::Code;
use crate::output::{Format, print_json, print_text};

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    #[command(flatten)]
    pub cib: CibArg,
    /// Show what the change would make the cluster do (its Transition
    /// Summary) and change nothing; also accepted as the last word.
    #[arg(long)]
    pub dry_run: bool,
    /// A configure command (`primitive …`, `delete ID`, `show [xml] [ID…]`,
    /// `load update|replace FILE`, `edit [ID]`, `verify`); none starts an
    /// interactive shell.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub words: Vec<String>,
}

pub fn run(args: &ConfigureArgs, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let target = target(&args.cib, socket_dir);
    let mut words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    let dry_run = args.dry_run || words.last() == Some(&"--dry-run");
    if words.last() == Some(&"--dry-run") {
        words.pop();
    }
    if dry_run {
        return dry(&target, &words);
    }
    match words.as_slice() {
        [] => crate::shell::run(&target),
        ["show", rest @ ..] => show(&target.load()?.0, rest, format),
        ["verify"] => {
            crate::verify_cmd::report(&baton_configure::verify(&target.load()?.0), format)
        }
        ["load", mode @ ("update" | "replace"), file] => load(&target, mode, Path::new(file)),
        ["load", ..] => anyhow::bail!("usage: load update|replace FILE"),
        ["edit", ids @ ..] => edit(&target, ids),
        _ => apply_line(&target, &join(&args.words)),
    }
}

/// Applies one line of the crmsh configure language to the target.
pub fn apply_line(target: &Target, line: &str) -> anyhow::Result<Code> {
    let commands = parse(line, "command")?;
    change(target, |cib| {
        baton_configure::apply(cib, &commands, &SystemAgents)
    })
}

/// Words from the shell back into one line. A single word is the whole
/// command as typed; otherwise a `name=value` word the shell unquoted
/// (`params x="a b"` arrives as `x=a b`) is quoted again.
pub fn join(words: &[String]) -> String {
    if let [line] = words {
        return line.clone();
    }
    let quoted: Vec<String> = words
        .iter()
        .map(|w| match w.split_once('=') {
            Some((name, value))
                if value.contains(char::is_whitespace)
                    && !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-$#.".contains(c)) =>
            {
                format!(
                    "{name}=\"{}\"",
                    value.replace('\\', "\\\\").replace('"', "\\\"")
                )
            }
            _ => w.clone(),
        })
        .collect();
    quoted.join(" ")
}

/// Parses crmsh text; errors name `source`, line and column.
pub fn parse(text: &str, source: &str) -> anyhow::Result<Vec<Command>> {
    let located = baton_crmsh::parse(text)
        .map_err(|e| anyhow::anyhow!("{source}: {e}; nothing was changed"))?;
    Ok(located.into_iter().map(|l| l.command).collect())
}

/// Applies `edit` to the target's CIB and writes it if the configuration
/// changed; the cluster refuses it if someone else changed it meanwhile.
pub fn change(
    target: &Target,
    edit: impl FnOnce(&mut Cib) -> Result<Vec<baton_configure::Notice>, baton_configure::ApplyError>,
) -> anyhow::Result<Code> {
    let (mut cib, base) = target.load()?;
    let before = configuration_text(&cib);
    let known = baton_configure::verify::names_and_values(&cib);
    let notices = edit(&mut cib).map_err(|e| anyhow::anyhow!("{e} (nothing was changed)"))?;
    for notice in notices {
        eprintln!("notice: {notice}");
    }
    // A typo or a value that does not parse is written as typed (it may be
    // meant), but said at once; `baton verify` calls the bad values errors.
    for finding in baton_configure::verify::names_and_values(&cib) {
        if !known.contains(&finding) {
            eprintln!("warning: {}: {}", finding.object, finding.text);
        }
    }
    if configuration_text(&cib) != before || target.wants_write_anyway() {
        target.write(&cib, base.as_ref(), "baton configure")?;
    }
    Ok(Code::Success)
}

fn load(target: &Target, mode: &str, file: &Path) -> anyhow::Result<Code> {
    let commands = read_commands(file)?;
    change(target, |cib| load_into(cib, mode, &commands))
}

fn read_commands(file: &Path) -> anyhow::Result<Vec<Command>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    parse(&text, &file.display().to_string())
}

fn load_into(
    cib: &mut Cib,
    mode: &str,
    commands: &[Command],
) -> Result<Vec<baton_configure::Notice>, baton_configure::ApplyError> {
    if mode == "replace" {
        baton_configure::replace(cib, commands, &SystemAgents)
    } else {
        baton_configure::apply(cib, commands, &SystemAgents)
    }
}

/// `--dry-run`: what the change would make the cluster do, from the
/// scheduler on the target's CIB with the change made; nothing is written.
fn dry(target: &Target, words: &[&str]) -> anyhow::Result<Code> {
    let commands = match words {
        ["load", mode @ ("update" | "replace"), file] => {
            Some((*mode, read_commands(Path::new(file))?))
        }
        [] | ["show", ..] | ["verify"] | ["edit", ..] | ["load", ..] => {
            anyhow::bail!(
                "--dry-run goes with a change: a configure command or `load update|replace FILE`"
            )
        }
        _ => None,
    };
    let (mut cib, _) = target.load()?;
    let before = configuration_text(&cib);
    let notices = match &commands {
        Some((mode, commands)) => load_into(&mut cib, mode, commands),
        None => {
            let line: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
            let commands = parse(&join(&line), "command")?;
            baton_configure::apply(&mut cib, &commands, &SystemAgents)
        }
    }
    .map_err(|e| anyhow::anyhow!("{e} (nothing was changed)"))?;
    for notice in notices {
        eprintln!("notice: {notice}");
    }
    if configuration_text(&cib) == before {
        print_text("Nothing would change: the configuration already says this.")?;
        return Ok(Code::Success);
    }
    let now = baton_scheduler::EpochSeconds(crate::status_cmd::wall_now());
    let plan = baton_scheduler::schedule(&cib, now)
        .context("the scheduler cannot plan the changed configuration")?;
    let mut text = String::from("Transition Summary (if committed):\n");
    if plan.summary.is_empty() {
        text.push_str("  nothing would start, stop or move\n");
    }
    for line in &plan.summary {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text.push_str("Nothing was changed (--dry-run).");
    print_text(&text)?;
    Ok(Code::Success)
}

#[derive(serde::Serialize)]
struct ShowJson {
    commands: Vec<String>,
    not_shown: Vec<String>,
}

fn show(cib: &Cib, words: &[&str], format: Format) -> anyhow::Result<Code> {
    if let ["xml", ids @ ..] = words {
        print_text(&show_xml(cib, ids)?)?;
        return Ok(Code::Success);
    }
    let ids: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    match format {
        Format::Text => print_text(&baton_configure::show_text(cib, &ids)?)?,
        Format::Json => {
            let shown = baton_configure::show(cib);
            let commands = shown
                .commands
                .iter()
                .filter(|c| ids.is_empty() || c.id().is_some_and(|id| ids.iter().any(|i| i == id)))
                .map(baton_crmsh::print::command)
                .collect();
            print_json(&ShowJson {
                commands,
                not_shown: shown.not_shown,
            })?;
        }
    }
    Ok(Code::Success)
}

fn show_xml(cib: &Cib, ids: &[&str]) -> anyhow::Result<String> {
    let Some(config) = cib.configuration() else {
        return Ok(String::new());
    };
    let doc = cib.document();
    if ids.is_empty() {
        return Ok(doc.element_to_xml(config.id(), Style::Pretty));
    }
    let mut out = String::new();
    for id in ids {
        let el = config
            .descendants()
            .find(|e| e.attr("id") == Some(id) && e.name() != "resource_ref")
            .with_context(|| format!("nothing has id `{id}`; `show` lists the objects"))?;
        out.push_str(&doc.element_to_xml(el.id(), Style::Pretty));
        out.push('\n');
    }
    Ok(out)
}

/// `edit [ID…]`: the crmsh text in $EDITOR, applied when saved. Editing
/// everything replaces the configuration; editing some ids updates them.
fn edit(target: &Target, ids: &[&str]) -> anyhow::Result<Code> {
    let (cib, _) = target.load()?;
    let ids: Vec<String> = ids.iter().map(|w| (*w).to_owned()).collect();
    let text = baton_configure::show_text(&cib, &ids)?;
    let Some(edited) = crate::shell::run_editor(&text)? else {
        eprintln!("no change");
        return Ok(Code::Success);
    };
    let commands = parse(&edited, "the edited text")?;
    change(target, |cib| {
        if ids.is_empty() {
            baton_configure::replace(cib, &commands, &SystemAgents)
        } else {
            baton_configure::apply(cib, &commands, &SystemAgents)
        }
    })
}

/// Agents as installed on this machine. A missing one is only a notice: a
/// CIB is often written for other nodes.
#[derive(Debug)]
pub struct SystemAgents;

impl AgentLookup for SystemAgents {
    fn is_installed(&self, agent: &Agent) -> Option<bool> {
        let kind = agent.kind.as_str();
        if kind.contains('/') {
            return Some(false);
        }
        let exists = |p: String| Path::new(&p).exists();
        let unit = |k: &str| {
            let name = if k.contains('.') {
                k.to_owned()
            } else {
                format!("{k}.service")
            };
            [
                "/etc/systemd/system",
                "/usr/lib/systemd/system",
                "/lib/systemd/system",
            ]
            .iter()
            .any(|d| exists(format!("{d}/{name}")))
        };
        match agent.class.as_str() {
            "ocf" => agent
                .provider
                .as_ref()
                .map(|p| exists(format!("/usr/lib/ocf/resource.d/{p}/{kind}"))),
            "lsb" => Some(exists(format!("/etc/init.d/{kind}"))),
            "stonith" => Some(exists(format!("/usr/sbin/{kind}"))),
            "systemd" => Some(unit(kind)),
            "service" => Some(unit(kind) || exists(format!("/etc/init.d/{kind}"))),
            _ => None,
        }
    }

    fn parameters(&self, agent: &Agent) -> Option<Vec<AgentParameter>> {
        let kind = agent.kind.as_str();
        if kind.contains('/') {
            return None;
        }
        let (program, args) = match (agent.class.as_str(), &agent.provider) {
            ("ocf", Some(provider)) => (
                format!("/usr/lib/ocf/resource.d/{provider}/{kind}"),
                ["meta-data"].as_slice(),
            ),
            ("stonith", _) => (format!("/usr/sbin/{kind}"), ["-o", "metadata"].as_slice()),
            _ => return None,
        };
        let text = agent_metadata(Path::new(&program), args)?;
        let doc = baton_cib::xml::Document::parse(&text).ok()?;
        let parameters = doc
            .root_ref()
            .descendants()
            .filter(|e| e.name() == "parameter")
            .filter_map(|e| {
                Some(AgentParameter {
                    name: e.attr("name")?.to_owned(),
                    required: matches!(e.attr("required"), Some("1" | "true")),
                })
            })
            .collect();
        Some(parameters)
    }

    fn installed_like(&self, agent: &Agent) -> Vec<String> {
        let names = |dir: &str| -> Vec<String> {
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        };
        match agent.class.as_str() {
            "ocf" => names("/usr/lib/ocf/resource.d")
                .into_iter()
                .flat_map(|provider| {
                    names(&format!("/usr/lib/ocf/resource.d/{provider}"))
                        .into_iter()
                        .map(move |kind| format!("ocf:{provider}:{kind}"))
                })
                .collect(),
            "lsb" => names("/etc/init.d")
                .into_iter()
                .map(|kind| format!("lsb:{kind}"))
                .collect(),
            "stonith" => names("/usr/sbin")
                .into_iter()
                .filter(|name| name.starts_with("fence_"))
                .map(|kind| format!("stonith:{kind}"))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// An agent's meta-data, if it prints it within a few seconds: configure
/// must not hang on a broken agent.
fn agent_metadata(program: &Path, args: &[&str]) -> Option<String> {
    use std::io::Read;
    let mut child = std::process::Command::new(program)
        .args(args)
        .env("OCF_ROOT", "/usr/lib/ocf")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).ok().map(|_| text)
    });
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return reader.join().ok().flatten(),
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if std::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
}
