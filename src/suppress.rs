//! Inline suppression: a document's author silences a finding, with a
//! reason, in an HTML comment next to it.
//!
//! - `<!-- tollgate-disable CHECK-ID[, CHECK-ID...]: reason -->` suppresses
//!   the named checks' findings from its own line until a
//!   `<!-- tollgate-enable CHECK-ID -->` (whose line is no longer covered) or
//!   the end of the file. Placed before any content (only front matter,
//!   blank lines and other comments above it), it covers the document from
//!   line 1, so findings about the document as a whole, which point at 1:1
//!   ("missing section"), can be suppressed under front matter too.
//! - `<!-- tollgate-disable-next-line CHECK-ID: reason -->` covers the next
//!   non-blank line after the comment's closing `-->`.
//! - A finding is covered when the line it starts on is; where ranges of
//!   one check overlap, the directive written last gets it.
//!
//! Each check is named: there is no wildcard, so each reason is about the
//! checks it names. Findings about directives have the check id
//! [`CHECK_ID`] and cannot themselves be suppressed: a malformed directive,
//! one without a reason, one naming a check the playbook does not have, or a
//! check whose findings the playbook forbids suppressing (errors); an enable
//! that ends no suppression, and a suppression that suppresses nothing
//! (warnings). A directive without a reason, or naming a check that forbids
//! suppression, suppresses nothing. A directive naming a check of the
//! playbook that this step does not run on this document is left alone: the
//! document may be checked by another step too.
//!
//! Suppressed findings are kept, with their reason and the directive's
//! position, in [`CheckOutcome::suppressed`]; they no longer count towards
//! the verdict.

use serde::Serialize;

use crate::checks::{CheckOutcome, CheckStatus};
use crate::diagnostic::{Diagnostic, Position, Severity};
use crate::markdown::{Action, Directive, Document};

/// The check id of findings about the directives themselves.
pub const CHECK_ID: &str = "tollgate-suppression";

/// A finding a directive suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppressed {
    pub finding: Diagnostic,
    pub reason: String,
    /// The `<!--` of the directive that suppressed it.
    pub directive: Position,
}

/// A check the step runs on the document, as suppression sees it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub id: &'a str,
    /// The playbook lets documents suppress its findings.
    pub suppressible: bool,
}

/// The lines on which one directive suppresses one check.
struct Range {
    directive: usize,
    check: String,
    first: usize,
    last: usize,
    reason: String,
    used: bool,
}

