//! The crmsh language as admins paste it: tutorial files load, every
//! construct prints back to text that parses to the same commands, and
//! mistakes are reported at the right line and column.

use std::path::PathBuf;

use baton_crmsh::ast::{
    AgentRef, Command, Expression, LocationTarget, OrderKind, OrderStrength, Placement, Score,
    SetItem,
};
use baton_crmsh::{parse, print};

fn commands(text: &str) -> Vec<Command> {
    parse(text)
        .unwrap_or_else(|e| panic!("{e}\n--- input:\n{text}"))
        .into_iter()
        .map(|located| located.command)
        .collect()
}

fn assert_round_trip(text: &str) {
    let first = commands(text);
    let printed = print::commands(&first);
    let second = commands(&printed);
    assert_eq!(first, second, "printed form parses differently:\n{printed}");
    assert_eq!(printed, print::commands(&second), "printing is not stable");
}

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/examples/crmsh");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "the shared examples must sit beside the repository ({}): {e}",
                dir.display()
            )
        })
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no examples in {}", dir.display());
    files
}

#[test]
fn every_shared_example_loads_as_written_and_round_trips() {
    for path in examples() {
        let text = std::fs::read_to_string(&path).expect("read example");
        let parsed = commands(&text);
        assert!(
            parsed.len() >= 6,
            "{}: only {} commands",
            path.display(),
            parsed.len()
        );
        assert_round_trip(&text);
    }
}

#[test]
fn the_web_tutorial_means_what_it_says() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/examples/crmsh/web-ha-constraints.crm"),
    )
    .expect("example");
    let parsed = commands(&text);
    let Command::Primitive(webip) = &parsed[2] else {
        panic!("{:?}", parsed[2])
    };
    let AgentRef::Agent(agent) = &webip.agent else {
        panic!()
    };
    assert_eq!(
        (
            agent.class.as_str(),
            agent.provider.as_deref(),
            agent.kind.as_str()
        ),
        ("ocf", Some("heartbeat"), "IPaddr")
    );
    assert_eq!(webip.params.pairs[0].value, "192.168.192.222");

    let Command::Primitive(web) = &parsed[3] else {
        panic!()
    };
    let AgentRef::Agent(agent) = &web.agent else {
        panic!()
    };
    assert_eq!(
        (agent.class.as_str(), agent.provider.as_deref()),
        ("lsb", None)
    );
    assert_eq!(web.ops.len(), 1);
    assert_eq!(web.ops[0].name, "monitor");
    let on_fail = web.ops[0]
        .attributes
        .iter()
        .find(|p| p.name == "on-fail")
        .expect("on-fail");
    assert_eq!(on_fail.value, "restart");
    assert_eq!(web.meta.pairs[0].name, "target-role");

    let Command::Primitive(store) = &parsed[4] else {
        panic!()
    };
    assert_eq!(store.ops.len(), 3);
    let device = store
        .params
        .pairs
        .iter()
        .find(|p| p.name == "device")
        .expect("device");
    assert_eq!(
        device.value, "192.168.192.196:/webdocs",
        "quotes are removed"
    );

    let Command::Colocation(colocation) = &parsed[5] else {
        panic!()
    };
    assert_eq!(colocation.score, Score::Infinity);
    assert_eq!(colocation.resources.len(), 3);
    let Command::Order(order) = &parsed[6] else {
        panic!()
    };
    assert_eq!(order.strength, None);
    assert_eq!(order.resources.len(), 3);
}

#[test]
/// The layout crmsh 4.4.1 prints (checked with `crm configure show` on a
/// CIB written by baton): params, meta, utilization, then each op.
fn show_layout_matches_crm_configure_show() {
    let text = "primitive webstore ocf:heartbeat:Filesystem params device=\"192.168.192.196:/webdocs\" fstype=nfs \
                op start timeout=60 interval=0 op monitor interval=60 timeout=60 on-fail=standby meta target-role=Started";
    assert_eq!(
        print::commands(&commands(text)),
        "primitive webstore Filesystem \\\n\tparams device=\"192.168.192.196:/webdocs\" fstype=nfs \\\n\
         \tmeta target-role=Started \\\n\
         \top start timeout=60 interval=0 \\\n\top monitor interval=60 timeout=60 on-fail=standby\n"
    );
    assert_eq!(
        print::commands(&commands(
            "property stonith-enabled=false no-quorum-policy=ignore"
        )),
        "property \\\n\tstonith-enabled=false \\\n\tno-quorum-policy=ignore\n"
    );
}

