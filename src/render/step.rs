//! Step documents: the instructions a person or an agent follows for one
//! step, rendered from the playbook's template (or the built-in one) with
//! the playbook, the step, the subject and, when asked, the results of its
//! checks, so that each check line carries its verdict and evidence.

use std::path::Path;

use indexmap::IndexMap;
use minijinja::Environment;
use serde::Serialize;

use crate::checks::{CheckOutcome, CheckStatus};
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::{StepResult, Verdict};
use crate::playbook::{Check, CheckKind, Gate, LoadedPlaybook, Requirement, Step};
use crate::source::SourceError;
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
    /// The phases the step may be taken from: `from`, and those from which
    /// optional steps before it can be skipped.
    entry_phases: Vec<&'a str>,
    entry_labels: Vec<String>,
    /// A subject may skip this step.
    optional: bool,
    to: &'a str,
    to_label: &'a str,
    objective: Option<&'a str>,
    requires: Vec<String>,
    review: &'a [String],
    next: Option<&'a str>,
    /// The step that follows when `next` is optional and skipped.
    next_if_skipped: Option<&'a str>,
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
    /// Each request for changes that holds the human gate shut: who, when
    /// and what.
    changes_requested: Vec<String>,
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
    let entry_phases = playbook.entry_phases(step);
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
            entry_labels: entry_phases.iter().map(|phase| label(phase)).collect(),
            entry_phases,
            optional: step.optional,
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
            next_if_skipped: step
                .next
                .as_deref()
                .and_then(|next| playbook.steps.iter().find(|s| s.id == next))
                .filter(|next| next.optional)
                .and_then(|next| next.next.as_deref()),
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
            changes_requested: (r.outcomes.iter())
                .filter(|o| o.check == crate::project::CHANGES_REQUESTED)
                .flat_map(|o| o.findings.iter().map(|f| f.message.clone()))
                .collect(),
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
        let mut message = super::error_message(innermost);
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
        // `join(".")` because the folder of `playbook.yaml` is "", which
        // does not canonicalize.
        let within = folder.join(".");
        let outside = || {
            minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("template `{name}` is outside the playbook's folder"),
            )
        };
        if crate::confined::escapes(name) {
            return Err(outside());
        }
        let limit = crate::playbook::lint::MAX_TEMPLATE_BYTES;
        match crate::init::read_playbook_file_within(&within, Path::new(name), limit) {
            Ok(text) => Ok(Some(text)),
            Err(SourceError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(SourceError::Io(error)) if crate::confined::refusal(&error).is_some() => {
                Err(outside())
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
                            Some(e) => match &e.note {
                                Some(note) => format!("✅ {} ({note})", lines(e.line, e.end_line)),
                                None => format!("✅ {}", lines(e.line, e.end_line)),
                            },
                            None => match o.findings.iter().find(|f| f.message.contains(&quoted)) {
                                Some(f) => format!(
                                    "{} {} (line {})",
                                    mark(f),
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
        kind => {
            let (label, requirement) = requirement(kind);
            let requirement = match check.severity {
                Severity::Error => requirement,
                severity => format!("{requirement} (a {severity} only)"),
            };
            let whole = ItemView {
                label,
                requirement,
                result: outcome.map(outcome_summary).unwrap_or_default(),
            };
            // Each item a checklist must hold is a line of its own.
            let listed = match kind {
                CheckKind::Checklist(spec) => spec.items.as_slice(),
                _ => &[],
            };
            let items = listed.iter().map(|item| {
                let quoted = format!("\"{item}\"");
                ItemView {
                    label: item.clone(),
                    requirement: "an item of the task list".into(),
                    result: outcome
                        .map(
                            |o| match o.findings.iter().find(|f| f.message.contains(&quoted)) {
                                Some(f) => format!(
                                    "❌ {} (line {})",
                                    f.message,
                                    f.start.map_or(1, |p| p.line)
                                ),
                                None if o.status == CheckStatus::Skipped => "⏭ skipped".into(),
                                None => "✅ present".into(),
                            },
                        )
                        .unwrap_or_default(),
                }
            });
            std::iter::once(whole).chain(items).collect()
        }
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
fn under(heading: Option<&crate::playbook::Under>) -> String {
    heading
        .map(|heading| format!(" under \"{heading}\""))
        .unwrap_or_default()
}

/// What a check of this kind looks at, and what it requires of it: the
/// two columns of its row ("table under \"Risks\"", "columns Risk / Owner").
fn requirement(kind: &CheckKind) -> (String, String) {
    match kind {
        CheckKind::Exists => ("the file".into(), "exists and is not empty".into()),
        CheckKind::Sections(_) => ("sections".into(), "present, not empty".into()),
        CheckKind::Table(t) => (
            format!("a table{}", under(t.under.as_ref())),
            format!(
                "columns {}; at least {}",
                t.columns.join(" / "),
                crate::checks::count(t.min_rows, "row")
            ),
        ),
        CheckKind::Checklist(c) => (
            format!("a task list{}", under(c.under.as_ref())),
            if c.all_checked {
                "every box ticked".into()
            } else {
                "present".into()
            },
        ),
        CheckKind::Pattern(p) => {
            use crate::playbook::{Expect, Scope};
            let lines = match p.scope {
                Scope::LastLine => "the last line",
                Scope::Lines => "the lines",
            };
            let what = match (p.scope, p.expect) {
                (Scope::LastLine, Expect::Match) => "matches",
                (Scope::LastLine, Expect::Absent) => "does not match",
                (Scope::Lines, Expect::Match) => "one matches",
                (Scope::Lines, Expect::Absent) => "none matches",
            };
            (
                format!("`{}` on {lines}{}", p.regex, under(p.under.as_ref())),
                what.into(),
            )
        }
        CheckKind::Placeholders(markers) => (
            format!("placeholders {}", markers.join(", ")),
            "none left where a value belongs".into(),
        ),
        CheckKind::Words(w) => {
            let bounds: Vec<String> = (w.min.map(|m| format!("at least {m}")).into_iter())
                .chain(w.max.map(|m| format!("at most {m}")))
                .collect();
            (
                format!("word count{}", under(w.under.as_ref())),
                bounds.join(", "),
            )
        }
        CheckKind::Trace(t) => {
            let defining: Vec<String> = (t.defined_in.as_slice().iter())
                .map(|d| format!("{}{}", d.artifact, under(d.under.as_ref())))
                .collect();
            let rules: Vec<&str> = (t.defined.map(|_| "each defined one referenced").into_iter())
                .chain(t.referenced.map(|_| "each referenced one defined"))
                .collect();
            (
                format!(
                    "`{}`{} traced to {}",
                    t.id,
                    under(t.under.as_ref()),
                    defining.join(", ")
                ),
                if rules.is_empty() {
                    "counted".into()
                } else {
                    rules.join("; ")
                },
            )
        }
        CheckKind::Links(l) => (
            "links and images".into(),
            match l.external {
                crate::playbook::External::Allow => "each relative one resolves".into(),
                crate::playbook::External::Deny => {
                    "each relative one resolves; none to another site".into()
                }
            },
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
            let label = if options.is_empty() {
                format!("plugin `{function}`")
            } else {
                format!("plugin `{function}` ({})", options.join("; "))
            };
            (label, "finds nothing wrong".into())
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
        // A trace's counts say more than its first finding.
        (status, _, Some(e)) if outcome.kind == "trace" => {
            let worst = outcome.findings.iter().min_by_key(|f| f.severity);
            let mark = match status {
                CheckStatus::Failed => worst.map_or("❌", mark),
                _ => "✅",
            };
            format!("{mark} {}", e.label)
        }
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
                "{} {} (line {}){more}",
                mark(f),
                f.message,
                f.start.map_or(1, |p| p.line)
            )
        }
        (_, _, Some(e)) => format!("✅ {}: {}", e.label, lines(e.line, e.end_line)),
        _ => "✅ passed".into(),
    }
}

/// How a finding is marked: ❌ an error, ⚠️ a warning (which fails a gate
/// only with `--strict`), ℹ️ information.
fn mark(finding: &Diagnostic) -> &'static str {
    match finding.severity {
        Severity::Error => "❌",
        Severity::Warning => "⚠️",
        Severity::Info => "ℹ️",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::TemplateKind;

    /// The fields lint knows a step document's objects by are those its
    /// context has: each one is defined, and no other is.
    #[test]
    fn lint_knows_the_fields_of_the_document_context() {
        let mut uses = String::new();
        for root in ["playbook", "step", "subject", "results"] {
            let fields = TemplateKind::Document
                .fields(root)
                .expect("the root has fields");
            for field in fields {
                uses.push_str(&format!(
                    "{root}.{field}={{{{ {root}.{field} is defined }}}}\n"
                ));
            }
            uses.push_str(&format!("{root}.none={{{{ {root}.none is defined }}}}\n"));
        }
        let yaml = format!(
            "tollgate: 1\nname: fields\nphases: [{{id: a}}, {{id: b}}]\n\
             steps: [{{id: s, from: a, to: b, instructions: {uses:?}}}]\n"
        );
        let loaded = LoadedPlaybook::from_source(Path::new("p.yaml"), "p.yaml", yaml)
            .expect("the playbook loads");
        let subject = SubjectView {
            id: "F-1".into(),
            title: "T".into(),
            slug: "f-1-t".into(),
            phase: "a".into(),
            phase_label: "a".into(),
        };
        let result = StepResult {
            subject: Some("F-1".into()),
            step: "s".into(),
            verdict: Verdict::Passed,
            artifacts: IndexMap::new(),
            outcomes: Vec::new(),
            sources: Vec::new(),
            unreadable: false,
        };
        let step = &loaded.playbook.steps[0];
        let rendered = render(
            &loaded,
            step,
            Some(&subject),
            &IndexMap::new(),
            Some(&result),
        )
        .expect("the document renders");
        let lines: Vec<&str> = rendered.lines().filter(|line| line.contains('=')).collect();
        assert_eq!(lines.len(), uses.lines().count(), "{rendered}");
        for line in lines {
            let defined = !line.contains(".none=");
            let expected = if defined { "=True" } else { "=False" };
            assert!(line.ends_with(expected), "{line}");
        }
    }
}
