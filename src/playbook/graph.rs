//! The playbook's phases and steps as a diagram: phases are nodes, steps
//! are the edges between them, labelled with the step and its gate.

use super::{Gate, Playbook};

/// A Mermaid flowchart, for Markdown that renders it (GitHub does).
pub fn mermaid(playbook: &Playbook) -> String {
    // Nodes are named by position: a phase id may hold `-`, which Mermaid
    // reads as part of an arrow, or be `end`, one of its keywords. A phase
    // a step names but the list lacks (lint reports it) is drawn too.
    let mut nodes: Vec<(&str, &str)> = playbook
        .phases
        .iter()
        .map(|phase| (phase.id.as_str(), phase.label()))
        .collect();
    for step in &playbook.steps {
        for phase in [step.from.as_str(), step.to.as_str()] {
            if !nodes.iter().any(|(id, _)| *id == phase) {
                nodes.push((phase, phase));
            }
        }
    }
    let node = |phase: &str| {
        nodes
            .iter()
            .position(|(id, _)| *id == phase)
            .expect("every phase a step names is a node")
    };
    let mut out = String::from("flowchart LR\n");
    for (index, (_, label)) in nodes.iter().enumerate() {
        out.push_str(&format!("  p{index}[\"{}\"]\n", mermaid_text(label)));
    }
    for step in &playbook.steps {
        out.push_str(&format!(
            "  p{} -->|\"{}\"| p{}\n",
            node(&step.from),
            mermaid_text(&edge_label(step.id.as_str(), step.gate)),
            node(&step.to)
        ));
    }
    out
}

/// A Graphviz digraph.
pub fn dot(playbook: &Playbook) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box];\n",
        escape(&playbook.name)
    );
    for phase in &playbook.phases {
        out.push_str(&format!(
            "  \"{}\" [label=\"{}\"];\n",
            escape(&phase.id),
            escape(phase.label())
        ));
    }
    for step in &playbook.steps {
        let style = if step.gate == Gate::Human {
            ", style=bold"
        } else {
            ""
        };
        out.push_str(&format!(
            "  \"{}\" -> \"{}\" [label=\"{}\"{style}];\n",
            escape(&step.from),
            escape(&step.to),
            escape(&edge_label(&step.id, step.gate))
        ));
    }
    out.push_str("}\n");
    out
}

fn edge_label(step: &str, gate: Gate) -> String {
    match gate {
        Gate::Automated => step.to_string(),
        Gate::Human => format!("{step} (human gate)"),
    }
}

/// Mermaid has no backslash escapes: a quote in a label is an entity.
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
