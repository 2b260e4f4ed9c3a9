//! The registry and topology as tables: a configuration in, for each node
//! the devices tried in order (levels separated by `|`; `?` = the agent
//! must be asked, `!` = the device leaves the node out, `(unknown)` = no
//! such device).

use std::collections::BTreeMap;

use baton_cib::Cib;
use baton_fencing::{AgentCapabilities, Claim, FencePlan, Registry};

fn cib(resources: &str, topology: &str) -> Cib {
    Cib::parse(&format!(
        "<cib epoch=\"1\" num_updates=\"0\" admin_epoch=\"0\"><configuration><crm_config/><nodes/>\
         <resources>{resources}</resources><constraints/>{topology}</configuration><status/></cib>"
    ))
    .expect("a CIB")
}

fn device(id: &str, agent: &str, params: &[(&str, &str)]) -> String {
    let pairs: String = params
        .iter()
        .map(|(n, v)| format!("<nvpair id=\"{id}-{n}\" name=\"{n}\" value=\"{v}\"/>"))
        .collect();
    format!(
        "<primitive id=\"{id}\" class=\"stonith\" type=\"{agent}\">\
         <instance_attributes id=\"{id}-ia\">{pairs}</instance_attributes></primitive>"
    )
}

/// fence_list can list its ports, fence_status only tell a port's status,
/// anything else neither.
fn agent(name: &str) -> AgentCapabilities {
    AgentCapabilities {
        list: name == "fence_list",
        status: name == "fence_list" || name == "fence_status",
        reboot: name != "fence_offonly",
    }
}

