//! Client writes: checked where they are asked for, applied by every member
//! where they are delivered, confirmed by every member that applied them.
//!
//! Every member counts the confirmations of every write, so all see at the
//! same point of the order when a write became durable (applied by a
//! majority of the cluster's nodes); each records that and says so (`Seen`).
//! Join rounds prefer the configuration with the newest durable write. The
//! writer answers its client once every member of its view applied the
//! write and, if it became durable, once a majority of nodes recorded that:
//! any later partition with a majority then holds a node that announces it,
//! and no round can drop it. Without that majority the answer says the
//! write is not durable.

use std::collections::BTreeSet;

use baton_cib::Cib;

use super::{Controller, Pending};
use crate::replica;
use crate::wire::{Message, Write};
use crate::{Base, Lifetime, Member, NodeId, Origin, Request, RequestError, Version, Written};

/// Writes whose confirmations are counted at once (STYLE rule 10); a write
/// pushed out stays applied, it is only never called durable.
const CONFIRMING_MAX: usize = 4_096;

/// Who applied one write so far (every member keeps this).
#[derive(Debug)]
pub(super) struct Confirming {
    /// The configuration epoch it produced; `None` for a status write.
    epoch: Option<u64>,
    nodes: BTreeSet<NodeId>,
}

/// Where the writer's own write stands.
#[derive(Debug)]
pub(super) struct Progress {
    written: Written,
    /// The configuration it produced (epoch, user digest), to tell after a
    /// join round whether it survived.
    produced: Option<(u64, String)>,
    /// Members of the view whose `Applied` is still due.
    awaiting: BTreeSet<Member>,
    durable: bool,
    /// Nodes that recorded it as durable.
    seen: BTreeSet<NodeId>,
}

impl Controller {
    pub(super) fn prepare_write(&self, body: Request) -> Result<Write, RequestError> {
        match body {
            Request::ReplaceConfiguration { cib, base, origin } => {
                let mut parsed = Cib::parse(&cib).map_err(|e| {
                    RequestError::Invalid(format!("the new CIB is not usable: {e}"))
                })?;
                if parsed.configuration().is_none() {
                    return Err(RequestError::Invalid(
                        "the new CIB has no <configuration> section".to_owned(),
                    ));
                }
                if let Some(base) = &base {
                    self.check_base(base)?;
                }
                // Only the configuration travels: the status is the cluster's.
                let doc = parsed.document_mut();
                let root = doc.root();
                if let Some(status) = doc.get(root).first_child("status").map(|s| s.id()) {
                    let _ = doc.detach(status);
                }
                let cib = parsed.to_xml(baton_cib::xml::Style::Compact);
                Ok(Write::Configuration { cib, base, origin })
            }
            Request::SetNodeAttribute {
                node,
                name,
                value,
                lifetime,
                origin,
            } => {
                let id = self
                    .names
                    .iter()
                    .find(|(_, n)| **n == node)
                    .map(|(id, _)| *id)
                    .ok_or(RequestError::UnknownNode(node))?;
                if name.is_empty() {
                    return Err(RequestError::Invalid(
                        "an attribute needs a name".to_owned(),
                    ));
                }
                Ok(Write::NodeAttribute {
                    node: id,
                    name,
                    value,
                    lifetime,
                    origin,
                })
            }
        }
    }

    fn check_base(&self, base: &Base) -> Result<(), RequestError> {
        let current = self.version();
        if (base.admin_epoch, base.epoch) == (current.admin_epoch, current.epoch)
            && base.digest == self.config_digest()
        {
            return Ok(());
        }
        let base = Version {
            admin_epoch: base.admin_epoch,
            epoch: base.epoch,
            num_updates: 0,
        };
        let by = self
            .cib
            .attr("update-origin")
            .map(|n| format!(", last written by {n}"))
            .unwrap_or_default();
        Err(RequestError::Conflict { base, current, by })
    }

