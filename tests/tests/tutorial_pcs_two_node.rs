//! The pcs two-node tutorial on real nodes in network namespaces, typed in
//! pcs's forms: `two_node: 1`, `property set`, `resource create … --group`,
//! `constraint location web prefers n1=50 n2=45`. The group runs on n1;
//! when n1 dies it moves to n2 (two_node keeps n2 quorate); when n1 comes
//! back the group fails back (no stickiness), as Pacemaker does.
//!
//! The web server is the tests' LSB stand-in (`lsb:httpd`), not apache:
//! the tutorial's `ocf:heartbeat:apache` needs apache2 configured per
//! node, which this test does not do yet.

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

use std::time::Instant;

use cluster::ConfigOptions;
use lsb::Services;
use stack::*;
use vip::*;

fn pcs(stack: &Stack, words: &str) {
    let words: Vec<&str> = words.split(' ').collect();
    ok(stack, &stack.baton(1, &words));
}

/// Whether the address and the web server run on `node`, and on no other
/// of the `live` nodes (a powered-off node keeps its configuration).
fn web_on(stack: &Stack, vip: &str, httpd: &Services, node: usize, live: &[usize]) -> bool {
    holders(stack, vip, live) == [node] && httpd.alive(node)
}

#[test]
fn the_group_fails_over_to_the_other_node_and_back() {
    if !agents_installed() {
        return;
    }
    let began = Instant::now();
    let two_node = |net: &netns::Net, dir: &std::path::Path| {
        let options = ConfigOptions {
            quorum: "  two_node: 1",
            ..ConfigOptions::default()
        };
        cluster::write_config_with(net, &dir.join("authkey"), &options)
    };
    let Some(mut stack) = Stack::start_with_config(2, two_node) else {
        return;
    };
    let httpd = Services::install(&stack, "httpd");
    stack.wait_for_agreed_dc(&[1, 2], &["n1", "n2"]);
    stack.net.address_bridge();
    let vip = format!("{}.100", stack.net.subnet(0));
    pcs(&stack, "property set stonith-enabled=false");
    pcs(
        &stack,
        &format!(
            "resource create vip ocf:heartbeat:IPaddr2 ip={vip} cidr_netmask=24 op monitor interval=1s --group web"
        ),
    );
    pcs(
        &stack,
        "resource create site lsb:httpd op monitor interval=1s --group web",
    );
    pcs(&stack, "constraint location web prefers n1=50 n2=45");
    wait_until(&stack, "the group on n1", || {
        web_on(&stack, &vip, &httpd, 1, &[1, 2])
    });
    wait_until(&stack, "the address answers", || answers(&stack, &vip));
    eprintln!("timeline: web on n1 after {:?}", began.elapsed());

    stack.power_off(1);
    httpd.kill(1);
    wait_until(&stack, "the group moved to n2", || {
        web_on(&stack, &vip, &httpd, 2, &[2])
    });
    wait_until(&stack, "the address answers", || answers(&stack, &vip));
    eprintln!("timeline: n1 off, web on n2 after {:?}", began.elapsed());

    stack.power_on(1);
    wait_until(&stack, "the group failed back to n1", || {
        web_on(&stack, &vip, &httpd, 1, &[1, 2]) && !httpd.alive(2)
    });
    wait_until(&stack, "the address answers", || answers(&stack, &vip));
    eprintln!(
        "timeline: n1 back, web failed back after {:?}",
        began.elapsed()
    );
}
