//! `crm_mon`: the cluster's status (`-1` once, else refreshed in place),
//! as `baton status` and `baton mon` print it.

use std::process::ExitCode;

use clap::Parser;

use crate::mon_cmd::MonArgs;
use crate::output::Format;

#[derive(Debug, Parser)]
#[command(
    name = "crm_mon",
    about = "baton's crm_mon: the cluster's status",
    disable_version_flag = true
)]
struct Args {
    /// Show the status once and exit.
    #[arg(short = '1', long = "one-shot")]
    one_shot: bool,
    /// Show inactive resources too (baton always does).
    #[arg(short = 'r', long = "inactive")]
    inactive: bool,
    /// Seconds between refreshes.
    #[arg(short = 'i', long = "interval", default_value_t = 2)]
    interval: u64,
    /// Output format: text (xml is not available from baton yet).
    #[arg(long = "output-as", value_name = "FORMAT")]
    output_as: Option<String>,
    /// XML output (not available from baton yet).
    #[arg(short = 'X', long = "as-xml")]
    as_xml: bool,
}

pub fn run() -> anyhow::Result<ExitCode> {
    let args = match super::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return Ok(code),
    };
    if args.as_xml || args.output_as.as_deref().is_some_and(|f| f != "text") {
        eprintln!(
            "crm_mon: baton prints the status as text only; for scripts use `baton status --output json`"
        );
        return Ok(ExitCode::from(super::EXIT_USAGE));
    }
    let mon = MonArgs {
        once: args.one_shot,
        interval: args.interval,
    };
    crate::mon_cmd::run(&mon, &super::socket_dir(), Format::Text)?;
    Ok(ExitCode::SUCCESS)
}
