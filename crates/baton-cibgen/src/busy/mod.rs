//! Busy clusters, as real ones look mid-life: 2 to 10 nodes some of which
//! are offline, lost (unclean), in standby or maintenance or shutting
//! down; up to 50 primitives in groups, clones (of groups too) and
//! promotable clones with notify and interleave; constraints with roles,
//! negative scores and rules on node attributes; and a history where most
//! things run, some never started, and some failed (starts, monitors and
//! stops, with fail counts, some of them older than failure-timeout),
//! under every on-fail, with or without fencing and quorum.

mod render;

use crate::rng::Rng;

/// "Now" for every busy cluster (the CIB's `execution-date`): histories
/// are stamped relative to it, so expiry is the same for every scheduler.
pub const NOW: u64 = 1_700_003_600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    Online,
    /// Stopped cleanly.
    Offline,
    /// Left the membership while expected up: to be fenced.
    Lost,
    Standby,
    Maintenance,
    ShuttingDown,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub state: NodeState,
    /// A node attribute rules test (`site`).
    pub site: &'static str,
}

/// What a primitive's history on a node says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// Never looked at there.
    Unknown,
    /// Probed: not running.
    Stopped,
    Running,
    Promoted,
    /// Running, but its monitor failed (`since` seconds ago).
    MonitorFailed {
        since: u64,
    },
    /// Its start failed there; `stopped` once the cluster cleaned up
    /// after it (as it usually has), else still failed and active.
    StartFailed {
        stopped: bool,
    },
    /// Its stop failed there: still active, as far as anyone knows.
    StopFailed,
}

#[derive(Debug, Clone)]
pub struct Primitive {
    pub id: String,
    pub target_role: Option<&'static str>,
    pub unmanaged: bool,
    pub migration_threshold: Option<u32>,
    pub failure_timeout_s: Option<u32>,
    pub stickiness: Option<i32>,
    pub monitor_on_fail: Option<&'static str>,
    pub stop_on_fail: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Primitive(Primitive),
    Group(Vec<Primitive>),
    Clone {
        /// One primitive, or a group's members.
        members: Vec<Primitive>,
        group: Option<String>,
        promotable: bool,
        notify: bool,
        interleave: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub kind: Kind,
}

impl Item {
    pub fn primitives(&self) -> &[Primitive] {
        match &self.kind {
            Kind::Primitive(p) => std::slice::from_ref(p),
            Kind::Group(members) | Kind::Clone { members, .. } => members,
        }
    }

    pub fn is_clone(&self) -> bool {
        matches!(self.kind, Kind::Clone { .. })
    }

