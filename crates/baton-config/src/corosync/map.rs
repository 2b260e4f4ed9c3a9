//! Maps parsed corosync.conf entries onto the model, reporting legacy,
//! unknown and invalid entries with their line numbers.

use super::keys::*;
use super::parse::{Item, Pair, Section};
use super::values::{self, Parsed};
use crate::diag::{Sink, Sources, suggest};
use crate::model::{
    ClusterConfig, CryptoCipher, CryptoHash, DebugLevel, Interface, LinkNumber, LoggerSubsys, Node,
    NodeAddr, QuorumProvider, SyslogFacility, Timestamp, Transport,
};

/// A 1.x/2.x `interface { member { memberaddr } }` entry.
#[derive(Debug)]
struct Member {
    link: LinkNumber,
    addr: NodeAddr,
    line: u32,
}

struct Mapper<'a> {
    sink: &'a mut Sink,
    sources: &'a mut Sources,
    config: ClusterConfig,
    /// Per interface, in order.
    members: Vec<Vec<Member>>,
    nodelist_line: Option<u32>,
}

pub(crate) fn map(items: &[Item], sink: &mut Sink, sources: &mut Sources) -> ClusterConfig {
    let mut m = Mapper {
        sink,
        sources,
        config: ClusterConfig::default(),
        members: Vec::new(),
        nodelist_line: None,
    };
    for item in items {
        match item {
            Item::Pair(p) if p.key == "compatibility" => m.sink.notice(
                Some(p.line),
                format!(
                    "`compatibility: {}` chose the wire format of corosync 1.x; baton speaks one protocol, so it is ignored",
                    p.value
                ),
            ),
            Item::Pair(p) => m.unknown_key(p, "the top level", &["compatibility"]),
            Item::Section(s) => m.top_section(s),
        }
    }
    m.adopt_members();
    m.config
}

macro_rules! set {
    ($m:ident, $field:expr, $p:expr, $path:expr, $parse:expr) => {
        if let Some(v) = $m.value($p, &$path, $parse) {
            $field = Some(v);
        }
    };
}