fn render(plan: &FencePlan) -> String {
    plan.levels
        .iter()
        .map(|level| {
            level
                .iter()
                .map(|c| match c.claim {
                    Claim::Yes => c.device.clone(),
                    Claim::AskAgent => format!("{}?", c.device),
                    Claim::No => format!("{}!", c.device),
                    Claim::Unknown => format!("{}(unknown)", c.device),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A node, its node attributes, and the plan expected for it.
type Row<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

fn check(registry: &Registry, table: &[Row<'_>]) {
    for (node, attributes, expected) in table {
        let attributes: BTreeMap<String, String> = attributes
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        let plan = registry.plan(node, &attributes, agent);
        assert_eq!(render(&plan), *expected, "node {node}");
    }
}

#[test]
fn without_topology_every_device_that_may_fence_a_node_is_tried_in_turn() {
    let resources = [
        device(
            "ipmi-n1",
            "fence_ipmilan",
            &[("pcmk_host_list", "n1"), ("ip", "10.0.0.1")],
        ),
        device("pdu", "fence_apc", &[("pcmk_host_map", "n1:1;n2:2,3")]),
        device("lister", "fence_list", &[]),
        device("status-only", "fence_status", &[]),
        device("anyone", "fence_other", &[]),
        device("static-none", "fence_list", &[("pcmk_host_check", "none")]),
    ]
    .concat();
    let (registry, problems) = Registry::from_cib(&cib(&resources, ""));
    assert!(problems.is_empty(), "{problems:?}");
    check(
        &registry,
        &[
            (
                "n1",
                &[],
                "ipmi-n1 | pdu | lister? | status-only? | anyone | static-none",
            ),
            (
                "n2",
                &[],
                "pdu | lister? | status-only? | anyone | static-none",
            ),
            ("n9", &[], "lister? | status-only? | anyone | static-none"),
        ],
    );
}

#[test]
fn topology_levels_are_tried_by_index_for_the_nodes_they_target() {
    let resources = [
        device("ipmi", "fence_ipmilan", &[("pcmk_host_list", "n1 n2 web3")]),
        device("pdu1", "fence_apc", &[("pcmk_host_list", "n1,n2")]),
        device("pdu2", "fence_apc", &[("pcmk_host_list", "n1,n2")]),
    ]
    .concat();
    let topology = "<fencing-topology>\
        <fencing-level id=\"l2\" index=\"2\" target=\"n1\" devices=\"pdu1,pdu2\"/>\
        <fencing-level id=\"l1\" index=\"1\" target=\"n1\" devices=\"ipmi\"/>\
        <fencing-level id=\"rack\" index=\"1\" target-attribute=\"rack\" target-value=\"b\" devices=\"pdu1\"/>\
        <fencing-level id=\"web\" index=\"1\" target-pattern=\"^web[0-9]+$\" devices=\"ipmi,spare\"/>\
        </fencing-topology>";
    let (registry, problems) = Registry::from_cib(&cib(&resources, topology));
    assert!(problems.is_empty(), "{problems:?}");
    check(
        &registry,
        &[
            ("n1", &[], "ipmi | pdu1 pdu2"),
            ("n2", &[], "ipmi | pdu1 | pdu2"),
            ("n2", &[("rack", "b")], "pdu1"),
            ("web3", &[], "ipmi spare(unknown)"),
            ("web3x", &[], ""),
            ("n3", &[("rack", "b")], "pdu1!"),
        ],
    );
}

#[test]
fn a_disabled_device_is_not_used() {
    let resources = device("off", "fence_other", &[]).replace(
        "</primitive>",
        "<meta_attributes id=\"off-meta\"><nvpair id=\"off-tr\" name=\"target-role\" value=\"Stopped\"/></meta_attributes></primitive>",
    ) + &device("on", "fence_other", &[]);
    let (registry, _) = Registry::from_cib(&cib(&resources, ""));
    check(&registry, &[("n1", &[], "on")]);
}

#[test]
fn the_agent_reads_the_action_the_node_and_the_device_parameters() {
    let resources = [
        device(
            "pdu",
            "fence_apc",
            &[
                ("pcmk_host_map", "n1:1;n2:2,3"),
                ("pcmk_reboot_action", "off"),
                ("ip", "10.0.0.9"),
                ("username", "admin"),
            ],
        ),
        device(
            "dummy",
            "fence_offonly",
            &[("pcmk_host_argument", "none"), ("type", "file")],
        ),
        device(
            "fixed",
            "fence_apc",
            &[("port", "7"), ("pcmk_host_list", "n1")],
        ),
        device(
            "plug",
            "fence_apc",
            &[("pcmk_host_argument", "plug"), ("plug", "dynamic")],
        ),
    ]
    .concat();
    let (registry, problems) = Registry::from_cib(&cib(&resources, ""));
    assert!(problems.is_empty(), "{problems:?}");
    let stdin = |id: &str, node: &str| {
        let d = registry.device(id).expect("a device");
        let action = d.agent_action("reboot", agent(&d.agent));
        d.stdin(&action, node, Some(2))
    };
    assert_eq!(
        stdin("pdu", "n2"),
        "action=off\nnodename=n2\nnodeid=2\nport=2,3\nip=10.0.0.9\nusername=admin\n"
    );
    assert_eq!(
        stdin("dummy", "n2"),
        "action=off\nnodename=n2\nnodeid=2\ntype=file\n"
    );
    assert_eq!(
        stdin("fixed", "n1"),
        "action=reboot\nnodename=n1\nnodeid=2\nport=7\n"
    );
    assert_eq!(
        stdin("plug", "n1"),
        "action=reboot\nnodename=n1\nnodeid=2\nplug=n1\n"
    );
}

#[test]
fn delays_are_the_base_for_the_node_and_part_of_the_spread_to_the_maximum() {
    let resources = [
        device("per-node", "fence_x", &[("pcmk_delay_base", "n1:5s;n2:0")]),
        device(
            "spread",
            "fence_x",
            &[("pcmk_delay_base", "2s"), ("pcmk_delay_max", "10s")],
        ),
    ]
    .concat();
    let (registry, problems) = Registry::from_cib(&cib(&resources, ""));
    assert!(problems.is_empty(), "{problems:?}");
    let per_node = registry.device("per-node").expect("a device");
    assert_eq!(per_node.delay_ms("n1", 12_345), 5_000);
    assert_eq!(per_node.delay_ms("n2", 12_345), 0);
    let spread = registry.device("spread").expect("a device");
    assert_eq!(spread.delay_ms("n1", 0), 2_000);
    assert_eq!(spread.delay_ms("n1", 7_999), 9_999);
    assert_eq!(spread.delay_ms("n1", 8_000), 2_000);
}

#[test]
fn what_cannot_be_used_is_left_out_and_said_why() {
    let resources = [
        device("slow", "fence_x", &[("pcmk_delay_max", "soon")]),
        device("odd", "fence_x", &[("pcmk_host_check", "sometimes")]),
        device("mapped", "fence_x", &[("pcmk_host_map", "n1:1;n2")]),
        device("good", "fence_x", &[]),
    ]
    .concat();
    let topology = "<fencing-topology>\
        <fencing-level id=\"ten\" index=\"10\" target=\"n1\" devices=\"good\"/>\
        <fencing-level id=\"empty\" index=\"1\" target=\"n1\" devices=\"\"/>\
        <fencing-level id=\"bad-re\" index=\"1\" target-pattern=\"web[\" devices=\"good\"/>\
        <fencing-level id=\"both\" index=\"1\" target=\"n1\" target-pattern=\"n.*\" devices=\"good\"/>\
        </fencing-topology>";
    let (registry, problems) = Registry::from_cib(&cib(&resources, topology));
    let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let expected = [
        "fencing device slow: pcmk_delay_max=soon is not a duration",
        "fencing device odd: pcmk_host_check=sometimes is not one of static-list, dynamic-list, status, none",
        "fencing device mapped: pcmk_host_map entry `n2` has no node:name form",
        "fencing-level ten: index must be a number from 1 to 9",
        "fencing-level empty: it names no devices",
        "fencing-level bad-re: target-pattern web[ is not a regular expression",
        "fencing-level both: exactly one of target, target-pattern or target-attribute is needed",
    ];
    for text in expected {
        assert!(
            said.iter().any(|s| s.starts_with(text)),
            "missing `{text}` in {said:#?}"
        );
    }
    assert_eq!(said.len(), expected.len(), "{said:#?}");
    check(&registry, &[("n1", &[], "good")]);
}

#[test]
fn a_device_banned_from_a_node_cannot_be_run_by_that_nodes_fencer() {
    let resources = [
        device("fence-n3", "fence_ipmilan", &[("pcmk_host_list", "n3")]),
        device("pdu", "fence_apc", &[("pcmk_host_list", "n2")]),
    ]
    .concat();
    let text = cib(&resources, "")
        .to_xml(baton_cib::xml::Style::Compact)
        .replace(
            "<constraints/>",
            r#"<constraints><rsc_location id="l1" rsc="fence-n3" node="n1" score="-INFINITY"/><rsc_location id="l2" rsc="pdu" node="n3" score="100"/></constraints>"#,
        );
    let (registry, problems) = Registry::from_cib(&Cib::parse(&text).expect("a CIB"));
    assert!(problems.is_empty(), "{problems:?}");
    let plan = registry.plan("n3", &BTreeMap::new(), agent);
    // (node whose fencer would run it, may it)
    for (node, may) in [("n1", false), ("n2", true)] {
        assert_eq!(registry.can_run_on(&plan, node), may, "{node}");
    }
    let pdu_plan = registry.plan("n2", &BTreeMap::new(), agent);
    assert!(
        registry.can_run_on(&pdu_plan, "n1"),
        "a positive score bans nothing"
    );
}
