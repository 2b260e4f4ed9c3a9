//! Splitting crmsh text into statements of tokens.
//!
//! A statement is one line; a trailing `\` joins the next line to it. A line
//! whose first non-blank character is `#` is a comment, unless it continues
//! a statement: there `#uname eq node1` is part of a rule. Quotes group a
//! value that holds blanks; `key="a b"` is one token whose value is unquoted.

use crate::error::{ParseError, Position};

/// At most this many tokens in one statement: bounds the work on hostile input.
pub const MAX_TOKENS_PER_STATEMENT: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub at: Position,
    /// Whether any part of the token was quoted, so `"inf:"` is a value and
    /// not a score.
    pub quoted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub tokens: Vec<Token>,
}

impl Statement {
    pub fn start(&self) -> Position {
        self.tokens.first().map(|t| t.at).unwrap_or_default()
    }
}

/// Splits `text` into statements; blank and comment-only lines yield none.
pub fn statements(text: &str) -> Result<Vec<Statement>, ParseError> {
    let mut result = Vec::new();
    let mut current = Vec::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        if current.is_empty() && line.trim_start().starts_with('#') {
            continue;
        }
        let (body, continued) = match line.trim_end().strip_suffix('\\') {
            Some(body) => (body, true),
            None => (line, false),
        };
        tokenize_line(body, line_number, &mut current)?;
        if !continued && !current.is_empty() {
            result.push(Statement {
                tokens: std::mem::take(&mut current),
            });
        }
    }
    if !current.is_empty() {
        result.push(Statement { tokens: current });
    }
    Ok(result)
}

fn tokenize_line(line: &str, line_number: usize, out: &mut Vec<Token>) -> Result<(), ParseError> {
    let mut chars = line.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let at = Position {
            line: line_number,
            column: line[..start].chars().count() + 1,
        };
        if matches!(c, '(' | ')' | '[' | ']') {
            chars.next();
            push(
                out,
                Token {
                    text: c.to_string(),
                    at,
                    quoted: false,
                },
            )?;
            continue;
        }
        let mut text = String::new();
        let mut quoted = false;
        while let Some(&(_, c)) = chars.peek() {
            if c.is_whitespace() || (matches!(c, '(' | ')' | '[' | ']') && text.is_empty()) {
                break;
            }
            chars.next();
            if c == '"' || c == '\'' {
                quoted = true;
                read_quoted(&mut chars, c, &mut text, at)?;
            } else if c == '\\' {
                match chars.next() {
                    Some((_, escaped)) => text.push(escaped),
                    None => text.push('\\'),
                }
            } else {
                text.push(c);
            }
        }
        push(out, Token { text, at, quoted })?;
    }
    Ok(())
}

fn read_quoted(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    quote: char,
    text: &mut String,
    at: Position,
) -> Result<(), ParseError> {
    loop {
        match chars.next() {
            Some((_, c)) if c == quote => return Ok(()),
            Some((_, '\\')) if quote == '"' => match chars.next() {
                Some((_, escaped)) => text.push(escaped),
                None => break,
            },
            Some((_, c)) => text.push(c),
            None => break,
        }
    }
    Err(ParseError::new(
        at,
        format!("a closing {quote} for the quote that starts here"),
        "the end of the line",
    ))
}

fn push(out: &mut Vec<Token>, token: Token) -> Result<(), ParseError> {
    if out.len() >= MAX_TOKENS_PER_STATEMENT {
        return Err(ParseError::new(
            token.at,
            format!("at most {MAX_TOKENS_PER_STATEMENT} words in one command"),
            "more",
        ));
    }
    out.push(token);
    Ok(())
}
