//! The graph in Pacemaker's transition graph XML (`crm_simulate -G`):
//! `<transition_graph>` of `<synapse>`s, each with one action
//! (`rsc_op`, `pseudo_event` or `crm_event`) and the `<inputs>` it waits
//! for. Rendering is pure: the caller writes the text where it wants.

use std::fmt::Write as _;

use super::{Action, ActionKind, Graph};

/// The CRM feature set the graph is written for (Pacemaker 2.1.5's).
pub const CRM_FEATURE_SET: &str = "3.16.1";

fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\n' => s.push_str("&#10;"),
            other => s.push(other),
        }
    }
    s
}

fn element(a: &Action) -> &'static str {
    match a.kind {
        ActionKind::ResourceOp => "rsc_op",
        ActionKind::Pseudo => "pseudo_event",
        ActionKind::ClusterEvent => "crm_event",
    }
}

/// The action's identifying attributes, as both the action and the
/// triggers that name it carry them.
fn head(a: &Action) -> String {
    let mut s = format!(
        "<{} id=\"{}\" operation=\"{}\" operation_key=\"{}\"",
        element(a),
        a.id.0,
        escape(a.task.name()),
        escape(&a.key)
    );
    if let Some(internal) = &a.internal_key {
        let _ = write!(s, " internal_operation_key=\"{}\"", escape(internal));
    }
    if let Some(n) = a.node.as_ref().filter(|_| a.kind != ActionKind::Pseudo) {
        let _ = write!(
            s,
            " on_node=\"{}\" on_node_uuid=\"{}\"",
            escape(&n.name),
            escape(&n.id)
        );
    }
    s
}

fn attributes(a: &Action) -> String {
    let mut attrs: Vec<(String, &str)> = Vec::new();
    attrs.push(("crm_feature_set".to_owned(), CRM_FEATURE_SET));
    for (k, v) in a.params.iter() {
        attrs.push((k.clone(), v));
    }
    for (k, v) in &a.meta {
        attrs.push((format!("CRM_meta_{k}"), v));
    }
    if let Some(n) = a.node.as_ref().filter(|_| a.kind != ActionKind::Pseudo) {
        attrs.push(("CRM_meta_on_node".to_owned(), &n.name));
        attrs.push(("CRM_meta_on_node_uuid".to_owned(), &n.id));
    }
    attrs.sort_by(|x, y| x.0.cmp(&y.0));
    attrs.dedup_by(|x, y| x.0 == y.0);
    let mut s = String::from("<attributes");
    for (k, v) in attrs {
        let _ = write!(s, " {k}=\"{}\"", escape(v));
    }
    s.push_str("/>");
    s
}

/// The whole graph, as transition `transition_id`.
pub fn render(graph: &Graph, transition_id: u64) -> String {
    let st = &graph.settings;
    let mut out = format!(
        "<transition_graph cluster-delay=\"{}\" stonith-timeout=\"{}\" failed-stop-offset=\"INFINITY\" failed-start-offset=\"{}\" batch-limit=\"{}\"",
        escape(&st.cluster_delay),
        escape(&st.fencing_timeout),
        escape(&st.failed_start_offset),
        escape(&st.batch_limit)
    );
    if let Some(limit) = &st.migration_limit {
        let _ = write!(out, " migration-limit=\"{}\"", escape(limit));
    }
    let _ = write!(out, " transition_id=\"{transition_id}\"");
    if graph.actions.is_empty() {
        out.push_str("/>\n");
        return out;
    }
    out.push_str(">\n");
    for (synapse, a) in graph.actions.iter().enumerate() {
        let _ = write!(out, "  <synapse id=\"{synapse}\"");
        if a.priority > 0 {
            let _ = write!(out, " priority=\"{}\"", a.priority);
        }
        out.push_str(">\n    <action_set>\n");
        let _ = writeln!(out, "      {}>", head(a));
        if let Some(r) = &a.resource {
            let _ = write!(out, "        <primitive id=\"{}\"", escape(&r.id));
            if let Some(long) = &r.long_id {
                let _ = write!(out, " long-id=\"{}\"", escape(long));
            }
            let _ = write!(out, " class=\"{}\"", escape(&r.agent.class));
            if let Some(p) = &r.agent.provider {
                let _ = write!(out, " provider=\"{}\"", escape(p));
            }
            let _ = writeln!(out, " type=\"{}\"/>", escape(&r.agent.kind));
        }
        let _ = writeln!(out, "        {}", attributes(a));
        if !a.downed.is_empty() {
            out.push_str("        <downed>\n");
            for id in &a.downed {
                let _ = writeln!(out, "          <node id=\"{}\"/>", escape(id));
            }
            out.push_str("        </downed>\n");
        }
        let _ = writeln!(out, "      </{}>", element(a));
        out.push_str("    </action_set>\n");
        if a.inputs.is_empty() {
            out.push_str("    <inputs/>\n");
        } else {
            out.push_str("    <inputs>\n");
            for &i in &a.inputs {
                let _ = writeln!(
                    out,
                    "      <trigger>\n        {}/>\n      </trigger>",
                    head(graph.action(i))
                );
            }
            out.push_str("    </inputs>\n");
        }
        out.push_str("  </synapse>\n");
    }
    out.push_str("</transition_graph>\n");
    out
}
