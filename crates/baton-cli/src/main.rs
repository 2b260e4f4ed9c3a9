//! `baton`: the admin command.
//!
//! Parse (clap) → resolve → execute. Errors are printed once, at the top, as
//! one sentence with its causes; the exit code tells scripts what happened
//! (see [`exit`]).

mod cib_cmd;
mod cleanup_cmd;
mod cli;
mod cluster_status;
mod config_cmd;
mod configure_cmd;
mod exit;
mod explain_cmd;
mod fence_cmd;
mod generate_cmd;
mod live;
mod lrm_cmd;
mod mon_cmd;
mod node_cmd;
mod output;
mod pcs_cmd;
mod quorum_cmd;
mod ra_cmd;
mod resource_cmd;
mod ring_cmd;
mod sandbox;
mod shell;
mod simulate_cmd;
mod status_cmd;
mod tools;
mod verify_cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    if let Some(tool) = tools::invoked_as() {
        return tools::run(&tool);
    }
    let args = cli::Cli::parse();
    match run(&args) {
        Ok(code) => code.into(),
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("baton: {error:#}");
            exit::Code::of_error(&error).into()
        }
    }
}

fn run(args: &cli::Cli) -> anyhow::Result<exit::Code> {
    let sockets = socket_dir(args)?;
    let sockets = sockets.as_path();
    match &args.command {
        cli::Command::Config(command) => config_cmd::run(command, args.output),
        cli::Command::Lrm(command) => lrm_cmd::run(command, sockets, args.output),
        cli::Command::Ra(command) => ra_cmd::run(command, sockets, args.output),
        cli::Command::Ring(command) => ring_cmd::run(command, sockets, args.output),
        cli::Command::Quorum(command) => quorum_cmd::run(command, sockets, args.output),
        cli::Command::Configure(command) => configure_cmd::run(command, sockets, args.output),
        cli::Command::Verify(command) => verify_cmd::run(command, sockets, args.output),
        cli::Command::Cib(command) => cib_cmd::run(command, sockets, args.output),
        cli::Command::Simulate(command) => simulate_cmd::run(command, args.output),
        cli::Command::Status(command) => status_cmd::run(command, sockets, args.output),
        cli::Command::Mon(command) => mon_cmd::run(command, sockets, args.output),
        cli::Command::Explain(command) => explain_cmd::run(command, sockets, args.output),
        cli::Command::Node(command) => node_cmd::run(command, sockets, args.output),
        cli::Command::Fence(command) => fence_cmd::run(command, sockets, args.output),
        cli::Command::Generate(command) => generate_cmd::run(command),
        cli::Command::Resource(command) => resource_cmd::run(command, sockets, args.output),
        cli::Command::Property(command) => pcs_cmd::property(command, sockets),
        cli::Command::Constraint(command) => pcs_cmd::constraint(command, sockets),
        cli::Command::Sandbox(command) => {
            sandbox::run(command, args.sandbox_dir.as_deref(), args.output)
        }
    }
}

/// `--node N` names a sandbox node's sockets; otherwise `--socket-dir`.
fn socket_dir(args: &cli::Cli) -> anyhow::Result<std::path::PathBuf> {
    let Some(node) = &args.sandbox_node else {
        return Ok(args.socket_dir.clone());
    };
    let layout = sandbox::Layout::resolve(args.sandbox_dir.as_deref());
    let number = sandbox::existing_node(&layout, node)?;
    Ok(layout.sockets(number))
}

/// `baton … | head` closing the pipe early is not an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
