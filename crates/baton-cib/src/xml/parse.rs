//! Building the arena from quick-xml events.

use std::collections::HashSet;
use std::sync::Arc;

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::tree::{Attribute, Child, Document, Element, ElementId};

/// Deepest element nesting accepted. Real CIBs nest about a dozen levels
/// (rules inside rules are the deepest part); the bound keeps hostile input
/// from exhausting memory or the stack of recursive consumers.
pub const MAX_DEPTH: usize = 128;

/// Largest document accepted, in bytes. A large cluster's CIB is tens of MiB.
pub const MAX_INPUT_BYTES: usize = 512 * 1024 * 1024;

/// Why a document could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("XML error at line {line}, column {column}: {kind}")]
pub struct ParseError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    pub kind: ParseErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    #[error("the document is {len} bytes, expected at most {max}")]
    TooLarge { len: usize, max: usize },
    #[error("expected UTF-8 text but found an invalid byte sequence")]
    InvalidUtf8,
    #[error("expected a root element but the document has none")]
    NoRoot,
    #[error("expected the end of the document after the root element but found element `{0}`")]
    SecondRoot(String),
    #[error("expected only whitespace outside the root element")]
    TextOutsideRoot,
    #[error("element `{name}` is nested deeper than {max} levels")]
    TooDeep { name: String, max: usize },
    #[error("expected `</{0}>` before the end of the document")]
    Unclosed(String),
    #[error("unknown entity `&{0};`, expected amp, lt, gt, quot, apos or a character reference")]
    UnknownEntity(String),
    #[error("expected XML character data but found the control character U+{0:04X}")]
    InvalidChar(u32),
    #[error("invalid character reference `&{0};`")]
    BadCharRef(String),
    #[error("expected the XML declaration only at the start of the document")]
    MisplacedDeclaration,
    #[error("unsupported encoding `{0}`, expected UTF-8")]
    Encoding(String),
    #[error("expected an element name but found `{0}`")]
    BadName(String),
    #[error("bad attribute in element `{element}`: {reason}")]
    Attribute { element: String, reason: String },
    #[error("{0}")]
    Syntax(String),
}

impl Document {
    /// Parses a document from bytes, which must be UTF-8 (a BOM is allowed).
    pub fn parse_bytes(input: &[u8]) -> Result<Document, ParseError> {
        match std::str::from_utf8(input) {
            Ok(s) => Document::parse(s),
            Err(e) => {
                let good = input.get(..e.valid_up_to()).unwrap_or_default();
                // The prefix is valid UTF-8 by construction.
                let text = std::str::from_utf8(good).unwrap_or_default();
                Err(error_at(text, text.len(), ParseErrorKind::InvalidUtf8))
            }
        }
    }

    /// Parses a document from text.
    pub fn parse(input: &str) -> Result<Document, ParseError> {
        if input.len() > MAX_INPUT_BYTES {
            return Err(error_at(
                "",
                0,
                ParseErrorKind::TooLarge {
                    len: input.len(),
                    max: MAX_INPUT_BYTES,
                },
            ));
        }
        let input = input.strip_prefix('\u{feff}').unwrap_or(input);
        Builder::new(input).run()
    }
}

fn error_at(input: &str, offset: usize, kind: ParseErrorKind) -> ParseError {
    let offset = offset.min(input.len());
    let before = input.get(..offset).unwrap_or(input);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    ParseError {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
        kind,
    }
}

struct Builder<'i> {
    input: &'i str,
    reader: Reader<&'i [u8]>,
    elements: Vec<Element>,
    root: Option<ElementId>,
    stack: Vec<ElementId>,
    text: String,
    text_offset: usize,
    attrs: Vec<Attribute>,
    names: HashSet<Arc<str>>,
    version: XmlVersion,
    declaration: bool,
}

