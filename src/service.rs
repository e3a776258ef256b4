//! The work behind the commands, shared by both front ends: the command
//! line (`crate::cli`) and the MCP server (`crate::mcp`). Each function
//! computes what a command answers; the front ends only present it, so a
//! verdict or a message is made in one place.

use std::path::{Path, PathBuf};

use codespan_reporting::term::termcolor::NoColor;

use crate::checks::CheckStatus;
use crate::diagnostic::Diagnostic;
use crate::engine::{FileList, Options, RunError, StatelessRun, StepResult, Verdict};
use crate::lua::PluginSet;
use crate::playbook::{LoadError, LoadStage, LoadedPlaybook, Step, lint};
use crate::pool::Handed;
use crate::project::{Project, ProjectError, SubjectStatus, Transition};
use crate::render::step;
use crate::report::{self, AdvanceReport, JsonFinding, LintedFile, Sources};
use crate::state::SubjectRecord;

/// Why the playbook every command but `lint` runs on cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlaybookUnavailable {
    #[error(
        "there is no playbook at `{display}`; run `tollgate init` to write one, or name yours with --playbook PATH"
    )]
    Missing { display: String },
    #[error("the playbook does not load; run `tollgate lint` for details")]
    DoesNotLoad(LoadError),
}

impl PlaybookUnavailable {
    /// The diagnostics that say where the playbook is wrong, and their
    /// source texts for code frames.
    pub fn diagnostics(&self) -> (&[Diagnostic], Sources) {
        let mut sources = Sources::default();
        match self {
            Self::Missing { .. } => (&[], sources),
            Self::DoesNotLoad(error) => {
                if let Some(text) = &error.text {
                    sources.insert(error.display.clone(), text.clone());
                }
                (&error.diagnostics, sources)
            }
        }
    }

    /// The diagnostics (with code frames) followed by the message, as plain
    /// text.
    pub fn plain_text(&self) -> String {
        let (diagnostics, sources) = self.diagnostics();
        let mut out = NoColor::new(Vec::new());
        // Writing into memory cannot fail.
        let _ = report::write_diagnostics(diagnostics, &sources, &mut out);
        let mut text = String::from_utf8_lossy(&out.into_inner()).into_owned();
        text.push_str(&self.to_string());
        text
    }
}

/// Loads the playbook at `path` and sets the `--var` overrides.
pub fn load_playbook(
    path: &Path,
    display: &str,
    vars: &[(String, serde_json::Value)],
) -> Result<LoadedPlaybook, PlaybookUnavailable> {
    if !path.exists() {
        return Err(PlaybookUnavailable::Missing {
            display: display.to_string(),
        });
    }
    let mut loaded =
        LoadedPlaybook::load(path, display).map_err(PlaybookUnavailable::DoesNotLoad)?;
    for (key, value) in vars {
        loaded.playbook.vars.insert(key.clone(), value.clone());
    }
    Ok(loaded)
}

/// A playbook linted: its diagnostics, the texts they point into, and
/// whether it could not be read at all.
pub struct LintedPlaybook {
    pub file: LintedFile,
    pub sources: Vec<(String, String)>,
    pub unusable: bool,
}

/// Loads and lints one playbook file.
pub fn lint_playbook(path: &Path, display: &str) -> LintedPlaybook {
    let mut sources = Vec::new();
    let mut unusable = false;
    let diagnostics = match LoadedPlaybook::load(path, display) {
        Ok(loaded) => {
            let lint = lint::lint(&loaded);
            sources.extend(lint.extra_sources);
            sources.push((display.to_string(), loaded.source));
            lint.diagnostics
        }
        Err(error) => {
            unusable = error.stage == LoadStage::Unusable;
            if let Some(text) = error.text {
                sources.push((error.display, text));
            }
            error.diagnostics
        }
    };
    LintedPlaybook {
        file: LintedFile {
            path: display.to_string(),
            diagnostics,
        },
        sources,
        unusable,
    }
}

/// The subjects a check judges, each with the step it is judged at; the
/// subject files that could not be used; and, when no subject is
/// registered at all, why nothing is judged and what to do.
pub struct SubjectsToCheck<'a> {
    pub subjects: Vec<(SubjectRecord, &'a Step)>,
    pub unusable: Vec<ProjectError>,
    pub nothing_judged: Option<String>,
}

