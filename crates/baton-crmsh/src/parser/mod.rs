//! Recursive-descent parser from statements of tokens to [`Command`]s.

mod constraints;
mod resources;

use crate::ast::{AttrSet, Command, Nvpair, PropertyKind, PropertySet, Score};
use crate::error::{ParseError, Position};
use crate::lexer::{self, Statement, Token};

/// Scores saturate here, as Pacemaker's do.
pub const INFINITY: i64 = 1_000_000;

/// The commands that make up a configuration, in the order crmsh accepts them.
pub const COMMANDS: [&str; 12] = [
    "node",
    "primitive",
    "group",
    "clone",
    "ms",
    "location",
    "colocation",
    "collocation",
    "order",
    "property",
    "rsc_defaults",
    "op_defaults",
];

/// A parsed command and where it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub at: Position,
    pub command: Command,
}

/// Parses a whole configuration text (a file for `load`, or one command).
pub fn parse(text: &str) -> Result<Vec<Located>, ParseError> {
    lexer::statements(text)?
        .iter()
        .map(|statement| {
            Ok(Located {
                at: statement.start(),
                command: parse_statement(statement)?,
            })
        })
        .collect()
}

fn parse_statement(statement: &Statement) -> Result<Command, ParseError> {
    let mut cursor = Cursor::new(statement);
    let keyword = cursor.word("a command such as primitive, group or location")?;
    let command = match keyword.text.as_str() {
        "node" => Command::Node(resources::node(&mut cursor)?),
        "primitive" => Command::Primitive(resources::primitive(&mut cursor)?),
        "group" => Command::Group(resources::group(&mut cursor)?),
        "clone" => Command::Clone(resources::clone(&mut cursor, false)?),
        "ms" | "master" => Command::Clone(resources::clone(&mut cursor, true)?),
        "location" => Command::Location(constraints::location(&mut cursor)?),
        "colocation" | "collocation" => Command::Colocation(constraints::colocation(&mut cursor)?),
        "order" => Command::Order(constraints::order(&mut cursor)?),
        "property" => property(&mut cursor, PropertyKind::Cluster)?,
        "rsc_defaults" => property(&mut cursor, PropertyKind::RscDefaults)?,
        "op_defaults" => property(&mut cursor, PropertyKind::OpDefaults)?,
        "delete" => Command::Delete(cursor.rest_words("an id to delete")?),
        _ => {
            return Err(ParseError::new(
                keyword.at,
                format!("a command ({})", COMMANDS.join(", ")),
                format!("`{}`", keyword.text),
            ));
        }
    };
    cursor.finish()?;
    Ok(command)
}

/// `property [$id=ID | ID:] name=value …`, likewise rsc_defaults/op_defaults.
fn property(cursor: &mut Cursor<'_>, kind: PropertyKind) -> Result<Command, ParseError> {
    let mut set = AttrSet::default();
    if let Some(token) = cursor.peek()
        && !token.quoted
        && token.text.len() > 1
        && token.text.strip_suffix(':').is_some_and(is_xml_id)
    {
        set.id = Some(token.text.trim_end_matches(':').to_owned());
        cursor.next();
    }
    cursor.attr_set_into(&mut set, &[])?;
    if set.pairs.is_empty() {
        return Err(cursor.expected("name=value"));
    }
    Ok(Command::Property(PropertySet { kind, set }))
}

pub(crate) struct Cursor<'a> {
    tokens: &'a [Token],
    index: usize,
    end: Position,
}

impl<'a> Cursor<'a> {
    fn new(statement: &'a Statement) -> Self {
        let end = statement
            .tokens
            .last()
            .map_or_else(Position::default, |t| Position {
                line: t.at.line,
                column: t.at.column + t.text.chars().count(),
            });
        Self {
            tokens: &statement.tokens,
            index: 0,
            end,
        }
    }