    /// A delivered write, on every member.
    pub(super) fn write(&mut self, sender: Member, seq: u64, write: Write) {
        let before = self.version();
        let result = match write {
            Write::Configuration { cib, base, origin } => {
                self.replace_configuration(sender, &cib, base.as_ref(), &origin)
            }
            Write::NodeAttribute {
                node,
                name,
                value,
                lifetime,
                origin,
            } => self.set_attribute(sender, node, &name, value.as_deref(), lifetime, &origin),
        };
        if result.is_ok() {
            let after = self.version();
            let epoch = ((after.admin_epoch, after.epoch) != (before.admin_epoch, before.epoch))
                .then_some(after.epoch);
            if self.confirming.len() >= CONFIRMING_MAX {
                self.confirming.pop_first();
            }
            self.confirming.insert(
                (sender, seq),
                Confirming {
                    epoch,
                    nodes: BTreeSet::from([sender.node]),
                },
            );
        }
        if sender != self.settings.me {
            if result.is_ok() {
                self.send(&Message::Applied {
                    writer: sender,
                    seq,
                });
            }
            self.count_confirmations(sender, seq);
            return;
        }
        let Some(pending) = self.pending.get_mut(&seq) else {
            return;
        };
        match result {
            Ok(version) => {
                let awaiting = self
                    .view
                    .iter()
                    .copied()
                    .filter(|m| *m != self.settings.me)
                    .collect();
                let produced = (version.epoch != before.epoch)
                    .then(|| self.lineage.back().cloned())
                    .flatten();
                pending.applied = Some(Progress {
                    written: Written {
                        version,
                        changed: version != before,
                        without_quorum: true,
                    },
                    produced,
                    awaiting,
                    durable: false,
                    seen: BTreeSet::new(),
                });
                self.count_confirmations(sender, seq);
                self.settle_confirmations();
            }
            Err(error) => {
                let request = pending.request;
                self.pending.remove(&seq);
                self.reply(request, Err(error));
            }
        }
    }

    /// `sender` applied `writer`'s write `seq`.
    pub(super) fn confirmed(&mut self, sender: Member, writer: Member, seq: u64) {
        if let Some(confirming) = self.confirming.get_mut(&(writer, seq)) {
            confirming.nodes.insert(sender.node);
        }
        if let Some(progress) = self.progress(writer, seq) {
            progress.awaiting.remove(&sender);
        }
        self.count_confirmations(writer, seq);
        self.settle_confirmations();
    }

    /// `sender` recorded `writer`'s write `seq` as durable.
    pub(super) fn seen(&mut self, sender: Member, writer: Member, seq: u64) {
        if let Some(progress) = self.progress(writer, seq) {
            progress.seen.insert(sender.node);
        }
        self.settle_confirmations();
    }

    /// Our own write `seq`'s progress, if `writer` is us.
    fn progress(&mut self, writer: Member, seq: u64) -> Option<&mut Progress> {
        if writer != self.settings.me {
            return None;
        }
        self.pending.get_mut(&seq)?.applied.as_mut()
    }

    /// The nodes a majority is counted of: the nodelist, or every node the
    /// configuration knows if that is more.
    fn cluster_size(&self) -> usize {
        self.settings.nodelist.len().max(self.cib.nodes().count())
    }

    /// Once a majority of nodes applied the write, every member records it
    /// as durable (persisted before anything else) and says so.
    fn count_confirmations(&mut self, writer: Member, seq: u64) {
        let size = self.cluster_size();
        let Some(confirming) = self.confirming.get(&(writer, seq)) else {
            return;
        };
        if confirming.nodes.len() * 2 <= size {
            return;
        }
        if let Some(epoch) = confirming.epoch
            && epoch > self.durable_epoch
        {
            self.durable_epoch = epoch;
            if let Some(persisted) = self.persisted.as_mut() {
                persisted.2 = epoch;
            }
            self.outputs
                .push_back(crate::Output::PersistDurableEpoch(epoch));
        }
        self.confirming.remove(&(writer, seq));
        let me = self.settings.me.node;
        match self.progress(writer, seq) {
            Some(progress) => {
                progress.durable = true;
                progress.seen.insert(me);
            }
            None => {
                self.send(&Message::Seen { writer, seq });
            }
        }
    }

