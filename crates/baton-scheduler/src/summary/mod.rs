//! The Transition Summary, read back from the decided changes in the layout
//! `crm_simulate` prints: fencing first, then one line per resource in
//! the order placement considered them (priority, then configuration),
//! columns padded to the longest entry.

use crate::actions::{Changes, Verb};
use crate::unpack::{Cluster, Role, RscIdx, RscKind};

/// One summary line before padding.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    verb: String,
    rsc: String,
    details: String,
    /// Already starts with two spaces when present.
    tail: String,
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Stopped => "Stopped",
        Role::Started => "Started",
        Role::Unpromoted => "Unpromoted",
        Role::Promoted => "Promoted",
    }
}

/// The node a resource active on several is reported as moving from: the
/// first it was found on, or, when its recovery does not wait for fencing,
/// the first of those that is online and clean.
fn reported_current_node(cluster: &Cluster, r: RscIdx) -> Option<crate::unpack::NodeIdx> {
    let rsc = cluster.rsc(r);
    let mut nodes = rsc.status.running.iter().map(|(n, _)| *n);
    if rsc.meta.requires.fencing() {
        return nodes.next();
    }
    let healthy = |n: &crate::unpack::NodeIdx| {
        let node = cluster.node(*n);
        node.is_online() && !node.is_unclean()
    };
    nodes.clone().find(healthy).or_else(|| nodes.next())
}

fn lines_for(cluster: &Cluster, changes: &Changes, r: RscIdx) -> Vec<Line> {
    let rsc = cluster.rsc(r);
    let name = |n: crate::unpack::NodeIdx| cluster.node(n).uname.clone();
    let acts: Vec<_> = changes.actions_of(r).collect();
    let stops: Vec<_> = acts.iter().filter(|a| a.task == Verb::Stop).collect();
    let start = acts.iter().find(|a| a.task == Verb::Start && !a.blocked);
    let blocked = acts
        .iter()
        .find(|a| a.task == Verb::Start && a.blocked && !a.silent);
    let promote = acts.iter().any(|a| a.task == Verb::Promote && !a.blocked);
    let demote = acts.iter().any(|a| a.task == Verb::Demote);
    let reload = acts.iter().find(|a| a.task == Verb::Reload);
    let cur_role = rsc.status.role();
    let promotable = matches!(cur_role, Role::Promoted | Role::Unpromoted);
    let next_role = if promote {
        Role::Promoted
    } else if promotable {
        Role::Unpromoted
    } else {
        Role::Started
    };
    // Roles are printed for promotable instances only.
    let role_prefix = |role: Role| match role {
        Role::Promoted | Role::Unpromoted => format!("{} ", role_word(role)),
        _ => String::new(),
    };
    let line = |verb: &str, details: String, tail: Option<&String>| Line {
        verb: verb.to_owned(),
        rsc: rsc.id.clone(),
        details,
        tail: tail.map_or(String::new(), |t| format!("  {t}")),
    };
    let mut out = Vec::new();
    match (start, stops.as_slice()) {
        (Some(s), []) => {
            if promote {
                out.push(line(
                    "Promote",
                    format!("Stopped -> Promoted {}", name(s.node)),
                    None,
                ));
            } else {
                out.push(line("Start", name(s.node), None));
            }
        }
        (Some(s), [stop]) if stop.node == s.node => {
            let verb = if rsc.status.failed {
                "Recover"
            } else {
                "Restart"
            };
            // A role change in place reads `Unpromoted -> Promoted node`.
            let details = if cur_role == next_role || !promotable {
                format!("{}{}", role_prefix(cur_role), name(s.node))
            } else {
                format!(
                    "{} -> {} {}",
                    role_word(cur_role),
                    role_word(next_role),
                    name(s.node)
                )
            };
            let reason = if rsc.status.failed {
                None
            } else {
                s.reason.as_ref()
            };
            out.push(line(verb, details, reason));
        }
        (Some(s), [stop]) => {
            let verb = if rsc.status.failed {
                "Recover"
            } else if crate::actions::can_migrate(cluster, r, stop.pseudo) {
                "Migrate"
            } else {
                "Move"
            };
            let blocker = if verb == "Migrate" {
                unmigratable_predecessor(cluster, changes, r)
            } else {
                None
            };
            let (verb, why) = match blocker {
                Some(b) => ("Move", Some(format!("due to unmigrateable {b} stop"))),
                None => (verb, None),
            };
            out.push(line(
                verb,
                if cur_role == next_role || !promotable {
                    // A promotable instance keeps its role: named after.
                    let role = match role_prefix(cur_role).trim_end() {
                        "" => String::new(),
                        r => format!(" {r}"),
                    };
                    format!("{} -> {}{role}", name(stop.node), name(s.node))
                } else {
                    format!(
                        "{} {} -> {} {}",
                        role_word(cur_role),
                        name(stop.node),
                        role_word(next_role),
                        name(s.node)
                    )
                },
                why.as_ref(),
            ));
        }
        // Active on several nodes: one line, from the node Pacemaker
        // calls current to where it starts.
        (Some(s), _) => {
            let current = reported_current_node(cluster, r);
            let moving = current.is_some_and(|c| c != s.node);
            let verb = if rsc.status.failed {
                "Recover"
            } else if moving {
                "Move"
            } else {
                "Restart"
            };
            let details = match current {
                Some(c) if moving => format!("{} -> {}", name(c), name(s.node)),
                _ => name(s.node),
            };
            out.push(line(verb, details, None));
        }
        (None, stops) => {
            for stop in stops {
                let tail = match (&stop.reason, stop.blocked) {
                    (Some(why), true) => Some(format!("{why} (blocked)")),
                    (None, true) => Some("blocked".to_owned()),
                    (why, false) => why.clone(),
                };
                out.push(line(
                    "Stop",
                    format!("{}{}", role_prefix(cur_role), name(stop.node)),
                    tail.as_ref(),
                ));
            }
            if stops.is_empty()
                && let Some(n) = rsc.status.current_node()
            {
                if promote && demote {
                    out.push(line("Re-promote", format!("Promoted {}", name(n)), None));
                } else if promote {
                    out.push(line(
                        "Promote",
                        format!("Unpromoted -> Promoted {}", name(n)),
                        None,
                    ));
                } else if let Some(r) = reload {
                    out.push(line("Reload", name(r.node), None));
                } else if demote {
                    out.push(line(
                        "Demote",
                        format!("Promoted -> Unpromoted {}", name(n)),
                        None,
                    ));
                }
            }
        }
    }
    let blocked_promote = acts.iter().find(|a| a.task == Verb::Promote && a.blocked);
    if let Some(b) = blocked_promote {
        out.push(line(
            "Promote",
            format!("Stopped -> Promoted {}", name(b.node)),
            Some(&"blocked".to_owned()),
        ));
    }
    if let Some(b) = blocked {
        out.push(Line {
            verb: "Start".to_owned(),
            rsc: rsc.id.clone(),
            details: name(b.node),
            tail: match &b.reason {
                Some(why) => format!("  {why} (blocked)"),
                None => "  blocked".to_owned(),
            },
        });
    }
    out
}

