//! The Pacemaker tools resource agents call while they run, answered by
//! this binary when it is invoked under their names (baton-lrmd links them
//! for its agents): `crm_attribute`, `crm_master`, `crm_node`,
//! `attrd_updater`. They reach the local crmd through `BATON_SOCKET_DIR`
//! (default `/run/baton`) and print and exit as Pacemaker 2.1's do for
//! what agents parse.

mod attrd_updater;
mod crm_attribute;
mod crm_node;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::live::Live;

/// Pacemaker's exit codes that agents see.
const EXIT_ERROR: u8 = 1;
const EXIT_USAGE: u8 = 64;
const EXIT_NO_SUCH_OBJECT: u8 = 105;

/// The tool this binary was invoked as, if it is one.
pub fn invoked_as() -> Option<String> {
    let argv0 = std::env::args_os().next()?;
    let name = std::path::Path::new(&argv0)
        .file_name()?
        .to_str()?
        .to_owned();
    ["crm_attribute", "crm_master", "crm_node", "attrd_updater"]
        .contains(&name.as_str())
        .then_some(name)
}

pub fn run(tool: &str) -> ExitCode {
    let result = match tool {
        "crm_attribute" => crm_attribute::run(false),
        "crm_master" => crm_attribute::run(true),
        "attrd_updater" => attrd_updater::run(),
        _ => crm_node::run(),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{tool}: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// This node's crmd.
fn live() -> Live {
    let dir = std::env::var_os("BATON_SOCKET_DIR")
        .map_or_else(|| PathBuf::from("/run/baton"), PathBuf::from);
    Live::new(&dir)
}
