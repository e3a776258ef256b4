//! The commands that work on subjects: `new`, `status`, `show`, `check` of
//! subjects, `advance`, `approve`, and `graph` of the playbook.

use std::io::Write;

use clap::{Args, ValueEnum};

use super::{
    CheckArgs, Context, EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, Format, OptionsHere, check_output,
    complain, conclude, load_playbook, output_failed, print_json, print_text, say, write_results,
};
use crate::confined::Created;
use crate::engine::Options;
use crate::identity;
use crate::playbook::{LoadedPlaybook, graph};
use crate::pool::Handed;
use crate::project::{Project, ProjectError, SubjectStatus, Transition};
use crate::report::{Escaping, one_line};
use crate::scaffold::{self, ScaffoldError};
use crate::service::{self, ShowError};

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The subject's id, matching the playbook's `subject.id_pattern`
    pub id: String,
    /// A short title; with the id it makes the slug used in artifact paths
    #[arg(long, default_value = "")]
    pub title: String,
    /// Who registers it, for the history [default: git's user.name and user.email, else $USER]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// Do not write skeletons of the first step's missing documents
    #[arg(long)]
    pub no_scaffold: bool,
    #[command(flatten)]
    pub options: OptionsHere,
}

#[derive(Debug, Args)]
pub struct ScaffoldArgs {
    /// The subject whose documents to start
    pub id: String,
    /// The step whose documents to start [default: the subject's current step]
    #[arg(long, value_name = "STEP")]
    pub step: Option<String>,
    #[command(flatten)]
    pub options: OptionsHere,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this subject
    pub id: Option<String>,
    /// Output format: text is a table, JSON the subjects; SARIF, JUnit and
    /// GitHub carry the findings of each subject's next step, as `check` does
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub options: OptionsHere,
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
    #[command(flatten)]
    pub options: OptionsHere,
}

#[derive(Debug, Args)]
pub struct AdvanceArgs {
    pub id: String,
    /// The step to take [default: the subject's current step]; names an
    /// optional step to take it rather than skip it
    #[arg(long)]
    pub step: Option<String>,
    /// Who advances it, for the history [default: git's user.name and user.email, else $USER]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    #[command(flatten)]
    pub options: OptionsHere,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    pub id: String,
    /// The step to approve [default: the subject's current step]
    #[arg(long)]
    pub step: Option<String>,
    /// The approver, held to the step's `approval.from` [default: git's user.name and user.email]
    #[arg(long, value_name = "EMAIL")]
    pub by: Option<String>,
    /// Why, or what was reviewed
    #[arg(long)]
    pub note: Option<String>,
    #[command(flatten)]
    pub options: OptionsHere,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    pub id: String,
    /// The step whose gate to hold [default: the subject's current step]
    #[arg(long)]
    pub step: Option<String>,
    /// Who requests the changes, held to the step's `approval.from` [default: git's user.name and user.email]
    #[arg(long, value_name = "EMAIL")]
    pub by: Option<String>,
    /// What must change
    #[arg(long, required = true)]
    pub note: String,
    #[command(flatten)]
    pub options: OptionsHere,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
    #[command(flatten)]
    pub options: OptionsHere,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
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
        complain(format_args!("{error}"));
        EXIT_UNUSABLE
    })
}

pub(super) fn new(context: &Context, args: &NewArgs) -> i32 {
    with_project(context, context.options(), |project| {
        let record = project.register(
            &args.id,
            &args.title,
            &identity::actor(args.by.as_deref(), &project.root),
        )?;
        let next = project
            .current_step(&record)
            .map_or("none".to_string(), |s| format!("`{}`", s.id));
        let said = say(format_args!(
            "registered {} {} ({}) in phase `{}`; next step: {next}",
            project.loaded.playbook.subject.noun,
            record.id,
            record.slug,
            project.phase_label(&record.phase)
        ));
        match project.current_step(&record) {
            Some(step) if !args.no_scaffold => {
                write_skeletons(project, &record, step).map(|code| code.max(said))
            }
            _ => Ok(said),
        }
    })
}

pub(super) fn scaffold(context: &Context, args: &ScaffoldArgs) -> i32 {
    with_project(context, context.options(), |project| {
        let record = project.load(&args.id)?;
        let step = match &args.step {
            Some(step) => project.step(step)?,
            None => project
                .current_step(&record)
                .ok_or_else(|| ProjectError::NoStep {
                    id: record.id.clone(),
                    phase: record.phase.clone(),
                })?,
        };
        write_skeletons(project, &record, step)
    })
}

/// Writes the skeletons of `step`'s missing documents and says what was
/// written and what was left alone.
fn write_skeletons(
    project: &Project,
    record: &crate::state::SubjectRecord,
    step: &crate::playbook::Step,
) -> Result<i32, ProjectError> {
    let scaffolded = match scaffold::scaffold(project, record, step) {
        Ok(scaffolded) => scaffolded,
        Err(ScaffoldError::Project(error)) => return Err(error),
        Err(error) => {
            complain(format_args!("{error}"));
            return Ok(EXIT_UNUSABLE);
        }
    };
    let mut lines: Vec<String> = scaffolded
        .iter()
        .map(|file| match file.created {
            Created::Written => format!(
                "wrote {}: a skeleton of `{}` from the checks of step `{}`",
                file.path, file.artifact, step.id
            ),
            Created::AlreadyThere => format!("left {} alone: it exists", file.path),
        })
        .collect();
    if scaffolded.iter().any(|f| f.created == Created::Written) {
        lines.push(format!(
            "next: write the content under each heading, then `tollgate check {}`",
            record.id
        ));
    }
    if lines.is_empty() {
        return Ok(EXIT_OK);
    }
    Ok(say(format_args!("{}", lines.join("\n"))))
}

