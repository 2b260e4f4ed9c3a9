//! `baton config check`: every effective value with its source, then the diagnostics.

use std::fmt::{self, Display, Write as _};

use serde::Serialize;

use crate::diag::{Diagnostic, Severity, Source};
use crate::model::{CryptoCipher, CryptoHash, TieBreaker, Transport};
use crate::{Format, Loaded, timers};

/// The check result; `Display` renders the text form, serde the `--output json` form.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub file: String,
    pub format: Format,
    pub usable: bool,
    pub settings: Vec<Setting>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Setting {
    /// Dotted path as in the files: `totem.token`, `nodelist.node.0.ring0_addr`.
    pub key: String,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<&'static str>,
    /// `FILE:LINE`, `default`, or `derived from …`.
    pub source: String,
}

struct Builder<'a> {
    loaded: &'a Loaded,
    settings: Vec<Setting>,
}

impl Builder<'_> {
    /// Records a value; its source is the line that set `key`, if any, else `fallback`.
    fn put(
        &mut self,
        key: &str,
        value: impl Display,
        unit: Option<&'static str>,
        fallback: Source,
    ) {
        let source = match self
            .loaded
            .sources
            .line(key)
            .map(Source::Line)
            .unwrap_or(fallback)
        {
            Source::Line(line) => format!("{}:{line}", self.loaded.file),
            Source::Default => "default".to_owned(),
            Source::Derived(from) => format!("derived from {from}"),
        };
        self.settings.push(Setting {
            key: key.to_owned(),
            value: value.to_string(),
            unit,
            source,
        });
    }

    fn ms(&mut self, key: &str, value: u64, fallback: Source) {
        self.put(key, value, Some("ms"), fallback);
    }

    fn flag(&mut self, key: &str, value: bool, fallback: Source) {
        self.put(key, if value { "yes" } else { "no" }, None, fallback);
    }

    fn totem(&mut self) {
        let c = &self.loaded.config;
        let t = &c.totem;
        self.put(
            "totem.cluster_name",
            t.cluster_name.as_deref().unwrap_or("(none)"),
            None,
            Source::Default,
        );
        let transport_from = if c.is_legacy_multicast() {
            Source::Derived("interface mcastaddr")
        } else {
            Source::Default
        };
        self.put(
            "totem.transport",
            c.effective_transport(),
            None,
            transport_from,
        );
        let timers = c.timers();
        self.ms(
            "totem.token",
            t.token_ms.unwrap_or(timers::TOKEN_MS),
            Source::Default,
        );
        self.ms(
            "totem.token_coefficient",
            t.token_coefficient_ms
                .unwrap_or(timers::TOKEN_COEFFICIENT_MS),
            Source::Default,
        );
        let from_token = Source::Derived("token");
        self.ms(
            "totem.effective_token",
            timers.token_ms,
            Source::Derived("token, token_coefficient and nodelist"),
        );
        self.ms("totem.consensus", timers.consensus_ms, from_token.clone());
        self.ms(
            "totem.token_retransmit",
            timers.token_retransmit_ms,
            from_token.clone(),
        );
        self.ms("totem.hold", timers.hold_ms, from_token);
        self.ms("totem.join", timers.join_ms, Source::Default);
        self.ms("totem.merge", timers.merge_ms, Source::Default);
        self.ms("totem.send_join", timers.send_join_ms, Source::Default);
        self.put(
            "totem.max_messages",
            timers.max_messages,
            None,
            Source::Default,
        );
        self.put(
            "totem.window_size",
            timers.window_size,
            None,
            Source::Default,
        );
        self.put(
            "totem.fail_recv_const",
            timers.fail_recv_const,
            None,
            Source::Default,
        );
        self.put(
            "totem.seqno_unchanged_const",
            timers.seqno_unchanged_const,
            None,
            Source::Default,
        );
        let retransmits = timers.token_retransmits_before_loss_const;
        self.put(
            "totem.token_retransmits_before_loss_const",
            retransmits,
            None,
            Source::Default,
        );
        self.put(
            "totem.miss_count_const",
            timers.miss_count_const,
            None,
            Source::Default,
        );
        self.flag("totem.secauth", t.secauth == Some(true), Source::Default);
        let (cipher, hash) = t.effective_crypto();
        let crypto_from = if t.secauth.is_some() {
            Source::Derived("secauth")
        } else {
            Source::Default
        };
        self.put("totem.crypto_cipher", cipher, None, crypto_from.clone());
        self.put("totem.crypto_hash", hash, None, crypto_from);
        if cipher != CryptoCipher::None || hash != CryptoHash::None {
            self.put(
                "totem.keyfile",
                t.effective_keyfile(self.loaded.format).display(),
                None,
                Source::Default,
            );
        }
        for (i, iface) in t.interfaces.iter().enumerate() {
            let at = format!("totem.interface.{i}");
            let link = iface.effective_link();
            self.put(&format!("{at}.linknumber"), link, None, Source::Default);
            if let Some(addr) = iface.bindnetaddr {
                self.put(&format!("{at}.bindnetaddr"), addr, None, Source::Default);
            }
            if let Some(addr) = iface.mcastaddr {
                self.put(&format!("{at}.mcastaddr"), addr, None, Source::Default);
            }
            self.put(
                &format!("{at}.mcastport"),
                iface.effective_mcastport(),
                None,
                Source::Derived("linknumber"),
            );
            if c.effective_transport() == Transport::Udp {
                self.put(
                    &format!("{at}.ttl"),
                    iface.effective_ttl(),
                    None,
                    Source::Default,
                );
                self.flag(
                    &format!("{at}.broadcast"),
                    iface.broadcast == Some(true),
                    Source::Default,
                );
            }
        }
    }

    fn nodelist(&mut self) {
        for (i, node) in self.loaded.config.nodelist.nodes.iter().enumerate() {
            let at = format!("nodelist.node.{i}");
            if let Some(id) = node.nodeid {
                self.put(&format!("{at}.nodeid"), id, None, Source::Default);
            }
            if let Some(name) = &node.name {
                self.put(&format!("{at}.name"), name, None, Source::Default);
            }
            for (link, addr) in &node.addrs {
                self.put(
                    &format!("{at}.ring{link}_addr"),
                    addr,
                    None,
                    Source::Default,
                );
            }
            self.put(
                &format!("{at}.quorum_votes"),
                node.effective_votes(),
                None,
                Source::Default,
            );
        }
    }

    fn quorum(&mut self) {
        let c = &self.loaded.config;
        let q = &c.quorum;
        match q.provider {
            None => self.put(
                "quorum.provider",
                "(none: always quorate)",
                None,
                Source::Default,
            ),
            Some(p) => self.put("quorum.provider", p, None, Source::Default),
        }
        if q.provider.is_none() {
            return;
        }
        self.put(
            "quorum.expected_votes",
            c.effective_expected_votes(),
            None,
            Source::Derived("nodelist quorum_votes"),
        );
        let ignored = q.two_node == Some(true) && !c.effective_two_node();
        let two_node_from = if ignored {
            Source::Derived("nodelist size")
        } else {
            Source::Default
        };
        self.flag("quorum.two_node", c.effective_two_node(), two_node_from);
        let wfa_from = if q.two_node == Some(true) {
            Source::Derived("two_node")
        } else {
            Source::Default
        };
        self.flag("quorum.wait_for_all", c.effective_wait_for_all(), wfa_from);
        self.flag(
            "quorum.last_man_standing",
            q.last_man_standing == Some(true),
            Source::Default,
        );
        let window = q
            .last_man_standing_window_ms
            .unwrap_or(timers::LAST_MAN_STANDING_WINDOW_MS);
        self.ms("quorum.last_man_standing_window", window, Source::Default);
        self.flag(
            "quorum.auto_tie_breaker",
            q.auto_tie_breaker == Some(true),
            Source::Default,
        );
        let tie = match q.auto_tie_breaker_node.clone().unwrap_or_default() {
            TieBreaker::Lowest => "lowest".to_owned(),
            TieBreaker::Highest => "highest".to_owned(),
            TieBreaker::Nodes(ids) => ids
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        };
        self.put("quorum.auto_tie_breaker_node", tie, None, Source::Default);
    }

    fn logging(&mut self) {
        let l = &self.loaded.config.logging;
        self.flag(
            "logging.to_stderr",
            l.to_stderr.unwrap_or(true),
            Source::Default,
        );
        self.flag(
            "logging.to_logfile",
            l.to_logfile.unwrap_or(false),
            Source::Default,
        );
        if let Some(path) = &l.logfile {
            self.put("logging.logfile", path.display(), None, Source::Default);
        }
        self.flag(
            "logging.to_syslog",
            l.to_syslog.unwrap_or(true),
            Source::Default,
        );
        self.put(
            "logging.syslog_facility",
            l.syslog_facility.map_or("daemon", |f| f.as_str()),
            None,
            Source::Default,
        );
        self.put(
            "logging.debug",
            l.debug.map_or("off", |d| d.as_str()),
            None,
            Source::Default,
        );
        self.put(
            "logging.timestamp",
            l.timestamp.map_or("hires", |t| t.as_str()),
            None,
            Source::Default,
        );
        self.flag(
            "logging.fileline",
            l.fileline.unwrap_or(false),
            Source::Default,
        );
        self.flag(
            "logging.function_name",
            l.function_name.unwrap_or(false),
            Source::Default,
        );
        for (i, sub) in l.logger_subsys.iter().enumerate() {
            let at = format!("logging.logger_subsys.{i}");
            self.put(&format!("{at}.subsys"), &sub.subsys, None, Source::Default);
            let debug = sub.debug.or(l.debug).map_or("off", |d| d.as_str());
            self.put(
                &format!("{at}.debug"),
                debug,
                None,
                Source::Derived("logging.debug"),
            );
        }
    }
}

