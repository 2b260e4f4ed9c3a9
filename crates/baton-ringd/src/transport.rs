//! The network side of ringd: one UDP socket per configured link, every
//! datagram sealed with the authkey, per-source drop counters, and link
//! heartbeats that choose which link carries ring traffic to each peer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::{Duration, Instant};

use anyhow::Context;
use baton_proto::ring::{Peer, PeerLink};
use baton_ring::local::{Link, Member, MulticastGroup};
use baton_ring::seal::{OpenError, Sealer};
use baton_totem::{Destination, NodeId};
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;

use crate::links::{Heartbeat, LinkTable};

/// At most one drop warning per source in this window, so a flood cannot
/// flood the log too.
const DROP_LOG_INTERVAL: Duration = Duration::from_secs(10);
/// Unknown sources are counted too, but the table cannot grow without bound.
const TRACKED_SOURCES_MAX: usize = 1024;

/// Why packets from one address were dropped.
#[derive(Debug, Default, Clone, Copy)]
pub struct DropCounters {
    pub auth_failures: u64,
    pub decode_failures: u64,
    last_logged: Option<Instant>,
}

#[derive(Debug)]
struct LinkSocket {
    number: u8,
    socket: UdpSocket,
}

pub struct Transport {
    me: u32,
    sockets: Vec<LinkSocket>,
    sealer: Sealer,
    peers: Vec<Member>,
    /// Every configured address: whose it is and on which link.
    by_addr: HashMap<SocketAddr, (NodeId, u8)>,
    drops: HashMap<SocketAddr, DropCounters>,
    links: LinkTable,
    /// Set for the udp transport: broadcasts go to this group once, and
    /// peers are learned from the authenticated packets they send.
    multicast: Option<MulticastGroup>,
    epoch: Instant,
    /// Which socket to poll first, rotated so no link starves another.
    next_poll: usize,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("me", &self.me)
            .field("links", &self.sockets.len())
            .finish_non_exhaustive()
    }
}

/// What a datagram turned out to be.
pub enum Received {
    /// An authenticated packet for the Totem core, which decodes it.
    Totem { from: NodeId, plain: Vec<u8> },
    /// A heartbeat (handled) or a dropped packet (counted).
    Handled,
}

impl Transport {
    /// Binds the local node's address on each of its links (unicast), or
    /// joins the multicast group on its link-0 address.
    pub async fn bind(
        local: &Member,
        peers: Vec<Member>,
        sealer: Sealer,
        token: Duration,
        multicast: Option<MulticastGroup>,
    ) -> anyhow::Result<Transport> {
        let mut sockets = Vec::new();
        if let Some(group) = multicast {
            sockets.push(LinkSocket {
                number: 0,
                socket: join_group(local.addr, group)?,
            });
        }
        for link in local.links.iter().filter(|_| multicast.is_none()) {
            let socket = UdpSocket::bind(link.addr).await.with_context(|| {
                format!(
                    "cannot bind UDP {} for link {}; is another ringd running or the address missing?",
                    link.addr, link.number
                )
            })?;
            sockets.push(LinkSocket {
                number: link.number,
                socket,
            });
        }
        let by_addr = peers
            .iter()
            .flat_map(|m| {
                m.links
                    .iter()
                    .map(|l| (l.addr, (NodeId(m.node_id), l.number)))
            })
            .collect();
        Ok(Transport {
            me: local.node_id,
            sockets,
            sealer,
            peers,
            by_addr,
            drops: HashMap::new(),
            links: LinkTable::new(token),
            multicast,
            epoch: Instant::now(),
            next_poll: 0,
        })
    }

    pub fn ping_period(&self) -> Duration {
        self.links.ping_period()
    }

