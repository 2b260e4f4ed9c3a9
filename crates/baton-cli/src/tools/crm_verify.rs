//! `crm_verify -L | -x FILE`: the configuration checked as `baton verify`
//! checks it, reported and exited as crm_verify does (78 when it has
//! errors, details with `-V`).

use std::path::PathBuf;
use std::process::ExitCode;

use baton_cib::Cib;
use baton_configure::Severity;
use clap::Parser;

/// crm_verify's exit for a configuration with errors (CRM_EX_CONFIG).
const EXIT_CONFIG: u8 = 78;

#[derive(Debug, Parser)]
#[command(
    name = "crm_verify",
    about = "baton's crm_verify: check the cluster's configuration",
    disable_version_flag = true
)]
struct Args {
    /// Check the running cluster's configuration.
    #[arg(short = 'L', long = "live-check")]
    live: bool,
    /// Check the configuration in FILE.
    #[arg(short = 'x', long = "xml-file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Print each problem found.
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    verbose: u8,
}

pub fn run() -> anyhow::Result<ExitCode> {
    let args = match super::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return Ok(code),
    };
    let cib = match (&args.file, args.live) {
        (Some(file), false) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            Cib::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
        }
        (None, true) => super::live().cib()?.0,
        _ => {
            eprintln!("crm_verify: say what to check: -L (the running cluster) or -x FILE");
            return Ok(ExitCode::from(super::EXIT_USAGE));
        }
    };
    let findings = baton_configure::verify(&cib);
    if args.verbose > 0 {
        for finding in &findings {
            eprintln!("  {finding}");
        }
    }
    let hint = if args.verbose > 0 {
        ""
    } else {
        "\n-V may provide more details"
    };
    if findings.iter().any(|f| f.severity == Severity::Error) {
        eprintln!("crm_verify: Errors found during check: config not valid{hint}");
        return Ok(ExitCode::from(EXIT_CONFIG));
    }
    if !findings.is_empty() {
        eprintln!("crm_verify: Warnings found during check: config may not be valid{hint}");
    }
    Ok(ExitCode::SUCCESS)
}
