//! Messages of one ring, indexed by sequence number, with the counters the
//! token visit needs: all-received-up-to (aru), highest seen, and delivered.

use std::collections::BTreeMap;

use crate::codec::McastContent;
use crate::ids::{NodeId, RingId, Seq};

#[derive(Debug, Clone)]
pub(crate) struct StoredMessage {
    pub origin: NodeId,
    pub content: McastContent,
}

#[derive(Debug)]
pub(crate) struct MessageStore {
    pub ring_id: RingId,
    pub messages: BTreeMap<Seq, StoredMessage>,
    /// Every seq in 1..=aru has been received.
    pub aru: Seq,
    /// Highest seq received.
    pub high: Seq,
    /// Highest seq handed to the application (or skipped as recovery data).
    pub delivered: Seq,
    /// Everything at or below this seq has been freed on every member.
    pub freed: Seq,
    /// How far above aru a message may be: flow control never lets a ring
    /// have more in flight (corosync's sort queue), so anything further is
    /// refused rather than stored (it is retransmitted once it fits).
    ahead_max: u64,
}

impl MessageStore {
    pub fn new(ring_id: RingId, ahead_max: u64) -> MessageStore {
        MessageStore {
            ring_id,
            messages: BTreeMap::new(),
            aru: Seq(0),
            high: Seq(0),
            delivered: Seq(0),
            freed: Seq(0),
            ahead_max,
        }
    }

    /// The highest seq this store accepts now.
    pub fn window_end(&self) -> Seq {
        Seq(self.aru.0.saturating_add(self.ahead_max))
    }

    pub fn contains(&self, seq: Seq) -> bool {
        seq <= self.freed || self.messages.contains_key(&seq)
    }

    /// Stores a message; returns false for a duplicate, seq 0 (never
    /// assigned) or a seq beyond the window.
    pub fn insert(&mut self, seq: Seq, message: StoredMessage) -> bool {
        if seq.0 == 0 || seq > self.window_end() || self.contains(seq) {
            return false;
        }
        self.messages.insert(seq, message);
        self.high = self.high.max(seq);
        while self.messages.contains_key(&self.aru.next()) {
            self.aru = self.aru.next();
        }
        true
    }

    /// Drops messages every member has and we have delivered.
    pub fn free_through(&mut self, seq: Seq) {
        let seq = seq.min(self.delivered).min(self.aru);
        if seq <= self.freed {
            return;
        }
        // split_off keeps the part above `seq`.
        self.messages = self.messages.split_off(&seq.next());
        self.freed = seq;
    }

    /// The next message in agreed order, if everything before it is here.
    pub fn next_deliverable(&mut self) -> Option<(Seq, StoredMessage)> {
        if self.delivered >= self.aru {
            return None;
        }
        let seq = self.delivered.next();
        self.delivered = seq;
        let message = self.messages.get(&seq)?.clone();
        Some((seq, message))
    }

    pub fn missing_between(
        &self,
        from_exclusive: Seq,
        to_inclusive: Seq,
    ) -> impl Iterator<Item = Seq> + '_ {
        // A token claiming a seq far beyond the window must not make us
        // walk (or ask for) more than the window holds.
        let to = to_inclusive.min(self.window_end());
        (from_exclusive.0.saturating_add(1)..=to.0)
            .map(Seq)
            .filter(|seq| !self.contains(*seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn message() -> StoredMessage {
        StoredMessage {
            origin: NodeId(1),
            content: McastContent::Application(Arc::from(&b"x"[..])),
        }
    }

    #[test]
    fn aru_advances_only_over_contiguous_messages() {
        let mut store = MessageStore::new(
            RingId {
                seq: 4,
                rep: NodeId(1),
            },
            16,
        );
        assert!(store.insert(Seq(2), message()));
        assert_eq!(store.aru, Seq(0));
        assert_eq!(store.high, Seq(2));
        assert!(store.insert(Seq(1), message()));
        assert_eq!(store.aru, Seq(2));
        assert!(!store.insert(Seq(1), message()), "duplicates are refused");
    }

    #[test]
    fn freeing_never_passes_delivery() {
        let mut store = MessageStore::new(
            RingId {
                seq: 4,
                rep: NodeId(1),
            },
            16,
        );
        for seq in 1..=3 {
            store.insert(Seq(seq), message());
        }
        assert!(store.next_deliverable().is_some());
        store.free_through(Seq(3));
        assert_eq!(store.freed, Seq(1));
        assert!(store.contains(Seq(1)), "freed seqs still count as received");
        assert!(!store.insert(Seq(1), message()));
        assert_eq!(store.messages.len(), 2);
    }

    #[test]
    fn a_seq_beyond_the_window_or_zero_is_refused_and_never_walked() {
        let mut store = MessageStore::new(
            RingId {
                seq: 4,
                rep: NodeId(1),
            },
            16,
        );
        assert!(!store.insert(Seq(0), message()));
        assert!(!store.insert(Seq(17), message()), "beyond aru + 16");
        assert!(store.insert(Seq(16), message()));
        assert_eq!(store.missing_between(Seq(0), Seq(u64::MAX)).count(), 15);
    }
}
