//! What the benchmarks and the differential test rely on: a spec always
//! gives the same CIB, with the size and state it asks for.

use baton_cibgen::{Spec, State, generate, small};

fn spec(state: State) -> Spec {
    Spec {
        nodes: 4,
        primitives: 60,
        state,
        seed: 7,
    }
}

fn count(xml: &str, needle: &str) -> usize {
    xml.matches(needle).count()
}

#[test]
fn the_same_spec_gives_the_same_cib_and_another_seed_another() {
    assert_eq!(generate(&spec(State::Cold)), generate(&spec(State::Cold)));
    let other = Spec {
        seed: 8,
        ..spec(State::Cold)
    };
    assert_ne!(generate(&spec(State::Cold)), generate(&other));
    assert_eq!(generate(&small(3)), generate(&small(3)));
}

#[test]
fn the_cib_has_the_nodes_and_primitives_asked_for() {
    let xml = generate(&spec(State::Cold));
    assert_eq!(count(&xml, "<node id="), 4);
    assert_eq!(count(&xml, "<node_state "), 4);
    assert_eq!(count(&xml, "<primitive "), 60);
    assert!(xml.contains("<group "), "no group in:\n{xml}");
    assert!(xml.contains("<clone "), "no clone in:\n{xml}");
}

#[test]
fn cold_has_no_history_and_running_has_history_on_every_node() {
    let cold = generate(&spec(State::Cold));
    assert_eq!(count(&cold, "<lrm_rsc_op "), 0);
    let running = generate(&spec(State::Running));
    // Every configured primitive has a record (probe or start) on every node.
    assert_eq!(count(&running, "<lrm_resource "), 60 * 4);
    assert!(count(&running, r#"operation="start""#) >= 60);
}
