//! Syntax errors name the line, the column and what was expected.

use std::fmt;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: expected {expected}, found {found}")]
pub struct ParseError {
    pub at: Position,
    pub expected: String,
    pub found: String,
}

impl ParseError {
    pub fn new(at: Position, expected: impl Into<String>, found: impl Into<String>) -> Self {
        Self {
            at,
            expected: expected.into(),
            found: found.into(),
        }
    }
}
