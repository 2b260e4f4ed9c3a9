//! The keys and sections baton knows, used to route entries and to suggest
//! the intended name when one is misspelled.

pub(super) const SECTIONS: &[&str] = &[
    "totem", "nodelist", "quorum", "logging", "aisexec", "amf", "service",
];
/// Real corosync sections that baton has no equivalent for.
pub(super) const UNSUPPORTED_SECTIONS: &[&str] = &["system", "resources", "nozzle", "uidgid", "qb"];

pub(super) const TOTEM_KEYS: &[&str] = &[
    "cluster_name",
    "transport",
    "token",
    "token_coefficient",
    "consensus",
    "join",
    "merge",
    "send_join",
    "max_messages",
    "window_size",
    "fail_recv_const",
    "seqno_unchanged_const",
    "token_retransmits_before_loss_const",
    "secauth",
    "crypto_cipher",
    "crypto_hash",
    "keyfile",
    "version",
    "threads",
    "rrp_mode",
    "nodeid",
];
pub(super) const TOTEM_UNSUPPORTED: &[&str] = &[
    "crypto_model",
    "key",
    "link_mode",
    "netmtu",
    "ip_version",
    "config_version",
    "clear_node_high_bit",
    "token_warning",
    "token_retransmit",
    "hold",
    "downcheck",
    "miss_count_const",
    "heartbeat_failures_allowed",
    "max_network_delay",
    "block_unlisted_ips",
    "knet_compression_model",
    "knet_compression_threshold",
    "knet_pmtud_interval",
    "knet_mtu",
    "vsftype",
];
pub(super) const INTERFACE_KEYS: &[&str] = &[
    "linknumber",
    "ringnumber",
    "bindnetaddr",
    "mcastaddr",
    "mcastport",
    "ttl",
    "broadcast",
];
pub(super) const INTERFACE_UNSUPPORTED: &[&str] = &[
    "knet_link_priority",
    "knet_ping_interval",
    "knet_ping_timeout",
    "knet_ping_precision",
    "knet_pong_count",
    "knet_transport",
];
pub(super) const NODE_KEYS: &[&str] =
    &["nodeid", "name", "quorum_votes", "ring0_addr", "ring1_addr"];
pub(super) const QUORUM_KEYS: &[&str] = &[
    "provider",
    "expected_votes",
    "two_node",
    "wait_for_all",
    "last_man_standing",
    "last_man_standing_window",
    "auto_tie_breaker",
    "auto_tie_breaker_node",
];
pub(super) const QUORUM_UNSUPPORTED: &[&str] =
    &["votes", "allow_downscale", "expected_votes_tracking"];
pub(super) const LOGGING_KEYS: &[&str] = &[
    "to_stderr",
    "to_logfile",
    "logfile",
    "to_syslog",
    "syslog_facility",
    "debug",
    "timestamp",
    "fileline",
    "function_name",
];
pub(super) const LOGGING_UNSUPPORTED: &[&str] =
    &["logfile_priority", "syslog_priority", "blackbox", "tags"];
pub(super) const SUBSYS_KEYS: &[&str] = &["subsys", "debug"];
