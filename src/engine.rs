//! Runs a step's checks and judges its gate. [`StepRunner`] serves both
//! modes: a subject's step (see [`crate::project`]) and the stateless
//! `tollgate check --step STEP FILE...`, where each file is checked as the
//! step's primary artifact, in parallel, and only findings and the texts
//! they point into are kept, so memory follows the defects, not the number
//! of files.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use indexmap::IndexMap;
use minijinja::{Environment, Value, context};
use serde::Serialize;

use crate::checks::{self, Artifact, CheckOutcome, CheckStatus, Findings, Other, Surroundings};
use crate::diagnostic::{Diagnostic, Position};
use crate::lua::{LimitOverrides, PluginCall, PluginSet, SubjectInfo};
use crate::markdown::{Document, WordCounts};
use crate::memory;
use crate::playbook::{Check, CheckKind, Gate, Playbook, SectionAliases, Step};
use crate::pool::Handed;
use crate::render::{self, step::SubjectView};
use crate::source::{self, SourceError};
use crate::suppress::{self, Suppressed, Target};

/// The largest Markdown file read as a document; a larger one is refused
/// before it is read. A planning document is tens of kilobytes, so this
/// leaves it room many times over, while the worst document of this size,
/// parsed, still fits [`crate::memory::MEMORY_BUDGET`] alone (at
/// [`crate::memory::AMPLIFICATION`] bytes a byte).
pub const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// The answer for one subject (or file) and one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
    /// The text of each file with findings, by path, for code frames.
    pub sources: Vec<(String, String)>,
    /// A file could not be read at all: the input was unusable.
    pub unreadable: bool,
}

