//! corosync.conf as a user writes it: typos, bad values, legacy forms.

mod common;

use std::path::Path;

use baton_config::{Format, NodeId, Severity, TieBreaker, load_str};
use common::{FakeDns, corosync, lines};

const NODES3: &str = "nodelist {
    node {
        ring0_addr: 10.0.0.1
        nodeid: 1
    }
    node {
        ring0_addr: 10.0.0.2
        nodeid: 2
    }
    node {
        ring0_addr: 10.0.0.3
        nodeid: 3
    }
}
";

#[test]
fn three_nodes_scale_token_and_consensus() {
    let loaded = corosync(NODES3);
    assert!(loaded.is_usable(), "{}", loaded.report());
    let t = loaded.config.timers();
    assert_eq!(
        (t.token_ms, t.consensus_ms, t.token_retransmit_ms, t.hold_ms),
        (3650, 4380, 869, 685)
    );
}

#[test]
fn misspelled_section_is_named_with_a_suggestion() {
    let loaded = corosync(&format!("totme {{\n    token: 5000\n}}\n{NODES3}"));
    let warnings = lines(&loaded, Severity::Warning);
    assert_eq!(
        warnings,
        [
            "test.conf:1: warning: unknown section `totme` in the top level is ignored; did you mean `totem`?"
        ]
    );
    assert_eq!(loaded.config.totem.token_ms, None);
}

#[test]
fn misspelled_key_is_named_with_a_suggestion() {
    let loaded = corosync(&format!(
        "{NODES3}quorum {{\n provider: corosync_votequorum\n two_nodes: 1\n}}\n"
    ));
    let warnings = lines(&loaded, Severity::Warning);
    assert_eq!(
        warnings,
        [
            "test.conf:17: warning: unknown key `two_nodes` in `quorum` is ignored; did you mean `two_node`?"
        ]
    );
}

#[test]
fn bad_values_are_errors_naming_line_key_and_expectation() {
    let text = format!(
        "totem {{\n token: fast\n transport: tcp\n}}\n{NODES3}quorum {{\n provider: corosync_votequorum\n two_node: yes\n}}\n"
    );
    let loaded = corosync(&text);
    assert!(!loaded.is_usable());
    let errors = lines(&loaded, Severity::Error);
    assert_eq!(
        errors,
        [
            "test.conf:2: error: `totem.token: fast` is not valid; expected a whole number of milliseconds, such as 3000",
            "test.conf:3: error: `totem.transport: tcp` is not valid; expected one of: knet, udpu, udp",
            "test.conf:21: error: `quorum.two_node: yes` is not valid; expected 0 or 1 (quorum options are numbers, not yes/no)",
        ]
    );
}

#[test]
fn node_id_zero_is_an_error() {
    let loaded = corosync("nodelist {\n node {\n  ring0_addr: 10.0.0.1\n  nodeid: 0\n }\n}\n");
    let errors = lines(&loaded, Severity::Error);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("test.conf:4: error: `nodelist.node.0.nodeid: 0` is not valid")),
        "{errors:?}"
    );
}

#[test]
fn duplicate_key_warns_and_last_wins() {
    let loaded = corosync(&format!(
        "totem {{\n token: 1000\n token: 2000\n}}\n{NODES3}"
    ));
    assert_eq!(loaded.config.totem.token_ms, Some(2000));
    let warnings = lines(&loaded, Severity::Warning);
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0]
            .starts_with("test.conf:3: warning: `totem.token` is set again (first on line 2)"),
        "{warnings:?}"
    );
}

#[test]
fn syntax_errors_carry_file_and_line() {
    let err = |text: &str| {
        load_str(text, Path::new("c.conf"), Format::Corosync, &FakeDns)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(
        err("totem {\n token: 1\n").starts_with("c.conf:1: missing closing brace: section `totem`")
    );
    assert!(err("totem {\n}\n}\n").starts_with("c.conf:3: unexpected closing brace"));
    assert!(err("totem {\n token 3000\n}\n").starts_with("c.conf:2: this line is not"));
    assert!(err("totem { token: 1\n}\n").starts_with("c.conf:1: text after `{`"));
}

#[test]
fn secauth_means_aes256_sha256_and_cipher_needs_hash() {
    let on = corosync(&format!("totem {{\n secauth: on\n}}\n{NODES3}"));
    assert_eq!(on.config.totem.effective_crypto().0.as_str(), "aes256");
    assert_eq!(on.config.totem.effective_crypto().1.as_str(), "sha256");
    assert!(on.is_usable());
    let bad = corosync(&format!(
        "totem {{\n crypto_cipher: aes128\n crypto_hash: none\n}}\n{NODES3}"
    ));
    let errors = lines(&bad, Severity::Error);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("test.conf:2: error: crypto_cipher aes128 needs a crypto_hash"),
        "{errors:?}"
    );
}

#[test]
fn two_node_with_three_nodes_is_ignored_with_a_warning() {
    let loaded = corosync(&format!(
        "{NODES3}quorum {{\n provider: corosync_votequorum\n two_node: 1\n}}\n"
    ));
    assert!(!loaded.config.effective_two_node());
    let warnings = lines(&loaded, Severity::Warning);
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("two_node is ignored because the nodelist has 3 nodes"),
        "{warnings:?}"
    );
}

#[test]
fn explicit_wait_for_all_zero_beats_two_node() {
    let text = "nodelist {\n node {\n ring0_addr: 10.0.0.1\n nodeid: 1\n }\n node {\n ring0_addr: 10.0.0.2\n nodeid: 2\n }\n}\n\
                quorum {\n provider: corosync_votequorum\n two_node: 1\n wait_for_all: 0\n}\n";
    let loaded = corosync(text);
    assert!(loaded.config.effective_two_node());
    assert!(!loaded.config.effective_wait_for_all());
}

