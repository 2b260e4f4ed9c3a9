//! **One CIB per delivered prefix.** Controllers that completed the same
//! join round (they adopted one CIB at the same point of the agreed order)
//! and have since delivered the same group events hold byte-identical
//! CIBs. CONTROLLER.md §8; replicas of a state machine fed one input order
//! agree (Schneider, ACM Computing Surveys 1990).

use std::collections::HashMap;

use super::{Invariant, Observation};

/// Digests by delivered prefix, bounded: beyond it the oldest half is
/// forgotten (checks continue on newer prefixes).
const PREFIXES_MAX: usize = 200_000;

#[derive(Debug, Default)]
pub struct ControllerAgreement {
    digests: HashMap<(u64, u64), (String, String)>,
}

impl Invariant for ControllerAgreement {
    fn name(&self) -> &'static str {
        "one-cib-per-prefix"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        let Observation::Controller {
            member,
            prefix: Some(prefix),
            cib_digest: Some(digest),
            ..
        } = observation
        else {
            return Ok(());
        };
        if self.digests.len() >= PREFIXES_MAX {
            self.digests.clear();
        }
        let who = member.to_string();
        match self.digests.get(prefix) {
            Some((first, expected)) if expected != digest => Err(format!(
                "controller {who} and controller {first} delivered the same events since their last join round ({} of them) but hold different CIBs",
                prefix.1
            )),
            Some(_) => Ok(()),
            None => {
                self.digests.insert(*prefix, (who, (*digest).to_owned()));
                Ok(())
            }
        }
    }
}
