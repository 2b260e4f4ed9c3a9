//! The arena DOM: parsing, errors, escaping, editing and serialization.

use baton_cib::xml::{Child, Document, ParseErrorKind, Style, TreeError};

fn parse(s: &str) -> Document {
    Document::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

#[test]
fn keeps_attribute_order_and_unknown_attributes() {
    let doc = parse(r#"<cib zeta="1" alpha="2" epoch="3"><unknown-thing x="y"/></cib>"#);
    let names: Vec<_> = doc.root_ref().attrs().iter().map(|a| &*a.name).collect();
    assert_eq!(names, ["zeta", "alpha", "epoch"]);
    assert_eq!(
        doc.to_xml(Style::Compact),
        r#"<cib zeta="1" alpha="2" epoch="3"><unknown-thing x="y"/></cib>"#
    );
}

#[test]
fn pretty_output_is_indented() {
    let doc = parse("<a><b><c/></b><d>text</d></a>");
    assert_eq!(
        doc.to_xml(Style::Pretty),
        "<a>\n  <b>\n    <c/>\n  </b>\n  <d>text</d>\n</a>\n"
    );
}

#[test]
fn entities_cdata_and_char_refs_round_trip() {
    let doc = parse(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- dropped -->\n\
         <a v=\"&lt;&amp;&gt;&quot;&apos;&#10;&#x41;\" w='tab&#9;'>x &amp; y<![CDATA[<raw> & ]]>&#169;</a>",
    );
    let root = doc.root_ref();
    assert_eq!(root.attr("v"), Some("<&>\"'\nA"));
    assert_eq!(root.attr("w"), Some("tab\t"));
    assert_eq!(root.text(), "x & y<raw> & ©");
    assert!(doc.has_declaration());
    let out = doc.to_xml(Style::Compact);
    assert_eq!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a v=\"&lt;&amp;&gt;&quot;'&#10;A\" w=\"tab&#9;\">x &amp; y&lt;raw&gt; &amp; ©</a>"
    );
    assert_eq!(parse(&out), doc);
}

#[test]
fn raw_whitespace_in_attributes_is_normalized() {
    let doc = parse("<a v=\"1\n2\t3\"/>");
    assert_eq!(doc.root_ref().attr("v"), Some("1 2 3"));
}

#[test]
fn errors_name_line_column_and_expectation() {
    let cases: &[(&str, u32, u32, &str)] = &[
        ("<a>\n  <b></c>\n</a>", 2, 6, "expected `</b>`"),
        ("<a>\n<b>", 2, 4, "expected `</b>` before the end"),
        ("", 1, 1, "expected a root element"),
        ("<a/><b/>", 1, 5, "found element `b`"),
        ("<a/>junk", 1, 5, "only whitespace outside"),
        ("<a>&nbsp;</a>", 1, 4, "unknown entity `&nbsp;`"),
        ("<a>&#0;</a>", 1, 4, "invalid character reference"),
        ("<a x=\"1\" x=\"2\"/>", 1, 1, "bad attribute in element `a`"),
        ("<a x=\"&bogus;\"/>", 1, 1, "bad attribute in element `a`"),
        ("<a>\n <b attr=\"unterminated/>", 2, 2, "not closed"),
        (
            "<?xml version=\"1.0\" encoding=\"latin1\"?><a/>",
            1,
            1,
            "unsupported encoding",
        ),
        (
            "<a/><?xml version=\"1.0\"?>",
            1,
            5,
            "declaration only at the start",
        ),
    ];
    for (input, line, column, want) in cases {
        let err = Document::parse(input).expect_err(input);
        let msg = err.to_string();
        assert!(msg.contains(want), "{input:?}: {msg}");
        assert_eq!((err.line, err.column), (*line, *column), "{input:?}: {msg}");
        assert!(!msg.ends_with('.'), "{msg}");
    }
}

#[test]
fn invalid_utf8_is_located() {
    let err = Document::parse_bytes(b"<a>\n\xff</a>").expect_err("bad utf-8");
    assert_eq!(err.kind, ParseErrorKind::InvalidUtf8);
    assert_eq!((err.line, err.column), (2, 1));
    assert!(
        Document::parse_bytes(b"\xef\xbb\xbf<a/>").is_ok(),
        "BOM accepted"
    );
}

#[test]
fn nesting_depth_is_bounded() {
    let depth = baton_cib::xml::MAX_DEPTH;
    let ok = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    assert!(Document::parse(&ok).is_ok());
    let deep = format!("{}{}", "<a>".repeat(depth + 1), "</a>".repeat(depth + 1));
    let err = Document::parse(&deep).expect_err("too deep");
    assert!(matches!(err.kind, ParseErrorKind::TooDeep { .. }), "{err}");
}

#[test]
fn id_index_lists_every_element_with_an_id() {
    let doc = parse(r#"<cib><p id="r1"/><s><x id="r1"/><y id="r2"/></s></cib>"#);
    let index = doc.id_index(doc.root());
    assert_eq!(index.get("r1").len(), 2);
    let r2 = index.first("r2").expect("r2 indexed");
    assert_eq!(doc.element(r2).name(), "y");
    assert_eq!(
        doc.find_by_id(doc.root(), "r1")
            .map(|e| doc.element(e).name()),
        Some("p")
    );
    assert!(index.get("nope").is_empty());
}

#[test]
fn edits_happen_in_place() {
    let mut doc = parse(r#"<cib b="1" a="2"><x/><keep q="1"/></cib>"#);
    let root = doc.root();
    doc.set_attr(root, "b", "changed");
    doc.set_attr(root, "new", "v");
    assert_eq!(doc.remove_attr(root, "a").as_deref(), Some("2"));
    let x = doc.find_by_id(root, "missing");
    assert!(x.is_none());
    let y = doc.create_element("y");
    doc.set_attr(y, "id", "y1");
    doc.append_child(root, y).expect("append");
    let first = doc.root_ref().children().next().expect("x").id();
    doc.detach(first).expect("detach");
    doc.set_text(y, "hello");
    assert_eq!(
        doc.to_xml(Style::Compact),
        r#"<cib b="changed" new="v"><keep q="1"/><y id="y1">hello</y></cib>"#
    );
    assert_eq!(
        doc.append_child(root, y),
        Err(TreeError::HasParent { name: "y".into() })
    );
    assert!(matches!(doc.detach(root), Err(TreeError::Root { .. })));
    let z = doc.create_element("z");
    doc.detach(y).expect("detach y");
    doc.append_child(y, z).expect("z under y");
    assert!(matches!(
        doc.append_child(z, y),
        Err(TreeError::Cycle { .. })
    ));
    doc.insert_child(root, 0, y).expect("insert");
    assert!(matches!(doc.element(root).children().first(), Some(Child::Element(e)) if *e == y));
}

#[test]
fn canonical_form_sorts_attributes() {
    let a = parse(r#"<c y="1" x="2"><n b="1" a="2"/></c>"#);
    let b = parse(r#"<c x="2" y="1"><n a="2" b="1"/></c>"#);
    assert_ne!(a.to_xml(Style::Compact), b.to_xml(Style::Compact));
    assert_eq!(a.to_xml(Style::Canonical), b.to_xml(Style::Canonical));
}

#[test]
fn compact_drops_detached_elements_only() {
    let mut doc = parse(r#"<a><b id="1">t<c/></b><d id="2"/>tail</a>"#);
    let before = doc.to_xml(Style::Compact);
    let extra = doc.create_element("garbage");
    doc.append_new(extra, "more", &[]);
    let d = doc.find_by_id(doc.root(), "2").expect("d");
    doc.detach(d).expect("detach");
    doc.compact();
    assert_eq!(doc.arena_len(), 3);
    assert_eq!(
        doc.to_xml(Style::Compact),
        before.replace(r#"<d id="2"/>"#, "")
    );
    let b = doc.find_by_id(doc.root(), "1").expect("b");
    assert_eq!(doc.get(b).parent().map(|p| p.name()), Some("a"));
    assert_eq!(
        doc.get(b)
            .children()
            .next()
            .map(|c| c.parent().map(|p| p.id())),
        Some(Some(b))
    );
}

#[test]
fn a_subtree_copies_between_documents() {
    let source = parse(
        r#"<cib><status><node_state id="1">text<lrm x="1"><r/></lrm></node_state></status></cib>"#,
    );
    let state = source
        .root_ref()
        .descendants()
        .find(|e| e.name() == "node_state")
        .expect("node_state")
        .id();
    let mut target = parse("<cib><status/></cib>");
    let copy = target.copy_from(&source, state);
    let status = target
        .root_ref()
        .first_child("status")
        .expect("status")
        .id();
    target.append_child(status, copy).expect("attach");
    assert_eq!(
        target.to_xml(Style::Compact),
        r#"<cib><status><node_state id="1">text<lrm x="1"><r/></lrm></node_state></status></cib>"#
    );
}
