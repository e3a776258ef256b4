//! The commands that work on subjects: `new`, `status`, `show`, `check` of
//! subjects, `advance`, `approve`, and `graph` of the playbook.

use std::io::Write;

use clap::{Args, ValueEnum};

use super::{
    CheckArgs, Context, EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, Format, load_playbook, output_failed,
    print_json, print_text, report_results, write_results,
};
use crate::engine::{Options, StepResult, Verdict};
use crate::playbook::{LoadedPlaybook, graph};
use crate::project::{Project, ProjectError, SubjectStatus};
use crate::render::step;

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The subject's id, matching the playbook's `subject.id_pattern`
    pub id: String,
    /// A short title; with the id it makes the slug used in artifact paths
    #[arg(long, default_value = "")]
    pub title: String,
    /// Who registers it, for the history [default: $USER]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this subject
    pub id: Option<String>,
    /// Output format: text is a table, JSON the subjects; SARIF, JUnit and
    /// GitHub carry the findings of each subject's next step, as `check` does
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The step whose document to render
    pub step: String,
    /// The subject to render it for
    #[arg(long, value_name = "ID")]
    pub subject: Option<String>,
    /// Run the step's checks and fill each line with its verdict and evidence
    #[arg(long, requires = "subject")]
    pub with_results: bool,
}

