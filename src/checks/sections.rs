//! `sections: [...]`: each listed heading is present and its body is not
//! empty.
//!
//! Headings match ignoring case, surrounding whitespace, emphasis, a
//! trailing `:`, a leading number (`3.`, `3.1`) and a trailing annotation in
//! parentheses (`*(mandatory)*`, `(optional)`), in ATX and setext form;
//! `aliases:` gives other accepted titles. The same rule finds the heading
//! of every `under:`. When a heading matched only because its annotation was
//! ignored, the evidence says so (`tollgate show --with-results`). A section whose only content is
//! subsections is not empty. Per section (or for all, on the check):
//! `level:` requires a heading level and `min_words:` a floor for the body.
//! `order: true` requires the listed order.
//!
//! A missing section is reported at line 1, or with `order: true` where it
//! should be: before the next listed section that is present. A section at
//! the wrong level is reported at its heading, once, and not as missing.

use super::{Findings, count};
use crate::diagnostic::Position;
use crate::markdown::{Document, Section, annotation};
use crate::playbook::{SectionEntry, SectionsSpec};

/// How to fix what this kind finds, in one line, for reports.
pub const HINT: &str = "add each missing heading (the title or one of its aliases) at the level asked, and write its content under it";

pub fn check(spec: &SectionsSpec, doc: &Document, findings: &mut Findings<'_>) {
    let found: Vec<Option<usize>> = spec
        .sections
        .iter()
        .map(|entry| {
            doc.find_section_by_keys(entry.keys(), entry.level)
                .map(|(index, _)| index)
        })
        .collect();
    for (i, (entry, index)) in spec.sections.iter().zip(&found).enumerate() {
        match index {
            Some(index) => judge_body(entry, &doc.sections[*index], doc, findings),
            None if wrong_level(entry, doc, findings) => {}
            None => {
                let message = format!("missing section \"{}\"", entry.title);
                let next = found[i + 1..]
                    .iter()
                    .flatten()
                    .next()
                    .filter(|_| spec.order);
                let finding = match next {
                    Some(next) => findings.report_line(doc, doc.sections[*next].position, message),
                    None => findings.report(Position::START, message),
                };
                let heading = format!(
                    "{} {}",
                    "#".repeat(entry.level.unwrap_or(2).into()),
                    entry.title
                );
                finding.help = Some(match entry.aliases.as_slice() {
                    [] => format!("add a heading `{heading}` with its content"),
                    aliases => format!(
                        "add a heading `{heading}` (or one of: {}) with its content",
                        aliases.join(", ")
                    ),
                });
            }
        }
    }
    if spec.order {
        check_order(spec, &found, doc, findings);
    }
}

/// Reports the heading of `entry` written at another level than the one it
/// requires; whether there was one.
fn wrong_level(entry: &SectionEntry, doc: &Document, findings: &mut Findings<'_>) -> bool {
    let Some(level) = entry.level else {
        return false;
    };
    let Some((_, wrong)) = doc.find_section_by_keys(entry.keys(), None) else {
        return false;
    };
    findings
        .report_line(
            doc,
            wrong.position,
            format!(
                "section \"{}\" is a level-{} heading; expected level {level}",
                entry.title, wrong.level
            ),
        )
        .help = Some(format!(
        "write it as `{} {}`",
        "#".repeat(level.into()),
        wrong.title
    ));
    true
}

fn judge_body(
    entry: &SectionEntry,
    section: &Section,
    doc: &Document,
    findings: &mut Findings<'_>,
) {
    if section.empty {
        findings
            .report_line(
                doc,
                section.position,
                format!("section \"{}\" is empty", entry.title),
            )
            .help = Some("write its content under the heading".into());
        return;
    }
    if let Some(min) = entry.min_words
        && section.words < min
    {
        findings.report_lines(
            doc,
            section.position,
            section.end_line,
            format!(
                "section \"{}\" has {}; at least {min} are required",
                entry.title,
                count(section.words, "word")
            ),
        );
        return;
    }
    findings.evidence(&entry.title, section.position.line, section.end_line);
    if let Some(annotation) = annotation(section.title.trim_end().trim_end_matches(':')) {
        findings.note_evidence(format!(
            "heading \"{}\": its annotation {annotation} is ignored",
            section.title
        ));
    }
}

fn check_order(
    spec: &SectionsSpec,
    found: &[Option<usize>],
    doc: &Document,
    findings: &mut Findings<'_>,
) {
    let mut previous: Option<(usize, &str)> = None;
    for (entry, index) in spec.sections.iter().zip(found) {
        let Some(index) = *index else { continue };
        let line = doc.sections[index].position.line;
        if let Some((previous_line, previous_title)) = previous
            && line < previous_line
        {
            findings.report_line(
                doc,
                doc.sections[index].position,
                format!(
                    "section \"{}\" comes before \"{previous_title}\"; the playbook lists it after",
                    entry.title
                ),
            );
        }
        if previous.is_none_or(|(previous_line, _)| line > previous_line) {
            previous = Some((line, &entry.title));
        }
    }
}
