//! Runs a step's checks and judges its gate. This file holds the stateless
//! mode of `tollgate check --step STEP FILE...`: each file is checked as the
//! step's primary artifact, in parallel, and only findings are kept, so
//! memory follows the defects, not the number of files.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use minijinja::{Environment, Value, context};
use rayon::prelude::*;
use serde::Serialize;

use crate::checks::{self, Artifact, CheckOutcome, CheckStatus, Findings};
use crate::diagnostic::{Diagnostic, Position};
use crate::markdown::Document;
use crate::playbook::{Check, Gate, Playbook, Step};
use crate::render;
use crate::source::{self, SourceError};

/// Larger Markdown files than this are not planning documents.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// The answer for one subject (or file) and one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A prerequisite does not hold.
    Blocked,
    /// A check found an error.
    Failed,
    /// Every check passed; the gate needs a person's approval.
    AwaitingApproval,
    /// Every check passed, and the gate is automated or approved.
    Passed,
    /// The subject is already past this step.
    Done,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Blocked => "blocked",
            Verdict::Failed => "failed",
            Verdict::AwaitingApproval => "awaiting_approval",
            Verdict::Passed => "passed",
            Verdict::Done => "done",
        }
    }

    /// Whether this verdict makes `check` exit with 1.
    pub fn fails(self) -> bool {
        matches!(self, Verdict::Blocked | Verdict::Failed)
    }
}

/// One step judged for one subject or file.
#[derive(Debug, Clone)]
pub struct StepResult {
    pub subject: Option<String>,
    pub step: String,
    pub verdict: Verdict,
    /// Artifact names and their paths, relative to the project root.
    pub artifacts: IndexMap<String, String>,
    pub outcomes: Vec<CheckOutcome>,
    /// The primary artifact's text when there are findings, for code frames.
    pub text: Option<String>,
    /// The file could not be read at all: the input was unusable.
    pub unreadable: bool,
}

impl StepResult {
    pub fn findings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.outcomes.iter().flat_map(|outcome| &outcome.findings)
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Warnings fail the gate too.
    pub strict: bool,
}

/// What the checks of one step on one file need, prepared once per run.
pub struct StatelessRun<'a> {
    pub playbook: &'a Playbook,
    pub step: &'a Step,
    checks: Vec<&'a Check>,
    /// The artifact each file stands for.
    pub artifact: String,
    env: Environment<'static>,
    options: Options,
}

/// Why a stateless run cannot start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the playbook has no step `{step}` (steps: {known})")]
    UnknownStep { step: String, known: String },
    #[error("step `{step}` checks no artifact; name one with --artifact")]
    NoArtifact { step: String },
    #[error("the playbook has no artifact `{artifact}` (artifacts: {known})")]
    UnknownArtifact { artifact: String, known: String },
}

impl<'a> StatelessRun<'a> {
    pub fn new(
        playbook: &'a Playbook,
        step_id: &str,
        artifact: Option<&str>,
        options: Options,
    ) -> Result<Self, RunError> {
        let index = playbook
            .steps
            .iter()
            .position(|step| step.id == step_id)
            .ok_or_else(|| RunError::UnknownStep {
                step: step_id.to_string(),
                known: join(playbook.steps.iter().map(|s| s.id.as_str())),
            })?;
        let checks: Vec<&Check> = playbook
            .step_checks(index)
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        let artifact = match artifact {
            Some(name) if playbook.artifacts.contains_key(name) => name.to_string(),
            Some(name) => {
                return Err(RunError::UnknownArtifact {
                    artifact: name.to_string(),
                    known: join(playbook.artifacts.keys().map(String::as_str)),
                });
            }
            None => checks
                .iter()
                .find_map(|check| check.artifact.clone())
                .ok_or_else(|| RunError::NoArtifact {
                    step: step_id.to_string(),
                })?,
        };
        Ok(Self {
            playbook,
            step: &playbook.steps[index],
            checks,
            artifact,
            env: render::environment(),
            options,
        })
    }

    /// Checks every file, in parallel, keeping the order given.
    pub fn check_files(&self, files: &[(PathBuf, String)]) -> Vec<StepResult> {
        files
            .par_iter()
            .map(|(file, display)| self.check_file(file, display))
            .collect()
    }

