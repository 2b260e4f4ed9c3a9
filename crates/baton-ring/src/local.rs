//! Which nodelist entry is this host, and the Totem node ids of all entries.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use baton_config::{ClusterConfig, Node};

/// One configured member as ringd uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub node_id: u32,
    pub name: String,
    pub votes: u32,
    /// Its lowest-numbered link's address (normally ring0_addr:port).
    pub addr: SocketAddr,
    /// Every link (ringN_addr), ascending by link number.
    pub links: Vec<Link>,
}

/// One network path to a member: knet's link N, corosync's ringN_addr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub number: u8,
    pub addr: SocketAddr,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LocalError {
    #[error("nodelist entry {index} has no nodeid; add nodeid to every node")]
    MissingNodeId { index: usize },
    #[error("node {node_id} has no ring0_addr that is an IP address; set ring0_addr to an address")]
    NoAddress { node_id: u32 },
    #[error("node {node_id}'s ring{link}_addr is not an IP address; write the address, not a name")]
    LinkNotAnAddress { node_id: u32, link: u8 },
    #[error("no node named or numbered {0:?} in the nodelist; check --node")]
    UnknownNode(String),
    #[error("this host matches no nodelist entry by hostname or address; pass --node NAME")]
    NotInNodelist,
    #[error(
        "the udp (multicast) transport needs an interface with bindnetaddr and mcastaddr (IPv4)"
    )]
    NoMulticastInterface,
    #[error(
        "no local IPv4 address is in bindnetaddr {0}'s network; set bindnetaddr to this node's network"
    )]
    NoAddressInBindnet(Ipv4Addr),
}

/// Every nodelist entry with its id, name, votes and UDP addresses.
pub fn members(config: &ClusterConfig) -> Result<Vec<Member>, LocalError> {
    let port = |link: u8| {
        config
            .totem
            .interfaces
            .iter()
            .find(|i| i.effective_link().get() == link)
            .map_or(baton_config::BASE_PORT + u16::from(link), |i| {
                i.effective_mcastport()
            })
    };
    // corosync 1.x/2.x numbered udp and udpu nodes by their IPv4 address.
    let ids_from_addresses = config.effective_transport() != baton_config::Transport::Knet;
    config
        .nodelist
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| member(index, node, ids_from_addresses, port))
        .collect()
}

