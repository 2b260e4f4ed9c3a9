//! Deterministic simulator for the ring stack (STYLE rules 6–8): N real
//! `baton_totem::Totem` cores on virtual time over a seeded, faulty network,
//! each carrying votequorum and process groups fed as ringd feeds them, with
//! a seeded group workload and invariants checked after every step. One seed
//! replays bit-for-bit.

pub mod invariants;
pub mod options;
pub mod rng;
pub mod sim;

pub use options::{FaultKinds, SimOptions, Swarm};
pub use sim::{RunSummary, Simulation, Violation, run};