/// In a group, a member may migrate only if every member before it that
/// moves migrates too; the first one that cannot is named.
fn unmigratable_predecessor(cluster: &Cluster, changes: &Changes, r: RscIdx) -> Option<String> {
    let parent = cluster.rsc(r).parent?;
    let RscKind::Group { members } = &cluster.rsc(parent).kind else {
        return None;
    };
    members
        .iter()
        .take_while(|&&m| m != r)
        .find(|&&m| {
            changes
                .actions_of(m)
                .find(|a| a.task == Verb::Stop)
                .is_some_and(|stop| !crate::actions::can_migrate(cluster, m, stop.pseudo))
        })
        .map(|&m| cluster.rsc(m).id.clone())
}

/// The summary lines (without the `Transition Summary:` header).
pub fn render(cluster: &Cluster, changes: &Changes, order: &[RscIdx]) -> Vec<String> {
    let mut out = Vec::new();
    // crm_simulate lists fencing in reverse node order.
    for (n, why) in changes.fence_reason.iter().rev() {
        out.push(format!(
            "  * Fence ({}) {} '{}'",
            cluster.options.fencing_action,
            cluster.node(*n).uname,
            why
        ));
    }
    let mut primitives = Vec::new();
    for &r in order {
        cluster.collect_primitives(r, &mut primitives);
    }
    let lines: Vec<Line> = primitives
        .into_iter()
        .flat_map(|r| lines_for(cluster, changes, r))
        .collect();
    let rsc_w = lines.iter().map(|l| l.rsc.len()).max().unwrap_or(0);
    let det_w = lines.iter().map(|l| l.details.len()).max().unwrap_or(0);
    for l in lines {
        out.push(format!(
            "  * {:<10} {:<rsc_w$}     ( {:>det_w$} ){}",
            l.verb, l.rsc, l.details, l.tail
        ));
    }
    out
}
