//! Noticing a changed resource definition. When the controller records a
//! start it stores digests of the parameters it ran with; recomputing them
//! from today's configuration tells whether the running instance is stale
//! and must be restarted (or, for agents that can, reloaded).

use baton_cib::model::{LrmRscOp, Primitive};
use std::collections::BTreeMap;

use super::history::RecurringRecord;
use super::md5;

/// How a running instance differs from its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefinitionChange {
    /// A parameter the agent cannot take live changed.
    Restart,
    /// Only reloadable parameters changed.
    Reload,
}

/// The configured parameters a digest is computed over.
#[derive(Debug, Clone, Default)]
pub struct ParamSet {
    /// The primitive's instance attributes.
    pub params: BTreeMap<String, String>,
    /// Extra parameters of individual operations, by (name, interval ms).
    pub op_params: BTreeMap<(String, u64), BTreeMap<String, String>>,
}

fn plain_pairs<'a>(
    sets: impl Iterator<Item = baton_cib::model::NvSet<'a>>,
) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for set in sets.filter(|s| s.rule().is_none()) {
        for p in set.pairs() {
            m.entry(p.name().to_owned())
                .or_insert_with(|| p.value().unwrap_or("").to_owned());
        }
    }
    m
}

impl ParamSet {
    /// The parameters of `p`, or `None` when its digests cannot be
    /// reproduced here: primitives that take parameters from a template or
    /// from rules.
    pub fn of(p: Primitive<'_>) -> Option<ParamSet> {
        if p.template().is_some() || p.instance_attributes().any(|s| s.rule().is_some()) {
            return None;
        }
        let op_params = p
            .operations()
            .filter_map(|op| {
                let extra = plain_pairs(op.instance_attributes());
                let key = (op.name().to_owned(), op.interval_ms().ok()?);
                (!extra.is_empty()).then_some((key, extra))
            })
            .collect();
        let mut params = plain_pairs(p.instance_attributes());
        // Old configurations used the value `#default` for "unset"; such a
        // parameter never reaches the agent.
        params.retain(|_, v| v != "#default");
        Some(ParamSet { params, op_params })
    }

    /// Compares a recorded non-recurring operation with the configuration.
    /// `None` when it matches or carries no digest.
    pub fn compare(&self, op: LrmRscOp<'_>) -> Option<DefinitionChange> {
        let recorded = op.op_digest()?;
        let task = op.operation().unwrap_or("");
        let extra = self.op_params.get(&(task.to_owned(), 0));
        let mut all = self.params.clone();
        if let Some(extra) = extra {
            all.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(restart) = op.op_restart_digest() {
            let listed = op.attr("op-force-restart").unwrap_or("");
            let names: Vec<&str> = listed.split_whitespace().collect();
            let kept: BTreeMap<String, String> = all
                .iter()
                .filter(|(k, _)| names.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if digest(&kept) != restart {
                return Some(DefinitionChange::Restart);
            }
        }
        if digest(&all) == recorded {
            return None;
        }
        // Sensitive parameters may be hidden from us: when the digest of
        // the others (without the fencer's own `pcmk_` options, which the
        // controller leaves out of it) still matches, nothing changed.
        if let (Some(secure), Some(recorded)) = (op.attr("op-secure-params"), op.op_secure_digest())
        {
            let hidden: Vec<&str> = secure.split_whitespace().collect();
            let visible: BTreeMap<String, String> = all
                .iter()
                .filter(|(k, _)| !hidden.contains(&k.as_str()) && !k.starts_with("pcmk_"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if digest(&visible) == recorded {
                return None;
            }
        }
        // An operation with its own extra parameters is restarted so they
        // take effect; otherwise an agent that can reload (it recorded
        // which parameters force a restart) reloads.
        if extra.is_none() && op.op_restart_digest().is_some() {
            Some(DefinitionChange::Reload)
        } else {
            Some(DefinitionChange::Restart)
        }
    }
}

impl ParamSet {
    /// Whether a recurring operation was started with today's parameters.
    /// Its digest also covers its timeout (in ms), so a changed timeout
    /// restarts it too. Secret parameters may be hidden from this copy of
    /// the CIB: then the digest without them decides.
    pub fn recurring_unchanged(&self, record: &RecurringRecord, timeout_ms: u64) -> bool {
        let mut all = self.params.clone();
        if let Some(extra) = self
            .op_params
            .get(&(record.name.clone(), record.interval_ms))
        {
            all.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let with_timeout = |mut params: BTreeMap<String, String>| {
            params.insert("CRM_meta_timeout".to_owned(), timeout_ms.to_string());
            params
        };
        if record.digest.as_deref() == Some(digest(&with_timeout(all.clone())).as_str()) {
            return true;
        }
        let (Some(secure), Some(recorded)) = (&record.secure_params, &record.secure_digest) else {
            return false;
        };
        let hidden: Vec<&str> = secure.split_whitespace().collect();
        // Controllers before feature set 3.16.0 left the fencer's own
        // options and the timeout out of this digest.
        let old = record
            .feature_set
            .as_deref()
            .is_none_or(|v| version_below(v, &[3, 16, 0]));
        let visible: BTreeMap<String, String> = all
            .into_iter()
            .filter(|(k, _)| {
                let left_out = hidden.contains(&k.as_str()) || old && k.starts_with("pcmk_");
                !left_out
            })
            .collect();
        let visible = if old { visible } else { with_timeout(visible) };
        digest(&visible) == *recorded
    }
}

/// Whether dotted version `v` is below `than`.
fn version_below(v: &str, than: &[u64]) -> bool {
    let parts: Vec<u64> = v.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    for (i, want) in than.iter().enumerate() {
        let have = parts.get(i).copied().unwrap_or(0);
        if have != *want {
            return have < *want;
        }
    }
    false
}

fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\n' => s.push_str("&#10;"),
            '\r' => s.push_str("&#13;"),
            '\t' => s.push_str("&#9;"),
            other => s.push(other),
        }
    }
    s
}

/// The `op-digest` a controller records with an operation's result: over
/// the parameters it ran with and, for a recurring operation, its timeout
/// (what [`ParamSet::compare`] and [`ParamSet::recurring_unchanged`]
/// recompute from the configuration).
pub fn operation_digest(
    params: &BTreeMap<String, String>,
    interval_ms: u64,
    timeout_ms: u64,
) -> String {
    if interval_ms == 0 {
        return digest(params);
    }
    let mut with_timeout = params.clone();
    with_timeout.insert("CRM_meta_timeout".to_owned(), timeout_ms.to_string());
    digest(&with_timeout)
}

/// The controller's digest: MD5 of the parameters serialized as one
/// `<parameters>` element, attributes sorted by name.
fn digest(params: &BTreeMap<String, String>) -> String {
    let mut text = String::from(" <parameters");
    for (k, v) in params {
        text.push_str(&format!(" {k}=\"{}\"", escape(v)));
    }
    text.push_str("/>\n");
    md5::hex_digest(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::digest;
    use std::collections::BTreeMap;

    #[test]
    fn serializes_like_the_controller() {
        // Recorded by Pacemaker for a resource with the single parameter
        // ip=127.0.0.12 (scheduler regression case params-1).
        let params = BTreeMap::from([("ip".to_owned(), "127.0.0.12".to_owned())]);
        assert_eq!(digest(&params), "d8eeae5f6724dfcab8f57ef54367eb0a");
        assert_eq!(digest(&BTreeMap::new()), "f2317cad3d54cec5d7d7aa7d0bf35cf8");
    }
}
