//! A busy cluster as CIB XML that Pacemaker 2.1.5 accepts.

use std::fmt::Write;

use super::{Busy, Constraint, History, Kind, NOW, NodeState, Primitive};

const FEATURE_SET: &str = "3.16.1";
/// Digests of a Dummy without parameters, of its start and of any of its
/// recurring monitors with a 20 s timeout (see `crate::render`).
const PARAMETERS_DIGEST: &str = "f2317cad3d54cec5d7d7aa7d0bf35cf8";
const MONITOR_DIGEST: &str = "4811cef7f7f94e3a35a70be7916cb2fd";
const TRANSITION_UUID: &str = "0d2f7a52-6c0e-4bd6-9d55-7b1e2a3c4d5e";
/// Operations that went well ran a day before "now".
const LONG_AGO: u64 = NOW - 86_400;

fn node(n: usize) -> String {
    format!("node{}", n + 1)
}

pub fn cib(b: &Busy) -> String {
    let mut xml = String::with_capacity(8192 + b.items.len() * 2048);
    let _ = write!(
        xml,
        r#"<cib crm_feature_set="{FEATURE_SET}" admin_epoch="0" epoch="1" num_updates="0" validate-with="pacemaker-3.9" have-quorum="{}" dc-uuid="1" execution-date="{NOW}">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith-enabled" name="stonith-enabled" value="{}"/>
        <nvpair id="opt-no-quorum-policy" name="no-quorum-policy" value="{}"/>
        <nvpair id="opt-start-failure-is-fatal" name="start-failure-is-fatal" value="{}"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
"#,
        u8::from(b.quorum),
        b.fencing,
        b.no_quorum_policy,
        b.start_failure_is_fatal
    );
    for (n, info) in b.nodes.iter().enumerate() {
        let _ = writeln!(
            xml,
            r#"      <node id="{}" uname="{}">
        <instance_attributes id="node{}-attrs">
          <nvpair id="node{}-site" name="site" value="{}"/>{}{}
        </instance_attributes>
      </node>"#,
            n + 1,
            node(n),
            n + 1,
            n + 1,
            info.site,
            if info.state == NodeState::Standby {
                format!(
                    r#"<nvpair id="node{}-standby" name="standby" value="on"/>"#,
                    n + 1
                )
            } else {
                String::new()
            },
            if info.state == NodeState::Maintenance {
                format!(
                    r#"<nvpair id="node{}-maintenance" name="maintenance" value="true"/>"#,
                    n + 1
                )
            } else {
                String::new()
            }
        );
    }
    xml.push_str("    </nodes>\n    <resources>\n");
    if b.fencing {
        xml.push_str(
            r#"      <primitive id="fencer" class="stonith" type="fence_xvm">
        <operations>
          <op id="fencer-monitor" name="monitor" interval="60s" timeout="20s"/>
        </operations>
      </primitive>
"#,
        );
    }
    for item in &b.items {
        resource(&mut xml, item);
    }
    xml.push_str("    </resources>\n    <constraints>\n");
    constraints(&mut xml, b);
    xml.push_str("    </constraints>\n");
    if let Some(stickiness) = b.stickiness {
        let _ = write!(
            xml,
            r#"    <rsc_defaults>
      <meta_attributes id="rsc-defaults">
        <nvpair id="rsc-defaults-stickiness" name="resource-stickiness" value="{stickiness}"/>
      </meta_attributes>
    </rsc_defaults>
"#
        );
    }
    xml.push_str("  </configuration>\n  <status>\n");
    status(&mut xml, b);
    xml.push_str("  </status>\n</cib>\n");
    xml
}

