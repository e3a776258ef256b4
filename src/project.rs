//! A playbook run over the subjects of one repository: where each subject
//! stands, the step it takes next, that step's verdict, and the moves
//! `advance` and `approve` make, recorded through [`crate::state`].

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use sha2::{Digest, Sha256};

use crate::checks::{CheckOutcome, CheckStatus};
use crate::diagnostic::{Diagnostic, Position};
use crate::engine::{ArtifactSet, Options, StepResult, StepRunner, Verdict};
use crate::lua::PluginSet;
use crate::playbook::{Gate, LoadedPlaybook, Requirement, Step, lint::escapes};
use crate::render::step::SubjectView;
use crate::state::{
    Approval, EventKind, HistoryEvent, PinnedArtifact, StateError, Store, SubjectRecord,
};

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("`{id}` does not match the playbook's id pattern `{pattern}`")]
    IdPattern { id: String, pattern: String },
    #[error("the playbook has no step `{step}` (steps: {known})")]
    UnknownStep { step: String, known: String },
    #[error("{id} is in phase `{phase}`, where no step starts: it has finished the playbook")]
    NoStep { id: String, phase: String },
    #[error("artifact `{name}` of {id} resolves to `{path}`, outside the project root")]
    OutsideRoot {
        id: String,
        name: String,
        path: String,
    },
    #[error("artifact `{name}`: {message}")]
    ArtifactPath { name: String, message: String },
    #[error("step `{step}` has an automated gate: it needs no approval; use `tollgate advance`")]
    NotHumanGate { step: String },
    #[error("{id} cannot take step `{step}` now: it is {}", result.verdict.as_str())]
    NotPassed {
        id: String,
        step: String,
        result: Box<StepResult>,
    },
}

/// One subject as `status` shows it.
#[derive(Debug, Clone)]
pub struct SubjectStatus {
    pub record: SubjectRecord,
    pub phase_label: String,
    pub next_step: Option<String>,
    pub result: Option<StepResult>,
    /// The latest approval of each step, with whether it is stale.
    pub approvals: Vec<(Approval, bool)>,
}

/// What `advance` or `approve` did to a subject.
#[derive(Debug, Clone)]
pub struct Transition {
    pub result: StepResult,
    /// The subject as it is now.
    pub record: SubjectRecord,
    /// The phase it left; `None` when it stayed (a renewed approval).
    pub left: Option<String>,
}

pub struct Project<'a> {
    pub root: PathBuf,
    pub loaded: &'a LoadedPlaybook,
    pub store: Store,
    options: Options,
    plugins: PluginSet,
}

impl<'a> Project<'a> {
    pub fn new(root: &Path, loaded: &'a LoadedPlaybook, options: Options) -> Self {
        Self {
            root: root.to_path_buf(),
            loaded,
            store: Store::new(root, &loaded.playbook.state_dir),
            options,
            plugins: PluginSet::load(
                loaded.folder(),
                &loaded.playbook.plugins,
                root,
                &loaded.playbook.limits,
                options.limits,
            ),
        }
    }

    /// Registers a subject at the playbook's first phase.
    pub fn register(
        &self,
        id: &str,
        title: &str,
        actor: &str,
    ) -> Result<SubjectRecord, ProjectError> {
        if let Some(pattern) = &self.loaded.playbook.subject.id_pattern {
            let matches = regex::Regex::new(pattern).is_ok_and(|re| re.is_match(id));
            if !matches {
                return Err(ProjectError::IdPattern {
                    id: id.to_string(),
                    pattern: pattern.clone(),
                });
            }
        }
        let record = SubjectRecord {
            id: id.to_string(),
            title: title.to_string(),
            slug: crate::state::slug(id, title),
            phase: self.loaded.playbook.first_phase().to_string(),
            created_at: now(),
            approvals: Vec::new(),
        };
        self.store.create(&record, actor)?;
        Ok(record)
    }

    pub fn load(&self, id: &str) -> Result<SubjectRecord, ProjectError> {
        Ok(self
            .store
            .load(id)?
            .ok_or_else(|| StateError::NotFound(id.to_string()))?)
    }

    pub fn phase_label(&self, phase: &str) -> String {
        let phases = &self.loaded.playbook.phases;
        phases
            .iter()
            .find(|p| p.id == phase)
            .map_or(phase, |p| p.label())
            .to_string()
    }

    pub fn subject_view(&self, record: &SubjectRecord) -> SubjectView {
        SubjectView {
            id: record.id.clone(),
            title: record.title.clone(),
            slug: record.slug.clone(),
            phase: record.phase.clone(),
            phase_label: self.phase_label(&record.phase),
        }
    }

