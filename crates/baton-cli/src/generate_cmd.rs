//! `baton generate man DIR | completions SHELL`: the man pages and shell
//! completions that packaging installs, from the same definition as the
//! parser (`cli.rs`), so they cannot drift from it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{CommandFactory, Subcommand, ValueEnum};

use crate::cli::Cli;
use crate::exit::Code;

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Write baton.8 and one page per command and subcommand
    /// (baton-status.8, baton-fence-history.8, …) into DIR.
    Man { dir: PathBuf },
    /// Print the completion script for SHELL.
    Completions { shell: CompletionShell },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

pub fn run(command: &GenerateCommand) -> anyhow::Result<Code> {
    match command {
        GenerateCommand::Man { dir } => man_pages(dir)?,
        GenerateCommand::Completions { shell } => {
            let shell = match shell {
                CompletionShell::Bash => clap_complete::Shell::Bash,
                CompletionShell::Zsh => clap_complete::Shell::Zsh,
                CompletionShell::Fish => clap_complete::Shell::Fish,
            };
            // Into a buffer first: clap_complete panics on a write error
            // (a closed pipe), which a user would see as a crash.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "baton", &mut script);
            std::io::Write::write_all(&mut std::io::stdout().lock(), &script)
                .context("cannot write the completion script")?;
        }
    }
    Ok(Code::Success)
}

fn man_pages(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    pages(dir, "baton", "baton", Cli::command())
}

/// `command`'s page and, recursively, one per visible subcommand, named
/// as the pages refer to each other (`baton-fence-history.8`).
fn pages(dir: &Path, name: &str, invoked: &str, command: clap::Command) -> anyhow::Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let sub_name = format!("{name}-{}", sub.get_name());
        let sub_invoked = format!("{invoked} {}", sub.get_name());
        let page = sub
            .clone()
            .display_name(sub_name.clone())
            .bin_name(sub_invoked.clone());
        pages(dir, &sub_name, &sub_invoked, page)?;
    }
    write_page(dir, name, command)
}

fn write_page(dir: &Path, name: &str, command: clap::Command) -> anyhow::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .section("8")
        .render(&mut page)
        .with_context(|| format!("cannot render the man page {name}.8"))?;
    let path = dir.join(format!("{name}.8"));
    std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))
}
