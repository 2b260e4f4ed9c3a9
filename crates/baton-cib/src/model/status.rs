//! `<status>`: per-node state, transient attributes and operation history.

use super::nvset::NvSet;
use super::value::{ModelError, integer, typed, view};

view!(
    /// `<node_state id uname in_ccm crmd join expected>`.
    NodeState
);
view!(
    /// `<lrm_resource id class provider type container>`.
    LrmResource
);
view!(
    /// `<lrm_rsc_op>`: one recorded operation result.
    LrmRscOp
);

impl<'a> NodeState<'a> {
    pub fn uname(self) -> Option<&'a str> {
        self.0.attr("uname")
    }

    /// `true`/`false`, or (newer writers) the time the node joined.
    pub fn in_ccm(self) -> Option<&'a str> {
        self.0.attr("in_ccm")
    }

    /// `online`/`offline`, or (newer writers) a time.
    pub fn crmd(self) -> Option<&'a str> {
        self.0.attr("crmd")
    }

    pub fn join(self) -> Option<&'a str> {
        self.0.attr("join")
    }

    pub fn expected(self) -> Option<&'a str> {
        self.0.attr("expected")
    }

    /// Attribute sets written by attrd (fail counts, promotion scores).
    pub fn transient_attributes(self) -> impl Iterator<Item = NvSet<'a>> + 'a {
        self.0
            .children_named("transient_attributes")
            .flat_map(|t| t.children_named("instance_attributes"))
            .map(NvSet)
    }

    pub fn lrm_resources(self) -> impl Iterator<Item = LrmResource<'a>> + 'a {
        self.0
            .children_named("lrm")
            .flat_map(|l| l.children_named("lrm_resources"))
            .flat_map(|r| r.children_named("lrm_resource"))
            .map(LrmResource)
    }
}

impl<'a> LrmResource<'a> {
    pub fn class(self) -> Option<&'a str> {
        self.0.attr("class")
    }

    pub fn provider(self) -> Option<&'a str> {
        self.0.attr("provider")
    }

    pub fn agent(self) -> Option<&'a str> {
        self.0.attr("type")
    }

    pub fn container(self) -> Option<&'a str> {
        self.0.attr("container")
    }

    /// Recorded operations in document order; sort by
    /// [`LrmRscOp::call_id`] before replaying them.
    pub fn ops(self) -> impl Iterator<Item = LrmRscOp<'a>> + 'a {
        self.0.children_named("lrm_rsc_op").map(LrmRscOp)
    }
}

/// `<action_id>:<transition_id>:<target_rc>:<controller uuid>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionKey {
    pub action_id: i32,
    pub transition_id: i32,
    pub target_rc: i32,
    pub controller: String,
}

impl std::str::FromStr for TransitionKey {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WANT: &str = "expected action:transition:target-rc:uuid";
        let mut parts = s.splitn(4, ':');
        let mut num = || parts.next().and_then(|p| p.parse::<i32>().ok()).ok_or(WANT);
        let (action_id, transition_id, target_rc) = (num()?, num()?, num()?);
        let controller = parts.next().ok_or(WANT)?.to_owned();
        Ok(TransitionKey {
            action_id,
            transition_id,
            target_rc,
            controller,
        })
    }
}

/// `<op-status>:<rc>;<transition-key>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionMagic {
    pub op_status: i32,
    pub rc: i32,
    pub key: TransitionKey,
}

impl std::str::FromStr for TransitionMagic {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WANT: &str = "expected op-status:rc;transition-key";
        let (result, key) = s.split_once(';').ok_or(WANT)?;
        let (status, rc) = result.split_once(':').ok_or(WANT)?;
        Ok(TransitionMagic {
            op_status: status.parse().map_err(|_| WANT)?,
            rc: rc.parse().map_err(|_| WANT)?,
            key: key.parse()?,
        })
    }
}

impl<'a> LrmRscOp<'a> {
    /// `<rsc>_<op>_<interval_ms>`.
    pub fn operation_key(self) -> Option<&'a str> {
        self.0.attr("operation_key")
    }

    pub fn operation(self) -> Option<&'a str> {
        self.0.attr("operation")
    }

    /// Milliseconds, as recorded (0 when absent).
    pub fn interval_ms(self) -> Result<u64, ModelError> {
        Ok(integer(self.0, "interval")?.unwrap_or(0))
    }

    pub fn call_id(self) -> Result<Option<i64>, ModelError> {
        integer(self.0, "call-id")
    }

    pub fn rc_code(self) -> Result<Option<i32>, ModelError> {
        integer(self.0, "rc-code")
    }

    pub fn op_status(self) -> Result<Option<i32>, ModelError> {
        integer(self.0, "op-status")
    }

    pub fn exit_reason(self) -> Option<&'a str> {
        self.0.attr("exit-reason")
    }

    /// Seconds since the epoch.
    pub fn last_rc_change(self) -> Result<Option<i64>, ModelError> {
        integer(self.0, "last-rc-change")
    }

    /// Seconds since the epoch.
    pub fn last_run(self) -> Result<Option<i64>, ModelError> {
        integer(self.0, "last-run")
    }

    /// Milliseconds.
    pub fn exec_time_ms(self) -> Result<Option<u64>, ModelError> {
        integer(self.0, "exec-time")
    }

    /// Milliseconds.
    pub fn queue_time_ms(self) -> Result<Option<u64>, ModelError> {
        integer(self.0, "queue-time")
    }

    pub fn op_digest(self) -> Option<&'a str> {
        self.0.attr("op-digest")
    }

    pub fn op_secure_digest(self) -> Option<&'a str> {
        self.0.attr("op-secure-digest")
    }

    pub fn op_restart_digest(self) -> Option<&'a str> {
        self.0.attr("op-restart-digest")
    }

    pub fn transition_key(self) -> Result<Option<TransitionKey>, ModelError> {
        typed(self.0, "transition-key", str::parse)
    }

    pub fn transition_magic(self) -> Result<Option<TransitionMagic>, ModelError> {
        typed(self.0, "transition-magic", str::parse)
    }

    pub fn on_node(self) -> Option<&'a str> {
        self.0.attr("on_node")
    }

    pub fn crm_debug_origin(self) -> Option<&'a str> {
        self.0.attr("crm-debug-origin")
    }

    pub fn crm_feature_set(self) -> Option<&'a str> {
        self.0.attr("crm_feature_set")
    }
}
