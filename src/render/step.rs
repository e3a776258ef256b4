//! Step documents: the instructions a person or an agent follows for one
//! step, rendered from the playbook's template (or the built-in one) with
//! the playbook, the step, the subject and, when asked, the results of its
//! checks, so that each check line carries its verdict and evidence.

use std::path::Path;

use indexmap::IndexMap;
use minijinja::Environment;
use serde::Serialize;

use crate::checks::{CheckOutcome, CheckStatus};
use crate::engine::{StepResult, Verdict};
use crate::playbook::{Check, CheckKind, Gate, LoadedPlaybook, Requirement, Step};
use crate::suppress::Suppressed;

/// The built-in step document, used when a step has neither `document:`
/// nor `instructions:`.
const DEFAULT_TEMPLATE: &str = include_str!("../templates/step.md.j2");

/// Why a step document could not be rendered: the template and the line.
#[derive(Debug, thiserror::Error)]
#[error("{template}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct RenderError {
    pub template: String,
    pub line: Option<usize>,
    pub message: String,
}

/// The subject a document is rendered for.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectView {
    pub id: String,
    pub title: String,
    pub slug: String,
    pub phase: String,
    pub phase_label: String,
}

#[derive(Serialize)]
struct Context<'a> {
    playbook: PlaybookView<'a>,
    step: StepView<'a>,
    subject: Option<&'a SubjectView>,
    vars: &'a IndexMap<String, serde_json::Value>,
    artifacts: &'a IndexMap<String, String>,
    phases: Vec<PhaseView<'a>>,
    results: Option<ResultsView>,
}

#[derive(Serialize)]
struct PlaybookView<'a> {
    name: &'a str,
    title: Option<&'a str>,
    description: Option<&'a str>,
    state_dir: &'a str,
    noun: &'a str,
}

#[derive(Serialize)]
struct PhaseView<'a> {
    id: &'a str,
    label: &'a str,
}

#[derive(Serialize)]
struct StepView<'a> {
    id: &'a str,
    number: Option<u32>,
    title: Option<&'a str>,
    stage: Option<&'a str>,
    gate: &'static str,
    from: &'a str,
    from_label: &'a str,
    to: &'a str,
    to_label: &'a str,
    objective: Option<&'a str>,
    requires: Vec<String>,
    review: &'a [String],
    next: Option<&'a str>,
    /// Paths of the artifacts the step's checks read, in order.
    outputs: Vec<String>,
    checks: Vec<CheckView>,
}

#[derive(Serialize)]
struct CheckView {
    id: String,
    kind: &'static str,
    artifact: Option<String>,
    path: Option<String>,
    items: Vec<ItemView>,
}

/// One line of a check's table: what is required and, with results, how it
/// fared ("✅ lines 67-105").
#[derive(Serialize)]
struct ItemView {
    label: String,
    requirement: String,
    result: String,
}

#[derive(Serialize)]
struct ResultsView {
    verdict: Verdict,
    /// Every artifact the step checks exists.
    produced: bool,
    checks_passed: bool,
}

