//! The syntax tree of crmsh configure commands: what the text says, before
//! any meaning is given to it (that is the CIB mapping's job).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nvpair {
    pub name: String,
    pub value: String,
}

/// `params`, `meta`, `utilization`, `attributes`: optionally `$id=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttrSet {
    pub id: Option<String>,
    pub pairs: Vec<Nvpair>,
}

impl AttrSet {
    pub fn is_empty(&self) -> bool {
        self.id.is_none() && self.pairs.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Node(Node),
    Primitive(Primitive),
    Group(Group),
    Clone(Clone),
    Location(Location),
    Colocation(Colocation),
    Order(Order),
    Property(PropertySet),
    Delete(Vec<String>),
}

impl Command {
    /// The id this command defines, if it defines one object.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Node(n) => Some(&n.uname),
            Self::Primitive(p) => Some(&p.id),
            Self::Group(g) => Some(&g.id),
            Self::Clone(c) => Some(&c.id),
            Self::Location(l) => Some(&l.id),
            Self::Colocation(c) => Some(&c.id),
            Self::Order(o) => Some(&o.id),
            Self::Property(_) | Self::Delete(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: Option<String>,
    pub uname: String,
    pub node_type: Option<String>,
    pub attributes: AttrSet,
    pub utilization: AttrSet,
}

/// `class:provider:type`, with crmsh's defaults already applied: a bare type
/// is `ocf:heartbeat:type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub class: String,
    pub provider: Option<String>,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentRef {
    Agent(Agent),
    Template(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub name: String,
    /// Operation properties (`interval`, `timeout`, `on-fail`, …).
    pub attributes: Vec<Nvpair>,
    /// Parameters of the operation itself (`OCF_CHECK_LEVEL`, `op_params`).
    pub params: Vec<Nvpair>,
    /// `op_meta`.
    pub meta: Vec<Nvpair>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Primitive {
    pub id: String,
    pub agent: AgentRef,
    pub params: AttrSet,
    pub meta: AttrSet,
    pub utilization: AttrSet,
    pub ops: Vec<Op>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub members: Vec<String>,
    pub params: AttrSet,
    pub meta: AttrSet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloneFlavor {
    Clone,
    /// The deprecated `ms` command: a promotable clone.
    MasterSlave,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clone {
    pub id: String,
    pub flavor: CloneFlavor,
    pub child: String,
    pub params: AttrSet,
    pub meta: AttrSet,
}

/// A score as written: a number, ±infinity, or (in rules) the name of a
/// node attribute holding the score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Score {
    Value(i64),
    Infinity,
    MinusInfinity,
    Attribute(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourcePattern {
    Id(String),
    /// `/regex/`: every resource whose id matches.
    Regex(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub id: String,
    pub resource: LocationTarget,
    pub role: Option<String>,
    pub resource_discovery: Option<String>,
    pub placement: Placement,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationTarget {
    Pattern(ResourcePattern),
    Sets(Vec<SetItem>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Node { score: Score, node: String },
    Rules(Vec<Rule>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoolOp {
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: Option<String>,
    pub role: Option<String>,
    pub score: Score,
    pub boolean_op: BoolOp,
    pub expressions: Vec<Expression>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expression {
    Compare {
        attribute: String,
        operation: String,
        value_type: Option<String>,
        value: String,
    },
    Defined(String),
    NotDefined(String),
    Date(DateExpression),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateExpression {
    Gt(String),
    Lt(String),
    InRange {
        start: Option<String>,
        end: Option<String>,
        duration: Vec<Nvpair>,
    },
    Spec(Vec<Nvpair>),
}

/// A resource with an optional `:role` (colocation) or `:action` (order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    pub id: String,
    pub qualifier: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetItem {
    Resource(ResourceRef),
    /// `( a b )`: members not ordered/colocated among themselves;
    /// `[ a b ]`: and not all required.
    Set {
        sequential: bool,
        require_all: bool,
        resources: Vec<ResourceRef>,
        attributes: Vec<Nvpair>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Colocation {
    pub id: String,
    pub score: Score,
    pub resources: Vec<SetItem>,
    pub node_attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderKind {
    Mandatory,
    Optional,
    Serialize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderStrength {
    Kind(OrderKind),
    /// Legacy `inf:` / `0:` scores.
    Score(Score),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub strength: Option<OrderStrength>,
    pub resources: Vec<SetItem>,
    pub symmetrical: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyKind {
    /// `property`: cluster options (crm_config).
    Cluster,
    RscDefaults,
    OpDefaults,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertySet {
    pub kind: PropertyKind,
    pub set: AttrSet,
}
