//! Resource agents: how they are named, where they live, what environment
//! they get, what their exit codes mean, what their meta-data says, and how
//! one is run under supervision.
//!
//! [`name`], [`outcome`], [`env`], [`metadata`], [`lsb`] and [`capture`] are
//! pure. [`exec`] runs one process (process group, timeout, bounded output);
//! [`run`] puts the two together per class. The daemon, baton-lrmd, adds
//! queuing, recurring monitors and gRPC around [`run::execute`].

pub mod capture;
pub mod env;
pub mod exec;
pub mod fence;
pub mod list;
pub mod lsb;
pub mod metadata;
pub mod name;
pub mod outcome;
pub mod request;
pub mod run;
pub mod systemd;
