//! The classic crmsh web cluster on two real nodes in network namespaces,
//! loaded from the configuration users paste (`../shared/examples/crmsh`):
//! an address (`ocf:heartbeat:IPaddr`), a file system
//! (`ocf:heartbeat:Filesystem`, a tmpfs here instead of NFS) and a web
//! server (`lsb:httpd`, the tests' own init script), first as a group,
//! then as separate resources tied by colocation and order. `node standby`
//! moves everything; `node online` moves nothing back (stickiness
//! INFINITY, set with the legacy `default-resource-stickiness`); a killed
//! web server is restarted in place by its monitor.

#[path = "ring/cluster.rs"]
mod cluster;
#[path = "crmd/lsb.rs"]
mod lsb;
#[path = "ring/netns.rs"]
mod netns;
#[path = "crmd/stack.rs"]
mod stack;
#[path = "crmd/vip.rs"]
mod vip;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lsb::Services;
use stack::*;
use vip::*;

const NAMES: [&str; 2] = ["n1", "n2"];

/// The example as users paste it, with this test's address, a tmpfs in
/// place of the NFS export, and monitors every second instead of every 30
/// and 60 (so a test does not wait minutes).
fn example(name: &str, vip: &str, docroot: &str) -> String {
    let path = format!(
        "{}/../../shared/examples/crmsh/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the example {path} is required: {e}"));
    text.replace("192.168.192.222", vip)
        .replace(
            r#"device="192.168.192.196:/webdocs" fstype="nfs" directory="/var/www/html""#,
            &format!(r#"device="tmpfs" fstype="tmpfs" directory="{docroot}""#),
        )
        .replace(r#"interval="30s""#, r#"interval="1s""#)
        .replace(r#"interval="60""#, r#"interval="1s""#)
}

/// The two-node cluster with the example loaded; the address, where the
/// document root is, the web server, and when the test began.
struct Web {
    stack: Stack,
    vip: String,
    docroot: String,
    httpd: Services,
    began: Instant,
}

impl Web {
    fn start(example_name: &str) -> Option<Web> {
        let prerequisites = agents_installed()
            && baton_tests::require_package(
                "net-tools",
                "/sbin/ifconfig",
                "run ocf:heartbeat:IPaddr",
            )
            && baton_tests::require_package(
                "kmod",
                "/sbin/modprobe",
                "run ocf:heartbeat:Filesystem",
            );
        if !prerequisites {
            return None;
        }
        let began = Instant::now();
        let stack = Stack::start(2)?;
        let httpd = Services::install(&stack, "httpd");
        stack.wait_for_agreed_dc(&[1, 2], &NAMES);
        stack.net.address_bridge();
        let vip = format!("{}.100", stack.net.subnet(0));
        let docroot: PathBuf = stack.dir.path().join("www");
        std::fs::create_dir_all(&docroot).expect("document root");
        let docroot = docroot.to_str().expect("utf-8 path").to_owned();
        let file = stack.dir.path().join(example_name);
        std::fs::write(&file, example(example_name, &vip, &docroot)).expect("write example");
        let load = stack.baton(
            1,
            &["configure", "load", "update", file.to_str().expect("utf-8")],
        );
        ok(&stack, &load);
        Some(Web {
            stack,
            vip,
            docroot,
            httpd,
            began,
        })
    }

    /// Whether `node`'s lrmd (whose mount namespace the agents share)
    /// has the document root mounted.
    fn mounted(&self, node: usize) -> bool {
        let lrmd = self.stack.pid(node, Daemon::Lrmd);
        std::fs::read_to_string(format!("/proc/{lrmd}/mounts")).is_ok_and(|m| {
            m.lines()
                .any(|l| l.split(' ').nth(1) == Some(&self.docroot))
        })
    }

    /// Whether all three run on `node` and none on the other.
    fn all_on(&self, node: usize) -> bool {
        let other = 3 - node;
        holders(&self.stack, &self.vip, &[1, 2]) == [node]
            && self.mounted(node)
            && !self.mounted(other)
            && self.httpd.alive(node)
            && !self.httpd.alive(other)
    }

    /// Waits until everything runs on one node; that node.
    fn wait_until_together(&self) -> usize {
        wait_until(
            &self.stack,
            "address, file system and web server on one node",
            || self.all_on(1) || self.all_on(2),
        );
        let node = if self.all_on(1) { 1 } else { 2 };
        wait_until(&self.stack, "the address answers", || {
            answers(&self.stack, &self.vip)
        });
        eprintln!(
            "timeline: everything on n{node} after {:?}",
            self.began.elapsed()
        );
        node
    }

    /// `node standby` moves everything away; `node online` moves nothing
    /// back. Returns where everything runs.
    fn standby_and_online(&self, holder: usize) -> usize {
        let other = 3 - holder;
        let node = format!("n{holder}");
        ok(
            &self.stack,
            &self.stack.baton(2, &["node", "standby", &node]),
        );
        wait_until(&self.stack, "everything moved to the other node", || {
            self.all_on(other)
        });
        eprintln!(
            "timeline: n{holder} in standby, everything on n{other} after {:?}",
            self.began.elapsed()
        );
        ok(
            &self.stack,
            &self.stack.baton(2, &["node", "online", &node]),
        );
        self.stack.wait_for(1, "the node online again", |s| {
            online_names(s) == NAMES
                && s["nodes"]
                    .as_array()
                    .is_some_and(|n| n.iter().all(|n| n["state"] == "online"))
        });
        std::thread::sleep(Duration::from_secs(3));
        assert!(
            self.all_on(other),
            "stickiness INFINITY: nothing moves back to n{holder}"
        );
        other
    }
}

/// The lrmd call id of a resource's recorded start.
fn start_call_id(cib: &str, resource: &str) -> Option<i64> {
    let at = cib.find(&format!("operation_key=\"{resource}_start_0\""))?;
    let element = &cib[cib[..at].rfind('<')?..];
    let element = &element[..element.find('>')?];
    element
        .split("call-id=\"")
        .nth(1)?
        .split('"')
        .next()?
        .parse()
        .ok()
}

#[test]
fn the_web_group_moves_on_standby_stays_on_online_and_restarts_a_killed_server() {
    let Some(web) = Web::start("web-ha-group.crm") else {
        return;
    };
    let holder = web.wait_until_together();
    let now_on = web.standby_and_online(holder);
    let dead = web.httpd.kill(now_on);
    wait_until(&web.stack, "the web server restarted in place", || {
        web.httpd.alive(now_on) && web.httpd.pid(now_on) != Some(dead)
    });
    assert!(web.all_on(now_on), "the group stayed together");
    wait_until(&web.stack, "the address answers", || {
        answers(&web.stack, &web.vip)
    });
    eprintln!(
        "timeline: httpd killed on n{now_on}, restarted in place after {:?}",
        web.began.elapsed()
    );
}

#[test]
fn separate_resources_tied_by_colocation_and_order_move_together() {
    let Some(web) = Web::start("web-ha-constraints.crm") else {
        return;
    };
    let holder = web.wait_until_together();
    let cib = web.stack.cib(1);
    let started: Vec<i64> = ["webip", "webstore", "web"]
        .iter()
        .map(|id| start_call_id(&cib, id).unwrap_or_else(|| panic!("{id}'s start in:\n{cib}")))
        .collect();
    assert!(
        started.windows(2).all(|w| w[0] < w[1]),
        "started in the order webip, webstore, web: call ids {started:?}"
    );
    let other = 3 - holder;
    ok(
        &web.stack,
        &web.stack
            .baton(2, &["node", "standby", &format!("n{holder}")]),
    );
    wait_until(&web.stack, "everything moved to the other node", || {
        web.all_on(other)
    });
}
