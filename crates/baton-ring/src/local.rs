//! Which nodelist entry is this host, and the Totem node ids of all entries.

use std::net::{IpAddr, SocketAddr};

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
    config
        .nodelist
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| member(index, node, port))
        .collect()
}

fn member(index: usize, node: &Node, port: impl Fn(u8) -> u16) -> Result<Member, LocalError> {
    let node_id = node
        .nodeid
        .ok_or(LocalError::MissingNodeId { index })?
        .get();
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
