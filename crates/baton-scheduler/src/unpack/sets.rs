//! Resource sets in order and colocation constraints, expanded into the
//! pairwise constraints they stand for.
//!
//! Order sets: inside a sequential set each member follows the one before
//! it; each set follows the set before it (its last member when that set
//! is sequential, else all of it). A set with `require-all=false` lets what
//! follows start once any one of its members runs.
//!
//! Colocation sets: inside a sequential set each member is placed with the
//! one before it (with every one before it when the score is negative, so
//! no two share a node); each set is placed with the set after it.

use baton_cib::Score;
use baton_cib::model::{ModelError, ResourceSet};

use super::{Cluster, ColocationCons, OneOrMoreOrder, OrderCons, Role, RscIdx};

/// One set, resolved.
struct Set {
    id: String,
    members: Vec<RscIdx>,
    sequential: bool,
    require_all: bool,
    action: String,
    role: Option<Role>,
}

fn resolve(cluster: &Cluster, set: ResourceSet<'_>) -> Result<Set, ModelError> {
    Ok(Set {
        id: set.id().to_owned(),
        members: set.resources().flat_map(|r| cluster.resolve(r)).collect(),
        sequential: set.sequential()?.unwrap_or(true),
        require_all: set.require_all()?.unwrap_or(true),
        action: set.action().unwrap_or("start").to_owned(),
        role: super::resources::role_attr(set.role()),
    })
}

/// What an order constraint's options say about every pair it implies.
pub struct OrderOptions {
    pub id: String,
    pub mandatory: bool,
    pub symmetrical: bool,
}

pub fn expand_order<'a>(
    cluster: &mut Cluster,
    sets: impl Iterator<Item = ResourceSet<'a>>,
    options: &OrderOptions,
) -> Result<(), ModelError> {
    let sets: Vec<Set> = sets
        .map(|s| resolve(cluster, s))
        .collect::<Result<_, _>>()?;
    let pair = |first: RscIdx, first_action: &str, then: RscIdx, then_action: &str| OrderCons {
        id: options.id.clone(),
        first,
        first_action: first_action.to_owned(),
        then,
        then_action: then_action.to_owned(),
        mandatory: options.mandatory,
        symmetrical: options.symmetrical,
        require_all: true,
    };
    let mut pairs = Vec::new();
    for set in sets.iter().filter(|s| s.sequential) {
        for w in set.members.windows(2) {
            pairs.push(pair(w[0], &set.action, w[1], &set.action));
        }
    }
    for w in sets.windows(2) {
        let (before, after) = (&w[0], &w[1]);
        let thens: Vec<RscIdx> = if after.sequential {
            after.members.first().copied().into_iter().collect()
        } else {
            after.members.clone()
        };
        if !before.require_all {
            for &then in &thens {
                cluster.one_or_more_orders.push(OneOrMoreOrder {
                    set_id: before.id.clone(),
                    firsts: before.members.clone(),
                    then,
                    symmetrical: options.symmetrical,
                });
            }
            continue;
        }
        let firsts: Vec<RscIdx> = if before.sequential {
            before.members.last().copied().into_iter().collect()
        } else {
            before.members.clone()
        };
        for &f in &firsts {
            for &t in &thens {
                pairs.push(pair(f, &before.action, t, &after.action));
            }
        }
    }
    cluster.orders.extend(pairs);
    Ok(())
}

pub fn expand_colocation<'a>(
    cluster: &mut Cluster,
    sets: impl Iterator<Item = ResourceSet<'a>>,
    id: &str,
    score: Score,
) -> Result<(), ModelError> {
    let sets: Vec<Set> = sets
        .map(|s| resolve(cluster, s))
        .collect::<Result<_, _>>()?;
    let pair = |dependent: RscIdx, dependent_role, primary: RscIdx, primary_role| ColocationCons {
        id: id.to_owned(),
        dependent,
        primary,
        score,
        dependent_role,
        primary_role,
    };
    let mut pairs = Vec::new();
    for set in sets.iter().filter(|s| s.sequential) {
        for (i, &dependent) in set.members.iter().enumerate().skip(1) {
            let primaries = if score.value() < 0 {
                &set.members[..i]
            } else {
                &set.members[i - 1..i]
            };
            for &primary in primaries {
                pairs.push(pair(dependent, set.role, primary, set.role));
            }
        }
    }
    for w in sets.windows(2) {
        let (dependents, primaries) = (&w[0], &w[1]);
        // A sequential set is represented by its first member, which the
        // others follow.
        let primary_side: Vec<RscIdx> = if primaries.sequential {
            primaries.members.first().copied().into_iter().collect()
        } else {
            primaries.members.clone()
        };
        let dependent_side: Vec<RscIdx> = if dependents.sequential {
            dependents.members.first().copied().into_iter().collect()
        } else {
            dependents.members.clone()
        };
        for &d in &dependent_side {
            for &p in &primary_side {
                pairs.push(pair(d, dependents.role, p, primaries.role));
            }
        }
    }
    cluster.colocations.extend(pairs);
    Ok(())
}
