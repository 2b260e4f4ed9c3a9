//! Replaying one resource's operation history on one node, oldest first,
//! into its role there, the failure handling in force, and whether its
//! parameters changed since it started.

use baton_cib::model::LrmRscOp;

use super::digest::DefinitionChange;
use super::history::{OnFail, Role};
use super::resources::Rsc;

/// What one node's history says about one resource.
#[derive(Debug, Default)]
pub(super) struct Replay {
    pub role: Option<Role>,
    pub on_fail: OnFail,
    pub hard_error: bool,
    pub stop_failed: bool,
    /// The operation still under way here (not a probe), if any: its
    /// task, e.g. `start`.
    pub pending: Option<String>,
    /// The history leaves its state here unknown: nothing in it set a
    /// role, or it ends in a probe whose masked failure ("not installed")
    /// has expired.
    pub unknown: bool,
    /// The call-id of the recurring operation whose failure set
    /// `on_fail`, if one did.
    failed_recurring: Option<i64>,
}

const RC_OK: i32 = 0;
const RC_NOT_INSTALLED: i32 = 5;
const RC_NOT_RUNNING: i32 = 7;
const RC_PROMOTED: i32 = 8;
const RC_FAILED_PROMOTED: i32 = 9;
const RC_DEGRADED: i32 = 190;
const RC_DEGRADED_PROMOTED: i32 = 191;

const EXEC_PENDING: i32 = -1;
const EXEC_CANCELLED: i32 = 1;
const EXEC_ERROR: i32 = 4;
const EXEC_NOT_INSTALLED: i32 = 7;

fn default_on_fail(task: &str, fencing: bool) -> OnFail {
    match task {
        "stop" if fencing => OnFail::Fence,
        "stop" => OnFail::Block,
        _ => OnFail::Restart,
    }
}

fn parse_on_fail(s: &str) -> Option<OnFail> {
    Some(match s {
        "ignore" => OnFail::Ignore,
        "block" => OnFail::Block,
        "stop" => OnFail::Stop,
        "standby" => OnFail::Standby,
        "fence" => OnFail::Fence,
        "demote" => OnFail::Demote,
        "restart" | "restart-container" => OnFail::Restart,
        _ => return None,
    })
}

/// Settings that shape how a history is read.
#[derive(Debug, Clone, Copy)]
pub(super) struct ReplayCtx {
    pub fencing: bool,
    pub lsb: bool,
    pub now_s: i64,
    /// The resource's fail count on the node: while it has not expired,
    /// no failure there has.
    pub fail_count: super::FailCount,
}

