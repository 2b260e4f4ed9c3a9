//! The reusable, non-daemon parts of `baton-ringd`: packet sealing with the
//! cluster authkey, loading that key safely, and choosing the local node
//! from the nodelist.

pub mod authkey;
pub mod local;
pub mod quorum;
pub mod seal;

#[cfg(test)]
mod seal_tests;
