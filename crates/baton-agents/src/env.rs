//! The environment an agent runs in. It is built from nothing: no variable
//! of the daemon (NOTIFY_SOCKET, LISTEN_FDS, …) reaches an agent.

use std::path::Path;

use crate::request::ActionRequest;

pub const EXIT_REASON_PREFIX: &str = "ocf-exit-reason:";
/// `env_clear` removes PATH too; agents call plain `ip`, `grep`, `sed`.
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Passed as is, not as OCF_RESKEY_OCF_CHECK_LEVEL (OCF 1.1).
const CHECK_LEVEL: &str = "OCF_CHECK_LEVEL";

pub type Env = Vec<(String, String)>;

/// What every agent of every class gets.
pub fn base_env() -> Env {
    vec![("PATH".to_owned(), PATH.to_owned())]
}

/// The OCF environment for `request` (FACTS §6.1). The request must have
/// passed [`ActionRequest::validate`].
pub fn ocf_env(request: &ActionRequest, ocf_root: &Path) -> Env {
    let mut env = base_env();
    let mut set = |name: String, value: &str| env.push((name, value.to_owned()));
    set("OCF_RA_VERSION_MAJOR".into(), "1");
    set("OCF_RA_VERSION_MINOR".into(), "1");
    set("OCF_ROOT".into(), &ocf_root.to_string_lossy());
    set("OCF_RESOURCE_INSTANCE".into(), &request.resource_id);
    set("OCF_RESOURCE_TYPE".into(), &request.agent.kind);
    set(
        "OCF_RESOURCE_PROVIDER".into(),
        request.agent.provider.as_deref().unwrap_or_default(),
    );
    set("OCF_EXIT_REASON_PREFIX".into(), EXIT_REASON_PREFIX);
    for (name, value) in &request.params {
        if name == CHECK_LEVEL {
            set(CHECK_LEVEL.into(), value);
        } else {
            set(format!("OCF_RESKEY_{name}"), value);
        }
    }
    let fixed = [
        ("interval", request.interval_ms),
        ("timeout", request.timeout_ms),
    ];
    for (name, value) in &request.meta {
        let name = meta_var(name);
        if !fixed.iter().any(|(fixed, _)| name == meta_var(fixed)) {
            set(name, value);
        }
    }
    for (name, value) in fixed {
        set(meta_var(name), &value.to_string());
    }
    env
}

/// `OCF_RESKEY_CRM_meta_<name>`, with `-` and `.` turned into `_` so that a
/// shell can read it.
fn meta_var(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| if c == '-' || c == '.' { '_' } else { c })
        .collect();
    format!("OCF_RESKEY_CRM_meta_{name}")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::name::AgentName;

    fn lookup<'a>(env: &'a Env, name: &str) -> Option<&'a str> {
        env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn ocf_environment_has_identity_params_and_meta_in_ms() {
        let request = ActionRequest {
            resource_id: "vip:1".into(),
            agent: AgentName::ocf("heartbeat", "IPaddr2"),
            action: "monitor".into(),
            params: BTreeMap::from([
                ("ip".into(), "10.0.0.9".into()),
                ("OCF_CHECK_LEVEL".into(), "10".into()),
            ]),
            meta: BTreeMap::from([
                ("clone-max".into(), "3".into()),
                ("notify_type".into(), "pre".into()),
                ("timeout".into(), "1".into()),
            ]),
            interval_ms: 10_000,
            timeout_ms: 20_000,
        };
        let env = ocf_env(&request, Path::new("/usr/lib/ocf"));
        let expected = [
            ("PATH", PATH),
            ("OCF_ROOT", "/usr/lib/ocf"),
            ("OCF_RA_VERSION_MAJOR", "1"),
            ("OCF_RESOURCE_INSTANCE", "vip:1"),
            ("OCF_RESOURCE_TYPE", "IPaddr2"),
            ("OCF_RESOURCE_PROVIDER", "heartbeat"),
            ("OCF_EXIT_REASON_PREFIX", "ocf-exit-reason:"),
            ("OCF_RESKEY_ip", "10.0.0.9"),
            ("OCF_CHECK_LEVEL", "10"),
            ("OCF_RESKEY_CRM_meta_clone_max", "3"),
            ("OCF_RESKEY_CRM_meta_notify_type", "pre"),
            ("OCF_RESKEY_CRM_meta_interval", "10000"),
            ("OCF_RESKEY_CRM_meta_timeout", "20000"),
        ];
        for (name, value) in expected {
            assert_eq!(lookup(&env, name), Some(value), "{name}");
        }
        let timeouts = env
            .iter()
            .filter(|(n, _)| n == "OCF_RESKEY_CRM_meta_timeout")
            .count();
        assert_eq!(
            timeouts, 1,
            "the request's timeout overrides a meta attribute"
        );
        assert!(lookup(&env, "OCF_RESKEY_OCF_CHECK_LEVEL").is_none());
    }
}
