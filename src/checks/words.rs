//! `words: {under, min, max}`: the word count of a section (subsections
//! included) or of the whole document stays within bounds.
//!
//! Words are whitespace-separated tokens of the text a reader sees: markup
//! (`#`, `|`, `-`, `**`), code blocks, HTML blocks and comments do not count.

use super::{Findings, count, resolve_under};
use crate::diagnostic::Position;
use crate::markdown::Document;
use crate::playbook::WordsSpec;

/// How to fix what this kind finds, in one line, for reports.
pub const HINT: &str = "write more (or cut) until the word count is within the bounds";

pub fn check(spec: &WordsSpec, doc: &Document, findings: &mut Findings<'_>) {
    let Ok(section) = resolve_under(doc, spec.under.as_ref(), findings) else {
        return;
    };
    let (words, position, end_line, what) = match section {
        Some(index) => {
            let section = &doc.sections[index];
            (
                section.words,
                section.position,
                section.end_line,
                format!("section \"{}\"", section.title),
            )
        }
        None => (
            doc.words,
            Position::START,
            doc.line_count(),
            "the document".to_string(),
        ),
    };
    if let Some(min) = spec.min
        && words < min
    {
        findings.report_lines(
            doc,
            position,
            end_line,
            format!(
                "{what} has {}; at least {min} are required",
                count(words, "word")
            ),
        );
    } else if let Some(max) = spec.max
        && words > max
    {
        findings.report_lines(
            doc,
            position,
            end_line,
            format!(
                "{what} has {}; at most {max} are allowed",
                count(words, "word")
            ),
        );
    } else {
        findings.evidence(format!("{words} words"), position.line, end_line);
    }
}