#[test]
fn interface_members_become_the_nodelist() {
    let text = "totem {\n transport: udpu\n interface {\n  ringnumber: 0\n  member {\n   memberaddr: 10.0.0.1\n  }\n  member {\n   memberaddr: 10.0.0.2\n  }\n }\n}\n";
    let loaded = corosync(text);
    assert!(loaded.is_usable(), "{}", loaded.report());
    let addrs: Vec<String> = loaded
        .config
        .nodelist
        .nodes
        .iter()
        .flat_map(|n| n.addrs.values().map(ToString::to_string))
        .collect();
    assert_eq!(addrs, ["10.0.0.1", "10.0.0.2"]);
    assert!(
        lines(&loaded, Severity::Notice)
            .iter()
            .any(|n| n.starts_with("test.conf:6: notice: the interface `member`"))
    );
}

#[test]
fn knet_without_nodelist_or_nodeids_is_an_error() {
    let loaded = corosync("totem {\n transport: knet\n}\n");
    assert!(lines(&loaded, Severity::Error)[0].contains("transport knet needs a nodelist"));
    let loaded = corosync("nodelist {\n node {\n  ring0_addr: 10.0.0.1\n }\n}\n");
    assert_eq!(
        lines(&loaded, Severity::Error),
        [
            "test.conf:2: error: node 1 has no valid nodeid, which transport knet requires; add `nodeid` with a number unique in the cluster"
        ]
    );
}

#[test]
fn tie_breaker_list_and_legacy_keys() {
    let loaded = corosync(&format!(
        "{NODES3}quorum {{\n provider: corosync_votequorum\n auto_tie_breaker: 1\n auto_tie_breaker_node: 3 1\n}}\n\
         totem {{\n rrp_mode: passive\n netmtu: 1500\n}}\n"
    ));
    let ids = [3, 1].map(|n| NodeId::try_from(n).expect("non-zero"));
    assert_eq!(
        loaded.config.quorum.auto_tie_breaker_node,
        Some(TieBreaker::Nodes(ids.to_vec()))
    );
    assert!(
        lines(&loaded, Severity::Notice)
            .iter()
            .any(|n| n.contains("`totem.rrp_mode` is ignored"))
    );
    assert!(
        lines(&loaded, Severity::Warning)
            .iter()
            .any(|n| n.contains("`totem.netmtu` is a corosync option"))
    );
}

#[test]
fn report_shows_every_value_with_its_source() {
    let loaded = corosync(&format!("totem {{\n token: 1000\n}}\n{NODES3}"));
    let report = loaded.report();
    let find = |key: &str| {
        report
            .settings
            .iter()
            .find(|s| s.key == key)
            .unwrap_or_else(|| panic!("{key} missing"))
            .source
            .clone()
    };
    assert_eq!(find("totem.token"), "test.conf:2");
    assert_eq!(find("totem.join"), "default");
    assert_eq!(find("totem.consensus"), "derived from token");
    assert_eq!(find("nodelist.node.2.ring0_addr"), "test.conf:14");
    let json = serde_json::to_value(&report).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json["usable"], true);
    assert_eq!(json["format"], "corosync");
}

#[test]
fn timeouts_below_the_minimum_are_errors() {
    let loaded = corosync(&format!(
        "totem {{\n token: 10\n join: 40\n consensus: 35\n token_coefficient: 0\n}}\n{NODES3}"
    ));
    let errors = lines(&loaded, Severity::Error);
    assert_eq!(
        errors,
        [
            "test.conf:2: error: token is 10 ms but Totem needs at least 30 ms; raise it or leave it unset",
            "test.conf:4: error: consensus (35 ms) is shorter than join (40 ms); raise consensus or lower join",
        ]
    );
}

#[test]
fn a_node_name_that_resolves_only_to_loopback_is_the_unclean_node_trap_and_a_warning() {
    let loaded = corosync(
        "totem {\n version: 2\n cluster_name: c\n transport: udpu\n}\n\
         nodelist {\n node {\n  ring0_addr: localnode\n  nodeid: 1\n }\n node {\n  ring0_addr: node2\n  nodeid: 2\n }\n}\n\
         quorum {\n provider: corosync_votequorum\n two_node: 1\n}\n",
    );
    assert!(loaded.is_usable(), "a warning, not an error");
    let warnings = lines(&loaded, Severity::Warning);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .contains(":8: warning: host name `localnode` resolves only to a loopback address")
            && warnings[0].contains("map `localnode` to this node's network address in /etc/hosts"),
        "{warnings:?}"
    );
}

#[test]
fn a_corosync_conf_without_keyfile_uses_corosyncs_key_and_cluster_toml_batons() {
    let conf = corosync(
        "totem {\n version: 2\n cluster_name: c\n crypto_cipher: aes256\n crypto_hash: sha256\n}\n\
         nodelist {\n node {\n  ring0_addr: 10.0.0.1\n  nodeid: 1\n }\n}\n",
    );
    assert_eq!(
        conf.config.totem.effective_keyfile(conf.format),
        Path::new("/etc/corosync/authkey")
    );
    let toml = common::toml(
        "[totem]\ncluster_name = \"c\"\ncrypto_cipher = \"aes256\"\ncrypto_hash = \"sha256\"\n\n[[nodelist.node]]\nnodeid = 1\nring0_addr = \"10.0.0.1\"\n",
    );
    assert_eq!(
        toml.config.totem.effective_keyfile(toml.format),
        Path::new("/etc/baton/authkey")
    );
}
