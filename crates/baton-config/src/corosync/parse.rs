//! The corosync.conf grammar: a tree of `name {` … `}` sections holding
//! `key: value` lines, each remembered with its line number.

use thiserror::Error;

/// corosync reads lines into a 512-byte buffer, so anything longer was never valid.
pub const MAX_LINE_CHARS: usize = 511;
/// Real files nest three deep; the bound keeps hostile input from building a
/// tree too deep to walk or drop.
pub const MAX_DEPTH: usize = 32;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub line: u32,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    pub key: String,
    pub value: String,
    pub line: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Section(Section),
    Pair(Pair),
}

/// A line that breaks the grammar. Display leaves out the line number, which
/// the caller puts in front together with the file name.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SyntaxError {
    #[error("the line is {chars} characters long but the limit is {MAX_LINE_CHARS}; shorten it")]
    LineTooLong { line: u32, chars: usize },
    #[error(
        "unexpected closing brace `}}`: no section is open here; remove it or add the missing `name {{` line"
    )]
    UnexpectedClose { line: u32 },
    #[error(
        "missing closing brace: section `{name}` opened here is never closed; add a `}}` line after its last entry"
    )]
    MissingClose { name: String, line: u32 },
    #[error("text after `{{` in `{name} {{`; put each entry on its own line below the opening one")]
    TextAfterBrace { name: String, line: u32 },
    #[error("sections are nested more than {MAX_DEPTH} deep; close the sections above this line")]
    TooDeep { line: u32 },
    #[error(
        "this line is not `name {{`, `}}` or `key: value`; fix it, or start it with `#` to make it a comment"
    )]
    NotAnEntry { line: u32 },
}

impl SyntaxError {
    pub fn line(&self) -> u32 {
        match self {
            Self::LineTooLong { line, .. }
            | Self::UnexpectedClose { line }
            | Self::MissingClose { line, .. }
            | Self::TextAfterBrace { line, .. }
            | Self::TooDeep { line }
            | Self::NotAnEntry { line } => *line,
        }
    }
}

fn is_blank(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}'
}

/// Parses a whole file into its top-level entries.
pub fn parse(text: &str) -> Result<Vec<Item>, SyntaxError> {
    let mut open: Vec<Section> = Vec::new();
    let mut top: Vec<Item> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let chars = raw.chars().count();
        if chars > MAX_LINE_CHARS {
            return Err(SyntaxError::LineTooLong { line, chars });
        }
        let text = raw.trim_matches(is_blank);
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if let Some((name, rest)) = text.split_once('{') {
            let name = name.trim_matches(is_blank);
            let name = name
                .strip_suffix(':')
                .unwrap_or(name)
                .trim_matches(is_blank)
                .to_owned();
            if !rest.trim_matches(is_blank).is_empty() {
                return Err(SyntaxError::TextAfterBrace { name, line });
            }
            if open.len() >= MAX_DEPTH {
                return Err(SyntaxError::TooDeep { line });
            }
            open.push(Section {
                name,
                line,
                items: Vec::new(),
            });
        } else if text == "}" {
            let done = open.pop().ok_or(SyntaxError::UnexpectedClose { line })?;
            open.last_mut()
                .map_or(&mut top, |s| &mut s.items)
                .push(Item::Section(done));
        } else if let Some((key, value)) = text.split_once(':') {
            let pair = Pair {
                key: key.trim_matches(is_blank).to_owned(),
                value: value.trim_matches(is_blank).to_owned(),
                line,
            };
            open.last_mut()
                .map_or(&mut top, |s| &mut s.items)
                .push(Item::Pair(pair));
        } else {
            return Err(SyntaxError::NotAnEntry { line });
        }
    }
    match open.pop() {
        Some(unclosed) => Err(SyntaxError::MissingClose {
            name: unclosed.name,
            line: unclosed.line,
        }),
        None => Ok(top),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(key: &str, value: &str, line: u32) -> Item {
        Item::Pair(Pair {
            key: key.into(),
            value: value.into(),
            line,
        })
    }

    #[test]
    fn sections_pairs_and_comments() {
        let text = "# top\ntotem {\r\n  bindnetaddr:192.168.192.0  \n\tcluster_name: a#b\n}\n";
        let items = parse(text).expect("valid");
        assert_eq!(
            items,
            vec![Item::Section(Section {
                name: "totem".into(),
                line: 2,
                items: vec![
                    pair("bindnetaddr", "192.168.192.0", 3),
                    pair("cluster_name", "a#b", 4)
                ],
            })]
        );
    }

    #[test]
    fn value_keeps_later_colons() {
        let items = parse("ring0_addr: fe80::1\n").expect("valid");
        assert_eq!(items, vec![pair("ring0_addr", "fe80::1", 1)]);
    }

    #[test]
    fn errors_name_the_right_line() {
        assert_eq!(
            parse("a {\n}\n}\n"),
            Err(SyntaxError::UnexpectedClose { line: 3 })
        );
        assert_eq!(
            parse("totem {\n  token: 1\n\nquorum {\n}\n"),
            Err(SyntaxError::MissingClose {
                name: "totem".into(),
                line: 1
            })
        );
        assert_eq!(
            parse("x {\n totem { token: 1\n}\n"),
            Err(SyntaxError::TextAfterBrace {
                name: "totem".into(),
                line: 2
            })
        );
        assert_eq!(
            parse("totem {\n  just words\n}\n"),
            Err(SyntaxError::NotAnEntry { line: 2 })
        );
        let long = format!("a: {}\n", "x".repeat(600));
        assert_eq!(
            parse(&long),
            Err(SyntaxError::LineTooLong {
                line: 1,
                chars: 603
            })
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "a {\n".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&deep), Err(SyntaxError::TooDeep { line: 33 }));
    }
}
