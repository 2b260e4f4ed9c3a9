//! The one definition of baton's command line: help, man pages and shell
//! completions all come from these types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

/// Manage a baton high-availability cluster.
///
/// Exit codes: 0 done; 1 problems found (verify); 2 bad input or unusable
/// configuration; 3 the cluster could not be reached.
#[derive(Debug, Parser)]
#[command(name = "baton", version, propagate_version = true)]
pub struct Cli {
    /// Directory holding the daemons' sockets (ringd.sock, crmd.sock, …).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/run/baton",
        env = "BATON_SOCKET_DIR"
    )]
    pub socket_dir: PathBuf,
    /// Output format of commands that show state.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// The sandbox's directory (default `$XDG_RUNTIME_DIR/baton-sandbox`,
    /// else `/tmp/baton-sandbox-$UID`).
    #[arg(long, global = true, value_name = "DIR", env = "BATON_SANDBOX_DIR")]
    pub sandbox_dir: Option<PathBuf>,
    /// Talk to sandbox node N (its sockets in the sandbox directory)
    /// instead of `--socket-dir`.
    #[arg(long = "node", id = "sandbox_node", global = true, value_name = "N")]
    pub sandbox_node: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check or convert cluster configuration files (cluster.toml, corosync.conf).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run resource agent actions on this node through baton-lrmd.
    #[command(subcommand)]
    Lrm(crate::lrm_cmd::LrmCommand),
    /// Resource agents: classes, agents, parameters (like `crm ra`).
    #[command(subcommand)]
    Ra(crate::ra_cmd::RaCommand),
    /// This node's Totem ring: id, members, packet drops (like `corosync-cfgtool -s`).
    #[command(subcommand)]
    Ring(crate::ring_cmd::RingCommand),
    /// votequorum: votes, quorum, flags, members (like `corosync-quorumtool -s`).
    #[command(subcommand)]
    Quorum(crate::quorum_cmd::QuorumCommand),
    /// Edit the CIB in the crmsh configure language (like `crm configure`).
    Configure(crate::configure_cmd::ConfigureArgs),
    /// Check the CIB for errors (like `crm_verify -L`); exit 1 when there are errors.
    Verify(crate::verify_cmd::VerifyArgs),
    /// Read, import or replace a whole CIB (like `cibadmin -Q` / `--replace`).
    #[command(subcommand)]
    Cib(crate::cib_cmd::CibCommand),
    /// Show what the scheduler would do with a CIB file (like `crm_simulate`).
    Simulate(crate::simulate_cmd::SimulateArgs),
    /// The cluster's nodes, resources and failures (like `crm status`).
    Status(crate::status_cmd::StatusArgs),
    /// The status, refreshed in place (like `crm_mon`; `-1` once).
    Mon(crate::mon_cmd::MonArgs),
    /// Why a resource runs where it runs, or why it does not run.
    Explain(crate::explain_cmd::ExplainArgs),
    /// Node attributes (like `crm node attribute` / `crm node status-attr`).
    #[command(subcommand)]
    Node(crate::node_cmd::NodeCommand),
    /// Fencing: the history every node's fencer shares, and whether the
    /// devices reach a node (like `stonith_admin --history` and `--list`).
    #[command(subcommand)]
    Fence(crate::fence_cmd::FenceCommand),
    /// Start, stop, move, ban, clear, manage and locate resources (like
    /// `crm resource`).
    #[command(subcommand)]
    Resource(crate::resource_cmd::ResourceCommand),
    /// Cluster options, as pcs sets them (`property set NAME=VALUE`).
    #[command(subcommand)]
    Property(crate::pcs_cmd::PropertyCommand),
    /// Constraints, as pcs writes them (`constraint order|colocation|location`).
    #[command(subcommand)]
    Constraint(crate::pcs_cmd::ConstraintCommand),
    /// A whole cluster on this machine, as an ordinary user: `up`, `status`,
    /// `kill N`, `restart N`, `down`.
    #[command(subcommand)]
    Sandbox(crate::sandbox::SandboxCommand),
    /// Man pages and shell completions, for packaging.
    #[command(subcommand, hide = true)]
    Generate(crate::generate_cmd::GenerateCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show the effective configuration of FILE, where each value comes from,
    /// and every problem; exit 0 when it is usable, 2 when not.
    Check(FileArg),
    /// Print the cluster.toml equivalent of FILE (e.g. a corosync.conf).
    Import(FileArg),
}

#[derive(Debug, Args)]
pub struct FileArg {
    /// A cluster.toml, or a corosync.conf of any generation (1.x, 2.x, 3.x).
    pub file: PathBuf,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks names, ids and flags of every subcommand only here (or
    /// when that subcommand first runs).
    #[test]
    fn every_subcommand_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
