//! GATHER and COMMIT: joins, the consensus rule and the commit token
//! (FACTS §1.3, §1.4).

use std::collections::BTreeSet;

use crate::codec::{Body, CommitToken, Join, MemberEntry};
use crate::core::{Gather, State, Timer, Totem, VisitMemory};
use crate::ids::{NodeId, RingId};
use crate::output::Destination;

/// Joins go out at most every `join_ms / JOIN_GAP_DIVISOR` ms.
const JOIN_GAP_DIVISOR: u64 = 10;

impl Totem {
    /// Enters GATHER from any state. From OPERATIONAL the failed list starts
    /// empty and the proc list is the ring; later re-entries keep what we know.
    pub(crate) fn enter_gather(&mut self) {
        if self.state == State::Operational {
            self.gather.failed_set.clear();
            self.gather.proc_set.clear();
            self.gather.pulled_in_by = None;
        }
        self.gather.proc_set.extend(self.members.iter().copied());
        self.gather.proc_set.insert(self.me);
        self.gather.failed_set.remove(&self.me);
        self.state = State::Gather;
        self.recovery = None;
        self.held_token = None;
        self.last_token_sent = None;
        self.disarm_all();
        self.restart_gather();
    }

    /// (Re)starts a gather round: new consensus set, fresh join, timers.
    fn restart_gather(&mut self) {
        debug_assert_eq!(self.state, State::Gather);
        self.gather.consensus.clear();
        self.gather.consensus.insert(self.me);
        // Every change of our lists is announced, but at most once per
        // JOIN_GAP_MS: otherwise nodes answering each other's joins with
        // joins multiply the traffic without bound.
        let gap_ms = self.config.join_ms / JOIN_GAP_DIVISOR;
        match self.last_join_at {
            Some(at) if self.now.0 < at.0 + gap_ms => {
                self.arm(Timer::Join, at.0 + gap_ms - self.now.0)
            }
            _ => {
                self.send_join();
                self.arm(Timer::Join, self.config.join_ms);
            }
        }
        self.arm(Timer::Consensus, self.config.consensus_ms);
    }

    pub(crate) fn send_join(&mut self) {
        self.last_join_at = Some(self.now);
        let join = Join {
            ring_seq: self.ring_id.seq,
            leave: false,
            proc_list: self.gather.proc_set.iter().copied().collect(),
            failed_list: self.gather.failed_set.iter().copied().collect(),
        };
        self.send(Destination::Broadcast, Body::Join(join));
    }

    pub(crate) fn on_join(&mut self, from: NodeId, join: Join) {
        self.ring_seq_max = self.ring_seq_max.max(join.ring_seq);
        if join.leave {
            self.on_leave(from);
            return;
        }
        let is_member = self.members.contains(&from);
        match self.state {
            State::Operational => {
                // A join naming us failed, or a stale one from the gather
                // that built this ring, changes nothing (as in corosync);
                // nor, unlike corosync, does a verdict older than our ring.
                if join.failed_list.contains(&self.me)
                    || (is_member && join.ring_seq < self.ring_id.seq)
                    || self.is_verdict_older_than_our_ring(from, &join)
                {
                    return;
                }
                self.enter_gather();
            }
            State::Commit | State::Recovery => {
                // Only a member of the new ring that has given up on it
                // (its join carries the new ring seq) stops the formation.
                if !(is_member && join.ring_seq >= self.ring_id.seq) {
                    return;
                }
                self.enter_gather();
            }
            State::Gather => {
                // A gather that has failed nobody yet, typically a ring just
                // pulled in by a merge, ignores that verdict too when it
                // comes from a node it is not yet waiting for: it is just as
                // old. Followed there, our members failed the sender, whose
                // gather still failed them, while a third group's new ring
                // pulled one of the two into the next round: three groups
                // re-formed apart this way forever (seed 198, 16 nodes).
                // Once a round has failed someone it is handling a real
                // failure, and corosync's rules apply; ignoring such joins
                // then as well slowed 16-node clusters past the bound.
                //
                // A join from a node already in our proc list is handled as
                // in corosync: ignored, it would only hold our round until
                // the consensus timeout, and the lost time left five groups
                // apart (seed 442, 9 nodes). The exception is the node whose
                // ring pulled us in, when its join left before that ring
                // formed: following that late join, one node and the rest
                // failed each other every round (seed 5459, 4 nodes).
                let sent_before_pulling_us_in = self
                    .gather
                    .pulled_in_by
                    .is_some_and(|(node, seq)| node == from && join.ring_seq < seq);
                if self.gather.failed_set.is_empty()
                    && (!self.gather.proc_set.contains(&from) || sent_before_pulling_us_in)
                    && self.is_verdict_older_than_our_ring(from, &join)
                {
                    return;
                }
            }
            State::Left => return,
        }
        self.gather_join(from, &join);
    }

