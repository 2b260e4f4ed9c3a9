//! A join round: every member of a view announces its CIB; once all have,
//! everyone picks the same winner and the same next DC from the same
//! announcements.
//!
//! Announcements are kept whatever view the receiver is in: after a merge a
//! node may learn of the joiners later than others do. The round decides
//! when every member of the receiver's view has announced that very view;
//! each member announces only once it reached the view, so the last such
//! announcement is the deciding point for everyone.

use std::collections::BTreeMap;

use crate::wire::Announce;
use crate::{Member, NodeId};

#[derive(Debug)]
pub(crate) struct Round {
    pub view: Vec<Member>,
    announces: BTreeMap<Member, Announce>,
    /// Chosen once every member announced; the round then waits for its sync.
    pub winner: Option<Member>,
}

impl Round {
    pub fn new(view: Vec<Member>) -> Round {
        Round {
            view,
            announces: BTreeMap::new(),
            winner: None,
        }
    }

    /// The view changed during the round: members that left drop out.
    pub fn set_view(&mut self, view: Vec<Member>) {
        self.announces.retain(|m, _| view.contains(m));
        self.view = view;
        self.winner = None;
    }

    /// Records `sender`'s latest announcement; whether every member of the
    /// view has now announced this view.
    pub fn record(&mut self, sender: Member, announce: Announce) -> bool {
        if self.winner.is_some() {
            return false;
        }
        self.announces.insert(sender, announce);
        self.view
            .iter()
            .all(|m| self.announces.get(m).is_some_and(|a| a.view == self.view))
    }

    /// Among the configurations no other one continues, the one of the
    /// newest established term, then the highest version, ties to the lower
    /// node id.
    pub fn decide(&mut self) -> Option<Member> {
        let all: Vec<(&Member, &Announce)> = self.announces().collect();
        let continued = |a: &Announce| {
            all.iter().any(|(_, other)| {
                other.config_digest != a.config_digest
                    && other
                        .lineage
                        .iter()
                        .any(|(epoch, digest)| *epoch == a.version.1 && *digest == a.config_digest)
            })
        };
        let winner = all
            .iter()
            .filter(|(_, a)| !continued(a))
            .max_by(|(m1, a1), (m2, a2)| {
                (a1.term.established, a1.version)
                    .cmp(&(a2.term.established, a2.version))
                    .then(m2.node.cmp(&m1.node))
            })
            .map(|(m, _)| **m)?;
        self.winner = Some(winner);
        Some(winner)
    }

    /// SHA-256 of the members' announcements, in member order.
    pub fn digest(&self) -> String {
        let announced: Vec<(&Member, &Announce)> = self.announces().collect();
        let text = serde_json::to_string(&announced).unwrap_or_default();
        baton_cib::version::sha256_hex(text.as_bytes())
    }

    /// The announcements of the round's members.
    pub fn announces(&self) -> impl Iterator<Item = (&Member, &Announce)> {
        self.announces.iter().filter(|(m, _)| self.view.contains(m))
    }

    pub fn announce_of(&self, member: Member) -> Option<&Announce> {
        self.announces.get(&member)
    }

    /// The DC after the round: the winner's DC if it is still a member, else
    /// any earlier DC that is (the lowest), else the lowest member when the
    /// cluster had a DC before; `None` for a cluster that never had one.
    pub fn next_dc(&self) -> Option<NodeId> {
        let members: Vec<NodeId> = self.view.iter().map(|m| m.node).collect();
        let is_member = |n: &NodeId| members.contains(n);
        let winner_dc = self
            .winner
            .and_then(|w| self.announces.get(&w))
            .and_then(|a| a.dc)
            .filter(is_member);
        winner_dc
            .or_else(|| {
                self.announces
                    .values()
                    .filter_map(|a| a.dc)
                    .filter(is_member)
                    .min()
            })
            .or_else(|| {
                self.had_dc()
                    .then(|| members.iter().copied().min())
                    .flatten()
            })
    }

    /// Every departure any member saw during the round, the most severe
    /// reason for each node; members are not departed.
    pub fn departed(&self) -> std::collections::BTreeMap<NodeId, crate::LeaveReason> {
        let mut out = std::collections::BTreeMap::new();
        for (_, announce) in self.announces() {
            for (node, reason) in &announce.departed {
                let worst = out.entry(*node).or_insert(*reason);
                *worst = (*worst).max(*reason);
            }
        }
        out.retain(|node, _| !self.view.iter().any(|m| m.node == *node));
        out
    }

    /// The highest terms announced (current and established, each).
    pub fn term(&self) -> crate::Term {
        let announced = || self.announces().map(|(_, a)| a.term);
        crate::Term {
            established: announced().map(|t| t.established).max().unwrap_or(0),
            current: announced().map(|t| t.current).max().unwrap_or(0),
        }
    }

    /// Whether any member's cluster had a DC before.
    pub fn had_dc(&self) -> bool {
        self.announces().any(|(_, a)| a.had_dc || a.dc.is_some())
    }
}
