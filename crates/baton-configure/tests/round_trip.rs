//! Text → CIB → `show` text → CIB gives the same configuration.

use baton_cib::Cib;
use baton_cib::xml::Style;
use baton_configure::{AgentLookup, apply, show_text};
use baton_crmsh::ast::{Agent, Command};

struct AllInstalled;

impl AgentLookup for AllInstalled {
    fn is_installed(&self, _: &Agent) -> Option<bool> {
        Some(true)
    }
}

fn commands(text: &str) -> Vec<Command> {
    baton_crmsh::parse(text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .into_iter()
        .map(|l| l.command)
        .collect()
}

fn load(text: &str) -> Cib {
    let mut cib = Cib::empty();
    apply(&mut cib, &commands(text), &AllInstalled).unwrap_or_else(|e| panic!("{e}\n{text}"));
    cib
}

/// The configuration as XML, with the top-level children of `resources`
/// and `constraints` in id order: `show` lists them sorted as crmsh does, so
/// a reloaded CIB may hold them in another order that means the same.
fn config(cib: &Cib) -> String {
    let c = cib.configuration().expect("configuration");
    let doc = c.document();
    let mut text = String::new();
    for section in c.children() {
        match section.name() {
            "resources" | "constraints" => {
                let mut children: Vec<(String, String)> = section
                    .children()
                    .map(|e| {
                        (
                            e.xml_id().to_owned(),
                            doc.element_to_xml(e.id(), Style::Pretty),
                        )
                    })
                    .collect();
                children.sort();
                text.push_str(section.name());
                for (_, xml) in children {
                    text.push_str(&xml);
                }
            }
            _ => text.push_str(&doc.element_to_xml(section.id(), Style::Pretty)),
        }
    }
    text
}

fn assert_round_trip(text: &str) -> String {
    let first = load(text);
    let shown = show_text(&first, &[]).expect("show");
    let second = load(&shown);
    assert_eq!(config(&first), config(&second), "show text was:\n{shown}");
    shown
}

const CONSTRUCTS: &str = r#"node node1
node $id=2 node2:member attributes standby=off utilization memory=1024
primitive vip ocf:heartbeat:IPaddr2 params ip=10.0.0.9 cidr_netmask=24 op monitor interval=10s timeout=20s meta resource-stickiness=100
primitive fs Filesystem params device=/dev/sdb1 directory=/srv fstype=xfs op monitor interval=20s timeout=40s OCF_CHECK_LEVEL=10 op start timeout=60s
primitive db ocf:heartbeat:pgsql utilization cpu=2 op monitor role=Promoted interval=60s op monitor interval=61s
primitive fence-n1 stonith:fence_ipmilan params ip=10.0.0.1 username=admin password=secret pcmk_host_list=node1
primitive dlm ocf:pacemaker:controld
primitive web systemd:nginx
group g1 vip fs meta target-role=Started
clone cl-dlm dlm meta interleave=true
ms ms-db db meta notify=true
location loc1 g1 100: node1
location loc2 g1 -inf: node2
location loc3 /web.*/ 50: node1
location loc4 ms-db role=Promoted rule -inf: not_defined pingd or pingd lte 0
location loc5 web resource-discovery=never rule 10: #uname eq node1 and date spec hours=9-16 weekdays=1-5
location loc6 web rule pingd: defined pingd rule -inf: date gt 2030-01-01
location loc7 web rule inf: date in start=2025-01-01 end=2026-01-01
colocation col1 inf: g1 cl-dlm
colocation col2 -100: web:Started ms-db:Promoted
colocation col3 inf: web g1 vip
colocation col4 inf: web ( fs vip )
order ord1 Mandatory: cl-dlm g1
order ord2 Optional: ms-db:promote web:start symmetrical=false
order ord3 inf: vip fs web
order ord4 web [ fs vip ]
property stonith-enabled=true no-quorum-policy=stop
property cluster-recheck-interval=5min
rsc_defaults resource-stickiness=100 migration-threshold=3
op_defaults timeout=60s
"#;

#[test]
fn constructs_survive_show_and_load() {
    assert_round_trip(CONSTRUCTS);
}

#[test]
fn each_construct_alone_survives_show_and_load() {
    // Line by line on top of what came before: each object's show is stable.
    let mut text = String::new();
    for line in CONSTRUCTS.lines() {
        text.push_str(line);
        text.push('\n');
        assert_round_trip(&text);
    }
}

#[test]
fn examples_survive_show_and_load() {
    for entry in std::fs::read_dir("/work/shared/examples/crmsh").expect("examples") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        assert_round_trip(&text);
    }
}