    /// The step a subject takes next: the first whose `from` is its phase.
    pub fn current_step(&self, record: &SubjectRecord) -> Option<&'a Step> {
        self.loaded
            .playbook
            .steps
            .iter()
            .find(|s| s.from == record.phase)
    }

    pub fn step(&self, id: &str) -> Result<&'a Step, ProjectError> {
        self.loaded
            .playbook
            .steps
            .iter()
            .find(|s| s.id == id)
            .ok_or_else(|| {
                let steps = &self.loaded.playbook.steps;
                let known: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
                ProjectError::UnknownStep {
                    step: id.to_string(),
                    known: known.join(", "),
                }
            })
    }

    /// Every artifact's path for a subject, relative to the project root.
    pub fn artifact_paths(
        &self,
        record: &SubjectRecord,
    ) -> Result<IndexMap<String, String>, ProjectError> {
        let env = crate::render::environment();
        let context = self.path_context(&self.subject_view(record));
        let mut paths = IndexMap::new();
        for (name, template) in &self.loaded.playbook.artifacts {
            let path = env.render_str(template, context.clone()).map_err(|error| {
                ProjectError::ArtifactPath {
                    name: name.clone(),
                    message: crate::render::error_message(&error),
                }
            })?;
            if escapes(&path) || self.leaves_root(&path) {
                return Err(ProjectError::OutsideRoot {
                    id: record.id.clone(),
                    name: name.clone(),
                    path,
                });
            }
            paths.insert(name.clone(), path);
        }
        Ok(paths)
    }

    /// Every artifact's path for no subject in particular: the vars filled
    /// in and each field of the subject named, as in `specs/<slug>/plan.md`
    /// (the template as written when it does not render).
    pub fn artifact_path_patterns(&self) -> IndexMap<String, String> {
        let env = crate::render::environment();
        let named = |field: &str| format!("<{field}>");
        let subject = SubjectView {
            id: named("id"),
            title: named("title"),
            slug: named("slug"),
            phase: named("phase"),
            phase_label: named("phase_label"),
        };
        let context = self.path_context(&subject);
        (self.loaded.playbook.artifacts.iter())
            .map(|(name, template)| {
                let path = env
                    .render_str(template, context.clone())
                    .unwrap_or_else(|_| template.clone());
                (name.clone(), path)
            })
            .collect()
    }

    /// What an artifact path template sees.
    fn path_context(&self, subject: &SubjectView) -> minijinja::Value {
        minijinja::context! {
            subject => minijinja::Value::from(minijinja::value::Serde(subject)),
            vars => minijinja::Value::from(minijinja::value::Serde(&self.loaded.playbook.vars)),
            playbook => minijinja::context! { name => self.loaded.playbook.name.clone() },
        }
    }

    /// Whether a relative path leads out of the root through a symlink.
    fn leaves_root(&self, path: &str) -> bool {
        let Ok(root) = self.root.canonicalize() else {
            return false;
        };
        // The deepest existing ancestor decides where the path really leads.
        let full = self.root.join(path);
        full.ancestors()
            .find_map(|ancestor| ancestor.canonicalize().ok())
            .is_some_and(|real| !real.starts_with(&root))
    }

    /// Judges `step` for a subject: done, blocked, failed, awaiting
    /// approval or passed, with the findings that say why.
    pub fn judge(&self, record: &SubjectRecord, step: &Step) -> Result<StepResult, ProjectError> {
        self.judge_past_step(record, step, false)
    }

    /// [`Self::judge`]; with `check_if_done`, a step the subject is past
    /// still has its checks run (an approval of it is being renewed).
    fn judge_past_step(
        &self,
        record: &SubjectRecord,
        step: &Step,
        check_if_done: bool,
    ) -> Result<StepResult, ProjectError> {
        let paths = self.artifact_paths(record)?;
        let runner =
            StepRunner::new(&self.loaded.playbook, step, self.options).with_plugins(&self.plugins);
        let artifacts = ArtifactSet::load(&self.root, &paths);
        let subject = self.subject_view(record);
        let phase_index = |phase: &str| {
            self.loaded
                .playbook
                .phases
                .iter()
                .position(|p| p.id == phase)
        };
        let done = matches!(
            (phase_index(&record.phase), phase_index(&step.to)),
            (Some(now), Some(to)) if now >= to
        );
        // A step the subject is past was judged when it was passed; what its
        // checks would find today is not a finding against it.
        let mut outcomes = if done && !check_if_done {
            Vec::new()
        } else {
            runner.run(&artifacts, Some(&subject))
        };
        let blockers = if done {
            Vec::new()
        } else {
            self.prerequisites(record, step, &paths)
        };
        let verdict = if done {
            Verdict::Done
        } else if !blockers.is_empty() {
            Verdict::Blocked
        } else if step.gate == Gate::Human && self.approved(record, &step.id, &paths) {
            Verdict::Passed
        } else {
            runner.verdict(&outcomes)
        };
        if !blockers.is_empty() {
            outcomes.insert(
                0,
                CheckOutcome {
                    check: "requires".into(),
                    kind: "requires",
                    status: CheckStatus::Failed,
                    findings: blockers,
                    evidence: Vec::new(),
                    suppressed: Vec::new(),
                },
            );
        }
        Ok(runner.result(
            Some(record.id.clone()),
            verdict,
            paths,
            outcomes,
            &artifacts,
        ))
    }

    /// What keeps a subject from taking `step`, as findings.
    fn prerequisites(
        &self,
        record: &SubjectRecord,
        step: &Step,
        paths: &IndexMap<String, String>,
    ) -> Vec<Diagnostic> {
        let (_, state_file) = self.store.subject_file(&record.id);
        let mut blockers = Vec::new();
        if record.phase != step.from {
            blockers.push(Diagnostic::error(
                "requires",
                state_file.as_str(),
                format!(
                    "{} is in phase `{}`; step `{}` starts from `{}`",
                    record.id,
                    self.phase_label(&record.phase),
                    step.id,
                    self.phase_label(&step.from)
                ),
            ));
        }
        for requirement in &step.requires {
            match requirement {
                Requirement::ArtifactExists(name) => {
                    let path = paths.get(name).cloned().unwrap_or_default();
                    let present = std::fs::metadata(self.root.join(&path))
                        .is_ok_and(|m| m.is_file() && m.len() > 0);
                    if !present {
                        blockers.push(
                            Diagnostic::error(
                                "requires",
                                path.as_str(),
                                format!("the {name} `{path}` does not exist"),
                            )
                            .at(Position::START),
                        );
                    }
                }
                Requirement::Approved(other) => {
                    let approval = record.approvals.iter().rev().find(|a| a.step == *other);
                    let message = match approval {
                        None => format!("step `{other}` has no approval"),
                        Some(approval) => match self.changed_since(approval, paths) {
                            None => continue,
                            Some(path) => format!(
                                "the approval of step `{other}` by {} at {} is stale: `{path}` changed since",
                                approval.by, approval.at
                            ),
                        },
                    };
                    blockers.push(Diagnostic::error("requires", state_file.as_str(), message));
                }
            }
        }
        blockers
    }

    /// Whether `step` holds an approval that is not stale.
    pub fn approved(
        &self,
        record: &SubjectRecord,
        step: &str,
        paths: &IndexMap<String, String>,
    ) -> bool {
        record
            .approvals
            .iter()
            .rev()
            .find(|a| a.step == step)
            .is_some_and(|approval| self.changed_since(approval, paths).is_none())
    }

    /// An approval is stale when a file it pinned changed, appeared or
    /// went: the first such file, or `None` while the approval holds.
    pub fn changed_since<'p>(
        &self,
        approval: &'p Approval,
        paths: &'p IndexMap<String, String>,
    ) -> Option<&'p str> {
        approval.artifacts.iter().find_map(|(name, pinned)| {
            let path = paths.get(name).unwrap_or(&pinned.path);
            let changed = path != &pinned.path || hash_file(&self.root.join(path)) != pinned.sha256;
            changed.then_some(path.as_str())
        })
    }

    /// Every subject with its next step's verdict.
    pub fn status(&self, only: Option<&str>) -> Result<Vec<SubjectStatus>, ProjectError> {
        let records = match only {
            Some(id) => vec![self.load(id)?],
            None => self.store.list()?,
        };
        records
            .into_iter()
            .map(|record| {
                let step = self.current_step(&record);
                let result = step.map(|s| self.judge(&record, s)).transpose()?;
                let paths = match &result {
                    Some(result) => result.artifacts.clone(),
                    None => self.artifact_paths(&record)?,
                };
                // One per step: the latest replaces the approvals it renewed.
                let approvals = record
                    .approvals
                    .iter()
                    .enumerate()
                    .filter(|(i, a)| !record.approvals[i + 1..].iter().any(|b| b.step == a.step))
                    .map(|(_, a)| (a.clone(), self.changed_since(a, &paths).is_some()))
                    .collect();
                Ok(SubjectStatus {
                    phase_label: self.phase_label(&record.phase),
                    next_step: step.map(|s| s.id.clone()),
                    result,
                    approvals,
                    record,
                })
            })
            .collect()
    }

    /// Judges the current step and, on `passed`, moves the subject to the
    /// step's `to` phase. Returns the verdict and the subject as it is now.
    pub fn advance(&self, id: &str, actor: &str) -> Result<Transition, ProjectError> {
        let record = self.load(id)?;
        let step = self
            .current_step(&record)
            .ok_or_else(|| ProjectError::NoStep {
                id: id.to_string(),
                phase: self.phase_label(&record.phase),
            })?;
        self.transition(id, step, actor, None)
    }

    /// Records an approval of `step` (default: the current one), pinned to
    /// the SHA-256 of every artifact the step checks, then advances; for a
    /// step the subject is past, it renews an approval gone stale.
    pub fn approve(
        &self,
        id: &str,
        step: Option<&str>,
        by: &str,
        note: Option<&str>,
    ) -> Result<Transition, ProjectError> {
        let record = self.load(id)?;
        let step = match step {
            Some(step) => self.step(step)?,
            None => self
                .current_step(&record)
                .ok_or_else(|| ProjectError::NoStep {
                    id: id.to_string(),
                    phase: self.phase_label(&record.phase),
                })?,
        };
        if step.gate != Gate::Human {
            return Err(ProjectError::NotHumanGate {
                step: step.id.clone(),
            });
        }
        self.transition(id, step, by, Some(note.unwrap_or_default()))
    }

    /// Under the state lock: judge again, record the approval (when
    /// `approval_note` is given) and move on when the verdict allows.
    fn transition(
        &self,
        id: &str,
        step: &Step,
        actor: &str,
        approval_note: Option<&str>,
    ) -> Result<Transition, ProjectError> {
        let mut judged = None;
        let record = self.store.update::<ProjectError>(id, |record| {
            let approving = approval_note.is_some();
            let mut result = self.judge_past_step(record, step, approving)?;
            // A step the subject is already past is approved again when a
            // change made its approval stale (a later step may require
            // it): its checks must pass, and the subject stays where it is.
            let renewing = approving
                && result.verdict == Verdict::Done
                && !self.approved(record, &step.id, &result.artifacts);
            if renewing {
                let runner = StepRunner::new(&self.loaded.playbook, step, self.options)
                    .with_plugins(&self.plugins);
                result.verdict = runner.verdict(&result.outcomes);
            }
            let ready = match result.verdict {
                Verdict::Passed => true,
                Verdict::AwaitingApproval => approving,
                _ => false,
            };
            if !ready {
                return Err(ProjectError::NotPassed {
                    id: id.to_string(),
                    step: step.id.clone(),
                    result: Box::new(result),
                });
            }
            let at = now();
            if let Some(note) = approval_note {
                let artifacts = self.pin(step, &result.artifacts);
                record.approvals.push(Approval {
                    step: step.id.clone(),
                    by: actor.to_string(),
                    at: at.clone(),
                    note: (!note.is_empty()).then(|| note.to_string()),
                    artifacts,
                });
                result.verdict = Verdict::Passed;
            }
            let (from, to) = if renewing {
                (None, None)
            } else {
                let from = std::mem::replace(&mut record.phase, step.to.clone());
                (Some(from), Some(step.to.clone()))
            };
            judged = Some((result, from.clone()));
            Ok(Some(HistoryEvent {
                at,
                actor: actor.to_string(),
                subject: id.to_string(),
                event: if approving {
                    EventKind::Approved
                } else {
                    EventKind::Advanced
                },
                step: Some(step.id.clone()),
                from,
                to,
                note: approval_note.filter(|n| !n.is_empty()).map(str::to_string),
            }))
        });
        let record = record?;
        let (result, left) = judged.expect("a successful update judged the step");
        Ok(Transition {
            result,
            record,
            left,
        })
    }

    /// The SHA-256 of every artifact the step's checks read.
    fn pin(
        &self,
        step: &Step,
        paths: &IndexMap<String, String>,
    ) -> IndexMap<String, PinnedArtifact> {
        let index = self
            .loaded
            .playbook
            .steps
            .iter()
            .position(|s| s.id == step.id)
            .unwrap_or(0);
        let mut pinned = IndexMap::new();
        for (_, check) in self.loaded.playbook.step_checks(index) {
            if let Some(name) = &check.artifact
                && let Some(path) = paths.get(name)
            {
                pinned
                    .entry(name.clone())
                    .or_insert_with(|| PinnedArtifact {
                        path: path.clone(),
                        sha256: hash_file(&self.root.join(path)),
                    });
            }
        }
        pinned
    }
}

/// Hex SHA-256 of a file's bytes; `None` when it cannot be read.
pub fn hash_file(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let digest = Sha256::digest(&bytes);
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// The current time in RFC 3339, UTC; `TOLLGATE_NOW` fixes it, so that
/// documents and tests can be reproduced.
pub fn now() -> String {
    match std::env::var("TOLLGATE_NOW") {
        Ok(fixed) if !fixed.is_empty() => fixed,
        _ => jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
    }
}
