//! The bundled `spec-dev-plan` and `spec-kit` playbooks on documents of
//! their own, through the real binary: the examples pass, and each fixture
//! of `tests/fixtures/spec-dev-plan/` and `tests/fixtures/spec-kit/` fails
//! (or warns) for the one defect it is named for. Every test asserts the
//! verdict and where each finding points, then snapshots the JSON findings.

use std::process::Command;

const SPEC_DEV: &str = "playbooks/spec-dev-plan.yaml";
const SPEC_KIT: &str = "playbooks/spec-kit.yaml";

/// `tollgate --playbook PLAYBOOK check --step STEP [--artifact A] FILE
/// --format json`, from the crate's folder: the one result.
fn check(playbook: &str, step: &str, artifact: Option<&str>, file: &str) -> serde_json::Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "--playbook",
            playbook,
            "--color",
            "never",
            "check",
            "--step",
            step,
        ])
        .args(["--format", "json"]);
    if let Some(artifact) = artifact {
        command.args(["--artifact", artifact]);
    }
    let output = command.arg(file).output().expect("the binary runs");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{file}: {}", String::from_utf8_lossy(&output.stderr)));
    let verdict = json["results"][0]["verdict"].as_str().unwrap_or_default();
    let failed = verdict == "failed";
    assert_eq!(output.status.code(), Some(i32::from(failed)), "{file}");
    json["results"][0].clone()
}

