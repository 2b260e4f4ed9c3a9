//! CIB → commands, for `show`: text that loads back to the same
//! configuration, in crmsh's order (nodes, primitives, groups, clones,
//! location, colocation, order, property, rsc_defaults, op_defaults).

mod constraints;
mod resources;

use baton_cib::Cib;
use baton_cib::xml::ElementRef;
use baton_crmsh::ast::{AttrSet, Command, Nvpair, PropertyKind, PropertySet, Score};

/// The configuration as commands, plus one line for each object the
/// language cannot express (it stays in the CIB untouched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub commands: Vec<Command>,
    pub not_shown: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("nothing has id `{id}`; `show` without ids lists the objects")]
pub struct NotFound {
    pub id: String,
}

pub fn show(cib: &Cib) -> Shown {
    let mut commands = Vec::new();
    let mut not_shown = Vec::new();
    if let Some(nodes) = cib.section("nodes") {
        commands.extend(nodes.children_named("node").map(resources::node));
    }
    // crmsh sorts as its `sort-elements` default does: primitives, groups,
    // then clones, each by id; all constraints together by id.
    let first_resource = commands.len();
    if let Some(section) = cib.section("resources") {
        resources::all(section, &mut commands, &mut not_shown);
    }
    commands[first_resource..]
        .sort_by(|a, b| (resource_rank(a), a.id()).cmp(&(resource_rank(b), b.id())));
    let first_constraint = commands.len();
    if let Some(section) = cib.section("constraints") {
        constraints::all(section, &mut commands, &mut not_shown);
    }
    commands[first_constraint..].sort_by(|a, b| a.id().cmp(&b.id()));
    for (section, element, kind) in [
        ("crm_config", "cluster_property_set", PropertyKind::Cluster),
        ("rsc_defaults", "meta_attributes", PropertyKind::RscDefaults),
        ("op_defaults", "meta_attributes", PropertyKind::OpDefaults),
    ] {
        let Some(s) = cib.section(section) else {
            continue;
        };
        // An empty set has nothing to say and would not parse back.
        for set in s
            .children_named(element)
            .filter(|set| !pairs(*set).is_empty())
        {
            commands.push(Command::Property(PropertySet {
                kind,
                set: AttrSet {
                    id: Some(set.xml_id().to_owned()),
                    pairs: pairs(set),
                },
            }));
        }
    }
    if let Some(config) = cib.configuration() {
        for other in config.children() {
            let what = match other.name() {
                "fencing-topology" => "fencing-topology (fencing levels)",
                "alerts" => "alerts",
                "acls" => "acls",
                "tags" => "tags",
                _ => continue,
            };
            if other.children().next().is_some() {
                not_shown.push(format!("{what}: kept in the CIB; see `baton cib query`"));
            }
        }
    }
    Shown {
        commands,
        not_shown,
    }
}

fn resource_rank(command: &Command) -> u8 {
    match command {
        Command::Primitive(_) => 0,
        Command::Group(_) => 1,
        _ => 2,
    }
}

/// `show [ID…]` as text: the commands, then `# not shown: …` lines.
pub fn show_text(cib: &Cib, ids: &[String]) -> Result<String, NotFound> {
    let shown = show(cib);
    let mut picked: Vec<&Command> = Vec::new();
    if ids.is_empty() {
        picked.extend(&shown.commands);
    } else {
        for id in ids {
            let found = shown.commands.iter().find(|c| match c {
                Command::Property(p) => p.set.id.as_deref() == Some(id.as_str()),
                c => c.id() == Some(id.as_str()),
            });
            picked.push(found.ok_or_else(|| NotFound { id: id.clone() })?);
        }
    }
    let mut text = baton_crmsh::print::commands(picked);
    if ids.is_empty() {
        for line in &shown.not_shown {
            text.push_str(&format!("# not shown: {line}\n"));
        }
    }
    Ok(text)
}

fn pairs(set: ElementRef<'_>) -> Vec<Nvpair> {
    // `id-ref` pairs have no name of their own; the language cannot say them.
    set.children_named("nvpair")
        .filter(|n| n.attr("name").is_some())
        .map(|n| Nvpair {
            name: n.attr("name").unwrap_or_default().to_owned(),
            value: n.attr("value").unwrap_or_default().to_owned(),
        })
        .collect()
}

/// The `element` sets of `parent` without rules, as one (the language has
/// one per kind): the first set's id, `$id` only when it is not the one
/// crmsh would generate, and the first value of each name.
fn attr_set(parent: ElementRef<'_>, element: &str, default_id: &str) -> AttrSet {
    let mut sets = parent
        .children_named(element)
        .filter(|s| s.first_child("rule").is_none())
        .peekable();
    let Some(first) = sets.peek().copied() else {
        return AttrSet::default();
    };
    let mut merged: Vec<Nvpair> = Vec::new();
    for pair in sets.flat_map(pairs) {
        if !merged.iter().any(|p| p.name == pair.name) {
            merged.push(pair);
        }
    }
    AttrSet {
        id: (first.xml_id() != default_id).then(|| first.xml_id().to_owned()),
        pairs: merged,
    }
}

/// Sets with rules, which the language cannot say: one `not shown` line
/// each, since redefining their owner drops them.
fn ruled_sets(owner: ElementRef<'_>, not_shown: &mut Vec<String>) {
    for set in owner.children().filter(|s| s.first_child("rule").is_some()) {
        not_shown.push(format!(
            "{} {} of {} {} (it has a rule; redefining {} drops it)",
            set.name(),
            set.xml_id(),
            owner.name(),
            owner.xml_id(),
            owner.xml_id()
        ));
    }
}

/// A score as written in the CIB; anything else is kept as a name.
fn score(text: &str) -> Score {
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" | "inf" | "+inf" => Score::Infinity,
        "-infinity" | "-inf" => Score::MinusInfinity,
        _ => t
            .parse()
            .map_or_else(|_| Score::Attribute(t.to_owned()), Score::Value),
    }
}
