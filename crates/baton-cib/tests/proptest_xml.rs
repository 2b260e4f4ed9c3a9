//! Property tests: no input makes the parser panic, and any tree built
//! through the API survives serialize → parse unchanged.

use baton_cib::xml::{Document, Style};
use proptest::prelude::*;

const SAMPLE: &str = r#"<cib epoch="1"><configuration><resources><primitive id="r" class="ocf" type="Dummy"><operations><op id="o" name="monitor" interval="10s"/></operations></primitive></resources></configuration><status/></cib>"#;

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Document::parse_bytes(&bytes);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,256}") {
        let _ = Document::parse(&s);
    }

    #[test]
    fn markup_like_strings_never_panic(s in "[<>/=\"'&;#x!?\\[\\]a-c CDATA-]{0,128}") {
        if let Ok(doc) = Document::parse(&s) {
            let out = doc.to_xml(Style::Compact);
            prop_assert_eq!(Document::parse(&out).ok(), Some(doc));
        }
    }

    #[test]
    fn mutated_cibs_never_panic(edits in proptest::collection::vec((0..SAMPLE.len(), any::<u8>()), 1..8)) {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        for (at, b) in edits {
            bytes[at] = b;
        }
        if let Ok(doc) = Document::parse_bytes(&bytes) {
            let out = doc.to_xml(Style::Pretty);
            prop_assert_eq!(Document::parse(&out).ok(), Some(doc));
        }
    }

    #[test]
    fn built_trees_round_trip(tree in arb_tree()) {
        for style in [Style::Pretty, Style::Compact] {
            let out = tree.to_xml(style);
            let back = Document::parse(&out).map_err(|e| TestCaseError::fail(format!("{e}\n{out}")))?;
            prop_assert!(back == tree, "{}", out);
            prop_assert_eq!(back.to_xml(style), out);
        }
    }
}

/// A random tree built through the editing API.
fn arb_tree() -> impl Strategy<Value = Document> {
    let name = "[a-z_][a-z0-9_.:-]{0,6}";
    let value = "[a-zA-Z0-9 <>&\"'\t\n\r\u{e9}\u{1F600}]{0,10}";
    let step = (
        0..64usize,
        name,
        proptest::collection::vec((name, value), 0..4),
        proptest::option::of(value),
    );
    proptest::collection::vec(step, 0..24).prop_map(|steps| {
        let mut doc = Document::new("root");
        let mut ids = vec![doc.root()];
        for (parent, name, attrs, text) in steps {
            let parent = ids[parent % ids.len()];
            let el = doc.create_element(&name);
            for (n, v) in attrs {
                doc.set_attr(el, &n, &v);
            }
            if let Some(t) = text {
                doc.set_text(el, &t);
            }
            if doc.append_child(parent, el).is_ok() {
                ids.push(el);
            }
        }
        doc
    })
}

proptest! {
    #[test]
    fn value_parsers_never_panic(s in "\\PC{0,24}") {
        let _ = s.parse::<baton_cib::Score>();
        let _ = baton_cib::duration::parse_duration_ms(&s);
        let _ = s.parse::<baton_cib::model::TransitionMagic>();
    }

    #[test]
    fn duration_like_strings_never_panic(s in "[pPtT0-9.,YMWDHSms ]{0,16}") {
        let _ = baton_cib::duration::parse_duration_ms(&s);
    }

    #[test]
    fn score_addition_stays_in_range(a in -2_000_000i64..2_000_000, b in -2_000_000i64..2_000_000) {
        let sum = baton_cib::Score::new(a) + baton_cib::Score::new(b);
        prop_assert!(sum.value().abs() <= baton_cib::Score::INFINITY_VALUE);
    }
}
