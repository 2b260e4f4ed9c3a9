//! No input, however broken, makes the readers panic.

use std::path::Path;

use baton_config::{Format, Resolver, load_str};
use proptest::prelude::*;

#[derive(Debug)]
struct Offline;

impl Resolver for Offline {
    fn resolves(&self, _: &str) -> bool {
        false
    }
}

/// Also checks that whatever corosync.conf was read survives `import`.
fn check_all(text: &str) {
    for format in [Format::Corosync, Format::Toml] {
        if let Ok(loaded) = load_str(text, Path::new("fuzz"), format, &Offline) {
            let _ = loaded.report().to_string();
            let _ = loaded.config.timers();
            let toml = loaded.to_toml();
            match load_str(&toml, Path::new("imported.toml"), Format::Toml, &Offline) {
                Ok(again) => assert_eq!(loaded.config, again.config, "{text:?}\n{toml}"),
                Err(e) => panic!("import of {text:?} gave unreadable TOML: {e}\n{toml}"),
            }
        }
    }
}

fn line() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "totem",
        "nodelist",
        "node",
        "quorum",
        "logging",
        "interface",
        "member",
        "logger_subsys",
        "service",
        "token",
        "nodeid",
        "ring0_addr",
        "two_node",
        "transport",
        "memberaddr",
        "subsys",
        "secauth",
        "crypto_cipher",
    ]);
    let values = prop::sample::select(vec![
        "0", "1", "3000", "knet", "udp", "on", "aes256", "10.0.0.1", "web1", "x", "",
    ]);
    prop_oneof![
        words.clone().prop_map(|w| format!("{w} {{")),
        Just("}".to_owned()),
        (words, values).prop_map(|(k, v)| format!("  {k}: {v}")),
        Just("# comment".to_owned()),
        Just(String::new()),
        "[ -~\t]{0,20}",
    ]
}

fn pairs(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let values = prop::sample::select(vec![
        "0",
        "1",
        "2",
        "3000",
        "knet",
        "udpu",
        "udp",
        "on",
        "off",
        "yes",
        "no",
        "aes256",
        "sha256",
        "none",
        "10.0.0.1",
        "239.1.1.1",
        "web1",
        "lowest",
        "2 1",
        "hires",
        "trace",
        "daemon",
        "corosync_votequorum",
        "/etc/baton/key",
        "QUORUM",
    ]);
    prop::collection::vec((prop::sample::select(keys), values), 0..6)
        .prop_map(|kv| kv.iter().map(|(k, v)| format!("{k}: {v}\n")).collect())
}

/// Well-formed files built from real keys, so that mapping and import get exercised.
fn document() -> impl Strategy<Value = String> {
    let totem = pairs(&[
        "transport",
        "token",
        "token_coefficient",
        "consensus",
        "secauth",
        "crypto_cipher",
        "crypto_hash",
        "keyfile",
        "cluster_name",
        "join",
        "window_size",
        "threads",
    ]);
    let iface = pairs(&[
        "linknumber",
        "ringnumber",
        "bindnetaddr",
        "mcastaddr",
        "mcastport",
        "ttl",
        "broadcast",
    ]);
    let node = pairs(&["ring0_addr", "ring1_addr", "nodeid", "name", "quorum_votes"]);
    let quorum = pairs(&[
        "provider",
        "two_node",
        "wait_for_all",
        "expected_votes",
        "auto_tie_breaker_node",
        "last_man_standing_window",
    ]);
    let logging = pairs(&[
        "to_logfile",
        "logfile",
        "debug",
        "timestamp",
        "syslog_facility",
        "to_stderr",
    ]);
    let subsys = pairs(&["subsys", "debug"]);
    (
        totem,
        prop::collection::vec(iface, 0..3),
        prop::collection::vec(node, 0..4),
        quorum,
        logging,
        prop::collection::vec(subsys, 0..2),
    )
        .prop_map(|(t, ifaces, nodes, q, l, subs)| {
            let ifaces: String = ifaces.iter().map(|i| format!("interface {{\n{i}}}\n")).collect();
            let nodes: String = nodes.iter().map(|n| format!("node {{\n{n}}}\n")).collect();
            let subs: String = subs.iter().map(|s| format!("logger_subsys {{\n{s}}}\n")).collect();
            format!("totem {{\n{t}{ifaces}}}\nnodelist {{\n{nodes}}}\nquorum {{\n{q}}}\nlogging {{\n{l}{subs}}}\n")
        })
}

proptest! {
    #[test]
    fn well_formed_documents_never_panic_and_import_faithfully(text in document()) {
        check_all(&text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        check_all(&text);
    }

    #[test]
    fn line_soup_never_panics(lines in prop::collection::vec(line(), 0..60)) {
        check_all(&lines.join("\n"));
    }
}
