//! Node health (`node-health-strategy`): `#health-*` node attributes
//! (red, yellow, green, or a number) turn into a score every resource gets
//! on that node.

use baton_cib::{Cib, Score};

use super::{Cluster, LocationPref, NodeIdx};

/// What red, yellow and green are worth, or `None` when health is ignored.
fn colour_scores(cib: &Cib) -> Option<[Score; 3]> {
    let configured = |name: &str, default: Score| {
        cib.property(name)
            .and_then(|v| v.parse::<Score>().ok())
            .unwrap_or(default)
    };
    let (red, yellow) = match cib.property("node-health-strategy").unwrap_or("none") {
        "migrate-on-red" => (Score::NEG_INFINITY, Score::ZERO),
        "only-green" => (Score::NEG_INFINITY, Score::NEG_INFINITY),
        "progressive" | "custom" => (
            configured("node-health-red", Score::ZERO),
            configured("node-health-yellow", Score::ZERO),
        ),
        _ => return None,
    };
    Some([red, yellow, configured("node-health-green", Score::ZERO)])
}

/// Adds each node's health score to every top-level resource there.
pub fn apply(cib: &Cib, cluster: &mut Cluster) {
    let Some([red, yellow, green]) = colour_scores(cib) else {
        return;
    };
    for n in 0..cluster.nodes.len() {
        let health = cluster.nodes[n]
            .attrs
            .iter()
            .filter(|(k, _)| k.starts_with("#health"))
            .map(|(_, v)| match v.as_str() {
                "red" => red,
                "yellow" => yellow,
                "green" => green,
                other => other.parse::<Score>().unwrap_or(Score::ZERO),
            })
            .fold(Score::ZERO, |acc, s| acc + s);
        if health == Score::ZERO {
            continue;
        }
        for i in 0..cluster.top.len() {
            let rsc = cluster.top[i];
            if cluster.rsc(rsc).meta.allow_unhealthy_nodes {
                continue;
            }
            cluster.locations.push(LocationPref {
                rsc,
                node: NodeIdx(n),
                score: health,
                promoted_only: false,
                recursive: true,
            });
        }
    }
}
