//! `tollgate verify`: the proof CI checks that every human gate a subject
//! passed was opened as the playbook says. From the state and the git
//! history, for each subject:
//! - the phase is where its history leaves it, and the file still holds
//!   every request for changes its history records (`phase-unjustified`);
//! - every human gate its history moved it through holds enough fresh
//!   approvals by people its rule allows (`approval-quorum`,
//!   `approval-stale`, `approval-not-allowed`);
//! - each approval was added to the state by a commit whose author is the
//!   approver, signed when the rule says `signed: true`
//!   (`approval-forged`); one not committed yet is `approval-uncommitted`,
//!   a warning.
//!
//! And the history's hash chain is whole (`history-tampered`). Each finding
//! is at the line of the state file it is about.

use std::path::Path;

use crate::approvals::person;
use crate::diagnostic::{Diagnostic, Position, Severity};
use crate::git::{self, GitError};
use crate::playbook::Gate;
use crate::project::{Project, ProjectError};
use crate::state::{Approval, EventKind, HistoryScan, StateError, SubjectRecord};

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "the project root is not inside a git repository: verify reads who committed each approval from git"
    )]
    NotRepository,
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Git(#[from] GitError),
}

/// What `verify` found, and the text of each state file it points into.
#[derive(Debug, Default)]
pub struct Verification {
    pub findings: Vec<Diagnostic>,
    pub sources: Vec<(String, String)>,
}

/// Verifies every subject of `project` (see the module's documentation).
pub fn verify(project: &Project) -> Result<Verification, VerifyError> {
    if !git::is_repository(&project.root) {
        return Err(VerifyError::NotRepository);
    }
    let mut verification = Verification::default();
    let (history_file, scan) = project.store.scan_history()?;
    history_findings(&history_file, &scan, &mut verification.findings);
    let prefix = git::prefix(&project.root)?;
    for record in project.store.list()? {
        let (relative, display) = project.store.subject_file(&record.id);
        let relative = relative.to_string_lossy().replace('\\', "/");
        let text = project.store.subject_text(&record.id).unwrap_or_default();
        let spans = crate::yaml::parse(&text).map(|(_, spans)| spans).ok();
        let at = |pointer: &str| spans.as_ref().and_then(|s| s.key(pointer));
        let mut subject = Subject {
            project,
            record: &record,
            display: &display,
            at: &at,
            findings: &mut verification.findings,
        };
        subject.phase_and_gates(&scan)?;
        let introduced = introductions(&project.root, &relative, &format!("{prefix}{relative}"))?;
        subject.authorship(&introduced);
        verification.sources.push((display, text));
    }
    verification.sources.push((history_file, scan.text));
    verification
        .findings
        .sort_by(|a, b| (&a.path, a.start).cmp(&(&b.path, b.start)));
    Ok(verification)
}

fn history_findings(display: &str, scan: &HistoryScan, out: &mut Vec<Diagnostic>) {
    let line = |number: usize| Position {
        line: number,
        column: 1,
    };
    for (number, why) in &scan.breaks {
        out.push(
            Diagnostic::error("history-tampered", display, why.clone())
                .at(line(*number))
                .with_help("the history is append-only: restore it from git"),
        );
    }
    if let Some(number) = scan.torn {
        out.push(
            Diagnostic::new(
                "history-tampered",
                Severity::Warning,
                display,
                format!("line {number} is torn: a write was cut short; the next write removes it"),
            )
            .at(line(number)),
        );
    }
    if !scan.chained && !scan.events.is_empty() {
        out.push(Diagnostic::new(
            "history-tampered",
            Severity::Warning,
            display,
            "the history's lines are not chained yet, so edits to them cannot be found; the next write chains them".to_string(),
        ));
    }
}

/// Each approval of a subject's file, whole (what it pinned included, so
/// that an approval edited after its commit counts as a new one), by the
/// commit that added it: the first commit whose file holds it while none
/// of its parents' does.
fn introductions(
    root: &Path,
    relative: &str,
    from_top: &str,
) -> Result<Vec<(serde_json::Value, git::Commit)>, GitError> {
    let commits = git::commits_of(root, relative)?;
    let mut wanted: Vec<&str> = commits.iter().map(|c| c.id.as_str()).collect();
    wanted.extend(
        commits
            .iter()
            .flat_map(|c| c.parents.iter().map(String::as_str)),
    );
    wanted.sort_unstable();
    wanted.dedup();
    let texts = git::texts_at(root, &wanted, from_top)?;
    let approvals_at = |commit: &str| -> Vec<serde_json::Value> {
        texts
            .get(commit)
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .and_then(|json| json.get("approvals").and_then(|a| a.as_array()).cloned())
            .unwrap_or_default()
    };
    let mut introduced: Vec<(serde_json::Value, git::Commit)> = Vec::new();
    for commit in &commits {
        let before: Vec<_> = commit
            .parents
            .iter()
            .flat_map(|p| approvals_at(p))
            .collect();
        for approval in approvals_at(&commit.id) {
            let known = introduced.iter().any(|(a, _)| *a == approval);
            if !before.contains(&approval) && !known {
                introduced.push((approval, commit.clone()));
            }
        }
    }
    Ok(introduced)
}

struct Subject<'p, 'f> {
    project: &'p Project<'p>,
    record: &'p SubjectRecord,
    display: &'p str,
    at: &'f dyn Fn(&str) -> Option<Position>,
    findings: &'f mut Vec<Diagnostic>,
}

impl Subject<'_, '_> {
    fn report(&mut self, code: &str, severity: Severity, pointer: &str, message: String) {
        let position = (self.at)(pointer).or_else(|| (self.at)("/phase"));
        self.findings
            .push(Diagnostic::new(code, severity, self.display, message).at_opt(position));
    }

