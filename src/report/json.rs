//! `--format json`: the shapes the command line documents, and the MCP
//! server returns. Each is a Rust type, so its JSON Schema (the MCP tools'
//! output schemas) is generated from the same definition that serializes it.

use std::borrow::Borrow;
use std::cell::{Cell, RefCell};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Summary, span};
use crate::diagnostic::{Diagnostic, Position, Severity};
use crate::engine::{StepResult, Verdict};
use crate::project::SubjectStatus;

/// `lint --format json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LintReport {
    pub diagnostics: Vec<LintJsonDiagnostic>,
}

/// One lint diagnostic.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LintJsonDiagnostic {
    /// A stable code such as `unknown-phase`.
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

/// `lint --format json`: `{"diagnostics": [{code, severity, message, path, line, column}]}`.
pub fn lint_json(diagnostics: &[Diagnostic]) -> LintReport {
    LintReport {
        diagnostics: diagnostics
            .iter()
            .map(|d| LintJsonDiagnostic {
                code: d.code.clone(),
                severity: d.severity,
                message: d.message.clone(),
                path: d.path.clone(),
                line: d.start.map(|p| p.line),
                column: d.start.map(|p| p.column),
            })
            .collect(),
    }
}

/// One finding of a check.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JsonFinding {
    /// The id of the check that found it.
    pub check: String,
    pub severity: Severity,
    pub message: String,
    /// The file, relative to the project root.
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// How to fix it, when the check says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The other places it is about (the far end of a trace).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<crate::diagnostic::Related>,
}

impl From<&Diagnostic> for JsonFinding {
    fn from(d: &Diagnostic) -> Self {
        let (start, end) = span(d);
        Self {
            check: d.code.clone(),
            severity: d.severity,
            message: d.message.clone(),
            path: d.path.clone(),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            hint: d.help.clone(),
            related: d.related.clone(),
        }
    }
}

/// A suppressed finding: the finding's fields, the reason, and where the
/// directive is.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JsonSuppressed {
    #[serde(flatten)]
    pub finding: JsonFinding,
    pub reason: String,
    pub directive: Position,
}

impl From<&crate::suppress::Suppressed> for JsonSuppressed {
    fn from(s: &crate::suppress::Suppressed) -> Self {
        Self {
            finding: JsonFinding::from(&s.finding),
            reason: s.reason.clone(),
            directive: s.directive,
        }
    }
}

/// One step judged for one subject or file set.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JsonResult {
    /// The subject, or `null` for files checked without one.
    pub subject: Option<String>,
    pub step: String,
    pub verdict: Verdict,
    /// Artifact names and their paths, relative to the project root.
    pub artifacts: IndexMap<String, String>,
    pub findings: Vec<JsonFinding>,
    pub suppressed: Vec<JsonSuppressed>,
}

impl From<&StepResult> for JsonResult {
    fn from(result: &StepResult) -> Self {
        Self {
            subject: result.subject.clone(),
            step: result.step.clone(),
            verdict: result.verdict,
            artifacts: result.artifacts.clone(),
            findings: result.findings().map(JsonFinding::from).collect(),
            suppressed: result.suppressed().map(JsonSuppressed::from).collect(),
        }
    }
}

/// `check --format json`. The results and summary are the same whether
/// gathered first (`CheckReport`, the MCP answer) or written out as each
/// result is ready ([`write_check_json`]): one shape, serialized by one
/// definition.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "CheckReport")]
pub struct CheckReport<Results = Vec<JsonResult>, Verdicts = Summary> {
    /// The version of this shape.
    pub tollgate: u32,
    /// The playbook's name.
    pub playbook: String,
    pub results: Results,
    pub summary: Verdicts,
}

/// `check --format json`, as the command line documents it.
pub fn check_json(playbook: &str, results: &[StepResult]) -> CheckReport {
    CheckReport {
        tollgate: 1,
        playbook: playbook.to_string(),
        results: results.iter().map(JsonResult::from).collect(),
        summary: Summary::of(results),
    }
}

