//! The cluster as CIB XML that Pacemaker 2.1.5 accepts (schema
//! pacemaker-3.9, fencing off so no fence device is needed).

use std::fmt::Write;

use crate::model::{Cluster, Kind, Role, Score};

/// The feature set Pacemaker 2.1.5 writes into operation history. The
/// `<cib>` element carries none: with one, 2.1.5's `crm_simulate` aborts
/// while injecting simulated results.
const FEATURE_SET: &str = "3.16.1";
/// Pacemaker's digest of a primitive without parameters (MD5 of
/// `<parameters/>`), and of its 10 s monitor: with any other digest (or
/// none) Pacemaker restarts the resource "due to resource definition change".
const PARAMETERS_DIGEST: &str = "f2317cad3d54cec5d7d7aa7d0bf35cf8";
const MONITOR_DIGEST: &str = "4811cef7f7f94e3a35a70be7916cb2fd";
/// Fixed so the history never expires and the output stays deterministic.
const LAST_RC_CHANGE: u64 = 1_700_000_000;
const TRANSITION_UUID: &str = "0d2f7a52-6c0e-4bd6-9d55-7b1e2a3c4d5e";

fn score(s: Score) -> String {
    match s {
        Score::Infinity => "INFINITY".to_owned(),
        Score::MinusInfinity => "-INFINITY".to_owned(),
        Score::Finite(v) => v.to_string(),
    }
}

fn node(n: usize) -> String {
    format!("node{}", n + 1)
}

