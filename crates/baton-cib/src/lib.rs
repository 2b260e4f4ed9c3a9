//! The Cluster Information Base: Pacemaker's XML schema held in an editable
//! arena DOM ([`xml`]), typed views for the scheduler and edit helpers
//! ([`model`]), scores, durations, versions and digests, and durable storage
//! ([`persist`]).
//!
//! Everything here is pure (no clock, no network) except [`persist`], which
//! is the only module that touches files.

pub mod duration;
pub mod model;
pub mod persist;
pub mod score;
pub mod version;
pub mod xml;

pub use model::{Cib, CibError};
pub use score::Score;
pub use version::Version;