impl Report {
    pub(crate) fn new(loaded: &Loaded) -> Self {
        let mut b = Builder {
            loaded,
            settings: Vec::new(),
        };
        b.totem();
        b.nodelist();
        b.quorum();
        b.logging();
        Report {
            file: loaded.file.clone(),
            format: loaded.format,
            usable: loaded.is_usable(),
            settings: b.settings,
            diagnostics: loaded.diagnostics.clone(),
        }
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }
}

impl Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Effective configuration of {} ({}):",
            self.file, self.format
        )?;
        let key_width = self.settings.iter().map(|s| s.key.len()).max().unwrap_or(0);
        let mut values = Vec::with_capacity(self.settings.len());
        for s in &self.settings {
            let mut v = s.value.clone();
            if let Some(unit) = s.unit {
                let _ = write!(v, " {unit}");
            }
            values.push(v);
        }
        let value_width = values.iter().map(String::len).max().unwrap_or(0);
        for (s, v) in self.settings.iter().zip(&values) {
            writeln!(
                f,
                "  {:key_width$}  {v:value_width$}  ({})",
                s.key, s.source
            )?;
        }
        writeln!(f)?;
        for d in &self.diagnostics {
            writeln!(f, "{d}")?;
        }
        let (e, w, n) = (
            self.count(Severity::Error),
            self.count(Severity::Warning),
            self.count(Severity::Notice),
        );
        let verdict = if self.usable {
            "the configuration is usable"
        } else {
            "the configuration cannot be used"
        };
        write!(f, "{e} error(s), {w} warning(s), {n} notice(s): {verdict}")
    }
}