fn member(
    index: usize,
    node: &Node,
    ids_from_addresses: bool,
    port: impl Fn(u8) -> u16,
) -> Result<Member, LocalError> {
    let from_address = || match node.addrs.values().next().and_then(|a| a.ip()) {
        Some(IpAddr::V4(ip)) if ids_from_addresses => Some(u32::from(ip)),
        _ => None,
    };
    let node_id = node
        .nodeid
        .map(|id| id.get())
        .or_else(from_address)
        .ok_or(LocalError::MissingNodeId { index })?;
    let links = node
        .addrs
        .iter()
        .map(|(link, addr)| {
            let number = link.get();
            addr.ip()
                .map(|ip| Link {
                    number,
                    addr: SocketAddr::new(ip, port(number)),
                })
                .ok_or(if number == 0 {
                    LocalError::NoAddress { node_id }
                } else {
                    LocalError::LinkNotAnAddress {
                        node_id,
                        link: number,
                    }
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let first = *links.first().ok_or(LocalError::NoAddress { node_id })?;
    let name = node
        .name
        .clone()
        .unwrap_or_else(|| first.addr.ip().to_string());
    Ok(Member {
        node_id,
        name,
        votes: node.effective_votes(),
        addr: first.addr,
        links,
    })
}

/// Where a multicast (udp transport) ring meets: group address and port,
/// and the TTL of its packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MulticastGroup {
    pub group: SocketAddr,
    pub ttl: u8,
}

/// The multicast group of link 0, for the udp transport.
pub fn multicast_group(config: &ClusterConfig) -> Result<MulticastGroup, LocalError> {
    let interface = config
        .totem
        .interfaces
        .iter()
        .find(|i| i.effective_link().get() == 0)
        .ok_or(LocalError::NoMulticastInterface)?;
    match interface.mcastaddr {
        Some(IpAddr::V4(group)) if group.is_multicast() => Ok(MulticastGroup {
            group: SocketAddr::new(IpAddr::V4(group), interface.effective_mcastport()),
            ttl: interface.effective_ttl(),
        }),
        _ => Err(LocalError::NoMulticastInterface),
    }
}

/// This node on a multicast ring without a nodelist, as corosync 1.x/2.x
/// found it: the local address inside bindnetaddr's network (`local_nets`
/// holds each local IPv4 address with its prefix length), node id = that
/// address as a 32-bit number, named by the host name.
pub fn discover_local(
    config: &ClusterConfig,
    local_nets: &[(Ipv4Addr, u8)],
    hostname: &str,
) -> Result<Member, LocalError> {
    let interface = config
        .totem
        .interfaces
        .iter()
        .find(|i| i.effective_link().get() == 0)
        .ok_or(LocalError::NoMulticastInterface)?;
    let Some(IpAddr::V4(bindnet)) = interface.bindnetaddr else {
        return Err(LocalError::NoMulticastInterface);
    };
    let mask = |prefix: u8| {
        u32::MAX
            .checked_shl(32 - u32::from(prefix.min(32)))
            .unwrap_or(0)
    };
    let ip = local_nets
        .iter()
        .find(|(ip, prefix)| u32::from(*ip) & mask(*prefix) == u32::from(bindnet) & mask(*prefix))
        .map(|(ip, _)| *ip)
        .ok_or(LocalError::NoAddressInBindnet(bindnet))?;
    let addr = SocketAddr::new(IpAddr::V4(ip), interface.effective_mcastport());
    Ok(Member {
        node_id: u32::from(ip),
        name: if hostname.is_empty() {
            ip.to_string()
        } else {
            hostname.to_owned()
        },
        votes: 1,
        addr,
        links: vec![Link { number: 0, addr }],
    })
}

/// With `--node NAME` naming no entry: the local entry (by address) when
/// the config gives it no name (1.x/2.x member lists), named `wanted`.
pub fn select_unnamed(
    config: &ClusterConfig,
    members: &[Member],
    wanted: &str,
    local_ips: &[IpAddr],
) -> Result<Member, LocalError> {
    members
        .iter()
        .zip(&config.nodelist.nodes)
        .find(|(m, node)| node.name.is_none() && local_ips.contains(&m.addr.ip()))
        .map(|(m, _)| Member {
            name: wanted.to_owned(),
            ..m.clone()
        })
        .ok_or_else(|| LocalError::UnknownNode(wanted.to_owned()))
}

/// `wanted` (a name or node id) if given, else the entry named like
/// `hostname`, else the first entry whose address is one of `local_ips`.
pub fn select<'a>(
    members: &'a [Member],
    wanted: Option<&str>,
    hostname: &str,
    local_ips: &[IpAddr],
) -> Result<&'a Member, LocalError> {
    if let Some(wanted) = wanted {
        return members
            .iter()
            .find(|m| m.name == wanted || m.node_id.to_string() == wanted)
            .ok_or_else(|| LocalError::UnknownNode(wanted.to_owned()));
    }
    let short = hostname.split('.').next().unwrap_or(hostname);
    members
        .iter()
        .find(|m| m.name == hostname || m.name == short)
        .or_else(|| members.iter().find(|m| local_ips.contains(&m.addr.ip())))
        .ok_or(LocalError::NotInNodelist)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(node_id: u32, name: &str, ip: &str) -> Member {
        let addr = SocketAddr::new(ip.parse().expect("ip"), 5405);
        Member {
            node_id,
            name: name.into(),
            votes: 1,
            addr,
            links: vec![Link { number: 0, addr }],
        }
    }

    #[test]
    fn a_multicast_node_is_its_address_in_bindnetaddrs_network() {
        let text = "totem {\n version: 2\n interface {\n  ringnumber: 0\n  bindnetaddr: 192.168.1.0\n  mcastaddr: 239.255.1.1\n  mcastport: 5405\n }\n}\n";
        let config = baton_config::load_str(
            text,
            std::path::Path::new("corosync.conf"),
            baton_config::Format::Corosync,
            &baton_config::SystemResolver,
        )
        .expect("parses")
        .config;
        let nets = [
            (Ipv4Addr::new(10, 0, 0, 5), 8),
            (Ipv4Addr::new(192, 168, 1, 23), 24),
        ];
        let me = discover_local(&config, &nets, "web1").expect("found");
        assert_eq!(me.node_id, u32::from(Ipv4Addr::new(192, 168, 1, 23)));
        assert_eq!(me.addr, "192.168.1.23:5405".parse().expect("addr"));
        assert_eq!(me.name, "web1");
        assert_eq!(
            discover_local(&config, &nets[..1], "web1"),
            Err(LocalError::NoAddressInBindnet(Ipv4Addr::new(
                192, 168, 1, 0
            )))
        );
        let group = multicast_group(&config).expect("group");
        assert_eq!(group.group, "239.255.1.1:5405".parse().expect("addr"));
        assert_eq!(group.ttl, 1);
    }

    #[test]
    fn selection_order_is_flag_then_hostname_then_address() {
        let all = [m(1, "a", "10.0.0.1"), m(2, "b", "10.0.0.2")];
        let local: [IpAddr; 1] = ["10.0.0.2".parse().expect("ip")];
        assert_eq!(
            select(&all, Some("1"), "b", &local).map(|m| m.node_id),
            Ok(1)
        );
        assert_eq!(select(&all, Some("b"), "x", &[]).map(|m| m.node_id), Ok(2));
        assert_eq!(
            select(&all, None, "a.example.com", &local).map(|m| m.node_id),
            Ok(1)
        );
        assert_eq!(select(&all, None, "x", &local).map(|m| m.node_id), Ok(2));
        assert_eq!(select(&all, None, "x", &[]), Err(LocalError::NotInNodelist));
        assert!(select(&all, Some("c"), "a", &[]).is_err());
    }
}
