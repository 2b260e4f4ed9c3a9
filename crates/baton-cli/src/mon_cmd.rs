//! `baton mon`: the status, refreshed in place like `crm_mon` (`-1` once).
//! While the node's crmd cannot be reached it says so and keeps trying, as
//! crm_mon does.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use clap::Args;

use crate::exit::Code;
use crate::output::{Format, print_json};

#[derive(Debug, Args)]
pub struct MonArgs {
    /// Show the status once and exit (like `crm_mon -1`).
    #[arg(short = '1', long = "one-shot")]
    pub once: bool,
    /// Seconds between refreshes.
    #[arg(short = 'i', long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub interval: u64,
}

pub fn run(args: &MonArgs, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    if args.once {
        return crate::status_cmd::run(&crate::status_cmd::StatusArgs {}, socket_dir, format);
    }
    let terminal = std::io::stdout().is_terminal();
    loop {
        match format {
            Format::Json => match crate::status_cmd::snapshot(socket_dir) {
                Ok(status) => print_json(&status)?,
                Err(error) => eprintln!("baton mon: {error:#}; trying again"),
            },
            Format::Text => {
                let text = crate::status_cmd::rendered(socket_dir).unwrap_or_else(|error| {
                    format!(
                        "Not connected: {error:#}\nTrying again every {} s\n",
                        args.interval
                    )
                });
                let mut stdout = std::io::stdout().lock();
                if terminal {
                    // Home and clear: the new status replaces the old one.
                    write!(stdout, "\x1b[H\x1b[2J")?;
                } else {
                    writeln!(stdout)?;
                }
                stdout.write_all(text.as_bytes())?;
                stdout.flush()?;
            }
        }
        std::thread::sleep(Duration::from_secs(args.interval));
    }
}
