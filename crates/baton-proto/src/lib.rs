//! baton's gRPC contract and the Unix-socket plumbing every daemon and the CLI
//! share.
//!
//! The messages and services are generated at build time from `proto/` by a
//! pure-Rust protobuf compiler. [`socket`] binds a daemon's socket safely and
//! serves on it; [`client`] connects with a deadline on every call.

pub mod client;
pub mod daemon_info;
pub mod group;
pub mod socket;
pub mod tools;

/// `baton.crmd.v1`: the `Crmd` service of baton-crmd (the cluster's CIB).
pub mod crmd {
    #![allow(missing_debug_implementations, clippy::unwrap_used)]
    tonic::include_proto!("baton.crmd.v1");
}

/// `baton.daemon.v1`: the `Daemon` service every daemon serves.
pub mod daemon {
    #![allow(missing_debug_implementations, clippy::unwrap_used)]
    tonic::include_proto!("baton.daemon.v1");
}

/// `baton.fenced.v1`: the `Fenced` service of baton-fenced (fence agents).
pub mod fenced {
    #![allow(missing_debug_implementations, clippy::unwrap_used)]
    tonic::include_proto!("baton.fenced.v1");
}

/// `baton.lrmd.v1`: the `Lrmd` service of baton-lrmd (resource agents).
pub mod lrmd {
    #![allow(missing_debug_implementations, clippy::unwrap_used)]
    tonic::include_proto!("baton.lrmd.v1");
}

/// `baton.ring.v1`: the `Ring` service of baton-ringd (Totem membership) and
/// its `ProcessGroups` service (CPG).
pub mod ring {
    #![allow(missing_debug_implementations, clippy::unwrap_used)]
    tonic::include_proto!("baton.ring.v1");
}
