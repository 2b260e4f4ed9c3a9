//! Every input CIB of Pacemaker's scheduler regression suite must parse,
//! survive a serialize/parse round trip unchanged, and serialize stably.

use std::path::PathBuf;

use baton_cib::xml::{Document, Style};

fn corpus_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/pacemaker-scheduler-cases/xml");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("scheduler corpus missing at {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable corpus directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 800,
        "expected the full corpus in {}, found {} files",
        dir.display(),
        files.len()
    );
    files
}

#[test]
fn every_corpus_cib_round_trips() {
    let files = corpus_files();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable corpus file");
        let doc = Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for style in [Style::Pretty, Style::Compact] {
            let out = doc.to_xml(style);
            let again = Document::parse(&out)
                .unwrap_or_else(|e| panic!("{} reparse ({style:?}): {e}", path.display()));
            assert!(
                again == doc,
                "{}: {style:?} round trip changed the tree",
                path.display()
            );
            assert_eq!(
                again.to_xml(style),
                out,
                "{}: unstable {style:?} output",
                path.display()
            );
        }
    }
    eprintln!("round-tripped {} corpus files", files.len());
}

/// Reads every typed field the model offers; returns the value errors met.
fn walk(cib: &baton_cib::Cib) -> Vec<String> {
    use baton_cib::model::{Constraint, Resource, RuleTerm};
    let mut errors = Vec::new();
    let mut note = |r: Result<(), baton_cib::model::ModelError>| {
        if let Err(e) = r {
            errors.push(e.to_string());
        }
    };
    note(cib.version().map(drop));
    note(cib.have_quorum().map(drop));
    note(cib.execution_date().map(drop));
    let _ = cib.property("stonith-enabled");
    let mut sets = Vec::new();
    for node in cib.nodes() {
        sets.extend(node.instance_attributes().chain(node.utilization()));
    }
    let mut resources: Vec<Resource<'_>> = cib.resources().collect();
    while let Some(r) = resources.pop() {
        sets.extend(r.meta_attributes());
        match r {
            Resource::Primitive(p) => {
                sets.extend(p.instance_attributes().chain(p.utilization()));
                for op in p.operations() {
                    note(op.interval_ms().map(drop));
                    note(op.timeout_ms().map(drop));
                    note(op.enabled().map(drop));
                    sets.extend(op.instance_attributes());
                }
            }
            Resource::Group(g) => resources.extend(g.members().map(Resource::Primitive)),
            Resource::Clone(c) => {
                note(c.is_promotable().map(drop));
                resources.extend(c.child());
            }
            Resource::Template(_) | Resource::Bundle(_) | Resource::Other(_) => {}
        }
    }
    let mut rules = Vec::new();
    for c in cib.constraints() {
        match c {
            Constraint::Location(l) => {
                note(l.score().map(drop));
                rules.extend(l.rules());
            }
            Constraint::Colocation(c) => note(c.score().map(drop)),
            Constraint::Order(o) => {
                note(o.kind().map(drop));
                note(o.score().map(drop));
                note(o.symmetrical().map(drop));
                for set in o.resource_sets() {
                    note(set.sequential().map(drop));
                    note(set.require_all().map(drop));
                }
            }
            Constraint::Ticket(_) | Constraint::Other(_) => {}
        }
    }
    sets.extend(
        cib.property_sets()
            .chain(cib.rsc_defaults())
            .chain(cib.op_defaults()),
    );
    for set in &sets {
        note(set.score().map(drop));
        rules.extend(set.rule());
    }
    while let Some(rule) = rules.pop() {
        note(rule.score().map(drop));
        note(rule.boolean_op().map(drop));
        rules.extend(rule.terms().filter_map(|t| match t {
            RuleTerm::Rule(r) => Some(r),
            _ => None,
        }));
    }
    for state in cib.node_states() {
        for rsc in state.lrm_resources() {
            for op in rsc.ops() {
                note(op.interval_ms().map(drop));
                note(op.call_id().map(drop));
                note(op.rc_code().map(drop));
                note(op.op_status().map(drop));
                note(op.last_rc_change().map(drop));
                note(op.exec_time_ms().map(drop));
                note(op.queue_time_ms().map(drop));
                note(op.transition_key().map(drop));
            }
        }
    }
    errors
}

#[test]
fn every_corpus_cib_reads_as_a_typed_model() {
    let files = corpus_files();
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable corpus file");
        let cib =
            baton_cib::Cib::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let again = baton_cib::Cib::parse(&cib.to_xml(Style::Pretty))
            .unwrap_or_else(|e| panic!("{} reparse: {e}", path.display()));
        assert_eq!(walk(&cib), walk(&again), "{}", path.display());
        assert_eq!(
            cib.config_digest(),
            again.config_digest(),
            "{}",
            path.display()
        );
        for e in walk(&cib) {
            failures.push(format!(
                "{}: {e}",
                path.file_name()
                    .map_or_else(String::new, |f| f.to_string_lossy().into_owned())
            ));
        }
    }
    eprintln!("typed model read for {} corpus files", files.len());
    // The only bad values in the corpus are deliberate: those cases test
    // how the scheduler reacts to them.
    let known_bad = [
        "intervals.xml: attribute `timeout` of op `rsc6-monitor-interval-28s` is `bad`",
        "order-wrong-kind.xml: attribute `kind` of rsc_order `order1` is `foo`",
    ];
    assert_eq!(failures.len(), known_bad.len(), "{failures:#?}");
    for (f, k) in failures.iter().zip(known_bad) {
        assert!(f.starts_with(k), "unexpected value error: {f}");
    }
}
