//! What an action came to: the OCF return code and the execution status, and
//! the pure rules that map a class's exit codes onto them (FACTS §6.1, §6.2).

use std::fmt;

/// OCF return codes (resource-agents `ocf-returncodes`, OCF 1.1).
pub mod rc {
    pub const SUCCESS: i32 = 0;
    pub const ERR_GENERIC: i32 = 1;
    pub const ERR_ARGS: i32 = 2;
    pub const ERR_UNIMPLEMENTED: i32 = 3;
    pub const ERR_PERM: i32 = 4;
    pub const ERR_INSTALLED: i32 = 5;
    pub const ERR_CONFIGURED: i32 = 6;
    pub const NOT_RUNNING: i32 = 7;
    pub const RUNNING_PROMOTED: i32 = 8;
    pub const FAILED_PROMOTED: i32 = 9;
    pub const DEGRADED: i32 = 190;
    pub const DEGRADED_PROMOTED: i32 = 191;
}

/// The OCF name of `code`, for humans; `None` for a code OCF does not define.
pub fn rc_name(code: i32) -> Option<&'static str> {
    Some(match code {
        rc::SUCCESS => "success",
        rc::ERR_GENERIC => "generic error",
        rc::ERR_ARGS => "invalid parameter",
        rc::ERR_UNIMPLEMENTED => "unimplemented feature",
        rc::ERR_PERM => "insufficient privileges",
        rc::ERR_INSTALLED => "not installed",
        rc::ERR_CONFIGURED => "not configured",
        rc::NOT_RUNNING => "not running",
        rc::RUNNING_PROMOTED => "promoted",
        rc::FAILED_PROMOTED => "promoted (failed)",
        rc::DEGRADED => "degraded",
        rc::DEGRADED_PROMOTED => "promoted (degraded)",
        _ => return None,
    })
}

/// Whether the agent's action ran, as opposed to what it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpStatus {
    /// The agent ran to its end; the rc says how it went.
    Done,
    /// The agent outlived its timeout and was killed.
    Timeout,
    /// It could not run, died by a signal, or exited with a meaningless code.
    Error,
    NotInstalled,
    Cancelled,
}

impl OpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Timeout => "timeout",
            Self::Error => "error",
            Self::NotInstalled => "not-installed",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for OpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The pair every action ends with, plus a reason when we have one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub rc: i32,
    pub status: OpStatus,
    pub reason: Option<String>,
}

impl Verdict {
    pub fn done(rc: i32) -> Self {
        Self {
            rc,
            status: OpStatus::Done,
            reason: None,
        }
    }

    pub fn failed(status: OpStatus, rc: i32, reason: impl Into<String>) -> Self {
        Self {
            rc,
            status,
            reason: Some(reason.into()),
        }
    }
}

/// An OCF agent's exit code.
pub fn ocf_exit(code: i32) -> Verdict {
    match rc_name(code) {
        Some(_) => Verdict::done(code),
        None => Verdict::failed(
            OpStatus::Error,
            rc::ERR_GENERIC,
            format!("the agent exited with code {code}, which OCF does not define"),
        ),
    }
}

/// An LSB init script's exit code for `status` (LSB's own table).
pub fn lsb_status_exit(code: i32) -> Verdict {
    Verdict::done(match code {
        0 => rc::SUCCESS,
        1..=3 => rc::NOT_RUNNING,
        150 => rc::ERR_INSTALLED,
        151 => rc::ERR_PERM,
        _ => rc::ERR_GENERIC,
    })
}

/// An LSB init script's exit code for any action but `status`: LSB's 0–7
/// mean what OCF's do.
pub fn lsb_action_exit(code: i32) -> Verdict {
    Verdict::done(if (0..=7).contains(&code) {
        code
    } else {
        rc::ERR_GENERIC
    })
}

/// The reason an agent gave: the text of its last `ocf-exit-reason:` line.
pub fn exit_reason(output: &str) -> Option<String> {
    output
        .lines()
        .filter_map(|line| {
            line.trim_start()
                .strip_prefix(crate::env::EXIT_REASON_PREFIX)
        })
        .map(str::trim)
        .rfind(|reason| !reason.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ocf_codes_pass_through_and_unknown_ones_are_errors() {
        for code in (0..=9).chain([190, 191]) {
            assert_eq!(ocf_exit(code), Verdict::done(code));
        }
        for code in [10, 127, 189, 192, 255] {
            let verdict = ocf_exit(code);
            assert_eq!(
                (verdict.rc, verdict.status),
                (rc::ERR_GENERIC, OpStatus::Error),
                "{code}"
            );
        }
    }

    #[test]
    fn lsb_status_follows_the_lsb_table() {
        let table = [
            (0, 0),
            (1, 7),
            (2, 7),
            (3, 7),
            (4, 1),
            (150, 5),
            (151, 4),
            (5, 1),
            (200, 1),
        ];
        for (lsb, ocf) in table {
            assert_eq!(lsb_status_exit(lsb).rc, ocf, "status {lsb}");
        }
    }

    #[test]
    fn lsb_actions_keep_codes_up_to_7() {
        for code in 0..=7 {
            assert_eq!(lsb_action_exit(code).rc, code);
        }
        assert_eq!(lsb_action_exit(8).rc, rc::ERR_GENERIC);
        assert_eq!(lsb_action_exit(150).rc, rc::ERR_GENERIC);
    }

    #[test]
    fn the_last_exit_reason_wins() {
        let stderr = "noise\nocf-exit-reason:first\nmore\n  ocf-exit-reason: Address 10.9.9.9 is in use \nocf-exit-reason:\n";
        assert_eq!(
            exit_reason(stderr).as_deref(),
            Some("Address 10.9.9.9 is in use")
        );
        assert_eq!(exit_reason("nothing here"), None);
    }
}