pub(super) fn status(context: &Context, args: &StatusArgs) -> i32 {
    with_project(context, context.options(), |project| {
        let (subjects, unusable) = service::status(project, args.id.as_deref())?;
        let written = match args.format {
            // Nothing usable: the errors say it all.
            _ if subjects.is_empty() && !unusable.is_empty() => Ok(()),
            Format::Json => print_json(&crate::report::status_json(
                &project.loaded.playbook.name,
                &subjects,
            )),
            Format::Text => write_status_table(
                project,
                &subjects,
                &mut Escaping::new(std::io::stdout().lock()),
            ),
            Format::Markdown => print_text(crate::report::status_markdown(
                &project.loaded.playbook.name,
                &subjects,
            )),
            findings => {
                let mut results = subjects
                    .into_iter()
                    .filter_map(|s| s.result)
                    .map(Handed::new);
                let name = &project.loaded.playbook.name;
                write_results(context, name, &mut results, findings, false)
            }
        };
        let code = output_failed(written).unwrap_or(EXIT_OK);
        Ok(code.max(complain_each(unusable)))
    })
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
            let approvals: Vec<String> = (s
                .gate
                .iter()
                .map(|gate| one_line(&gate.progress()).into_owned()))
            .chain(s.approvals.iter().map(|(a, stale)| {
                format!(
                    "{} by {}{}",
                    a.step,
                    one_line(&a.by),
                    if *stale { " (stale)" } else { "" }
                )
            }))
            .collect();
            [
                s.record.id.clone(),
                one_line(&s.record.title).into_owned(),
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
    with_project(
        context,
        context.options(),
        |project| match service::show_step(
            project,
            &args.step,
            args.subject.as_deref(),
            args.with_results,
        ) {
            Ok(document) => {
                let written =
                    Escaping::new(std::io::stdout().lock()).write_all(document.as_bytes());
                Ok(output_failed(written).unwrap_or(EXIT_OK))
            }
            Err(ShowError::Project(error)) => Err(error),
            Err(error) => {
                complain(format_args!("{error}"));
                Ok(EXIT_UNUSABLE)
            }
        },
    )
}

pub(super) fn check(
    context: &Context,
    loaded: &LoadedPlaybook,
    args: &CheckArgs,
    options: Options,
) -> i32 {
    let project = Project::new(&context.root, loaded, options);
    let ids = if args.all { &[][..] } else { &args.targets[..] };
    let mut to_check = match service::subjects_to_check(&project, ids, args.step.as_deref()) {
        Ok(to_check) => to_check,
        Err(error) => {
            complain(format_args!("{error}"));
            return EXIT_UNUSABLE;
        }
    };
    // Nothing usable: the errors say it all.
    if to_check.subjects.is_empty() && !to_check.unusable.is_empty() {
        return complain_each(to_check.unusable);
    }
    let (written, tally) = to_check.judge(&project, check_output(context, loaded, args));
    let code = conclude(written, tally, args, to_check.nothing_judged);
    code.max(complain_each(to_check.unusable))
}

/// Says why each subject could not be used: `EXIT_UNUSABLE` if any.
pub(super) fn complain_each(errors: impl IntoIterator<Item = impl std::fmt::Display>) -> i32 {
    let mut code = EXIT_OK;
    for error in errors {
        complain(format_args!("{error}"));
        code = EXIT_UNUSABLE;
    }
    code
}

pub(super) fn advance(context: &Context, args: &AdvanceArgs) -> i32 {
    with_project(context, context.options(), |project| {
        transition_outcome(
            context,
            project,
            "advanced",
            project.advance(
                &args.id,
                args.step.as_deref(),
                &identity::actor(args.by.as_deref(), &project.root),
            ),
        )
    })
}

pub(super) fn approve(context: &Context, args: &ApproveArgs) -> i32 {
    with_project(context, context.options(), |project| {
        let outcome = project.reviewer(args.by.as_deref()).and_then(|by| {
            project.approve(&args.id, args.step.as_deref(), &by, args.note.as_deref())
        });
        transition_outcome(context, project, "approved", outcome)
    })
}

pub(super) fn reject(context: &Context, args: &RejectArgs) -> i32 {
    with_project(context, context.options(), |project| {
        let outcome = project
            .reviewer(args.by.as_deref())
            .and_then(|by| project.reject(&args.id, args.step.as_deref(), &by, &args.note));
        transition_outcome(context, project, "rejected", outcome)
    })
}

/// Says where the subject went, or why it stayed, with the findings;
/// `action` ("advanced", "approved") names what did not happen.
fn transition_outcome(
    context: &Context,
    project: &Project,
    action: &str,
    outcome: Result<Transition, ProjectError>,
) -> Result<i32, ProjectError> {
    let outcome = match outcome {
        // A person the step's rule does not allow is refused, not an error.
        Err(
            refused @ (ProjectError::NotAllowed { .. } | ProjectError::AuthorMayNotApprove { .. }),
        ) => {
            complain(format_args!("{refused}"));
            return Ok(EXIT_FAILED);
        }
        other => other,
    };
    let (report, result) = service::transition_report(project, action, outcome)?;
    if !report.taken {
        let mut out = context.stdout();
        let written =
            crate::report::write_check_text(std::slice::from_ref(&result), false, &mut out);
        if let Some(code) = output_failed(written) {
            return Ok(code);
        }
        complain(format_args!("{}", report.message));
        return Ok(EXIT_FAILED);
    }
    Ok(say(format_args!("{}", report.message)))
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
    let written = Escaping::new(std::io::stdout().lock()).write_all(text.as_bytes());
    output_failed(written).unwrap_or(EXIT_OK)
}
