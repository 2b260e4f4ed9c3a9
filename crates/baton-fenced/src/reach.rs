//! `Test`: asks each device that may fence a node whether it can reach it
//! (baton-fencing chooses the agent action and judges the answer); nothing
//! is shot.

use std::collections::BTreeSet;
use std::time::Duration;

use baton_fencing::Claim;
use baton_proto::fenced::DeviceReach;

use crate::service::{FencedService, Planned};

/// A check that takes longer than this is reported as not reaching.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

/// Every device of every level that may fence `target`, once each, in
/// the order fencing would try them.
pub async fn test(service: &FencedService, target: &str) -> Result<Vec<DeviceReach>, String> {
    let Planned {
        registry,
        plan,
        capabilities,
        ..
    } = service.planned(target).await?;
    let mut asked = BTreeSet::new();
    let mut found = Vec::new();
    for candidate in plan.levels.iter().flatten() {
        if !asked.insert(candidate.device.clone()) {
            continue;
        }
        let Some(device) = registry.device(&candidate.device) else {
            found.push(DeviceReach {
                device: candidate.device.clone(),
                detail: "the fencing topology names it, but no such device is defined (or it is disabled)".to_owned(),
                ..DeviceReach::default()
            });
            continue;
        };
        let agent = capabilities.get(&device.agent).copied().unwrap_or_default();
        let check = device.reach_check(agent);
        let mut reach = DeviceReach {
            device: device.id.clone(),
            agent: device.agent.clone(),
            check: check.action().to_owned(),
            ..DeviceReach::default()
        };
        if candidate.claim == Claim::No {
            reach.detail = format!("its host list leaves {target} out");
            found.push(reach);
            continue;
        }
        let timeout = device
            .timeouts_ms
            .get(check.action())
            .map_or(CHECK_TIMEOUT, |ms| Duration::from_millis(*ms));
        let stdin = device.stdin(check.action(), target, None);
        match service.agents().ask(&device.agent, stdin, timeout).await {
            Ok(answer) => {
                let judged = device.judge_reach(check, target, answer.code, &answer.stdout);
                reach.reachable = judged.reachable;
                reach.detail = if judged.reachable || answer.said.is_empty() {
                    judged.detail
                } else {
                    format!("{}: {}", judged.detail, answer.said)
                };
            }
            Err(reason) => reach.detail = reason,
        }
        found.push(reach);
    }
    Ok(found)
}
