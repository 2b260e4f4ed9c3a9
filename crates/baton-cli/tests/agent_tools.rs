//! The Pacemaker tools agents call, answered by `baton` under their names
//! (as baton-lrmd links them): against a stand-in crmd, what they print,
//! write and exit with.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, PoisonError};

use baton_tests::StandInCrmd;

const CIB: &str = r#"<cib admin_epoch="0" epoch="2" num_updates="0">
  <configuration>
    <crm_config><cluster_property_set id="cib-bootstrap-options">
      <nvpair id="o-stonith" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"><instance_attributes id="n1-ia">
      <nvpair id="n1-rack" name="rack" value="r1"/>
    </instance_attributes></node></nodes>
    <resources><primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
      <instance_attributes id="vip-ia"><nvpair id="vip-ip" name="ip" value="10.0.0.1"/></instance_attributes>
      <utilization id="vip-u"><nvpair id="vip-u-cpu" name="cpu" value="2"/></utilization>
    </primitive></resources><constraints/>
  </configuration>
  <status><node_state id="1" uname="n1"><transient_attributes id="1">
    <instance_attributes id="status-1"><nvpair id="status-1-master-data" name="master-data" value="10"/></instance_attributes>
  </transient_attributes></node_state></status>
</cib>"#;

/// Runs `tool ARGS` (a link to baton) with `env` against the stand-in;
/// the output and the attributes written.
fn tool(name: &str, args: &[&str], env: &[(&str, &str)]) -> (Output, Vec<String>) {
    with_tools(&[name], |dir| {
        let mut command = Command::new(dir.join(name));
        command.args(args).envs(env.iter().copied());
        command
    })
}

