//! Client writes: checked where they are asked for, applied by every member
//! where they are delivered, confirmed (`Applied`) by every member that
//! applied them. The writer answers its client once every member of its
//! view applied the write. In a view holding a majority of the cluster's
//! nodes, once its term is established, the write is then durable: every
//! later established term is newer and its round held a node with the
//! write, so no join round can drop it. Otherwise the answer says it is not
//! durable.

use std::collections::BTreeSet;

use baton_cib::Cib;

use super::{Controller, Pending};
use crate::replica;
use crate::wire::{Message, Write};
use crate::{Base, Lifetime, Member, NodeId, Origin, Request, RequestError, Version, Written};

/// Where the writer's own write stands.
#[derive(Debug)]
pub(super) struct Progress {
    written: Written,
    /// The configuration it produced (epoch, user digest), to tell after a
    /// join round whether it survived.
    produced: Option<(u64, String)>,
    /// Members of the view whose `Applied` is still due.
    awaiting: BTreeSet<Member>,
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
                let id = self.node_id(node)?;
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
            Request::Cleanup { targets } => {
                if targets.is_empty() {
                    return Err(RequestError::Invalid(
                        "a clean-up needs at least one resource on one node".to_owned(),
                    ));
                }
                let targets = targets
                    .into_iter()
                    .map(|(node, resource)| Ok((self.node_id(node)?, resource)))
                    .collect::<Result<_, RequestError>>()?;
                Ok(Write::Cleanup { targets })
            }
        }
    }

    fn node_id(&self, node: String) -> Result<NodeId, RequestError> {
        self.names
            .iter()
            .find(|(_, n)| **n == node)
            .map(|(id, _)| *id)
            .ok_or(RequestError::UnknownNode(node))
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
        let cleanup = matches!(write, Write::Cleanup { .. });
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
            Write::Cleanup { targets } => Ok(self.clean_up(&targets)),
        };
        if let Ok(version) = &result
            && *version != before
        {
            self.abort_transition(if cleanup {
                "Resource state removal"
            } else if version.epoch == before.epoch {
                "Transient attribute change"
            } else {
                "Configuration change"
            });
        }
        if sender != self.settings.me {
            if result.is_ok() {
                self.send(&Message::Applied {
                    writer: sender,
                    seq,
                });
            }
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
                });
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
        if writer != self.settings.me {
            return;
        }
        if let Some(Pending {
            applied: Some(progress),
            ..
        }) = self.pending.get_mut(&seq)
        {
            progress.awaiting.remove(&sender);
        }
        self.settle_confirmations();
    }

    /// Answers every applied write that every member of the view applied
    /// (or left): durable when the view holds a majority.
    pub(super) fn settle_confirmations(&mut self) {
        let view: BTreeSet<Member> = self.view.iter().copied().collect();
        let mut done = Vec::new();
        for (seq, pending) in &mut self.pending {
            if let Some(progress) = &mut pending.applied {
                progress.awaiting.retain(|m| view.contains(m));
                if progress.awaiting.is_empty() {
                    done.push(*seq);
                }
            }
        }
        let majority = self.view_has_majority();
        let established = self.term.established == self.term.current;
        if majority && !established {
            // The term's confirmations are on their way; answer with them.
            return;
        }
        let durable = majority && established;
        for seq in done {
            if let Some(Pending {
                request,
                applied: Some(progress),
                ..
            }) = self.pending.remove(&seq)
            {
                let mut written = progress.written;
                written.without_quorum = !durable;
                self.reply(request, Ok(written));
            }
        }
    }

    /// After a join round, the confirmations of our applied writes may
    /// have been delivered in a view the round superseded: answer them now,
    /// if they survived the round (then every member holds them) and as
    /// interrupted if not.
    pub(super) fn answer_after_round(&mut self) {
        let durable = self.view_has_majority() && self.term.established == self.term.current;
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
                written.without_quorum = !durable;
                self.reply(request, Ok(written));
            } else {
                self.reply(request, Err(RequestError::Interrupted));
            }
        }
    }

    /// The nodes a majority is counted of: the nodelist, or every node the
    /// configuration knows if that is more.
    pub(super) fn cluster_size(&self) -> usize {
        self.settings.nodelist.len().max(self.cib.nodes().count())
    }

    /// Whether the view holds a majority of the cluster's nodes.
    pub(super) fn view_has_majority(&self) -> bool {
        self.member_nodes().len() * 2 > self.cluster_size()
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

    /// Erases each target's history and fail counts; this node's lrmd
    /// forgets its own, so the DC's probes find out afresh.
    fn clean_up(&mut self, targets: &[(NodeId, String)]) -> Version {
        for (node, resource) in targets {
            let mut changed = self.drop_fail_counts(*node, resource);
            changed |= replica::erase_resource(&mut self.cib, *node, resource);
            if changed {
                self.bump_status();
            }
            if *node == self.settings.me.node {
                self.outputs.push_back(crate::Output::LrmForget {
                    resource: resource.clone(),
                });
            }
        }
        self.version()
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