    /// Checks one file as the step's primary artifact.
    pub fn check_file(&self, file: &Path, display: &str) -> StepResult {
        let loaded = source::read_text(file, MAX_DOCUMENT_BYTES);
        let document = loaded
            .as_ref()
            .ok()
            .map(|text| Document::parse_str(display, text));
        let problem = match &loaded {
            Err(SourceError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => None,
            // The finding points at the first bad byte, as an editor shows it.
            Err(error @ SourceError::NotUtf8 { position }) => Some((error.to_string(), *position)),
            Err(error) => Some((error.to_string(), Position::START)),
            Ok(_) => None,
        };
        let artifact = match (&document, &problem) {
            (Some(doc), _) => Artifact::Loaded(doc),
            (None, Some((why, at))) => Artifact::Unreadable(why, *at),
            (None, None) => Artifact::Missing,
        };
        let outcomes = self.run_checks(&artifact, display);
        let verdict = self.verdict(&outcomes);
        let has_findings = outcomes.iter().any(|o| !o.findings.is_empty());
        StepResult {
            subject: None,
            step: self.step.id.clone(),
            verdict,
            artifacts: IndexMap::from([(self.artifact.clone(), display.to_string())]),
            outcomes,
            text: loaded.ok().filter(|_| has_findings),
            unreadable: !matches!(artifact, Artifact::Loaded(_)),
        }
    }

    fn run_checks(&self, artifact: &Artifact<'_>, path: &str) -> Vec<CheckOutcome> {
        let mut reported_missing = false;
        self.checks
            .iter()
            .map(|check| {
                let reads_primary = check.artifact.as_deref() == Some(self.artifact.as_str());
                if !reads_primary {
                    // Stateless: other artifacts have no path without a subject.
                    return skipped(check);
                }
                if let Some(outcome) = self.when_outcome(check, path) {
                    return outcome;
                }
                // A missing file is said once, by the first check that reads it.
                let missing = !matches!(artifact, Artifact::Loaded(_));
                if missing && std::mem::replace(&mut reported_missing, true) {
                    return skipped(check);
                }
                let mut outcome = checks::run_builtin(check, artifact, path);
                if let Some(template) = &check.message {
                    self.apply_message(template, check, &mut outcome);
                }
                outcome
            })
            .collect()
    }

    /// `Some` when the check must not run: its `when:` is false (skipped) or
    /// cannot be evaluated (an error finding).
    fn when_outcome(&self, check: &Check, path: &str) -> Option<CheckOutcome> {
        let when = check.when.as_deref()?;
        let result = self
            .env
            .compile_expression(when)
            .and_then(|expression| expression.eval(self.context()));
        match result {
            Ok(value) if value.is_true() => None,
            Ok(_) => Some(skipped(check)),
            Err(error) => {
                let mut findings = Findings::new(check, path);
                findings.report(
                    Position::START,
                    format!(
                        "`when: {when}` cannot be evaluated: {}",
                        error.detail().unwrap_or("invalid expression")
                    ),
                );
                Some(findings.finish())
            }
        }
    }

    fn apply_message(&self, template: &str, check: &Check, outcome: &mut CheckOutcome) {
        for finding in &mut outcome.findings {
            let context = context! {
                message => finding.message.clone(),
                check => context! { id => check.id.clone(), artifact => check.artifact.clone() },
                ..self.context()
            };
            match self.env.render_str(template, context) {
                Ok(message) => finding.message = message,
                Err(error) => {
                    finding.message = format!(
                        "{} (the check's `message:` template failed: {})",
                        finding.message,
                        error.detail().unwrap_or("invalid template")
                    )
                }
            }
        }
    }

    /// What `when:` and `message:` templates see in stateless mode: no subject.
    fn context(&self) -> Value {
        context! {
            playbook => context! { name => self.playbook.name.clone(), title => self.playbook.title.clone() },
            step => context! { id => self.step.id.clone(), title => self.step.title.clone() },
            subject => Value::from(()),
            vars => Value::from(minijinja::value::Serde(&self.playbook.vars)),
            artifacts => context! {},
        }
    }

    fn verdict(&self, outcomes: &[CheckOutcome]) -> Verdict {
        let failed = outcomes
            .iter()
            .flat_map(|o| &o.findings)
            .any(|finding| finding.severity.fails(self.options.strict));
        match (failed, self.step.gate) {
            (true, _) => Verdict::Failed,
            (false, Gate::Human) => Verdict::AwaitingApproval,
            (false, Gate::Automated) => Verdict::Passed,
        }
    }
}

fn skipped(check: &Check) -> CheckOutcome {
    CheckOutcome {
        check: check.id.clone(),
        kind: check.kind.name(),
        status: CheckStatus::Skipped,
        findings: Vec::new(),
        evidence: Vec::new(),
    }
}

fn join<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}
