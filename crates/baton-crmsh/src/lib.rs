//! The crmsh configuration language (`crm configure`), as admins type it.
//!
//! [`parse`] turns text into [`ast::Command`]s, with errors naming line,
//! column and what was expected; [`print`] writes commands back in the layout
//! `crm configure show` uses. Giving the commands meaning (building or
//! reading a CIB) is the job of the CIB mapping, not of this crate.

pub mod ast;
pub mod error;
pub mod lexer;
mod parser;
pub mod print;

pub use error::{ParseError, Position};
pub use parser::{COMMANDS, INFINITY, Located, parse};
