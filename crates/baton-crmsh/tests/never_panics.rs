//! Whatever is pasted into `baton configure`, the parser answers with
//! commands or an error, never a crash; and what it accepts prints back to
//! text it accepts again.

use baton_crmsh::{parse, print};
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "primitive",
    "group",
    "clone",
    "ms",
    "location",
    "colocation",
    "order",
    "property",
    "node",
    "rsc_defaults",
    "op_defaults",
    "delete",
    "params",
    "meta",
    "op",
    "op_params",
    "op_meta",
    "utilization",
    "attributes",
    "rule",
    "and",
    "or",
    "defined",
    "not_defined",
    "date",
    "spec",
    "in",
    "gt",
    "lt",
    "eq",
    "number:lte",
    "inf:",
    "-inf:",
    "100:",
    "Mandatory:",
    "(",
    ")",
    "[",
    "]",
    "vip",
    "d1:Promoted",
    "#uname",
    "a=b",
    "$id=x",
    "$role=Started",
    "\"quoted value\"",
    "'single'",
    "\\",
    "\n",
    "\\\n",
    "#",
    "ocf:heartbeat:IPaddr2",
    "@tmpl",
    "/re/",
    ":",
    "=",
    "x:",
    "symmetrical=false",
    "node-attribute=site",
    "start=2020",
    "duration",
    "\"",
    "'",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..40).prop_map(|words| words.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn word_soup_never_panics_and_accepted_text_round_trips(text in soup()) {
        if let Ok(first) = parse(&text) {
            let first: Vec<_> = first.into_iter().map(|l| l.command).collect();
            let printed = print::commands(&first);
            let second: Vec<_> = parse(&printed)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{printed}")))?
                .into_iter()
                .map(|l| l.command)
                .collect();
            prop_assert_eq!(first, second, "{}", printed);
        }
    }
}
