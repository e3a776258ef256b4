//! Output for people and machines, one file per format: `text` (code
//! frames grouped by file, hints, a summary line), `json`, `sarif` (for code
//! scanning), `junit` (for test report viewers), `github` (workflow
//! commands that annotate a pull request), `markdown` (a job summary) and
//! `board` (a self-contained HTML page of every subject). What they share lives here: the
//! source texts for code frames, counts, and the rules a run reports under.

mod board;
mod escape;
mod github;
mod json;
mod junit;
mod markdown;
mod sarif;
mod text;

use std::collections::HashMap;
use std::sync::OnceLock;

use codespan_reporting::term::termcolor::{NoColor, WriteColor};
use serde::Serialize;

use crate::checks::count;
use crate::diagnostic::{Diagnostic, Position, Severity};
use crate::engine::{StepResult, Verdict};
use crate::source::LineStarts;

pub use board::{BoardContext, board_html};
pub use escape::{Escaping, escape_control, one_line};
pub use github::{write_check_github, write_lint_github};
pub use json::{
    AdvanceReport, CheckReport, JsonApproval, JsonFinding, JsonGate, JsonResult, JsonSubject,
    JsonSuppressed, LintJsonDiagnostic, LintReport, StatusReport, check_json, lint_json,
    status_json, write_check_json,
};
pub use junit::{check_junit, lint_junit, verify_junit};
pub use markdown::{
    SIZE_LIMIT as MARKDOWN_SIZE_LIMIT, check_markdown, status_markdown, verify_markdown,
};
pub use sarif::{check_sarif, lint_sarif};
pub use text::{write_check_text, write_lint_text, write_verify_text};

/// The text of the files diagnostics point into, by displayed path, each
/// with its line starts found once, on first use.
#[derive(Debug, Default)]
pub struct Sources {
    texts: HashMap<String, (String, OnceLock<LineStarts>)>,
}

impl Sources {
    pub fn insert(&mut self, path: impl Into<String>, text: impl Into<String>) {
        self.texts
            .insert(path.into(), (text.into(), OnceLock::new()));
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.texts.get(path).map(|(text, _)| text.as_str())
    }

    /// The text and its line starts, for many code frames in one file.
    pub fn indexed(&self, path: &str) -> Option<(&str, &LineStarts)> {
        self.texts
            .get(path)
            .map(|(text, starts)| (text.as_str(), starts.get_or_init(|| LineStarts::new(text))))
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

    /// What the result is about, as a person names it: the subject and
    /// step, or the file checked.
    pub fn target(&self) -> String {
        match &self.subject {
            Some(subject) => format!("{subject} · {}", self.step),
            None => self.artifacts.values().next().cloned().unwrap_or_default(),
        }
    }
}

/// One linted playbook and what lint found in it and in the files it
/// names (plugins, templates).
#[derive(Debug)]
pub struct LintedFile {
    pub path: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// Writes each diagnostic with a code frame where its source is known.
pub fn write_diagnostics(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    for diagnostic in diagnostics {
        diagnostic.render_indexed(sources.indexed(&diagnostic.path), out)?;
    }
    Ok(())
}

/// The diagnostics as plain text with code frames, as tests snapshot them.
pub fn diagnostics_to_string(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let mut out = NoColor::new(Vec::new());
    write_diagnostics(diagnostics, sources, &mut out).expect("writing to memory cannot fail");
    String::from_utf8_lossy(&out.into_inner()).into_owned()
}

/// Where a diagnostic starts and ends; a finding without a position is
/// about the whole file and points at its start.
fn span(diagnostic: &Diagnostic) -> (Position, Position) {
    let start = diagnostic.start.unwrap_or(Position::START);
    (start, diagnostic.end.unwrap_or(start))
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
            counts.add(diagnostic.severity);
        }
        counts
    }

    fn add(&mut self, severity: Severity) {
        *match severity {
            Severity::Error => &mut self.errors,
            Severity::Warning => &mut self.warnings,
            Severity::Info => &mut self.infos,
        } += 1;
    }

    pub fn summary(&self) -> String {
        format!(
            "{}, {}",
            count(self.errors, "error"),
            count(self.warnings, "warning")
        )
    }
}

/// How many results ended in each verdict.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
            summary.add(result.verdict);
        }
        summary
    }

    /// Counts one more result of `verdict`.
    pub fn add(&mut self, verdict: Verdict) {
        *match verdict {
            Verdict::Passed => &mut self.passed,
            Verdict::Failed => &mut self.failed,
            Verdict::Blocked => &mut self.blocked,
            Verdict::AwaitingApproval => &mut self.awaiting_approval,
            Verdict::Done => &mut self.done,
        } += 1;
    }

    /// The verdicts that occurred, in a fixed order: "1 passed, 1 failed".
    fn verdicts(&self) -> String {
        let counts = [
            (self.passed, "passed"),
            (self.failed, "failed"),
            (self.blocked, "blocked"),
            (self.awaiting_approval, "awaiting approval"),
            (self.done, "done"),
        ];
        let shown: Vec<String> = counts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, word)| format!("{n} {word}"))
            .collect();
        shown.join(", ")
    }
}

/// What the line that closes a check report counts ("2 files checked:
/// 1 passed, 1 failed — 3 errors, 1 warning"), added up as the results go
/// by, so that none of them needs to be kept for it.
#[derive(Debug, Default)]
pub struct Totals {
    results: usize,
    subjects: bool,
    findings: Counts,
    verdicts: Summary,
}

impl Totals {
    pub fn add(&mut self, result: &StepResult) {
        self.results += 1;
        self.subjects |= result.subject.is_some();
        for finding in result.findings() {
            self.findings.add(finding.severity);
        }
        self.verdicts.add(result.verdict);
    }

    /// The summary line of the results added so far.
    pub fn line(&self) -> String {
        let noun = if self.subjects { "subject" } else { "file" };
        let verdicts = self.verdicts.verdicts();
        let checked = format!("{} checked", count(self.results, noun));
        if verdicts.is_empty() {
            format!("{checked} — {}", self.findings.summary())
        } else {
            format!("{checked}: {verdicts} — {}", self.findings.summary())
        }
    }
}

/// A rule a report's findings are filed under: a check of the playbook (its
/// id, its kind and how to fix what it finds) or a lint code.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    id: String,
    kind: Option<&'static str>,
    hint: Option<&'static str>,
}

/// Every check that ran in `results`, once each, in the order first met.
fn check_rules(results: &[StepResult]) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    for outcome in results.iter().flat_map(|r| &r.outcomes) {
        if !rules.iter().any(|rule| rule.id == outcome.check) {
            rules.push(Rule {
                id: outcome.check.clone(),
                kind: Some(outcome.kind),
                hint: crate::checks::hint(outcome.kind),
            });
        }
    }
    rules
}

/// Every lint code in `diagnostics`, once each, in the order first met.
fn lint_rules<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    for diagnostic in diagnostics {
        if !rules.iter().any(|rule| rule.id == diagnostic.code) {
            rules.push(Rule {
                id: diagnostic.code.clone(),
                kind: None,
                hint: None,
            });
        }
    }
    rules
}
