//! `--format markdown` of `check` and `status` through the real binary, a
//! feature at each point of its way (failing, passing, awaiting approval,
//! approved then stale), and a summary of 10,000 findings kept under
//! GitHub's 1 MiB limit. The playbook is `tests/fixtures/subjects/`.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use harness::Project;
use tollgate::checks::{CheckOutcome, CheckStatus};
use tollgate::diagnostic::{Diagnostic, Position};
use tollgate::engine::{StepResult, Verdict};
use tollgate::report::{MARKDOWN_SIZE_LIMIT, check_markdown};

const SPEC: &str = "specs/f-11-vector-collector-service/spec.md";
const PLAN: &str = "specs/f-11-vector-collector-service/plan.md";

fn registered() -> Project {
    let project = Project::new();
    project
        .run(&["new", "F-11", "--title", "Vector Collector Service"])
        .expect(0);
    project
}

fn markdown(project: &Project, args: &[&str], code: i32) -> String {
    let mut args = args.to_vec();
    args.extend(["--format", "markdown"]);
    project.run(&args).expect(code).stdout
}

#[test]
fn a_failing_check_lists_its_findings_with_links() {
    let project = registered();
    project.place("spec-bad.md", SPEC);
    let summary = markdown(&project, &["check", "F-11"], 1);
    assert!(summary.contains(&format!("]({SPEC}#L")), "{summary}");
    insta::assert_snapshot!(summary);
}

#[test]
fn a_passing_check_is_a_table_alone() {
    let project = registered();
    project.place("spec-good.md", SPEC);
    let summary = markdown(&project, &["check", "F-11"], 0);
    assert!(summary.contains("✅ passed"), "{summary}");
    assert!(!summary.contains("###"), "{summary}");
    insta::assert_snapshot!(summary);
}

#[test]
fn a_human_gate_awaits_approval_in_the_status() {
    let project = registered();
    project.place("spec-good.md", SPEC);
    project.run(&["advance", "F-11"]).expect(0);
    project.place("plan-good.md", PLAN);
    let summary = markdown(&project, &["status"], 0);
    assert!(summary.contains("⏳ awaiting approval"), "{summary}");
    insta::assert_snapshot!(summary);
}

#[test]
fn a_changed_document_marks_its_approval_stale() {
    let project = registered();
    project.place("spec-good.md", SPEC);
    project.run(&["advance", "F-11"]).expect(0);
    project.place("plan-good.md", PLAN);
    project.run(&["approve", "F-11", "--by", "ana"]).expect(0);
    let plan = harness::fixture("documents/plan-good.md");
    project.write(PLAN, &format!("{plan}\nOne more idea.\n"));
    let summary = markdown(&project, &["status"], 0);
    assert!(summary.contains("ana (stale)"), "{summary}");
    insta::assert_snapshot!(summary);
}

#[test]
fn lint_refuses_the_markdown_format() {
    let project = Project::new();
    let run = project.run(&["lint", "--format", "markdown"]).expect(2);
    assert!(run.stderr.contains("lint has no markdown format"), "{run}");
}

/// A failing result of `n` findings, each with a long hostile message.
fn failing_result(subject: usize, n: usize) -> StepResult {
    let findings = (0..n)
        .map(|line| {
            Diagnostic::error(
                "long-check",
                format!("specs/f-{subject}/plan.md"),
                format!("finding {line}: <b>\"&'|</b> {}", "x".repeat(60)),
            )
            .at(Position {
                line: line + 1,
                column: 1,
            })
        })
        .collect();
    StepResult {
        subject: Some(format!("F-{subject}")),
        step: "plan".into(),
        verdict: Verdict::Failed,
        artifacts: Default::default(),
        outcomes: vec![CheckOutcome {
            check: "long-check".into(),
            kind: "pattern",
            status: CheckStatus::Failed,
            findings,
            evidence: Vec::new(),
            suppressed: Vec::new(),
            read: Vec::new(),
        }],
        sources: Vec::new(),
        unreadable: false,
    }
}

#[test]
fn ten_thousand_findings_stay_under_the_summary_limit_and_say_what_was_left_out() {
    let results: Vec<StepResult> = (0..100).map(|s| failing_result(s, 100)).collect();
    let summary = check_markdown("big", &results);
    assert!(summary.len() <= MARKDOWN_SIZE_LIMIT, "{}", summary.len());
    let shown = summary.matches("- **error**").count();
    assert!(shown > 1000 && shown < 10_000, "{shown} findings shown");
    let left_out = format!("**{} findings left out**", 10_000 - shown);
    assert!(
        summary.contains(&left_out),
        "{}",
        &summary[summary.len() - 300..]
    );
    // Every <details> opened is closed, however the text was cut.
    assert_eq!(
        summary.matches("<details>").count(),
        summary.matches("</details>").count()
    );
    assert!(!summary.contains("<b>"), "messages are escaped");
}

#[test]
fn findings_past_ten_are_folded() {
    let summary = check_markdown("small", &[failing_result(1, 12)]);
    let (shown, folded) = summary
        .split_once("<details><summary>2 more findings</summary>")
        .unwrap();
    assert_eq!(shown.matches("- **error**").count(), 10);
    assert_eq!(folded.matches("- **error**").count(), 2);
    assert!(folded.trim_end().ends_with("</details>"));
}
