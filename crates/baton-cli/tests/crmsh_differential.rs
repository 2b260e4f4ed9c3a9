//! `baton configure show` against the real thing: crmsh's `crm configure
//! show`, run on the very CIB file baton wrote, must print the same text.
//! This checks both that the CIB is what crmsh would have written and that
//! our printer lays it out as crmsh does.

use std::path::Path;
use std::process::Command;

use baton_tests::require_tool;

/// No passwords: crmsh masks them in `show`, baton does not.
const RICH: &str = r#"node 1: alice attributes standby=off utilization memory=2048
node 2: bob
primitive vip ocf:heartbeat:IPaddr2 params ip=10.0.0.9 cidr_netmask=24 utilization cpu=1 op monitor interval=10s timeout=20s meta resource-stickiness=100
primitive fence1 stonith:fence_ipmilan params ip=10.0.0.1 username=admin pcmk_host_list=alice
primitive drbd ocf:linbit:drbd params drbd_resource=r0 op monitor role=Promoted interval=29s op monitor role=Unpromoted interval=31s OCF_CHECK_LEVEL=10
primitive d1 ocf:pacemaker:Dummy meta migration-threshold=3 failure-timeout=60s
primitive a0 ocf:pacemaker:Dummy
group g1 vip a0 meta target-role=Stopped
clone c1 d1 meta clone-max=2 interleave=true
clone p1 drbd meta promotable=true notify=true
location l-simple g1 100: alice
location l-role p1 role=Promoted inf: alice
location l-rules g1 rule -inf: not_defined pingd or pingd number:lte 0
location l-uname c1 rule -inf: #uname eq bob and site ne east
colocation col-two inf: g1 p1:Promoted
colocation col-three inf: a0 d1 fence1
order o-kind Mandatory: p1:promote g1:start
order o-optional Optional: c1 g1 symmetrical=false
property stonith-enabled=true no-quorum-policy=stop
rsc_defaults resource-stickiness=100
op_defaults timeout=60s
"#;

fn run(command: &mut Command) -> String {
    let out = command.output().expect("run");
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn compare(name: &str, crm_text: &Path, dir: &Path) {
    let cib = dir.join(format!("{name}.xml"));
    let baton = env!("CARGO_BIN_EXE_baton");
    run(Command::new(baton)
        .args(["configure", "--cib"])
        .arg(&cib)
        .args(["load", "update"])
        .arg(crm_text));
    let ours = run(Command::new(baton)
        .args(["configure", "--cib"])
        .arg(&cib)
        .arg("show"));
    let theirs = run(Command::new("crm")
        .args(["configure", "show"])
        .env("CIB_file", &cib));
    assert_eq!(
        ours.trim_end(),
        theirs.trim_end(),
        "{name}: baton and crmsh disagree"
    );
}

#[test]
fn show_prints_what_crm_configure_show_prints() {
    if !require_tool("crm", "compare `baton configure show` with crmsh's") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/examples/crmsh");
    for name in ["web-ha-group", "web-ha-constraints"] {
        compare(name, &examples.join(format!("{name}.crm")), dir.path());
    }
    let rich = dir.path().join("rich.crm");
    std::fs::write(&rich, RICH).expect("write");
    compare("rich", &rich, dir.path());
}