fn meta(xml: &mut String, id: &str, pairs: &[(&str, String)], indent: &str) {
    if pairs.is_empty() {
        return;
    }
    let _ = writeln!(xml, r#"{indent}<meta_attributes id="{id}-meta">"#);
    for (name, value) in pairs {
        let _ = writeln!(
            xml,
            r#"{indent}  <nvpair id="{id}-{name}" name="{name}" value="{value}"/>"#
        );
    }
    let _ = writeln!(xml, "{indent}</meta_attributes>");
}

fn primitive(xml: &mut String, p: &Primitive, promotable: bool, indent: &str) {
    let id = &p.id;
    let _ = writeln!(
        xml,
        r#"{indent}<primitive id="{id}" class="ocf" provider="heartbeat" type="Dummy">"#
    );
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(r) = p.target_role {
        pairs.push(("target-role", r.to_owned()));
    }
    if p.unmanaged {
        pairs.push(("is-managed", "false".to_owned()));
    }
    if let Some(t) = p.migration_threshold {
        pairs.push(("migration-threshold", t.to_string()));
    }
    if let Some(t) = p.failure_timeout_s {
        pairs.push(("failure-timeout", t.to_string()));
    }
    if let Some(s) = p.stickiness {
        pairs.push(("resource-stickiness", s.to_string()));
    }
    meta(xml, id, &pairs, &format!("{indent}  "));
    let on_fail = |f: Option<&str>| f.map_or(String::new(), |f| format!(r#" on-fail="{f}""#));
    let _ = writeln!(xml, "{indent}  <operations>");
    if promotable {
        let _ = writeln!(
            xml,
            r#"{indent}    <op id="{id}-monitor-promoted" name="monitor" interval="11s" timeout="20s" role="Promoted"{}/>
{indent}    <op id="{id}-monitor-unpromoted" name="monitor" interval="10s" timeout="20s" role="Unpromoted"{}/>"#,
            on_fail(p.monitor_on_fail),
            on_fail(p.monitor_on_fail.filter(|f| *f != "demote"))
        );
    } else {
        let _ = writeln!(
            xml,
            r#"{indent}    <op id="{id}-monitor" name="monitor" interval="10s" timeout="20s"{}/>"#,
            on_fail(p.monitor_on_fail)
        );
    }
    if let Some(f) = p.stop_on_fail {
        let _ = writeln!(
            xml,
            r#"{indent}    <op id="{id}-stop" name="stop" interval="0" timeout="20s" on-fail="{f}"/>"#
        );
    }
    let _ = writeln!(xml, "{indent}  </operations>\n{indent}</primitive>");
}

fn resource(xml: &mut String, item: &super::Item) {
    let id = &item.id;
    match &item.kind {
        Kind::Primitive(p) => primitive(xml, p, false, "      "),
        Kind::Group(members) => {
            let _ = writeln!(xml, r#"      <group id="{id}">"#);
            for m in members {
                primitive(xml, m, false, "        ");
            }
            xml.push_str("      </group>\n");
        }
        Kind::Clone {
            members,
            group,
            promotable,
            notify,
            interleave,
        } => {
            let _ = writeln!(xml, r#"      <clone id="{id}">"#);
            match group {
                Some(g) => {
                    let _ = writeln!(xml, r#"        <group id="{g}">"#);
                    for m in members {
                        primitive(xml, m, *promotable, "          ");
                    }
                    xml.push_str("        </group>\n");
                }
                None => {
                    for m in members {
                        primitive(xml, m, *promotable, "        ");
                    }
                }
            }
            let mut pairs = vec![
                ("notify", notify.to_string()),
                ("interleave", interleave.to_string()),
            ];
            if *promotable {
                pairs.push(("promotable", "true".to_owned()));
            }
            meta(xml, id, &pairs, "        ");
            xml.push_str("      </clone>\n");
        }
    }
}

fn constraints(xml: &mut String, b: &Busy) {
    let id = |i: usize| &b.items[i].id;
    for (k, c) in b.constraints.iter().enumerate() {
        let _ = match c {
            Constraint::Location {
                item,
                node: n,
                score,
                promoted,
            } => writeln!(
                xml,
                r#"      <rsc_location id="c{k}" rsc="{}" node="{}" score="{score}"{}/>"#,
                id(*item),
                node(*n),
                if *promoted { r#" role="Promoted""# } else { "" }
            ),
            Constraint::SiteRule { item, site, score } => writeln!(
                xml,
                r#"      <rsc_location id="c{k}" rsc="{}">
        <rule id="c{k}-rule" score="{score}">
          <expression id="c{k}-expr" attribute="site" operation="eq" value="{site}"/>
        </rule>
      </rsc_location>"#,
                id(*item)
            ),
            Constraint::Colocation {
                dependent,
                primary,
                score,
                primary_promoted,
            } => writeln!(
                xml,
                r#"      <rsc_colocation id="c{k}" rsc="{}" with-rsc="{}" score="{score}"{}/>"#,
                id(*dependent),
                id(*primary),
                if *primary_promoted {
                    r#" with-rsc-role="Promoted""#
                } else {
                    ""
                }
            ),
            Constraint::Order {
                first,
                then,
                first_promote,
                optional,
                symmetrical,
            } => writeln!(
                xml,
                r#"      <rsc_order id="c{k}" first="{}" first-action="{}" then="{}" then-action="start" kind="{}" symmetrical="{symmetrical}"/>"#,
                id(*first),
                if *first_promote { "promote" } else { "start" },
                id(*then),
                if *optional { "Optional" } else { "Mandatory" }
            ),
        };
    }
}

fn node_state(state: NodeState) -> &'static str {
    match state {
        NodeState::Offline => r#"in_ccm="false" crmd="offline" join="down" expected="down""#,
        NodeState::Lost => r#"in_ccm="false" crmd="offline" join="member" expected="member""#,
        _ => r#"in_ccm="true" crmd="online" join="member" expected="member""#,
    }
}

fn status(xml: &mut String, b: &Busy) {
    for (n, info) in b.nodes.iter().enumerate() {
        let _ = writeln!(
            xml,
            r#"    <node_state id="{}" uname="{}" {} crm-debug-origin="baton-cibgen">"#,
            n + 1,
            node(n),
            node_state(info.state)
        );
        let mut attrs: Vec<(String, String)> = Vec::new();
        if info.state == NodeState::ShuttingDown {
            attrs.push(("shutdown".to_owned(), (NOW - 100).to_string()));
        }
        let _ = writeln!(xml, r#"      <lrm id="{}">"#, n + 1);
        xml.push_str("        <lrm_resources>\n");
        let mut call_id = 1;
        if b.fencing && n == 0 {
            history(
                xml,
                "fencer",
                "stonith",
                &node(n),
                History::Running,
                &mut call_id,
            );
        }
        for (i, item) in b.items.iter().enumerate() {
            for (m, p) in item.primitives().iter().enumerate() {
                let h = b.history[i][m][n];
                history(xml, &p.id, "ocf", &node(n), h, &mut call_id);
                attrs.extend(failure_attributes(&p.id, h, b.start_failure_is_fatal));
                if item.promotable() && matches!(h, History::Running | History::Promoted) {
                    let score = if h == History::Promoted { 10 } else { 5 };
                    attrs.push((format!("master-{}", p.id), score.to_string()));
                }
            }
        }
        xml.push_str("        </lrm_resources>\n      </lrm>\n");
        if !attrs.is_empty() {
            let _ = writeln!(
                xml,
                r#"      <transient_attributes id="{}">
        <instance_attributes id="status-{}">"#,
                n + 1,
                n + 1
            );
            for (k, (name, value)) in attrs.iter().enumerate() {
                let _ = writeln!(
                    xml,
                    r#"          <nvpair id="status-{}-{k}" name="{name}" value="{value}"/>"#,
                    n + 1
                );
            }
            xml.push_str("        </instance_attributes>\n      </transient_attributes>\n");
        }
        xml.push_str("    </node_state>\n");
    }
}

/// The fail count (and last failure time) a history's failure left.
fn failure_attributes(id: &str, h: History, fatal: bool) -> Vec<(String, String)> {
    let (op, count, since) = match h {
        History::MonitorFailed { since } => ("monitor_10000", "1".to_owned(), since),
        History::StartFailed { .. } => (
            "start_0",
            if fatal { "INFINITY" } else { "1" }.to_owned(),
            60,
        ),
        History::StopFailed => ("stop_0", "INFINITY".to_owned(), 60),
        _ => return Vec::new(),
    };
    vec![
        (format!("fail-count-{id}#{op}"), count),
        (format!("last-failure-{id}#{op}"), (NOW - since).to_string()),
    ]
}

/// One resource's history on one node.
fn history(xml: &mut String, rsc: &str, class: &str, on_node: &str, h: History, call_id: &mut u32) {
    if h == History::Unknown {
        return;
    }
    let provider = if class == "ocf" {
        r#" provider="heartbeat""#
    } else {
        ""
    };
    let kind = if class == "ocf" { "Dummy" } else { "fence_xvm" };
    let _ = writeln!(
        xml,
        r#"          <lrm_resource id="{rsc}" class="{class}"{provider} type="{kind}">"#
    );
    let op = |xml: &mut String, call_id: &mut u32, spec: OpSpec| {
        spec.write(xml, rsc, on_node, *call_id);
        *call_id += 1;
    };
    let monitor_interval = if class == "ocf" { 10_000 } else { 60_000 };
    match h {
        History::Stopped => op(xml, call_id, OpSpec::last("monitor", 0, 7, 7)),
        History::Running | History::MonitorFailed { .. } => {
            op(xml, call_id, OpSpec::last("start", 0, 0, 0));
            let mut monitor = OpSpec::monitor(monitor_interval, 0);
            if let History::MonitorFailed { since } = h {
                // A failing monitor rewrites its own record (keeping its
                // call id) and is copied as the last failure.
                monitor.rc = 7;
                monitor.at = NOW - since;
                let mut copy = monitor.clone();
                copy.id = "last_failure_0";
                copy.write(xml, rsc, on_node, *call_id);
            }
            op(xml, call_id, monitor);
        }
        History::Promoted => {
            op(xml, call_id, OpSpec::new("start", 0, 0, 0));
            op(xml, call_id, OpSpec::last("promote", 0, 0, 0));
            op(xml, call_id, OpSpec::monitor(11_000, 8));
        }
        History::StartFailed { stopped } => {
            let mut start = OpSpec::new("start", 0, 0, 1);
            start.at = NOW - 60;
            start.id = "last_failure_0";
            start.write(xml, rsc, on_node, *call_id);
            if stopped {
                *call_id += 1;
                let mut stop = OpSpec::last("stop", 0, 0, 0);
                stop.at = NOW - 50;
                op(xml, call_id, stop);
            } else {
                // The failed start is also the last operation: one call.
                op(
                    xml,
                    call_id,
                    OpSpec {
                        id: "last_0",
                        ..start
                    },
                );
            }
        }
        History::StopFailed => {
            op(xml, call_id, OpSpec::new("start", 0, 0, 0));
            let mut stop = OpSpec::last("stop", 0, 0, 1);
            stop.at = NOW - 60;
            // The failed stop is both the last operation and the last
            // failure: one call, recorded twice.
            let mut copy = stop.clone();
            copy.id = "last_failure_0";
            copy.write(xml, rsc, on_node, *call_id);
            op(xml, call_id, stop);
        }
        History::Unknown => {}
    }
    xml.push_str("          </lrm_resource>\n");
}

/// One `lrm_rsc_op` record to write.
#[derive(Debug, Clone)]
struct OpSpec {
    /// `last_0`, `last_failure_0`, or the operation key for recurring ones.
    id: &'static str,
    operation: &'static str,
    interval_ms: u32,
    target: u8,
    rc: u8,
    at: u64,
}

impl OpSpec {
    fn new(operation: &'static str, interval_ms: u32, target: u8, rc: u8) -> OpSpec {
        OpSpec {
            id: "",
            operation,
            interval_ms,
            target,
            rc,
            at: LONG_AGO,
        }
    }

    fn last(operation: &'static str, interval_ms: u32, target: u8, rc: u8) -> OpSpec {
        OpSpec {
            id: "last_0",
            ..OpSpec::new(operation, interval_ms, target, rc)
        }
    }

    fn monitor(interval_ms: u32, target: u8) -> OpSpec {
        OpSpec::new("monitor", interval_ms, target, target)
    }

    fn write(&self, xml: &mut String, rsc: &str, on_node: &str, call_id: u32) {
        let key = format!("{rsc}_{}_{}", self.operation, self.interval_ms);
        let id = if self.id.is_empty() {
            if self.interval_ms > 0 {
                key.clone()
            } else {
                format!("{rsc}_{}_0", self.operation)
            }
        } else {
            format!("{rsc}_{}", self.id)
        };
        let digest = if self.interval_ms > 0 {
            MONITOR_DIGEST
        } else {
            PARAMETERS_DIGEST
        };
        let (target, rc, at, operation, interval) = (
            self.target,
            self.rc,
            self.at,
            self.operation,
            self.interval_ms,
        );
        let transition_key = format!("{call_id}:1:{target}:{TRANSITION_UUID}");
        let _ = writeln!(
            xml,
            r#"            <lrm_rsc_op id="{id}" operation_key="{key}" operation="{operation}" crm-debug-origin="baton-cibgen" crm_feature_set="{FEATURE_SET}" transition-key="{transition_key}" transition-magic="0:{rc};{transition_key}" exit-reason="" on_node="{on_node}" call-id="{call_id}" rc-code="{rc}" op-status="0" interval="{interval}" last-rc-change="{at}" exec-time="10" queue-time="0" op-digest="{digest}"/>"#
        );
    }
}
