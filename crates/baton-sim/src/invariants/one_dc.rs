//! **One DC per configuration.** Controllers with the same view that each
//! name a DC name the same one. Pacemaker elects one DC per partition
//! (FACTS-CRM §1.3); baton computes it, so members of one view can never
//! disagree (CONTROLLER.md §3, §8).

use std::collections::BTreeMap;

use baton_cpg::Member;

use super::{Invariant, Observation};

#[derive(Debug, Default)]
pub struct OneDc {
    /// Each controller's latest view and DC.
    latest: BTreeMap<Member, (Vec<Member>, u32)>,
}

impl Invariant for OneDc {
    fn name(&self) -> &'static str {
        "one-dc"
    }

    fn observe(&mut self, observation: &Observation<'_>) -> Result<(), String> {
        match observation {
            Observation::Controller {
                member, view, dc, ..
            } => {
                let Some(dc) = dc else {
                    self.latest.remove(member);
                    return Ok(());
                };
                for (other, (other_view, other_dc)) in &self.latest {
                    if other != member && other_view.as_slice() == *view && other_dc != dc {
                        return Err(format!(
                            "controllers {member} and {other} share a view of {} members but see DCs {dc} and {other_dc}",
                            view.len()
                        ));
                    }
                }
                self.latest.insert(*member, (view.to_vec(), *dc));
            }
            Observation::Stopped { incarnation } => {
                self.latest.retain(|m, _| m.node != incarnation.node);
            }
            _ => {}
        }
        Ok(())
    }
}
