//! In-place edits. Attribute order and untouched siblings are preserved.

use std::sync::Arc;

use super::tree::{Attribute, Child, Document, Element, ElementId};

/// A structural edit that would break the tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("element `{name}` already has a parent, detach it first")]
    HasParent { name: String },
    #[error("element `{name}` cannot become a descendant of itself")]
    Cycle { name: String },
    #[error("the root element `{name}` cannot be moved or detached")]
    Root { name: String },
}

impl Document {
    /// A new detached element; attach it with [`Document::append_child`].
    pub fn create_element(&mut self, name: &str) -> ElementId {
        // Each element costs far more than 1 byte, so memory runs out long
        // before 2^32 elements.
        let id = ElementId(
            u32::try_from(self.elements.len()).expect("arena holds fewer than 2^32 elements"),
        );
        self.elements.push(Element::new(Arc::from(name)));
        id
    }

    /// Sets `name` to `value`, keeping its position if it exists and appending otherwise.
    pub fn set_attr(&mut self, id: ElementId, name: &str, value: &str) {
        let attrs = &mut self.elements[id.index()].attrs;
        match attrs.iter_mut().find(|a| &*a.name == name) {
            Some(a) => value.clone_into(&mut a.value),
            None => attrs.push(Attribute {
                name: Arc::from(name),
                value: value.to_owned(),
            }),
        }
    }

    /// Removes `name`, returning its old value.
    pub fn remove_attr(&mut self, id: ElementId, name: &str) -> Option<String> {
        let attrs = &mut self.elements[id.index()].attrs;
        let at = attrs.iter().position(|a| &*a.name == name)?;
        Some(attrs.remove(at).value)
    }

    pub fn rename(&mut self, id: ElementId, name: &str) {
        self.elements[id.index()].name = Arc::from(name);
    }

    /// Appends the detached element `child` as the last child of `parent`.
    pub fn append_child(&mut self, parent: ElementId, child: ElementId) -> Result<(), TreeError> {
        let at = self.elements[parent.index()].children.len();
        self.insert_child(parent, at, child)
    }

    /// Inserts the detached element `child` at position `at` (clamped) among
    /// `parent`'s children, counting text runs as children.
    pub fn insert_child(
        &mut self,
        parent: ElementId,
        at: usize,
        child: ElementId,
    ) -> Result<(), TreeError> {
        let name = || self.elements[child.index()].name.to_string();
        if child == self.root {
            return Err(TreeError::Root { name: name() });
        }
        if self.elements[child.index()].parent.is_some() {
            return Err(TreeError::HasParent { name: name() });
        }
        let mut up = Some(parent);
        while let Some(p) = up {
            if p == child {
                return Err(TreeError::Cycle { name: name() });
            }
            up = self.elements[p.index()].parent;
        }
        let children = &mut self.elements[parent.index()].children;
        children.insert(at.min(children.len()), Child::Element(child));
        self.elements[child.index()].parent = Some(parent);
        Ok(())
    }

    /// Unlinks `id` from its parent. The subtree stays in the arena and can
    /// be re-attached elsewhere; it is not serialized while detached.
    pub fn detach(&mut self, id: ElementId) -> Result<(), TreeError> {
        if id == self.root {
            let name = self.elements[id.index()].name.to_string();
            return Err(TreeError::Root { name });
        }
        if let Some(p) = self.elements[id.index()].parent.take() {
            self.elements[p.index()]
                .children
                .retain(|c| *c != Child::Element(id));
        }
        Ok(())
    }

    /// Replaces all text children of `id` with `text` (placed first); child
    /// elements are kept. Empty or whitespace-only text is not kept by a
    /// later parse, so it is not stored either.
    pub fn set_text(&mut self, id: ElementId, text: &str) {
        let children = &mut self.elements[id.index()].children;
        children.retain(|c| matches!(c, Child::Element(_)));
        if !text.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
            children.insert(0, Child::Text(text.to_owned()));
        }
    }

    /// Creates `name` as the last child of `parent` with the given attributes.
    pub fn append_new(
        &mut self,
        parent: ElementId,
        name: &str,
        attrs: &[(&str, &str)],
    ) -> ElementId {
        let id = self.create_element(name);
        self.elements[id.index()].attrs = attrs
            .iter()
            .map(|(n, v)| Attribute {
                name: Arc::from(*n),
                value: (*v).to_owned(),
            })
            .collect();
        self.elements[id.index()].parent = Some(parent);
        self.elements[parent.index()]
            .children
            .push(Child::Element(id));
        id
    }

    /// The first child of `parent` called `name`, created at the end if missing.
    pub fn ensure_child(&mut self, parent: ElementId, name: &str) -> ElementId {
        let existing = self.elements[parent.index()]
            .children
            .iter()
            .find_map(|c| match c {
                Child::Element(e) if &*self.elements[e.index()].name == name => Some(*e),
                _ => None,
            });
        existing.unwrap_or_else(|| self.append_new(parent, name, &[]))
    }

    /// A detached deep copy of `source`'s element `from` (attributes, text
    /// and descendants) in this document; attach it with
    /// [`Document::append_child`].
    pub fn copy_from(&mut self, source: &Document, from: ElementId) -> ElementId {
        let top = self.create_element(&source.elements[from.index()].name);
        // (element in `source`, its copy here), walked without recursion so
        // any depth is safe.
        let mut stack = vec![(from, top)];
        while let Some((original, copy)) = stack.pop() {
            let element = &source.elements[original.index()];
            self.elements[copy.index()].attrs = element.attrs.clone();
            for child in &element.children {
                let copied = match child {
                    Child::Text(text) => Child::Text(text.clone()),
                    Child::Element(e) => {
                        let id = self.create_element(&source.elements[e.index()].name);
                        self.elements[id.index()].parent = Some(copy);
                        stack.push((*e, id));
                        Child::Element(id)
                    }
                };
                self.elements[copy.index()].children.push(copied);
            }
        }
        top
    }

    /// Drops detached elements from the arena. Long-lived documents that
    /// are edited repeatedly call this so garbage stays bounded. Every
    /// [`ElementId`] obtained earlier is invalid afterwards.
    pub fn compact(&mut self) {
        let order: Vec<ElementId> = self.descendants(self.root).collect();
        let mut new_ids: Vec<Option<ElementId>> = vec![None; self.elements.len()];
        for (new, old) in order.iter().enumerate() {
            // Fewer reachable elements than arena slots, so this fits.
            new_ids[old.index()] = u32::try_from(new).ok().map(ElementId);
        }
        let remap = |id: ElementId| new_ids[id.index()].unwrap_or(id);
        let placeholder: Arc<str> = Arc::from("");
        let kept = order
            .iter()
            .map(|old| {
                let mut el = std::mem::replace(
                    &mut self.elements[old.index()],
                    Element::new(Arc::clone(&placeholder)),
                );
                el.parent = el.parent.map(remap);
                for child in &mut el.children {
                    if let Child::Element(e) = child {
                        *e = remap(*e);
                    }
                }
                el
            })
            .collect();
        self.elements = kept;
        self.root = ElementId(0);
    }
}
