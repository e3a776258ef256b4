//! A playbook run over the subjects of one repository: where each subject
//! stands, the step it takes next, that step's verdict, and the moves
//! `advance` and `approve` make, recorded through [`crate::state`].

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use sha2::{Digest, Sha256};

use crate::approvals::{Gatekeeper, Tally};
use crate::checks::{CheckOutcome, CheckStatus, Read};
use crate::diagnostic::{Diagnostic, Position};
use crate::engine::{ArtifactSet, Options, StepResult, StepRunner, Verdict};
use crate::lua::PluginSet;
use crate::playbook::{ApprovalRule, Gate, LoadedPlaybook, Requirement, Step};
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
    #[error(
        "the title is {chars} characters long; keep it to {MAX_TITLE_CHARS} (it names the subject's files)"
    )]
    TitleTooLong { chars: usize },
    #[error(
        "the title holds a control character (a line break, a tab or an escape); write it on one line"
    )]
    TitleControl,
    #[error(
        "a review needs the reviewer: set git's `user.email` (and `user.name`) in this repository, or give `--by EMAIL` (on one line)"
    )]
    NoApprover,
    #[error("step `{step}` has an automated gate: it needs no approval; use `tollgate advance`")]
    NotHumanGate { step: String },
    #[error("{who} is not among the approvers of step `{step}`; who may approve: {allowed}")]
    NotAllowed {
        who: String,
        step: String,
        allowed: String,
    },
    #[error(
        "{who} last changed `{path}`, so may not approve step `{step}` (its `approval.authors_may_approve` is false)"
    )]
    AuthorMayNotApprove {
        who: String,
        step: String,
        path: String,
    },
    #[error("{id} cannot take step `{step}` now: it is {}", result.verdict.as_str())]
    NotPassed {
        id: String,
        step: String,
        result: Box<StepResult>,
    },
}

/// The outcome, and the finding code, of changes requested at a human gate.
pub const CHANGES_REQUESTED: &str = "changes-requested";

/// A title makes the slug that names a subject's files, and a file name
/// holds at most 255 bytes: an id (at most 100) and this many.
pub const MAX_TITLE_CHARS: usize = 150;

/// One subject as `status` shows it.
#[derive(Debug, Clone)]
pub struct SubjectStatus {
    pub record: SubjectRecord,
    pub phase_label: String,
    pub next_step: Option<String>,
    pub result: Option<StepResult>,
    /// The latest approval of each step by each person, with whether it
    /// is stale.
    pub approvals: Vec<(Approval, bool)>,
    /// Where the next step's human gate stands, when it has one and the
    /// subject has not passed it.
    pub gate: Option<Tally>,
}

/// What `advance` or `approve` did to a subject.
#[derive(Debug, Clone)]
pub struct Transition {
    pub result: StepResult,
    /// The subject as it is now.
    pub record: SubjectRecord,
    /// The phase it left; `None` when it stayed (a renewed approval, one
    /// of several a gate needs, or changes requested).
    pub left: Option<String>,
    /// Where the human gate stands after an approval or a rejection.
    pub gate: Option<Tally>,
}

