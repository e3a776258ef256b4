//! `tollgate board`: one self-contained HTML page of where every subject
//! stands. A column per phase in the playbook's order, a card per subject
//! that opens (native `<details>`, no script) to its findings and
//! approvals, the playbook's flow with each gate marked automated or human,
//! and a header with the playbook, commit, time and counts per verdict.
//!
//! The page is rendered by minijinja from `src/templates/board.html.j2`,
//! embedded in the binary, with HTML autoescaping on: titles, messages,
//! names and notes come from documents and people. It loads nothing from
//! elsewhere (inline CSS, no script, font or image), so it opens from disk,
//! from a CI artifact or from a static site alike.

use minijinja::value::Serde;
use minijinja::{AutoEscape, Value, context};
use serde::Serialize;

use super::Summary;
use crate::diagnostic::Severity;
use crate::engine::Verdict;
use crate::playbook::{Gate, Playbook};
use crate::project::SubjectStatus;
use crate::state::HistoryEvent;

const TEMPLATE: &str = include_str!("../templates/board.html.j2");

/// Fuel for each card, finding and history line the page shows, beyond a
/// template's own budget: some twenty times what one costs, so the budget
/// grows with the page and still bounds it.
const FUEL_PER_ITEM: u64 = 10_000;

/// What the page is drawn from besides the subjects: the commit it shows
/// (when the project is in git) and the time it was made.
pub struct BoardContext<'a> {
    pub commit: Option<&'a str>,
    pub generated_at: &'a str,
}

#[derive(Serialize)]
struct Column<'a> {
    id: &'a str,
    label: &'a str,
    cards: Vec<Card<'a>>,
}

#[derive(Serialize)]
struct Card<'a> {
    id: &'a str,
    title: &'a str,
    next_step: Option<&'a str>,
    verdict: &'static str,
    verdict_class: &'static str,
    approvals: Vec<ApprovalView<'a>>,
    /// Where the next step's human gate stands: "1 of 2 approvals".
    gate: Option<String>,
    last_change: Option<&'a HistoryEvent>,
    findings: Vec<FindingView<'a>>,
}

#[derive(Serialize)]
struct ApprovalView<'a> {
    step: &'a str,
    by: &'a str,
    at: &'a str,
    note: Option<&'a str>,
    stale: bool,
}

#[derive(Serialize)]
struct FindingView<'a> {
    severity: &'static str,
    check: &'a str,
    place: String,
    message: &'a str,
}

#[derive(Serialize)]
struct FlowStep<'a> {
    id: &'a str,
    title: Option<&'a str>,
    from: &'a str,
    to: &'a str,
    gate: &'static str,
    optional: bool,
}

/// The page for `subjects` (as `Project::status` judged them) and the
/// project's history, oldest first.
pub fn board_html(
    playbook: &Playbook,
    subjects: &[SubjectStatus],
    history: &[HistoryEvent],
    board: &BoardContext,
) -> Result<String, minijinja::Error> {
    let mut columns: Vec<Column> = playbook
        .phases
        .iter()
        .map(|phase| Column {
            id: &phase.id,
            label: phase.label(),
            cards: Vec::new(),
        })
        .collect();
    for subject in subjects {
        let card = card(subject, history);
        let phase = &subject.record.phase;
        match columns.iter_mut().find(|column| column.id == phase) {
            Some(column) => column.cards.push(card),
            // A subject in a phase the playbook no longer has still shows.
            None => columns.push(Column {
                id: phase,
                label: phase,
                cards: vec![card],
            }),
        }
    }
    let flow: Vec<FlowStep> = playbook
        .steps
        .iter()
        .map(|step| FlowStep {
            id: &step.id,
            title: step.title.as_deref(),
            from: label_of(playbook, &step.from),
            to: label_of(playbook, &step.to),
            gate: match step.gate {
                Gate::Automated => "automated",
                Gate::Human => "human",
            },
            optional: step.optional,
        })
        .collect();
    let summary = Summary::of(subjects.iter().filter_map(|s| s.result.as_ref()));
    let counts = [
        ("passed", summary.passed),
        ("failed", summary.failed),
        ("blocked", summary.blocked),
        ("awaiting approval", summary.awaiting_approval),
        ("done", summary.done),
        (
            "finished",
            subjects.iter().filter(|s| s.result.is_none()).count(),
        ),
    ];
    let items = subjects.len()
        + history.len()
        + subjects
            .iter()
            .filter_map(|s| s.result.as_ref())
            .map(|result| {
                result
                    .outcomes
                    .iter()
                    .map(|o| o.findings.len())
                    .sum::<usize>()
            })
            .sum::<usize>();
    let fuel = crate::render::FUEL
        .saturating_add(FUEL_PER_ITEM.saturating_mul(u64::try_from(items).unwrap_or(u64::MAX)));
    let mut env = crate::render::bounded(fuel);
    // The page's own template is written for minijinja's default, where an
    // absent optional field reads as empty.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("board.html", TEMPLATE)?;
    env.get_template("board.html")?.render(context! {
        playbook => playbook.title.as_deref().unwrap_or(&playbook.name),
        playbook_name => &playbook.name,
        commit => board.commit,
        generated_at => board.generated_at,
        noun => &playbook.subject.noun,
        subject_count => subjects.len(),
        counts => Value::from(Serde(counts)),
        columns => Value::from(Serde(&columns)),
        flow => Value::from(Serde(&flow)),
    })
}

fn label_of<'a>(playbook: &'a Playbook, phase: &'a str) -> &'a str {
    playbook
        .phases
        .iter()
        .find(|p| p.id == phase)
        .map_or(phase, |p| p.label())
}

fn card<'a>(subject: &'a SubjectStatus, history: &'a [HistoryEvent]) -> Card<'a> {
    let verdict = subject.result.as_ref().map(|r| r.verdict);
    let findings = subject
        .result
        .iter()
        .flat_map(|r| r.findings())
        .map(|finding| FindingView {
            severity: match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            },
            check: &finding.code,
            place: match finding.start {
                Some(start) => format!("{}:{}", finding.path, start.line),
                None => finding.path.clone(),
            },
            message: &finding.message,
        })
        .collect();
    Card {
        id: &subject.record.id,
        title: &subject.record.title,
        next_step: subject.next_step.as_deref(),
        verdict: match verdict {
            Some(Verdict::AwaitingApproval) => "awaiting approval",
            Some(verdict) => verdict.as_str(),
            None => "finished",
        },
        verdict_class: verdict.map_or("finished", Verdict::as_str),
        approvals: subject
            .approvals
            .iter()
            .map(|(approval, stale)| ApprovalView {
                step: &approval.step,
                by: &approval.by,
                at: &approval.at,
                note: approval.note.as_deref(),
                stale: *stale,
            })
            .collect(),
        gate: subject.gate.as_ref().map(|gate| gate.progress()),
        last_change: history
            .iter()
            .rev()
            .find(|event| event.subject == subject.record.id),
        findings,
    }
}
