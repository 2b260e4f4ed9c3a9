//! Node membership and health, following the rules of FACTS §10.5: with
//! fencing, a node whose state cannot be proven clean is unclean and must be
//! fenced before its resources run elsewhere; without fencing, a node is
//! simply online or not.

use baton_cib::Cib;
use baton_cib::model::parse_bool;
use std::collections::BTreeMap;

use super::options::Options;
use super::utilization::Utilization;
use crate::SchedulerError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeState {
    Online,
    Offline,
    /// Joining: not yet allowed to run resources, not fenced either.
    Pending,
    /// Must be fenced; the reason is printed in the Fence line.
    Unclean(String),
}

#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub id: String,
    pub uname: String,
    /// Configuration attributes overlaid with transient (status) ones, plus
    /// the built-ins `#uname`, `#id` and `#kind` used by rules.
    pub attrs: BTreeMap<String, String>,
    pub state: NodeState,
    pub standby: bool,
    /// In standby because a failure's on-fail=standby put it there.
    pub standby_on_fail: bool,
    pub maintenance: bool,
    /// Asked to shut down: resources leave, the node is not fenced.
    pub shutdown: bool,
    /// Up and joined when the CIB was read (it may become unclean later,
    /// from a failure there): such a node can be fenced without quorum.
    pub in_membership: bool,
    /// `fail-count-*` and `last-failure-*` values by attribute name.
    pub fail_attrs: BTreeMap<String, String>,
    /// What the node offers (`<utilization>`).
    pub capacity: Utilization,
}

impl NodeInfo {
    pub fn is_online(&self) -> bool {
        self.state == NodeState::Online
    }

    /// May this node be given resources at all?
    pub fn can_run(&self) -> bool {
        self.is_online() && !self.standby && !self.shutdown && !self.maintenance
    }

    pub fn is_unclean(&self) -> bool {
        matches!(self.state, NodeState::Unclean(_))
    }
}

/// `true`, or (newer writers) a join timestamp.
fn truthy_or_stamp(v: Option<&str>, word: &str) -> bool {
    match v {
        Some(s) if s == word => true,
        Some(s) => parse_bool(s).unwrap_or(false) || s.parse::<u64>().is_ok_and(|n| n > 0),
        None => false,
    }
}

fn attr_true(attrs: &BTreeMap<String, String>, name: &str) -> bool {
    attrs
        .get(name)
        .is_some_and(|v| parse_bool(v).unwrap_or(false))
}

