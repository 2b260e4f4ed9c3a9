//! The node scores placement weighed, kept as `crm_simulate -s` prints
//! them so the two can be compared line by line.
//!
//! The lines are the weights assignment itself works with, taken where
//! Pacemaker shows them: a primitive's just before it chooses a node, a
//! group's and a clone's before their members or instances are assigned,
//! and each promotable instance's promotion priority when roles are
//! chosen. The stage names are Pacemaker's function names because that is
//! how its regression files (`scores/NAME.scores`) label each line.

use std::fmt;

use baton_cib::Score;

use super::engine::Engine;
use crate::unpack::RscIdx;

/// Which kind of resource a line of allocation scores was weighed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AssignStage {
    Primitive,
    Group,
    Clone,
}

impl AssignStage {
    fn label(self) -> &'static str {
        match self {
            AssignStage::Primitive => "pcmk__primitive_assign",
            AssignStage::Group => "pcmk__group_assign",
            AssignStage::Clone => "pcmk__clone_assign",
        }
    }
}

/// One line of `crm_simulate -s` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoreLine {
    /// A resource's score on one node when it (or its parent) was assigned.
    Allocation {
        stage: AssignStage,
        rsc: String,
        node: String,
        score: Score,
    },
    /// How much a promotable clone's instance wants to be promoted where it
    /// was placed; `node` is `None` for an instance placed nowhere.
    Promotion {
        rsc: String,
        node: Option<String>,
        score: Score,
    },
}

impl fmt::Display for ScoreLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScoreLine::Allocation {
                stage,
                rsc,
                node,
                score,
            } => write!(
                f,
                "{}: {rsc} allocation score on {node}: {score}",
                stage.label()
            ),
            ScoreLine::Promotion {
                rsc,
                node: Some(node),
                score,
            } => write!(f, "{rsc} promotion score on {node}: {score}"),
            ScoreLine::Promotion {
                rsc,
                node: None,
                score,
            } => write!(f, "{rsc} promotion score (inactive): {score}"),
        }
    }
}

/// Sorts `lines` by their text, the order the regression files keep them in,
/// so the output does not depend on the order resources were assigned in.
pub fn sorted(mut lines: Vec<ScoreLine>) -> Vec<ScoreLine> {
    lines.sort_by_cached_key(ToString::to_string);
    lines
}

impl Engine<'_> {
    /// Records `r`'s node weights as its allocation scores at `stage`,
    /// and those of everything inside it.
    pub(super) fn record_scores(&mut self, stage: AssignStage, r: RscIdx) {
        if !self.out.record_scores {
            return;
        }
        for c in self.state(r).children.clone() {
            self.record_scores(stage, c);
        }
        let lines: Vec<ScoreLine> = self
            .state(r)
            .allowed
            .iter()
            .map(|(&n, slot)| ScoreLine::Allocation {
                stage,
                rsc: self.name(r).to_owned(),
                node: self.node_name(n).to_owned(),
                score: Score::new(i64::from(slot.weight)),
            })
            .collect();
        self.out.score_lines.extend(lines);
    }

    /// Records a promotable instance's promotion priority where it is
    /// placed.
    pub(super) fn record_promotion(&mut self, instance: RscIdx) {
        if !self.out.record_scores {
            return;
        }
        let line = ScoreLine::Promotion {
            rsc: self.name(instance).to_owned(),
            node: self
                .assigned_node(instance)
                .map(|p| self.node_name(p.node).to_owned()),
            score: Score::new(i64::from(self.state(instance).sort_index)),
        };
        self.out.score_lines.push(line);
    }
}
