//! The whole CIB: the document plus typed entry points and edit helpers.

use super::constraints::Constraint;
use super::nodes::Node;
use super::nvset::{NvPair, NvSet};
use super::options::option_spellings;
use super::resources::{Primitive, Resource};
use super::status::NodeState;
use super::value::{ModelError, boolean, duration_ms, integer};
use crate::version::{Version, subtree_digest};
use crate::xml::{Document, ElementId, ElementRef, ParseError, Style};

/// A CIB document whose root is `<cib>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cib {
    doc: Document,
}

/// Why text could not be read as a CIB.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CibError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// The set new cluster options go into, as Pacemaker names it.
const BOOTSTRAP_SET: &str = "cib-bootstrap-options";

impl Cib {
    pub fn parse(text: &str) -> Result<Cib, CibError> {
        Ok(Cib::from_document(Document::parse(text)?)?)
    }

    pub fn parse_bytes(bytes: &[u8]) -> Result<Cib, CibError> {
        Ok(Cib::from_document(Document::parse_bytes(bytes)?)?)
    }

    pub fn from_document(doc: Document) -> Result<Cib, ModelError> {
        let name = doc.root_ref().name();
        if name != "cib" {
            return Err(ModelError::NotCib(name.to_owned()));
        }
        Ok(Cib { doc })
    }

    /// An empty CIB at version 0.0.0 with the standard sections.
    pub fn empty() -> Cib {
        let mut doc = Document::new("cib");
        let root = doc.root();
        for (name, value) in [
            ("admin_epoch", "0"),
            ("epoch", "0"),
            ("num_updates", "0"),
            ("validate-with", "pacemaker-3.9"),
        ] {
            doc.set_attr(root, name, value);
        }
        let config = doc.append_new(root, "configuration", &[]);
        for section in ["crm_config", "nodes", "resources", "constraints"] {
            doc.append_new(config, section, &[]);
        }
        doc.append_new(root, "status", &[]);
        Cib { doc }
    }

    pub fn document(&self) -> &Document {
        &self.doc
    }

    /// The DOM, for edits the typed helpers do not cover.
    pub fn document_mut(&mut self) -> &mut Document {
        &mut self.doc
    }

    pub fn into_document(self) -> Document {
        self.doc
    }

    pub fn to_xml(&self, style: Style) -> String {
        self.doc.to_xml(style)
    }

