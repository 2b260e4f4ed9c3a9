//! Cluster option names that changed after Pacemaker 2.1.5. Both spellings
//! are accepted everywhere: existing clusters use the old ones and newer
//! configurations (and the regression corpus) the new ones.

/// Each group lists the current spelling first.
const SPELLINGS: &[&[&str]] = &[
    &["fencing-enabled", "stonith-enabled"],
    &["fencing-action", "stonith-action"],
    &["fencing-timeout", "stonith-timeout"],
    &["fencing-watchdog-timeout", "stonith-watchdog-timeout"],
    &["stop-removed-resources", "stop-orphan-resources"],
    &[
        "cancel-removed-actions",
        "stop-orphan-actions",
        "stop-removed-actions",
    ],
];

/// Every accepted spelling of option `name`, current one first, or `None`
/// when the option was never renamed.
pub fn option_spellings(name: &str) -> Option<&'static [&'static str]> {
    SPELLINGS
        .iter()
        .copied()
        .find(|group| group.contains(&name))
}

/// The current spelling of option `name`.
pub fn canonical_option_name(name: &str) -> &str {
    option_spellings(name)
        .and_then(|g| g.first().copied())
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_map_to_the_current_name() {
        assert_eq!(canonical_option_name("stonith-enabled"), "fencing-enabled");
        assert_eq!(canonical_option_name("fencing-enabled"), "fencing-enabled");
        assert_eq!(
            canonical_option_name("stop-orphan-actions"),
            "cancel-removed-actions"
        );
        assert_eq!(
            canonical_option_name("no-quorum-policy"),
            "no-quorum-policy"
        );
        assert_eq!(
            canonical_option_name("stonith-watchdog-timeout"),
            "fencing-watchdog-timeout"
        );
        assert_eq!(
            canonical_option_name("stop-orphan-resources"),
            "stop-removed-resources"
        );
        assert_eq!(
            option_spellings("stop-removed-actions").map(|s| s[0]),
            Some("cancel-removed-actions")
        );
        assert_eq!(option_spellings("symmetric-cluster"), None);
    }
}
