//! The token visit, data messages, token hold and merge probes
//! (FACTS §1.6). Used in OPERATIONAL and, for recovery traffic, RECOVERY.

use crate::codec::{Body, Mcast, McastContent, OrfToken};
use crate::config::RTR_ENTRIES_MAX;
use crate::core::{State, Timer, Totem};
use crate::ids::{NodeId, Seq};
use crate::output::{Destination, Output};
use crate::store::{MessageStore, StoredMessage};

impl Totem {
    pub(crate) fn on_orf_token(&mut self, mut token: OrfToken) {
        let in_ring = matches!(self.state, State::Operational | State::Recovery);
        if !in_ring || token.ring_id != self.ring_id {
            return;
        }
        if self
            .visit
            .last_token_seq
            .is_some_and(|last| token.token_seq <= last)
        {
            return;
        }
        self.visit.last_token_seq = Some(token.token_seq);
        self.arm(Timer::TokenLoss, self.config.token_ms);
        self.disarm(Timer::TokenRetransmit);
        self.last_token_sent = None;
        if self.me == self.ring_id.rep {
            // A new rotation starts here: publish the one that ended.
            token.safe_aru = token.safe_aru.max(token.rotation_min_aru);
        }
        if self.state == State::Recovery {
            if !token.install && self.me == self.ring_id.rep && self.recovery_complete(&token) {
                token.install = true;
            }
            if token.install {
                self.install();
            }
        }
        self.token_visit(token);
    }

    fn active_store(&mut self) -> &mut MessageStore {
        match &mut self.recovery {
            Some(pending) if self.state == State::Recovery => &mut pending.store,
            _ => &mut self.installed,
        }
    }

    fn token_visit(&mut self, mut token: OrfToken) {
        let operational = self.state == State::Operational;
        if operational {
            self.installed.free_through(token.safe_aru);
        }

        // Flow control (FACTS §1.6 step 5).
        let backlog_now = self.backlog_len();
        let mut allowed = self
            .config
            .max_messages
            .min(self.config.window_size.saturating_sub(token.fcc));
        let backlog_total = (u64::from(token.backlog) + backlog_now as u64)
            .saturating_sub(u64::from(self.visit.backlog_prev_visit));
        // Our fair share of the window by backlog (FACTS §1.6 step 5).
        let share =
            (u64::from(self.config.window_size) * backlog_now as u64).checked_div(backlog_total);
        if let Some(share) = share
            && share > 0
            && share < u64::from(allowed)
        {
            allowed = u32::try_from(share).unwrap_or(allowed);
        }
        let in_flight = token.seq.0.saturating_sub(token.aru.0);
        let room = self.config.ring_messages_max.saturating_sub(in_flight);
        allowed = allowed.min(u32::try_from(room).unwrap_or(u32::MAX));

        // Retransmissions first: they unblock everyone's delivery.
        let mut sent = 0u32;
        let requested = std::mem::take(&mut token.rtr_list);
        for seq in requested {
            let held = self.active_store().messages.get(&seq).cloned();
            match held {
                Some(message) if sent < allowed => {
                    self.multicast(seq, message);
                    sent += 1;
                }
                _ => token.rtr_list.push(seq),
            }
        }

        // New messages.
        while sent < allowed {
            let Some(message) = self.next_to_send() else {
                break;
            };
            let seq = token.seq.next();
            token.seq = seq;
            self.active_store().insert(seq, message.clone());
            self.multicast(seq, message);
            sent += 1;
        }

        self.request_missing(&mut token);

        let backlog_now = self.backlog_len();
        token.fcc = (token.fcc + sent).saturating_sub(self.visit.sent_prev_visit);
        token.backlog = u32::try_from(
            (u64::from(token.backlog) + backlog_now as u64)
                .saturating_sub(u64::from(self.visit.backlog_prev_visit)),
        )
        .unwrap_or(u32::MAX);
        self.visit.sent_prev_visit = sent;
        self.visit.backlog_prev_visit = u32::try_from(backlog_now).unwrap_or(u32::MAX);

        self.update_aru(&mut token);
        let my_aru = self.active_store().aru;
        token.rotation_min_aru = if self.me == self.ring_id.rep {
            my_aru
        } else {
            token.rotation_min_aru.min(my_aru)
        };
        if operational && self.visit.aru_stuck_visits > self.config.fail_recv_const {
            self.fail_self();
            return;
        }
        if self.state == State::Recovery {
            self.update_retrans_flag(&mut token);
        }
        let seq_unchanged = self.visit.prev_seq == Some(token.seq);
        self.visit.prev_seq = Some(token.seq);
        token.token_seq += 1;

        if operational && self.me == self.ring_id.rep {
            self.visit.seq_unchanged_visits = if seq_unchanged {
                self.visit.seq_unchanged_visits + 1
            } else {
                0
            };
            let idle = self.visit.seq_unchanged_visits > self.config.seqno_unchanged_const
                && token.rtr_list.is_empty()
                && self.submitted.is_empty();
            if idle {
                self.held_token = Some(token);
                self.arm(Timer::Hold, self.config.hold_ms);
                self.deliver_ready();
                return;
            }
        }
        let next = self.next_member(&self.members.clone());
        self.forward_token(next, Body::Token(token));
        if self.state == State::Operational {
            self.deliver_ready();
        }
    }

    fn backlog_len(&self) -> usize {
        match &self.recovery {
            Some(pending) if self.state == State::Recovery => pending.resend.len(),
            _ => self.submitted.len(),
        }
    }

