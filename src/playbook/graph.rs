//! The playbook's phases and steps as a diagram: phases are nodes, steps
//! are the edges between them, labelled with the step and its gate; an
//! optional step is a dashed edge, and so is the way round it, from its
//! `from` phase to the step after it.

use super::{Gate, Playbook, Step};

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
    for (from, step, label) in edges(playbook) {
        let arrow = if step.optional || from != step.from {
            "-.->"
        } else {
            "-->"
        };
        out.push_str(&format!(
            "  p{} {arrow}|\"{}\"| p{}\n",
            node(from),
            mermaid_text(&label),
            node(&step.to)
        ));
    }
    out
}

/// Each edge: the phase it leaves, its step and its label. A step that
/// optional steps lead to has an edge from each phase where they can be
/// skipped.
fn edges(playbook: &Playbook) -> Vec<(&str, &Step, String)> {
    let mut edges = Vec::new();
    for step in &playbook.steps {
        for phase in playbook.entry_phases(step) {
            let label = if phase == step.from {
                edge_label(step)
            } else {
                let skipped: Vec<&str> = (playbook.steps.iter())
                    .filter(|s| s.optional && s.from == phase)
                    .map(|s| s.id.as_str())
                    .collect();
                format!("{}, {} skipped", edge_label(step), skipped.join(", "))
            };
            edges.push((phase, step, label));
        }
    }
    edges
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
    for (from, step, label) in edges(playbook) {
        let dashed = step.optional || from != step.from;
        let style = match (step.gate, dashed) {
            (Gate::Human, false) => ", style=bold",
            (Gate::Human, true) => ", style=\"bold,dashed\"",
            (Gate::Automated, true) => ", style=dashed",
            (Gate::Automated, false) => "",
        };
        out.push_str(&format!(
            "  \"{}\" -> \"{}\" [label=\"{}\"{style}];\n",
            escape(from),
            escape(&step.to),
            escape(&label)
        ));
    }
    out.push_str("}\n");
    out
}

fn edge_label(step: &Step) -> String {
    let id = &step.id;
    match (step.gate, step.optional) {
        (Gate::Automated, false) => id.to_string(),
        (Gate::Automated, true) => format!("{id} (optional)"),
        (Gate::Human, false) => format!("{id} (human gate)"),
        (Gate::Human, true) => format!("{id} (optional, human gate)"),
    }
}

/// Mermaid has no backslash escapes: a quote in a label is an entity.
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