    pub fn promotable(&self) -> bool {
        matches!(
            self.kind,
            Kind::Clone {
                promotable: true,
                ..
            }
        )
    }
}

#[derive(Debug, Clone)]
pub enum Constraint {
    Location {
        item: usize,
        node: usize,
        score: &'static str,
        promoted: bool,
    },
    /// A rule on the `site` node attribute.
    SiteRule {
        item: usize,
        site: &'static str,
        score: &'static str,
    },
    Colocation {
        dependent: usize,
        primary: usize,
        score: &'static str,
        /// `Promoted` on the primary (a promotable clone).
        primary_promoted: bool,
    },
    Order {
        first: usize,
        then: usize,
        /// `promote` on the first (a promotable clone), else `start`.
        first_promote: bool,
        optional: bool,
        symmetrical: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Busy {
    pub fencing: bool,
    pub quorum: bool,
    pub no_quorum_policy: &'static str,
    pub start_failure_is_fatal: bool,
    pub stickiness: Option<i32>,
    pub nodes: Vec<Node>,
    pub items: Vec<Item>,
    pub constraints: Vec<Constraint>,
    /// `history[item][member][node]`; a clone has one history per node,
    /// for whichever instance runs there.
    pub history: Vec<Vec<Vec<History>>>,
}

fn primitive(rng: &mut Rng, id: String, promotable: bool) -> Primitive {
    let monitor_on_fail = if promotable {
        &["restart", "restart", "stop", "block", "ignore", "demote"][..]
    } else {
        &["restart", "restart", "stop", "block", "ignore", "standby"][..]
    };
    Primitive {
        id,
        target_role: rng.percent(8).then(|| {
            if promotable {
                rng.pick(&["Stopped", "Unpromoted", "Started"])
            } else {
                "Stopped"
            }
        }),
        unmanaged: rng.percent(4),
        migration_threshold: rng.percent(40).then(|| rng.pick(&[1, 2, 3])),
        failure_timeout_s: rng.percent(40).then(|| rng.pick(&[60, 600])),
        stickiness: rng.percent(15).then(|| rng.pick(&[0, 50, 200])),
        monitor_on_fail: rng.percent(35).then(|| rng.pick(monitor_on_fail)),
        stop_on_fail: rng
            .percent(15)
            .then(|| rng.pick(&["block", "ignore", "stop"])),
    }
}

fn draw_items(rng: &mut Rng, primitives: usize) -> Vec<Item> {
    let mut items = Vec::new();
    let mut made = 0;
    while made < primitives {
        let left = primitives - made;
        let roll = rng.below(100);
        let (id, kind) = if roll < 50 || left < 2 {
            let p = primitive(rng, format!("rsc{made}"), false);
            (format!("rsc{made}"), Kind::Primitive(p))
        } else if roll < 70 {
            let size = rng.between(2, left.min(4));
            let members = (made..made + size)
                .map(|p| primitive(rng, format!("rsc{p}"), false))
                .collect();
            (format!("grp{made}"), Kind::Group(members))
        } else {
            let promotable = roll >= 88;
            let grouped = !promotable && rng.percent(30) && left >= 2;
            let size = if grouped { 2 } else { 1 };
            let members = (made..made + size)
                .map(|p| primitive(rng, format!("rsc{p}"), promotable))
                .collect();
            let kind = Kind::Clone {
                members,
                group: grouped.then(|| format!("cgrp{made}")),
                promotable,
                notify: rng.percent(50),
                interleave: rng.percent(50),
            };
            let prefix = if promotable { "prm" } else { "cln" };
            (format!("{prefix}{made}"), kind)
        };
        made += match &kind {
            Kind::Primitive(_) => 1,
            Kind::Group(m) | Kind::Clone { members: m, .. } => m.len(),
        };
        items.push(Item { id, kind });
    }
    items
}

fn draw_nodes(rng: &mut Rng, count: usize, fencing: bool) -> Vec<Node> {
    (0..count)
        .map(|n| {
            // The first node is the DC: always up.
            let state = if n == 0 || rng.percent(75) {
                NodeState::Online
            } else {
                let lost = if fencing {
                    NodeState::Lost
                } else {
                    NodeState::Offline
                };
                rng.pick(&[
                    NodeState::Offline,
                    lost,
                    NodeState::Standby,
                    NodeState::Maintenance,
                    NodeState::ShuttingDown,
                ])
            };
            Node {
                state,
                site: rng.pick(&["a", "b"]),
            }
        })
        .collect()
}

fn draw_constraints(rng: &mut Rng, items: &[Item], nodes: usize) -> Vec<Constraint> {
    let mut out = Vec::new();
    let scores = ["50", "100", "INFINITY", "-INFINITY", "-100"];
    for (i, item) in items.iter().enumerate() {
        if rng.percent(30) {
            out.push(Constraint::Location {
                item: i,
                node: rng.below(nodes),
                score: rng.pick(&scores),
                promoted: item.promotable() && rng.percent(50),
            });
        }
        if rng.percent(10) {
            out.push(Constraint::SiteRule {
                item: i,
                site: rng.pick(&["a", "b"]),
                score: rng.pick(&["100", "-INFINITY"]),
            });
        }
        if i > 0 && rng.percent(20) {
            let primary = rng.below(i);
            out.push(Constraint::Colocation {
                dependent: i,
                primary,
                score: rng.pick(&["INFINITY", "100", "-INFINITY", "-100"]),
                primary_promoted: items[primary].promotable() && rng.percent(60),
            });
        }
        if i > 0 && rng.percent(20) {
            let first = rng.below(i);
            out.push(Constraint::Order {
                first,
                then: i,
                first_promote: items[first].promotable() && rng.percent(50),
                optional: rng.percent(20),
                symmetrical: rng.percent(80),
            });
        }
    }
    out
}

/// What each primitive's history says on each node: round robin for
/// what runs once, every usable node for clones; failures sprinkled in.
fn draw_history(rng: &mut Rng, items: &[Item], nodes: &[Node]) -> Vec<Vec<Vec<History>>> {
    let mut next = 0usize;
    let was_up = |n: usize| nodes[n].state != NodeState::Offline;
    items
        .iter()
        .map(|item| {
            let running_here: Vec<bool> = if item.is_clone() {
                (0..nodes.len())
                    .map(|n| was_up(n) && rng.percent(80))
                    .collect()
            } else {
                let mut on = vec![false; nodes.len()];
                if rng.percent(80) {
                    let n = next % nodes.len();
                    next += 1;
                    on[n] = was_up(n);
                }
                on
            };
            let promoted_on = item
                .promotable()
                .then(|| (0..nodes.len()).find(|&n| running_here[n]))
                .flatten();
            item.primitives()
                .iter()
                .map(|_| {
                    (0..nodes.len())
                        .map(|n| {
                            let base = if !was_up(n) || rng.percent(10) {
                                History::Unknown
                            } else if !running_here[n] {
                                History::Stopped
                            } else if promoted_on == Some(n) {
                                History::Promoted
                            } else {
                                History::Running
                            };
                            failure(rng, base)
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn failure(rng: &mut Rng, base: History) -> History {
    match base {
        History::Running if rng.percent(10) => History::MonitorFailed {
            since: rng.pick(&[30, 3_000, 30_000]),
        },
        History::Running if rng.percent(3) => History::StopFailed,
        History::Stopped if rng.percent(8) => History::StartFailed {
            stopped: rng.percent(80),
        },
        other => other,
    }
}

pub fn draw(seed: u64, nodes: usize, primitives: usize) -> Busy {
    let mut rng = Rng::new(seed ^ 0xB057_C1B5);
    let fencing = rng.percent(50);
    let quorum = rng.percent(85);
    let no_quorum_policy = rng.pick(&["stop", "freeze", "ignore", "demote"]);
    let start_failure_is_fatal = rng.percent(70);
    let stickiness = rng.percent(60).then(|| rng.pick(&[0, 1, 100]));
    let nodes = draw_nodes(&mut rng, nodes, fencing);
    let items = draw_items(&mut rng, primitives);
    let constraints = draw_constraints(&mut rng, &items, nodes.len());
    let history = draw_history(&mut rng, &items, &nodes);
    Busy {
        fencing,
        quorum,
        no_quorum_policy,
        start_failure_is_fatal,
        stickiness,
        nodes,
        items,
        constraints,
        history,
    }
}

pub use render::cib;