impl StepResult {
    pub fn findings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.outcomes.iter().flat_map(|outcome| &outcome.findings)
    }

    /// The findings that directives in the documents suppressed.
    pub fn suppressed(&self) -> impl Iterator<Item = &Suppressed> {
        self.outcomes.iter().flat_map(|outcome| &outcome.suppressed)
    }

    /// The result without the documents' texts, for what is kept to the
    /// end of a run and shows no code frame.
    pub fn without_sources(self) -> Self {
        Self {
            sources: Vec::new(),
            ..self
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Warnings fail the gate too.
    pub strict: bool,
    /// Plugin budgets from the command line.
    pub limits: LimitOverrides,
}

/// A file a check may read, loaded once per step however many checks read it.
#[derive(Debug)]
pub struct LoadedArtifact {
    /// The path as findings show it.
    pub path: String,
    document: Option<Document>,
    /// Why a file that exists could not be read, and where.
    problem: Option<(String, Position)>,
}

impl LoadedArtifact {
    /// Reads and parses a file that must lie inside `root` once its
    /// symbolic links are resolved (`file` is relative to `root`, or
    /// absolute).
    pub fn load_within(root: &Path, file: &Path, path: &str) -> Self {
        Self::from_read(
            crate::confined::read_text(root, file, MAX_DOCUMENT_BYTES),
            path,
            WordCounts::Counted,
        )
    }

    /// An artifact whose text is already in memory, such as an editor's
    /// buffer; held to the same size limit as a file. Its words are counted
    /// only if `words` asks for it.
    pub fn from_text(text: String, path: &str, words: WordCounts) -> Self {
        let read = if text.len() > MAX_DOCUMENT_BYTES {
            Err(SourceError::TooLarge {
                size: text.len() as u64,
                limit: MAX_DOCUMENT_BYTES,
                grew: false,
            })
        } else {
            Ok(text)
        };
        Self::from_read(read, path, words)
    }

    fn from_read(read: Result<String, SourceError>, path: &str, words: WordCounts) -> Self {
        // The document keeps the text (its line endings made `\n`) for the
        // code frames of findings.
        let (text, problem) = match read {
            Ok(text) => (Some(text), None),
            Err(SourceError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => {
                (None, None)
            }
            // The finding points at the first bad byte, as an editor shows it.
            Err(error @ SourceError::NotUtf8 { position }) => {
                (None, Some((error.to_string(), position)))
            }
            Err(error) => (None, Some((error.to_string(), Position::START))),
        };
        Self {
            path: path.to_string(),
            document: text.map(|text| Document::parse_string_with(path, text, words)),
            problem,
        }
    }

    /// The document, or why there is none, as checks see it.
    pub fn artifact(&self) -> Artifact<'_> {
        match (&self.document, &self.problem) {
            (Some(doc), _) => Artifact::Loaded(doc),
            (None, Some((why, at))) => Artifact::Unreadable(why, *at),
            (None, None) => Artifact::Missing,
        }
    }
}

/// The artifacts of one run by name; a check whose artifact is not in the
/// set (stateless mode has only the primary one) is skipped. An artifact
/// that names a pattern (see [`crate::glob`]) holds every file it matches.
#[derive(Debug, Default)]
pub struct ArtifactSet {
    /// Each artifact's path, or pattern, as findings and templates show it.
    paths: IndexMap<String, String>,
    /// The files, by artifact name, in the order of `paths`; shared, since
    /// the files given with `--artifact-file` serve every file checked.
    files: Vec<(String, Arc<LoadedArtifact>)>,
    /// The only artifact whose checks run, when the others are there only
    /// to be read (the stateless mode's `--artifact-file`).
    checked: Option<String>,
    /// The root that links resolve inside.
    root: Option<PathBuf>,
}

impl ArtifactSet {
    /// Loads each artifact at its path under `root`, and each file of an
    /// artifact that names a pattern.
    pub fn load(root: &Path, paths: &IndexMap<String, String>) -> Self {
        let mut files = Vec::new();
        for (name, path) in paths {
            if crate::glob::is_glob(path) {
                for file in crate::glob::expand(root, path) {
                    files.push((
                        name.clone(),
                        Arc::new(LoadedArtifact::load_within(root, Path::new(&file), &file)),
                    ));
                }
            } else {
                files.push((
                    name.clone(),
                    Arc::new(LoadedArtifact::load_within(root, Path::new(path), path)),
                ));
            }
        }
        Self {
            paths: paths.clone(),
            files,
            checked: None,
            root: Some(root.to_path_buf()),
        }
    }

    /// One file standing for artifact `name`, whose checks run, with other
    /// artifacts that are only read.
    pub fn single(
        name: &str,
        artifact: LoadedArtifact,
        supporting: &[(String, Arc<LoadedArtifact>)],
        root: Option<&Path>,
    ) -> Self {
        let mut paths = IndexMap::from([(name.to_string(), artifact.path.clone())]);
        let mut files = vec![(name.to_string(), Arc::new(artifact))];
        for (other, loaded) in supporting {
            paths.insert(other.clone(), loaded.path.clone());
            files.push((other.clone(), Arc::clone(loaded)));
        }
        Self {
            paths,
            files,
            checked: Some(name.to_string()),
            root: root.map(Path::to_path_buf),
        }
    }

    /// Whether the checks of artifact `name` run.
    fn checks(&self, name: &str) -> bool {
        self.checked
            .as_deref()
            .is_none_or(|checked| checked == name)
    }

    /// Another artifact as a check that reads it sees it.
    fn other(&self, name: &str) -> Option<Other<'_>> {
        self.get(name).map(|loaded| Other {
            path: &loaded.path,
            artifact: loaded.artifact(),
        })
    }

    /// The artifact's (first) file.
    pub fn get<'s>(&'s self, name: &str) -> Option<&'s LoadedArtifact> {
        self.all(name).next()
    }

    /// Every file of the artifact: one, or those its pattern matches.
    fn all<'s, 'n>(
        &'s self,
        name: &'n str,
    ) -> impl Iterator<Item = &'s LoadedArtifact> + use<'s, 'n> {
        self.files
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, loaded)| loaded.as_ref())
    }

    /// Whether the artifact names a pattern, as opposed to one file.
    fn is_pattern(&self, name: &str) -> bool {
        self.paths
            .get(name)
            .is_some_and(|path| crate::glob::is_glob(path))
    }

    /// The texts of the files that `outcomes` found something in.
    fn sources(&self, outcomes: &[CheckOutcome]) -> Vec<(String, String)> {
        self.files
            .iter()
            .map(|(_, a)| a)
            .filter(|a| {
                outcomes
                    .iter()
                    .flat_map(|o| &o.findings)
                    .any(|f| f.path == a.path)
            })
            .filter_map(|a| Some((a.path.clone(), a.document.as_ref()?.text.clone())))
            .collect()
    }
}

