//! The cluster status block of `baton simulate`, in the layout Pacemaker
//! 2.1.5's `crm_simulate` (crm_mon's text output) uses: the node list, then
//! every resource, clones folded into per-role node lists.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use baton_scheduler::placement::node_name_cmp;
use baton_scheduler::unpack::{Cluster, NodeIdx, NodeState, Role, RscIdx, RscKind};
use baton_scheduler::{Graph, Task};

/// Where every primitive is active, before or after a transition.
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    cluster: &'a Cluster,
    /// `class:provider:type` by primitive id, as the status prints it.
    agents: &'a BTreeMap<String, String>,
    running: BTreeMap<RscIdx, Vec<(NodeIdx, Role)>>,
    failed: BTreeSet<RscIdx>,
    /// Primitives with an action under way, and the word crm_mon shows
    /// for it ("Starting", "Stopping", "Promoting"…).
    pending: BTreeMap<RscIdx, &'static str>,
    fenced: BTreeSet<NodeIdx>,
    /// Unclean nodes still in the membership, shown as `UNCLEAN (online)`.
    unclean_online: BTreeSet<NodeIdx>,
}

/// How crm_mon words a resource whose `task` is under way; `None` for an
/// action that does not change its role (a recurring monitor).
pub fn pending_state(task: &str) -> Option<&'static str> {
    Some(match task {
        "start" => "Starting",
        "stop" => "Stopping",
        "migrate_to" | "migrate_from" => "Migrating",
        "promote" => "Promoting",
        "demote" => "Demoting",
        _ => return None,
    })
}

impl<'a> Snapshot<'a> {
    /// The status the CIB records.
    pub fn current(
        cluster: &'a Cluster,
        agents: &'a BTreeMap<String, String>,
        unclean_online: BTreeSet<NodeIdx>,
    ) -> Self {
        let primitives = cluster.primitives();
        Snapshot {
            cluster,
            agents,
            running: primitives
                .iter()
                .map(|&r| (r, cluster.rsc(r).status.running.clone()))
                .collect(),
            failed: primitives
                .iter()
                .copied()
                .filter(|&r| cluster.rsc(r).status.failed)
                .collect(),
            pending: primitives
                .into_iter()
                .filter_map(|r| {
                    Some((r, pending_state(cluster.rsc(r).status.pending.as_deref()?)?))
                })
                .collect(),
            fenced: BTreeSet::new(),
            unclean_online,
        }
    }

    /// The status once every action of `graph` has succeeded.
    pub fn after(&self, graph: &Graph) -> Self {
        let mut next = self.clone();
        // Whatever was under way has ended by then.
        next.pending.clear();
        for action in &graph.actions {
            let Some(node) = action
                .node
                .as_ref()
                .and_then(|n| self.cluster.node_by_name(&n.name))
            else {
                continue;
            };
            if action.task == Task::Stonith {
                next.fenced.insert(node);
                continue;
            }
            let Some(&r) = action
                .resource_id
                .as_ref()
                .and_then(|id| self.cluster.by_id.get(id))
            else {
                continue;
            };
            if !self.cluster.rsc(r).is_primitive() {
                continue;
            }
            let on = next.running.entry(r).or_default();
            match action.task {
                Task::Stop => {
                    on.retain(|(n, _)| *n != node);
                    next.failed.remove(&r);
                }
                Task::Start | Task::MigrateFrom => on.push((node, Role::Started)),
                Task::Promote | Task::Demote => {
                    let role = if action.task == Task::Promote {
                        Role::Promoted
                    } else {
                        Role::Unpromoted
                    };
                    match on.iter_mut().find(|(n, _)| *n == node) {
                        Some(entry) => entry.1 = role,
                        None => on.push((node, role)),
                    }
                }
                _ => {}
            }
        }
        next
    }

    pub fn render(&self) -> String {
        let mut out = String::from("  * Node List:\n");
        self.render_nodes(&mut out);
        out.push_str("\n  * Full List of Resources:\n");
        if self.cluster.top.is_empty() {
            out.push_str("    * No resources\n");
        }
        for &r in &self.cluster.top {
            self.render_resource(&mut out, r, 4);
        }
        out
    }

    fn node_name(&self, n: NodeIdx) -> &str {
        &self.cluster.node(n).uname
    }

    fn hosts_anything(&self, n: NodeIdx) -> bool {
        self.running
            .values()
            .any(|on| on.iter().any(|(m, _)| *m == n))
    }

