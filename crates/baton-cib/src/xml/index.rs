//! Lookup of elements by their `id` attribute.

use std::collections::HashMap;

use super::tree::{Document, ElementId};

/// A snapshot index from `id` attribute to elements, in document order.
///
/// CIB ids are not unique across the whole document (a resource's id is
/// reused by its `lrm_resource` in every node's status), so each id maps to a
/// list. Rebuild the index after editing the document.
#[derive(Debug, Clone, Default)]
pub struct IdIndex {
    map: HashMap<String, Vec<ElementId>>,
}

impl IdIndex {
    /// Every element carrying `id`, in document order.
    pub fn get(&self, id: &str) -> &[ElementId] {
        self.map.get(id).map_or(&[], Vec::as_slice)
    }

    /// The first element carrying `id`.
    pub fn first(&self, id: &str) -> Option<ElementId> {
        self.get(id).first().copied()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl Document {
    /// Indexes every element below (and including) `scope` by `id`.
    pub fn id_index(&self, scope: ElementId) -> IdIndex {
        let mut map: HashMap<String, Vec<ElementId>> = HashMap::new();
        for id in self.descendants(scope) {
            if let Some(v) = self.element(id).attr("id") {
                map.entry(v.to_owned()).or_default().push(id);
            }
        }
        IdIndex { map }
    }

    /// The first element in document order below `scope` whose `id` is `id`.
    pub fn find_by_id(&self, scope: ElementId, id: &str) -> Option<ElementId> {
        self.descendants(scope)
            .find(|e| self.element(*e).attr("id") == Some(id))
    }
}