/// A missing file has no line to point at: its findings name the file and
/// say how to start it.
fn say_how_to_create(outcome: &mut CheckOutcome, path: &str, subject: Option<&SubjectView>) {
    for finding in &mut outcome.findings {
        finding.start = None;
        finding.end = None;
        finding.help = Some(match subject {
            Some(subject) => format!(
                "create {path}; `tollgate scaffold {}` writes it with the headings, tables and boxes this step's checks require",
                subject.id
            ),
            None => format!("create {path}: this step must produce it"),
        });
    }
}

/// Runs the checks of one step: `when:` conditions, the built-in kinds,
/// `message:` templates, and the gate's verdict.
pub struct StepRunner<'a> {
    pub playbook: &'a Playbook,
    pub step: &'a Step,
    /// The step's checks, each `under:` accepting the aliases that the
    /// step's `sections` checks declare.
    checks: Vec<Cow<'a, Check>>,
    aliases: SectionAliases,
    /// Built the first time a `when:` or `message:` needs it: most steps
    /// have neither.
    env: OnceLock<Environment<'static>>,
    options: Options,
    plugins: Option<&'a PluginSet>,
}

impl<'a> StepRunner<'a> {
    pub fn new(playbook: &'a Playbook, step: &'a Step, options: Options) -> Self {
        let index = playbook
            .steps
            .iter()
            .position(|s| s.id == step.id)
            .unwrap_or(0);
        let checks: Vec<&Check> = playbook
            .step_checks(index)
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        let aliases = SectionAliases::of(checks.iter().copied());
        Self {
            playbook,
            step,
            checks: checks.into_iter().map(|c| aliases.apply(c)).collect(),
            aliases,
            env: OnceLock::new(),
            options,
            plugins: None,
        }
    }