    fn render_nodes(&self, out: &mut String) {
        let mut online = Vec::new();
        let mut offline = Vec::new();
        // Nodes are listed by name, whatever their configuration order.
        let mut by_name: Vec<NodeIdx> = (0..self.cluster.nodes.len()).map(NodeIdx).collect();
        by_name.sort_by(|a, b| node_name_cmp(self.node_name(*a), self.node_name(*b)));
        for n in by_name {
            let node = self.cluster.node(n);
            let name = node.uname.as_str();
            let special = match &node.state {
                _ if self.fenced.contains(&n) => {
                    offline.push(name);
                    continue;
                }
                NodeState::Offline => {
                    offline.push(name);
                    continue;
                }
                NodeState::Unclean(_) if self.unclean_online.contains(&n) => "UNCLEAN (online)",
                NodeState::Unclean(_) => "UNCLEAN (offline)",
                NodeState::Pending => "pending",
                NodeState::Online if node.standby_on_fail => "standby (on-fail)",
                NodeState::Online if node.standby && self.hosts_anything(n) => {
                    "standby (with active resources)"
                }
                NodeState::Online if node.standby => "standby",
                NodeState::Online if node.maintenance => "maintenance",
                NodeState::Online => {
                    online.push(name);
                    continue;
                }
            };
            let _ = writeln!(out, "    * Node {name}: {special}");
        }
        if !online.is_empty() {
            let _ = writeln!(out, "    * Online: [ {} ]", online.join(" "));
        }
        if !offline.is_empty() {
            let _ = writeln!(out, "    * OFFLINE: [ {} ]", offline.join(" "));
        }
    }

    fn render_resource(&self, out: &mut String, r: RscIdx, indent: usize) {
        let rsc = self.cluster.rsc(r);
        let pad = " ".repeat(indent);
        match &rsc.kind {
            RscKind::Primitive => {
                let _ = writeln!(out, "{pad}* {}", self.primitive_line(r));
            }
            RscKind::Group { members } => {
                let _ = writeln!(
                    out,
                    "{pad}* Resource Group: {}{}:",
                    rsc.id,
                    self.flags(r, &[])
                );
                for &m in members {
                    self.render_resource(out, m, indent + 2);
                }
            }
            RscKind::Clone(info) => {
                let child = info
                    .instances
                    .first()
                    .map_or(rsc.base_id.as_str(), |&i| &self.cluster.rsc(i).base_id);
                let flags = self.flags(
                    r,
                    &[(info.promotable, "promotable"), (info.unique, "unique")],
                );
                let _ = writeln!(out, "{pad}* Clone Set: {} [{child}]{flags}:", rsc.id);
                if info.unique {
                    for &i in &info.instances {
                        self.render_resource(out, i, indent + 2);
                    }
                } else {
                    self.render_anonymous_clone(
                        out,
                        r,
                        &info.instances,
                        info.clone_max,
                        indent + 2,
                    );
                }
            }
        }
    }

    /// Anonymous instances fold into one node list per role; an instance
    /// that is failed, unmanaged or active twice is printed on its own.
    fn render_anonymous_clone(
        &self,
        out: &mut String,
        clone: RscIdx,
        instances: &[RscIdx],
        clone_max: usize,
        indent: usize,
    ) {
        let pad = " ".repeat(indent);
        let mut by_role: BTreeMap<Role, Vec<&str>> = BTreeMap::new();
        let mut active_nodes = BTreeSet::new();
        let mut active = 0;
        for &i in instances {
            let prims = self.primitives_of(i);
            let on = self.instance_nodes(&prims);
            if on.is_empty() {
                continue;
            }
            active += 1;
            active_nodes.extend(on.iter().map(|(n, _)| *n));
            let odd = on.len() > 1
                || prims.iter().any(|p| {
                    self.failed.contains(p)
                        || self.pending.contains_key(p)
                        || !self.cluster.rsc(*p).meta.managed
                });
            if odd {
                self.render_resource(out, i, indent);
                continue;
            }
            let (n, role) = on[0];
            by_role
                .entry(self.shown_role(i, role))
                .or_default()
                .push(self.node_name(n));
        }
        for (role, word) in [
            (Role::Promoted, "Promoted"),
            (Role::Unpromoted, "Unpromoted"),
            (Role::Started, "Started"),
        ] {
            if let Some(nodes) = by_role.get_mut(&role) {
                nodes.sort_by(|a, b| node_name_cmp(a, b));
                let _ = writeln!(out, "{pad}* {word}: [ {} ]", nodes.join(" "));
            }
        }
        if active < clone_max {
            let mut stopped: Vec<&str> = (0..self.cluster.nodes.len())
                .map(NodeIdx)
                .filter(|n| !active_nodes.contains(n))
                .map(|n| self.node_name(n))
                .collect();
            stopped.sort_by(|a, b| node_name_cmp(a, b));
            if !stopped.is_empty() {
                let disabled = self.disabled_mark(clone);
                let _ = writeln!(out, "{pad}* Stopped{disabled}: [ {} ]", stopped.join(" "));
            }
        }
    }

