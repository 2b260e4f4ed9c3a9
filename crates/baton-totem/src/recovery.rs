//! RECOVERY: re-sending old-ring messages so that the survivors of each old
//! ring converge, then installing the new ring in extended-virtual-synchrony
//! order (FACTS §1.5; Amir et al., TOCS 1995, §5).

use std::collections::VecDeque;

use crate::codec::{CommitToken, McastContent, OrfToken};
use crate::core::{Gather, PendingInstall, State, Timer, Totem, VisitMemory};
use crate::ids::{NodeId, Seq};
use crate::output::{ConfigKind, Output};
use crate::store::{MessageStore, StoredMessage};

impl Totem {
    pub(crate) fn enter_recovery(&mut self, token: &CommitToken) {
        debug_assert_eq!(token.entries.len(), token.addrs.len());
        let old_ring_id = self.installed.ring_id;
        let survivors: Vec<_> = token
            .addrs
            .iter()
            .zip(&token.entries)
            .filter(|(_, entry)| entry.old_ring_id == old_ring_id)
            .collect();
        debug_assert!(survivors.iter().any(|(node, _)| **node == self.me));
        let transitional: Vec<NodeId> = survivors.iter().map(|(node, _)| **node).collect();
        let low = survivors
            .iter()
            .map(|(_, entry)| entry.aru)
            .min()
            .unwrap_or(Seq(0));
        // Everything above the lowest survivor's aru may be missing somewhere.
        // The survivor with the highest aru (lowest id on ties) holds all of
        // it up to its aru and re-sends that; above its aru, where copies are
        // scattered, every survivor re-sends what it holds, so all end with
        // the union. Nothing above `low` has been freed anywhere: freeing
        // stops at `safe_aru`, which never exceeds any member's aru.
        let best = survivors
            .iter()
            .max_by_key(|(node, entry)| (entry.aru, std::cmp::Reverse(**node)))
            .map(|(node, entry)| (**node, entry.aru));
        let resend_above = match best {
            Some((node, _)) if node == self.me => low,
            Some((_, best_aru)) => best_aru,
            None => low,
        };
        let resend: VecDeque<Seq> = self
            .installed
            .messages
            .range(resend_above.next()..)
            .filter(|(_, message)| matches!(message.content, McastContent::Application(_)))
            .map(|(seq, _)| *seq)
            .collect();
        self.recovery = Some(PendingInstall {
            transitional,
            resend,
            store: MessageStore::new(self.ring_id, self.config.ring_messages_max),
            first_token_sent: false,
        });
        self.state = State::Recovery;
        self.visit = VisitMemory::default();
    }

    /// Back at the representative after the second commit rotation.
    pub(crate) fn start_first_token(&mut self) {
        let Some(pending) = self.recovery.as_mut() else {
            return;
        };
        if pending.first_token_sent {
            return;
        }
        pending.first_token_sent = true;
        let token = OrfToken {
            ring_id: self.ring_id,
            token_seq: 0,
            seq: Seq(0),
            aru: Seq(0),
            aru_addr: None,
            rotation_min_aru: Seq(0),
            safe_aru: Seq(0),
            backlog: 0,
            fcc: 0,
            // Set until a full rotation proves nobody has anything to re-send.
            retrans_flg: true,
            install: false,
            rtr_list: Vec::new(),
        };
        self.on_orf_token(token);
    }

    pub(crate) fn store_recovery_message(&mut self, seq: Seq, message: StoredMessage) {
        let Some(pending) = self.recovery.as_mut() else {
            return;
        };
        if !pending.store.insert(seq, message.clone()) {
            return;
        }
        if let McastContent::Encapsulated {
            old_ring_id,
            old_seq,
            old_origin,
            payload,
        } = message.content
            && old_ring_id == self.installed.ring_id
            && old_seq.0 > 0
        {
            self.installed.insert(
                old_seq,
                StoredMessage {
                    origin: old_origin,
                    content: McastContent::Application(payload),
                },
            );
        }
    }

    /// The representative's test, at its own visit, that every member holds
    /// every recovery message and nobody has more to send: during the last
    /// rotation nobody raised `retrans_flg` and every member's aru was at
    /// the current seq (`safe_aru` is that rotation's minimum).
    pub(crate) fn recovery_complete(&self, token: &OrfToken) -> bool {
        let Some(pending) = &self.recovery else {
            return false;
        };
        !token.retrans_flg
            && token.safe_aru == token.seq
            && pending.store.aru == token.seq
            && pending.resend.is_empty()
    }

    /// Whoever still has recovery messages raises the flag; the
    /// representative clears it at the start of each rotation.
    pub(crate) fn update_retrans_flag(&self, token: &mut OrfToken) {
        let pending = self.recovery.as_ref().is_some_and(|p| !p.resend.is_empty());
        if self.me == self.ring_id.rep {
            token.retrans_flg = pending;
        } else if pending {
            token.retrans_flg = true;
        }
    }

    /// RECOVERY → OPERATIONAL, delivering in the EVS order (FACTS §1.5):
    /// gap-free old messages, the transitional configuration, old messages
    /// past gaps from transitional members, then the regular configuration.
    pub(crate) fn install(&mut self) {
        let Some(pending) = self.recovery.take() else {
            debug_assert!(false, "install without a pending ring");
            return;
        };
        while let Some((_, message)) = self.installed.next_deliverable() {
            self.deliver_application(message);
        }
        let transitional = pending.transitional;
        let left: Vec<NodeId> = self
            .installed_members
            .iter()
            .copied()
            .filter(|n| !transitional.contains(n))
            .collect();
        self.outputs.push_back(Output::ConfigChange {
            kind: ConfigKind::Transitional,
            ring_id: self.ring_id,
            members: transitional.clone(),
            left,
            joined: Vec::new(),
        });
        let past_gaps: Vec<StoredMessage> = self
            .installed
            .messages
            .range(self.installed.delivered.next()..)
            .filter(|(_, message)| transitional.contains(&message.origin))
            .map(|(_, message)| message.clone())
            .collect();
        for message in past_gaps {
            self.deliver_application(message);
        }
        let joined: Vec<NodeId> = self
            .members
            .iter()
            .copied()
            .filter(|n| !transitional.contains(n))
            .collect();
        self.outputs.push_back(Output::ConfigChange {
            kind: ConfigKind::Regular,
            ring_id: self.ring_id,
            members: self.members.clone(),
            left: Vec::new(),
            joined,
        });
        self.installed = pending.store;
        self.installed_members = self.members.clone();
        self.state = State::Operational;
        self.gather = Gather::default();
        self.merge_probe_high = None;
        if self.me == self.ring_id.rep {
            self.arm(Timer::Merge, self.config.merge_ms);
        }
    }

    fn deliver_application(&mut self, message: StoredMessage) {
        if let McastContent::Application(payload) = message.content {
            self.outputs.push_back(Output::Deliver {
                sender: message.origin,
                payload,
            });
        }
    }
}
