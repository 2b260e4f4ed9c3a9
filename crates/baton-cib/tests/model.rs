//! Typed views and edit helpers on a hand-written CIB.

use baton_cib::model::{
    BooleanOp, Constraint, OrderKind, Resource, RuleTerm, TransitionKey, canonical_option_name,
};
use baton_cib::xml::Style;
use baton_cib::{Cib, Score, Version};

const CIB: &str = r##"<cib admin_epoch="1" epoch="20" num_updates="3" validate-with="pacemaker-3.9" have-quorum="1" dc-uuid="n1" execution-date="1700000000" future-attr="kept">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="o1" name="stonith-enabled" value="false"/>
        <nvpair id="o2" name="fencing-timeout" value="90s"/>
        <nvpair id="o3" name="no-quorum-policy" value="ignore"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="n1" uname="alpha" type="member">
        <instance_attributes id="n1-ia"><nvpair id="n1-s" name="standby" value="off"/></instance_attributes>
        <utilization id="n1-u"><nvpair id="n1-cpu" name="cpu" value="4"/></utilization>
      </node>
      <node id="n2" uname="beta"/>
    </nodes>
    <resources>
      <primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2">
        <instance_attributes id="ip-ia"><nvpair id="ip-ip" name="ip" value="10.0.0.1"/></instance_attributes>
        <instance_attributes id="ip-ia-rule" score="10">
          <rule id="ip-rule" boolean-op="or" score="INFINITY">
            <expression id="e1" attribute="#uname" operation="eq" value="alpha" type="string"/>
            <date_expression id="d1" operation="in_range" start="2024-01-01"><duration id="d1-d" months="1"/></date_expression>
          </rule>
          <nvpair id="ip-ip2" name="ip" value="10.0.0.2"/>
        </instance_attributes>
        <meta_attributes id="ip-ma"><nvpair id="ip-ts" name="target-role" value="Started"/></meta_attributes>
        <operations>
          <op id="ip-mon" name="monitor" interval="PT10S" timeout="20s" on-fail="restart">
            <instance_attributes id="ip-mon-ia"><nvpair id="ip-mon-l" name="OCF_CHECK_LEVEL" value="10"/></instance_attributes>
          </op>
          <op id="ip-start" name="start" interval="0" timeout="1m" enabled="false"/>
        </operations>
      </primitive>
      <group id="grp"><primitive id="g1" class="lsb" type="g1"/><primitive id="g2" class="systemd" type="g2"/></group>
      <clone id="cl"><meta_attributes id="cl-ma"><nvpair id="cl-p" name="promotable" value="true"/></meta_attributes><primitive id="stateful" class="ocf" provider="pacemaker" type="Stateful"/></clone>
      <master id="ms"><primitive id="old" class="ocf" provider="pacemaker" type="Stateful"/></master>
      <clone id="plain"><group id="cg"><primitive id="cg1" class="ocf" provider="pacemaker" type="Dummy"/></group></clone>
      <template id="tpl" class="ocf" provider="pacemaker" type="Dummy"/>
      <bundle id="bnd"><docker image="x"/><primitive id="inner" class="ocf" provider="pacemaker" type="Dummy"/></bundle>
    </resources>
    <constraints>
      <rsc_location id="l1" rsc="ip" node="alpha" score="-INFINITY" role="Promoted"/>
      <rsc_location id="l2" rsc-pattern="^g"><rule id="l2-r" score="50"><rule id="l2-rr" boolean-op="and"><expression id="l2-e" attribute="rack" operation="defined"/></rule></rule></rsc_location>
      <rsc_colocation id="c1" rsc="ip" with-rsc="grp" score="+INFINITY" rsc-role="Started" with-rsc-role="Promoted"/>
      <rsc_order id="o1" first="ip" then="grp" kind="Mandatory" symmetrical="false" then-action="promote"/>
      <rsc_order id="o2" score="0"><resource_set id="s1" sequential="false" action="start"><resource_ref id="g1"/><resource_ref id="g2"/></resource_set></rsc_order>
      <rsc_ticket id="t1" ticket="tk" rsc="ip" loss-policy="stop"/>
    </constraints>
    <rsc_defaults><meta_attributes id="rd"><nvpair id="rd-s" name="resource-stickiness" value="1"/></meta_attributes></rsc_defaults>
    <op_defaults><meta_attributes id="od"><nvpair id="od-t" name="timeout" value="30s"/></meta_attributes></op_defaults>
    <fencing-topology><fencing-level id="fl" index="1" target="alpha" devices="d1"/></fencing-topology>
    <alerts><alert id="a1" path="/bin/true"/></alerts>
  </configuration>
  <status>
    <node_state id="n1" uname="alpha" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="n1"><instance_attributes id="status-n1"><nvpair id="fc" name="fail-count-ip#monitor_10000" value="2"/></instance_attributes></transient_attributes>
      <lrm id="n1"><lrm_resources>
        <lrm_resource id="ip" class="ocf" provider="heartbeat" type="IPaddr2" container="box">
          <lrm_rsc_op id="ip_last_0" operation_key="ip_start_0" operation="start" crm-debug-origin="build_active_RAs" crm_feature_set="3.0.7" transition-key="4:-1:0:abc" transition-magic="0:7;4:-1:0:abc" exit-reason="not running" on_node="alpha" call-id="12" rc-code="7" op-status="0" interval="0" last-rc-change="1699999999" last-run="1699999998" exec-time="15" queue-time="1" op-digest="d1" op-secure-digest="d2" op-restart-digest="d3" x-unknown="u"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
  </status>