pub fn read(cib: &Cib, options: &Options, now_s: i64) -> Result<Vec<NodeInfo>, SchedulerError> {
    let mut out = Vec::new();
    for node in cib.nodes() {
        // Remote and ping nodes are outside the first scheduler's scope.
        if node.node_type() != "member" && node.node_type() != "normal" {
            continue;
        }
        let id = node.id().to_owned();
        let uname = node.uname().unwrap_or(&id).to_owned();
        let mut attrs = BTreeMap::new();
        for set in node.instance_attributes().filter(|s| s.rule().is_none()) {
            for p in set.pairs() {
                if let Some(v) = p.value() {
                    attrs.entry(p.name().to_owned()).or_insert(v.to_owned());
                }
            }
        }
        // Sets with a rule apply when it holds (date ranges, mostly).
        let conditional: Vec<_> = node
            .instance_attributes()
            .filter(|s| {
                s.rule()
                    .is_some_and(|r| super::rules::evaluate(r, &attrs, now_s).is_some())
            })
            .collect();
        for set in conditional {
            for p in set.pairs() {
                if let Some(v) = p.value() {
                    attrs.entry(p.name().to_owned()).or_insert(v.to_owned());
                }
            }
        }
        let state_el = cib
            .node_states()
            .find(|s| s.id() == id || (s.id().is_empty() && s.uname() == Some(&uname)));
        let mut fail_attrs = BTreeMap::new();
        if let Some(st) = state_el {
            for set in st.transient_attributes() {
                for p in set.pairs() {
                    let Some(v) = p.value() else { continue };
                    let name = p.name();
                    if name.starts_with("fail-count-") || name.starts_with("last-failure-") {
                        fail_attrs.insert(name.to_owned(), v.to_owned());
                    } else {
                        attrs.insert(name.to_owned(), v.to_owned());
                    }
                }
            }
        }
        attrs.insert("#uname".to_owned(), uname.clone());
        attrs.insert("#id".to_owned(), id.clone());
        attrs.insert("#kind".to_owned(), "cluster".to_owned());
        let is_dc = cib.dc_uuid() == Some(id.as_str());
        attrs.insert("#is_dc".to_owned(), is_dc.to_string());
        let shutdown = attrs
            .get("shutdown")
            .is_some_and(|v| v != "0" && !v.is_empty())
            || state_el
                .and_then(|s| s.attr("shutdown"))
                .is_some_and(|v| v != "0" && !v.is_empty());
        let state = match state_el {
            // Never seen at all: with startup fencing, it must be fenced
            // before anything it might run is started elsewhere.
            None if options.fencing_enabled && options.startup_fencing => {
                NodeState::Unclean("node is unclean".to_owned())
            }
            None => NodeState::Offline,
            Some(st) => {
                let in_ccm = truthy_or_stamp(st.in_ccm(), "true");
                let crmd = truthy_or_stamp(st.crmd(), "online");
                // No join state at all: the controller never reported.
                let join = st.join().unwrap_or("");
                let expected = st.expected().unwrap_or("");
                let terminate = attr_true(&attrs, "terminate");
                let seen = st.in_ccm().is_some();
                classify(
                    options, seen, in_ccm, crmd, join, expected, shutdown, terminate,
                )
            }
        };
        let standby = attr_true(&attrs, "standby");
        let maintenance = attr_true(&attrs, "maintenance");
        out.push(NodeInfo {
            id,
            uname,
            attrs,
            in_membership: state == NodeState::Online,
            state,
            standby,
            standby_on_fail: false,
            maintenance,
            shutdown,
            fail_attrs,
            capacity: Utilization::of(node.element()),
        });
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn classify(
    options: &Options,
    seen: bool,
    in_ccm: bool,
    crmd: bool,
    join: &str,
    expected: &str,
    shutdown: bool,
    terminate: bool,
) -> NodeState {
    let unclean = |why: &str| NodeState::Unclean(why.to_owned());
    if !options.fencing_enabled {
        return if in_ccm && crmd && join == "member" {
            NodeState::Online
        } else if in_ccm && crmd {
            NodeState::Pending
        } else {
            NodeState::Offline
        };
    }
    if terminate && (in_ccm || crmd) {
        return unclean("fencing was requested");
    }
    if shutdown && !crmd {
        // A cleanly departing node is judged by its controller alone.
        return NodeState::Offline;
    }
    if !seen {
        return unclean("peer has not been seen by the cluster");
    }
    if matches!(join, "nack" | "banned") {
        return unclean("peer failed Pacemaker membership criteria");
    }
    if in_ccm && crmd {
        return if join == "member" {
            NodeState::Online
        } else {
            NodeState::Pending
        };
    }
    if expected == "down" {
        return NodeState::Offline;
    }
    // In the membership, but its controller has never joined: still
    // coming up.
    if in_ccm && join.is_empty() && expected.is_empty() {
        return NodeState::Pending;
    }
    // Left the membership while expected up: it may still run resources.
    if !in_ccm {
        return if expected == "member" {
            unclean("peer is no longer part of the cluster")
        } else {
            NodeState::Offline
        };
    }
    // In the membership, controller gone, while expected up: its lrmd may
    // still run what the history says. Pacemaker fences whatever `join`
    // says: the controller writes join="down" as soon as a peer's
    // controller leaves, so asking for join="member" here would let a dead
    // controller's resources start elsewhere unfenced.
    if !expected.is_empty() {
        return unclean("peer process is no longer available");
    }
    // No expected state: its controller never joined (Pacemaker reads that
    // as expected down), so it never ran anything for the cluster.
    NodeState::Offline
}