pub(super) fn replay(ops: &[LrmRscOp<'_>], rsc: &Rsc, ctx: ReplayCtx) -> Replay {
    let ReplayCtx {
        fencing,
        lsb,
        now_s,
        fail_count,
    } = ctx;
    let mut r = Replay::default();
    for op in ops {
        let task = op.operation().unwrap_or("");
        let interval = op.interval_ms().unwrap_or(0);
        let mut rc = op.rc_code().ok().flatten().unwrap_or(0);
        // LSB `status` says 3 for "not running".
        if lsb && task == "monitor" && rc == 3 {
            rc = RC_NOT_RUNNING;
        }
        // "Degraded" results are successes for scheduling purposes.
        rc = match rc {
            RC_DEGRADED => RC_OK,
            RC_DEGRADED_PROMOTED => RC_PROMOTED,
            other => other,
        };
        let status = op.op_status().ok().flatten().unwrap_or(0);
        let target = op
            .transition_key()
            .ok()
            .flatten()
            .map_or(RC_OK, |k| k.target_rc);
        let probe = task == "monitor" && interval == 0;
        if status == EXEC_CANCELLED {
            continue;
        }
        if status == EXEC_PENDING {
            r.pending = (!probe).then(|| task.to_owned());
            match task {
                "start" | "migrate_to" | "migrate_from" => r.role = Some(Role::Started),
                "promote" => r.role = Some(Role::Promoted),
                _ => {}
            }
            continue;
        }
        // Old executors recorded "error" for any unexpected rc; the rc is
        // what decides the outcome.
        let status = if status == EXEC_ERROR { 0 } else { status };
        // Invalid parameters, unimplemented, insufficient privileges, not
        // installed: retrying on this node cannot help.
        let hard = status == EXEC_NOT_INSTALLED || (2..=RC_NOT_INSTALLED).contains(&rc);
        if probe && status == 0 && matches!(rc, RC_OK | RC_NOT_RUNNING | RC_PROMOTED) {
            r.role = Some(match rc {
                RC_OK => Role::Started,
                RC_PROMOTED => Role::Promoted,
                _ => Role::Stopped,
            });
            continue;
        }
        // Whether failure-timeout has passed since this result (and
        // since every failure counted on the node).
        let expired = {
            let timeout = rsc.meta.failure_timeout_s;
            let at = op.last_rc_change().ok().flatten().unwrap_or(0);
            timeout > 0
                && at.saturating_add(timeout) <= now_s
                && (fail_count.all == 0 || fail_count.effective == 0)
        };
        r.unknown = false;
        if probe && (status == EXEC_NOT_INSTALLED || rc == RC_NOT_INSTALLED) {
            // Not installed here: it is not running, and cannot run here
            // until the failure expires; once it has, nothing is known.
            r.hard_error = !expired;
            r.unknown = expired && r.role.is_none_or(|role| role == Role::Stopped);
            r.role = Some(Role::Stopped);
            continue;
        }
        let success = status == 0
            && (rc == target
                || (task == "stop" && rc == RC_NOT_RUNNING)
                || (task == "monitor" && rc == RC_PROMOTED && target == RC_OK));
        if success {
            let clears = match task {
                "start" | "migrate_from" => {
                    r.role = Some(Role::Started);
                    true
                }
                "stop" | "migrate_to" if task == "stop" => {
                    r.role = Some(Role::Stopped);
                    true
                }
                "migrate_to" => {
                    r.role = Some(Role::Started);
                    false
                }
                "promote" => {
                    r.role = Some(Role::Promoted);
                    false
                }
                "demote" => {
                    r.role = Some(Role::Unpromoted);
                    true
                }
                "monitor" => {
                    if rc == RC_NOT_RUNNING {
                        // Expected to find it stopped, and did.
                        r.role = Some(Role::Stopped);
                    } else if rc == RC_PROMOTED {
                        r.role = Some(Role::Promoted);
                    } else if r.role.is_none_or(|x| x == Role::Stopped) {
                        r.role = Some(Role::Started);
                    }
                    false
                }
                _ => false,
            };
            // The same execution of a recurring operation recorded again
            // with a newer, successful result supersedes its failure.
            let same_recurring = interval > 0
                && r.failed_recurring.is_some()
                && r.failed_recurring == op.call_id().ok().flatten();
            if same_recurring {
                r.on_fail = OnFail::Ignore;
                r.failed_recurring = None;
            }
            if clears && r.on_fail <= OnFail::Restart {
                r.on_fail = OnFail::Ignore;
            }
            continue;
        }
        let configured = rsc
            .on_fail
            .get(&(task.to_owned(), interval))
            .and_then(|s| parse_on_fail(s));
        // A failure, unless failure-timeout says it has expired (one that
        // blocks the resource never does).
        if expired && !probe && configured != Some(OnFail::Block) {
            continue;
        }
        let mut on_fail = configured.unwrap_or_else(|| default_on_fail(task, fencing));
        if on_fail == OnFail::Fence && !fencing {
            on_fail = OnFail::Block;
        }
        // A missing agent cannot be ignored; an agent's own "not
        // installed" answer can.
        if status == EXEC_NOT_INSTALLED && on_fail == OnFail::Ignore {
            on_fail = OnFail::Restart;
        }
        if hard && on_fail != OnFail::Ignore {
            r.hard_error = true;
        }
        match task {
            // An ignored stop failure counts as stopped.
            "stop" if on_fail == OnFail::Ignore => r.role = Some(Role::Stopped),
            "stop" => {
                r.stop_failed = true;
                r.role = Some(r.role.unwrap_or(Role::Started).max(Role::Started));
            }
            "promote" => r.role = Some(Role::Promoted),
            // A failed demote that blocks leaves it promoted, to be left
            // alone; otherwise it is recovered as an unpromoted instance.
            "demote" if on_fail == OnFail::Block => r.role = Some(Role::Promoted),
            "demote" => r.role = Some(Role::Unpromoted),
            _ if rc == RC_FAILED_PROMOTED => r.role = Some(Role::Promoted),
            _ => {
                let cur = r.role.unwrap_or(Role::Stopped);
                r.role = Some(cur.max(Role::Started));
            }
        }
        if on_fail == OnFail::Ignore {
            continue;
        }
        if on_fail > r.on_fail {
            r.failed_recurring = op.call_id().ok().flatten().filter(|_| interval > 0);
        }
        r.on_fail = r.on_fail.max(on_fail);
    }
    // Nothing in force says what it is doing here (say, only a stop still
    // in progress): it is probed, and the probe waits for that stop.
    if r.role.is_none() {
        r.unknown = true;
    }
    r
}

/// Whether the parameters of the instance's last successful start, reload
/// or probe that found it running differ from the configuration.
pub(super) fn definition_change(ops: &[LrmRscOp<'_>], rsc: &Rsc) -> Option<DefinitionChange> {
    let params = rsc.params.as_ref()?;
    let last = ops.iter().rev().find(|op| {
        let rc = op.rc_code().ok().flatten();
        let succeeded = op.op_status().ok().flatten().unwrap_or(0) == 0;
        let probe = op.operation() == Some("monitor") && op.interval_ms().unwrap_or(0) == 0;
        succeeded
            && (rc == Some(RC_OK) || probe && rc == Some(RC_PROMOTED))
            && (probe
                || matches!(
                    op.operation(),
                    Some("start" | "migrate_from" | "reload" | "reload-agent")
                ))
    })?;
    params.compare(*last)
}

pub(super) fn sorted_ops<'a>(ops: impl Iterator<Item = LrmRscOp<'a>>) -> Vec<LrmRscOp<'a>> {
    // (call-id, last-rc-change, document position): a recurring
    // operation's record and its last failure share a call-id, and the
    // newer result is the one in force.
    let mut v: Vec<((i64, i64, usize), LrmRscOp<'a>)> = ops
        .enumerate()
        .map(|(i, op)| {
            // Pending ops (call-id -1) are the newest.
            let id = op.call_id().ok().flatten().unwrap_or(-1);
            let changed = op.last_rc_change().ok().flatten().unwrap_or(0);
            ((if id < 0 { i64::MAX } else { id }, changed, i), op)
        })
        .collect();
    v.sort_by_key(|(key, _)| *key);
    v.into_iter().map(|(_, op)| op).collect()
}