    fn env(&self) -> &Environment<'static> {
        self.env.get_or_init(render::environment)
    }

    /// Compiles the regular expressions of the step's checks now, not when
    /// the first document needs them; one that does not compile is
    /// reported by its check, as before.
    pub fn compile_regexes(&self) {
        for check in &self.checks {
            check.kind.compile_regexes();
        }
    }

    /// Runs `plugin:` checks with these plugins; without, they fail saying so.
    pub fn with_plugins(mut self, plugins: &'a PluginSet) -> Self {
        self.plugins = Some(plugins);
        self
    }

    /// The outcome of every check, in order.
    pub fn run(&self, artifacts: &ArtifactSet, subject: Option<&SubjectView>) -> Vec<CheckOutcome> {
        let context = self.context(artifacts, subject);
        let mut reported_missing: Vec<&str> = Vec::new();
        let mut outcomes = self
            .checks
            .iter()
            .map(|check| match check.artifact.as_deref() {
                Some(name) if artifacts.is_pattern(name) => {
                    self.run_on_files(check, name, artifacts, subject, &context)
                }
                // Stateless: the other artifacts have no path, or are only read.
                Some(name) if !artifacts.checks(name) => skipped(check),
                Some(name) => match artifacts.get(name) {
                    Some(loaded) => self.run_check(
                        check,
                        Some(loaded),
                        artifacts,
                        subject,
                        &context,
                        &mut reported_missing,
                    ),
                    None => skipped(check),
                },
                None => self.run_check(
                    check,
                    None,
                    artifacts,
                    subject,
                    &context,
                    &mut reported_missing,
                ),
            })
            .collect();
        self.suppress(artifacts, &mut outcomes);
        outcomes
    }

    /// A check of an artifact that names a pattern: run on each file it
    /// matches, as one outcome. With no file, `exists` fails and the others
    /// have nothing to read.
    fn run_on_files(
        &self,
        check: &Check,
        name: &str,
        artifacts: &ArtifactSet,
        subject: Option<&SubjectView>,
        context: &Value,
    ) -> CheckOutcome {
        let mut files = artifacts.all(name).peekable();
        if files.peek().is_none() {
            let pattern = artifacts.paths.get(name).map_or("", String::as_str);
            return match check.kind {
                CheckKind::Exists => {
                    let mut findings = Findings::new(check, pattern);
                    findings.report(Position::START, format!("no file matches `{pattern}`"));
                    findings.finish()
                }
                _ => skipped(check),
            };
        }
        let mut merged: Option<CheckOutcome> = None;
        for loaded in files {
            let outcome = self.run_check(
                check,
                Some(loaded),
                artifacts,
                subject,
                context,
                &mut Vec::new(),
            );
            match &mut merged {
                None => merged = Some(outcome),
                Some(merged) => {
                    merged.findings.extend(outcome.findings);
                    merged.evidence.extend(outcome.evidence);
                    merged.status = match (merged.status, outcome.status) {
                        (CheckStatus::Failed, _) | (_, CheckStatus::Failed) => CheckStatus::Failed,
                        (CheckStatus::Passed, _) | (_, CheckStatus::Passed) => CheckStatus::Passed,
                        _ => CheckStatus::Skipped,
                    };
                }
            }
        }
        merged.unwrap_or_else(|| skipped(check))
    }

    /// One check on one file (or, for a plugin check without an artifact,
    /// on none), with its `when:` and `message:`.
    fn run_check<'s>(
        &self,
        check: &Check,
        loaded: Option<&'s LoadedArtifact>,
        artifacts: &ArtifactSet,
        subject: Option<&SubjectView>,
        context: &Value,
        reported_missing: &mut Vec<&'s str>,
    ) -> CheckOutcome {
        let path = match (loaded, &check.kind) {
            (Some(loaded), _) => loaded.path.as_str(),
            (None, CheckKind::Plugin { function, .. }) => self.plugin_file(function),
            (None, _) => return skipped(check),
        };
        if let Some(outcome) = self.when_outcome(check, path, context) {
            return outcome;
        }
        let artifact = loaded.map(LoadedArtifact::artifact);
        // A missing file is said once, by the first check that reads it.
        if let (Some(artifact), Some(loaded)) = (&artifact, loaded)
            && !matches!(artifact, Artifact::Loaded(_))
        {
            if reported_missing.contains(&loaded.path.as_str()) {
                return skipped(check);
            }
            reported_missing.push(&loaded.path);
        }
        let mut outcome = match (&check.kind, &artifact, self.plugins) {
            (
                CheckKind::Plugin { function, with },
                None | Some(Artifact::Loaded(_)),
                Some(plugins),
            ) => {
                let doc = match artifact {
                    Some(Artifact::Loaded(doc)) => Some(doc),
                    _ => None,
                };
                self.run_plugin(
                    plugins,
                    check,
                    (function, with),
                    doc,
                    artifacts,
                    subject,
                    path,
                )
            }
            (_, artifact, _) => {
                let others = |name: &str| artifacts.other(name);
                let around = Surroundings {
                    others: &others,
                    root: artifacts.root.as_deref(),
                };
                checks::run_builtin(
                    check,
                    artifact.as_ref().unwrap_or(&Artifact::Missing),
                    path,
                    &around,
                )
            }
        };
        if matches!(artifact, Some(Artifact::Missing)) {
            say_how_to_create(&mut outcome, path, subject);
        }
        if let Some(template) = &check.message {
            self.apply_message(template, check, &mut outcome, context);
        }
        outcome
    }

    /// Applies the suppression directives of each document this step's
    /// checks read; findings about the directives become one more outcome.
    fn suppress(&self, artifacts: &ArtifactSet, outcomes: &mut Vec<CheckOutcome>) {
        let mut findings = Vec::new();
        let mut known: Option<Vec<String>> = None;
        for (name, loaded) in &artifacts.files {
            if !artifacts.checks(name) {
                continue;
            }
            let Some(doc) = loaded
                .document
                .as_ref()
                .filter(|doc| !doc.directives.is_empty())
            else {
                continue;
            };
            let targets: Vec<Target> = self
                .checks
                .iter()
                .filter(|check| check.artifact.as_deref() == Some(name))
                .map(|check| Target {
                    id: &check.id,
                    suppressible: check.suppressible.unwrap_or(self.playbook.suppressible),
                })
                .collect();
            if targets.is_empty() {
                continue;
            }
            let known = known.get_or_insert_with(|| self.playbook_check_ids());
            findings.extend(suppress::apply(doc, &targets, known, outcomes));
        }
        if !findings.is_empty() {
            outcomes.push(CheckOutcome {
                check: suppress::CHECK_ID.into(),
                kind: "suppression",
                status: CheckStatus::of(&findings),
                findings,
                evidence: Vec::new(),
                suppressed: Vec::new(),
                read: Vec::new(),
            });
        }
    }

    /// The id of every check of every step.
    fn playbook_check_ids(&self) -> Vec<String> {
        (0..self.playbook.steps.len())
            .flat_map(|index| self.playbook.step_checks(index))
            .map(|(_, check)| check.id.clone())
            .collect()
    }

    /// One `plugin:` check: the Lua function with this step's context.
    #[allow(clippy::too_many_arguments)]
    fn run_plugin(
        &self,
        plugins: &PluginSet,
        check: &Check,
        (function, with): (&str, &serde_json::Value),
        doc: Option<&Document>,
        artifacts: &ArtifactSet,
        subject: Option<&SubjectView>,
        path: &str,
    ) -> CheckOutcome {
        let other = |name: &str| artifacts.get(name).and_then(|a| a.document.clone());
        let call = PluginCall {
            doc,
            subject: subject.map(|s| SubjectInfo {
                id: &s.id,
                title: &s.title,
                slug: &s.slug,
                phase: &s.phase,
            }),
            vars: &self.playbook.vars,
            step: self.step.into(),
            artifacts: &other,
            artifact: check.artifact.as_deref(),
            aliases: &self.aliases,
        };
        let mut findings = Findings::new(check, path);
        plugins.run(function, with, &call, &mut findings);
        findings.finish()
    }

    /// Where a plugin check that reads no artifact reports: its plugin's
    /// file, relative to the project root like every finding's path (as the
    /// playbook writes it when no plugins are loaded).
    fn plugin_file(&self, function: &str) -> &'a str {
        let written = || {
            let name = function.split('.').next().unwrap_or_default();
            self.playbook.plugins.get(name).map(String::as_str)
        };
        self.plugins
            .and_then(|plugins| plugins.file_of(function))
            .or_else(written)
            .unwrap_or_default()
    }

    /// Whether the outcomes fail the gate.
    pub fn fails(&self, outcomes: &[CheckOutcome]) -> bool {
        outcomes
            .iter()
            .flat_map(|o| &o.findings)
            .any(|finding| finding.severity.fails(self.options.strict))
    }

    /// The verdict of a step whose prerequisites hold, when no approval is
    /// recorded.
    pub fn verdict(&self, outcomes: &[CheckOutcome]) -> Verdict {
        match (self.fails(outcomes), self.step.gate) {
            (true, _) => Verdict::Failed,
            (false, Gate::Human) => Verdict::AwaitingApproval,
            (false, Gate::Automated) => Verdict::Passed,
        }
    }

    /// A result of this step with the texts its findings point into.
    pub fn result(
        &self,
        subject: Option<String>,
        verdict: Verdict,
        paths: IndexMap<String, String>,
        outcomes: Vec<CheckOutcome>,
        artifacts: &ArtifactSet,
    ) -> StepResult {
        StepResult {
            subject,
            step: self.step.id.clone(),
            verdict,
            artifacts: paths,
            sources: artifacts.sources(&outcomes),
            // Only a document this step reads makes the run unusable; a
            // broken file of another step is that step's business.
            unreadable: self
                .checks
                .iter()
                .filter_map(|check| check.artifact.as_deref())
                .any(|name| artifacts.all(name).any(|file| file.problem.is_some())),
            outcomes,
        }
    }

    /// `Some` when the check must not run: its `when:` is false (skipped) or
    /// cannot be evaluated (an error finding).
    fn when_outcome(&self, check: &Check, path: &str, context: &Value) -> Option<CheckOutcome> {
        let when = check.when.as_deref()?;
        let result = self
            .env()
            .compile_expression(when)
            .and_then(|expression| expression.eval(context));
        match result {
            Ok(value) if value.is_true() => None,
            Ok(_) => Some(skipped(check)),
            Err(error) => {
                let mut findings = Findings::new(check, path);
                findings.report(
                    Position::START,
                    format!(
                        "`when: {when}` cannot be evaluated: {}",
                        render::error_message(&error)
                    ),
                );
                Some(findings.finish())
            }
        }
    }

    fn apply_message(
        &self,
        template: &str,
        check: &Check,
        outcome: &mut CheckOutcome,
        base: &Value,
    ) {
        for finding in &mut outcome.findings {
            let context = context! {
                message => finding.message.clone(),
                captures => finding.captures.clone(),
                check => context! { id => check.id.clone(), artifact => check.artifact.clone() },
                ..base.clone()
            };
            match self.env().render_str(template, context) {
                Ok(message) => finding.message = message,
                Err(error) => {
                    finding.message = format!(
                        "{} (the check's `message:` template failed: {})",
                        finding.message,
                        render::error_message(&error)
                    )
                }
            }
        }
    }

    /// What `when:` and `message:` templates see; without a subject (the
    /// stateless mode) `subject` is none.
    fn context(&self, artifacts: &ArtifactSet, subject: Option<&SubjectView>) -> Value {
        let paths = &artifacts.paths;
        context! {
            playbook => context! { name => self.playbook.name.clone(), title => self.playbook.title.clone() },
            step => context! { id => self.step.id.clone(), title => self.step.title.clone() },
            subject => Value::from(minijinja::value::Serde(subject)),
            vars => Value::from(minijinja::value::Serde(&self.playbook.vars)),
            artifacts => Value::from(minijinja::value::Serde(paths)),
        }
    }
}