    /// Whether `join` comes from a node outside our ring, still on an older
    /// ring than ours, and names one of our members failed; corosync follows
    /// such a verdict unless it names the receiver. While the ring runs its
    /// members send no joins (one that starts gathering takes the ring
    /// down), so that verdict predates the ring. Following it pulls the
    /// whole ring into a gather in which the named members fail the sender
    /// in turn, and the sender, hearing that, fails them in its next round:
    /// two groups kept re-forming apart this way forever (seeds 3486 and
    /// 87). Ignored, the sender's gather ends without us and merges with our
    /// ring afterwards, its failed list cleared. The "older ring" condition
    /// keeps this narrow: ignoring every such join also held back senders
    /// whose ring is newer than ours, and slowed 16-node clusters past the
    /// bound.
    fn is_verdict_older_than_our_ring(&self, from: NodeId, join: &Join) -> bool {
        !self.members.contains(&from)
            && join.ring_seq < self.ring_id.seq
            && join.failed_list.iter().any(|n| self.members.contains(n))
    }

    fn on_leave(&mut self, from: NodeId) {
        let relevant = self.members.contains(&from) || self.gather.proc_set.contains(&from);
        if !relevant || (self.gather.failed_set.contains(&from) && self.state == State::Gather) {
            return;
        }
        if self.state != State::Gather {
            self.enter_gather();
        }
        self.gather.proc_set.insert(from);
        self.gather.failed_set.insert(from);
        self.restart_gather();
    }

    /// The consensus rule (FACTS §1.3, join processing).
    fn gather_join(&mut self, from: NodeId, join: &Join) {
        let proc_list: BTreeSet<NodeId> = join.proc_list.iter().copied().collect();
        let failed_list: BTreeSet<NodeId> = join.failed_list.iter().copied().collect();
        if proc_list == self.gather.proc_set && failed_list == self.gather.failed_set {
            self.gather.consensus.insert(from);
            return;
        }
        let nothing_new = proc_list.is_subset(&self.gather.proc_set)
            && failed_list.is_subset(&self.gather.failed_set);
        if nothing_new || self.gather.failed_set.contains(&from) {
            return;
        }
        let sizes_before = (self.gather.proc_set.len(), self.gather.failed_set.len());
        self.gather.proc_set.extend(proc_list.iter().copied());
        self.gather.proc_set.insert(from);
        if failed_list.contains(&self.me) {
            self.gather.failed_set.insert(from);
        } else if self.members.contains(&from) {
            self.gather.failed_set.extend(failed_list.iter().copied());
        }
        // Both lists only grow within a gather, so restarting only on a real
        // change bounds the restarts; restarting on every foreign join would
        // keep pushing the consensus timeout away forever.
        if (self.gather.proc_set.len(), self.gather.failed_set.len()) != sizes_before {
            self.restart_gather();
        }
    }

    pub(crate) fn consensus_expired(&mut self) {
        let silent: Vec<NodeId> = self
            .live_set()
            .into_iter()
            .filter(|n| !self.gather.consensus.contains(n))
            .collect();
        self.gather.failed_set.extend(silent);
        self.restart_gather();
    }

