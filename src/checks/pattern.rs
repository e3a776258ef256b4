//! `pattern: {regex, expect, under, scope}`: a regular expression over the
//! prose lines of a section or of the whole document.
//!
//! `expect: match` (default) needs some line to match; `expect: absent`
//! reports every line that does. `scope: last_line` looks only at the last
//! non-blank line outside code, for a closing line such as
//! `^Gate: (PASS|FAIL — .+)$`. Lines inside code blocks, HTML blocks and
//! comments are never looked at, and trailing whitespace is not part of a
//! line.

use regex::Regex;

use super::{Findings, resolve_under};
use crate::diagnostic::Position;
use crate::markdown::{Document, Line};
use crate::playbook::{Expect, PatternSpec, Scope};

/// How to fix what this kind finds, in one line, for reports.
pub const HINT: &str =
    "write the line the check expects (the closing line last), or remove the lines it forbids";

pub fn check(spec: &PatternSpec, doc: &Document, findings: &mut Findings<'_>) {
    let regex = match spec.compiled() {
        Ok(regex) => regex,
        Err(error) => {
            findings.report(
                Position::START,
                format!("the regular expression does not compile: {error}"),
            );
            return;
        }
    };
    let Ok(section) = resolve_under(doc, spec.under.as_deref(), findings) else {
        return;
    };
    match spec.scope {
        Scope::Lines => lines(spec, regex, doc, section, findings),
        Scope::LastLine => last_line(spec, regex, doc, section, findings),
    }
}

fn lines(
    spec: &PatternSpec,
    regex: &Regex,
    doc: &Document,
    section: Option<usize>,
    findings: &mut Findings<'_>,
) {
    let mut matched = doc
        .prose_lines(section)
        .filter_map(|line| regex.find(text(line)).map(|m| (line, m)));
    match spec.expect {
        Expect::Match => match matched.next() {
            Some((line, _)) => findings.evidence(line.text.trim(), line.number, line.number),
            None => {
                findings
                    .report_under(doc, section, format!("no line matches `{}`", spec.regex))
                    .help = Some("write the line this pattern expects".into());
            }
        },
        Expect::Absent => {
            for (line, found) in matched {
                let column = line.text[..found.start()].chars().count() + 1;
                let end = column + found.as_str().chars().count();
                findings
                    .report(
                        Position::new(line.number, column),
                        format!("\"{}\" must not appear", found.as_str()),
                    )
                    .end = Some(Position::new(line.number, end));
            }
        }
    }
}

fn last_line(
    spec: &PatternSpec,
    regex: &Regex,
    doc: &Document,
    section: Option<usize>,
    findings: &mut Findings<'_>,
) {
    let last = doc
        .prose_lines(section)
        .filter(|line| !line.text.trim().is_empty())
        .last();
    let Some(last) = last else {
        findings.report(Position::START, "the document has no closing line");
        return;
    };
    let is_match = regex.is_match(text(last));
    match (spec.expect, is_match) {
        (Expect::Match, true) => findings.evidence(last.text.trim(), last.number, last.number),
        (Expect::Match, false) => {
            let elsewhere = doc
                .prose_lines(section)
                .find(|line| line.number != last.number && regex.is_match(text(line)));
            let finding = findings.report_line(
                doc,
                Position::new(last.number, 1),
                format!(
                    "the last line is \"{}\"; it must match `{}`",
                    last.text.trim(),
                    spec.regex
                ),
            );
            if let Some(line) = elsewhere {
                finding.help = Some(format!(
                    "line {} matches, but it is not the last line",
                    line.number
                ));
            }
        }
        (Expect::Absent, true) => {
            findings.report_line(
                doc,
                Position::new(last.number, 1),
                format!(
                    "the last line \"{}\" must not match `{}`",
                    last.text.trim(),
                    spec.regex
                ),
            );
        }
        (Expect::Absent, false) => findings.evidence(last.text.trim(), last.number, last.number),
    }
}

/// A line's text as a pattern sees it: without trailing whitespace, which is
/// invisible (a hard line break, or where an inline comment was blanked out).
fn text(line: &Line) -> &str {
    line.text.trim_end()
}