    pub(crate) fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.index)
    }

    pub(crate) fn peek_text(&self) -> Option<&'a str> {
        self.peek().map(|t| t.text.as_str())
    }

    /// Whether the next token is the bare keyword `word`.
    pub(crate) fn at_keyword(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| !t.quoted && t.text == word)
    }

    pub(crate) fn next(&mut self) -> Option<&'a Token> {
        let token = self.tokens.get(self.index)?;
        self.index += 1;
        Some(token)
    }

    pub(crate) fn expected(&self, what: &str) -> ParseError {
        match self.peek() {
            Some(token) => ParseError::new(token.at, what, format!("`{}`", token.text)),
            None => ParseError::new(self.end, what, "the end of the command"),
        }
    }

    pub(crate) fn word(&mut self, what: &str) -> Result<&'a Token, ParseError> {
        match self.peek() {
            Some(token) if !token.text.is_empty() => {
                self.index += 1;
                Ok(token)
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A name (node, attribute, agent, operation): a plain word that is not
    /// `name=value` and not punctuation.
    pub(crate) fn id(&mut self, what: &str) -> Result<String, ParseError> {
        match self.peek() {
            Some(token) if is_id(token) => {
                self.index += 1;
                Ok(token.text.clone())
            }
            _ => Err(self.expected(what)),
        }
    }

    /// The id of a CIB object: an XML ID, as Pacemaker requires.
    pub(crate) fn object_id(&mut self, what: &str) -> Result<String, ParseError> {
        let at = self.peek().map(|t| t.at);
        let id = self.id(what)?;
        if is_xml_id(&id) {
            return Ok(id);
        }
        Err(ParseError::new(
            at.unwrap_or(self.end),
            format!("{what} (letters, digits, '_', '-', '.', starting with a letter or '_')"),
            format!("`{id}`"),
        ))
    }

    pub(crate) fn rest_words(&mut self, what: &str) -> Result<Vec<String>, ParseError> {
        let mut words = Vec::new();
        while self.peek().is_some() {
            words.push(self.id(what)?);
        }
        if words.is_empty() {
            return Err(self.expected(what));
        }
        Ok(words)
    }

    pub(crate) fn finish(&self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.expected("the end of the command")),
        }
    }

    pub(crate) fn at_nvpair(&self) -> bool {
        self.peek().and_then(split_nvpair).is_some()
    }

    /// The next token as `name=value`, if it is one.
    pub(crate) fn nvpair(&mut self) -> Option<Nvpair> {
        let pair = split_nvpair(self.peek()?)?;
        self.index += 1;
        Some(pair)
    }

    /// Reads `[$id=ID] name=value…` into `set`, stopping at any of `stops`
    /// or at a token that is not `name=value`.
    pub(crate) fn attr_set_into(
        &mut self,
        set: &mut AttrSet,
        stops: &[&str],
    ) -> Result<(), ParseError> {
        while let Some(token) = self.peek() {
            if !token.quoted && stops.contains(&token.text.as_str()) {
                break;
            }
            let Some(pair) = split_nvpair(token) else {
                break;
            };
            self.index += 1;
            if pair.name == "$id" {
                set.id = Some(pair.value);
            } else if pair.name.starts_with('$') {
                return Err(ParseError::new(
                    token.at,
                    "$id=ID or name=value",
                    format!("`{}`", token.text),
                ));
            } else {
                set.pairs.push(pair);
            }
        }
        Ok(())
    }

    /// `name=value…` until a stop word or a non-pair token.
    pub(crate) fn pairs(&mut self, stops: &[&str]) -> Result<Vec<Nvpair>, ParseError> {
        let mut set = AttrSet::default();
        self.attr_set_into(&mut set, stops)?;
        if let Some(id) = set.id {
            set.pairs.insert(
                0,
                Nvpair {
                    name: "$id".into(),
                    value: id,
                },
            );
        }
        Ok(set.pairs)
    }
}

fn is_id(token: &Token) -> bool {
    is_name(&token.text) && split_nvpair(token).is_none()
}

/// A word that reads back as the same single token when printed bare.
pub(crate) fn is_word(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('#')
        && !text.chars().any(|c| {
            c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '(' | ')' | '[' | ']' | '=')
        })
}

/// Rule attributes such as `#uname` are words too.
fn is_name(text: &str) -> bool {
    is_word(text.strip_prefix('#').unwrap_or(text))
}

pub(crate) fn is_xml_id(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn split_nvpair(token: &Token) -> Option<Nvpair> {
    let (name, value) = token.text.split_once('=')?;
    if !is_name(name) && !name.starts_with('$') {
        return None;
    }
    Some(Nvpair {
        name: name.to_owned(),
        value: value.to_owned(),
    })
}

/// A score as crmsh writes it: `inf`, `+inf`, `-inf`, `INFINITY`, a number.
pub(crate) fn score_value(text: &str) -> Option<Score> {
    match text.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(Score::Infinity),
        "-inf" | "-infinity" => Some(Score::MinusInfinity),
        other => other
            .parse::<i64>()
            .ok()
            .map(|n| Score::Value(n.clamp(-INFINITY, INFINITY)))
            .map(|score| match score {
                Score::Value(INFINITY) => Score::Infinity,
                Score::Value(n) if n == -INFINITY => Score::MinusInfinity,
                other => other,
            }),
    }
}
