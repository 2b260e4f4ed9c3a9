//! Link liveness, as knet does it: every node pings every peer on every
//! link; a link to a peer is up while its pongs come back within half a
//! token timeout. Ring traffic to a peer takes its lowest-numbered link that
//! is up, so one failed link is routed around before the token is lost; with
//! no link known up, traffic goes out on all of them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use baton_ring::local::Link;

/// First bytes of a heartbeat's plaintext; Totem packets begin 0x70 0xBA.
const MAGIC: [u8; 2] = [0x71, 0xBA];
const KIND_PING: u8 = 1;
const KIND_PONG: u8 = 2;
const HEARTBEAT_BYTES: usize = 2 + 1 + 1 + 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heartbeat {
    /// `stamp_us` is the sender's clock, echoed in the pong for the RTT.
    Ping {
        link: u8,
        stamp_us: u64,
    },
    Pong {
        link: u8,
        stamp_us: u64,
    },
}

impl Heartbeat {
    pub fn encode(self) -> Vec<u8> {
        let (kind, link, stamp_us) = match self {
            Heartbeat::Ping { link, stamp_us } => (KIND_PING, link, stamp_us),
            Heartbeat::Pong { link, stamp_us } => (KIND_PONG, link, stamp_us),
        };
        let mut out = Vec::with_capacity(HEARTBEAT_BYTES);
        out.extend_from_slice(&MAGIC);
        out.push(kind);
        out.push(link);
        out.extend_from_slice(&stamp_us.to_be_bytes());
        out
    }

    /// `None` for anything that is not a well-formed heartbeat.
    pub fn decode(plain: &[u8]) -> Option<Heartbeat> {
        let [m0, m1, kind, link, stamp @ ..] = plain else {
            return None;
        };
        if [*m0, *m1] != MAGIC {
            return None;
        }
        let stamp_us = u64::from_be_bytes(stamp.try_into().ok()?);
        match *kind {
            KIND_PING => Some(Heartbeat::Ping {
                link: *link,
                stamp_us,
            }),
            KIND_PONG => Some(Heartbeat::Pong {
                link: *link,
                stamp_us,
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct LinkState {
    last_pong: Instant,
    rtt: Duration,
}

/// What this node knows of its links to every peer.
#[derive(Debug)]
pub struct LinkTable {
    timeout: Duration,
    states: BTreeMap<(u32, u8), LinkState>,
}

impl LinkTable {
    /// Pings every quarter of a token; a link is down after half a token
    /// without a pong (knet's defaults with two pongs per timeout).
    pub fn new(token: Duration) -> LinkTable {
        LinkTable {
            timeout: token / 2,
            states: BTreeMap::new(),
        }
    }

    pub fn ping_period(&self) -> Duration {
        self.timeout / 2
    }

    pub fn pong(&mut self, node: u32, link: u8, now: Instant, rtt: Duration) {
        self.states.insert(
            (node, link),
            LinkState {
                last_pong: now,
                rtt,
            },
        );
    }

    /// The round-trip time of a link that is up.
    pub fn up(&self, node: u32, link: u8, now: Instant) -> Option<Duration> {
        self.states
            .get(&(node, link))
            .filter(|s| now.duration_since(s.last_pong) <= self.timeout)
            .map(|s| s.rtt)
    }

    /// The links ring traffic to `node` goes out on: its lowest link that is
    /// up, or all of them when none is.
    pub fn route<'a>(&self, node: u32, links: &'a [Link], now: Instant) -> &'a [Link] {
        match links
            .iter()
            .position(|l| self.up(node, l.number, now).is_some())
        {
            Some(i) => &links[i..=i],
            None => links,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    fn links() -> Vec<Link> {
        (0..2)
            .map(|number| Link {
                number,
                addr: SocketAddr::from(([10, number, 0, 2], 5405)),
            })
            .collect()
    }

    #[test]
    fn heartbeats_round_trip_and_totem_packets_are_not_heartbeats() {
        let ping = Heartbeat::Ping {
            link: 1,
            stamp_us: 42,
        };
        assert_eq!(Heartbeat::decode(&ping.encode()), Some(ping));
        assert_eq!(
            Heartbeat::decode(&[0x70, 0xBA, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            None
        );
        assert_eq!(Heartbeat::decode(&ping.encode()[..11]), None);
    }

    #[test]
    fn traffic_takes_the_lowest_live_link_and_floods_when_none_is_known() {
        let start = Instant::now();
        let token = Duration::from_millis(1000);
        let mut table = LinkTable::new(token);
        let links = links();
        assert_eq!(table.route(2, &links, start), &links[..]);
        table.pong(2, 0, start, Duration::from_micros(80));
        table.pong(2, 1, start, Duration::from_micros(90));
        assert_eq!(table.route(2, &links, start), &links[..1]);
        let later = start + Duration::from_millis(400);
        table.pong(2, 1, later, Duration::from_micros(90));
        let after_timeout = start + Duration::from_millis(600);
        assert_eq!(table.up(2, 0, after_timeout), None);
        assert_eq!(table.route(2, &links, after_timeout), &links[1..]);
    }
}