/// Writes `check --format json` as [`check_json`] would print it, each
/// result as it comes, so that no result is held after it is written.
pub fn write_check_json<R: Borrow<StepResult>>(
    playbook: &str,
    results: &mut dyn Iterator<Item = R>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let summary = Cell::new(Summary::default());
    let report = CheckReport {
        tollgate: 1,
        playbook: playbook.to_string(),
        results: Streamed {
            results: RefCell::new(results),
            summary: &summary,
        },
        summary: Tallied(&summary),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

/// Results serialized as they are taken, each counted into `summary`.
struct Streamed<'a, 'r, R> {
    results: RefCell<&'r mut dyn Iterator<Item = R>>,
    summary: &'a Cell<Summary>,
}

impl<R: Borrow<StepResult>> Serialize for Streamed<'_, '_, R> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut results = self.results.borrow_mut();
        serializer.collect_seq((&mut **results).map(|result| {
            let result = result.borrow();
            let mut summary = self.summary.get();
            summary.add(result.verdict);
            self.summary.set(summary);
            JsonResult::from(result)
        }))
    }
}

/// The summary of the results serialized before it.
struct Tallied<'a>(&'a Cell<Summary>);

impl Serialize for Tallied<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.get().serialize(serializer)
    }
}

/// `status --format json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusReport {
    /// The playbook's name.
    pub playbook: String,
    pub subjects: Vec<JsonSubject>,
}

/// One subject: where it stands and its next step's verdict.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JsonSubject {
    pub id: String,
    pub title: String,
    /// Made of the id and title; artifact paths use it.
    pub slug: String,
    pub phase: String,
    pub phase_label: String,
    /// `null` once the subject has finished the playbook.
    pub next_step: Option<String>,
    /// The next step's verdict.
    pub verdict: Option<Verdict>,
    pub approvals: Vec<JsonApproval>,
    /// Where the next step's human gate stands; `null` for an automated gate.
    pub gate: Option<JsonGate>,
}

/// Where a human gate stands, as the step's `approval:` rule counts it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JsonGate {
    /// "1 of 2 approvals (needs security)", as `status` prints it.
    pub progress: String,
    /// The distinct people whose fresh approvals count.
    pub approvers: Vec<String>,
    /// How many distinct people the gate needs.
    pub min: usize,
    /// The `require` groups no approver covers yet.
    pub needs: Vec<String>,
    /// Who requested changes that still hold the gate.
    pub changes_requested_by: Vec<String>,
}

/// The latest approval of a step by one person.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JsonApproval {
    pub step: String,
    pub by: String,
    pub at: String,
    pub note: Option<String>,
    /// The documents changed since it was given.
    pub stale: bool,
}

/// `status --format json`, as the command line documents it.
pub fn status_json(playbook: &str, subjects: &[SubjectStatus]) -> StatusReport {
    StatusReport {
        playbook: playbook.to_string(),
        subjects: subjects
            .iter()
            .map(|s| JsonSubject {
                id: s.record.id.clone(),
                title: s.record.title.clone(),
                slug: s.record.slug.clone(),
                phase: s.record.phase.clone(),
                phase_label: s.phase_label.clone(),
                next_step: s.next_step.clone(),
                verdict: s.result.as_ref().map(|r| r.verdict),
                approvals: s
                    .approvals
                    .iter()
                    .map(|(a, stale)| JsonApproval {
                        step: a.step.clone(),
                        by: a.by.clone(),
                        at: a.at.clone(),
                        note: a.note.clone(),
                        stale: *stale,
                    })
                    .collect(),
                gate: s.gate.as_ref().map(|gate| JsonGate {
                    progress: gate.progress(),
                    approvers: gate.approvers.clone(),
                    min: gate.min,
                    needs: gate.missing.clone(),
                    changes_requested_by: gate.rejected_by.clone(),
                }),
            })
            .collect(),
    }
}

/// What `advance` did: the step's verdict and where the subject is now, or
/// why it stayed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AdvanceReport {
    pub subject: String,
    pub step: String,
    pub verdict: Verdict,
    /// Whether the step was taken; when not, the subject stays where it
    /// was and `message` says why.
    pub taken: bool,
    /// The phase the subject is in now.
    pub phase: String,
    pub phase_label: String,
    /// What happened, in one line, as the command line says it.
    pub message: String,
    /// On a human gate: that it awaits a person, and the command a person
    /// runs to approve it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub awaits_person: Option<String>,
    /// The findings of the step's checks.
    pub findings: Vec<JsonFinding>,
}
