//! **Controller convergence.** After the faults stop, every live controller
//! joins one view of all nodes, finishes its join round and publishes its
//! status, and all hold one CIB and one DC (CONTROLLER.md §8).

use super::{EndOfRun, Invariant, Observation};

#[derive(Debug)]
pub struct ControllerConvergence;

impl Invariant for ControllerConvergence {
    fn name(&self) -> &'static str {
        "controller-convergence"
    }

    fn observe(&mut self, _observation: &Observation<'_>) -> Result<(), String> {
        Ok(())
    }

    fn finish(&mut self, end: &EndOfRun) -> Result<(), String> {
        let Some(first) = end.controllers.first() else {
            return Ok(());
        };
        let nodes = end.survivors.len().max(end.controllers.len());
        for c in &end.controllers {
            if !c.joined || !c.settled || c.view != nodes {
                return Err(format!(
                    "controller {} did not settle: joined {}, settled {}, view of {} of {nodes} nodes",
                    c.member, c.joined, c.settled, c.view
                ));
            }
            if c.dc.is_none() || c.dc != first.dc {
                return Err(format!(
                    "controller {} sees DC {:?}, controller {} sees {:?}",
                    c.member, c.dc, first.member, first.dc
                ));
            }
            if c.cib != first.cib {
                return Err(format!(
                    "controllers {} and {} hold different CIBs at the end",
                    c.member, first.member
                ));
            }
        }
        Ok(())
    }
}