pub fn cib(cluster: &Cluster) -> String {
    let mut xml = String::with_capacity(estimated_len(cluster));
    let _ = write!(
        xml,
        r#"<cib admin_epoch="0" epoch="1" num_updates="0" validate-with="pacemaker-3.9" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith-enabled" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
"#
    );
    for n in 0..cluster.spec.nodes {
        let _ = writeln!(xml, r#"      <node id="{}" uname="{}"/>"#, n + 1, node(n));
    }
    xml.push_str("    </nodes>\n    <resources>\n");
    for item in &cluster.items {
        resource(&mut xml, item);
    }
    xml.push_str("    </resources>\n    <constraints>\n");
    constraints(&mut xml, cluster);
    xml.push_str("    </constraints>\n");
    if let Some(stickiness) = cluster.stickiness {
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
    status(&mut xml, cluster);
    xml.push_str("  </status>\n</cib>\n");
    xml
}

fn estimated_len(cluster: &Cluster) -> usize {
    let per_record = 520;
    let records = match cluster.spec.state {
        crate::State::Cold => 0,
        crate::State::Running | crate::State::Busy => cluster.spec.primitives * cluster.spec.nodes,
    };
    4096 + cluster.spec.primitives * 400 + records * per_record
}

fn primitive(xml: &mut String, id: &str, indent: &str) {
    let _ = write!(
        xml,
        r#"{indent}<primitive id="{id}" class="ocf" provider="heartbeat" type="Dummy">
{indent}  <operations>
{indent}    <op id="{id}-monitor-10s" name="monitor" interval="10s" timeout="20s"/>
{indent}  </operations>
{indent}</primitive>
"#
    );
}

fn resource(xml: &mut String, item: &crate::model::Item) {
    let id = &item.id;
    match &item.kind {
        Kind::Primitive => primitive(xml, id, "      "),
        Kind::Group { members } => {
            let _ = writeln!(xml, r#"      <group id="{id}">"#);
            for m in members {
                primitive(xml, m, "        ");
            }
            xml.push_str("      </group>\n");
        }
        Kind::Clone { child, promotable } => {
            let _ = writeln!(xml, r#"      <clone id="{id}">"#);
            primitive(xml, child, "        ");
            if *promotable {
                let _ = write!(
                    xml,
                    r#"        <meta_attributes id="{id}-meta">
          <nvpair id="{id}-promotable" name="promotable" value="true"/>
        </meta_attributes>
"#
                );
            }
            xml.push_str("      </clone>\n");
        }
    }
}

fn constraints(xml: &mut String, cluster: &Cluster) {
    let id = |i: usize| &cluster.items[i].id;
    for (k, l) in cluster.locations.iter().enumerate() {
        let role = if l.promoted_only {
            r#" role="Promoted""#
        } else {
            ""
        };
        let _ = writeln!(
            xml,
            r#"      <rsc_location id="loc{k}" rsc="{}" node="{}" score="{}"{role}/>"#,
            id(l.item),
            node(l.node),
            score(l.score)
        );
    }
    for (k, c) in cluster.colocations.iter().enumerate() {
        let _ = writeln!(
            xml,
            r#"      <rsc_colocation id="col{k}" rsc="{}" with-rsc="{}" score="{}"/>"#,
            id(c.dependent),
            id(c.primary),
            score(c.score)
        );
    }
    for (k, o) in cluster.orders.iter().enumerate() {
        let _ = writeln!(
            xml,
            r#"      <rsc_order id="ord{k}" first="{}" then="{}" kind="Mandatory"/>"#,
            id(o.first),
            id(o.then)
        );
    }
}

/// The primitive ids of item `i` as the history names them (a clone's
/// instances share their child's id).
fn history_ids(cluster: &Cluster, i: usize) -> Vec<&str> {
    let item = &cluster.items[i];
    match &item.kind {
        Kind::Primitive => vec![item.id.as_str()],
        Kind::Group { members } => members.iter().map(String::as_str).collect(),
        Kind::Clone { child, .. } => vec![child.as_str()],
    }
}

fn status(xml: &mut String, cluster: &Cluster) {
    for n in 0..cluster.spec.nodes {
        let _ = writeln!(
            xml,
            r#"    <node_state id="{}" uname="{}" in_ccm="true" crmd="online" join="member" expected="member" crm-debug-origin="baton-cibgen">"#,
            n + 1,
            node(n)
        );
        let _ = writeln!(xml, r#"      <lrm id="{}">"#, n + 1);
        xml.push_str("        <lrm_resources>\n");
        if cluster.spec.state == crate::State::Running {
            let mut call_id = 1;
            for (i, placed) in cluster.placement.iter().enumerate() {
                let role = placed.iter().find(|(m, _)| *m == n).map(|(_, r)| *r);
                for rsc in history_ids(cluster, i) {
                    history(xml, rsc, &node(n), role, &mut call_id);
                }
            }
        }
        xml.push_str("        </lrm_resources>\n      </lrm>\n    </node_state>\n");
    }
}

/// One resource's history on one node: a probe that found it stopped, or
/// a start (and promote) that succeeded, then its recurring monitor.
fn history(xml: &mut String, rsc: &str, on_node: &str, role: Option<Role>, call_id: &mut u32) {
    let _ = writeln!(
        xml,
        r#"          <lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy">"#
    );
    let (operation, rc) = match role {
        None => ("monitor", 7),
        Some(Role::Started) => ("start", 0),
        Some(Role::Promoted) => ("promote", 0),
    };
    let last = Op {
        rsc,
        on_node,
        id: "last_0",
        key: format!("{operation}_0"),
        operation,
        interval_ms: 0,
        rc,
        digest: PARAMETERS_DIGEST,
    };
    last.write(xml, call_id);
    // A promoted instance's monitor expects another rc; leave it out.
    if role == Some(Role::Started) {
        let monitor = Op {
            rsc,
            on_node,
            id: "monitor_10000",
            key: "monitor_10000".to_owned(),
            operation: "monitor",
            interval_ms: 10_000,
            rc: 0,
            digest: MONITOR_DIGEST,
        };
        monitor.write(xml, call_id);
    }
    xml.push_str("          </lrm_resource>\n");
}

/// One `lrm_rsc_op` record.
struct Op<'a> {
    rsc: &'a str,
    on_node: &'a str,
    id: &'a str,
    key: String,
    operation: &'a str,
    interval_ms: u32,
    rc: u8,
    digest: &'a str,
}

impl Op<'_> {
    fn write(&self, xml: &mut String, call_id: &mut u32) {
        let Op {
            rsc,
            on_node,
            id,
            key,
            operation,
            interval_ms,
            rc,
            digest,
        } = self;
        let transition_key = format!("{call_id}:1:{rc}:{TRANSITION_UUID}");
        let _ = writeln!(
            xml,
            r#"            <lrm_rsc_op id="{rsc}_{id}" operation_key="{rsc}_{key}" operation="{operation}" crm-debug-origin="baton-cibgen" crm_feature_set="{FEATURE_SET}" transition-key="{transition_key}" transition-magic="0:{rc};{transition_key}" exit-reason="" on_node="{on_node}" call-id="{call_id}" rc-code="{rc}" op-status="0" interval="{interval_ms}" last-rc-change="{LAST_RC_CHANGE}" exec-time="10" queue-time="0" op-digest="{digest}"/>"#
        );
        *call_id += 1;
    }
}
