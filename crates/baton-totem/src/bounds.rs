//! What an authenticated peer may claim. The transport proves who sent a
//! packet, not that its numbers are sane: a join listing more nodes than a
//! ring can hold, a ring seq near u64's end, or a token whose sequence
//! numbers would overflow our arithmetic would crash or wedge this node.
//! Such packets are refused (and counted by the driver) before any state
//! changes.

use std::collections::BTreeSet;

use crate::codec::{Body, Packet};
use crate::config::{PROCESSORS_MAX, RING_SEQ_JUMP_MAX, SEQ_LIMIT};
use crate::core::Totem;
use crate::ids::NodeId;
use crate::output::Rejected;

impl Totem {
    pub(crate) fn check_bounds(&self, packet: &Packet) -> Result<(), Rejected> {
        let from = packet.sender;
        match &packet.body {
            Body::Join(join) => {
                self.check_ring_seq("join", join.ring_seq)?;
                let named = join.proc_list.iter().chain(&join.failed_list);
                self.check_membership_growth(from, named)
            }
            Body::Commit(token) => self.check_ring_seq("commit token", token.ring_id.seq),
            Body::MergeDetect { ring_id } => {
                self.check_ring_seq("merge probe", ring_id.seq)?;
                self.check_membership_growth(from, std::iter::empty())
            }
            Body::Mcast(mcast) => {
                self.check_ring_seq("message", mcast.ring_id.seq)?;
                check_seq("message seq", mcast.seq.0)
            }
            Body::Token(token) => {
                self.check_ring_seq("token", token.ring_id.seq)?;
                check_seq("token hop counter", token.token_seq)?;
                check_seq("token seq", token.seq.0)?;
                check_seq("token aru", token.aru.0)
            }
            Body::HoldCancel { ring_id } => self.check_ring_seq("hold cancel", ring_id.seq),
        }
    }

    fn check_ring_seq(&self, what: &'static str, seq: u64) -> Result<(), Rejected> {
        let most = self
            .ring_seq_max
            .saturating_add(RING_SEQ_JUMP_MAX)
            .min(SEQ_LIMIT);
        if seq > most {
            return Err(Rejected::OutOfBounds(format!(
                "{what} claims ring seq {seq}, beyond {most} (the highest seen is {})",
                self.ring_seq_max
            )));
        }
        Ok(())
    }

    /// Whether taking in `from` and the nodes a packet names would make
    /// our membership larger than a ring can hold.
    fn check_membership_growth<'a>(
        &self,
        from: NodeId,
        named: impl Iterator<Item = &'a NodeId>,
    ) -> Result<(), Rejected> {
        let mut all: BTreeSet<NodeId> = self.members.iter().copied().collect();
        all.extend(self.gather.proc_set.iter().copied());
        all.insert(from);
        all.extend(named.copied());
        if all.len() > PROCESSORS_MAX {
            return Err(Rejected::OutOfBounds(format!(
                "it would grow the membership to {} nodes; a ring holds at most {PROCESSORS_MAX}",
                all.len()
            )));
        }
        Ok(())
    }
}

fn check_seq(what: &'static str, seq: u64) -> Result<(), Rejected> {
    if seq > SEQ_LIMIT {
        return Err(Rejected::OutOfBounds(format!(
            "{what} {seq} is beyond {SEQ_LIMIT}"
        )));
    }
    Ok(())
}