/// The files a stateless run checks, each found when its turn comes, by
/// the thread that checks it: a list of a hundred thousand names costs no
/// more than the names.
pub trait FileList: Sync {
    fn count(&self) -> usize;

    /// The path to read of the file at `index`.
    fn file(&self, index: usize) -> PathBuf;

    /// The path results show for the file at `index`, given its real path
    /// (links resolved) when reading it found it.
    fn shown(&self, index: usize, real: Option<&Path>) -> String;
}

impl FileList for [(PathBuf, String)] {
    fn count(&self) -> usize {
        self.len()
    }

    fn file(&self, index: usize) -> PathBuf {
        self[index].0.clone()
    }

    fn shown(&self, index: usize, _: Option<&Path>) -> String {
        self[index].1.clone()
    }
}

/// The stateless mode: each file is checked as one artifact of a step.
pub struct StatelessRun<'a> {
    runner: StepRunner<'a>,
    /// The artifact each file stands for.
    pub artifact: String,
    /// The folder every file must lie inside, when there is one.
    within: Option<crate::confined::Resolver>,
    /// Other artifacts, given with `--artifact-file`: read by the checks
    /// that need them (a `trace`, a plugin's `ctx:artifact`), not checked.
    supporting: Vec<(String, Arc<LoadedArtifact>)>,
    /// Counted only when one of the step's checks reads them.
    word_counts: WordCounts,
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
    #[error("--artifact-file {artifact}={path}: {why}")]
    ArtifactFile {
        artifact: String,
        path: String,
        why: String,
    },
}

