//! `stonith_admin`: the fencing history (`-H NODE`, `'*'` for every node)
//! and fencing a node on request (`-B`/`-F NODE`), which baton carries out
//! through the cluster, as `baton node fence NODE --force` does, so the
//! cluster knows the node is fenced before it recovers what ran there.

use std::process::ExitCode;

use clap::Parser;

use crate::fence_cmd::FenceCommand;
use crate::output::Format;

#[derive(Debug, Parser)]
#[command(
    name = "stonith_admin",
    about = "baton's stonith_admin: the fencing history, and fencing on request",
    disable_version_flag = true
)]
struct Args {
    /// Fencings of NODE ('*' for every node), newest first.
    #[arg(short = 'H', long = "history", value_name = "NODE")]
    history: Option<String>,
    /// Fence NODE (the cluster's fencing-action, reboot by default).
    #[arg(short = 'B', long = "reboot", value_name = "NODE")]
    reboot: Option<String>,
    /// Fence NODE (as -B: the cluster carries it out with its fencing-action).
    #[arg(short = 'F', long = "fence", value_name = "NODE")]
    fence: Option<String>,
}

pub fn run() -> anyhow::Result<ExitCode> {
    let args = match super::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return Ok(code),
    };
    if let Some(node) = args.history {
        let node = Some(node).filter(|n| n != "*");
        crate::fence_cmd::run(
            &FenceCommand::History { node },
            &super::socket_dir(),
            Format::Text,
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(node) = args.reboot.or(args.fence) else {
        eprintln!("stonith_admin: say what to do: -H NODE, -B NODE or -F NODE");
        return Ok(ExitCode::from(super::EXIT_USAGE));
    };
    let live = super::live();
    let (cib, _) = live.cib()?;
    if !cib.nodes().any(|n| n.uname() == Some(node.as_str())) {
        eprintln!(
            "stonith_admin: there is no node named {node} in the cluster; nothing was fenced"
        );
        return Ok(ExitCode::from(super::EXIT_NO_SUCH_OBJECT));
    }
    live.set_attribute(&node, "terminate", Some("true"), false)?;
    println!("Fencing of {node} requested; `stonith_admin --history {node}` shows when it is done");
    Ok(ExitCode::SUCCESS)
}
