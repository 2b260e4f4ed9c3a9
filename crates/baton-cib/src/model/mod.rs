//! Typed views over a CIB document.
//!
//! The DOM stays the single source of truth: views borrow elements and read
//! attributes on demand, and edits go to the DOM (directly or through the
//! helpers on [`Cib`]). Whatever a view does not model (unknown attributes,
//! unknown elements, templates, bundles, ACLs) is therefore never lost.
//! Every view exposes its element through `element()` for the rest.

mod cib;
mod constraints;
mod nodes;
mod nvset;
mod options;
mod resources;
mod status;
mod value;

pub use cib::{Cib, CibError};
pub use constraints::{Colocation, Constraint, Location, Order, OrderKind, ResourceSet, Ticket};
pub use nodes::Node;
pub use nvset::{BooleanOp, DateExpression, Expression, NvPair, NvSet, Rule, RuleTerm};
pub use options::{canonical_option_name, option_spellings};
pub use resources::{Clone, Group, Op, Primitive, Resource};
pub use status::{LrmResource, LrmRscOp, NodeState, TransitionKey, TransitionMagic};
pub use value::{ModelError, parse_bool};
