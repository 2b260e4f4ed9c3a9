//! `baton fence test`'s judgement as a table: the agent's abilities, the
//! check chosen, the agent's answer (exit code, output), and what the user
//! is told about reaching n2 (known to the device as `port-2`).

use baton_cib::Cib;
use baton_fencing::{AgentCapabilities, Device, ReachCheck, Registry};

fn device() -> Device {
    let cib = Cib::parse(
        "<cib epoch=\"1\" num_updates=\"0\" admin_epoch=\"0\"><configuration><crm_config/><nodes/>\
         <resources><primitive id=\"st\" class=\"stonith\" type=\"fence_x\">\
         <instance_attributes id=\"st-ia\">\
         <nvpair id=\"st-map\" name=\"pcmk_host_map\" value=\"n2:port-2\"/>\
         </instance_attributes></primitive></resources><constraints/></configuration><status/></cib>",
    )
    .expect("a CIB");
    let (registry, problems) = Registry::from_cib(&cib);
    assert!(problems.is_empty(), "{problems:?}");
    registry.devices[0].clone()
}

#[test]
fn each_answer_says_whether_the_device_reaches_the_node() {
    let both = AgentCapabilities {
        list: true,
        status: true,
        reboot: true,
    };
    let status_only = AgentCapabilities {
        list: false,
        ..both
    };
    let neither = AgentCapabilities::default();
    let table: &[(AgentCapabilities, ReachCheck, i32, &str, bool, &str)] = &[
        (
            both,
            ReachCheck::List,
            0,
            "port-1,web1\nport-2,db1\n",
            true,
            "its list names port-2",
        ),
        (
            both,
            ReachCheck::List,
            0,
            "port-1\n",
            false,
            "its list does not name port-2",
        ),
        (
            both,
            ReachCheck::List,
            1,
            "",
            false,
            "fence_x list exited 1",
        ),
        (
            status_only,
            ReachCheck::Status,
            0,
            "Status: ON",
            true,
            "port-2 is on",
        ),
        (
            status_only,
            ReachCheck::Status,
            2,
            "Status: OFF",
            true,
            "port-2 is off",
        ),
        (
            status_only,
            ReachCheck::Status,
            1,
            "",
            false,
            "fence_x status exited 1",
        ),
        (
            neither,
            ReachCheck::Monitor,
            0,
            "",
            true,
            "the device answers (its agent cannot tell one node from another)",
        ),
        (
            neither,
            ReachCheck::Monitor,
            1,
            "",
            false,
            "fence_x monitor exited 1",
        ),
    ];
    let device = device();
    for (agent, check, code, stdout, reachable, detail) in table {
        assert_eq!(device.reach_check(*agent), *check);
        let reach = device.judge_reach(*check, "n2", *code, stdout);
        assert_eq!(
            (reach.reachable, reach.detail.as_str()),
            (*reachable, *detail),
            "{check:?} exit {code} printing {stdout:?}"
        );
    }
}