const EVERY_CONSTRUCT: &str = r#"
node 1: alice attributes standby=off utilization memory=2048
node $id=2 bob:member
node carol attributes site=east
primitive vip ocf:heartbeat:IPaddr2 params ip=10.0.0.9 cidr_netmask=24 op monitor interval=10s timeout=20s meta resource-stickiness=100
primitive f1 stonith:fence_ipmilan params ip=10.0.0.1 username=admin password="s3cr3t pass" pcmk_host_list=n1
primitive drbd ocf:linbit:drbd params drbd_resource=r0 \
    op monitor role=Promoted interval=29s \
    op monitor role=Unpromoted interval=31s OCF_CHECK_LEVEL=10 \
    op notify timeout=90 op_meta record-pending=false
primitive from-template @web-template params port=8080
primitive d1 Dummy utilization cpu=1 meta migration-threshold=3 failure-timeout=60s
group g1 vip d1 meta target-role=Stopped
clone c1 d1 meta clone-max=2 interleave=true
ms ms_drbd drbd meta promoted-max=1 notify=true
clone p1 drbd meta promotable=true
location l-simple vip 100: alice
location l-ban vip -inf: bob
location l-role ms_drbd role=Promoted resource-discovery=exclusive inf: alice
location l-regex /^d[0-9]+$/ 50: carol
location l-rules vip rule $id=r1 $role=Started -inf: not_defined pingd or pingd number:lte 0 rule pingd: defined pingd
location l-date vip rule 10: date spec hours=9-16 weekdays=1-5 rule 20: date in start=2025-01-01 duration months=1 rule 30: date gt 2030-01-01
location l-uname vip rule -inf: #uname eq bob and site ne east
colocation col-two inf: vip d1
colocation col-roles 500: vip:Started ms_drbd:Promoted node-attribute=site
colocation col-set -inf: vip ( d1 f1 ) [ g1 c1 ]
order o-kind Mandatory: ms_drbd:promote g1:start
order o-optional Optional: vip d1 symmetrical=false
order o-score inf: vip d1
order o-serialize Serialize: d1 f1
property $id=cib-bootstrap-options stonith-enabled=true no-quorum-policy=stop
property cib-bootstrap-options: cluster-recheck-interval=5min
rsc_defaults resource-stickiness=100
op_defaults timeout=60s
delete d1 f1
"#;

#[test]
fn every_construct_round_trips() {
    assert_round_trip(EVERY_CONSTRUCT);
}

#[test]
fn every_construct_means_what_crmsh_means() {
    let parsed = commands(EVERY_CONSTRUCT);
    let find = |id: &str| {
        parsed
            .iter()
            .find(|c| c.id() == Some(id))
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    let Command::Node(alice) = find("alice") else {
        panic!()
    };
    assert_eq!(alice.id.as_deref(), Some("1"));
    let Command::Node(bob) = find("bob") else {
        panic!()
    };
    assert_eq!(
        (bob.id.as_deref(), bob.node_type.as_deref()),
        (Some("2"), Some("member"))
    );

    let Command::Primitive(drbd) = find("drbd") else {
        panic!()
    };
    assert_eq!(drbd.ops.len(), 3);
    assert_eq!(
        drbd.ops[1].params[0].name, "OCF_CHECK_LEVEL",
        "unknown op keys are op parameters"
    );
    assert_eq!(drbd.ops[2].meta[0].name, "record-pending");
    let Command::Primitive(templated) = find("from-template") else {
        panic!()
    };
    assert_eq!(templated.agent, AgentRef::Template("web-template".into()));
    let Command::Primitive(fence) = find("f1") else {
        panic!()
    };
    assert_eq!(fence.params.pairs[2].value, "s3cr3t pass");

    let Command::Location(regex) = find("l-regex") else {
        panic!()
    };
    assert!(
        matches!(&regex.resource, LocationTarget::Pattern(baton_crmsh::ast::ResourcePattern::Regex(r)) if r == "^d[0-9]+$")
    );
    let Command::Location(rules) = find("l-rules") else {
        panic!()
    };
    let Placement::Rules(rules) = &rules.placement else {
        panic!()
    };
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].score, Score::MinusInfinity);
    assert_eq!(rules[0].role.as_deref(), Some("Started"));
    assert_eq!(rules[1].score, Score::Attribute("pingd".into()));
    let Command::Location(uname) = find("l-uname") else {
        panic!()
    };
    let Placement::Rules(uname_rules) = &uname.placement else {
        panic!()
    };
    assert!(
        matches!(&uname_rules[0].expressions[0], Expression::Compare { attribute, .. } if attribute == "#uname")
    );

    let Command::Colocation(set) = find("col-set") else {
        panic!()
    };
    assert!(
        matches!(&set.resources[1], SetItem::Set { require_all: true, resources, .. } if resources.len() == 2)
    );
    assert!(matches!(
        &set.resources[2],
        SetItem::Set {
            require_all: false,
            ..
        }
    ));
    let Command::Order(kind) = find("o-kind") else {
        panic!()
    };
    assert_eq!(
        kind.strength,
        Some(OrderStrength::Kind(OrderKind::Mandatory))
    );
    let Command::Order(optional) = find("o-optional") else {
        panic!()
    };
    assert_eq!(optional.symmetrical, Some(false));
}