/// Renders the document of `step` for `subject` (or for no subject), with
/// `artifacts` resolved to paths and, when given, the step's results.
pub fn render(
    loaded: &LoadedPlaybook,
    step: &Step,
    subject: Option<&SubjectView>,
    artifacts: &IndexMap<String, String>,
    results: Option<&StepResult>,
) -> Result<String, RenderError> {
    let playbook = &loaded.playbook;
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
    let label = |phase: &str| -> String {
        playbook
            .phases
            .iter()
            .find(|p| p.id == phase)
            .map_or(phase, |p| p.label())
            .to_string()
    };
    let from_label = label(&step.from);
    let to_label = label(&step.to);
    let mut outputs: Vec<String> = Vec::new();
    for check in &checks {
        if let Some(path) = check.artifact.as_ref().and_then(|a| artifacts.get(a))
            && !outputs.contains(path)
        {
            outputs.push(path.clone());
        }
    }
    let context = Context {
        playbook: PlaybookView {
            name: &playbook.name,
            title: playbook.title.as_deref(),
            description: playbook.description.as_deref(),
            state_dir: &playbook.state_dir,
            noun: &playbook.subject.noun,
        },
        step: StepView {
            id: &step.id,
            number: step.number,
            title: step.title.as_deref(),
            stage: step.stage.as_deref(),
            gate: match step.gate {
                Gate::Automated => "automated",
                Gate::Human => "human",
            },
            from: &step.from,
            from_label: &from_label,
            to: &step.to,
            to_label: &to_label,
            objective: step.objective.as_deref(),
            requires: step
                .requires
                .iter()
                .map(|r| describe_requirement(r, artifacts))
                .collect(),
            review: &step.review,
            next: step.next.as_deref(),
            outputs,
            checks: checks
                .iter()
                .map(|check| check_view(check, artifacts, results))
                .collect(),
        },
        subject,
        vars: &playbook.vars,
        artifacts,
        phases: playbook
            .phases
            .iter()
            .map(|p| PhaseView {
                id: &p.id,
                label: p.label(),
            })
            .collect(),
        results: results.map(|r| ResultsView {
            verdict: r.verdict,
            produced: !r
                .outcomes
                .iter()
                .any(|o| o.kind == "exists" && o.status == CheckStatus::Failed),
            checks_passed: r.outcomes.iter().all(|o| o.status != CheckStatus::Failed),
        }),
    };
    let (name, source) = match (&step.document, &step.instructions) {
        (Some(file), _) => (file.clone(), None),
        (None, Some(inline)) => (
            format!("step `{}` instructions", step.id),
            Some(inline.as_str()),
        ),
        (None, None) => ("built-in step document".to_string(), Some(DEFAULT_TEMPLATE)),
    };
    let env = document_environment(loaded);
    let context = minijinja::Value::from(minijinja::value::Serde(&context));
    let rendered = match source {
        Some(source) => env.render_named_str(&name, source, context),
        None => env
            .get_template(&name)
            .and_then(|template| template.render(context)),
    };
    rendered.map_err(|error| {
        // Template files are named as they sit beside the playbook, so
        // that the message leads to them from wherever tollgate runs.
        let shown = |template: Option<&str>| {
            let template = template.unwrap_or(&name);
            if source.is_some() && template == name {
                name.clone()
            } else {
                Path::new(&loaded.display)
                    .with_file_name(template)
                    .to_string_lossy()
                    .replace('\\', "/")
            }
        };
        // An include wraps the error of the included template: the
        // innermost one names the line to fix.
        let mut innermost = &error;
        while let Some(inner) = std::error::Error::source(innermost)
            .and_then(|source| source.downcast_ref::<minijinja::Error>())
        {
            innermost = inner;
        }
        let mut message = innermost
            .detail()
            .map_or_else(|| innermost.kind().to_string(), str::to_string);
        if !std::ptr::eq(innermost, &error) {
            message.push_str(&format!(
                " (included from {}{})",
                shown(error.name()),
                error.line().map(|l| format!(":{l}")).unwrap_or_default()
            ));
        }
        RenderError {
            template: shown(innermost.name()),
            line: innermost.line(),
            message,
        }
    })
}

/// The environment of step documents: templates load only from the
/// playbook's folder, and `checkbox(x)` writes a task box.
fn document_environment(loaded: &LoadedPlaybook) -> Environment<'static> {
    let mut env = super::environment();
    let folder = loaded.folder().to_path_buf();
    env.set_loader(move |name| {
        let file = folder.join(name);
        // A symlink may lead out where the name stays inside. `join(".")`
        // because the folder of `playbook.yaml` is "", which does not
        // canonicalize; a file that does not exist is not found below.
        let leads_out = match (file.canonicalize(), folder.join(".").canonicalize()) {
            (Ok(real), Ok(root)) => !real.starts_with(root),
            _ => false,
        };
        if crate::playbook::lint::escapes(name) || leads_out {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("template `{name}` is outside the playbook's folder"),
            ));
        }
        match crate::init::read_playbook_file(&file, crate::playbook::lint::MAX_TEMPLATE_BYTES) {
            Ok(text) => Ok(Some(text)),
            Err(crate::source::SourceError::Io(error))
                if error.kind() == std::io::ErrorKind::NotFound =>
            {
                Ok(None)
            }
            Err(error) => Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("cannot read template `{name}`: {error}"),
            )),
        }
    });
    super::add_document_functions(&mut env);
    env
}

fn describe_requirement(requirement: &Requirement, artifacts: &IndexMap<String, String>) -> String {
    match requirement {
        Requirement::ArtifactExists(name) => match artifacts.get(name) {
            Some(path) => format!("`{path}` exists ({name})"),
            None => format!("the {name} exists"),
        },
        Requirement::Approved(step) => format!("step `{step}` is approved"),
    }
}