    /// The next datagram from any link: (socket index, length, source).
    pub async fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<(usize, usize, SocketAddr)> {
        let start = self.next_poll;
        self.next_poll = (start + 1) % self.sockets.len().max(1);
        let sockets = &self.sockets;
        std::future::poll_fn(|cx| {
            for offset in 0..sockets.len() {
                let index = (start + offset) % sockets.len();
                let mut read = ReadBuf::new(&mut *buf);
                match sockets[index].socket.poll_recv_from(cx, &mut read) {
                    Poll::Ready(Ok(from)) => {
                        return Poll::Ready(Ok((index, read.filled().len(), from)));
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => {}
                }
            }
            Poll::Pending
        })
        .await
    }

    /// Opens a datagram that arrived on socket `index`. Returns whether the
    /// drop counters changed, with what the datagram was.
    pub fn open(&mut self, index: usize, from: SocketAddr, packet: &[u8]) -> (Received, bool) {
        let known = self.by_addr.get(&from).map(|&(node, _)| node);
        if known.is_none() && self.multicast.is_none() {
            return (
                Received::Handled,
                self.count_drop(from, "not in the nodelist", |c| &mut c.auth_failures),
            );
        }
        let plain = match self.sealer.open(packet) {
            Ok(plain) => plain,
            Err(OpenError::BadCiphertext) => {
                return (
                    Received::Handled,
                    self.count_drop(from, "malformed ciphertext", |c| &mut c.decode_failures),
                );
            }
            Err(error) => {
                let why = if matches!(error, OpenError::Truncated) {
                    "truncated"
                } else {
                    "failed authentication"
                };
                return (
                    Received::Handled,
                    self.count_drop(from, why, |c| &mut c.auth_failures),
                );
            }
        };
        let node = match known {
            Some(node) => node,
            None => match self.learn(from, &plain) {
                Some(node) => node,
                None => return (Received::Handled, false),
            },
        };
        if let Some(heartbeat) = Heartbeat::decode(&plain) {
            self.heartbeat(index, node, from, heartbeat);
            return (Received::Handled, false);
        }
        (Received::Totem { from: node, plain }, false)
    }

    /// On a multicast ring, a new source that authenticated is a peer: its
    /// node id is the sender its Totem packet names.
    fn learn(&mut self, from: SocketAddr, plain: &[u8]) -> Option<NodeId> {
        let sender = baton_totem::codec::decode(plain).ok()?.sender;
        if sender.0 == self.me || sender.0 == 0 {
            return None;
        }
        // A node that came back on another address replaces its old entry.
        self.by_addr.retain(|_, (node, _)| *node != sender);
        self.peers.retain(|p| p.node_id != sender.0);
        self.by_addr.insert(from, (sender, 0));
        self.peers.push(Member {
            node_id: sender.0,
            name: String::new(),
            votes: 1,
            addr: from,
            links: vec![Link {
                number: 0,
                addr: from,
            }],
        });
        tracing::info!(node = sender.0, address = %from, "learned a peer from the multicast group");
        Some(sender)
    }

    fn heartbeat(&mut self, index: usize, node: NodeId, from: SocketAddr, heartbeat: Heartbeat) {
        match heartbeat {
            Heartbeat::Ping { link, stamp_us } => {
                let pong = Heartbeat::Pong { link, stamp_us }.encode();
                self.send_sealed_on(index, &pong, from);
            }
            Heartbeat::Pong { link, stamp_us } => {
                let now_us = self.epoch.elapsed().as_micros() as u64;
                let rtt = Duration::from_micros(now_us.saturating_sub(stamp_us));
                self.links.pong(node.0, link, Instant::now(), rtt);
            }
        }
    }

    /// Pings every peer on every link both ends have.
    pub fn ping_all(&mut self) {
        let stamp_us = self.epoch.elapsed().as_micros() as u64;
        for peer in self.peers.iter().filter(|p| p.node_id != self.me) {
            for link in &peer.links {
                let Some(index) = self.sockets.iter().position(|s| s.number == link.number) else {
                    continue;
                };
                let ping = Heartbeat::Ping {
                    link: link.number,
                    stamp_us,
                }
                .encode();
                self.send_sealed_on(index, &ping, link.addr);
            }
        }
    }

    fn send_sealed_on(&self, index: usize, plain: &[u8], to: SocketAddr) {
        match self.sealer.seal(plain) {
            // A heartbeat that does not fit the socket buffer now is simply
            // lost, as on the wire.
            Ok(sealed) => drop(self.sockets[index].socket.try_send_to(&sealed, to)),
            Err(error) => tracing::error!(%error, "cannot seal a heartbeat"),
        }
    }

    /// Seals a Totem packet once and sends it to each target on the link
    /// its route takes.
    pub async fn send(&self, to: Destination, packet: &[u8]) {
        let sealed = match self.sealer.seal(packet) {
            Ok(sealed) => sealed,
            Err(error) => {
                tracing::error!(%error, "cannot seal a packet");
                return;
            }
        };
        if let (Some(group), Destination::Broadcast) = (self.multicast, &to) {
            if let Err(error) = self.sockets[0].socket.send_to(&sealed, group.group).await {
                tracing::debug!(group = %group.group, %error, "multicast send failed");
            }
            return;
        }
        let now = Instant::now();
        let targets = self.peers.iter().filter(|m| match &to {
            Destination::Node(node) => node.0 == m.node_id,
            Destination::Broadcast => m.node_id != self.me,
        });
        for peer in targets {
            for link in self.links.route(peer.node_id, &peer.links, now) {
                let Some(socket) = self.socket_for(link) else {
                    continue;
                };
                // UDP is lossy anyway; Totem retransmits what a failed send lost.
                if let Err(error) = socket.send_to(&sealed, link.addr).await {
                    tracing::debug!(peer = %link.addr, %error, "send failed");
                }
            }
        }
    }

    fn socket_for(&self, link: &Link) -> Option<&UdpSocket> {
        self.sockets
            .iter()
            .find(|s| s.number == link.number)
            .map(|s| &s.socket)
    }

    /// Counts a packet the core rejected against its source.
    pub fn count_rejected(&mut self, from: SocketAddr, rejected: &baton_totem::Rejected) -> bool {
        let why = rejected.to_string();
        self.count_drop(from, &why, |c| &mut c.decode_failures)
    }

    fn count_drop(
        &mut self,
        from: SocketAddr,
        why: &str,
        counter: fn(&mut DropCounters) -> &mut u64,
    ) -> bool {
        if !self.drops.contains_key(&from) && self.drops.len() >= TRACKED_SOURCES_MAX {
            return false;
        }
        let entry = self.drops.entry(from).or_default();
        *counter(entry) += 1;
        let now = Instant::now();
        if entry
            .last_logged
            .is_none_or(|at| now.duration_since(at) >= DROP_LOG_INTERVAL)
        {
            entry.last_logged = Some(now);
            tracing::warn!(peer = %from, why, auth_failures = entry.auth_failures, decode_failures = entry.decode_failures, "dropped packet");
        }
        true
    }

    /// Every configured peer, then unknown sources that sent packets, with
    /// drop counters and link status.
    pub fn peer_status(&self) -> Vec<Peer> {
        let now = Instant::now();
        let drops = |addr: &SocketAddr| self.drops.get(addr).copied().unwrap_or_default();
        let mut peers: Vec<Peer> = self
            .peers
            .iter()
            .map(|m| {
                let mut counters = DropCounters::default();
                for link in &m.links {
                    counters.auth_failures += drops(&link.addr).auth_failures;
                    counters.decode_failures += drops(&link.addr).decode_failures;
                }
                Peer {
                    node_id: m.node_id,
                    address: m.addr.to_string(),
                    auth_failures: counters.auth_failures,
                    decode_failures: counters.decode_failures,
                    links: m
                        .links
                        .iter()
                        .map(|l| {
                            let rtt = self.links.up(m.node_id, l.number, now);
                            PeerLink {
                                link: u32::from(l.number),
                                address: l.addr.to_string(),
                                connected: m.node_id == self.me || rtt.is_some(),
                                rtt_us: rtt.map_or(0, |r| r.as_micros() as u64),
                            }
                        })
                        .collect(),
                }
            })
            .chain(
                self.drops
                    .iter()
                    .filter(|(a, _)| !self.by_addr.contains_key(a))
                    .map(|(addr, d)| Peer {
                        node_id: 0,
                        address: addr.to_string(),
                        auth_failures: d.auth_failures,
                        decode_failures: d.decode_failures,
                        links: Vec::new(),
                    }),
            )
            .collect();
        peers.sort_by(|a, b| {
            (a.node_id == 0, a.node_id, &a.address).cmp(&(b.node_id == 0, b.node_id, &b.address))
        });
        peers
    }
}

/// A socket for a multicast ring: bound to the group's port on every
/// address (group traffic and unicast tokens both arrive there), member of
/// the group on the local address, sending from it with the configured TTL.
fn join_group(local: SocketAddr, group: MulticastGroup) -> anyhow::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let (std::net::IpAddr::V4(local_ip), std::net::IpAddr::V4(group_ip)) =
        (local.ip(), group.group.ip())
    else {
        anyhow::bail!("the udp (multicast) transport supports IPv4 only");
    };
    let context = || format!("cannot join multicast group {} on {local_ip}", group.group);
    let socket =
        Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).with_context(context)?;
    socket.set_reuse_address(true).with_context(context)?;
    socket
        .bind(&SocketAddr::from(([0, 0, 0, 0], group.group.port())).into())
        .with_context(context)?;
    socket
        .join_multicast_v4(&group_ip, &local_ip)
        .with_context(context)?;
    socket
        .set_multicast_if_v4(&local_ip)
        .with_context(context)?;
    socket
        .set_multicast_ttl_v4(u32::from(group.ttl))
        .with_context(context)?;
    socket.set_multicast_loop_v4(false).with_context(context)?;
    socket.set_nonblocking(true).with_context(context)?;
    UdpSocket::from_std(socket.into()).with_context(context)
}