/// The subjects `ids` (every registered subject when empty) at `step`
/// (default: each one's current step; a subject past its last step has
/// none and is left out). A subject file that cannot be used is reported
/// when all are checked; the others are still judged.
pub fn subjects_to_check<'a>(
    project: &Project<'a>,
    ids: &[String],
    step: Option<&str>,
) -> Result<SubjectsToCheck<'a>, ProjectError> {
    let mut unusable = Vec::new();
    let records: Vec<_> = if ids.is_empty() {
        let (records, broken): (Vec<_>, Vec<_>) = project
            .store
            .subjects()?
            .into_iter()
            .partition(Result::is_ok);
        unusable.extend(broken.into_iter().filter_map(Result::err).map(Into::into));
        records.into_iter().filter_map(Result::ok).collect()
    } else {
        ids.iter()
            .map(|id| project.load(id))
            .collect::<Result<Vec<_>, _>>()?
    };
    let step = step.map(|step| project.step(step)).transpose()?;
    let playbook = &project.loaded.playbook;
    let nothing_judged = records.is_empty().then(|| {
        let root = crate::source::display_path(&project.root);
        format!(
            "no {} is registered in `{}` of the project root `{}`; register one with `tollgate new ID --title TITLE`, or point --root at the project",
            playbook.subject.noun,
            playbook.state_dir,
            if root.is_empty() { "." } else { &root },
        )
    });
    let subjects = records
        .into_iter()
        .filter_map(|record| {
            let step = step.or_else(|| project.current_step(&record))?;
            Some((record, step))
        })
        .collect();
    Ok(SubjectsToCheck {
        subjects,
        unusable,
        nothing_judged,
    })
}

impl SubjectsToCheck<'_> {
    /// Judges every subject, in parallel, and gives `consume` the results
    /// in order, each as soon as it is ready; a subject that cannot be
    /// judged joins `unusable`. Results `consume` leaves untaken are still
    /// judged, so that the tally counts them all.
    pub fn judge<T: Send>(
        &mut self,
        project: &Project,
        consume: impl for<'w> FnOnce(&mut dyn Iterator<Item = Handed<'w, StepResult>>) -> T + Send,
    ) -> (T, Tally) {
        let subjects = std::mem::take(&mut self.subjects);
        let mut tally = Tally::default();
        let unusable = &mut self.unusable;
        let consumed = crate::pool::map_items_in_order(
            subjects,
            |(record, step)| project.judge(&record, step),
            |judged| {
                let mut results = judged
                    .filter_map(|judged| {
                        judged
                            .into_inner()
                            .map_err(|error| unusable.push(error))
                            .ok()
                    })
                    .inspect(|result| tally.add(result))
                    .map(Handed::new);
                let consumed = consume(&mut results);
                results.for_each(drop);
                consumed
            },
        );
        (consumed, tally)
    }
}

/// Why `show` cannot render a step document.
#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error("cannot render the step document: {0}")]
    Render(#[from] step::RenderError),
}

/// The step document (Markdown) of `step`, for `subject` when given, with
/// each check's verdict and evidence when `with_results`.
pub fn show_step(
    project: &Project,
    step: &str,
    subject: Option<&str>,
    with_results: bool,
) -> Result<String, ShowError> {
    let step = project.step(step)?;
    let record = subject.map(|id| project.load(id)).transpose()?;
    let artifacts = match &record {
        Some(record) => project.artifact_paths(record)?,
        // Without a subject the paths say where documents go.
        None => project.artifact_patterns(),
    };
    let results = match (&record, with_results) {
        (Some(record), true) => Some(project.judge(record, step)?),
        _ => None,
    };
    let subject = record.as_ref().map(|r| project.subject_view(r));
    Ok(step::render(
        project.loaded,
        step,
        subject.as_ref(),
        &artifacts,
        results.as_ref(),
    )?)
}

/// What `advance` or `approve` (named by `action`: "advanced", "approved")
/// did, or why the subject stayed; errors other than a step that did not
/// pass are returned as they are.
pub fn transition_report(
    project: &Project,
    action: &str,
    outcome: Result<Transition, ProjectError>,
) -> Result<(AdvanceReport, StepResult), ProjectError> {
    let noun = &project.loaded.playbook.subject.noun;
    match outcome {
        Ok(Transition {
            result,
            record,
            left,
            gate,
        }) => {
            let phase_label = project.phase_label(&record.phase);
            let whereabouts = match left {
                Some(_) => format!("now in phase `{phase_label}`"),
                None => format!("it stays in phase `{phase_label}`"),
            };
            // Said while the gate stays shut: once open, "passed" says it.
            let progress = gate
                .filter(|gate| !gate.open())
                .map_or(String::new(), |gate| format!(" ({})", gate.progress()));
            let report = AdvanceReport {
                subject: record.id.clone(),
                step: result.step.clone(),
                verdict: result.verdict,
                taken: true,
                phase: record.phase,
                phase_label,
                message: format!(
                    "{noun} {}: step `{}` {}{progress}; {whereabouts}",
                    record.id,
                    result.step,
                    result.verdict.as_str()
                ),
                awaits_person: None,
                findings: result.findings().map(JsonFinding::from).collect(),
            };
            Ok((report, result))
        }
        Err(ProjectError::NotPassed { id, result, .. }) => {
            let record = project.load(&id)?;
            let step = &result.step;
            let approve = format!("tollgate approve {id} --step {step}");
            let why = match result.verdict {
                Verdict::AwaitingApproval => format!("awaits approval: `{approve}`"),
                Verdict::Done => format!("is done: {id} is already past it"),
                Verdict::Failed => "failed".into(),
                verdict => format!("is {}", verdict.as_str()),
            };
            let awaits_person = (result.verdict == Verdict::AwaitingApproval).then(|| {
                format!(
                    "step `{step}` has a human gate: it awaits a person's approval. Tell the person what to review; they approve it by running `{approve}`. No tool can approve it."
                )
            });
            let report = AdvanceReport {
                subject: id.clone(),
                step: step.clone(),
                verdict: result.verdict,
                taken: false,
                phase_label: project.phase_label(&record.phase),
                phase: record.phase,
                message: format!("{id} not {action}: step `{step}` {why}"),
                awaits_person,
                findings: result.findings().map(JsonFinding::from).collect(),
            };
            Ok((report, *result))
        }
        Err(error) => Err(error),
    }
}

