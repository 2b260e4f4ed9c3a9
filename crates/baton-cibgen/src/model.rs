//! The shape of a generated cluster, drawn from a seed: resources,
//! constraints and, for a running cluster, where each instance runs.

use crate::rng::Rng;

/// What the status section says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Nothing has run anywhere yet: every resource needs probes and a start.
    Cold,
    /// A settled cluster: every resource runs where the generator placed it
    /// and has been probed (not running) on every other node.
    Running,
    /// A cluster mid-life: nodes lost, in standby, in maintenance or
    /// shutting down; failed starts, monitors and stops with fail counts,
    /// some expired; every on-fail; target roles, unmanaged resources,
    /// rules, notifying and interleaved (promotable) clones, cloned groups;
    /// with or without fencing and quorum.
    Busy,
}

/// What to generate. The same spec always gives the same CIB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub nodes: usize,
    /// Configured primitives, counting a clone's or group's members.
    pub primitives: usize,
    pub state: State,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    Infinity,
    MinusInfinity,
    Finite(i32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Primitive,
    Group { members: Vec<String> },
    Clone { child: String, promotable: bool },
}

/// A top-level resource.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub struct Location {
    pub item: usize,
    pub node: usize,
    pub score: Score,
    /// Applies to the promoted role only (promotable clones).
    pub promoted_only: bool,
}

#[derive(Debug, Clone)]
pub struct Colocation {
    pub dependent: usize,
    pub primary: usize,
    pub score: Score,
}

/// `first` starts before `then` (mandatory, symmetrical).
#[derive(Debug, Clone)]
pub struct Order {
    pub first: usize,
    pub then: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Started,
    Promoted,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub spec: Spec,
    /// `resource-stickiness` in `rsc_defaults`, when set.
    pub stickiness: Option<i32>,
    pub items: Vec<Item>,
    pub locations: Vec<Location>,
    pub colocations: Vec<Colocation>,
    pub orders: Vec<Order>,
    /// Per item, the nodes its primitives run on (empty when cold).
    pub placement: Vec<Vec<(usize, Role)>>,
}

impl Cluster {
    pub fn draw(spec: &Spec) -> Cluster {
        let mut rng = Rng::new(spec.seed);
        let stickiness = rng.percent(50).then(|| rng.pick(&[0, 1, 100]));
        let items = draw_items(&mut rng, spec);
        let mut cluster = Cluster {
            spec: *spec,
            stickiness,
            items,
            locations: Vec::new(),
            colocations: Vec::new(),
            orders: Vec::new(),
            placement: Vec::new(),
        };
        cluster.draw_constraints(&mut rng);
        if spec.state == State::Running {
            cluster.place();
        } else {
            cluster.placement = vec![Vec::new(); cluster.items.len()];
        }
        cluster
    }

    fn draw_constraints(&mut self, rng: &mut Rng) {
        let nodes = self.spec.nodes;
        for (i, item) in self.items.iter().enumerate() {
            let promotable = matches!(
                item.kind,
                Kind::Clone {
                    promotable: true,
                    ..
                }
            );
            if promotable && rng.percent(80) {
                self.locations.push(Location {
                    item: i,
                    node: rng.below(nodes),
                    score: Score::Finite(rng.pick(&[10, 100])),
                    promoted_only: true,
                });
            }
            if rng.percent(30) {
                let score = rng.pick(&[
                    Score::Finite(50),
                    Score::Finite(100),
                    Score::Infinity,
                    Score::MinusInfinity,
                ]);
                self.locations.push(Location {
                    item: i,
                    node: rng.below(nodes),
                    score,
                    promoted_only: false,
                });
            }
            // Constraints point back to earlier items only, so they never
            // form a cycle.
            if i > 0 && rng.percent(15) && !matches!(item.kind, Kind::Clone { .. }) {
                let primary = rng.below(i);
                self.colocations.push(Colocation {
                    dependent: i,
                    primary,
                    score: rng.pick(&[Score::Infinity, Score::Finite(100)]),
                });
            }
            if i > 0 && rng.percent(15) {
                self.orders.push(Order {
                    first: rng.below(i),
                    then: i,
                });
            }
        }
    }

    /// Where a settled cluster would run each item: a mandatory location
    /// or colocation decides, otherwise round robin.
    fn place(&mut self) {
        let nodes = self.spec.nodes;
        let mut next = 0;
        let mut placement: Vec<Vec<(usize, Role)>> = Vec::with_capacity(self.items.len());
        for (i, item) in self.items.iter().enumerate() {
            if let Kind::Clone { promotable, .. } = item.kind {
                let promoted = self
                    .locations
                    .iter()
                    .find(|l| l.item == i && l.promoted_only)
                    .map(|l| l.node);
                let on = (0..nodes)
                    .map(|n| {
                        let role = if promotable && promoted == Some(n) {
                            Role::Promoted
                        } else {
                            Role::Started
                        };
                        (n, role)
                    })
                    .collect();
                placement.push(on);
                continue;
            }
            let pinned = self
                .locations
                .iter()
                .find(|l| l.item == i && !l.promoted_only && matches!(l.score, Score::Infinity));
            let follows = self
                .colocations
                .iter()
                .find(|c| c.dependent == i)
                .and_then(|c| placement[c.primary].first().map(|p| p.0));
            let banned: Vec<usize> = self
                .locations
                .iter()
                .filter(|l| l.item == i && l.score == Score::MinusInfinity)
                .map(|l| l.node)
                .collect();
            let node = pinned.map(|l| l.node).or(follows).unwrap_or_else(|| {
                let mut n = next % nodes;
                if banned.contains(&n) {
                    n = (n + 1) % nodes;
                }
                next += 1;
                n
            });
            placement.push(vec![(node, Role::Started)]);
        }
        self.placement = placement;
    }
}

fn draw_items(rng: &mut Rng, spec: &Spec) -> Vec<Item> {
    let mut items = Vec::new();
    let mut made = 0;
    while made < spec.primitives {
        let left = spec.primitives - made;
        let roll = rng.below(100);
        let kind = if roll < 60 || left < 2 {
            Kind::Primitive
        } else if roll < 80 {
            let size = rng.between(2, left.min(4));
            let members = (made..made + size).map(|p| format!("rsc{p}")).collect();
            Kind::Group { members }
        } else {
            Kind::Clone {
                child: format!("rsc{made}"),
                promotable: roll >= 92,
            }
        };
        let (id, count) = match &kind {
            Kind::Primitive => (format!("rsc{made}"), 1),
            Kind::Group { members } => (format!("grp{made}"), members.len()),
            Kind::Clone {
                promotable: false, ..
            } => (format!("cln{made}"), 1),
            Kind::Clone {
                promotable: true, ..
            } => (format!("prm{made}"), 1),
        };
        items.push(Item { id, kind });
        made += count;
    }
    items
}
