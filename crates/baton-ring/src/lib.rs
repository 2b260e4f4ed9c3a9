//! The reusable, non-daemon parts of `baton-ringd`: packet sealing with the
//! cluster authkey, loading that key safely, choosing the local node from
//! the nodelist, and the framing of what rides in ring messages.

pub mod authkey;
pub mod bundle;
pub mod local;
pub mod quorum;
pub mod seal;

#[cfg(test)]
mod seal_tests;
