//! `baton-cibgen`: prints a generated CIB, for benchmarks and for replaying
//! a differential-test seed by hand with `crm_simulate -x FILE -S`.

use clap::{Parser, ValueEnum};

use baton_cibgen::{Spec, State};

/// Print a random CIB (deterministic from --seed) on stdout.
#[derive(Debug, Parser)]
#[command(name = "baton-cibgen")]
struct Args {
    /// Cluster nodes (at least 1).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    nodes: u16,
    /// Configured primitives, counting group members and clone children.
    #[arg(long, default_value_t = 10)]
    primitives: usize,
    #[arg(long, value_enum, default_value_t = StateArg::Cold)]
    state: StateArg,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The differential test's small cluster for this seed; overrides
    /// --nodes, --primitives and --state.
    #[arg(long)]
    small: bool,
    /// The differential test's busy cluster for this seed; overrides
    /// --nodes, --primitives and --state.
    #[arg(long, conflicts_with = "small")]
    busy: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StateArg {
    /// Nothing probed or running yet.
    Cold,
    /// Everything running and probed elsewhere.
    Running,
    /// Mid-life: failures, lost and standby nodes, no quorum...
    Busy,
}

fn main() {
    let args = Args::parse();
    let spec = if args.small {
        baton_cibgen::small(args.seed)
    } else if args.busy {
        baton_cibgen::busy(args.seed)
    } else {
        Spec {
            nodes: usize::from(args.nodes),
            primitives: args.primitives,
            state: match args.state {
                StateArg::Cold => State::Cold,
                StateArg::Running => State::Running,
                StateArg::Busy => State::Busy,
            },
            seed: args.seed,
        }
    };
    print!("{}", baton_cibgen::generate(&spec));
}
