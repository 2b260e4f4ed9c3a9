//! `attrd_updater`: transient node attributes as agents (such as
//! `ocf:pacemaker:ping`) set them: `-n NAME` with `-U VALUE`, `-Q` or `-D`,
//! on this node unless `-N NODE`. The value is written at once; a dampening
//! delay (`-d`) is accepted and not waited for.

use std::process::ExitCode;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "attrd_updater",
    about = "baton's attrd_updater: set, query and delete transient node attributes",
    disable_version_flag = true
)]
struct Args {
    /// The attribute's name.
    #[arg(short = 'n', long = "name")]
    name: String,
    /// Set it to this value.
    #[arg(short = 'U', long = "update")]
    update: Option<String>,
    /// Set it to this value (with its dampening).
    #[arg(short = 'B', long = "update-both")]
    update_both: Option<String>,
    /// Print its value.
    #[arg(short = 'Q', long = "query")]
    query: bool,
    /// Delete it.
    #[arg(short = 'D', long = "delete")]
    delete: bool,
    /// The node (default: this node).
    #[arg(short = 'N', long = "node")]
    node: Option<String>,
    /// Dampening delay, accepted for compatibility.
    #[arg(short = 'd', long = "delay", id = "delay")]
    _delay: Option<String>,
    /// With -Q: every node's value.
    #[arg(short = 'A', long = "all")]
    all: bool,
}

pub fn run() -> anyhow::Result<ExitCode> {
    let args = match super::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return Ok(code),
    };
    let live = super::live();
    let reply = live.query()?;
    let node = match &args.node {
        Some(node) => node.clone(),
        None => reply.node.clone().unwrap_or_default().name,
    };
    if args.query {
        let cib = baton_cib::Cib::parse(&reply.cib)?;
        let mut found = false;
        for state in cib.node_states() {
            let Some(uname) = state.uname() else { continue };
            if !args.all && uname != node {
                continue;
            }
            if let Some(value) = state.transient_attributes().find_map(|s| s.get(&args.name)) {
                found = true;
                println!("name=\"{}\" host=\"{uname}\" value=\"{value}\"", args.name);
            }
        }
        if !found {
            eprintln!(
                "attrd_updater: Could not query value of {}: attribute does not exist",
                args.name
            );
            return Ok(ExitCode::from(super::EXIT_NO_SUCH_OBJECT));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let value = match (&args.update, &args.update_both, args.delete) {
        (Some(value), None, false) | (None, Some(value), false) => Some(value.as_str()),
        (None, None, true) => None,
        _ => {
            eprintln!("attrd_updater: say what to do: -U VALUE, -B VALUE, -Q or -D");
            return Ok(ExitCode::from(super::EXIT_USAGE));
        }
    };
    live.set_attribute(&node, &args.name, value, false)?;
    Ok(ExitCode::SUCCESS)
}
