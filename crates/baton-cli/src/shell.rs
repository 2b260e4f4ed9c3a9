//! The interactive `baton configure` shell: commands are staged on a copy
//! of the CIB and written only on `commit`.

use anyhow::Context;
use baton_cib::Cib;
use baton_cib::xml::Style;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Editor, Helper};

use crate::cib_cmd::{Target, configuration_text};
use crate::configure_cmd::{SystemAgents, parse};
use crate::exit::Code;
use crate::output::Format;

/// Words of the shell itself, beside the configure commands.
const SHELL_WORDS: [&str; 9] = [
    "show", "verify", "commit", "edit", "help", "up", "quit", "exit", "load",
];

/// Cluster options offered after `property`.
const PROPERTIES: [&str; 14] = [
    "stonith-enabled",
    "no-quorum-policy",
    "symmetric-cluster",
    "maintenance-mode",
    "start-failure-is-fatal",
    "stop-all-resources",
    "cluster-recheck-interval",
    "cluster-delay",
    "dc-deadtime",
    "batch-limit",
    "migration-limit",
    "placement-strategy",
    "shutdown-lock",
    "enable-startup-probes",
];

const HELP: &str = "\
commands (crmsh configure language):
  node, primitive, group, clone, ms, location, colocation, order,
  property, rsc_defaults, op_defaults, delete ID…
shell:
  show [xml] [ID…]   the staged configuration
  verify             check the staged configuration (like crm_verify)
  commit             write the staged changes to the CIB file
  edit [ID…]         edit the staged text in $EDITOR
  load update|replace FILE
  help [COMMAND], up / quit / exit
A line ending in \\ continues on the next line.";

struct Completion {
    ids: Vec<String>,
    agents: Vec<String>,
}

impl Completer for Completion {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let head = &line[..pos];
        let start = head.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let word = &head[start..];
        let first = head.split_whitespace().next().unwrap_or_default();
        let word_index = head[..start].split_whitespace().count();
        let pool: Vec<&str> = if start == 0 {
            baton_crmsh::COMMANDS
                .iter()
                .copied()
                .chain(SHELL_WORDS)
                .collect()
        } else if matches!(first, "property") {
            PROPERTIES.to_vec()
        } else if first == "primitive" && word_index == 2 {
            self.agents.iter().map(String::as_str).collect()
        } else {
            self.ids.iter().map(String::as_str).collect()
        };
        let candidates = pool
            .into_iter()
            .filter(|c| c.starts_with(word))
            .map(|c| Pair {
                display: c.to_owned(),
                replacement: c.to_owned(),
            })
            .collect();
        Ok((start, candidates))
    }
}

impl Hinter for Completion {
    type Hint = String;
}
impl Highlighter for Completion {}
impl Validator for Completion {}
impl Helper for Completion {}

/// The agents installed on this machine, as crmsh writes them: the OCF
/// agents under /usr/lib/ocf, LSB init scripts and fence agents.
fn installed_agents() -> Vec<String> {
    let names = |dir: &str| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut agents = Vec::new();
    for provider in names("/usr/lib/ocf/resource.d") {
        for kind in names(&format!("/usr/lib/ocf/resource.d/{provider}")) {
            agents.push(format!("ocf:{provider}:{kind}"));
        }
    }
    agents.extend(names("/etc/init.d").into_iter().map(|n| format!("lsb:{n}")));
    agents.extend(
        names("/usr/sbin")
            .into_iter()
            .filter(|n| n.starts_with("fence_"))
            .map(|n| format!("stonith:{n}")),
    );
    agents.sort();
    agents
}

fn ids(cib: &Cib) -> Vec<String> {
    baton_configure::show(cib)
        .commands
        .iter()
        .filter_map(|c| c.id().map(str::to_owned))
        .collect()
}

pub fn run(target: &Target) -> anyhow::Result<Code> {
    let (committed, base) = target.load()?;
    let mut session = Session {
        target,
        base,
        saved: configuration_text(&committed),
    };
    let mut work = committed;
    let mut editor: Editor<Completion, DefaultHistory> =
        Editor::new().context("cannot start the interactive shell")?;
    editor.set_helper(Some(Completion {
        ids: ids(&work),
        agents: installed_agents(),
    }));
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            "baton configure# "
        } else {
            "> "
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => "quit".to_owned(),
            Err(e) => return Err(e).context("cannot read from the terminal"),
        };
        if let Some(stripped) = line.strip_suffix('\\') {
            pending.push_str(stripped);
            pending.push(' ');
            continue;
        }
        let text = std::mem::take(&mut pending) + &line;
        let _ = editor.add_history_entry(text.as_str());
        let dirty = configuration_text(&work) != session.saved;
        match step(&mut session, &mut work, text.trim(), dirty, &mut editor) {
            Ok(Step::Quit) => return Ok(Code::Success),
            Ok(Step::Committed | Step::Continue) => {}
            Err(e) => eprintln!("baton: {e:#}"),
        }
        if let Some(helper) = editor.helper_mut() {
            helper.ids = ids(&work);
        }
    }
}

enum Step {
    Continue,
    Committed,
    Quit,
}

/// Where the shell commits and what it last committed.
struct Session<'a> {
    target: &'a Target,
    /// The cluster's configuration the staged changes start from.
    base: Option<crate::live::Base>,
    saved: String,
}