    /// Self-failure (FACTS §1.3, fail_recv_const): we cannot receive from the
    /// ring, so we give up on everyone else and end in a singleton ring.
    pub(crate) fn fail_self(&mut self) {
        self.enter_gather();
        let others: Vec<NodeId> = self
            .gather
            .proc_set
            .iter()
            .copied()
            .filter(|n| *n != self.me)
            .collect();
        self.gather.failed_set.extend(others);
        self.restart_gather();
    }

    fn live_set(&self) -> Vec<NodeId> {
        self.gather
            .proc_set
            .difference(&self.gather.failed_set)
            .copied()
            .collect()
    }

    /// Called after every input: if everyone live agrees and we are the
    /// lowest, we create the commit token.
    pub(crate) fn check_consensus(&mut self) {
        if self.state != State::Gather {
            return;
        }
        let live = self.live_set();
        let agreed = live.iter().all(|n| self.gather.consensus.contains(n));
        if agreed && live.first() == Some(&self.me) {
            let ring_id = RingId {
                seq: self.ring_seq_max.max(self.ring_id.seq) + 4,
                rep: self.me,
            };
            let token = CommitToken {
                ring_id,
                memb_index: 0,
                addrs: live,
                entries: Vec::new(),
            };
            self.commit_rotation_one(token);
        }
    }

    /// First rotation: record our old-ring state and commit to the new ring.
    pub(crate) fn commit_rotation_one(&mut self, mut token: CommitToken) {
        let ring_size = token.addrs.len();
        let index = token.memb_index as usize;
        let live = self.live_set();
        let acceptable = index < ring_size
            && token.addrs[index] == self.me
            && token.entries.len() == index
            && token.ring_id.seq > self.ring_id.seq
            && token.addrs == live
            && token.ring_id.rep == token.addrs[0];
        if !acceptable {
            return;
        }
        token.entries.push(MemberEntry {
            old_ring_id: self.installed.ring_id,
            aru: self.installed.aru,
            high_delivered: self.installed.delivered,
            received_flg: self.installed.aru == self.installed.high,
        });
        token.memb_index += 1;
        self.state = State::Commit;
        // The lists did their job. Carrying a failed list into the next
        // gather would exclude nodes that are fine by now, and a member that
        // never reaches OPERATIONAL would spread that stale list to everyone.
        self.gather = Gather::default();
        self.ring_id = token.ring_id;
        self.members = token.addrs.clone();
        self.ring_seq_max = self.ring_seq_max.max(token.ring_id.seq);
        self.visit = VisitMemory::default();
        self.disarm_all();
        // Persist before the token leaves: the ring exists once we pass it on.
        self.persist_ring_seq(token.ring_id.seq);
        self.arm(Timer::TokenLoss, self.config.token_ms);
        let next = token.addrs[token.memb_index as usize % ring_size];
        self.forward_token(next, Body::Commit(token));
    }

    /// Second rotation: the member list is complete; move to RECOVERY. Back
    /// at the representative, the first ORF token starts.
    pub(crate) fn commit_rotation_two(&mut self, token: CommitToken) {
        let complete = token.ring_id == self.ring_id
            && token.memb_index as usize == token.addrs.len()
            && token.entries.len() == token.addrs.len()
            && token.addrs == self.members;
        if !complete {
            return;
        }
        match self.state {
            State::Commit => {
                self.arm(Timer::TokenLoss, self.config.token_ms);
                self.enter_recovery(&token);
                let next = self.next_member(&token.addrs);
                self.forward_token(next, Body::Commit(token));
            }
            State::Recovery if self.me == self.ring_id.rep => self.start_first_token(),
            _ => {}
        }
    }

    /// A data message or merge probe from a node outside our ring: another
    /// ring is reachable, so gather with it (FACTS §1.6, merge).
    pub(crate) fn on_foreign_ring_hint(&mut self, from: NodeId, ring_id: RingId) {
        if self.state != State::Operational
            || ring_id == self.ring_id
            || self.members.contains(&from)
        {
            return;
        }
        self.enter_gather();
        self.gather.pulled_in_by = Some((from, ring_id.seq));
        if self.gather.proc_set.insert(from) {
            self.restart_gather();
        }
    }
}