    /// Answers every applied write that every member of the view applied
    /// (or left), once it is known durable or known not to become so.
    pub(super) fn settle_confirmations(&mut self) {
        let view: BTreeSet<Member> = self.view.iter().copied().collect();
        let view_nodes: BTreeSet<NodeId> = view.iter().map(|m| m.node).collect();
        let size = self.cluster_size();
        let mut done = Vec::new();
        for (seq, pending) in &mut self.pending {
            if let Some(progress) = &mut pending.applied {
                progress.awaiting.retain(|m| view.contains(m));
                let recorded = progress.seen.len() * 2 > size;
                let could_be = progress.seen.union(&view_nodes).count() * 2 > size;
                if progress.awaiting.is_empty() && (recorded || !progress.durable || !could_be) {
                    done.push(*seq);
                }
            }
        }
        for seq in done {
            if let Some(Pending {
                request,
                applied: Some(progress),
                ..
            }) = self.pending.remove(&seq)
            {
                let mut written = progress.written;
                written.without_quorum = !(progress.durable && progress.seen.len() * 2 > size);
                self.reply(request, Ok(written));
            }
        }
    }

    /// After a join round, the confirmations of our applied writes may
    /// have been delivered in a view the round superseded: answer them now,
    /// as not durable if they survived the round and as interrupted if not.
    pub(super) fn answer_after_round(&mut self) {
        let size = self.cluster_size();
        let applied: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.applied.is_some())
            .map(|(seq, _)| *seq)
            .collect();
        for seq in applied {
            let Some(Pending {
                request,
                applied: Some(progress),
                ..
            }) = self.pending.remove(&seq)
            else {
                continue;
            };
            let survived = progress
                .produced
                .as_ref()
                .is_none_or(|produced| self.lineage.contains(produced));
            if survived {
                let mut written = progress.written;
                written.without_quorum = !(progress.durable && progress.seen.len() * 2 > size);
                self.reply(request, Ok(written));
            } else {
                self.reply(request, Err(RequestError::Interrupted));
            }
        }
    }

    /// A write sent in parts lost its first parts to a membership change.
    pub(super) fn fail_part(&mut self, part_id: u64) {
        let lost = self
            .pending
            .iter()
            .find(|(_, p)| p.part_id == Some(part_id) && p.applied.is_none())
            .map(|(seq, p)| (*seq, p.request));
        if let Some((seq, request)) = lost {
            self.pending.remove(&seq);
            self.reply(request, Err(RequestError::Interrupted));
        }
    }

    fn replace_configuration(
        &mut self,
        sender: Member,
        text: &str,
        base: Option<&Base>,
        origin: &Origin,
    ) -> Result<Version, RequestError> {
        let new = Cib::parse(text)
            .map_err(|e| RequestError::Invalid(format!("the new CIB is not usable: {e}")))?;
        if let Some(base) = base {
            self.check_base(base)?;
        }
        let current = self.version();
        let requested_admin = new.version().map(|v| v.admin_epoch).unwrap_or(0);
        let changed = replica::replace_configuration(&mut self.cib, &new);
        if !changed && requested_admin <= current.admin_epoch {
            return Ok(current);
        }
        let writer = self.name_of(sender.node);
        self.commit_configuration(&writer, &origin.client, &origin.user, Some(origin.wall_s));
        if requested_admin > current.admin_epoch {
            let version = Version {
                admin_epoch: requested_admin,
                ..self.version()
            };
            self.cib.set_version(version);
            self.persist_if_changed();
        }
        self.names = replica::node_names(&self.cib);
        Ok(self.version())
    }

    fn set_attribute(
        &mut self,
        sender: Member,
        node: NodeId,
        name: &str,
        value: Option<&str>,
        lifetime: Lifetime,
        origin: &Origin,
    ) -> Result<Version, RequestError> {
        let uname = self
            .names
            .get(&node)
            .cloned()
            .ok_or_else(|| RequestError::UnknownNode(node.to_string()))?;
        match lifetime {
            Lifetime::Reboot => {
                if !self.member_nodes().contains(&node) {
                    return Err(RequestError::Invalid(format!(
                        "{uname} is not in the cluster now, and a transient attribute lives only while its node is; set it with lifetime forever instead"
                    )));
                }
                if replica::set_transient(&mut self.cib, node, &uname, name, value) {
                    self.bump_status();
                }
            }
            Lifetime::Forever => {
                if replica::set_node_attribute(&mut self.cib, node, &uname, name, value) {
                    let writer = self.name_of(sender.node);
                    self.commit_configuration(
                        &writer,
                        &origin.client,
                        &origin.user,
                        Some(origin.wall_s),
                    );
                }
            }
        }
        Ok(self.version())
    }
}