    pub fn root(&self) -> ElementRef<'_> {
        self.doc.root_ref()
    }

    /// Any attribute of `<cib>`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.root().attr(name)
    }

    pub fn validate_with(&self) -> Option<&str> {
        self.attr("validate-with")
    }

    pub fn crm_feature_set(&self) -> Option<&str> {
        self.attr("crm_feature_set")
    }

    pub fn have_quorum(&self) -> Result<Option<bool>, ModelError> {
        boolean(self.root(), "have-quorum")
    }

    pub fn dc_uuid(&self) -> Option<&str> {
        self.attr("dc-uuid")
    }

    /// The "now" recorded by tests (`execution-date`, seconds since the epoch).
    pub fn execution_date(&self) -> Result<Option<i64>, ModelError> {
        integer(self.root(), "execution-date")
    }

    /// Missing counters read as 0.
    pub fn version(&self) -> Result<Version, ModelError> {
        let root = self.root();
        Ok(Version {
            admin_epoch: integer(root, "admin_epoch")?.unwrap_or(0),
            epoch: integer(root, "epoch")?.unwrap_or(0),
            num_updates: integer(root, "num_updates")?.unwrap_or(0),
        })
    }

    pub fn set_version(&mut self, v: Version) {
        let root = self.doc.root();
        self.doc
            .set_attr(root, "admin_epoch", &v.admin_epoch.to_string());
        self.doc.set_attr(root, "epoch", &v.epoch.to_string());
        self.doc
            .set_attr(root, "num_updates", &v.num_updates.to_string());
    }

    /// Records a configuration change: epoch+1, num_updates=0.
    pub fn bump_config(&mut self) -> Result<Version, ModelError> {
        let v = self.version()?.bump_config();
        self.set_version(v);
        Ok(v)
    }

    /// Records a status-only change: num_updates+1.
    pub fn bump_status(&mut self) -> Result<Version, ModelError> {
        let v = self.version()?.bump_status();
        self.set_version(v);
        Ok(v)
    }

    pub fn configuration(&self) -> Option<ElementRef<'_>> {
        self.root().first_child("configuration")
    }

    /// A child of `<configuration>` such as `crm_config` or `acls`.
    pub fn section(&self, name: &str) -> Option<ElementRef<'_>> {
        self.configuration()?.first_child(name)
    }

    pub fn status(&self) -> Option<ElementRef<'_>> {
        self.root().first_child("status")
    }

    /// SHA-256 (hex) of the configuration in canonical form; `None` without one.
    pub fn config_digest(&self) -> Option<String> {
        self.configuration()
            .map(|c| subtree_digest(&self.doc, c.id()))
    }

    pub fn property_sets(&self) -> impl Iterator<Item = NvSet<'_>> {
        self.section("crm_config")
            .into_iter()
            .flat_map(|c| c.children_named("cluster_property_set"))
            .map(NvSet)
    }

    /// A cluster option from rule-less property sets, under either its old
    /// or new name. If both spellings are set, the current one wins.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.property_pair(name).and_then(|p| p.value())
    }

    /// The `<nvpair>` that [`Cib::property`] reads.
    pub fn property_pair(&self, name: &str) -> Option<NvPair<'_>> {
        let single = [name];
        let spellings = option_spellings(name).unwrap_or(&single);
        spellings.iter().find_map(|n| {
            self.property_sets()
                .filter(|s| s.rule().is_none())
                .flat_map(|s| s.pairs())
                .find(|p| p.name() == *n)
        })
    }

    /// A boolean cluster option; `None` when unset.
    pub fn property_bool(&self, name: &str) -> Result<Option<bool>, ModelError> {
        self.property_pair(name)
            .map_or(Ok(None), |p| boolean(p.element(), "value"))
    }

    /// A duration cluster option in ms; `None` when unset.
    pub fn property_duration_ms(&self, name: &str) -> Result<Option<u64>, ModelError> {
        self.property_pair(name)
            .map_or(Ok(None), |p| duration_ms(p.element(), "value"))
    }

    /// Sets a cluster option. The entry [`Cib::property`] reads, under
    /// either spelling, is updated in place (keeping its spelling); otherwise the option is added
    /// to `cib-bootstrap-options`, which is created when missing.
    pub fn set_property(&mut self, name: &str, value: &str) {
        // Update the entry `property` reads, so the change is what takes effect.
        let existing = self.property_pair(name).map(|p| p.element().id());
        if let Some(pair) = existing {
            self.doc.set_attr(pair, "value", value);
            return;
        }
        let crm_config = self.ensure_section("crm_config");
        let set = self
            .doc
            .get(crm_config)
            .children_named("cluster_property_set")
            .find(|s| s.xml_id() == BOOTSTRAP_SET)
            .map(|s| s.id());
        let set = set.unwrap_or_else(|| {
            self.doc
                .append_new(crm_config, "cluster_property_set", &[("id", BOOTSTRAP_SET)])
        });
        let id = format!("{BOOTSTRAP_SET}-{name}");
        self.doc.append_new(
            set,
            "nvpair",
            &[("id", &id), ("name", name), ("value", value)],
        );
    }

    /// The `<configuration>` child `name`, created (with `configuration`) if missing.
    pub fn ensure_section(&mut self, name: &str) -> ElementId {
        let root = self.doc.root();
        let config = self.doc.ensure_child(root, "configuration");
        self.doc.ensure_child(config, name)
    }

    pub fn nodes(&self) -> impl Iterator<Item = Node<'_>> {
        self.section("nodes")
            .into_iter()
            .flat_map(|n| n.children_named("node"))
            .map(Node)
    }

    /// Top-level resources, in order.
    pub fn resources(&self) -> impl Iterator<Item = Resource<'_>> {
        self.section("resources")
            .into_iter()
            .flat_map(|r| r.children())
            .map(Resource::from_element)
    }

    /// Every primitive, including those inside groups and clones (but not
    /// the skeletons inside bundles, which are not standalone resources).
    pub fn primitives(&self) -> impl Iterator<Item = Primitive<'_>> {
        self.section("resources")
            .into_iter()
            .flat_map(|r| r.descendants())
            .filter(|e| e.name() == "primitive" && e.parent().is_some_and(|p| p.name() != "bundle"))
            .map(Primitive)
    }

    pub fn constraints(&self) -> impl Iterator<Item = Constraint<'_>> {
        self.section("constraints")
            .into_iter()
            .flat_map(|c| c.children())
            .map(Constraint::from_element)
    }

    /// `<rsc_defaults>` meta attribute sets.
    pub fn rsc_defaults(&self) -> impl Iterator<Item = NvSet<'_>> {
        self.defaults("rsc_defaults")
    }

    /// `<op_defaults>` meta attribute sets.
    pub fn op_defaults(&self) -> impl Iterator<Item = NvSet<'_>> {
        self.defaults("op_defaults")
    }

    fn defaults(&self, section: &str) -> impl Iterator<Item = NvSet<'_>> {
        self.section(section)
            .into_iter()
            .flat_map(|d| d.children_named("meta_attributes"))
            .map(NvSet)
    }

    /// `<fencing-topology>` with its `<fencing-level>`s, kept raw.
    pub fn fencing_topology(&self) -> Option<ElementRef<'_>> {
        self.section("fencing-topology")
    }

    /// `<alerts>`, kept raw.
    pub fn alerts(&self) -> Option<ElementRef<'_>> {
        self.section("alerts")
    }

    pub fn node_states(&self) -> impl Iterator<Item = NodeState<'_>> {
        self.status()
            .into_iter()
            .flat_map(|s| s.children_named("node_state"))
            .map(NodeState)
    }
}
