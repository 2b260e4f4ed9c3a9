//! `baton verify`: `crm_verify -L` on a CIB.

use baton_configure::{Finding, Severity};
use clap::Args;

use crate::cib_cmd::{CibArg, target};
use crate::exit::Code;
use crate::output::{Format, print_json, print_text};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub cib: CibArg,
}

#[derive(serde::Serialize)]
struct Report<'a> {
    valid: bool,
    findings: &'a [Finding],
}

pub fn run(
    args: &VerifyArgs,
    socket_dir: &std::path::Path,
    format: Format,
) -> anyhow::Result<Code> {
    let (cib, _) = target(&args.cib, socket_dir).load()?;
    let findings = baton_configure::verify(&cib);
    report(&findings, format)
}

/// Prints findings as crm_verify does; exit 1 when there are errors.
pub fn report(findings: &[Finding], format: Format) -> anyhow::Result<Code> {
    let valid = !findings.iter().any(|f| f.severity == Severity::Error);
    match format {
        Format::Json => print_json(&Report { valid, findings })?,
        Format::Text => {
            let mut text: String = findings.iter().map(|f| format!("{f}\n")).collect();
            if !valid {
                text.push_str("Errors found during check: config not valid\n");
            } else if !findings.is_empty() {
                text.push_str("Warnings found during check: config may not be valid\n");
            }
            if !text.is_empty() {
                print_text(&text)?;
            }
        }
    }
    Ok(if valid { Code::Success } else { Code::Problems })
}
