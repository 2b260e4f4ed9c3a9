//! The crmsh configure language given meaning against a Pacemaker CIB.
//!
//! [`apply`] edits a [`Cib`](baton_cib::Cib) the way `crm configure` does
//! (crmsh 4.4's ids and element layout), [`show`] reads a CIB back into
//! commands that load to the same configuration, and [`verify`] checks a
//! configuration the way `crm_verify -L` does; [`change_resource`] makes
//! the changes of `crm resource`, and [`cleanup_targets`] what its
//! `cleanup` and `refresh` clear. Everything here is pure:
//! whether an agent is installed is asked through [`AgentLookup`].

pub mod apply;
pub mod cleanup;
mod ids;
pub mod resource;
pub mod show;
mod suggest;
pub mod verify;

pub use apply::{AgentLookup, AgentParameter, ApplyError, Notice, apply, replace};
pub use cleanup::{CleanupScope, CleanupTarget, cleanup_targets};
pub use resource::{AttributeSet, ResourceChange, change_resource};
pub use show::{Shown, show, show_text};
pub use verify::{Finding, Severity, verify};
