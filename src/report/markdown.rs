//! `--format markdown`: GitHub-flavoured Markdown for a job summary
//! (`$GITHUB_STEP_SUMMARY`) or a pull-request comment. A table of what was
//! judged (phase, next step, verdict as a symbol and a word, approvals),
//! then each failing result's findings with `path:line` links relative to
//! the repository, the findings past ten folded into `<details>`.
//!
//! GitHub refuses a step summary over 1 MiB, so the text is written within
//! [`SIZE_LIMIT`]: what does not fit is left out and a closing line says how
//! much. Every text from documents and people is escaped, since GitHub reads
//! HTML inside Markdown.

use std::fmt::Write as _;

use crate::checks::count;
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::{StepResult, Verdict};
use crate::project::SubjectStatus;

/// GitHub's limit on a step summary.
pub const SIZE_LIMIT: usize = 1024 * 1024;
/// Room kept for the closing lines, so that they always fit.
const CLOSING_ROOM: usize = 1024;
/// Findings of a result shown before the rest are folded away.
const SHOWN_FINDINGS: usize = 10;

/// One line of the table: what was judged and where it stands. Each report
/// (a check, a status) says what it knows; the rest stays empty.
struct Row<'a> {
    subject: String,
    title: Option<&'a str>,
    phase: Option<&'a str>,
    step: Option<&'a str>,
    verdict: Option<Verdict>,
    /// Which step who approved, and whether the approval is stale.
    approvals: Vec<(&'a str, &'a str, bool)>,
    /// Where the next step's human gate stands.
    gate: Option<String>,
}

/// `check --format markdown`.
pub fn check_markdown(playbook: &str, results: &[StepResult]) -> String {
    let rows = results
        .iter()
        .map(|result| Row {
            subject: result.subject.clone().unwrap_or_else(|| result.target()),
            title: None,
            phase: None,
            step: Some(&result.step),
            verdict: Some(result.verdict),
            approvals: Vec::new(),
            gate: None,
        })
        .collect();
    markdown(playbook, rows, results.iter())
}

/// `status --format markdown`.
pub fn status_markdown(playbook: &str, subjects: &[SubjectStatus]) -> String {
    let rows = subjects
        .iter()
        .map(|s| Row {
            subject: s.record.id.clone(),
            title: Some(&s.record.title),
            phase: Some(&s.phase_label),
            step: s.next_step.as_deref(),
            verdict: s.result.as_ref().map(|r| r.verdict),
            approvals: s
                .approvals
                .iter()
                .map(|(a, stale)| (a.step.as_str(), a.by.as_str(), *stale))
                .collect(),
            gate: s.gate.as_ref().map(|gate| gate.progress()),
        })
        .collect();
    markdown(
        playbook,
        rows,
        subjects.iter().filter_map(|s| s.result.as_ref()),
    )
}

/// `verify --format markdown`: a heading, a line of counts, then each
/// finding.
pub fn verify_markdown(playbook: &str, findings: &[Diagnostic]) -> String {
    let mut out = Budget::new();
    out.push(&format!("## Tollgate verify: {}\n\n", escape(playbook)));
    let counts = crate::report::Counts::of(findings);
    if findings.is_empty() {
        out.push("✅ Every human gate passed was opened as the playbook says.\n");
        return out.finish();
    }
    let symbol = if counts.errors > 0 { "❌" } else { "⚠️" };
    out.push(&format!("{symbol} {}\n\n", counts.summary()));
    for finding in findings {
        if !out.push(&finding_line(finding)) {
            out.left_out_findings += 1;
        }
    }
    out.finish()
}

fn markdown<'a>(
    playbook: &str,
    rows: Vec<Row<'_>>,
    results: impl Iterator<Item = &'a StepResult>,
) -> String {
    let mut out = Budget::new();
    out.push(&format!("## Tollgate: {}\n\n", escape(playbook)));
    if rows.is_empty() {
        out.push("Nothing was judged.\n");
        return out.finish();
    }
    // A status knows each subject's title, phase and approvals; a check
    // knows only what it judged.
    let is_status = rows.iter().any(|row| row.phase.is_some());
    let header = if is_status {
        "| Subject | Title | Phase | Next step | Verdict | Approvals |\n|---|---|---|---|---|---|\n"
    } else {
        "| Subject or file | Step | Verdict |\n|---|---|---|\n"
    };
    out.push(header);
    for row in &rows {
        if !out.push(&table_row(row, is_status)) {
            out.left_out_rows += 1;
        }
    }
    for result in results.filter(|r| r.verdict.fails() && r.findings().next().is_some()) {
        let findings: Vec<&Diagnostic> = result.findings().collect();
        let heading = format!(
            "\n### {} {} — {}\n\n",
            symbol(Some(result.verdict)),
            escape(&result.target()),
            verdict_word(Some(result.verdict))
        );
        if !out.push(&heading) {
            out.left_out_findings += findings.len();
            continue;
        }
        let mut folded = false;
        for (index, finding) in findings.iter().enumerate() {
            if index == SHOWN_FINDINGS {
                let more = count(findings.len() - SHOWN_FINDINGS, "more finding");
                folded = out.push(&format!("\n<details><summary>{more}</summary>\n\n"));
            }
            if !out.push(&finding_line(finding)) {
                out.left_out_findings += 1;
            }
        }
        if folded {
            out.push_closing("\n</details>\n");
        }
    }
    out.finish()
}