#[derive(Debug, Args)]
pub struct AdvanceArgs {
    pub id: String,
    /// The step to take [default: the subject's current step]; names an
    /// optional step to take it rather than skip it
    #[arg(long)]
    pub step: Option<String>,
    /// Who advances it, for the history [default: $USER]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    pub id: String,
    /// The step to approve [default: the subject's current step]
    #[arg(long)]
    pub step: Option<String>,
    /// The approver
    #[arg(long, value_name = "NAME", required = true)]
    pub by: String,
    /// Why, or what was reviewed
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

fn actor(by: Option<&str>) -> String {
    by.map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Runs `work` on the project of the context's playbook; errors are printed
/// and become exit 2.
pub(super) fn with_project(
    context: &Context,
    options: Options,
    work: impl FnOnce(&Project) -> Result<i32, ProjectError>,
) -> i32 {
    let loaded: LoadedPlaybook = match load_playbook(context) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let project = Project::new(&context.root, &loaded, options);
    work(&project).unwrap_or_else(|error| {
        eprintln!("tollgate: {error}");
        EXIT_UNUSABLE
    })
}

pub(super) fn new(context: &Context, args: &NewArgs) -> i32 {
    with_project(context, context.options(), |project| {
        let record = project.register(&args.id, &args.title, &actor(args.by.as_deref()))?;
        let next = project
            .current_step(&record)
            .map_or("none".to_string(), |s| format!("`{}`", s.id));
        println!(
            "registered {} {} ({}) in phase `{}`; next step: {next}",
            project.loaded.playbook.subject.noun,
            record.id,
            record.slug,
            project.phase_label(&record.phase)
        );
        Ok(EXIT_OK)
    })
}

pub(super) fn status(context: &Context, args: &StatusArgs) -> i32 {
    with_project(context, context.options(), |project| {
        let subjects = project.status(args.id.as_deref())?;
        let written = match args.format {
            Format::Json => print_json(&status_json(project, &subjects)),
            Format::Text => write_status_table(project, &subjects, &mut std::io::stdout().lock()),
            Format::Markdown => print_text(crate::report::status_markdown(
                &project.loaded.playbook.name,
                &subjects,
            )),
            findings => {
                let results: Vec<StepResult> =
                    subjects.into_iter().filter_map(|s| s.result).collect();
                let name = &project.loaded.playbook.name;
                write_results(context, name, &results, findings, false)
            }
        };
        Ok(output_failed(written).unwrap_or(EXIT_OK))
    })
}

fn status_json(project: &Project, subjects: &[SubjectStatus]) -> serde_json::Value {
    let subjects: Vec<serde_json::Value> = subjects
        .iter()
        .map(|s| {
            let approvals: Vec<serde_json::Value> = s
                .approvals
                .iter()
                .map(|(a, stale)| serde_json::json!({"step": a.step, "by": a.by, "at": a.at, "note": a.note, "stale": stale}))
                .collect();
            serde_json::json!({
                "id": s.record.id,
                "title": s.record.title,
                "slug": s.record.slug,
                "phase": s.record.phase,
                "phase_label": s.phase_label,
                "next_step": s.next_step,
                "verdict": s.result.as_ref().map(|r| r.verdict),
                "approvals": approvals,
            })
        })
        .collect();
    serde_json::json!({ "playbook": project.loaded.playbook.name, "subjects": subjects })
}

/// A table a person reads at a glance, columns padded to their widest cell.
fn write_status_table(
    project: &Project,
    subjects: &[SubjectStatus],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if subjects.is_empty() {
        let noun = &project.loaded.playbook.subject.noun;
        return writeln!(
            out,
            "no {noun} is registered yet; start one with `tollgate new ID --title TITLE`"
        );
    }
    let header = ["ID", "TITLE", "PHASE", "NEXT STEP", "VERDICT", "APPROVALS"].map(String::from);
    let rows: Vec<[String; 6]> = subjects
        .iter()
        .map(|s| {
            let approvals: Vec<String> = s
                .approvals
                .iter()
                .map(|(a, stale)| {
                    format!(
                        "{} by {}{}",
                        a.step,
                        a.by,
                        if *stale { " (stale)" } else { "" }
                    )
                })
                .collect();
            [
                s.record.id.clone(),
                s.record.title.clone(),
                s.phase_label.clone(),
                s.next_step.clone().unwrap_or_else(|| "—".into()),
                s.result
                    .as_ref()
                    .map_or("—", |r| r.verdict.as_str())
                    .to_string(),
                if approvals.is_empty() {
                    "—".into()
                } else {
                    approvals.join(", ")
                },
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell}{}", " ".repeat(width - cell.chars().count())))
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

pub(super) fn show(context: &Context, args: &ShowArgs) -> i32 {
    with_project(context, context.options(), |project| {
        let step = project.step(&args.step)?;
        let record = args
            .subject
            .as_deref()
            .map(|id| project.load(id))
            .transpose()?;
        let artifacts = match &record {
            Some(record) => project.artifact_paths(record)?,
            // Without a subject the paths stay templates: they say where documents go.
            None => project.loaded.playbook.artifacts.clone(),
        };
        let results = match (&record, args.with_results) {
            (Some(record), true) => Some(project.judge(record, step)?),
            _ => None,
        };
        let subject = record.as_ref().map(|r| project.subject_view(r));
        match step::render(
            project.loaded,
            step,
            subject.as_ref(),
            &artifacts,
            results.as_ref(),
        ) {
            Ok(document) => {
                let written = std::io::stdout().lock().write_all(document.as_bytes());
                Ok(output_failed(written).unwrap_or(EXIT_OK))
            }
            Err(error) => {
                eprintln!("tollgate: cannot render the step document: {error}");
                Ok(EXIT_UNUSABLE)
            }
        }
    })
}

pub(super) fn check(
    context: &Context,
    loaded: &LoadedPlaybook,
    args: &CheckArgs,
    options: Options,
) -> i32 {
    let project = Project::new(&context.root, loaded, options);
    let run = || -> Result<Vec<StepResult>, ProjectError> {
        let records = if args.all || args.targets.is_empty() {
            project.store.list()?
        } else {
            args.targets
                .iter()
                .map(|id| project.load(id))
                .collect::<Result<_, _>>()?
        };
        let mut results = Vec::new();
        for record in &records {
            let step = match &args.step {
                Some(step) => Some(project.step(step)?),
                None => project.current_step(record),
            };
            if let Some(step) = step {
                results.push(project.judge(record, step)?);
            }
        }
        Ok(results)
    };
    match run() {
        Ok(results) => report_results(context, loaded, &results, args),
        Err(error) => {
            eprintln!("tollgate: {error}");
            EXIT_UNUSABLE
        }
    }
}

pub(super) fn advance(context: &Context, args: &AdvanceArgs) -> i32 {
    with_project(context, context.options(), |project| {
        transition_outcome(
            context,
            project,
            "advanced",
            project.advance(&args.id, args.step.as_deref(), &actor(args.by.as_deref())),
        )
    })
}

pub(super) fn approve(context: &Context, args: &ApproveArgs) -> i32 {
    with_project(context, context.options(), |project| {
        let outcome = project.approve(
            &args.id,
            args.step.as_deref(),
            &args.by,
            args.note.as_deref(),
        );
        transition_outcome(context, project, "approved", outcome)
    })
}

/// Says where the subject went, or why it stayed, with the findings;
/// `action` ("advanced", "approved") names what did not happen.
fn transition_outcome(
    context: &Context,
    project: &Project,
    action: &str,
    outcome: Result<(StepResult, crate::state::SubjectRecord), ProjectError>,
) -> Result<i32, ProjectError> {
    match outcome {
        Ok((result, record)) => {
            println!(
                "{} {}: step `{}` {}; now in phase `{}`",
                project.loaded.playbook.subject.noun,
                record.id,
                result.step,
                result.verdict.as_str(),
                project.phase_label(&record.phase)
            );
            Ok(EXIT_OK)
        }
        Err(ProjectError::NotPassed { result, .. }) => {
            let mut out = context.stdout();
            let written =
                crate::report::write_check_text(std::slice::from_ref(&result), false, &mut out);
            if let Some(code) = output_failed(written) {
                return Ok(code);
            }
            let (id, step) = (result.subject.as_deref().unwrap_or_default(), &result.step);
            let why = match result.verdict {
                Verdict::AwaitingApproval => {
                    format!("awaits approval: `tollgate approve {id} --step {step} --by NAME`")
                }
                Verdict::Done => format!("is done: {id} is already past it"),
                Verdict::Failed => "failed".into(),
                verdict => format!("is {}", verdict.as_str()),
            };
            eprintln!("tollgate: {id} not {action}: step `{step}` {why}");
            Ok(EXIT_FAILED)
        }
        Err(error) => Err(error),
    }
}

pub(super) fn graph(context: &Context, args: &GraphArgs) -> i32 {
    let loaded = match load_playbook(context) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let text = match args.format {
        GraphFormat::Mermaid => graph::mermaid(&loaded.playbook),
        GraphFormat::Dot => graph::dot(&loaded.playbook),
    };
    output_failed(std::io::stdout().lock().write_all(text.as_bytes())).unwrap_or(EXIT_OK)
}
