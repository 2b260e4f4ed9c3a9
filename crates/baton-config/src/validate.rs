//! Checks on the whole model, shared by both file formats.

use std::collections::BTreeMap;
use std::net::ToSocketAddrs;

use crate::diag::{Sink, Sources};
use crate::model::{ClusterConfig, CryptoCipher, CryptoHash, TieBreaker, Transport};
use crate::timers::MIN_TIMEOUT_MS;

/// Answers whether a node's host name resolves, so that tests need no DNS.
pub trait Resolver {
    fn resolves(&self, host: &str) -> bool;

    /// Whether `host` resolves, but only to loopback addresses.
    fn loopback_only(&self, _host: &str) -> bool {
        false
    }
}

/// Asks the system resolver (`/etc/hosts`, DNS) through the standard library.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolves(&self, host: &str) -> bool {
        (host, 0)
            .to_socket_addrs()
            .is_ok_and(|mut addrs| addrs.next().is_some())
    }

    fn loopback_only(&self, host: &str) -> bool {
        let Ok(addrs) = (host, 0).to_socket_addrs() else {
            return false;
        };
        let ips: Vec<std::net::IpAddr> = addrs.map(|a| a.ip()).collect();
        !ips.is_empty() && ips.iter().all(std::net::IpAddr::is_loopback)
    }
}

pub(crate) fn validate(c: &ClusterConfig, src: &Sources, sink: &mut Sink, resolver: &dyn Resolver) {
    transport(c, src, sink);
    crypto(c, src, sink);
    nodes(c, src, sink, resolver);
    quorum(c, src, sink);
    timeouts(c, src, sink);
    if c.logging.to_logfile == Some(true) && c.logging.logfile.is_none() {
        sink.error(
            src.line("logging.to_logfile"),
            "to_logfile is on but no logfile is set; add `logfile` with a path",
        );
    }
}

fn timeouts(c: &ClusterConfig, src: &Sources, sink: &mut Sink) {
    let t = &c.totem;
    let timers = c.timers();
    let set = [
        ("token", t.token_ms.map(|_| timers.token_ms)),
        ("join", t.join_ms),
        ("consensus", t.consensus_ms),
        ("merge", t.merge_ms),
    ];
    for (key, value) in set {
        if let Some(ms) = value.filter(|ms| *ms < MIN_TIMEOUT_MS) {
            sink.error(
                src.line(&format!("totem.{key}")),
                format!("{key} is {ms} ms but Totem needs at least {MIN_TIMEOUT_MS} ms; raise it or leave it unset"),
            );
        }
    }
    if timers.consensus_ms < timers.join_ms && timers.consensus_ms >= MIN_TIMEOUT_MS {
        sink.error(
            src.line("totem.consensus").or(src.line("totem.join")),
            format!(
                "consensus ({} ms) is shorter than join ({} ms); raise consensus or lower join",
                timers.consensus_ms, timers.join_ms
            ),
        );
    }
}

fn transport(c: &ClusterConfig, src: &Sources, sink: &mut Sink) {
    let transport = c.effective_transport();
    if c.is_legacy_multicast() {
        sink.notice(
            src.line("totem.interface.0"),
            "no transport is set and the interface has a multicast address, so this is a udp (multicast) cluster as in corosync 1.x/2.x",
        );
    }
    if transport != Transport::Knet && c.totem.interfaces.len() > 1 {
        sink.error(
            src.line("totem.interface.1"),
            format!("transport {transport} supports a single interface; remove the others or use transport knet"),
        );
    }
    let mut links = BTreeMap::new();
    for (i, iface) in c.totem.interfaces.iter().enumerate() {
        let link = iface.effective_link();
        if let Some(first) = links.insert(link, i) {
            sink.error(
                src.line(&format!("totem.interface.{i}")),
                format!(
                    "interfaces {} and {} both configure link {link}; give each a different `linknumber`",
                    first + 1,
                    i + 1
                ),
            );
        }
    }
}