fn check_view(
    check: &Check,
    artifacts: &IndexMap<String, String>,
    results: Option<&StepResult>,
) -> CheckView {
    let outcome = results.and_then(|r| r.outcomes.iter().find(|o| o.check == check.id));
    let items = match &check.kind {
        CheckKind::Sections(spec) => spec
            .sections
            .iter()
            .map(|entry| {
                let quoted = format!("\"{}\"", entry.title);
                let result =
                    outcome.map(
                        |o| match o.evidence.iter().find(|e| e.label == entry.title) {
                            Some(e) => format!("✅ {}", lines(e.line, e.end_line)),
                            None => match o.findings.iter().find(|f| f.message.contains(&quoted)) {
                                Some(f) => format!(
                                    "❌ {} (line {})",
                                    f.message,
                                    f.start.map_or(1, |p| p.line)
                                ),
                                None => match o
                                    .suppressed
                                    .iter()
                                    .find(|s| s.finding.message.contains(&quoted))
                                {
                                    Some(s) => suppressed_summary(s),
                                    None => outcome_summary(o),
                                },
                            },
                        },
                    );
                ItemView {
                    label: entry.title.clone(),
                    requirement: "section present, not empty".into(),
                    result: result.unwrap_or_default(),
                }
            })
            .collect(),
        kind => vec![ItemView {
            label: requirement_label(kind),
            requirement: check.severity.as_str().to_string(),
            result: outcome.map(outcome_summary).unwrap_or_default(),
        }],
    };
    CheckView {
        id: check.id.clone(),
        kind: check.kind.name(),
        artifact: check.artifact.clone(),
        path: check
            .artifact
            .as_ref()
            .and_then(|a| artifacts.get(a))
            .cloned(),
        items,
    }
}

/// ` under "Heading"` when a check looks under a heading, else nothing.
fn under(heading: Option<&str>) -> String {
    heading
        .map(|heading| format!(" under \"{heading}\""))
        .unwrap_or_default()
}

fn requirement_label(kind: &CheckKind) -> String {
    match kind {
        CheckKind::Exists => "the file exists and is not empty".into(),
        CheckKind::Sections(_) => "sections".into(),
        CheckKind::Table(t) => format!(
            "a table{} with columns {}",
            under(t.under.as_deref()),
            t.columns.join(" / ")
        ),
        CheckKind::Checklist(c) => format!(
            "a task list{}{}",
            under(c.under.as_deref()),
            if c.all_checked {
                ", every box ticked"
            } else {
                ""
            }
        ),
        CheckKind::Pattern(p) => {
            use crate::playbook::{Expect, Scope};
            let what = match (p.scope, p.expect) {
                (Scope::LastLine, Expect::Match) => "last line matches",
                (Scope::LastLine, Expect::Absent) => "last line does not match",
                (Scope::Lines, Expect::Match) => "a line matching",
                (Scope::Lines, Expect::Absent) => "no line matching",
            };
            format!("{what} `{}`", p.regex)
        }
        CheckKind::Placeholders(markers) => format!("no placeholder left: {}", markers.join(", ")),
        CheckKind::Words(w) => format!(
            "word count{}{}",
            w.min.map(|m| format!(" at least {m}")).unwrap_or_default(),
            w.max.map(|m| format!(" at most {m}")).unwrap_or_default()
        ),
        CheckKind::Plugin { function, with } => {
            // What the plugin is told is what the reader must provide.
            let options: Vec<String> = with
                .as_object()
                .into_iter()
                .flatten()
                .map(|(key, value)| match value {
                    serde_json::Value::Array(items) => {
                        let items: Vec<String> = items.iter().map(plain).collect();
                        format!("{key}: {}", items.join(", "))
                    }
                    value => format!("{key}: {}", plain(value)),
                })
                .collect();
            if options.is_empty() {
                format!("plugin `{function}`")
            } else {
                format!("plugin `{function}` ({})", options.join("; "))
            }
        }
    }
}

/// A finding a directive suppressed, with the reason given.
fn suppressed_summary(suppressed: &Suppressed) -> String {
    format!(
        "🔇 {} (line {}), suppressed: {}",
        suppressed.finding.message,
        suppressed.finding.start.map_or(1, |p| p.line),
        suppressed.reason
    )
}

fn outcome_summary(outcome: &CheckOutcome) -> String {
    match (
        outcome.status,
        outcome.findings.first(),
        outcome.evidence.first(),
    ) {
        (CheckStatus::Skipped, ..) => "⏭ skipped".into(),
        (CheckStatus::Passed, _, _) if !outcome.suppressed.is_empty() => {
            suppressed_summary(&outcome.suppressed[0])
        }
        (CheckStatus::Failed, Some(f), _) => {
            let more = outcome.findings.len() - 1;
            let more = if more > 0 {
                format!(" (and {more} more)")
            } else {
                String::new()
            };
            format!(
                "❌ {} (line {}){more}",
                f.message,
                f.start.map_or(1, |p| p.line)
            )
        }
        (_, _, Some(e)) => format!("✅ {}: {}", e.label, lines(e.line, e.end_line)),
        _ => "✅ passed".into(),
    }
}

fn lines(start: usize, end: usize) -> String {
    if end > start {
        format!("lines {start}-{end}")
    } else {
        format!("line {start}")
    }
}

/// A JSON value as words: a string without its quotes.
fn plain(value: &serde_json::Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
}
