//! The playbook's phases and steps as a diagram: phases are nodes, steps
//! are the edges between them, labelled with the step and its gate.

use super::{Gate, Playbook};

/// A Mermaid flowchart, for Markdown that renders it (GitHub does).
pub fn mermaid(playbook: &Playbook) -> String {
    let mut out = String::from("flowchart LR\n");
    for phase in &playbook.phases {
        out.push_str(&format!(
            "  {}[\"{}\"]\n",
            node(&phase.id),
            escape(phase.label())
        ));
    }
    for step in &playbook.steps {
        out.push_str(&format!(
            "  {} -->|\"{}\"| {}\n",
            node(&step.from),
            escape(&edge_label(step.id.as_str(), step.gate)),
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

/// Mermaid node ids may not hold every character a phase id may.
fn node(phase: &str) -> String {
    format!("phase_{}", phase.replace('-', "_"))
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