#[test]
fn scores_saturate_at_infinity() {
    let parsed = commands(
        "location l vip 5000000: alice\nlocation m vip INFINITY: bob\nlocation n vip +inf: carol",
    );
    for command in parsed {
        let Command::Location(l) = command else {
            panic!()
        };
        let Placement::Node { score, .. } = l.placement else {
            panic!()
        };
        assert_eq!(score, Score::Infinity);
    }
}

fn error_of(text: &str) -> String {
    parse(text).expect_err("should be rejected").to_string()
}

#[test]
fn mistakes_name_line_column_and_what_was_expected() {
    assert_eq!(
        error_of("property a=b\nprimitiv vip IPaddr2"),
        "line 2, column 1: expected a command (node, primitive, group, clone, ms, location, colocation, collocation, order, property, rsc_defaults, op_defaults), found `primitiv`"
    );
    assert_eq!(
        error_of("primitive vip ocf:heartbeat:IPaddr2 \\\n    parms ip=1.2.3.4"),
        "line 2, column 5: expected params, meta, utilization or op, found `parms`"
    );
    assert_eq!(
        error_of("location l1 vip node1"),
        "line 1, column 17: expected a score such as inf:, -inf: or 100:, found `node1`"
    );
    assert_eq!(
        error_of("colocation c inf: vip"),
        "line 1, column 22: expected at least two resources, found the end of the command"
    );
    assert_eq!(
        error_of("primitive vip Dummy params ip=\"10.0.0.1"),
        "line 1, column 28: expected a closing \" for the quote that starts here, found the end of the line"
    );
    assert!(
        error_of("location l vip rule 10: a eq b and c eq d or e eq f")
            .contains("the same operator")
    );
    assert!(error_of("colocation c inf: ( a b").contains("`)` to close the set"));
    assert!(error_of("location l vip rule 10: a like b").contains("a comparison"));
}

#[test]
fn comments_are_whole_lines_and_continuations_join_lines() {
    let parsed = commands(
        "# comment\n\n   # indented comment\nprimitive d Dummy \\\r\n  params note=a#b \\\n  meta a=b\r\n",
    );
    let Command::Primitive(d) = &parsed[0] else {
        panic!()
    };
    assert_eq!(d.params.pairs[0].value, "a#b", "a # inside a value is data");
    assert_eq!(d.meta.pairs[0].value, "b");

    let error = parse("primitive d Dummy \\\n  # inside a command this is data\n")
        .expect_err("not a comment");
    assert_eq!((error.at.line, error.at.column), (2, 3));
    let error = parse("primitive d Dummy meta a=b # trailing").expect_err("no trailing comments");
    assert_eq!(error.at.column, 28);
}

/// Found by the word-soup property test: a node followed by a lone `=`
/// looped forever instead of being rejected.
#[test]
fn regression_node_followed_by_a_bare_equals_sign_is_rejected() {
    let error = parse("node alice =").expect_err("not an attribute");
    assert_eq!(error.at.column, 12);
}
