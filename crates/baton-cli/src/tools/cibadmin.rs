//! `cibadmin -Q [-o SECTION]`: the running cluster's CIB as XML, whole or
//! one section. Changes go through `baton configure` or `baton cib
//! replace`, which check them first.

use std::process::ExitCode;

use baton_cib::xml::Style;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "cibadmin",
    about = "baton's cibadmin: read the cluster's CIB",
    disable_version_flag = true
)]
struct Args {
    /// Print the CIB (or one section of it).
    #[arg(short = 'Q', long = "query")]
    query: bool,
    /// Only this section: configuration, nodes, resources, constraints,
    /// crm_config, rsc_defaults, op_defaults, fencing-topology or status.
    #[arg(short = 'o', long = "scope", value_name = "SECTION")]
    scope: Option<String>,
    /// Ask this node's copy (every node's copy is the same).
    #[arg(short = 'l', long = "local")]
    local: bool,
}

pub fn run() -> anyhow::Result<ExitCode> {
    let args = match super::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return Ok(code),
    };
    if !args.query {
        eprintln!(
            "cibadmin: baton's cibadmin only queries (-Q); change the configuration with `baton configure` or `baton cib replace FILE`"
        );
        return Ok(ExitCode::from(super::EXIT_USAGE));
    }
    let (cib, _) = super::live().cib()?;
    let section = match args.scope.as_deref() {
        None => None,
        Some("status") => Some(cib.status()),
        Some("configuration") => Some(cib.configuration()),
        Some(name) => Some(cib.section(name)),
    };
    let text = match section {
        None => cib.to_xml(Style::Pretty),
        Some(Some(element)) => element
            .document()
            .element_to_xml(element.id(), Style::Pretty),
        Some(None) => {
            let name = args.scope.unwrap_or_default();
            eprintln!("Call cib_query failed (-6): No such device or address ({name})");
            return Ok(ExitCode::from(super::EXIT_NO_SUCH_OBJECT));
        }
    };
    println!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}