fn table_row(row: &Row, is_status: bool) -> String {
    let or_dash = |text: Option<&str>| text.map_or_else(|| "—".to_string(), escape);
    let verdict = format!("{} {}", symbol(row.verdict), verdict_word(row.verdict));
    let subject = escape(&row.subject);
    let step = or_dash(row.step);
    if !is_status {
        return format!("| {subject} | {step} | {verdict} |\n");
    }
    let approvals: Vec<String> = (row.gate.iter().map(|gate| escape(gate)))
        .chain(row.approvals.iter().map(|(step, by, stale)| {
            let stale = if *stale { " (stale)" } else { "" };
            format!("{} by {}{stale}", escape(step), escape(by))
        }))
        .collect();
    let approvals = if approvals.is_empty() {
        "—".to_string()
    } else {
        approvals.join(", ")
    };
    format!(
        "| {subject} | {} | {} | {step} | {verdict} | {approvals} |\n",
        or_dash(row.title),
        or_dash(row.phase),
    )
}

/// `- **error** `check` [path:line](path#Lline): message`.
fn finding_line(finding: &Diagnostic) -> String {
    let severity = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    let place = match finding.start {
        Some(start) => format!("{}:{}", finding.path, start.line),
        None => finding.path.clone(),
    };
    let target = finding
        .start
        .map(|start| format!("{}#L{}", link_path(&finding.path), start.line))
        .unwrap_or_else(|| link_path(&finding.path));
    // Only a path inside the repository is a link; anything else is text.
    let place = if is_relative(&finding.path) {
        format!("[{}]({target})", escape(&place))
    } else {
        escape(&place)
    };
    format!(
        "- **{severity}** {} {place}: {}\n",
        escape(&finding.code),
        escape(&finding.message)
    )
}

fn is_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with(['/', '\\'])
        && !path.contains(':')
        && !path.split('/').any(|part| part == "..")
}

/// A path as a link target: everything but unreserved characters and `/`
/// percent-encoded.
fn link_path(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            encoded.push(byte as char);
        } else {
            write!(encoded, "%{byte:02X}").expect("writing to a string cannot fail");
        }
    }
    encoded
}

fn symbol(verdict: Option<Verdict>) -> &'static str {
    match verdict {
        Some(Verdict::Passed) => "✅",
        Some(Verdict::Failed) => "❌",
        Some(Verdict::Blocked) => "⛔",
        Some(Verdict::AwaitingApproval) => "⏳",
        Some(Verdict::Done) => "☑️",
        None => "🏁",
    }
}

fn verdict_word(verdict: Option<Verdict>) -> &'static str {
    match verdict {
        Some(Verdict::AwaitingApproval) => "awaiting approval",
        Some(verdict) => verdict.as_str(),
        None => "finished",
    }
}

/// Text from documents and people, made inert: HTML and Markdown syntax
/// characters are escaped, a table cell's `|` too, and line breaks and
/// other control characters become visible escapes, so one cell stays one
/// line.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' | '(' | ')' => {
                escaped.push('\\');
                escaped.push(c);
            }
            c if c.is_control() => escaped.extend(c.escape_default()),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The summary as it is written, kept within [`SIZE_LIMIT`], counting what
/// did not fit.
struct Budget {
    text: String,
    left_out_rows: usize,
    left_out_findings: usize,
}

impl Budget {
    fn new() -> Self {
        Self {
            text: String::new(),
            left_out_rows: 0,
            left_out_findings: 0,
        }
    }

    /// Adds `part` when it fits; whether it did. Once something is left
    /// out, nothing later is added, so the text never skips ahead.
    fn push(&mut self, part: &str) -> bool {
        let full = self.left_out_rows + self.left_out_findings > 0;
        if full || self.text.len() + part.len() > SIZE_LIMIT - CLOSING_ROOM {
            return false;
        }
        self.text.push_str(part);
        true
    }

    /// Adds a closing part (of a `<details>`) from the kept room.
    fn push_closing(&mut self, part: &str) {
        self.text.push_str(part);
    }

    fn finish(mut self) -> String {
        let mut left_out = Vec::new();
        if self.left_out_rows > 0 {
            left_out.push(count(self.left_out_rows, "subject row"));
        }
        if self.left_out_findings > 0 {
            left_out.push(count(self.left_out_findings, "finding"));
        }
        if !left_out.is_empty() {
            write!(
                self.text,
                "\n**{} left out** to stay under GitHub's 1 MiB summary limit; \
                 `tollgate check --format json` has everything.\n",
                left_out.join(" and ")
            )
            .expect("writing to a string cannot fail");
        }
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_makes_html_markdown_and_control_characters_inert() {
        assert_eq!(
            escape("<script>a|b</script> *x* \"&\n"),
            "&lt;script&gt;a\\|b&lt;/script&gt; \\*x\\* \"&amp;\\n"
        );
    }

    #[test]
    fn only_paths_inside_the_repository_are_links() {
        assert!(is_relative("specs/a b/plan.md"));
        assert!(!is_relative("/etc/passwd"));
        assert!(!is_relative("specs/../../x.md"));
        assert!(!is_relative("javascript:alert(1)"));
        assert_eq!(link_path("specs/a b/plan.md"), "specs/a%20b/plan.md");
    }
}