impl<'a> StatelessRun<'a> {
    pub fn new(
        playbook: &'a Playbook,
        step_id: &str,
        artifact: Option<&str>,
        options: Options,
    ) -> Result<Self, RunError> {
        let step = playbook
            .steps
            .iter()
            .find(|step| step.id == step_id)
            .ok_or_else(|| RunError::UnknownStep {
                step: step_id.to_string(),
                known: join(playbook.steps.iter().map(|s| s.id.as_str())),
            })?;
        let runner = StepRunner::new(playbook, step, options);
        let artifact = match artifact {
            Some(name) if playbook.artifacts.contains_key(name) => name.to_string(),
            Some(name) => {
                return Err(RunError::UnknownArtifact {
                    artifact: name.to_string(),
                    known: join(playbook.artifacts.keys().map(String::as_str)),
                });
            }
            None => runner
                .checks
                .iter()
                .find_map(|check| check.artifact.clone())
                .ok_or_else(|| RunError::NoArtifact {
                    step: step_id.to_string(),
                })?,
        };
        let word_counts = if runner
            .checks
            .iter()
            .any(|check| check.kind.reads_word_counts())
        {
            WordCounts::Counted
        } else {
            WordCounts::Skipped
        };
        Ok(Self {
            runner,
            artifact,
            within: None,
            supporting: Vec::new(),
            word_counts,
        })
    }