    fn pointer_of(&self, approval: &Approval) -> String {
        let index = self
            .record
            .approvals
            .iter()
            .position(|a| a == approval)
            .unwrap_or_default();
        format!("/approvals/{index}/by")
    }

    /// The phase against the history, and each human gate the history moved
    /// the subject through against its rule.
    fn phase_and_gates(&mut self, scan: &HistoryScan) -> Result<(), VerifyError> {
        let id = &self.record.id;
        let mut phase: Option<&str> = None;
        let mut passed: Vec<&str> = Vec::new();
        for (_, event) in scan.events.iter().filter(|(_, e)| e.subject == *id) {
            match (event.event, &event.to) {
                (EventKind::Created, Some(to)) => phase = Some(to),
                (EventKind::Advanced | EventKind::Approved, Some(to)) => {
                    phase = Some(to);
                    passed.extend(event.step.as_deref());
                }
                // Changes requested hold a gate: the file must still hold
                // each one its history records.
                (EventKind::Rejected, _) => {
                    let held = self.record.rejections.iter().any(|r| {
                        Some(r.step.as_str()) == event.step.as_deref()
                            && r.by == event.actor
                            && r.at == event.at
                    });
                    if !held {
                        let message = format!(
                            "the history records changes requested at step `{}` by {} at {}, which {id}'s file no longer holds",
                            event.step.as_deref().unwrap_or_default(),
                            event.actor,
                            event.at
                        );
                        self.report("phase-unjustified", Severity::Error, "/phase", message);
                    }
                }
                _ => {}
            }
        }
        if phase != Some(self.record.phase.as_str()) {
            let history = phase.map_or("records no phase".to_string(), |p| {
                format!("leaves it in `{p}`")
            });
            let message = format!(
                "{id} is in phase `{}`, but its history {history}",
                self.record.phase
            );
            self.report("phase-unjustified", Severity::Error, "/phase", message);
        }
        let project = self.project;
        let paths = project.artifact_paths(self.record)?;
        passed.sort_unstable();
        passed.dedup();
        for step in &project.loaded.playbook.steps {
            if step.gate != Gate::Human || !passed.contains(&step.id.as_str()) {
                continue;
            }
            let keeper = project.gatekeeper(&step.id);
            let reviews: Vec<&Approval> = (self.record.approvals.iter())
                .filter(|a| a.step == step.id)
                .collect();
            for approval in &reviews {
                if !keeper.allows(&person(&approval.by)) {
                    let message = format!(
                        "{} is not among the approvers of step `{}`; who may approve: {}",
                        approval.by,
                        step.id,
                        keeper.who_may()
                    );
                    let pointer = self.pointer_of(approval);
                    self.report("approval-not-allowed", Severity::Error, &pointer, message);
                }
            }
            let tally = project.tally(self.record, &step.id, &paths);
            if tally.open() {
                continue;
            }
            let stale: Vec<&&Approval> = reviews
                .iter()
                .filter(|a| project.changed_since(a, &paths).is_some())
                .collect();
            for approval in &stale {
                let why = project.changed_since(approval, &paths).unwrap_or_default();
                let message = format!(
                    "the approval of step `{}` by {} at {} is stale: {why}",
                    step.id, approval.by, approval.at
                );
                let pointer = self.pointer_of(approval);
                self.report("approval-stale", Severity::Error, &pointer, message);
            }
            if stale.is_empty() {
                let message = format!(
                    "{id} passed step `{}` without the approvals it needs: {}",
                    step.id,
                    tally.progress()
                );
                self.report("approval-quorum", Severity::Error, "/phase", message);
            }
        }
        Ok(())
    }

    /// Each approval against the commit that added it.
    fn authorship(&mut self, introduced: &[(serde_json::Value, git::Commit)]) {
        let root = self.project.root.clone();
        for approval in &self.record.approvals {
            let pointer = self.pointer_of(approval);
            let whole = serde_json::to_value(approval).expect("an approval serialises");
            let Some((_, commit)) = introduced.iter().find(|(a, _)| *a == whole) else {
                let message = format!(
                    "the approval of step `{}` by {} is not committed yet, so who gave it is not proven",
                    approval.step, approval.by
                );
                self.report("approval-uncommitted", Severity::Warning, &pointer, message);
                continue;
            };
            let approver = person(&approval.by);
            let by_author = commit.author_email.to_lowercase() == approver
                || (!approver.contains('@') && commit.author_name.to_lowercase() == approver);
            let short = &commit.id[..commit.id.len().min(10)];
            if !by_author {
                let message = format!(
                    "the approval of step `{}` by {} was added by commit {short}, whose author is {} <{}>",
                    approval.step, approval.by, commit.author_name, commit.author_email
                );
                self.report("approval-forged", Severity::Error, &pointer, message);
                continue;
            }
            let keeper = self.project.gatekeeper(&approval.step);
            if keeper.rule.signed && !git::signature_holds(&root, &commit.id) {
                let message = format!(
                    "the approval of step `{}` by {} was added by commit {short}, whose signature git does not verify",
                    approval.step, approval.by
                );
                self.report("approval-forged", Severity::Error, &pointer, message);
            }
            if !keeper.rule.authors_may_approve {
                let pinned = approval.artifacts.values().map(|a| a.path.as_str());
                for path in pinned.chain(approval.files.keys().map(String::as_str)) {
                    let last = git::last_author_before(&root, &commit.id, path);
                    if last.is_some_and(|last| last.to_lowercase() == approver) {
                        let message = format!(
                            "{} approved step `{}`, but was the last to change `{path}` before it",
                            approval.by, approval.step
                        );
                        self.report("approval-not-allowed", Severity::Error, &pointer, message);
                        break;
                    }
                }
            }
        }
    }
}