</cib>
"##;

fn cib() -> Cib {
    Cib::parse(CIB).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn cib_attributes_and_version() {
    let cib = cib();
    assert_eq!(
        cib.version(),
        Ok(Version {
            admin_epoch: 1,
            epoch: 20,
            num_updates: 3
        })
    );
    assert_eq!(cib.validate_with(), Some("pacemaker-3.9"));
    assert_eq!(cib.have_quorum(), Ok(Some(true)));
    assert_eq!(cib.dc_uuid(), Some("n1"));
    assert_eq!(cib.execution_date(), Ok(Some(1_700_000_000)));
    assert_eq!(cib.attr("future-attr"), Some("kept"));
    assert!(Cib::parse("<notcib/>").is_err());
}

#[test]
fn properties_accept_both_spellings() {
    let cib = cib();
    assert_eq!(cib.property("stonith-enabled"), Some("false"));
    assert_eq!(cib.property("fencing-enabled"), Some("false"));
    assert_eq!(cib.property("stonith-timeout"), Some("90s"));
    assert_eq!(cib.property("no-quorum-policy"), Some("ignore"));
    assert_eq!(cib.property("stop-orphan-resources"), None);
    assert_eq!(canonical_option_name("stonith-action"), "fencing-action");
    assert_eq!(cib.property_bool("fencing-enabled"), Ok(Some(false)));
    assert_eq!(
        cib.property_duration_ms("stonith-timeout"),
        Ok(Some(90_000))
    );
    assert_eq!(cib.property_bool("maintenance-mode"), Ok(None));
    let err = cib
        .property_bool("no-quorum-policy")
        .expect_err("not a boolean");
    assert!(
        err.to_string()
            .starts_with("attribute `value` of nvpair `o3` is `ignore`"),
        "{err}"
    );
}

#[test]
fn set_property_updates_in_place_or_adds() {
    let mut cib = cib();
    cib.set_property("fencing-enabled", "true");
    assert!(
        cib.to_xml(Style::Compact)
            .contains(r#"<nvpair id="o1" name="stonith-enabled" value="true"/>"#)
    );
    cib.set_property("cluster-name", "prod");
    assert_eq!(cib.property("cluster-name"), Some("prod"));
    // With both spellings present the current one is read, so it is the one updated.
    let mut both = Cib::parse(r#"<cib><configuration><crm_config><cluster_property_set id="s"><nvpair id="old" name="stonith-enabled" value="true"/><nvpair id="new" name="fencing-enabled" value="true"/></cluster_property_set></crm_config></configuration></cib>"#).expect("parses");
    both.set_property("stonith-enabled", "false");
    assert_eq!(both.property("stonith-enabled"), Some("false"));
    let mut empty = Cib::empty();
    empty.set_property("stonith-enabled", "false");
    assert_eq!(empty.property("fencing-enabled"), Some("false"));
}

#[test]
fn version_bumps() {
    let mut cib = cib();
    assert_eq!(
        cib.bump_status().map(|v| v.to_string()),
        Ok("1.20.4".to_owned())
    );
    assert_eq!(
        cib.bump_config().map(|v| v.to_string()),
        Ok("1.21.0".to_owned())
    );
    assert_eq!(cib.attr("epoch"), Some("21"));
    assert_eq!(cib.attr("num_updates"), Some("0"));
}

#[test]
fn digest_covers_configuration_only() {
    let a = cib();
    let mut b = cib();
    b.bump_status().expect("bump");
    let ns = b.node_states().next().expect("state").element().id();
    b.document_mut().set_attr(ns, "crmd", "offline");
    assert_eq!(a.config_digest(), b.config_digest());
    b.set_property("stonith-enabled", "true");
    assert_ne!(a.config_digest(), b.config_digest());
    assert_eq!(a.config_digest().map(|d| d.len()), Some(64));
}

#[test]
fn nodes() {
    let cib = cib();
    let nodes: Vec<_> = cib.nodes().collect();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0].uname(), Some("alpha"));
    assert_eq!(nodes[0].attribute("standby"), Some("off"));
    assert_eq!(
        nodes[0].utilization().next().and_then(|u| u.get("cpu")),
        Some("4")
    );
    assert_eq!(nodes[1].node_type(), "member");
}

#[test]
fn resources() {
    let cib = cib();
    let all: Vec<Resource<'_>> = cib.resources().collect();
    assert_eq!(all.len(), 7);
    let Resource::Primitive(ip) = all[0] else {
        panic!("primitive first")
    };
    assert_eq!(
        (ip.class(), ip.provider(), ip.agent()),
        (Some("ocf"), Some("heartbeat"), Some("IPaddr2"))
    );
    assert_eq!(ip.param("ip"), Some("10.0.0.1"), "rule-guarded set skipped");
    let guarded = ip.instance_attributes().nth(1).expect("second set");
    assert_eq!(guarded.score(), Ok(Some(Score::new(10))));
    let rule = guarded.rule().expect("rule kept");
    assert_eq!(rule.boolean_op(), Ok(BooleanOp::Or));
    assert_eq!(rule.score(), Ok(Some(Score::INFINITY)));
    let terms: Vec<_> = rule.terms().collect();
    assert!(
        matches!(terms[0], RuleTerm::Expression(e) if e.attribute() == Some("#uname") && e.value_type() == Some("string"))
    );
    assert!(
        matches!(terms[1], RuleTerm::Date(d) if d.start() == Some("2024-01-01") && d.duration().is_some())
    );
    assert_eq!(ip.meta("target-role"), Some("Started"));
    let ops: Vec<_> = ip.operations().collect();
    assert_eq!(ops[0].interval_ms(), Ok(10_000));
    assert_eq!(ops[0].timeout_ms(), Ok(Some(20_000)));
    assert_eq!(ops[0].on_fail(), Some("restart"));
    assert_eq!(
        ops[0]
            .instance_attributes()
            .next()
            .and_then(|s| s.get("OCF_CHECK_LEVEL")),
        Some("10")
    );
    assert_eq!(ops[1].enabled(), Ok(false));
    assert_eq!(ops[1].timeout_ms(), Ok(Some(60_000)));

    let Resource::Group(g) = all[1] else {
        panic!("group")
    };
    assert_eq!(
        g.members().map(|m| m.id()).collect::<Vec<_>>(),
        ["g1", "g2"]
    );
    let Resource::Clone(cl) = all[2] else {
        panic!("clone")
    };
    assert_eq!(cl.is_promotable(), Ok(true));
    assert!(!cl.is_legacy_master());
    let Resource::Clone(ms) = all[3] else {
        panic!("master")
    };
    assert!(ms.is_legacy_master());
    assert_eq!(ms.is_promotable(), Ok(true));
    let Resource::Clone(plain) = all[4] else {
        panic!("clone")
    };
    assert_eq!(plain.is_promotable(), Ok(false));
    assert!(matches!(plain.child(), Some(Resource::Group(g)) if g.id() == "cg"));
    assert!(matches!(all[5], Resource::Template(t) if t.xml_id() == "tpl"));
    assert!(matches!(all[6], Resource::Bundle(b) if b.first_child("docker").is_some()));
    let prims: Vec<_> = cib.primitives().map(|p| p.id()).collect();
    assert_eq!(prims, ["ip", "g1", "g2", "stateful", "old", "cg1"]);
}

#[test]
fn constraints() {
    let cib = cib();
    let all: Vec<_> = cib.constraints().collect();
    assert_eq!(all.len(), 6);
    let Constraint::Location(l1) = all[0] else {
        panic!("location")
    };
    assert_eq!(
        (l1.rsc(), l1.node(), l1.role()),
        (Some("ip"), Some("alpha"), Some("Promoted"))
    );
    assert_eq!(l1.score(), Ok(Some(Score::NEG_INFINITY)));
    let Constraint::Location(l2) = all[1] else {
        panic!("location")
    };
    assert_eq!(l2.rsc_pattern(), Some("^g"));
    let outer = l2.rules().next().expect("rule");
    assert!(
        matches!(outer.terms().next(), Some(RuleTerm::Rule(r)) if r.boolean_op() == Ok(BooleanOp::And))
    );
    let Constraint::Colocation(c) = all[2] else {
        panic!("colocation")
    };
    assert_eq!(
        (c.rsc(), c.with_rsc(), c.with_rsc_role()),
        (Some("ip"), Some("grp"), Some("Promoted"))
    );
    assert_eq!(c.score(), Ok(Some(Score::INFINITY)));
    let Constraint::Order(o) = all[3] else {
        panic!("order")
    };
    assert_eq!(o.kind(), Ok(Some(OrderKind::Mandatory)));
    assert_eq!(o.symmetrical(), Ok(Some(false)));
    assert_eq!((o.first_action(), o.then_action()), ("start", "promote"));
    let Constraint::Order(o2) = all[4] else {
        panic!("order")
    };
    assert_eq!(o2.score(), Ok(Some(Score::ZERO)));
    let set = o2.resource_sets().next().expect("set");
    assert_eq!(set.sequential(), Ok(Some(false)));
    assert_eq!(set.resources().collect::<Vec<_>>(), ["g1", "g2"]);
    let Constraint::Ticket(t) = all[5] else {
        panic!("ticket")
    };
    assert_eq!((t.ticket(), t.loss_policy()), (Some("tk"), Some("stop")));
    assert_eq!(
        cib.rsc_defaults()
            .next()
            .and_then(|s| s.get("resource-stickiness")),
        Some("1")
    );
    assert_eq!(
        cib.op_defaults().next().and_then(|s| s.get("timeout")),
        Some("30s")
    );
    assert!(
        cib.fencing_topology()
            .is_some_and(|f| f.first_child("fencing-level").is_some())
    );
    assert!(cib.alerts().is_some());
}

#[test]
fn status() {
    let cib = cib();
    let ns = cib.node_states().next().expect("node_state");
    assert_eq!(
        (ns.uname(), ns.in_ccm(), ns.crmd(), ns.join(), ns.expected()),
        (
            Some("alpha"),
            Some("true"),
            Some("online"),
            Some("member"),
            Some("member")
        )
    );
    assert_eq!(
        ns.transient_attributes()
            .next()
            .and_then(|s| s.get("fail-count-ip#monitor_10000")),
        Some("2")
    );
    let rsc = ns.lrm_resources().next().expect("lrm_resource");
    assert_eq!(
        (rsc.class(), rsc.provider(), rsc.agent(), rsc.container()),
        (Some("ocf"), Some("heartbeat"), Some("IPaddr2"), Some("box"))
    );
    let op = rsc.ops().next().expect("op");
    assert_eq!(op.operation_key(), Some("ip_start_0"));
    assert_eq!(op.operation(), Some("start"));
    assert_eq!(op.interval_ms(), Ok(0));
    assert_eq!(op.call_id(), Ok(Some(12)));
    assert_eq!(op.rc_code(), Ok(Some(7)));
    assert_eq!(op.op_status(), Ok(Some(0)));
    assert_eq!(op.exit_reason(), Some("not running"));
    assert_eq!(op.last_rc_change(), Ok(Some(1_699_999_999)));
    assert_eq!(op.last_run(), Ok(Some(1_699_999_998)));
    assert_eq!(
        (op.exec_time_ms(), op.queue_time_ms()),
        (Ok(Some(15)), Ok(Some(1)))
    );
    assert_eq!(
        (
            op.op_digest(),
            op.op_secure_digest(),
            op.op_restart_digest()
        ),
        (Some("d1"), Some("d2"), Some("d3"))
    );
    assert_eq!(
        (op.on_node(), op.crm_debug_origin(), op.crm_feature_set()),
        (Some("alpha"), Some("build_active_RAs"), Some("3.0.7"))
    );
    let key = TransitionKey {
        action_id: 4,
        transition_id: -1,
        target_rc: 0,
        controller: "abc".into(),
    };
    assert_eq!(op.transition_key(), Ok(Some(key.clone())));
    let magic = op.transition_magic().expect("valid").expect("present");
    assert_eq!((magic.op_status, magic.rc, magic.key), (0, 7, key));
    assert_eq!(op.attr("x-unknown"), Some("u"));
}

#[test]
fn unknown_content_survives_edits() {
    let mut cib = cib();
    cib.set_property("stonith-enabled", "true");
    cib.bump_config().expect("bump");
    let out = cib.to_xml(Style::Pretty);
    for kept in [
        r#"future-attr="kept""#,
        r#"x-unknown="u""#,
        "<docker image=\"x\"/>",
        "<duration id=\"d1-d\" months=\"1\"/>",
    ] {
        assert!(out.contains(kept), "{kept} lost");
    }
    assert_eq!(Cib::parse(&out).expect("reparse"), cib);
}

#[test]
fn bad_values_name_the_element() {
    let cib = Cib::parse(r#"<cib epoch="x"><configuration><constraints><rsc_location id="bad" rsc="r" node="n" score="lots"/></constraints></configuration></cib>"#).expect("parses");
    let err = cib.version().expect_err("bad epoch");
    assert_eq!(
        err.to_string(),
        "attribute `epoch` of cib `` is `x`: invalid digit found in string"
    );
    let Some(Constraint::Location(l)) = cib.constraints().next() else {
        panic!("location")
    };
    let msg = l.score().expect_err("bad score").to_string();
    assert!(
        msg.starts_with("attribute `score` of rsc_location `bad` is `lots`"),
        "{msg}"
    );
}