impl Mapper<'_> {
    fn value<T>(&mut self, p: &Pair, path: &str, parse: impl Fn(&str) -> Parsed<T>) -> Option<T> {
        match parse(&p.value) {
            Ok(v) => {
                if let Some(first) = self.sources.line(path) {
                    self.sink.warning(
                        Some(p.line),
                        format!("`{path}` is set again (first on line {first}); the last value wins, remove the other one"),
                    );
                }
                self.sources.set(path.to_owned(), p.line);
                Some(v)
            }
            Err(expected) => {
                self.sink.error(
                    Some(p.line),
                    format!("`{path}: {}` is not valid; expected {expected}", p.value),
                );
                None
            }
        }
    }

    fn unknown_key(&mut self, p: &Pair, within: &str, known: &[&str]) {
        let hint = suggest(&p.key, known)
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_default();
        self.sink.warning(
            Some(p.line),
            format!("unknown key `{}` in {within} is ignored{hint}", p.key),
        );
    }

    fn unknown_section(&mut self, s: &Section, within: &str, known: &[&str]) {
        let hint = suggest(&s.name, known)
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_default();
        self.sink.warning(
            Some(s.line),
            format!("unknown section `{}` in {within} is ignored{hint}", s.name),
        );
    }

    fn unsupported(&mut self, line: u32, what: &str) {
        self.sink.warning(
            Some(line),
            format!("{what} is a corosync option that baton does not support; it is ignored"),
        );
    }

    fn top_section(&mut self, s: &Section) {
        match s.name.as_str() {
            "totem" => self.totem(s),
            "nodelist" => self.nodelist(s),
            "quorum" => self.quorum(s),
            "logging" => self.logging(s),
            "aisexec" => self.sink.notice(
                Some(s.line),
                "section `aisexec` set the user and group of corosync 1.x; baton daemons get theirs from their systemd units, so it is ignored",
            ),
            "amf" => self.sink.notice(
                Some(s.line),
                "section `amf` configured the AMF service that corosync 2 removed; it is ignored",
            ),
            "service" => self.service(s),
            name if UNSUPPORTED_SECTIONS.contains(&name) => self.unsupported(s.line, &format!("section `{name}`")),
            _ => self.unknown_section(s, "the top level", SECTIONS),
        }
    }

    fn service(&mut self, s: &Section) {
        let get = |key: &str| {
            s.items.iter().rev().find_map(|i| match i {
                Item::Pair(p) if p.key == key => Some(p.value.as_str()),
                _ => None,
            })
        };
        let what = match (get("name"), get("ver")) {
            (Some(name), Some(ver)) => format!(" (name: {name}, ver: {ver})"),
            (Some(name), None) => format!(" (name: {name})"),
            _ => String::new(),
        };
        self.sink.notice(
            Some(s.line),
            format!(
                "section `service`{what} loaded a corosync 1.x plugin; baton runs its cluster manager as its own daemons, so it is ignored"
            ),
        );
    }

    fn totem(&mut self, s: &Section) {
        for item in &s.items {
            match item {
                Item::Section(sub) if sub.name == "interface" => self.interface(sub),
                Item::Section(sub) => self.unknown_section(sub, "`totem`", &["interface"]),
                Item::Pair(p) => self.totem_pair(p),
            }
        }
    }

    fn totem_pair(&mut self, p: &Pair) {
        let path = format!("totem.{}", p.key);
        match p.key.as_str() {
            "cluster_name" => set!(self, self.config.totem.cluster_name, p, path, values::text),
            "transport" => {
                set!(self, self.config.totem.transport, p, path, values::word(Transport::from_word, Transport::WORDS))
            }
            "token" => set!(self, self.config.totem.token_ms, p, path, values::millis),
            "token_coefficient" => set!(self, self.config.totem.token_coefficient_ms, p, path, values::millis),
            "consensus" => set!(self, self.config.totem.consensus_ms, p, path, values::millis),
            "join" => set!(self, self.config.totem.join_ms, p, path, values::millis),
            "merge" => set!(self, self.config.totem.merge_ms, p, path, values::millis),
            "send_join" => set!(self, self.config.totem.send_join_ms, p, path, values::millis),
            "max_messages" => set!(self, self.config.totem.max_messages, p, path, values::count),
            "window_size" => set!(self, self.config.totem.window_size, p, path, values::count),
            "fail_recv_const" => set!(self, self.config.totem.fail_recv_const, p, path, values::count),
            "seqno_unchanged_const" => set!(self, self.config.totem.seqno_unchanged_const, p, path, values::count),
            "token_retransmits_before_loss_const" => {
                set!(self, self.config.totem.token_retransmits_before_loss_const, p, path, values::count)
            }
            "secauth" => set!(self, self.config.totem.secauth, p, path, values::yes_no),
            "crypto_cipher" => set!(
                self,
                self.config.totem.crypto_cipher,
                p,
                path,
                values::word(CryptoCipher::from_word, CryptoCipher::WORDS)
            ),
            "crypto_hash" => {
                set!(self, self.config.totem.crypto_hash, p, path, values::word(CryptoHash::from_word, CryptoHash::WORDS))
            }
            "keyfile" => set!(self, self.config.totem.keyfile, p, path, |v| values::text(v).map(Into::into)),
            "version" if p.value == "2" => {}
            "version" => {
                self.sink.error(Some(p.line), format!("`totem.version: {}` is not valid; expected 2, the only version", p.value))
            }
            "threads" => self.sink.notice(
                Some(p.line),
                "`totem.threads` is ignored: sending has used a single thread since corosync 2",
            ),
            "rrp_mode" => self.sink.notice(
                Some(p.line),
                "`totem.rrp_mode` is ignored: redundant rings became knet links, which fail over by themselves",
            ),
            "nodeid" => self.sink.notice(
                Some(p.line),
                "`totem.nodeid` is ignored; give each node its `nodeid` in the nodelist instead",
            ),
            key if TOTEM_UNSUPPORTED.contains(&key) => self.unsupported(p.line, &format!("`{path}`")),
            _ => self.unknown_key(p, "`totem`", &[TOTEM_KEYS, TOTEM_UNSUPPORTED].concat()),
        }
    }

    fn interface(&mut self, s: &Section) {
        let index = self.config.totem.interfaces.len();
        self.sources.set(format!("totem.interface.{index}"), s.line);
        let mut iface = Interface::default();
        let mut members = Vec::new();
        for item in &s.items {
            let p = match item {
                Item::Section(sub) if sub.name == "member" => {
                    members.extend(self.member(sub));
                    continue;
                }
                Item::Section(sub) => {
                    self.unknown_section(sub, "`interface`", &["member"]);
                    continue;
                }
                Item::Pair(p) => p,
            };
            let path = format!("totem.interface.{index}.{}", p.key);
            match p.key.as_str() {
                "linknumber" => set!(self, iface.linknumber, p, path, values::link),
                "ringnumber" => self.sink.notice(
                    Some(p.line),
                    "`ringnumber` is ignored and this interface is link 0 unless `linknumber` says otherwise",
                ),
                "bindnetaddr" => set!(self, iface.bindnetaddr, p, path, values::ip),
                "mcastaddr" => set!(self, iface.mcastaddr, p, path, values::ip),
                "mcastport" => set!(self, iface.mcastport, p, path, values::port),
                "ttl" => set!(self, iface.ttl, p, path, values::ttl),
                "broadcast" => set!(self, iface.broadcast, p, path, values::yes_no),
                key if INTERFACE_UNSUPPORTED.contains(&key) => self.unsupported(p.line, &format!("`{path}`")),
                _ => self.unknown_key(p, "`interface`", &[INTERFACE_KEYS, INTERFACE_UNSUPPORTED].concat()),
            }
        }
        let link = iface.effective_link();
        self.members.push(
            members
                .into_iter()
                .map(|(addr, line)| Member { link, addr, line })
                .collect(),
        );
        self.config.totem.interfaces.push(iface);
    }

    fn member(&mut self, s: &Section) -> Option<(NodeAddr, u32)> {
        let mut found = None;
        for item in &s.items {
            match item {
                Item::Pair(p) if p.key == "memberaddr" => match values::text(&p.value) {
                    Ok(addr) => found = Some((NodeAddr(addr), p.line)),
                    Err(expected) => self.sink.error(
                        Some(p.line),
                        format!("`memberaddr` is empty; expected {expected}"),
                    ),
                },
                Item::Pair(p) => self.unknown_key(p, "`member`", &["memberaddr"]),
                Item::Section(sub) => self.unknown_section(sub, "`member`", &[]),
            }
        }
        if found.is_none() {
            self.sink.warning(
                Some(s.line),
                "this `member` section has no `memberaddr`; it is ignored",
            );
        }
        found
    }

    fn nodelist(&mut self, s: &Section) {
        self.nodelist_line.get_or_insert(s.line);
        for item in &s.items {
            match item {
                Item::Section(sub) if sub.name == "node" => self.node(sub),
                Item::Section(sub) => self.unknown_section(sub, "`nodelist`", &["node"]),
                Item::Pair(p) => {
                    self.unknown_key(p, "`nodelist` (keys belong in a `node` section)", &[])
                }
            }
        }
    }

    fn node(&mut self, s: &Section) {
        let index = self.config.nodelist.nodes.len();
        self.sources.set(format!("nodelist.node.{index}"), s.line);
        let mut node = Node::default();
        for item in &s.items {
            let p = match item {
                Item::Section(sub) => {
                    self.unknown_section(sub, "`node`", &[]);
                    continue;
                }
                Item::Pair(p) => p,
            };
            let path = format!("nodelist.node.{index}.{}", p.key);
            match p.key.as_str() {
                "nodeid" => set!(self, node.nodeid, p, path, values::node_id),
                "name" => set!(self, node.name, p, path, values::text),
                "quorum_votes" => set!(self, node.quorum_votes, p, path, values::count),
                key => match ring_link(key) {
                    Some(link) => {
                        if let Some(addr) = self.value(p, &path, values::text) {
                            node.addrs.insert(link, NodeAddr(addr));
                        }
                    }
                    None => self.unknown_key(p, "`node`", NODE_KEYS),
                },
            }
        }
        self.config.nodelist.nodes.push(node);
    }

    fn quorum(&mut self, s: &Section) {
        self.sources.set("quorum".to_owned(), s.line);
        for item in &s.items {
            let p = match item {
                Item::Section(sub) if sub.name == "device" => {
                    self.unsupported(sub.line, "section `device` (a quorum device)");
                    continue;
                }
                Item::Section(sub) => {
                    self.unknown_section(sub, "`quorum`", &["device"]);
                    continue;
                }
                Item::Pair(p) => p,
            };
            let path = format!("quorum.{}", p.key);
            match p.key.as_str() {
                "provider" => set!(
                    self,
                    self.config.quorum.provider,
                    p,
                    path,
                    values::word(QuorumProvider::from_word, QuorumProvider::WORDS)
                ),
                "expected_votes" => set!(
                    self,
                    self.config.quorum.expected_votes,
                    p,
                    path,
                    values::count
                ),
                "two_node" => set!(self, self.config.quorum.two_node, p, path, values::flag),
                "wait_for_all" => {
                    set!(self, self.config.quorum.wait_for_all, p, path, values::flag)
                }
                "last_man_standing" => set!(
                    self,
                    self.config.quorum.last_man_standing,
                    p,
                    path,
                    values::flag
                ),
                "last_man_standing_window" => {
                    set!(
                        self,
                        self.config.quorum.last_man_standing_window_ms,
                        p,
                        path,
                        values::millis
                    )
                }
                "auto_tie_breaker" => set!(
                    self,
                    self.config.quorum.auto_tie_breaker,
                    p,
                    path,
                    values::flag
                ),
                "auto_tie_breaker_node" => {
                    set!(
                        self,
                        self.config.quorum.auto_tie_breaker_node,
                        p,
                        path,
                        values::tie_breaker
                    )
                }
                key if QUORUM_UNSUPPORTED.contains(&key) => {
                    self.unsupported(p.line, &format!("`{path}`"))
                }
                _ => self.unknown_key(p, "`quorum`", &[QUORUM_KEYS, QUORUM_UNSUPPORTED].concat()),
            }
        }
    }

    fn logging(&mut self, s: &Section) {
        for item in &s.items {
            let p = match item {
                Item::Section(sub) if sub.name == "logger_subsys" => {
                    self.logger_subsys(sub);
                    continue;
                }
                Item::Section(sub) => {
                    self.unknown_section(sub, "`logging`", &["logger_subsys"]);
                    continue;
                }
                Item::Pair(p) => p,
            };
            let path = format!("logging.{}", p.key);
            match p.key.as_str() {
                "to_stderr" => set!(self, self.config.logging.to_stderr, p, path, values::yes_no),
                "to_logfile" => set!(
                    self,
                    self.config.logging.to_logfile,
                    p,
                    path,
                    values::yes_no
                ),
                "logfile" => set!(self, self.config.logging.logfile, p, path, |v| {
                    values::text(v).map(Into::into)
                }),
                "to_syslog" => set!(self, self.config.logging.to_syslog, p, path, values::yes_no),
                "syslog_facility" => set!(
                    self,
                    self.config.logging.syslog_facility,
                    p,
                    path,
                    values::word(SyslogFacility::from_word, SyslogFacility::WORDS)
                ),
                "debug" => {
                    set!(
                        self,
                        self.config.logging.debug,
                        p,
                        path,
                        values::word(DebugLevel::from_word, DebugLevel::WORDS)
                    )
                }
                "timestamp" => {
                    set!(
                        self,
                        self.config.logging.timestamp,
                        p,
                        path,
                        values::word(Timestamp::from_word, Timestamp::WORDS)
                    )
                }
                "fileline" => set!(self, self.config.logging.fileline, p, path, values::yes_no),
                "function_name" => set!(
                    self,
                    self.config.logging.function_name,
                    p,
                    path,
                    values::yes_no
                ),
                key if LOGGING_UNSUPPORTED.contains(&key) => {
                    self.unsupported(p.line, &format!("`{path}`"))
                }
                _ => self.unknown_key(
                    p,
                    "`logging`",
                    &[LOGGING_KEYS, LOGGING_UNSUPPORTED].concat(),
                ),
            }
        }
    }

    fn logger_subsys(&mut self, s: &Section) {
        let index = self.config.logging.logger_subsys.len();
        let prefix = format!("logging.logger_subsys.{index}");
        let mut subsys = None;
        let mut debug = None;
        for item in &s.items {
            let p = match item {
                Item::Section(sub) => {
                    self.unknown_section(sub, "`logger_subsys`", &[]);
                    continue;
                }
                Item::Pair(p) => p,
            };
            let path = format!("{prefix}.{}", p.key);
            match p.key.as_str() {
                "subsys" => set!(self, subsys, p, path, values::text),
                "debug" => set!(self, debug, p, path, values::word(DebugLevel::from_word, DebugLevel::WORDS)),
                key if LOGGING_KEYS.contains(&key) || LOGGING_UNSUPPORTED.contains(&key) => {
                    self.sink.warning(
                        Some(p.line),
                        format!("`{}` per subsystem is not supported by baton; it is ignored, set it in `logging`", p.key),
                    )
                }
                _ => self.unknown_key(p, "`logger_subsys`", SUBSYS_KEYS),
            }
        }
        match subsys {
            Some(subsys) => {
                self.sources.set(prefix, s.line);
                self.config.logging.logger_subsys.push(LoggerSubsys { subsys, debug });
            }
            None => self.sink.error(
                Some(s.line),
                "this `logger_subsys` section has no `subsys` key; add one naming the subsystem, such as `subsys: QUORUM`",
            ),
        }
    }

    /// 1.x/2.x configs list nodes as interface members; they become the
    /// nodelist unless a real one exists, which corosync prefers too.
    fn adopt_members(&mut self) {
        let members = std::mem::take(&mut self.members);
        let Some(first) = members.iter().flatten().next() else {
            return;
        };
        if let Some(nodelist) = self.nodelist_line {
            self.sink.warning(
                Some(first.line),
                format!("interface `member` entries are ignored because the nodelist on line {nodelist} lists the nodes"),
            );
            return;
        }
        self.sink.notice(
            Some(first.line),
            "the interface `member` entries (corosync 1.x/2.x) are used as the nodelist; `baton config import` writes them as [[nodelist.node]]",
        );
        let nodes = &mut self.config.nodelist.nodes;
        for iface in members {
            for (index, member) in iface.into_iter().enumerate() {
                if nodes.len() <= index {
                    self.sources
                        .set(format!("nodelist.node.{index}"), member.line);
                    nodes.push(Node::default());
                }
                if let Some(node) = nodes.get_mut(index) {
                    self.sources.set(
                        format!("nodelist.node.{index}.ring{}_addr", member.link),
                        member.line,
                    );
                    node.addrs.insert(member.link, member.addr);
                }
            }
        }
    }
}

/// `ring3_addr` → link 3.
fn ring_link(key: &str) -> Option<LinkNumber> {
    let digits = key.strip_prefix("ring")?.strip_suffix("_addr")?;
    if digits.len() != 1 {
        return None;
    }
    LinkNumber::try_from(digits.parse::<u8>().ok()?).ok()
}
