//! Exit codes, stable for scripts:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done; the configuration or CIB is valid |
//! | 1 | the command ran and found errors (`verify`) |
//! | 2 | bad input: a usage error, or a configuration that cannot be used |
//! | 3 | the cluster could not be reached (no daemon on the socket) |

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Success = 0,
    Problems = 1,
    Failed = 2,
    Unreachable = 3,
}

impl Code {
    /// The code for a command that failed with `error`.
    pub fn of_error(error: &anyhow::Error) -> Self {
        let unreachable = error.chain().any(|cause| {
            cause
                .downcast_ref::<baton_proto::client::ConnectError>()
                .is_some()
                || cause.downcast_ref::<crate::live::Unreachable>().is_some()
        });
        if unreachable {
            Self::Unreachable
        } else {
            Self::Failed
        }
    }
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> Self {
        ExitCode::from(code as u8)
    }
}
