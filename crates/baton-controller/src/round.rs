//! A join round: every member of a view announces its CIB; once all have,
//! everyone picks the same winner and the same next DC from the same
//! announcements.

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

    /// Records `sender`'s announcement if it is for this round; whether every
    /// member has now announced.
    pub fn record(&mut self, sender: Member, announce: Announce) -> bool {
        if self.winner.is_some() || announce.view != self.view || !self.view.contains(&sender) {
            return false;
        }
        self.announces.insert(sender, announce);
        self.announces.len() == self.view.len()
    }

    /// The member with the highest version, ties to the lower node id.
    pub fn decide(&mut self) -> Option<Member> {
        let winner = self
            .announces
            .iter()
            .max_by(|(m1, a1), (m2, a2)| a1.version.cmp(&a2.version).then(m2.node.cmp(&m1.node)))
            .map(|(m, _)| *m)?;
        self.winner = Some(winner);
        Some(winner)
    }

    pub fn announces(&self) -> impl Iterator<Item = (&Member, &Announce)> {
        self.announces.iter()
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

    /// Whether any member's cluster had a DC before.
    pub fn had_dc(&self) -> bool {
        self.announces.values().any(|a| a.had_dc || a.dc.is_some())
    }
}
