//! `checklist: {under, all_checked, items}`: the task-list items under a
//! heading (or anywhere): with `all_checked: true` every box is ticked, and
//! every item in `items:` is present, matched by its leading text (case and
//! emphasis ignored).
//!
//! An open box is reported at the box itself. A box inside code or an HTML
//! comment is not a box.

use super::{Findings, resolve_under};
use crate::diagnostic::Position;
use crate::markdown::{Document, normalize_title};
use crate::playbook::ChecklistSpec;

/// How to fix what this kind finds, in one line, for reports.
pub const HINT: &str =
    "add the missing items as `- [ ]` boxes, and tick each box once its item is done";

pub fn check(spec: &ChecklistSpec, doc: &Document, findings: &mut Findings<'_>) {
    let Ok(section) = resolve_under(doc, spec.under.as_ref(), findings) else {
        return;
    };
    let tasks: Vec<_> = doc
        .tasks
        .iter()
        .filter(|task| section.is_none_or(|s| doc.section_contains(s, task.section)))
        .collect();
    if tasks.is_empty() {
        let message = match &spec.under {
            Some(under) => format!("no task list under \"{under}\""),
            None => "no task list in the document".to_string(),
        };
        findings.report_under(doc, section, message).help =
            Some("write the items as `- [ ] item`".into());
        return;
    }
    let keys: Vec<String> = tasks
        .iter()
        .map(|task| normalize_title(&task.text))
        .collect();
    for (item, wanted) in spec.items.iter().zip(spec.item_keys()) {
        if !keys.iter().any(|key| key.starts_with(wanted.as_str())) {
            findings
                .report_under(doc, section, format!("missing checklist item \"{item}\""))
                .help = Some(format!("add `- [ ] {item}`"));
        }
    }
    if spec.all_checked {
        for task in tasks.iter().filter(|task| !task.checked) {
            let finding =
                findings.report(task.position, format!("box not ticked: \"{}\"", task.text));
            // The label covers the whole box, `[ ]`.
            finding.end = Some(Position::new(task.position.line, task.position.column + 3));
            finding.help = Some("tick it (`[x]`) once it holds".into());
        }
    }
    let first = tasks.first().map_or(1, |t| t.position.line);
    let last = tasks.last().map_or(1, |t| t.position.line);
    let ticked = tasks.iter().filter(|t| t.checked).count();
    findings.evidence(format!("{ticked}/{} ticked", tasks.len()), first, last);
}
