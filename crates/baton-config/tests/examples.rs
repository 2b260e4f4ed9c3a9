//! The shipped corosync.conf examples: each loads, says what a user needs to
//! know, and survives `import` unchanged.

mod common;

use std::path::Path;

use baton_config::{Format, Severity, Transport, load_path_with, load_str};
use common::{FakeDns, examples_dir, lines};

fn example(name: &str) -> baton_config::Loaded {
    load_path_with(&examples_dir().join(name), &FakeDns).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_example_round_trips_through_toml() {
    let dir = examples_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("examples directory {} is missing: {e}", dir.display()));
    let mut seen = 0;
    for entry in entries {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let loaded = load_path_with(&path, &FakeDns).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            loaded.is_usable(),
            "{}:\n{}",
            path.display(),
            loaded.report()
        );
        let text = loaded.to_toml();
        assert!(
            text.starts_with("# cluster.toml for baton, imported from"),
            "{text}"
        );
        let again = load_str(&text, Path::new("imported.toml"), Format::Toml, &FakeDns)
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
        assert_eq!(loaded.config, again.config, "{}:\n{text}", path.display());
        seen += 1;
    }
    assert!(
        seen >= 3,
        "expected the three corosync examples in {}",
        dir.display()
    );
}

#[test]
fn whitetank_is_multicast_without_nodelist_and_explains_legacy_sections() {
    let loaded = example("whitetank-plugin.conf");
    assert!(loaded.is_usable());
    assert_eq!(loaded.config.effective_transport(), Transport::Udp);
    assert!(loaded.config.nodelist.nodes.is_empty());
    let iface = &loaded.config.totem.interfaces[0];
    assert_eq!(
        iface.bindnetaddr,
        Some("192.168.192.0".parse().expect("ip"))
    );
    assert_eq!(iface.mcastaddr, Some("226.94.1.1".parse().expect("ip")));
    let notices = lines(&loaded, Severity::Notice).join("\n");
    for needle in [
        "whitetank-plugin.conf:1: notice: `compatibility: whitetank`",
        "section `aisexec`",
        "section `amf`",
        "section `service` (name: pacemaker, ver: 0)",
        "`totem.threads` is ignored",
        "`ringnumber` is ignored",
        "members are discovered at run time",
    ] {
        assert!(notices.contains(needle), "missing {needle:?} in\n{notices}");
    }
    assert!(
        lines(&loaded, Severity::Warning).is_empty(),
        "{:?}",
        lines(&loaded, Severity::Warning)
    );
}

#[test]
fn pcs_two_node_waits_for_all_with_plain_timers() {
    let loaded = example("pcs-two-node.conf");
    let c = &loaded.config;
    assert_eq!(c.nodelist.nodes.len(), 2);
    assert!(c.effective_two_node());
    assert!(c.effective_wait_for_all());
    let timers = c.timers();
    assert_eq!((timers.token_ms, timers.consensus_ms), (3000, 3600));
    let report = loaded.report().to_string();
    assert!(report.contains("quorum.wait_for_all"), "{report}");
    assert!(report.contains("(derived from two_node)"), "{report}");
    assert!(report.contains("pcs-two-node.conf:5)"), "{report}");
}

#[test]
fn v2_empty_quorum_is_always_quorate() {
    let loaded = example("v2-threads-quorum.conf");
    let notices = lines(&loaded, Severity::Notice).join("\n");
    assert!(
        notices.contains("v2-threads-quorum.conf:31: notice: no quorum provider"),
        "{notices}"
    );
    assert!(notices.contains("always quorate"), "{notices}");
}

#[test]
fn unresolvable_host_names_are_warnings() {
    let path = examples_dir().join("pcs-two-node.conf");
    let loaded = load_path_with(&path, &NoHosts).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.is_usable());
    let warnings = lines(&loaded, Severity::Warning);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains(":10: warning: host name `web1` does not resolve"),
        "{warnings:?}"
    );
}

#[derive(Debug)]
struct NoHosts;

impl baton_config::Resolver for NoHosts {
    fn resolves(&self, _: &str) -> bool {
        false
    }
}