impl<'i> Builder<'i> {
    fn new(input: &'i str) -> Self {
        let mut reader = Reader::from_str(input);
        reader.config_mut().check_end_names = true;
        Builder {
            input,
            reader,
            // A CIB line holds about one element; this avoids most regrowth.
            elements: Vec::with_capacity(input.len() / 128),
            root: None,
            stack: Vec::new(),
            text: String::new(),
            text_offset: 0,
            attrs: Vec::new(),
            names: HashSet::new(),
            version: XmlVersion::Implicit1_0,
            declaration: false,
        }
    }

    /// Element and attribute names repeat endlessly in a CIB; sharing them
    /// saves about half of the allocations of a parse.
    fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(known) = self.names.get(name) {
            return Arc::clone(known);
        }
        let new: Arc<str> = Arc::from(name);
        self.names.insert(Arc::clone(&new));
        new
    }

    fn err(&self, offset: usize, kind: ParseErrorKind) -> ParseError {
        error_at(self.input, offset, kind)
    }

    fn run(mut self) -> Result<Document, ParseError> {
        loop {
            let offset = pos(self.reader.buffer_position());
            let event = match self.reader.read_event() {
                Ok(ev) => ev,
                Err(e) => {
                    let at = pos(self.reader.error_position());
                    return Err(self.err(at, ParseErrorKind::Syntax(e.to_string())));
                }
            };
            match event {
                Event::Start(tag) => {
                    let id = self.open(&tag, offset)?;
                    self.stack.push(id);
                }
                Event::Empty(tag) => {
                    self.open(&tag, offset)?;
                }
                Event::End(_) => {
                    self.flush_text()?;
                    self.stack.pop();
                }
                Event::Text(t) => self.add_text(&t.xml_content(self.version), offset)?,
                Event::CData(t) => self.add_text(&t.xml_content(self.version), offset)?,
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) if is_xml_char(c) => c.to_string(),
                        Ok(Some(_)) | Err(_) => {
                            return Err(self.err(offset, ParseErrorKind::BadCharRef(r.to_string())));
                        }
                        Ok(None) => match resolve_predefined_entity(&r) {
                            Some(s) => s.to_owned(),
                            None => {
                                return Err(
                                    self.err(offset, ParseErrorKind::UnknownEntity(r.to_string()))
                                );
                            }
                        },
                    };
                    self.add_text(&resolved, offset)?;
                }
                Event::Decl(decl) => {
                    if offset != 0 {
                        return Err(self.err(offset, ParseErrorKind::MisplacedDeclaration));
                    }
                    self.version = decl
                        .xml_version()
                        .map_err(|e| self.err(offset, ParseErrorKind::Syntax(e.to_string())))?;
                    if let Some(enc) = decl.encoding() {
                        let enc = enc
                            .map_err(|e| self.err(offset, ParseErrorKind::Syntax(e.to_string())))?;
                        if !enc.eq_ignore_ascii_case("utf-8") && !enc.eq_ignore_ascii_case("utf8") {
                            return Err(
                                self.err(offset, ParseErrorKind::Encoding(enc.into_owned()))
                            );
                        }
                    }
                    self.declaration = true;
                }
                // Comments and processing instructions carry nothing the
                // cluster uses; a DOCTYPE's entity declarations are not
                // supported, so its use shows up as an unknown entity.
                Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Eof => break,
            }
        }
        self.flush_text()?;
        let end = self.input.len();
        if let Some(open) = self.stack.last() {
            let name = self.elements[open.index()].name.to_string();
            return Err(self.err(end, ParseErrorKind::Unclosed(name)));
        }
        let Some(root) = self.root else {
            return Err(self.err(end, ParseErrorKind::NoRoot));
        };
        Ok(Document {
            elements: self.elements,
            root,
            declaration: self.declaration,
        })
    }

    fn add_text(&mut self, s: &str, offset: usize) -> Result<(), ParseError> {
        self.check_chars(s, offset)?;
        if self.text.is_empty() {
            self.text_offset = offset;
        }
        self.text.push_str(s);
        Ok(())
    }

    /// quick-xml passes control characters through; other XML tools reject
    /// them, so we do too rather than write files only we can read.
    fn check_chars(&self, s: &str, offset: usize) -> Result<(), ParseError> {
        // Byte scan first: only bytes below 0x20 and the lead byte of
        // U+FFFE/U+FFFF can start a non-XML character.
        let suspicious = s
            .bytes()
            .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF);
        if !suspicious {
            return Ok(());
        }
        match s.chars().find(|c| !is_xml_char(*c)) {
            Some(c) => Err(self.err(offset, ParseErrorKind::InvalidChar(u32::from(c)))),
            None => Ok(()),
        }
    }

    fn flush_text(&mut self) -> Result<(), ParseError> {
        if self.text.is_empty() {
            return Ok(());
        }
        let text = std::mem::take(&mut self.text);
        if text.chars().all(is_xml_space) {
            return Ok(());
        }
        match self.stack.last() {
            Some(parent) => {
                self.elements[parent.index()]
                    .children
                    .push(Child::Text(text));
                Ok(())
            }
            None => Err(self.err(self.text_offset, ParseErrorKind::TextOutsideRoot)),
        }
    }

    fn open(&mut self, tag: &BytesStart<'_>, offset: usize) -> Result<ElementId, ParseError> {
        self.flush_text()?;
        let raw_name = tag.name().into_inner();
        let owned = || raw_name.to_owned();
        if !is_xml_name(raw_name) {
            return Err(self.err(offset, ParseErrorKind::BadName(owned())));
        }
        if self.stack.is_empty() && self.root.is_some() {
            return Err(self.err(offset, ParseErrorKind::SecondRoot(owned())));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.err(
                offset,
                ParseErrorKind::TooDeep {
                    name: owned(),
                    max: MAX_DEPTH,
                },
            ));
        }
        let bad = |this: &Self, reason: String| {
            let kind = ParseErrorKind::Attribute {
                element: owned(),
                reason,
            };
            this.err(offset, kind)
        };
        // Collected in a reused buffer so each element's list is allocated
        // once at its exact size.
        let mut attrs = std::mem::take(&mut self.attrs);
        attrs.clear();
        for attr in tag.attributes() {
            let attr = attr.map_err(|e| bad(self, e.to_string()))?;
            let key = attr.key.into_inner();
            if !is_xml_name(key) {
                let reason = format!("expected an attribute name but found `{key}`");
                return Err(bad(self, reason));
            }
            let value = attr
                .normalized_value(self.version)
                .map_err(|e| bad(self, format!("`{key}`: {e}")))?;
            self.check_chars(&value, offset)?;
            attrs.push(Attribute {
                name: self.intern(key),
                value: value.into_owned(),
            });
        }
        let mut element = Element::new(self.intern(raw_name));
        element.attrs = Vec::with_capacity(attrs.len());
        element.attrs.append(&mut attrs);
        self.attrs = attrs;
        let id = ElementId(u32::try_from(self.elements.len()).map_err(|_| {
            self.err(
                offset,
                ParseErrorKind::TooLarge {
                    len: self.input.len(),
                    max: MAX_INPUT_BYTES,
                },
            )
        })?);
        element.parent = self.stack.last().copied();
        match element.parent {
            Some(p) => self.elements[p.index()].children.push(Child::Element(id)),
            None => self.root = Some(id),
        }
        self.elements.push(element);
        Ok(id)
    }
}

fn pos(p: u64) -> usize {
    usize::try_from(p).unwrap_or(usize::MAX)
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// The XML `Name` production. quick-xml does not check names, and a
/// document we accept must serialize to one we accept again.
fn is_xml_name(name: &str) -> bool {
    // Nearly every name is ASCII; the full ranges are only needed otherwise.
    if name.is_ascii() {
        let bytes = name.as_bytes();
        return bytes
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b':'))
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-' | b'.'));
    }
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start) && chars.all(|c| is_name_start(c) || is_name_rest(c))
}

fn is_name_start(c: char) -> bool {
    matches!(c, ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_rest(c: char) -> bool {
    matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// XML 1.0 `Char` production; other code points cannot be written back.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}