/// The rule of a human gate without `approval:`: one approval, by anyone.
static ANYONE: ApprovalRule = ApprovalRule {
    from: Vec::new(),
    min: 1,
    require: Vec::new(),
    authors_may_approve: true,
    signed: false,
};

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
        let chars = title.chars().count();
        if chars > MAX_TITLE_CHARS {
            return Err(ProjectError::TitleTooLong { chars });
        }
        if title.chars().any(char::is_control) {
            return Err(ProjectError::TitleControl);
        }
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
            rejections: Vec::new(),
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

    /// The step a subject takes next (see [`crate::playbook::Playbook::next_step`]).
    pub fn current_step(&self, record: &SubjectRecord) -> Option<&'a Step> {
        self.loaded.playbook.next_step(&record.phase)
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
        let mut paths = IndexMap::new();
        for (name, path) in self.render_artifacts(self.subject_view(record)) {
            let path = path.map_err(|error| ProjectError::ArtifactPath {
                name: name.clone(),
                message: crate::render::error_message(&error),
            })?;
            if crate::confined::escapes(&path)
                || crate::confined::resolve(&self.root, Path::new(&path)).is_err()
            {
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

    /// Every artifact's path for no subject in particular, to say where
    /// documents go: the vars filled in, the subject's fields as `<slug>`,
    /// `<id>`, `<title>` and `<phase>`; a template that does not render
    /// stays as written.
    pub fn artifact_patterns(&self) -> IndexMap<String, String> {
        let placeholder = SubjectView {
            id: "<id>".into(),
            title: "<title>".into(),
            slug: "<slug>".into(),
            phase: "<phase>".into(),
            phase_label: "<phase>".into(),
        };
        self.render_artifacts(placeholder)
            .map(|(name, path)| {
                let template = &self.loaded.playbook.artifacts[name];
                (name.clone(), path.unwrap_or_else(|_| template.clone()))
            })
            .collect()
    }

    /// Each artifact's path template rendered for `subject`.
    fn render_artifacts(
        &self,
        subject: SubjectView,
    ) -> impl Iterator<Item = (&'a String, Result<String, minijinja::Error>)> {
        let env = crate::render::environment();
        let context = minijinja::context! {
            subject => minijinja::Value::from(minijinja::value::Serde(subject)),
            vars => minijinja::Value::from(minijinja::value::Serde(&self.loaded.playbook.vars)),
            playbook => minijinja::context! { name => self.loaded.playbook.name.clone() },
        };
        let artifacts = &self.loaded.playbook.artifacts;
        artifacts
            .iter()
            .map(move |(name, template)| (name, env.render_str(template, context.clone())))
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
        // Held while the documents are parsed and checked: subjects judged
        // in parallel share the budget that files checked in parallel do.
        let _permit = crate::memory::SHARED.acquire(self.documents_estimate(&paths));
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
        if !done && step.gate == Gate::Human {
            outcomes.extend(self.changes_requested(record, step, &paths));
        }
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
                    read: Vec::new(),
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

    /// The changes requested at `step` that still hold, as one failed
    /// outcome at the subject's file; `None` when there are none.
    fn changes_requested(
        &self,
        record: &SubjectRecord,
        step: &Step,
        paths: &IndexMap<String, String>,
    ) -> Option<CheckOutcome> {
        let (_, state_file) = self.store.subject_file(&record.id);
        let findings: Vec<Diagnostic> = record
            .rejections
            .iter()
            .filter(|r| r.step == step.id && self.changed_since(r, paths).is_none())
            .map(|r| {
                let note = r
                    .note
                    .as_deref()
                    .map_or(String::new(), |n| format!(": {n}"));
                Diagnostic::error(
                    CHANGES_REQUESTED,
                    state_file.as_str(),
                    format!("{} requested changes at {}{note}", r.by, r.at),
                )
                .with_help("change the documents it pinned; the request holds the gate until then")
            })
            .collect();
        (!findings.is_empty()).then(|| CheckOutcome {
            check: CHANGES_REQUESTED.into(),
            kind: "approval",
            status: CheckStatus::Failed,
            findings,
            evidence: Vec::new(),
            suppressed: Vec::new(),
            read: Vec::new(),
        })
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
        let entry_phases = self.loaded.playbook.entry_phases(step);
        if !entry_phases.contains(&record.phase.as_str()) {
            let labels: Vec<String> = entry_phases
                .iter()
                .map(|phase| format!("`{}`", self.phase_label(phase)))
                .collect();
            blockers.push(Diagnostic::error(
                "requires",
                state_file.as_str(),
                format!(
                    "{} is in phase `{}`; step `{}` starts from {}",
                    record.id,
                    self.phase_label(&record.phase),
                    step.id,
                    labels.join(" or ")
                ),
            ));
        }
        for requirement in &step.requires {
            match requirement {
                Requirement::ArtifactExists(name) => {
                    let path = paths.get(name).cloned().unwrap_or_default();
                    let non_empty = |file: &str| {
                        std::fs::metadata(self.root.join(file))
                            .is_ok_and(|m| m.is_file() && m.len() > 0)
                    };
                    let present = if crate::glob::is_glob(&path) {
                        crate::glob::expand(&self.root, &path)
                            .iter()
                            .any(|file| non_empty(file))
                    } else {
                        non_empty(&path)
                    };
                    if !present {
                        let message = if crate::glob::is_glob(&path) {
                            format!("no file of the {name} `{path}` exists")
                        } else {
                            format!("the {name} `{path}` does not exist")
                        };
                        blockers.push(
                            Diagnostic::error("requires", path.as_str(), message)
                                .at(Position::START),
                        );
                    }
                }
                Requirement::Approved(other) => {
                    if self.approved(record, other, paths) {
                        continue;
                    }
                    let approval = record.approvals.iter().rev().find(|a| a.step == *other);
                    let message = match approval {
                        None => format!("step `{other}` has no approval"),
                        Some(approval) => match self.changed_since(approval, paths) {
                            Some(why) => format!(
                                "the approval of step `{other}` by {} at {} is stale: {why}",
                                approval.by, approval.at
                            ),
                            None => format!(
                                "step `{other}` is not approved: {}",
                                self.tally(record, other, paths).progress()
                            ),
                        },
                    };
                    blockers.push(Diagnostic::error("requires", state_file.as_str(), message));
                }
            }
        }
        blockers
    }

    /// Whether `step`'s gate is open: enough fresh approvals by allowed
    /// people, every required group among them, and no changes requested
    /// that still hold.
    pub fn approved(
        &self,
        record: &SubjectRecord,
        step: &str,
        paths: &IndexMap<String, String>,
    ) -> bool {
        self.tally(record, step, paths).open()
    }

    /// Who may approve `step` (by id) and how many must.
    pub fn gatekeeper(&self, step: &str) -> Gatekeeper<'a> {
        let playbook = &self.loaded.playbook;
        let rule = playbook
            .steps
            .iter()
            .find(|s| s.id == step)
            .and_then(|s| s.approval.as_ref())
            .unwrap_or(&ANYONE);
        Gatekeeper {
            rule,
            groups: &playbook.approvers,
        }
    }

    /// Where `step`'s gate stands for a subject, counting only what is
    /// still fresh.
    pub fn tally(
        &self,
        record: &SubjectRecord,
        step: &str,
        paths: &IndexMap<String, String>,
    ) -> Tally {
        let fresh = |a: &&Approval| a.step == step && self.changed_since(a, paths).is_none();
        self.gatekeeper(step).tally(
            record.approvals.iter().filter(fresh),
            record.rejections.iter().filter(fresh),
        )
    }

    /// An approval is stale when a file it pinned changed, appeared or
    /// went, or is no longer an artifact of the playbook: why, for the
    /// first such file, or `None` while the approval holds. Only the paths
    /// the playbook names are read, never a path the state file holds.
    pub fn changed_since(
        &self,
        approval: &Approval,
        paths: &IndexMap<String, String>,
    ) -> Option<String> {
        approval
            .artifacts
            .iter()
            .find_map(|(name, pinned)| {
                let Some(path) = paths.get(name) else {
                    return Some(format!(
                        "artifact `{name}` it pinned is no longer in the playbook"
                    ));
                };
                let changed =
                    path != &pinned.path || hash_artifact(&self.root, path) != pinned.sha256;
                changed.then(|| format!("`{path}` changed since"))
            })
            .or_else(|| {
                // Read as artifacts are: confined to the root, capped.
                approval.files.iter().find_map(|(path, sha256)| {
                    (hash_file(&self.root, Path::new(path)) != *sha256)
                        .then(|| format!("`{path}` changed since"))
                })
            })
    }

    /// Every subject with its next step's verdict, each on its own: a
    /// subject whose file or artifacts cannot be used is its error, and the
    /// others are still judged, in parallel. A status shows no code frame,
    /// so its results keep no document text.
    pub fn status(
        &self,
        only: Option<&str>,
    ) -> Result<Vec<Result<SubjectStatus, ProjectError>>, ProjectError> {
        let records = match only {
            Some(id) => vec![Ok(self.load(id)?)],
            None => self.store.subjects()?,
        };
        Ok(crate::pool::map_items_in_order(
            records,
            |record| {
                let record = record?;
                let step = self.current_step(&record);
                let result = step.map(|s| self.judge(&record, s)).transpose()?;
                let result = result.map(StepResult::without_sources);
                let paths = match &result {
                    Some(result) => result.artifacts.clone(),
                    None => self.artifact_paths(&record)?,
                };
                // One per step and person: the latest replaces the
                // approvals it renewed.
                let same = |a: &Approval, b: &Approval| {
                    a.step == b.step
                        && crate::approvals::person(&a.by) == crate::approvals::person(&b.by)
                };
                let approvals = record
                    .approvals
                    .iter()
                    .enumerate()
                    .filter(|(i, a)| !record.approvals[i + 1..].iter().any(|b| same(a, b)))
                    .map(|(_, a)| (a.clone(), self.changed_since(a, &paths).is_some()))
                    .collect();
                // Shown while it matters: awaiting approval, or reviewed.
                let verdict = result.as_ref().map(|r| r.verdict);
                let gate = step
                    .filter(|s| s.gate == Gate::Human && verdict != Some(Verdict::Done))
                    .map(|s| self.tally(&record, &s.id, &paths))
                    .filter(|tally| {
                        verdict == Some(Verdict::AwaitingApproval)
                            || !tally.approvers.is_empty()
                            || !tally.rejected_by.is_empty()
                    });
                Ok(SubjectStatus {
                    gate,
                    phase_label: self.phase_label(&record.phase),
                    next_step: step.map(|s| s.id.clone()),
                    result,
                    approvals,
                    record,
                })
            },
            |statuses| statuses.map(crate::pool::Handed::into_inner).collect(),
        ))
    }

    /// What parsing the documents at `paths` may take, told from their
    /// lengths before they are read (a pattern's files are not counted).
    fn documents_estimate(&self, paths: &IndexMap<String, String>) -> usize {
        paths
            .values()
            .filter(|path| !crate::glob::is_glob(path))
            .filter_map(|path| crate::confined::resolve(&self.root, Path::new(path)).ok())
            .filter_map(|real| std::fs::metadata(real).ok())
            .map(|meta| crate::memory::estimate(usize::try_from(meta.len()).unwrap_or(usize::MAX)))
            .fold(0, usize::saturating_add)
    }

    /// Judges `step` (default: the current one) and, on `passed`, moves the
    /// subject to the step's `to` phase. Returns the verdict and the subject
    /// as it is now.
    pub fn advance(
        &self,
        id: &str,
        step: Option<&str>,
        actor: &str,
    ) -> Result<Transition, ProjectError> {
        let step = step.map(|step| self.step(step)).transpose()?;
        self.transition(id, step, actor, None)
    }

    /// The reviewer to record: `given` (`--by`), else git's identity in
    /// the project ("Kim Lee <kim@example.com>"); never the login name, as
    /// an approval must name someone git can attribute a commit to.
    pub fn reviewer(&self, given: Option<&str>) -> Result<String, ProjectError> {
        let by = given
            .map(str::to_string)
            .or_else(|| crate::identity::git_identity(&self.root))
            .ok_or(ProjectError::NoApprover)?;
        if by.trim().is_empty() || by.chars().any(char::is_control) {
            return Err(ProjectError::NoApprover);
        }
        Ok(by)
    }

    /// Records an approval of `step` (default: the current one) by `by`,
    /// pinned to the SHA-256 of every artifact the step checks, then
    /// advances when the gate opens; for a step the subject is past, it
    /// renews an approval gone stale. Someone the step's `approval.from`
    /// does not list is refused.
    pub fn approve(
        &self,
        id: &str,
        step: Option<&str>,
        by: &str,
        note: Option<&str>,
    ) -> Result<Transition, ProjectError> {
        let step = step.map(|step| self.step(step)).transpose()?;
        self.transition(
            id,
            step,
            by,
            Some(Review {
                note: note.unwrap_or_default(),
                approves: true,
            }),
        )
    }

    /// Records changes requested at `step` (default: the current one) by
    /// `by`, pinned as an approval is: the gate stays shut until a file it
    /// pinned changes.
    pub fn reject(
        &self,
        id: &str,
        step: Option<&str>,
        by: &str,
        note: &str,
    ) -> Result<Transition, ProjectError> {
        let step = step.map(|step| self.step(step)).transpose()?;
        self.transition(
            id,
            step,
            by,
            Some(Review {
                note,
                approves: false,
            }),
        )
    }

    /// Refuses a reviewer the step's rule does not allow: someone outside
    /// `from`, or, for an approval under `authors_may_approve: false`, the
    /// last to change a file the approval pins.
    fn admit(
        &self,
        step: &Step,
        by: &str,
        pinned: &[String],
        approves: bool,
    ) -> Result<(), ProjectError> {
        let keeper = self.gatekeeper(&step.id);
        let who = crate::approvals::person(by);
        if !keeper.allows(&who) {
            return Err(ProjectError::NotAllowed {
                who: by.to_string(),
                step: step.id.clone(),
                allowed: keeper.who_may(),
            });
        }
        if approves && !keeper.rule.authors_may_approve {
            for path in pinned {
                let author = crate::git::last_changed_by(&self.root, path);
                if author.is_some_and(|author| author.to_lowercase() == who) {
                    return Err(ProjectError::AuthorMayNotApprove {
                        who: by.to_string(),
                        step: step.id.clone(),
                        path: path.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Under the state lock: take the step (the subject's current one, as
    /// the lock finds it, when `step` is `None`), judge it, record the
    /// review (when one is given) and move on when the verdict allows.
    fn transition(
        &self,
        id: &str,
        step: Option<&'a Step>,
        actor: &str,
        review: Option<Review>,
    ) -> Result<Transition, ProjectError> {
        let mut judged = None;
        let record = self.store.update::<ProjectError>(id, |record| {
            let step = match step {
                Some(step) => step,
                None => self
                    .current_step(record)
                    .ok_or_else(|| ProjectError::NoStep {
                        id: id.to_string(),
                        phase: self.phase_label(&record.phase),
                    })?,
            };
            if review.is_some() && step.gate != Gate::Human {
                return Err(ProjectError::NotHumanGate {
                    step: step.id.clone(),
                });
            }
            if review.is_some() {
                // Someone who may not review is told so before anything
                // else; the authorship rule needs the pinned files, below.
                self.admit(step, actor, &[], false)?;
            }
            let approving = review.as_ref().is_some_and(|r| r.approves);
            let rejecting = review.as_ref().is_some_and(|r| !r.approves);
            let mut result = self.judge_past_step(record, step, review.is_some())?;
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
                Verdict::AwaitingApproval => review.is_some(),
                // Changes may be requested whatever the checks found.
                Verdict::Failed => rejecting,
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
            let mut gate = None;
            let mut moves = !rejecting;
            if let Some(review) = &review {
                let read: Vec<&Read> = result.outcomes.iter().flat_map(|o| &o.read).collect();
                let artifacts = self.pin(step, &result.artifacts, &read);
                let files: IndexMap<String, Option<String>> = read
                    .iter()
                    .filter_map(|read| match read {
                        Read::File(path) => {
                            Some((path.clone(), hash_file(&self.root, Path::new(path))))
                        }
                        Read::Artifact(_) => None,
                    })
                    .collect();
                let pinned: Vec<String> = artifacts
                    .values()
                    .flat_map(|a| {
                        if crate::glob::is_glob(&a.path) {
                            crate::glob::expand(&self.root, &a.path)
                        } else {
                            vec![a.path.clone()]
                        }
                    })
                    .chain(files.keys().cloned())
                    .collect();
                self.admit(step, actor, &pinned, review.approves)?;
                let entry = Approval {
                    step: step.id.clone(),
                    by: actor.to_string(),
                    at: at.clone(),
                    note: (!review.note.is_empty()).then(|| review.note.to_string()),
                    artifacts,
                    files,
                };
                if review.approves {
                    record.approvals.push(entry);
                } else {
                    record.rejections.push(entry);
                }
                let tally = self.tally(record, &step.id, &result.artifacts);
                moves = tally.open() && !renewing;
                result.verdict = if tally.open() {
                    Verdict::Passed
                } else if rejecting {
                    Verdict::Failed
                } else {
                    Verdict::AwaitingApproval
                };
                gate = Some(tally);
            }
            let (from, to) = if moves {
                let from = std::mem::replace(&mut record.phase, step.to.clone());
                (Some(from), Some(step.to.clone()))
            } else {
                (None, None)
            };
            judged = Some((result, from.clone(), gate));
            Ok(Some(HistoryEvent {
                prev: None,
                at,
                actor: actor.to_string(),
                subject: id.to_string(),
                event: match &review {
                    Some(Review { approves: true, .. }) => EventKind::Approved,
                    Some(Review {
                        approves: false, ..
                    }) => EventKind::Rejected,
                    None => EventKind::Advanced,
                },
                step: Some(step.id.clone()),
                from,
                to,
                note: review
                    .as_ref()
                    .filter(|r| !r.note.is_empty())
                    .map(|r| r.note.to_string()),
            }))
        });
        let record = record?;
        let (result, left, gate) = judged.expect("a successful update judged the step");
        Ok(Transition {
            result,
            record,
            left,
            gate,
        })
    }

    /// The SHA-256 of every artifact the step reads: those its checks
    /// name, those it requires to exist, and those its plugins asked for.
    fn pin(
        &self,
        step: &Step,
        paths: &IndexMap<String, String>,
        read: &[&Read],
    ) -> IndexMap<String, PinnedArtifact> {
        let index = self
            .loaded
            .playbook
            .steps
            .iter()
            .position(|s| s.id == step.id)
            .unwrap_or(0);
        let checks = self.loaded.playbook.step_checks(index);
        let mut names: Vec<&String> = checks
            .iter()
            .filter_map(|(_, check)| check.artifact.as_ref())
            .collect();
        for read in read {
            if let Read::Artifact(name) = read {
                names.push(name);
            }
        }
        for requirement in &step.requires {
            if let Requirement::ArtifactExists(name) = requirement {
                names.push(name);
            }
        }
        let mut pinned = IndexMap::new();
        for name in names {
            if let Some(path) = paths.get(name) {
                pinned
                    .entry(name.clone())
                    .or_insert_with(|| PinnedArtifact {
                        path: path.clone(),
                        sha256: hash_artifact(&self.root, path),
                    });
            }
        }
        pinned
    }
}

/// An approval or a rejection being recorded.
struct Review<'n> {
    note: &'n str,
    approves: bool,
}

/// Hex SHA-256 of a file under `root` (relative to it, or absolute), read
/// as artifacts are: confined to the root, regular files only, capped;
/// `None` when it cannot be read.
pub fn hash_file(root: &Path, path: &Path) -> Option<String> {
    let bytes = crate::confined::read_bytes(root, path, crate::engine::MAX_DOCUMENT_BYTES).ok()?;
    Some(hex(&Sha256::digest(&bytes)))
}

/// Hex SHA-256 of an artifact under `root`: of its file, or of every file
/// its pattern matches (see [`crate::glob`]).
pub fn hash_artifact(root: &Path, path: &str) -> Option<String> {
    if crate::glob::is_glob(path) {
        crate::glob::hash(root, path, |file| hash_file(root, file))
    } else {
        hash_file(root, Path::new(path))
    }
}

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The current time in RFC 3339, UTC; `TOLLGATE_NOW` fixes it, so that
/// documents and tests can be reproduced. A value that is not a timestamp
/// is ignored: what a history records is always a time.
pub fn now() -> String {
    let fixed = std::env::var("TOLLGATE_NOW")
        .ok()
        .and_then(|fixed| fixed.parse::<jiff::Timestamp>().ok());
    fixed
        .unwrap_or_else(jiff::Timestamp::now)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
