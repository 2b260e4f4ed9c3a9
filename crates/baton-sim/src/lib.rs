//! Deterministic simulator for the Totem core (STYLE rules 6–8): N real
//! `baton_totem::Totem` cores on virtual time over a seeded, faulty network,
//! with invariants checked after every step. One seed replays bit-for-bit.

pub mod invariants;
pub mod options;
pub mod rng;
pub mod sim;

pub use options::{FaultKinds, SimOptions, Swarm};
pub use sim::{RunSummary, Simulation, Violation, run};