/// Every subject's status (or one's), and the errors of the subjects that
/// could not be used; the others are still judged.
pub fn status(
    project: &Project,
    only: Option<&str>,
) -> Result<(Vec<SubjectStatus>, Vec<ProjectError>), ProjectError> {
    let (subjects, unusable): (Vec<_>, Vec<_>) =
        project.status(only)?.into_iter().partition(Result::is_ok);
    Ok((
        subjects.into_iter().filter_map(Result::ok).collect(),
        unusable.into_iter().filter_map(Result::err).collect(),
    ))
}

/// Files checked as a step's artifact: what consuming their results gave,
/// how the results add up, and why nothing was judged when no check of the
/// step reads them.
pub struct CheckedFiles<T> {
    pub consumed: T,
    pub tally: Tally,
    pub nothing_judged: Option<String>,
}

/// What a run's results add up to, gathered as they go by: what its exit
/// code and its "nothing was checked" message depend on.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Some check read a file, even one that then said why it was skipped
    /// (a trace without its other artifact).
    pub judged: bool,
    /// A file a check needed could not be read.
    pub unreadable: bool,
    /// A gate failed.
    pub failed: bool,
    /// A gate waits for a person's approval.
    pub awaiting_approval: bool,
}

impl Tally {
    pub fn of<'a>(results: impl IntoIterator<Item = &'a StepResult>) -> Self {
        let mut tally = Self::default();
        results.into_iter().for_each(|result| tally.add(result));
        tally
    }

    pub fn add(&mut self, result: &StepResult) {
        self.judged |= (result.outcomes.iter())
            .any(|outcome| outcome.status != CheckStatus::Skipped || !outcome.findings.is_empty());
        self.unreadable |= result.unreadable;
        self.failed |= result.verdict.fails();
        self.awaiting_approval |= result.verdict == Verdict::AwaitingApproval;
    }
}

/// Checks `files` (each an absolute path and its path as results show it)
/// as the artifact `artifact` (default: the step's primary one) of `step`,
/// with no subject, the other artifacts its checks read taken from
/// `artifact_files` (name, absolute path, path as shown). `consume` gets
/// the results in the order of `files`, each as soon as it is ready (to
/// write it out while later files are checked); `done` is called as each
/// file is checked. Files `consume` leaves untaken (its output was closed)
/// are still checked, so that the tally counts them all.
#[allow(clippy::too_many_arguments)]
pub fn check_files<T: Send>(
    loaded: &LoadedPlaybook,
    root: &Path,
    step: &str,
    artifact: Option<&str>,
    artifact_files: &[(String, PathBuf, String)],
    options: Options,
    files: &(impl FileList + ?Sized),
    done: &(dyn Fn() + Sync),
    consume: impl for<'w> FnOnce(&mut dyn Iterator<Item = Handed<'w, StepResult>>) -> T + Send,
) -> Result<CheckedFiles<T>, RunError> {
    let plugins = PluginSet::load(
        loaded.folder(),
        &loaded.playbook.plugins,
        root,
        &loaded.playbook.limits,
        options.limits,
    );
    let run = artifact_files.iter().try_fold(
        StatelessRun::new(&loaded.playbook, step, artifact, options)?
            .with_plugins(&plugins)
            .within(root),
        |run, (name, file, shown)| run.with_artifact_file(name, file, shown),
    )?;
    let mut tally = Tally::default();
    let consumed = run.check_files_in_order(files, done, |results| {
        let mut tallied = results.inspect(|result| tally.add(result));
        let consumed = consume(&mut tallied);
        tallied.for_each(drop);
        consumed
    });
    let nothing_judged = (!tally.judged).then(|| {
        format!(
            "no check of step `{step}` reads artifact `{}`, which the files stand for; name the artifact they are with --artifact",
            run.artifact
        )
    });
    Ok(CheckedFiles {
        consumed,
        tally,
        nothing_judged,
    })
}
