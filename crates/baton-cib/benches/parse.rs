//! Parse and serialize a large synthetic CIB: 1,000 primitives and 16 nodes
//! with 1,000 operation records each (about 10 MB).
//!
//! Run: `cargo bench -p baton-cib --bench parse`

use std::fmt::Write;
use std::sync::LazyLock;

use baton_cib::xml::{Document, Style};
use divan::{Bencher, black_box};

const PRIMITIVES: usize = 1_000;
const NODES: usize = 16;

static CIB: LazyLock<String> = LazyLock::new(generate);

fn generate() -> String {
    let mut s = String::with_capacity(11 << 20);
    s.push_str(r#"<cib admin_epoch="0" epoch="42" num_updates="7" validate-with="pacemaker-3.9" crm_feature_set="3.17.4" have-quorum="1" dc-uuid="1">"#);
    s.push_str("<configuration><crm_config><cluster_property_set id=\"cib-bootstrap-options\">");
    s.push_str(r#"<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes>"#);
    for n in 1..=NODES {
        let _ = write!(
            s,
            r#"<node id="{n}" uname="node{n}"><instance_attributes id="node{n}-ia"><nvpair id="node{n}-rack" name="rack" value="{}"/></instance_attributes></node>"#,
            n % 4
        );
    }
    s.push_str("</nodes><resources>");
    for r in 0..PRIMITIVES {
        let _ = write!(
            s,
            r#"<primitive id="rsc{r}" class="ocf" provider="heartbeat" type="IPaddr2"><instance_attributes id="rsc{r}-ia"><nvpair id="rsc{r}-ip" name="ip" value="10.0.{}.{}"/><nvpair id="rsc{r}-mask" name="cidr_netmask" value="24"/></instance_attributes><meta_attributes id="rsc{r}-ma"><nvpair id="rsc{r}-stick" name="resource-stickiness" value="100"/></meta_attributes><operations><op id="rsc{r}-mon" name="monitor" interval="10s" timeout="20s"/><op id="rsc{r}-start" name="start" interval="0" timeout="20s"/></operations></primitive>"#,
            r / 256,
            r % 256
        );
    }
    s.push_str("</resources><constraints>");
    for r in 0..PRIMITIVES {
        let _ = write!(
            s,
            r#"<rsc_location id="loc{r}" rsc="rsc{r}" node="node{}" score="50"/>"#,
            r % NODES + 1
        );
    }
    s.push_str("</constraints></configuration><status>");
    for n in 1..=NODES {
        let _ = write!(
            s,
            r#"<node_state id="{n}" uname="node{n}" in_ccm="true" crmd="online" join="member" expected="member" crm-debug-origin="do_update_resource"><lrm id="{n}"><lrm_resources>"#
        );
        for r in 0..PRIMITIVES {
            let _ = write!(
                s,
                r#"<lrm_resource id="rsc{r}" type="IPaddr2" class="ocf" provider="heartbeat"><lrm_rsc_op id="rsc{r}_last_0" operation_key="rsc{r}_start_0" operation="start" crm-debug-origin="do_update_resource" crm_feature_set="3.17.4" transition-key="{r}:5:0:6f2b9a4e-0a55-4b8e-9a3c-1d2e3f405060" transition-magic="0:0;{r}:5:0:6f2b9a4e-0a55-4b8e-9a3c-1d2e3f405060" exit-reason="" on_node="node{n}" call-id="{r}" rc-code="0" op-status="0" interval="0" last-rc-change="1700000000" last-run="1700000000" exec-time="42" queue-time="0" op-digest="0123456789abcdef0123456789abcdef"/></lrm_resource>"#
            );
        }
        s.push_str("</lrm_resources></lrm></node_state>");
    }
    s.push_str("</status></cib>");
    s
}

fn main() {
    let cib = &*CIB;
    let doc = Document::parse(cib).expect("generated CIB parses");
    eprintln!(
        "synthetic CIB: {:.2} MiB, {} elements",
        cib.len() as f64 / f64::from(1 << 20),
        doc.arena_len()
    );
    divan::main();
}

#[divan::bench(sample_count = 20)]
fn parse(bencher: Bencher) {
    let text = CIB.as_str();
    bencher.bench(|| Document::parse(black_box(text)).expect("parses"));
}

#[divan::bench(sample_count = 20)]
fn serialize_pretty(bencher: Bencher) {
    let doc = Document::parse(&CIB).expect("parses");
    bencher.bench(|| black_box(&doc).to_xml(Style::Pretty));
}

#[divan::bench(sample_count = 20)]
fn config_digest(bencher: Bencher) {
    let cib = baton_cib::Cib::parse(&CIB).expect("parses");
    bencher.bench(|| black_box(&cib).config_digest());
}
