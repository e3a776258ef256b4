//! `--format json`: the shapes the command line documents.

use serde::Serialize;

use super::{Summary, span};
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::StepResult;

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
    /// How to fix it, when the check says.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    /// The other places it is about (the far end of a trace).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    related: &'a [crate::diagnostic::Related],
}

impl<'a> From<&'a Diagnostic> for JsonFinding<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        let (start, end) = span(d);
        Self {
            check: &d.code,
            severity: d.severity,
            message: &d.message,
            path: &d.path,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            hint: d.help.as_deref(),
            related: &d.related,
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