fn crypto(c: &ClusterConfig, src: &Sources, sink: &mut Sink) {
    let (cipher, hash) = c.totem.effective_crypto();
    let line = src
        .line("totem.crypto_cipher")
        .or(src.line("totem.secauth"));
    if cipher != CryptoCipher::None && hash == CryptoHash::None {
        sink.error(
            line,
            format!("crypto_cipher {cipher} needs a crypto_hash to authenticate packets; set crypto_hash, such as sha256"),
        );
    }
    let transport = c.effective_transport();
    if (cipher != CryptoCipher::None || hash != CryptoHash::None) && transport != Transport::Knet {
        // corosync 3 refuses this; 1.x and 2.x configs with `secauth: on`
        // relied on it, and baton seals packets the same on every transport.
        sink.notice(
            line.or(src.line("totem.crypto_hash")),
            format!("packets are encrypted and authenticated with transport {transport} too ({cipher}, {hash}); corosync 3 would refuse this and wants transport knet"),
        );
    }
}

fn nodes(c: &ClusterConfig, src: &Sources, sink: &mut Sink, resolver: &dyn Resolver) {
    let transport = c.effective_transport();
    if c.nodelist.nodes.is_empty() {
        if transport == Transport::Udp {
            sink.notice(None, "there is no nodelist: with multicast (transport udp) the members are discovered at run time");
            if c.quorum.provider.is_none() && c.quorum.expected_votes.is_none() {
                sink.notice(None, "there is no quorum section: as with corosync 1.x and Pacemaker's plugin, quorum is a majority of the most nodes seen at once (at least 2)");
            }
        } else {
            sink.error(
                None,
                format!("transport {transport} needs a nodelist; add a `node` entry with `ring0_addr` and `nodeid` for every node"),
            );
        }
    }
    let mut ids = BTreeMap::new();
    for (i, node) in c.nodelist.nodes.iter().enumerate() {
        let at = format!("nodelist.node.{i}");
        let line = src.line(&at);
        if node.addrs.is_empty() {
            sink.error(
                line,
                format!("node {} has no address; add `ring0_addr`", i + 1),
            );
        }
        match node.nodeid {
            Some(id) => {
                if let Some(first) = ids.insert(id, i) {
                    sink.error(
                        src.line(&format!("{at}.nodeid")),
                        format!(
                            "nodes {} and {} both have nodeid {id}; node ids must be unique",
                            first + 1,
                            i + 1
                        ),
                    );
                }
            }
            None if transport == Transport::Knet => sink.error(
                line,
                format!(
                    "node {} has no valid nodeid, which transport knet requires; add `nodeid` with a number unique in the cluster",
                    i + 1
                ),
            ),
            None => {}
        }
        for (link, addr) in &node.addrs {
            if addr.ip().is_some() {
                continue;
            }
            let line = src.line(&format!("{at}.ring{link}_addr"));
            if !resolver.resolves(&addr.0) {
                sink.warning(
                    line,
                    format!("host name `{addr}` does not resolve on this machine; add it to /etc/hosts or DNS before starting the cluster"),
                );
            } else if resolver.loopback_only(&addr.0) {
                // Debian's /etc/hosts maps the host's own name to 127.0.1.1:
                // corosync users know it as the node that stays UNCLEAN.
                sink.warning(
                    line,
                    format!("host name `{addr}` resolves only to a loopback address on this machine (Debian's /etc/hosts maps the host's own name to 127.0.1.1): the ring would listen there and never reach the other nodes; map `{addr}` to this node's network address in /etc/hosts"),
                );
            }
        }
    }
}

fn quorum(c: &ClusterConfig, src: &Sources, sink: &mut Sink) {
    let q = &c.quorum;
    if q.provider.is_none() {
        sink.notice(
            src.line("quorum"),
            "no quorum provider is set, so there is no votequorum and the cluster is always quorate; set `provider: corosync_votequorum` to enable quorum",
        );
        let rest = crate::model::Quorum {
            provider: None,
            ..q.clone()
        };
        if rest != crate::model::Quorum::default() {
            sink.warning(
                None,
                "quorum options are ignored without `provider: corosync_votequorum`",
            );
        }
        return;
    }
    let nodes = c.nodelist.nodes.len();
    if q.two_node == Some(true) && nodes > 2 {
        sink.warning(
            src.line("quorum.two_node"),
            format!("two_node is ignored because the nodelist has {nodes} nodes; it only applies to two-node clusters"),
        );
    }
    if let Some(TieBreaker::Nodes(ids)) = &q.auto_tie_breaker_node {
        for id in ids {
            if !c.nodelist.nodes.iter().any(|n| n.nodeid == Some(*id)) {
                sink.warning(
                    src.line("quorum.auto_tie_breaker_node"),
                    format!("auto_tie_breaker_node lists node {id}, which is not in the nodelist"),
                );
            }
        }
    }
}