/// Each finding as `(check, severity, line, column)`.
fn places(result: &serde_json::Value) -> Vec<(String, String, u64, u64)> {
    result["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["check"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// Checks a document: its verdict, where each finding points, and (for a
/// fixture) a snapshot of the findings named for it.
fn assert_document(
    (playbook, step, artifact): (&str, &str, Option<&str>),
    file: &str,
    verdict: &str,
    expected: &[(&str, &str, u64, u64)],
) -> serde_json::Value {
    let result = check(playbook, step, artifact, file);
    assert_eq!(result["verdict"], verdict, "{file}: {result:#}");
    let expected: Vec<_> = expected
        .iter()
        .map(|&(c, s, l, col)| (c.to_string(), s.to_string(), l, col))
        .collect();
    assert_eq!(places(&result), expected, "{file}");
    if !expected.is_empty() {
        let name = file.rsplit('/').next().unwrap().trim_end_matches(".md");
        let folder = if playbook == SPEC_DEV {
            "spec-dev-plan"
        } else {
            "spec-kit"
        };
        insta::assert_json_snapshot!(format!("{folder}__{name}"), result["findings"]);
    }
    result
}

const PLAN: (&str, &str, Option<&str>) = (SPEC_DEV, "plan", None);

fn spec_dev_fixture(name: &str) -> String {
    format!("tests/fixtures/spec-dev-plan/{name}")
}

#[test]
fn spec_dev_plan_example_and_loose_headings_pass() {
    for file in [
        "examples/spec-dev-plan/active-plan.md".to_string(),
        spec_dev_fixture("plan-loose-headings.md"),
    ] {
        let result = assert_document(PLAN, &file, "awaiting_approval", &[]);
        assert_eq!(result["artifacts"]["plan"], file.as_str());
    }
}

#[test]
fn spec_dev_plan_gate_pass_with_an_open_box_fails_at_the_box() {
    let result = assert_document(
        PLAN,
        &spec_dev_fixture("plan-gate-pass-open-box.md"),
        "failed",
        &[("readiness-checklist", "error", 99, 3)],
    );
    let message = result["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("box not ticked: \"Telemetry"),
        "{message}"
    );
    assert!(message.contains("`Gate: PASS` needs"), "{message}");
}

#[test]
fn spec_dev_plan_declared_failure_fails_with_its_reason() {
    let result = assert_document(
        PLAN,
        &spec_dev_fixture("plan-gate-fail-declared.md"),
        "failed",
        &[
            ("readiness-checklist", "error", 99, 3),
            ("gate-not-failed", "error", 104, 1),
        ],
    );
    assert_eq!(
        result["findings"][1]["message"],
        "the plan declares its gate failed: the runbook for a stuck queue is not written yet"
    );
}

#[test]
fn spec_dev_plan_without_a_gate_line_fails_at_the_last_line() {
    assert_document(
        PLAN,
        &spec_dev_fixture("plan-gate-line-missing.md"),
        "failed",
        &[("gate-line", "error", 102, 1)],
    );
}

#[test]
fn spec_dev_plan_risks_need_every_area_and_every_cell() {
    assert_document(
        PLAN,
        &spec_dev_fixture("plan-risk-missing-security.md"),
        "failed",
        &[("risks-cover-areas", "error", 87, 1)],
    );
    assert_document(
        PLAN,
        &spec_dev_fixture("plan-risk-empty-owner.md"),
        "failed",
        &[("risks-register", "error", 90, 1)],
    );
}

#[test]
fn spec_dev_plan_sections_gaps_and_checklist_items_are_required() {
    assert_document(
        PLAN,
        &spec_dev_fixture("plan-section-missing-observability.md"),
        "failed",
        &[("plan-sections", "error", 1, 1)],
    );
    assert_document(
        PLAN,
        &spec_dev_fixture("plan-spec-gaps-empty-status.md"),
        "failed",
        &[("spec-gaps", "error", 11, 1)],
    );
    assert_document(
        PLAN,
        &spec_dev_fixture("plan-checklist-item-missing.md"),
        "failed",
        &[("readiness-checklist", "error", 94, 1)],
    );
}

#[test]
fn spec_dev_plan_opens_with_the_seeds_spec_sync_then_its_gaps() {
    // The example plan uses the seed's own heading, `Spec Gaps & Assumptions`.
    let text = std::fs::read_to_string("examples/spec-dev-plan/active-plan.md").unwrap();
    assert!(text.contains("\n## Spec Gaps & Assumptions\n"));
    assert_document(
        PLAN,
        &spec_dev_fixture("plan-spec-sync-without-metric.md"),
        "failed",
        &[("spec-sync-metric", "error", 2, 1)],
    );
    assert_document(
        PLAN,
        &spec_dev_fixture("plan-spec-sync-after-gaps.md"),
        "failed",
        &[("plan-opening", "error", 3, 1)],
    );
}

fn kit(
    step: &'static str,
    artifact: Option<&'static str>,
) -> (&'static str, &'static str, Option<&'static str>) {
    (SPEC_KIT, step, artifact)
}

fn spec_kit_fixture(name: &str) -> String {
    format!("tests/fixtures/spec-kit/{name}")
}

#[test]
fn spec_kit_examples_pass_each_step() {
    let constitution = "examples/spec-kit/constitution.md";
    assert_document(kit("constitution", None), constitution, "passed", &[]);
    // The spec keeps the template's headings verbatim, `*(mandatory)*` and all.
    let spec = "examples/spec-kit/spec.md";
    let text = std::fs::read_to_string(spec).unwrap();
    assert!(text.contains("## Requirements *(mandatory)*"));
    assert_document(kit("specify", Some("spec")), spec, "awaiting_approval", &[]);
    assert_document(kit("clarify", Some("spec")), spec, "passed", &[]);
    let plan = "examples/spec-kit/plan.md";
    let result = assert_document(kit("plan", None), plan, "awaiting_approval", &[]);
    // The plan mentions the marker in a sentence, which is not a placeholder.
    let text = std::fs::read_to_string(plan).unwrap();
    assert!(text.contains("no NEEDS CLARIFICATION marker"));
    assert_eq!(result["findings"], serde_json::json!([]));
    let tasks = "examples/spec-kit/tasks.md";
    assert_document(kit("tasks", None), tasks, "passed", &[]);
    assert_document(
        kit("implement", None),
        tasks,
        "failed",
        &[
            ("all-tasks-done", "error", 11, 3),
            ("all-tasks-done", "error", 12, 3),
        ],
    );
    assert_document(
        kit("implement", None),
        &spec_kit_fixture("tasks-all-done.md"),
        "passed",
        &[],
    );
}

#[test]
fn spec_kit_checklists_are_one_artifact_of_many_files() {
    // Stateless, each file given stands for the pattern artifact.
    assert_document(
        kit("implement", Some("checklists")),
        &spec_kit_fixture("checklist-open-item.md"),
        "failed",
        &[("checklists-done", "error", 15, 3)],
    );
}

#[test]
fn spec_kit_spec_mistakes_fail_at_their_line() {
    let result = assert_document(
        kit("specify", Some("spec")),
        &spec_kit_fixture("spec-brief-title-left.md"),
        "failed",
        &[("spec-template-values", "error", 11, 20)],
    );
    assert_eq!(
        result["findings"][0]["message"],
        "the template's [Brief Title] is left in the spec"
    );
    assert_document(
        kit("specify", Some("spec")),
        &spec_kit_fixture("spec-four-questions.md"),
        "failed",
        &[("spec-open-questions", "error", 27, 38)],
    );
    assert_document(
        kit("specify", Some("spec")),
        &spec_kit_fixture("spec-requirement-without-id.md"),
        "failed",
        &[("requirement-ids", "error", 25, 3)],
    );
    assert_document(
        kit("specify", Some("spec")),
        &spec_kit_fixture("spec-outcome-without-id.md"),
        "failed",
        &[("success-criteria-ids", "error", 32, 3)],
    );
    // Specs written before the template had Assumptions only warn.
    assert_document(
        kit("specify", Some("spec")),
        &spec_kit_fixture("spec-without-assumptions.md"),
        "awaiting_approval",
        &[("spec-assumptions", "warning", 1, 1)],
    );
}

#[test]
fn spec_kit_constitution_version_line_needs_iso_dates_or_a_deferral() {
    assert_document(
        kit("constitution", None),
        &spec_kit_fixture("constitution-version-dates.md"),
        "failed",
        &[("constitution-version", "error", 21, 22)],
    );
    assert_document(
        kit("constitution", None),
        &spec_kit_fixture("constitution-ratification-deferred.md"),
        "passed",
        &[],
    );
}

#[test]
fn spec_kit_constitution_template_values_are_reported_by_name() {
    let result = assert_document(
        kit("constitution", None),
        &spec_kit_fixture("constitution-template-values.md"),
        "failed",
        &[
            ("constitution-values", "error", 1, 3),
            ("constitution-values", "error", 13, 5),
            ("constitution-values", "error", 14, 1),
            ("constitution-values", "error", 21, 36),
        ],
    );
    assert_eq!(
        result["findings"][0]["message"],
        "the template value [PROJECT_NAME] is not replaced"
    );
}

#[test]
fn spec_kit_open_question_passes_specify_and_fails_clarify() {
    let file = spec_kit_fixture("spec-needs-clarification.md");
    assert_document(
        kit("specify", Some("spec")),
        &file,
        "awaiting_approval",
        &[],
    );
    // No `## Clarifications` is asked for: clarify may have had no question.
    assert_document(
        kit("clarify", Some("spec")),
        &file,
        "failed",
        &[("spec-questions-settled", "error", 26, 53)],
    );
}

#[test]
fn spec_kit_plan_fails_where_the_template_is_not_filled() {
    assert_document(
        kit("plan", None),
        &spec_kit_fixture("plan-needs-clarification.md"),
        "failed",
        &[("plan-clarified", "error", 20, 24)],
    );
    assert_document(
        kit("plan", None),
        &spec_kit_fixture("plan-template-header.md"),
        "failed",
        &[
            ("plan-template-values", "error", 1, 24),
            ("plan-template-values", "error", 3, 14),
            ("plan-template-values", "error", 3, 46),
        ],
    );
    assert_document(
        kit("plan", None),
        &spec_kit_fixture("plan-structure-options-left.md"),
        "failed",
        &[
            ("structure-chosen", "error", 50, 3),
            ("structure-chosen", "error", 59, 3),
        ],
    );
    assert_document(
        kit("plan", None),
        &spec_kit_fixture("plan-missing-technical-context.md"),
        "failed",
        &[("plan-sections", "error", 1, 1)],
    );
    assert_document(
        kit("plan", None),
        &spec_kit_fixture("plan-structure-decision-left.md"),
        "failed",
        &[("structure-decision", "error", 59, 25)],
    );
    assert_document(
        kit("plan", None),
        &spec_kit_fixture("plan-option-label-left.md"),
        "failed",
        &[("structure-chosen", "error", 50, 1)],
    );
}

#[test]
fn spec_kit_plan_with_an_open_constitution_gate_passes_with_a_warning() {
    let result = assert_document(
        kit("plan", None),
        &spec_kit_fixture("plan-constitution-gate-open.md"),
        "awaiting_approval",
        &[("constitution-gates-ticked", "warning", 32, 1)],
    );
    let message = result["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("a Constitution Check gate is not ticked: **III. Plain Files**"),
        "{message}"
    );
}

#[test]
fn spec_kit_tasks_follow_the_task_line_format() {
    assert_document(
        kit("tasks", None),
        &spec_kit_fixture("tasks-unnumbered.md"),
        "failed",
        &[
            ("task-lines", "error", 5, 7),
            ("task-lines", "error", 6, 7),
            ("task-lines", "error", 10, 7),
            ("task-lines", "error", 11, 7),
            ("task-lines", "error", 12, 7),
        ],
    );
    assert_document(
        kit("tasks", None),
        &spec_kit_fixture("tasks-without-story-label.md"),
        "failed",
        &[("task-lines", "error", 11, 7)],
    );
    assert_document(
        kit("tasks", None),
        &spec_kit_fixture("tasks-parallel-marker-malformed.md"),
        "failed",
        &[
            ("task-lines", "error", 6, 12),
            ("task-lines", "error", 12, 18),
        ],
    );
    assert_document(
        kit("tasks", None),
        &spec_kit_fixture("tasks-sample-left.md"),
        "failed",
        &[
            // The sample's entity, and its file named after it.
            ("tasks-template-values", "error", 12, 29),
            ("tasks-template-values", "error", 12, 59),
            ("tasks-template-values", "error", 16, 7),
        ],
    );
}

/// The text report of each spec-kit fixture that fails (or warns) for the
/// rule it is named for, as a person reads it.
#[test]
fn spec_kit_fixture_findings_as_text() {
    let cases: [(&str, Option<&str>, &str); 15] = [
        ("specify", Some("spec"), "spec-brief-title-left.md"),
        ("specify", Some("spec"), "spec-four-questions.md"),
        ("specify", Some("spec"), "spec-requirement-without-id.md"),
        ("specify", Some("spec"), "spec-outcome-without-id.md"),
        ("specify", Some("spec"), "spec-without-assumptions.md"),
        ("clarify", Some("spec"), "spec-needs-clarification.md"),
        ("plan", None, "plan-structure-decision-left.md"),
        ("plan", None, "plan-option-label-left.md"),
        ("tasks", None, "tasks-unnumbered.md"),
        ("tasks", None, "tasks-without-story-label.md"),
        ("tasks", None, "tasks-parallel-marker-malformed.md"),
        ("tasks", None, "tasks-sample-left.md"),
        ("constitution", None, "constitution-version-dates.md"),
        ("implement", Some("checklists"), "checklist-open-item.md"),
        ("implement", None, "tasks-all-done.md"),
    ];
    for (step, artifact, name) in cases {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
        command.current_dir(env!("CARGO_MANIFEST_DIR")).args([
            "--playbook",
            SPEC_KIT,
            "--color",
            "never",
            "check",
            "--step",
            step,
        ]);
        if let Some(artifact) = artifact {
            command.args(["--artifact", artifact]);
        }
        let output = command
            .arg(spec_kit_fixture(name))
            .output()
            .expect("the binary runs");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains(&format!("{name}: ")),
            "{name}: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        insta::assert_snapshot!(
            format!("spec-kit-text__{}", name.trim_end_matches(".md")),
            text
        );
    }
}