    /// In OPERATIONAL the next submitted message; in RECOVERY the next
    /// old-ring message to re-send encapsulated.
    fn next_to_send(&mut self) -> Option<StoredMessage> {
        if self.state == State::Recovery {
            let old_ring_id = self.installed.ring_id;
            while let Some(old_seq) = self.recovery.as_mut()?.resend.pop_front() {
                if let Some(old) = self.installed.messages.get(&old_seq)
                    && let McastContent::Application(payload) = &old.content
                {
                    return Some(StoredMessage {
                        origin: self.me,
                        content: McastContent::Encapsulated {
                            old_ring_id,
                            old_seq,
                            old_origin: old.origin,
                            payload: payload.clone(),
                        },
                    });
                }
            }
            return None;
        }
        let payload = self.submitted.pop_front()?;
        Some(StoredMessage {
            origin: self.me,
            content: McastContent::Application(payload),
        })
    }

    fn multicast(&mut self, seq: Seq, message: StoredMessage) {
        let mcast = Mcast {
            ring_id: self.ring_id,
            seq,
            origin: message.origin,
            content: message.content,
        };
        self.send(Destination::Broadcast, Body::Mcast(mcast));
    }

    /// Adds our gaps to the retransmit list once each has been missing for
    /// `miss_count_const` visits (FACTS §1.6 step 4).
    fn request_missing(&mut self, token: &mut OrfToken) {
        let store = match &self.recovery {
            Some(pending) if self.state == State::Recovery => &pending.store,
            _ => &self.installed,
        };
        let aru = store.aru;
        self.visit
            .missing_visits
            .retain(|seq, _| *seq > aru && !store.contains(*seq));
        let missing: Vec<Seq> = store.missing_between(aru, token.seq).collect();
        for seq in missing {
            let visits = self.visit.missing_visits.entry(seq).or_insert(0);
            *visits += 1;
            let ready = *visits >= self.config.miss_count_const;
            if ready && token.rtr_list.len() < RTR_ENTRIES_MAX && !token.rtr_list.contains(&seq) {
                token.rtr_list.push(seq);
            }
        }
    }

    /// FACTS §1.6 step 8, plus the fail_recv_const self-failure check.
    fn update_aru(&mut self, token: &mut OrfToken) {
        let my_aru = self.active_store().aru;
        let aru_before = token.aru;
        let holder_was_me = token.aru_addr == Some(self.me);
        if my_aru < token.aru || holder_was_me || token.aru_addr.is_none() {
            token.aru = my_aru;
            token.aru_addr = if my_aru == token.seq {
                None
            } else {
                Some(self.me)
            };
        }
        if holder_was_me && token.aru_addr == Some(self.me) && token.aru == aru_before {
            self.visit.aru_stuck_visits += 1;
        } else {
            self.visit.aru_stuck_visits = 0;
        }
    }

    /// Data from the network. Messages of our installed ring are accepted in
    /// GATHER too (they were sent before the ring broke); after we commit,
    /// the old ring only changes through recovery, so every member of the
    /// new ring reports and converges on the same old-ring state.
    pub(crate) fn on_mcast(&mut self, from: NodeId, mcast: Mcast) {
        let message = StoredMessage {
            origin: mcast.origin,
            content: mcast.content,
        };
        if mcast.ring_id == self.ring_id {
            match self.state {
                State::Operational => {
                    self.installed.insert(mcast.seq, message);
                    self.deliver_ready();
                }
                State::Recovery => self.store_recovery_message(mcast.seq, message),
                State::Gather if self.installed.ring_id == mcast.ring_id => {
                    self.installed.insert(mcast.seq, message);
                }
                _ => {}
            }
        } else if mcast.ring_id == self.installed.ring_id && self.state == State::Gather {
            self.installed.insert(mcast.seq, message);
        } else {
            self.on_foreign_ring_hint(from, mcast.ring_id);
        }
    }

    pub(crate) fn deliver_ready(&mut self) {
        debug_assert_eq!(self.state, State::Operational);
        while let Some((_, message)) = self.installed.next_deliverable() {
            // Encapsulated entries were recovery traffic for the previous
            // ring; they were delivered (or not) at install time.
            if let McastContent::Application(payload) = message.content {
                self.outputs.push_back(Output::Deliver {
                    sender: message.origin,
                    payload,
                });
            }
        }
    }

    /// Someone has data: stop holding the token (FACTS §1.6, hold).
    pub(crate) fn cancel_token_hold(&mut self) {
        if self.held_token.is_some() {
            self.release_held_token();
        } else if self.ring_id.rep != self.me {
            let ring_id = self.ring_id;
            self.send(Destination::Node(ring_id.rep), Body::HoldCancel { ring_id });
        }
    }

    pub(crate) fn release_held_token(&mut self) {
        if self.state != State::Operational {
            return;
        }
        if let Some(token) = self.held_token.take() {
            self.disarm(Timer::Hold);
            self.visit.seq_unchanged_visits = 0;
            let next = self.next_member(&self.members.clone());
            self.forward_token(next, Body::Token(token));
        }
    }

    /// The representative of an idle ring announces it so that other rings
    /// (a healed partition, a restarted node) merge with us.
    pub(crate) fn probe_for_merge(&mut self) {
        if self.me != self.ring_id.rep {
            return;
        }
        let high = self.installed.high;
        if self.merge_probe_high == Some(high) {
            let ring_id = self.ring_id;
            self.send(Destination::Broadcast, Body::MergeDetect { ring_id });
        }
        self.merge_probe_high = Some(high);
        self.arm(Timer::Merge, self.config.merge_ms);
    }
}
