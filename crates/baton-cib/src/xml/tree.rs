//! Arena storage and read-only navigation.

use std::sync::Arc;

/// Handle of an element inside one [`Document`]'s arena.
///
/// A handle is only meaningful for the document that created it; using it
/// with another document is a programming error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ElementId(pub(super) u32);

impl ElementId {
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }
}

/// One attribute, with its value unescaped. Names are shared between all
/// elements of a parsed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: Arc<str>,
    pub value: String,
}

/// A child of an element: another element or a run of character data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Child {
    Element(ElementId),
    Text(String),
}

/// An element's own data; its children are handles into the same arena.
#[derive(Debug, Clone)]
pub struct Element {
    pub(super) name: Arc<str>,
    pub(super) attrs: Vec<Attribute>,
    pub(super) children: Vec<Child>,
    pub(super) parent: Option<ElementId>,
}

impl Element {
    pub(super) fn new(name: Arc<str>) -> Self {
        Element {
            name,
            attrs: Vec::new(),
            children: Vec::new(),
            parent: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn attrs(&self) -> &[Attribute] {
        &self.attrs
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| &*a.name == name)
            .map(|a| a.value.as_str())
    }

    pub fn children(&self) -> &[Child] {
        &self.children
    }

    pub fn parent(&self) -> Option<ElementId> {
        self.parent
    }
}

/// A parsed or built XML document: one root element plus detached elements
/// that edits left behind (they are never serialized).
#[derive(Debug, Clone)]
pub struct Document {
    pub(super) elements: Vec<Element>,
    pub(super) root: ElementId,
    pub(super) declaration: bool,
}

impl Document {
    /// A document holding only an empty root element called `root_name`.
    pub fn new(root_name: &str) -> Self {
        Document {
            elements: vec![Element::new(Arc::from(root_name))],
            root: ElementId(0),
            declaration: false,
        }
    }

    pub fn root(&self) -> ElementId {
        self.root
    }

    pub fn root_ref(&self) -> ElementRef<'_> {
        self.get(self.root)
    }

    /// Whether the document was read with (and will be written with) an XML declaration.
    pub fn has_declaration(&self) -> bool {
        self.declaration
    }

    pub fn set_declaration(&mut self, on: bool) {
        self.declaration = on;
    }

    pub fn element(&self, id: ElementId) -> &Element {
        &self.elements[id.index()]
    }

    pub fn get(&self, id: ElementId) -> ElementRef<'_> {
        ElementRef { doc: self, id }
    }

    /// Number of arena slots, including detached elements.
    pub fn arena_len(&self) -> usize {
        self.elements.len()
    }

    /// `id` and all its descendant elements, in document order.
    pub fn descendants(&self, id: ElementId) -> Descendants<'_> {
        Descendants {
            doc: self,
            stack: vec![id],
        }
    }
}

/// Structural equality: same names, attributes (in order), text and children.
/// Arena layout and detached elements do not matter.
impl PartialEq for Document {
    fn eq(&self, other: &Self) -> bool {
        if self.declaration != other.declaration {
            return false;
        }
        let mut stack = vec![(self.root, other.root)];
        while let Some((a, b)) = stack.pop() {
            let (ea, eb) = (self.element(a), other.element(b));
            if ea.name != eb.name || ea.attrs != eb.attrs || ea.children.len() != eb.children.len()
            {
                return false;
            }
            for pair in ea.children.iter().zip(&eb.children) {
                match pair {
                    (Child::Element(x), Child::Element(y)) => stack.push((*x, *y)),
                    (Child::Text(x), Child::Text(y)) if x == y => {}
                    _ => return false,
                }
            }
        }
        true
    }
}

impl Eq for Document {}

/// Depth-first, document-order walk over a subtree.
#[derive(Debug)]
pub struct Descendants<'a> {
    doc: &'a Document,
    stack: Vec<ElementId>,
}

impl Iterator for Descendants<'_> {
    type Item = ElementId;

    fn next(&mut self) -> Option<ElementId> {
        let id = self.stack.pop()?;
        let children = &self.doc.element(id).children;
        self.stack
            .extend(children.iter().rev().filter_map(|c| match c {
                Child::Element(e) => Some(*e),
                Child::Text(_) => None,
            }));
        Some(id)
    }
}

/// A borrowed element together with its document, for convenient navigation.
#[derive(Debug, Clone, Copy)]
pub struct ElementRef<'a> {
    doc: &'a Document,
    id: ElementId,
}

impl<'a> ElementRef<'a> {
    pub fn id(self) -> ElementId {
        self.id
    }

    pub fn document(self) -> &'a Document {
        self.doc
    }

    pub fn data(self) -> &'a Element {
        self.doc.element(self.id)
    }

    pub fn name(self) -> &'a str {
        &self.data().name
    }

    pub fn attr(self, name: &str) -> Option<&'a str> {
        self.data().attr(name)
    }

    pub fn attrs(self) -> &'a [Attribute] {
        &self.data().attrs
    }

    /// The `id` attribute, or "" when it is missing.
    pub fn xml_id(self) -> &'a str {
        self.attr("id").unwrap_or("")
    }

    pub fn parent(self) -> Option<ElementRef<'a>> {
        self.data().parent.map(|p| self.doc.get(p))
    }

    /// Child elements in document order.
    pub fn children(self) -> impl Iterator<Item = ElementRef<'a>> + 'a {
        let doc = self.doc;
        self.data().children.iter().filter_map(move |c| match c {
            Child::Element(e) => Some(doc.get(*e)),
            Child::Text(_) => None,
        })
    }

    /// Child elements called `name`.
    pub fn children_named(self, name: &'a str) -> impl Iterator<Item = ElementRef<'a>> + 'a {
        self.children().filter(move |c| c.name() == name)
    }

    pub fn first_child(self, name: &str) -> Option<ElementRef<'a>> {
        self.children().find(|c| c.name() == name)
    }

    /// All text children joined; empty when there are none.
    pub fn text(self) -> String {
        self.data()
            .children
            .iter()
            .filter_map(|c| match c {
                Child::Text(t) => Some(t.as_str()),
                Child::Element(_) => None,
            })
            .collect()
    }

    /// This element and every element below it, in document order.
    pub fn descendants(self) -> impl Iterator<Item = ElementRef<'a>> + 'a {
        let doc = self.doc;
        doc.descendants(self.id).map(move |id| doc.get(id))
    }
}
