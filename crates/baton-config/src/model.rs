//! The cluster configuration as the user wrote it.
//!
//! Every setting is an `Option`: `None` means "not written", so the defaults
//! (see [`crate::timers`] and the `effective_*` methods) still apply and
//! `import` never freezes a default into the generated file. The same types
//! are the `cluster.toml` schema, which is why they carry serde attributes.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// An enum whose values are fixed words in both file formats. One table
/// drives parsing, printing and serde so the spellings cannot drift apart.
macro_rules! keywords {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const WORDS: &'static [&'static str] = &[$($word),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)+
                }
            }

            pub fn from_word(word: &str) -> Option<Self> {
                match word {
                    $($word => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(word: String) -> Result<Self, String> {
                Self::from_word(&word).ok_or_else(|| {
                    format!("`{word}` is not valid here; expected one of: {}", Self::WORDS.join(", "))
                })
            }
        }

        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str {
                v.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Where the authkey lives when `keyfile` is not set.
pub const DEFAULT_KEYFILE: &str = "/etc/baton/authkey";
/// Where corosync reads its authkey when a corosync.conf sets no `keyfile`.
pub const COROSYNC_KEYFILE: &str = "/etc/corosync/authkey";
/// The first link's port; link `n` uses `BASE_PORT + n` (broadcast: `+ 2n`).
pub const BASE_PORT: u16 = 5405;
/// knet supports eight links, numbered 0..=7.
pub const MAX_LINKS: u8 = 8;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    #[serde(default, skip_serializing_if = "Totem::is_unset")]
    pub totem: Totem,
    #[serde(default, skip_serializing_if = "Nodelist::is_unset")]
    pub nodelist: Nodelist,
    #[serde(default, skip_serializing_if = "Quorum::is_unset")]
    pub quorum: Quorum,
    #[serde(default, skip_serializing_if = "Logging::is_unset")]
    pub logging: Logging,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    #[serde(rename = "token", skip_serializing_if = "Option::is_none")]
    pub token_ms: Option<u64>,
    #[serde(rename = "token_coefficient", skip_serializing_if = "Option::is_none")]
    pub token_coefficient_ms: Option<u64>,
    #[serde(rename = "consensus", skip_serializing_if = "Option::is_none")]
    pub consensus_ms: Option<u64>,
    #[serde(rename = "join", skip_serializing_if = "Option::is_none")]
    pub join_ms: Option<u64>,
    #[serde(rename = "merge", skip_serializing_if = "Option::is_none")]
    pub merge_ms: Option<u64>,
    #[serde(rename = "send_join", skip_serializing_if = "Option::is_none")]
    pub send_join_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_messages: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_recv_const: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seqno_unchanged_const: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_retransmits_before_loss_const: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secauth: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crypto_cipher: Option<CryptoCipher>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crypto_hash: Option<CryptoHash>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyfile: Option<PathBuf>,
    #[serde(rename = "interface", default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<Interface>,
}

impl Totem {
    fn is_unset(&self) -> bool {
        *self == Self::default()
    }

    /// `secauth: on` means aes256 + sha256; an explicit `crypto_*` wins.
    pub fn effective_crypto(&self) -> (CryptoCipher, CryptoHash) {
        let on = self.secauth == Some(true);
        let cipher = self.crypto_cipher.unwrap_or(if on {
            CryptoCipher::Aes256
        } else {
            CryptoCipher::None
        });
        let hash = self.crypto_hash.unwrap_or(if on {
            CryptoHash::Sha256
        } else {
            CryptoHash::None
        });
        (cipher, hash)
    }

    /// `keyfile`, else where the stack that reads this kind of file keeps
    /// its key: corosync's `/etc/corosync/authkey` for a corosync.conf (so
    /// a corosync cluster's key is used as it is), baton's own otherwise.
    pub fn effective_keyfile(&self, format: crate::Format) -> PathBuf {
        let default = match format {
            crate::Format::Corosync => COROSYNC_KEYFILE,
            crate::Format::Toml => DEFAULT_KEYFILE,
        };
        self.keyfile
            .clone()
            .unwrap_or_else(|| PathBuf::from(default))
    }
}

keywords! {
    /// How Totem packets travel.
    Transport {
        Knet = "knet",
        Udpu = "udpu",
        /// Multicast, the corosync 1.x/2.x default.
        Udp = "udp",
    }
}

keywords! {
    CryptoCipher {
        None = "none",
        Aes128 = "aes128",
        Aes192 = "aes192",
        Aes256 = "aes256",
    }
}

keywords! {
    CryptoHash {
        None = "none",
        Md5 = "md5",
        Sha1 = "sha1",
        Sha256 = "sha256",
        Sha384 = "sha384",
        Sha512 = "sha512",
    }
}

/// A knet link number, 0..=7.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "u8", into = "u8")]
pub struct LinkNumber(u8);

impl LinkNumber {
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for LinkNumber {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        if n < MAX_LINKS {
            Ok(Self(n))
        } else {
            Err(format!(
                "link number {n} is out of range; expected 0 to {}",
                MAX_LINKS - 1
            ))
        }
    }
}

impl From<LinkNumber> for u8 {
    fn from(l: LinkNumber) -> u8 {
        l.0
    }
}

impl fmt::Display for LinkNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linknumber: Option<LinkNumber>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bindnetaddr: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcastaddr: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcastport: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<bool>,
}

impl Interface {
    /// 1.x/2.x interfaces had no link number (`ringnumber` is ignored), so they are link 0.
    pub fn effective_link(&self) -> LinkNumber {
        self.linknumber.unwrap_or_default()
    }

    pub fn effective_mcastport(&self) -> u16 {
        let link = u16::from(self.effective_link().get());
        let step = if self.broadcast == Some(true) { 2 } else { 1 };
        self.mcastport.unwrap_or(BASE_PORT + step * link)
    }

    pub fn effective_ttl(&self) -> u8 {
        self.ttl.unwrap_or(1)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nodelist {
    #[serde(rename = "node", default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<Node>,
}

impl Nodelist {
    fn is_unset(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// A node id as corosync numbers nodes: a non-zero u32.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct NodeId(u32);

impl NodeId {
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for NodeId {
    type Error = &'static str;
    fn try_from(n: u32) -> Result<Self, Self::Error> {
        if n == 0 {
            Err("node id 0 is reserved; expected a number from 1 to 4294967295")
        } else {
            Ok(Self(n))
        }
    }
}

impl From<NodeId> for u32 {
    fn from(id: NodeId) -> u32 {
        id.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A node address as written: an IP address or a host name (resolved at run time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeAddr(pub String);

impl NodeAddr {
    pub fn ip(&self) -> Option<IpAddr> {
        self.0.parse().ok()
    }
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    from = "crate::toml_schema::NodeToml",
    into = "crate::toml_schema::NodeToml"
)]
pub struct Node {
    pub nodeid: Option<NodeId>,
    pub name: Option<String>,
    pub quorum_votes: Option<u32>,
    /// `ringX_addr` by link number.
    pub addrs: BTreeMap<LinkNumber, NodeAddr>,
}

impl Node {
    pub fn effective_votes(&self) -> u32 {
        self.quorum_votes.unwrap_or(1)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quorum {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<QuorumProvider>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_votes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub two_node: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_for_all: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_man_standing: Option<bool>,
    #[serde(
        rename = "last_man_standing_window",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_man_standing_window_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_tie_breaker: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_tie_breaker_node: Option<TieBreaker>,
}

impl Quorum {
    fn is_unset(&self) -> bool {
        *self == Self::default()
    }
}

keywords! {
    QuorumProvider {
        Votequorum = "corosync_votequorum",
    }
}

/// Which half wins an exact split under `auto_tie_breaker`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TieBreaker {
    #[default]
    Lowest,
    Highest,
    /// Checked in order.
    Nodes(Vec<NodeId>),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_stderr: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_logfile: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logfile: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_syslog: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syslog_facility: Option<SyslogFacility>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug: Option<DebugLevel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fileline: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_name: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logger_subsys: Vec<LoggerSubsys>,
}

impl Logging {
    fn is_unset(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggerSubsys {
    pub subsys: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug: Option<DebugLevel>,
}

keywords! {
    DebugLevel {
        Off = "off",
        On = "on",
        Trace = "trace",
    }
}

keywords! {
    Timestamp {
        Off = "off",
        On = "on",
        Hires = "hires",
    }
}

keywords! {
    SyslogFacility {
        Daemon = "daemon",
        User = "user",
        Local0 = "local0",
        Local1 = "local1",
        Local2 = "local2",
        Local3 = "local3",
        Local4 = "local4",
        Local5 = "local5",
        Local6 = "local6",
        Local7 = "local7",
    }
}

impl ClusterConfig {
    /// An unset transport is knet, except for a 1.x/2.x file that only has a
    /// multicast interface and no nodes: that was udp then, and still is.
    pub fn effective_transport(&self) -> Transport {
        self.totem
            .transport
            .unwrap_or(if self.is_legacy_multicast() {
                Transport::Udp
            } else {
                Transport::Knet
            })
    }

    pub(crate) fn is_legacy_multicast(&self) -> bool {
        self.totem.transport.is_none()
            && self.nodelist.nodes.is_empty()
            && self
                .totem
                .interfaces
                .iter()
                .any(|i| i.mcastaddr.is_some() || i.broadcast == Some(true))
    }

    /// votequorum ignores two_node once more than two nodes are configured.
    pub fn effective_two_node(&self) -> bool {
        self.quorum.two_node == Some(true) && self.nodelist.nodes.len() <= 2
    }

    /// two_node turns wait_for_all on unless it is set explicitly.
    pub fn effective_wait_for_all(&self) -> bool {
        self.quorum
            .wait_for_all
            .unwrap_or(self.quorum.two_node == Some(true))
    }

    pub fn effective_expected_votes(&self) -> u32 {
        self.quorum.expected_votes.unwrap_or_else(|| {
            self.nodelist
                .nodes
                .iter()
                .map(Node::effective_votes)
                .fold(0, u32::saturating_add)
        })
    }
}
