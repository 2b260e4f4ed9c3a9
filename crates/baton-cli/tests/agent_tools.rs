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
    <resources/><constraints/>
  </configuration>
  <status><node_state id="1" uname="n1"><transient_attributes id="1">
    <instance_attributes id="status-1"><nvpair id="status-1-master-data" name="master-data" value="10"/></instance_attributes>
  </transient_attributes></node_state></status>
</cib>"#;

/// Runs `tool ARGS` (a link to baton) with `env` against the stand-in;
/// the output and the attributes written.
fn tool(name: &str, args: &[&str], env: &[(&str, &str)]) -> (Output, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir.path().join(name);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_baton"), &link).expect("link the tool");
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
    let out = run(&link, dir.path(), args, env);
    server.abort();
    let written = attributes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    (out, written)
}

fn run(program: &Path, sockets: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(program)
        .args(args)
        .env("BATON_SOCKET_DIR", sockets)
        .envs(env.iter().copied())
        .output()
        .expect("run the tool")
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
