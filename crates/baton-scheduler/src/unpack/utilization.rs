//! Utilization: named amounts a node offers (`<utilization>` on the node)
//! and a resource needs (`<utilization>` on the primitive), used when the
//! placement strategy is not `default`.

use baton_cib::xml::ElementRef;
use std::collections::BTreeMap;

/// Amounts by name; a missing name is zero.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Utilization(pub BTreeMap<String, i64>);

impl Utilization {
    /// The rule-less `<utilization>` sets of `el`; values that are not
    /// integers count as zero.
    pub fn of(el: ElementRef<'_>) -> Utilization {
        let mut m = BTreeMap::new();
        for set in el.children_named("utilization") {
            if set.children_named("rule").next().is_some() {
                continue;
            }
            for p in set.children_named("nvpair") {
                if let Some(name) = p.attr("name") {
                    let value = p
                        .attr("value")
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    m.entry(name.to_owned()).or_insert(value);
                }
            }
        }
        Utilization(m)
    }

    pub fn add(&mut self, other: &Utilization) {
        for (k, v) in &other.0 {
            let e = self.0.entry(k.clone()).or_insert(0);
            *e = e.saturating_add(*v);
        }
    }

    pub fn get(&self, name: &str) -> i64 {
        self.0.get(name).copied().unwrap_or(0)
    }
}
