//! One action to run, as the daemon receives it.

use std::collections::BTreeMap;

use crate::name::AgentName;

/// A named bound (STYLE rule 10): no agent action may be allowed more than a
/// day; longer is a typo or a unit mistake (seconds vs ms).
pub const TIMEOUT_MS_MAX: u64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRequest {
    /// The resource this runs for (`OCF_RESOURCE_INSTANCE`).
    pub resource_id: String,
    pub agent: AgentName,
    /// `start`, `stop`, `monitor`, `meta-data`, …
    pub action: String,
    /// Instance attributes.
    pub params: BTreeMap<String, String>,
    /// Meta attributes; `interval` and `timeout` come from the fields below.
    pub meta: BTreeMap<String, String>,
    pub interval_ms: u64,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("{0:?} is not an action name; use start, stop, monitor, meta-data, …")]
    BadAction(String),
    #[error("the resource id {0:?} is empty or holds a control character; pass a resource id")]
    BadResource(String),
    #[error("a timeout of {0} ms is out of range; give 1..={TIMEOUT_MS_MAX} ms")]
    BadTimeout(u64),
    #[error(
        "the {kind} name {name:?} cannot be passed in the environment; use letters, digits, '_', '-' or '.'"
    )]
    BadName { kind: &'static str, name: String },
    #[error("the value of {name} holds a NUL byte, which the environment cannot carry")]
    NulInValue { name: String },
}

impl ActionRequest {
    /// Checks what the agent will be handed; the environment builders rely
    /// on it.
    pub fn validate(&self) -> Result<(), RequestError> {
        let action_ok = !self.action.is_empty()
            && self
                .action
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !action_ok {
            return Err(RequestError::BadAction(self.action.clone()));
        }
        if self.resource_id.is_empty() || self.resource_id.chars().any(char::is_control) {
            return Err(RequestError::BadResource(self.resource_id.clone()));
        }
        if !(1..=TIMEOUT_MS_MAX).contains(&self.timeout_ms) {
            return Err(RequestError::BadTimeout(self.timeout_ms));
        }
        for (kind, map) in [("parameter", &self.params), ("meta attribute", &self.meta)] {
            for (name, value) in map {
                let name_ok = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
                if !name_ok {
                    return Err(RequestError::BadName {
                        kind,
                        name: name.clone(),
                    });
                }
                if value.contains('\0') {
                    return Err(RequestError::NulInValue { name: name.clone() });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ActionRequest {
        ActionRequest {
            resource_id: "vip".into(),
            agent: AgentName::ocf("heartbeat", "IPaddr2"),
            action: "start".into(),
            params: BTreeMap::from([("ip".into(), "10.0.0.1".into())]),
            meta: BTreeMap::from([("clone-max".into(), "2".into())]),
            interval_ms: 0,
            timeout_ms: 20_000,
        }
    }

    type Spoil = fn(&mut ActionRequest);

    #[test]
    fn what_cannot_reach_an_agent_safely_is_refused() {
        assert_eq!(request().validate(), Ok(()));
        let cases: [(Spoil, &str); 7] = [
            (|r| r.action = "start; rm".into(), "action"),
            (|r| r.action = String::new(), "empty action"),
            (|r| r.resource_id = "a\nb".into(), "resource"),
            (|r| r.timeout_ms = 0, "zero timeout"),
            (|r| r.timeout_ms = TIMEOUT_MS_MAX + 1, "huge timeout"),
            (
                |r| _ = r.params.insert("a=b".into(), "x".into()),
                "param name",
            ),
            (
                |r| _ = r.meta.insert("ok".into(), "a\0b".into()),
                "NUL value",
            ),
        ];
        for (spoil, what) in cases {
            let mut bad = request();
            spoil(&mut bad);
            assert!(bad.validate().is_err(), "{what} was accepted");
        }
    }
}
