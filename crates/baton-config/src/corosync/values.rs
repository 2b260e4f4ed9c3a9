//! Value syntax of corosync.conf. Each parser returns what was expected on failure.

use std::net::IpAddr;

use crate::model::{LinkNumber, NodeId, TieBreaker};

pub(crate) type Parsed<T> = Result<T, String>;

pub(crate) fn millis(v: &str) -> Parsed<u64> {
    v.parse()
        .map_err(|_| "a whole number of milliseconds, such as 3000".into())
}

pub(crate) fn count(v: &str) -> Parsed<u32> {
    v.parse().map_err(|_| "a whole number, such as 50".into())
}

/// votequorum flags are numbers, not words.
pub(crate) fn flag(v: &str) -> Parsed<bool> {
    match v {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err("0 or 1 (quorum options are numbers, not yes/no)".into()),
    }
}

pub(crate) fn yes_no(v: &str) -> Parsed<bool> {
    match v {
        "yes" | "on" => Ok(true),
        "no" | "off" => Ok(false),
        _ => Err("yes or no".into()),
    }
}

pub(crate) fn text(v: &str) -> Parsed<String> {
    if v.is_empty() {
        Err("a non-empty value".into())
    } else {
        Ok(v.to_owned())
    }
}

pub(crate) fn ip(v: &str) -> Parsed<IpAddr> {
    v.parse()
        .map_err(|_| "an IP address, such as 192.168.1.0".into())
}

pub(crate) fn port(v: &str) -> Parsed<u16> {
    v.parse()
        .map_err(|_| "a port number from 0 to 65535".into())
}

pub(crate) fn ttl(v: &str) -> Parsed<u8> {
    v.parse().map_err(|_| "a number from 0 to 255".into())
}

pub(crate) fn link(v: &str) -> Parsed<LinkNumber> {
    v.parse::<u8>()
        .ok()
        .and_then(|n| LinkNumber::try_from(n).ok())
        .ok_or_else(|| "a link number from 0 to 7".into())
}

pub(crate) fn node_id(v: &str) -> Parsed<NodeId> {
    v.parse::<u32>()
        .ok()
        .and_then(|n| NodeId::try_from(n).ok())
        .ok_or_else(|| "a node id from 1 to 4294967295 (0 is reserved)".into())
}

pub(crate) fn tie_breaker(v: &str) -> Parsed<TieBreaker> {
    match v {
        "lowest" => Ok(TieBreaker::Lowest),
        "highest" => Ok(TieBreaker::Highest),
        _ => {
            let ids: Option<Vec<NodeId>> =
                v.split_whitespace().map(|id| node_id(id).ok()).collect();
            match ids {
                Some(ids) if !ids.is_empty() => Ok(TieBreaker::Nodes(ids)),
                _ => Err("lowest, highest, or node ids separated by spaces, such as `1 3`".into()),
            }
        }
    }
}

/// For the enums declared with `keywords!`.
pub(crate) fn word<T>(
    from_word: fn(&str) -> Option<T>,
    words: &'static [&'static str],
) -> impl Fn(&str) -> Parsed<T> {
    move |v| from_word(v).ok_or_else(|| format!("one of: {}", words.join(", ")))
}