    /// Gives the checks another artifact to read (`--artifact-file
    /// NAME=PATH`): a file that must exist and be readable, standing for
    /// an artifact of the playbook other than the one the files stand for.
    /// Call after [`Self::within`], so that it is read inside the root.
    pub fn with_artifact_file(
        mut self,
        name: &str,
        file: &Path,
        display: &str,
    ) -> Result<Self, RunError> {
        let refuse = |why: String| RunError::ArtifactFile {
            artifact: name.to_string(),
            path: display.to_string(),
            why,
        };
        if !self.runner.playbook.artifacts.contains_key(name) {
            return Err(refuse(format!(
                "the playbook has no artifact `{name}` (artifacts: {})",
                join(self.runner.playbook.artifacts.keys().map(String::as_str))
            )));
        }
        if name == self.artifact {
            return Err(refuse(format!(
                "the files checked already stand for `{name}`"
            )));
        }
        let loaded = self.load(file, display);
        match (&loaded.problem, loaded.artifact()) {
            (Some((why, _)), _) => return Err(refuse(why.clone())),
            (None, Artifact::Missing) => return Err(refuse("no such file".into())),
            _ => {}
        }
        self.supporting.retain(|(n, _)| n != name);
        self.supporting.push((name.to_string(), Arc::new(loaded)));
        Ok(self)
    }

    /// Loads a file named on the command line: inside the root, confined
    /// to it.
    fn load(&self, file: &Path, display: &str) -> LoadedArtifact {
        LoadedArtifact::from_read(self.read(file).0, display, self.word_counts)
    }

    /// The text of `file`, and its real path when resolving it inside the
    /// root found it there.
    fn read(&self, file: &Path) -> (Result<String, SourceError>, Option<PathBuf>) {
        match &self.within {
            Some(resolver) if crate::confined::written_inside_real(resolver.root(), file) => {
                match resolver.resolve(file) {
                    Ok(resolved) => (
                        resolved.read_text(MAX_DOCUMENT_BYTES),
                        resolved.existing().map(Path::to_path_buf),
                    ),
                    Err(error) => (Err(error.into()), None),
                }
            }
            _ => (source::read_text(file, MAX_DOCUMENT_BYTES), None),
        }
    }

