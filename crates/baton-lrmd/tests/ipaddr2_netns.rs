//! IPaddr2 from resource-agents, with baton-lrmd inside a network namespace
//! this test creates: the address is added, seen by the monitor, and removed,
//! and nothing outside the namespace is touched (its only link is a veth
//! pair whose both ends live inside it).

mod common;

use std::process::Command;
use std::time::Duration;

use baton_proto::lrmd::{OpStatus, StartMonitorRequest, WatchMonitorsRequest};
use common::{Daemon, action, exec};
use tokio_stream::StreamExt;

const ADDRESS: &str = "10.213.7.50";

/// The namespace, deleted on drop even when the test fails.
struct Netns(String);

impl Netns {
    fn create() -> Self {
        let netns = Self(format!("baton-lrmd-test-{}", std::process::id()));
        netns.ip(&["netns", "add", &netns.0]);
        for args in [
            &["link", "set", "lo", "up"][..],
            &["link", "add", "bt0", "type", "veth", "peer", "name", "bt1"],
            &["link", "set", "bt0", "up"],
            &["link", "set", "bt1", "up"],
            &["addr", "add", "10.213.7.1/24", "dev", "bt0"],
        ] {
            netns.ip(&[&["-n", &netns.0][..], args].concat());
        }
        netns
    }

    fn ip(&self, args: &[&str]) -> String {
        let out = Command::new("ip").args(args).output().expect("run ip");
        assert!(
            out.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn addresses(&self) -> String {
        self.ip(&["-n", &self.0, "-4", "addr", "show", "dev", "bt0"])
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[tokio::test]
async fn ipaddr2_adds_monitors_and_removes_an_address_in_a_netns() {
    if !baton_tests::require_root("create a network namespace")
        || !baton_tests::require_tool("ip", "create a network namespace")
        || !baton_tests::require_package(
            "resource-agents",
            "/usr/lib/ocf/resource.d/heartbeat/IPaddr2",
            "run IPaddr2",
        )
    {
        return;
    }
    let netns = Netns::create();
    let daemon = Daemon::start(
        std::path::Path::new("/usr/lib/ocf"),
        &["ip", "netns", "exec", &netns.0],
        &[],
    );
    let mut client = daemon.client().await;
    let params = [("ip", ADDRESS), ("cidr_netmask", "24"), ("nic", "bt0")];
    let vip = "ocf:heartbeat:IPaddr2";

    let probe = exec(&mut client, action("vip", vip, "monitor", &params)).await;
    assert_eq!((probe.status(), probe.rc), (OpStatus::Done, 7), "{probe:?}");
    let start = exec(&mut client, action("vip", vip, "start", &params)).await;
    assert_eq!((start.status(), start.rc), (OpStatus::Done, 0), "{start:?}");
    assert!(netns.addresses().contains(ADDRESS), "{}", netns.addresses());

    let mut watch = client
        .watch_monitors(WatchMonitorsRequest {})
        .await
        .expect("watch")
        .into_inner();
    let mut monitor = action("vip", vip, "monitor", &params);
    monitor.interval_ms = 200;
    client
        .start_monitor(StartMonitorRequest {
            action: Some(monitor),
            record: None,
        })
        .await
        .expect("monitor");
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(20), watch.next())
            .await
            .expect("a monitor result in time")
            .expect("stream open")
            .expect("no stream error")
    };
    assert_eq!(next().await.rc, 0, "the monitor sees the address");
    netns.ip(&[
        "-n",
        &netns.0,
        "addr",
        "del",
        &format!("{ADDRESS}/24"),
        "dev",
        "bt0",
    ]);
    assert_eq!(next().await.rc, 7, "the monitor sees the address gone");

    let start = exec(&mut client, action("vip", vip, "start", &params)).await;
    assert_eq!(start.rc, 0, "{start:?}");
    assert_eq!(next().await.rc, 0, "the monitor sees the address back");
    let stop = exec(&mut client, action("vip", vip, "stop", &params)).await;
    assert_eq!((stop.status(), stop.rc), (OpStatus::Done, 0), "{stop:?}");
    assert!(
        !netns.addresses().contains(ADDRESS),
        "{}",
        netns.addresses()
    );
}
