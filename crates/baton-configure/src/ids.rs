//! XML ids: crmsh's naming scheme and uniqueness within the configuration.

use std::collections::HashSet;

use baton_cib::Cib;

/// The ids in use below `<configuration>`, to pick fresh ones the way crmsh
/// does: the base name, else `base-0`, `base-1`, …
#[derive(Debug, Default)]
pub(crate) struct Ids {
    used: HashSet<String>,
}

impl Ids {
    pub(crate) fn of(cib: &Cib) -> Ids {
        let used = cib
            .configuration()
            .map(|c| {
                c.descendants()
                    // References repeat the id of what they point at, and
                    // a remote node shares its id with its connection resource.
                    .filter(|e| !matches!(e.name(), "resource_ref" | "obj_ref" | "node"))
                    .filter_map(|e| e.attr("id"))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ids { used }
    }

    /// A fresh id derived from `base`, now taken.
    pub(crate) fn claim(&mut self, base: &str) -> String {
        let base = sanitize(base);
        let mut id = base.clone();
        let mut n = 0;
        while self.used.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.used.insert(id.clone());
        id
    }

    /// Marks an id given by the user as taken; false if it already was.
    pub(crate) fn take(&mut self, id: &str) -> bool {
        self.used.insert(id.to_owned())
    }
}

/// XML ids may not hold the characters attribute names and values do (e.g.
/// `#uname`, `:`); crmsh replaces them the same way.
fn sanitize(base: &str) -> String {
    base.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The id crmsh gives the rule number `index` of constraint `owner` in a
/// fresh CIB: `owner-rule`, then `owner-rule-0`, …
pub(crate) fn rule_id(owner: &str, index: usize) -> String {
    match index {
        0 => format!("{owner}-rule"),
        n => format!("{owner}-rule-{}", n - 1),
    }
}
