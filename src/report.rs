//! Output for people and machines: diagnostics as code frames, and the JSON
//! shapes of the command line's `--format json`.

use std::collections::HashMap;

use codespan_reporting::term::termcolor::{NoColor, WriteColor};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::{StepResult, Verdict};

/// The text of the files diagnostics point into, by displayed path.
#[derive(Debug, Default)]
pub struct Sources {
    texts: HashMap<String, String>,
}

impl Sources {
    pub fn insert(&mut self, path: impl Into<String>, text: impl Into<String>) {
        self.texts.insert(path.into(), text.into());
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.texts.get(path).map(String::as_str)
    }
}

impl StepResult {
    /// The texts this result's findings point into, for code frames.
    pub fn source_map(&self) -> Sources {
        let mut sources = Sources::default();
        for (path, text) in &self.sources {
            sources.insert(path.clone(), text.clone());
        }
        sources
    }
}

/// Writes each diagnostic with a code frame where its source is known.
pub fn write_diagnostics(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    for diagnostic in diagnostics {
        diagnostic.render(sources.get(&diagnostic.path), out)?;
    }
    Ok(())
}

/// The diagnostics as plain text with code frames, as tests snapshot them.
pub fn diagnostics_to_string(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let mut out = NoColor::new(Vec::new());
    write_diagnostics(diagnostics, sources, &mut out).expect("writing to memory cannot fail");
    String::from_utf8_lossy(&out.into_inner()).into_owned()
}

/// How many diagnostics of each severity, in the words of a summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Counts {
    pub fn of<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) -> Self {
        let mut counts = Counts::default();
        for diagnostic in diagnostics {
            match diagnostic.severity {
                Severity::Error => counts.errors += 1,
                Severity::Warning => counts.warnings += 1,
                Severity::Info => counts.infos += 1,
            }
        }
        counts
    }

    pub fn summary(&self) -> String {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {}",
            plural(self.errors, "error"),
            plural(self.warnings, "warning")
        )
    }
}

#[derive(Serialize)]
struct LintJsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    path: &'a str,
    line: Option<usize>,
    column: Option<usize>,
}

/// `lint --format json`: `{"diagnostics": [{code, severity, message, path, line, column}]}`.
pub fn lint_json(diagnostics: &[Diagnostic]) -> serde_json::Value {
    let diagnostics: Vec<LintJsonDiagnostic> = diagnostics
        .iter()
        .map(|d| LintJsonDiagnostic {
            code: &d.code,
            severity: d.severity,
            message: &d.message,
            path: &d.path,
            line: d.start.map(|p| p.line),
            column: d.start.map(|p| p.column),
        })
        .collect();
    serde_json::json!({ "diagnostics": diagnostics })
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    check: &'a str,
    severity: Severity,
    message: &'a str,
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

impl<'a> From<&'a Diagnostic> for JsonFinding<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        let start = d.start.unwrap_or(crate::diagnostic::Position::START);
        let end = d.end.unwrap_or(start);
        Self {
            check: &d.code,
            severity: d.severity,
            message: &d.message,
            path: &d.path,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }
}

/// A suppressed finding in `check --format json`: the finding's fields, the
/// reason, and where the directive is.
#[derive(Serialize)]
struct JsonSuppressed<'a> {
    #[serde(flatten)]
    finding: JsonFinding<'a>,
    reason: &'a str,
    directive: crate::diagnostic::Position,
}

impl<'a> From<&'a crate::suppress::Suppressed> for JsonSuppressed<'a> {
    fn from(s: &'a crate::suppress::Suppressed) -> Self {
        Self {
            finding: JsonFinding::from(&s.finding),
            reason: &s.reason,
            directive: s.directive,
        }
    }
}

/// How many results ended in each verdict.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub blocked: usize,
    pub awaiting_approval: usize,
    pub done: usize,
}

impl Summary {
    pub fn of<'a>(results: impl IntoIterator<Item = &'a StepResult>) -> Self {
        let mut summary = Summary::default();
        for result in results {
            *match result.verdict {
                Verdict::Passed => &mut summary.passed,
                Verdict::Failed => &mut summary.failed,
                Verdict::Blocked => &mut summary.blocked,
                Verdict::AwaitingApproval => &mut summary.awaiting_approval,
                Verdict::Done => &mut summary.done,
            } += 1;
        }
        summary
    }

    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} blocked, {} awaiting approval, {} done",
            self.passed, self.failed, self.blocked, self.awaiting_approval, self.done
        )
    }
}

/// `check --format json`, as the command line documents it.
pub fn check_json(playbook: &str, results: &[StepResult]) -> serde_json::Value {
    let summary = Summary::of(results);
    let results: Vec<serde_json::Value> = results
        .iter()
        .map(|result| {
            let findings: Vec<JsonFinding> = result.findings().map(JsonFinding::from).collect();
            serde_json::json!({
                "subject": result.subject,
                "step": result.step,
                "verdict": result.verdict,
                "artifacts": result.artifacts,
                "findings": findings,
                "suppressed": result.suppressed().map(JsonSuppressed::from).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "tollgate": 1,
        "playbook": playbook,
        "results": results,
        "summary": summary,
    })
}

/// `check` for people: each result with its verdict, its findings framed
/// by the offending lines, then one summary line.
pub fn write_check_text(
    results: &[StepResult],
    quiet: bool,
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    for result in results {
        if quiet && !result.verdict.fails() {
            continue;
        }
        let target = match &result.subject {
            Some(subject) => format!("{subject} · {}", result.step),
            None => result
                .artifacts
                .values()
                .next()
                .cloned()
                .unwrap_or_default(),
        };
        writeln!(out, "{target}: {}", result.verdict.as_str())?;
        let findings: Vec<Diagnostic> = result.findings().cloned().collect();
        write_diagnostics(&findings, &result.source_map(), out)?;
        write_suppressed(result, out)?;
    }
    if !quiet {
        writeln!(out, "{}", Summary::of(results).line())?;
    }
    Ok(())
}

/// One line per suppressed finding of a result, with the directive's line
/// and reason.
fn write_suppressed(result: &StepResult, out: &mut dyn WriteColor) -> std::io::Result<()> {
    for suppressed in result.suppressed() {
        let finding = &suppressed.finding;
        writeln!(
            out,
            "suppressed[{}] {}: {} (reason, line {}: {})",
            finding.code,
            finding.location(),
            finding.message,
            suppressed.directive.line,
            suppressed.reason
        )?;
    }
    Ok(())
}
