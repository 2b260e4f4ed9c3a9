//! The Pacemaker tools resource agents and admins call, answered by this
//! binary when it is invoked under their names (`baton_proto::tools::NAMES`;
//! baton-lrmd links them for its agents): `crm_attribute`, `crm_master`,
//! `crm_node`, `attrd_updater`, `crm_resource`, `crm_mon`, `crm_verify`, `cibadmin -Q`,
//! `stonith_admin` and `pacemakerd -$`. They reach the local daemons
//! through `BATON_SOCKET_DIR` (default `/run/baton`) and print and exit as
//! Pacemaker 2.1's do for what agents parse.

mod attrd_updater;
mod cibadmin;
mod crm_attribute;
mod crm_mon;
mod crm_node;
mod crm_resource;
mod crm_verify;
mod pacemakerd;
mod stonith_admin;

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
    baton_proto::tools::NAMES
        .contains(&name.as_str())
        .then_some(name)
}

pub fn run(tool: &str) -> ExitCode {
    let result = match tool {
        "crm_attribute" => crm_attribute::run(false),
        "crm_master" => crm_attribute::run(true),
        "attrd_updater" => attrd_updater::run(),
        "crm_mon" => crm_mon::run(),
        "crm_resource" => crm_resource::run(),
        "crm_verify" => crm_verify::run(),
        "cibadmin" => cibadmin::run(),
        "stonith_admin" => stonith_admin::run(),
        "pacemakerd" => Ok(pacemakerd::run()),
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

/// Where this node's daemons' sockets are.
fn socket_dir() -> PathBuf {
    std::env::var_os("BATON_SOCKET_DIR").map_or_else(|| PathBuf::from("/run/baton"), PathBuf::from)
}

/// This node's crmd.
fn live() -> Live {
    Live::new(&socket_dir())
}

/// A tool's arguments; a usage error prints clap's sentence and is
/// Pacemaker's usage exit (64), `--help` prints the help and succeeds.
fn parse<T: clap::Parser>() -> Result<T, ExitCode> {
    T::try_parse().map_err(|error| {
        let _ = error.print();
        if error.use_stderr() {
            ExitCode::from(EXIT_USAGE)
        } else {
            ExitCode::SUCCESS
        }
    })
}
