//! **Group convergence.** At the end of the quiet phase every live node's
//! group membership table is the same, and it holds exactly the clients
//! still running: no ghost members of processes or nodes that died, none
//! missing. FACTS.md §5 (a process that exits without leaving is removed as
//! PROCDOWN, a departed node's members as NODEDOWN, a merge brings the other
//! side's members as NODEUP).

use std::collections::BTreeSet;

use baton_cpg::Member;

use super::{EndOfRun, Invariant, Observation};

#[derive(Debug)]
pub struct GroupConvergence;

impl Invariant for GroupConvergence {
    fn name(&self) -> &'static str {
        "group-convergence"
    }

    fn observe(&mut self, _observation: &Observation<'_>) -> Result<(), String> {
        Ok(())
    }

    fn finish(&mut self, end: &EndOfRun) -> Result<(), String> {
        let alive: BTreeSet<(String, Member)> = end.live_clients.iter().cloned().collect();
        for (node, table) in &end.group_tables {
            let table: BTreeSet<(String, Member)> = table.iter().cloned().collect();
            if table != alive {
                let ghosts: Vec<_> = table.difference(&alive).take(5).collect();
                let missing: Vec<_> = alive.difference(&table).take(5).collect();
                return Err(format!(
                    "node {node}'s group table differs from the running clients: ghosts {ghosts:?}, missing {missing:?}"
                ));
            }
        }
        Ok(())
    }
}
