//! A small mutable arena DOM for CIB documents.
//!
//! Elements live in one `Vec` and refer to each other by [`ElementId`], so the
//! tree can be edited in place without reference counting. Attribute order is
//! kept as read because digests and diffs depend on it. Whitespace-only text
//! between elements is dropped on parse (the writer re-indents), comments and
//! processing instructions are dropped, and everything else is preserved.

mod edit;
mod index;
mod parse;
mod tree;
mod write;

pub use edit::TreeError;
pub use index::IdIndex;
pub use parse::{MAX_DEPTH, MAX_INPUT_BYTES, ParseError, ParseErrorKind};
pub use tree::{Attribute, Child, Document, Element, ElementId, ElementRef};
pub use write::Style;
