//! CIB XML parsing: any bytes either fail cleanly or give a document that
//! serializes and parses back to the same tree.
#![no_main]

use baton_cib::xml::{Document, Style};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(doc) = Document::parse_bytes(data) else {
        return;
    };
    for style in [Style::Pretty, Style::Compact] {
        let out = doc.to_xml(style);
        let back = Document::parse(&out).expect("serialized output parses");
        assert!(back == doc, "round trip changed the tree");
        assert_eq!(back.to_xml(style), out, "unstable serialization");
    }
    if let Ok(cib) = baton_cib::Cib::from_document(doc) {
        let _ = cib.version();
        let _ = cib.config_digest();
        let _ = cib.property("stonith-enabled");
    }
});
