//! `pattern: {regex, expect, under, scope}`: a regular expression over the
//! prose lines of a section or of the whole document.
//!
//! `expect: match` (default) needs some line to match; `expect: absent`
//! reports every match on every line, each at its own column.
//! `scope: last_line` looks only at the last non-blank line outside code,
//! for a closing line such as `^Gate: (PASS|FAIL — .+)$`. Lines inside code
//! blocks, HTML blocks and comments are never looked at, and trailing
//! whitespace is not part of a line. With `expect: absent` and
//! `scope: last_line`, a document without a closing line passes: nothing
//! there matches.
//!
//! A finding about a matching line (`expect: absent`) carries the named
//! groups of the match, which the check's `message:` template sees as
//! `captures`: with `regex: '^Gate: FAIL — (?P<reason>.+)$'`, the message
//! `"the gate is declared failed: {{ captures.reason }}"` quotes the reason.
//! Other findings have no captures.

use std::collections::BTreeMap;

use regex::{Captures, Regex};

use super::{Findings, resolve_under};
use crate::diagnostic::Position;
use crate::markdown::{Document, Line};
use crate::playbook::{Expect, PatternSpec, Scope};

/// How to fix what this kind finds, in one line, for reports.
pub const HINT: &str =
    "write the line the check expects (the closing line last), or remove the lines it forbids";

pub fn check(spec: &PatternSpec, doc: &Document, findings: &mut Findings<'_>) {
    let Some(regex) = findings.compiled(spec.compiled()) else {
        return;
    };
    let Ok(section) = resolve_under(doc, spec.under.as_ref(), findings) else {
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
    match spec.expect {
        Expect::Match => match doc
            .prose_lines(section)
            .find(|line| regex.is_match(text(*line)))
        {
            Some(line) => findings.evidence(line.text.trim(), line.number, line.number),
            None => {
                findings
                    .report_under(doc, section, format!("no line matches `{}`", spec.regex))
                    .help = Some("write the line this pattern expects".into());
            }
        },
        Expect::Absent => {
            // `find_iter` first: most lines do not match, and only a match
            // needs its groups. Every match is a finding of its own, so that a
            // line with several template values reports each where it stands.
            for line in doc.prose_lines(section) {
                let haystack = text(line);
                for found in regex.find_iter(haystack) {
                    let column = haystack[..found.start()].chars().count() + 1;
                    let end = column + found.as_str().chars().count();
                    let finding = findings.report(
                        Position::new(line.number, column),
                        format!("\"{}\" must not appear", found.as_str()),
                    );
                    finding.end = Some(Position::new(line.number, end));
                    // From where this match starts, so that the groups are
                    // this match's and not the line's first.
                    if let Some(captures) = regex.captures_at(haystack, found.start()) {
                        finding.captures = named(regex, &captures);
                    }
                }
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
        .rfind(|line| !line.text.trim().is_empty());
    let Some(last) = last else {
        if spec.expect == Expect::Match {
            findings.report(Position::START, "the document has no closing line");
        }
        return;
    };
    let shown = last.text.trim();
    let at = Position::new(last.number, 1);
    match (spec.expect, regex.captures(text(last))) {
        (Expect::Match, None) => {
            let elsewhere = doc
                .prose_lines(section)
                .find(|line| line.number != last.number && regex.is_match(text(*line)));
            let finding = findings.report_line(
                doc,
                at,
                format!(
                    "the last line is \"{shown}\"; it must match `{}`",
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
        (Expect::Absent, Some(captures)) => {
            findings
                .report_line(
                    doc,
                    at,
                    format!("the last line \"{shown}\" must not match `{}`", spec.regex),
                )
                .captures = named(regex, &captures);
        }
        (Expect::Match, Some(_)) | (Expect::Absent, None) => {
            findings.evidence(shown, last.number, last.number)
        }
    }
}

/// A line's text as a pattern sees it: without trailing whitespace, which is
/// invisible (a hard line break, or where an inline comment was blanked out).
fn text(line: Line<'_>) -> &str {
    line.text.trim_end()
}

/// The named groups of a match that took part in it, by name.
fn named(regex: &Regex, captures: &Captures<'_>) -> BTreeMap<String, String> {
    regex
        .capture_names()
        .flatten()
        .filter_map(|name| Some((name.to_string(), captures.name(name)?.as_str().to_string())))
        .collect()
}
