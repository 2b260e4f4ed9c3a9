//! Serialization. Output depends only on the tree, so equal trees give equal bytes.

use super::tree::{Child, Document, ElementId};

/// How to lay out the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Two-space indentation, one element per line, as on disk.
    Pretty,
    /// No whitespace between elements; attributes in stored order.
    Compact,
    /// Compact with attributes sorted by name: the input of digests, so
    /// reordering attributes does not count as a change.
    Canonical,
}

impl Document {
    /// The whole document, with the declaration if it had one.
    pub fn to_xml(&self, style: Style) -> String {
        let mut out = String::with_capacity(self.elements.len() * 96);
        if self.declaration {
            out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            if style == Style::Pretty {
                out.push('\n');
            }
        }
        self.write_element(self.root, style, &mut out);
        out
    }

    /// One element and its subtree, without a declaration.
    pub fn element_to_xml(&self, id: ElementId, style: Style) -> String {
        let mut out = String::new();
        self.write_element(id, style, &mut out);
        out
    }

    /// Appends `id`'s subtree to `out`. Iterative, so user-built trees of
    /// any depth cannot overflow the stack.
    pub fn write_element(&self, id: ElementId, style: Style, out: &mut String) {
        enum Step {
            Open(ElementId, usize, bool),
            Close(ElementId, usize, bool),
            Text(ElementId, usize),
        }
        let mut steps = vec![Step::Open(id, 0, style == Style::Pretty)];
        while let Some(step) = steps.pop() {
            match step {
                Step::Open(id, depth, pretty) => {
                    let el = self.element(id);
                    if pretty {
                        indent(out, depth);
                    }
                    out.push('<');
                    out.push_str(&el.name);
                    if style == Style::Canonical {
                        let mut attrs: Vec<_> = el.attrs.iter().collect();
                        attrs.sort_by(|a, b| a.name.cmp(&b.name));
                        for a in attrs {
                            write_attr(out, &a.name, &a.value);
                        }
                    } else {
                        for a in &el.attrs {
                            write_attr(out, &a.name, &a.value);
                        }
                    }
                    if el.children.is_empty() {
                        out.push_str("/>");
                        if pretty {
                            out.push('\n');
                        }
                        continue;
                    }
                    out.push('>');
                    // Indenting around text would change it, so mixed
                    // content is written compactly.
                    let inner_pretty =
                        pretty && el.children.iter().all(|c| matches!(c, Child::Element(_)));
                    if inner_pretty {
                        out.push('\n');
                    }
                    steps.push(Step::Close(id, depth, pretty));
                    for (i, child) in el.children.iter().enumerate().rev() {
                        match child {
                            Child::Element(c) => {
                                steps.push(Step::Open(*c, depth + 1, inner_pretty))
                            }
                            Child::Text(_) => steps.push(Step::Text(id, i)),
                        }
                    }
                }
                Step::Text(id, i) => {
                    if let Some(Child::Text(t)) = self.element(id).children.get(i) {
                        escape_text(out, t);
                    }
                }
                Step::Close(id, depth, pretty) => {
                    let el = self.element(id);
                    let inner_pretty =
                        pretty && el.children.iter().all(|c| matches!(c, Child::Element(_)));
                    if inner_pretty {
                        indent(out, depth);
                    }
                    out.push_str("</");
                    out.push_str(&el.name);
                    out.push('>');
                    if pretty {
                        out.push('\n');
                    }
                }
            }
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Raw whitespace in attributes is normalized to spaces on read,
            // so these must be character references to survive.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A raw CR is read back as a line feed.
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}
