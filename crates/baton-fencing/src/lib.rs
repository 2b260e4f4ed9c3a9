//! What fencing needs to know, without running anything: the fencing
//! devices the CIB defines (the `stonith`-class primitives, with
//! Pacemaker's `pcmk_*` device parameters), the `fencing-topology` levels,
//! which devices may fence a node and in which order, the delay before
//! fencing, and the text a fence agent reads on its stdin.
//!
//! baton-fenced (the daemon) runs the agents and talks to the other nodes;
//! this crate only answers questions about the configuration, so every
//! answer is a function of its inputs.

mod device;
mod reach;
mod registry;
mod topology;

pub use device::{Device, HostArgument, HostCheck, NodeDelay};
pub use reach::{Reach, ReachCheck};
pub use registry::{Candidate, Claim, FencePlan, Problem, Registry};
pub use topology::{Level, LevelTarget};

/// What a fence agent can do, from its meta-data: decides the default
/// `pcmk_host_check` and whether `reboot` must be remapped to `off`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentCapabilities {
    pub list: bool,
    pub status: bool,
    pub reboot: bool,
}