/// Links `names` to baton in a directory, serves the stand-in crmd there,
/// and runs what `command` makes of the directory, with the directory
/// first on PATH and as BATON_SOCKET_DIR; its output and the attributes
/// written.
fn with_tools(names: &[&str], command: impl FnOnce(&Path) -> Command) -> (Output, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in names {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_baton"), dir.path().join(name))
            .expect("link the tool");
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let crmd = StandInCrmd {
        cib: CIB.to_owned(),
        node: "n1".to_owned(),
        ..StandInCrmd::default()
    };
    let attributes = Arc::clone(&crmd.attributes);
    let server = {
        let _inside = runtime.enter();
        crmd.serve(dir.path())
    };
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = command(dir.path())
        .env("BATON_SOCKET_DIR", dir.path())
        .env("PATH", path)
        .output()
        .expect("run the tool");
    server.abort();
    let written = attributes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    (out, written)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn an_agent_sets_and_clears_its_promotion_score_on_its_own_node() {
    let instance = [("OCF_RESOURCE_INSTANCE", "data")];
    let (out, written) = tool("crm_attribute", &["--promotion", "-v", "5"], &instance);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(written, ["n1 master-data=5"]);
    let (out, written) = tool("crm_attribute", &["--promotion", "-D"], &instance);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(written, ["n1 master-data"]);
    let (out, written) = tool("crm_master", &["-l", "reboot", "-v", "100"], &instance);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(written, ["n1 master-data=100"]);
}

#[test]
fn queries_print_what_pacemakers_tools_print() {
    let (out, _) = tool("crm_attribute", &["-N", "n1", "-n", "rack", "-G"], &[]);
    assert_eq!(stdout(&out), "scope=nodes  name=rack value=r1");
    let (out, _) = tool("crm_attribute", &["-p", "data", "-G", "-q"], &[]);
    assert_eq!(stdout(&out), "10");
    let (out, _) = tool("crm_attribute", &["-n", "stonith-enabled", "-G"], &[]);
    assert_eq!(
        stdout(&out),
        "scope=crm_config  name=stonith-enabled value=false"
    );
    let (out, _) = tool("crm_node", &["-n"], &[]);
    assert_eq!(stdout(&out), "n1");
}

#[test]
fn a_missing_attribute_is_no_such_object() {
    let (out, _) = tool("crm_attribute", &["-N", "n1", "-n", "nope", "-G"], &[]);
    assert_eq!(out.status.code(), Some(105));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("No such device or address"),
        "{out:?}"
    );
    let (out, _) = tool(
        "crm_attribute",
        &["-N", "n1", "-n", "nope", "-G", "-d", "7", "-q"],
        &[],
    );
    assert_eq!(stdout(&out), "7");
    let (out, written) = tool("crm_attribute", &["--promotion", "-v", "5"], &[]);
    assert_eq!(out.status.code(), Some(64), "no resource named: usage");
    assert!(written.is_empty());
}

#[test]
fn attrd_updater_sets_queries_and_deletes_a_transient_attribute() {
    let (out, written) = tool(
        "attrd_updater",
        &["-n", "pingd", "-U", "1000", "-d", "5s"],
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(written, ["n1 pingd=1000"]);
    let (out, written) = tool("attrd_updater", &["-n", "pingd", "-D"], &[]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(written, ["n1 pingd"]);
    let (out, _) = tool("attrd_updater", &["-n", "master-data", "-Q"], &[]);
    assert_eq!(
        stdout(&out),
        "name=\"master-data\" host=\"n1\" value=\"10\""
    );
    let (out, _) = tool("attrd_updater", &["-n", "nope", "-Q"], &[]);
    assert_eq!(out.status.code(), Some(105));
}

#[test]
fn resource_agents_take_the_node_name_from_crm_node_once_pacemakerd_answers() {
    let library = "/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs";
    if !baton_tests::require_package("resource-agents", library, "run its shell library") {
        return;
    }
    let (out, _) = with_tools(&["pacemakerd", "crm_node"], |_| {
        let mut command = Command::new("sh");
        command.args(["-c", &format!(". {library}; ocf_local_nodename")]);
        command
    });
    assert_eq!(stdout(&out), "n1", "{out:?}");
    let (out, _) = tool("pacemakerd", &["-$"], &[]);
    assert!(stdout(&out).starts_with("Pacemaker 2.1.5\n"), "{out:?}");
}

#[test]
fn crm_verify_exits_78_with_errors_and_says_them_with_v() {
    let (out, _) = tool("crm_verify", &["-L"], &[]);
    assert!(out.status.success(), "{out:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cib.xml");
    std::fs::write(
        &file,
        r#"<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config/><nodes/><resources><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/></resources><constraints/></configuration><status/></cib>"#,
    )
    .expect("write a CIB");
    let file = file.to_string_lossy();
    let (out, _) = tool("crm_verify", &["-x", &file], &[]);
    assert_eq!(out.status.code(), Some(78));
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        said.trim(),
        "crm_verify: Errors found during check: config not valid\n-V may provide more details"
    );
    let (out, _) = tool("crm_verify", &["-V", "-x", &file], &[]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("error: cluster: Resource start-up disabled since no STONITH resources have been defined"),
        "{said}"
    );
    let (out, _) = tool("crm_verify", &["--bogus"], &[]);
    assert_eq!(
        out.status.code(),
        Some(64),
        "an unknown option is a usage error"
    );
}

#[test]
fn cibadmin_queries_the_cib_or_one_section() {
    let (out, _) = tool("cibadmin", &["-Q", "-o", "nodes"], &[]);
    assert!(out.status.success(), "{out:?}");
    let nodes = stdout(&out);
    assert!(
        nodes.starts_with("<nodes>") && nodes.contains(r#"uname="n1""#),
        "{nodes}"
    );
    let (out, _) = tool("cibadmin", &["--query"], &[]);
    assert!(stdout(&out).starts_with("<cib "), "{out:?}");
    let (out, _) = tool("cibadmin", &["-Q", "-o", "tickets"], &[]);
    assert_eq!(out.status.code(), Some(105));
    let (out, _) = tool("cibadmin", &["-E", "--force"], &[]);
    assert_eq!(out.status.code(), Some(64), "baton's cibadmin only queries");
}

#[test]
fn crm_mon_once_prints_the_status_and_refuses_xml_with_a_sentence() {
    let (out, _) = tool("crm_mon", &["-1"], &[]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).starts_with("Cluster Summary:"), "{out:?}");
    let (out, _) = tool("crm_mon", &["--as-xml"], &[]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("baton status --output json"),
        "{out:?}"
    );
}

#[test]
fn stonith_admin_asks_the_cluster_to_fence_a_known_node_only() {
    let (out, written) = tool("stonith_admin", &["-B", "n1"], &[]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(written, ["n1 terminate=true"]);
    let (out, written) = tool("stonith_admin", &["--reboot", "n9"], &[]);
    assert_eq!(out.status.code(), Some(105));
    assert!(written.is_empty(), "nothing was asked for n9");
}

#[test]
fn crm_resource_reads_a_resources_attributes_and_where_it_runs() {
    let (out, _) = tool("crm_resource", &["-Q", "-r", "vip", "-g", "ip"], &[]);
    assert_eq!(stdout(&out), "10.0.0.1", "{out:?}");
    let (out, _) = tool("crm_resource", &["-Q", "-r", "vip", "-z", "-g", "cpu"], &[]);
    assert_eq!(stdout(&out), "2", "{out:?}");
    let (out, _) = tool("crm_resource", &["-r", "vip", "-g", "nic"], &[]);
    assert_eq!(out.status.code(), Some(105));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Attribute 'nic' not found for 'vip'"),
        "{out:?}"
    );
    let (out, _) = tool("crm_resource", &["--locate", "-r", "vip"], &[]);
    assert_eq!(stdout(&out), "resource vip is NOT running", "{out:?}");
    let (out, _) = tool("crm_resource", &["--bogus"], &[]);
    assert_eq!(out.status.code(), Some(64));
}