    /// A file named inside `root` must stay inside it once its symbolic
    /// links are resolved, else it is unusable: a link in a repository
    /// cannot bring an outside file into the output. (A file named outside
    /// the root was meant to be checked, and is.)
    pub fn within(mut self, root: &Path) -> Self {
        // Its links resolved once, not again for every file.
        self.within = Some(crate::confined::Resolver::new(root));
        self
    }

    /// Runs `plugin:` checks with these plugins.
    pub fn with_plugins(mut self, plugins: &'a PluginSet) -> Self {
        self.runner = self.runner.with_plugins(plugins);
        self
    }

    /// Checks every file, in parallel, keeping the order given.
    pub fn check_files(&self, files: &[(PathBuf, String)]) -> Vec<StepResult> {
        self.check_files_in_order(files, &|| {}, |results| {
            results.map(Handed::into_inner).collect()
        })
    }

    /// Checks every file in parallel and gives `consume` the results in the
    /// order of `files`, each as soon as it and those before it are ready,
    /// so that they can be written out while later files are checked;
    /// `done` is called as each file is checked, from whichever thread
    /// checked it (a progress bar counts them). A result dropped by
    /// `consume` is freed by the thread that made it.
    pub fn check_files_in_order<R: Send>(
        &self,
        files: &(impl FileList + ?Sized),
        done: &(dyn Fn() + Sync),
        consume: impl for<'w> FnOnce(&mut dyn Iterator<Item = Handed<'w, StepResult>>) -> R + Send,
    ) -> R {
        // Before any document is read: the memory the regex compiler frees
        // is then reused by the documents' models, not taken anew.
        if files.count() > 0 {
            self.runner.compile_regexes();
        }
        crate::pool::map_in_order(
            files.count(),
            |index| {
                let (read, real) = self.read(&files.file(index));
                let result = self.check_read(read, &files.shown(index, real.as_deref()));
                done();
                result
            },
            consume,
        )
    }

    /// Checks one file as the step's primary artifact.
    pub fn check_file(&self, file: &Path, display: &str) -> StepResult {
        self.check_read(self.read(file).0, display)
    }

    fn check_read(&self, read: Result<String, SourceError>, display: &str) -> StepResult {
        // Taken before the text is parsed and held until its check is done,
        // so that the threads together hold no more than the budget; the
        // text alone is small beside the model parsed from it.
        let _permit =
            memory::SHARED.acquire(memory::estimate(read.as_ref().map_or(0, String::len)));
        self.check_loaded(LoadedArtifact::from_read(read, display, self.word_counts))
    }

    /// Checks text held in memory (an editor's buffer) as the step's
    /// primary artifact at `display`, exactly as [`Self::check_file`]
    /// checks a file.
    pub fn check_text(&self, text: String, display: &str) -> StepResult {
        self.check_loaded(LoadedArtifact::from_text(text, display, self.word_counts))
    }

    fn check_loaded(&self, loaded: LoadedArtifact) -> StepResult {
        let artifacts = ArtifactSet::single(
            &self.artifact,
            loaded,
            &self.supporting,
            self.within.as_ref().map(crate::confined::Resolver::root),
        );
        let outcomes = self.runner.run(&artifacts, None);
        let verdict = self.runner.verdict(&outcomes);
        let paths = artifacts.paths.clone();
        let mut result = self
            .runner
            .result(None, verdict, paths, outcomes, &artifacts);
        // A file named on the command line that is not there, or cannot be
        // read, is unusable input, unlike a subject's artifact that is not
        // written yet.
        result.unreadable |= artifacts
            .get(&self.artifact)
            .is_some_and(|a| a.problem.is_some() || matches!(a.artifact(), Artifact::Missing));
        result
    }
}

fn skipped(check: &Check) -> CheckOutcome {
    CheckOutcome {
        check: check.id.clone(),
        kind: check.kind.name(),
        status: CheckStatus::Skipped,
        findings: Vec::new(),
        evidence: Vec::new(),
        suppressed: Vec::new(),
        read: Vec::new(),
    }
}

fn join<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}