    fn primitives_of(&self, r: RscIdx) -> Vec<RscIdx> {
        let mut prims = Vec::new();
        self.cluster.collect_primitives(r, &mut prims);
        prims
    }

    /// Where an instance is active, judged by its first primitive: a
    /// cloned group's members run together.
    fn instance_nodes(&self, prims: &[RscIdx]) -> Vec<(NodeIdx, Role)> {
        let Some(first) = prims.first() else {
            return Vec::new();
        };
        self.running.get(first).cloned().unwrap_or_default()
    }

    /// Promotable instances that are started show as Unpromoted.
    fn shown_role(&self, r: RscIdx, role: Role) -> Role {
        let top = self.cluster.rsc(self.cluster.top_of(r));
        let promotable = matches!(&top.kind, RscKind::Clone(info) if info.promotable);
        match role {
            Role::Started if promotable => Role::Unpromoted,
            other => other,
        }
    }

    fn disabled(&self, r: RscIdx) -> bool {
        self.cluster.rsc(r).meta.target_role == Some(Role::Stopped)
    }

    /// ` (promotable, unique, unmanaged, disabled)` after a group or clone
    /// name, with only the words that apply.
    fn flags(&self, r: RscIdx, kind: &[(bool, &'static str)]) -> String {
        let words: Vec<&str> = kind
            .iter()
            .copied()
            .chain([
                (!self.cluster.rsc(r).meta.managed, "unmanaged"),
                (self.disabled(r), "disabled"),
            ])
            .filter(|(on, _)| *on)
            .map(|(_, word)| word)
            .collect();
        if words.is_empty() {
            String::new()
        } else {
            format!(" ({})", words.join(", "))
        }
    }

    fn disabled_mark(&self, r: RscIdx) -> &'static str {
        if self.disabled(r) { " (disabled)" } else { "" }
    }

    fn primitive_line(&self, r: RscIdx) -> String {
        let rsc = self.cluster.rsc(r);
        let agent = self
            .agents
            .get(&rsc.base_id)
            .map_or("unknown", String::as_str);
        let on = self.running.get(&r).cloned().unwrap_or_default();
        let failed = self.failed.contains(&r);
        let mut state = match on.as_slice() {
            [] => "Stopped".to_owned(),
            [(n, role)] => {
                let role = self.shown_role(r, *role);
                let word = match (failed, role) {
                    (true, Role::Promoted) => "FAILED Promoted",
                    (true, _) => "FAILED",
                    (false, _) if let Some(word) = self.pending.get(&r) => word,
                    (false, Role::Promoted) => "Promoted",
                    (false, Role::Unpromoted) => "Unpromoted",
                    (false, _) => "Started",
                };
                format!("{word} {}", self.node_name(*n))
            }
            many => {
                let mut names: Vec<&str> = many.iter().map(|(n, _)| self.node_name(*n)).collect();
                names.sort_by(|a, b| node_name_cmp(a, b));
                let word = if failed { "FAILED" } else { "Started" };
                format!("{word} [ {} ]", names.join(" "))
            }
        };
        if self.disabled(r) {
            state.push_str(" (disabled)");
        }
        // A failure that cannot be recovered blocks; anything else left
        // alone (maintenance, is-managed=false) is unmanaged.
        if failed && rsc.status.blocked {
            state.push_str(" (blocked)");
        } else if !rsc.meta.managed || rsc.status.blocked {
            state.push_str(" (unmanaged)");
        }
        if on
            .iter()
            .any(|(n, _)| self.cluster.node(*n).is_unclean() && !self.fenced.contains(n))
        {
            state.push_str(" (UNCLEAN)");
        }
        // Anonymous clone instances are printed without their number.
        let top = self.cluster.rsc(self.cluster.top_of(r));
        let anonymous = matches!(&top.kind, RscKind::Clone(info) if !info.unique);
        let name = if anonymous { &rsc.base_id } else { &rsc.id };
        format!("{name}\t({agent}):\t {state}")
    }
}
