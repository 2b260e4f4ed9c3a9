//! cluster.toml: a natural schema, strict about unknown keys.

mod common;

use std::path::Path;

use baton_config::{Format, LoadError, Severity, load_str};
use common::{FakeDns, lines, toml};

const CLUSTER: &str = r#"[totem]
cluster_name = "web"
token = 5000
secauth = true

[[totem.interface]]
linknumber = 0

[[nodelist.node]]
nodeid = 1
ring0_addr = "10.0.0.1"
ring1_addr = "192.168.0.1"

[[nodelist.node]]
nodeid = 2
name = "node2"
ring0_addr = "10.0.0.2"

[quorum]
provider = "corosync_votequorum"
two_node = true
auto_tie_breaker_node = "highest"

[logging]
debug = "on"

[[logging.logger_subsys]]
subsys = "QUORUM"
debug = "trace"
"#;

#[test]
fn natural_toml_loads_with_line_numbers() {
    let loaded = toml(CLUSTER);
    assert!(loaded.is_usable(), "{}", loaded.report());
    assert_eq!(loaded.config.totem.token_ms, Some(5000));
    assert_eq!(loaded.config.nodelist.nodes[0].addrs.len(), 2);
    assert_eq!(loaded.sources.line("totem.token"), Some(3));
    assert_eq!(loaded.sources.line("nodelist.node.1.name"), Some(16));
    assert!(loaded.config.effective_wait_for_all());
}

#[test]
fn toml_round_trips() {
    let loaded = toml(CLUSTER);
    let again = toml(&loaded.to_toml());
    assert_eq!(loaded.config, again.config);
}

fn toml_error(text: &str) -> String {
    match load_str(text, Path::new("c.toml"), Format::Toml, &FakeDns) {
        Err(e @ LoadError::Toml { .. }) => e.to_string(),
        other => panic!("expected a TOML error, got {other:?}"),
    }
}

#[test]
fn unknown_key_is_an_error_with_path_and_line() {
    let msg = toml_error("[totem]\ntoken = 3000\ntokn = 5\n");
    assert!(
        msg.starts_with("c.toml:3:1: invalid cluster.toml at `totem.tokn`: unknown key `tokn` (did you mean `token`?), expected one of `cluster_name`"),
        "{msg}"
    );
}

#[test]
fn bad_values_are_errors_with_line() {
    let msg = toml_error("[totem]\ntransport = \"tcp\"\n");
    assert!(
        msg.starts_with("c.toml:2:13: invalid cluster.toml at `totem.transport`:"),
        "{msg}"
    );
    assert!(msg.contains("knet, udpu, udp"), "{msg}");
    let msg = toml_error("[[nodelist.node]]\nnodeid = 0\n");
    assert!(
        msg.contains("at `nodelist.node.0.nodeid`") && msg.contains("0 is reserved"),
        "{msg}"
    );
}

#[test]
fn model_checks_apply_to_toml_too() {
    let loaded =
        toml("[totem]\ntransport = \"udpu\"\ncrypto_cipher = \"aes256\"\ncrypto_hash = \"none\"\n");
    let errors = lines(&loaded, Severity::Error);
    assert!(
        errors
            .iter()
            .any(|e| e
                .starts_with("cluster.toml:3: error: crypto_cipher aes256 needs a crypto_hash")),
        "{errors:?}"
    );
}