impl Session<'_> {
    fn commit(&mut self, work: &mut Cib, dirty: bool) -> anyhow::Result<()> {
        if !dirty && !self.target.wants_write_anyway() {
            println!("nothing to commit");
            return Ok(());
        }
        if let Target::File(path) = self.target {
            // One commit is one configuration change, however many commands.
            if let Ok(version) = crate::cib_cmd::open(path).and_then(|c| Ok(c.version()?)) {
                work.set_version(version.bump_config());
            }
        }
        self.target
            .write(work, self.base.as_ref(), "baton configure")?;
        if let Target::Live(_) = self.target {
            // The next commit builds on this one.
            let (fresh, base) = self.target.load()?;
            self.base = base;
            *work = fresh;
        }
        self.saved = configuration_text(work);
        println!("committed to {}", self.target.describe());
        Ok(())
    }
}

fn step(
    session: &mut Session<'_>,
    work: &mut Cib,
    text: &str,
    dirty: bool,
    editor: &mut Editor<Completion, DefaultHistory>,
) -> anyhow::Result<Step> {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        [] => {}
        ["help"] => println!("{HELP}"),
        ["help", topic, ..] => println!("{}", help(topic)),
        ["show", "xml", ..] => println!("{}", work.to_xml(Style::Pretty)),
        ["show", ids @ ..] => {
            let ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
            print!("{}", baton_configure::show_text(work, &ids)?);
        }
        ["verify"] => {
            crate::verify_cmd::report(&baton_configure::verify(work), Format::Text)?;
        }
        ["commit"] => {
            session.commit(work, dirty)?;
            return Ok(Step::Committed);
        }
        ["up" | "quit" | "exit" | "bye" | "end"] => {
            if !dirty {
                return Ok(Step::Quit);
            }
            let answer = editor
                .readline("There are changes pending. Commit them (y/n)? ")
                .unwrap_or_default();
            if answer.trim().eq_ignore_ascii_case("y") {
                return step(session, work, "commit", dirty, editor).map(|_| Step::Quit);
            }
            eprintln!("baton: the staged changes were discarded");
            return Ok(Step::Quit);
        }
        ["load", mode @ ("update" | "replace"), file] => {
            let body =
                std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?;
            let commands = parse(&body, file)?;
            let notices = if *mode == "replace" {
                baton_configure::replace(work, &commands, &SystemAgents)?
            } else {
                baton_configure::apply(work, &commands, &SystemAgents)?
            };
            notices.iter().for_each(|n| eprintln!("notice: {n}"));
        }
        ["edit", ids @ ..] => {
            let ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
            let shown = baton_configure::show_text(work, &ids)?;
            if let Some(edited) = run_editor(&shown)? {
                let commands = parse(&edited, "the edited text")?;
                let notices = if ids.is_empty() {
                    baton_configure::replace(work, &commands, &SystemAgents)?
                } else {
                    baton_configure::apply(work, &commands, &SystemAgents)?
                };
                notices.iter().for_each(|n| eprintln!("notice: {n}"));
            }
        }
        _ => {
            let commands = parse(text, "the command")?;
            let notices = baton_configure::apply(work, &commands, &SystemAgents)?;
            notices.iter().for_each(|n| eprintln!("notice: {n}"));
        }
    }
    Ok(Step::Continue)
}

fn help(topic: &str) -> &'static str {
    match topic {
        "node" => "node [$id=ID] NAME[:member|remote|ping] [attributes K=V…] [utilization K=V…]",
        "primitive" => {
            "primitive ID [CLASS:[PROVIDER:]]TYPE [params K=V…] [meta K=V…] [utilization K=V…] [op NAME K=V… [OCF_CHECK_LEVEL=N]]…"
        }
        "group" => "group ID RSC… [meta K=V…]",
        "clone" => "clone ID RSC [meta K=V…]  (promotable: meta promotable=true)",
        "ms" => "ms ID RSC [meta K=V…]  (deprecated: written as clone … meta promotable=true)",
        "location" => {
            "location ID RSC|/REGEX/ [role=R] [resource-discovery=always|never|exclusive] SCORE: NODE  |  … rule [$role=R] SCORE: EXPRESSION"
        }
        "colocation" => {
            "colocation ID SCORE: RSC[:ROLE] WITH-RSC[:ROLE] [node-attribute=A]  (RSC is placed with WITH-RSC)"
        }
        "order" => {
            "order ID [Mandatory|Optional|Serialize:] FIRST[:ACTION] THEN[:ACTION] [symmetrical=true|false]"
        }
        "property" => "property [$id=SET:] NAME=VALUE…  (e.g. stonith-enabled=false)",
        "rsc_defaults" => "rsc_defaults NAME=VALUE…  (e.g. resource-stickiness=100)",
        "op_defaults" => "op_defaults NAME=VALUE…  (e.g. timeout=60s)",
        "delete" => {
            "delete ID…  (refused while constraints, groups or clones still refer to a resource)"
        }
        _ => HELP,
    }
}

/// Opens `text` in $EDITOR (default vi); the edited text, or `None` when
/// it was saved unchanged.
pub fn run_editor(text: &str) -> anyhow::Result<Option<String>> {
    let file = std::env::temp_dir().join(format!("baton-edit-{}.crm", std::process::id()));
    std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
    let editor = std::env::var("EDITOR").unwrap_or_else(|_| "vi".to_owned());
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("baton-edit")
        .arg(&file)
        .status()
        .with_context(|| format!("cannot run the editor `{editor}`; set $EDITOR"));
    let edited = std::fs::read_to_string(&file);
    let _ = std::fs::remove_file(&file);
    let status = status?;
    if !status.success() {
        anyhow::bail!("the editor `{editor}` failed ({status}); nothing was changed");
    }
    let edited = edited.context("cannot read back the edited text; nothing was changed")?;
    Ok((edited != text).then_some(edited))
}
