//! Random CIBs of core scheduler features, a pure function of a seed:
//! nodes, primitives, groups, clones and promotable clones, location,
//! colocation and order constraints, and a status section that is cold
//! (nothing probed yet), a settled running cluster, or a busy one (failed
//! operations, fail counts, lost and standby nodes, no quorum, ...). The output is
//! valid for Pacemaker 2.1.5's `crm_simulate`, so the same file feeds our
//! scheduler and theirs: the differential test and the benchmarks use it.

mod busy;
mod model;
mod render;
mod rng;

pub use model::{Spec, State};

/// The CIB for `spec`, as XML text. A cluster needs at least one node.
pub fn generate(spec: &Spec) -> String {
    assert!(
        spec.nodes > 0,
        "a generated cluster needs at least one node"
    );
    match spec.state {
        State::Busy => busy::cib(&busy::draw(spec.seed, spec.nodes, spec.primitives)),
        State::Cold | State::Running => render::cib(&model::Cluster::draw(spec)),
    }
}

/// A busy cluster whose size is drawn from `seed` too: 2 to 10 nodes, 5
/// to 50 primitives (see [`State::Busy`]). Its CIB is stamped with a
/// fixed `execution-date`, so failure expiry is judged the same by any
/// scheduler.
pub fn busy(seed: u64) -> Spec {
    let mut rng = rng::Rng::new(seed ^ 0xB0B0_C1B5);
    Spec {
        nodes: rng.between(2, 10),
        primitives: rng.between(5, 50),
        state: State::Busy,
        seed,
    }
}

/// A small cluster whose size and state are drawn from `seed` too: 2 to 5
/// nodes, 1 to 12 primitives, cold or running. Small inputs keep a
/// disagreement with Pacemaker readable.
pub fn small(seed: u64) -> Spec {
    let mut rng = rng::Rng::new(seed ^ 0x5EED_C1B5);
    Spec {
        nodes: rng.between(2, 5),
        primitives: rng.between(1, 12),
        state: if rng.percent(50) {
            State::Cold
        } else {
            State::Running
        },
        seed,
    }
}