/// Moves the findings of `outcomes` that the document's directives cover
/// into their `suppressed` lists, and returns the findings about the
/// directives. `targets` are the checks of the step that read `doc`;
/// `known` every check id of the playbook.
pub fn apply(
    doc: &Document,
    targets: &[Target<'_>],
    known: &[String],
    outcomes: &mut [CheckOutcome],
) -> Vec<Diagnostic> {
    let mut report = Report {
        doc,
        findings: Vec::new(),
    };
    let ranges = ranges(doc, targets, known, &mut report);
    let ranges = suppress(doc, ranges, outcomes);
    for range in ranges.iter().filter(|range| !range.used) {
        let ran = outcomes
            .iter()
            .any(|o| o.check == range.check && o.status != CheckStatus::Skipped);
        if ran {
            report
                .warning(
                    &doc.directives[range.directive],
                    format!("suppression of `{}` suppresses nothing", range.check),
                )
                .help = Some(format!(
                "remove `{}` from the directive, or the directive",
                range.check
            ));
        }
    }
    let mut findings = report.findings;
    findings.sort_by_key(|finding| finding.start);
    findings
}

/// Reads the directives in order, reporting the faulty ones, into the
/// ranges that suppress.
fn ranges(
    doc: &Document,
    targets: &[Target<'_>],
    known: &[String],
    report: &mut Report<'_>,
) -> Vec<Range> {
    let mut ranges: Vec<Range> = Vec::new();
    let next_content = next_content_lines(doc);
    // Disables not yet enabled again: the check, and its range if it has one.
    let mut open: Vec<(&str, Option<usize>)> = Vec::new();
    for (index, directive) in doc.directives.iter().enumerate() {
        let body = match &directive.parsed {
            Ok(body) => body,
            Err(why) => {
                report.error(directive, why.clone()).help = Some(
                    "write `<!-- tollgate-disable CHECK-ID: reason -->`, \
                     `<!-- tollgate-disable-next-line CHECK-ID: reason -->` \
                     or `<!-- tollgate-enable CHECK-ID -->`"
                        .into(),
                );
                continue;
            }
        };
        let line = directive.position.line;
        if body.action == Action::Enable {
            for check in &body.checks {
                let before = open.len();
                open.retain(|&(id, range)| {
                    if id != check {
                        return true;
                    }
                    if let Some(range) = range {
                        ranges[range].last = line.saturating_sub(1);
                    }
                    false
                });
                if open.len() == before {
                    report.warning(
                        directive,
                        format!(
                            "`tollgate-enable {check}` ends no suppression: \
                             no `tollgate-disable {check}` comes before it"
                        ),
                    );
                }
            }
            continue;
        }
        let lines = match body.action {
            Action::DisableNextLine => next_content
                .get(directive.end.line)
                .copied()
                .flatten()
                .map(|line| (line, line)),
            _ if directive.leading => Some((1, usize::MAX)),
            _ => Some((line, usize::MAX)),
        };
        let keyword = body.action.keyword();
        if body.reason.is_none() {
            report
                .error(directive, format!("`{keyword}` gives no reason"))
                .help = Some(format!(
                "say why after a colon: `<!-- {keyword} {}: reason -->`",
                body.checks.join(", ")
            ));
        }
        for check in &body.checks {
            let valid = validate(directive, check, targets, known, report);
            let range = match (valid, &body.reason, lines) {
                (true, Some(reason), Some((first, last))) => {
                    ranges.push(Range {
                        directive: index,
                        check: check.clone(),
                        first,
                        last,
                        reason: reason.clone(),
                        used: false,
                    });
                    Some(ranges.len() - 1)
                }
                _ => None,
            };
            if body.action == Action::Disable {
                open.push((check, range));
            }
        }
    }
    ranges
}

/// Whether a directive may suppress `check` here; reports why not when the
/// directive is at fault. A check of the playbook that this step does not
/// run on the document is not a fault.
fn validate(
    directive: &Directive,
    check: &str,
    targets: &[Target<'_>],
    known: &[String],
    report: &mut Report<'_>,
) -> bool {
    if check == CHECK_ID {
        report.error(
            directive,
            format!("findings of `{CHECK_ID}` cannot be suppressed"),
        );
        return false;
    }
    match targets.iter().find(|target| target.id == check) {
        Some(target) if target.suppressible => true,
        Some(_) => {
            report
                .error(
                    directive,
                    format!("check `{check}` may not be suppressed: the playbook forbids it"),
                )
                .help = Some("fix what the check reports instead".into());
            false
        }
        None if known.iter().any(|id| id == check) => false,
        None => {
            let help = match crate::playbook::schema::closest(check, known) {
                Some(near) => format!("did you mean `{near}`?"),
                None => {
                    let ids: Vec<&str> = targets.iter().map(|target| target.id).collect();
                    format!("the checks of this document: {}", ids.join(", "))
                }
            };
            report
                .error(directive, format!("unknown check `{check}`"))
                .help = Some(help);
            false
        }
    }
}

/// For each index `i` of the document's lines, the number of the first line
/// from index `i` on that is neither blank nor only a directive's comment,
/// so that next-line directives stack (a line holding only an inline
/// comment is blank). Found in one pass from the end, so a file of stacked
/// directives costs its length, not its length cubed.
fn next_content_lines(doc: &Document) -> Vec<Option<usize>> {
    // Lines are numbered 1 to n in order.
    let last = doc.line_count();
    // A line inside a directive's comment, after its first; a line where one starts.
    let mut inside = vec![false; last + 1];
    let mut opening = vec![false; last + 1];
    for directive in &doc.directives {
        if let Some(first) = opening.get_mut(directive.position.line) {
            *first = true;
        }
        let after_first = directive.position.line + 1..=directive.end.line.min(last);
        if let Some(lines) = inside.get_mut(after_first) {
            lines.fill(true);
        }
    }
    let mut next = vec![None; doc.line_count() + 1];
    for (index, line) in doc.lines().enumerate().rev() {
        let directive_only = inside[line.number]
            || (opening[line.number] && line.text.trim_start().starts_with("<!--"));
        let content = !line.text.trim().is_empty() && !directive_only;
        next[index] = if content {
            Some(line.number)
        } else {
            next[index + 1]
        };
    }
    next
}

/// Moves each covered finding of `doc` into its outcome's `suppressed`
/// list, marking the ranges used, and settles the outcomes' status again.
fn suppress(doc: &Document, mut ranges: Vec<Range>, outcomes: &mut [CheckOutcome]) -> Vec<Range> {
    for outcome in outcomes.iter_mut() {
        if !ranges.iter().any(|range| range.check == outcome.check) {
            continue;
        }
        let mut kept = Vec::new();
        for finding in std::mem::take(&mut outcome.findings) {
            let line = finding.start.map_or(1, |start| start.line);
            let covering = ranges
                .iter_mut()
                .filter(|range| {
                    range.check == outcome.check && (range.first..=range.last).contains(&line)
                })
                .max_by_key(|range| range.directive);
            match covering {
                Some(range) if finding.path == doc.path => {
                    range.used = true;
                    outcome.suppressed.push(Suppressed {
                        finding,
                        reason: range.reason.clone(),
                        directive: doc.directives[range.directive].position,
                    });
                }
                _ => kept.push(finding),
            }
        }
        outcome.findings = kept;
        if outcome.status != CheckStatus::Skipped {
            outcome.status = CheckStatus::of(&outcome.findings);
        }
    }
    ranges
}

/// Findings about directives, each at its comment.
struct Report<'d> {
    doc: &'d Document,
    findings: Vec<Diagnostic>,
}

impl Report<'_> {
    fn error(&mut self, directive: &Directive, message: String) -> &mut Diagnostic {
        self.push(Severity::Error, directive, message)
    }

    fn warning(&mut self, directive: &Directive, message: String) -> &mut Diagnostic {
        self.push(Severity::Warning, directive, message)
    }

    fn push(
        &mut self,
        severity: Severity,
        directive: &Directive,
        message: String,
    ) -> &mut Diagnostic {
        self.findings.push(
            Diagnostic::new(CHECK_ID, severity, self.doc.path.as_str(), message)
                .at(directive.position)
                .to(directive.end),
        );
        self.findings.last_mut().expect("just pushed")
    }
}
