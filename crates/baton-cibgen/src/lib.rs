//! Random CIBs of core scheduler features, a pure function of a seed:
//! nodes, primitives, groups, clones and promotable clones, location,
//! colocation and order constraints, and a status section that is either
//! cold (nothing probed yet) or a settled running cluster. The output is
//! valid for Pacemaker 2.1.5's `crm_simulate`, so the same file feeds our
//! scheduler and theirs: the differential test and the benchmarks use it.

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
    render::cib(&model::Cluster::draw(spec))
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
