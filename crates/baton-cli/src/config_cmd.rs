//! `baton config check|import`.

use baton_config::{Loaded, Severity};

use crate::cli::ConfigCommand;
use crate::exit::Code;
use crate::output::{Format, print_json, print_text};

pub fn run(command: &ConfigCommand, format: Format) -> anyhow::Result<Code> {
    match command {
        ConfigCommand::Check(arg) => {
            let loaded = baton_config::load_path(&arg.file)?;
            let report = loaded.report();
            match format {
                Format::Text => print_text(&report.to_string())?,
                Format::Json => print_json(&report)?,
            }
            Ok(usable_code(&loaded))
        }
        ConfigCommand::Import(arg) => {
            let loaded = baton_config::load_path(&arg.file)?;
            // stdout is the new file; what was noticed on the way goes to stderr.
            for diagnostic in &loaded.diagnostics {
                eprintln!("{diagnostic}");
            }
            if !loaded.is_usable() {
                let errors = loaded
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                anyhow::bail!(
                    "{} has {errors} error(s) (listed above); fix them, then import again",
                    arg.file.display()
                );
            }
            print_text(&loaded.to_toml())?;
            Ok(Code::Success)
        }
    }
}

fn usable_code(loaded: &Loaded) -> Code {
    if loaded.is_usable() {
        Code::Success
    } else {
        Code::Failed
    }
}
