//! The bundled `spec-dev-plan` and `spec-kit` playbooks on documents of
//! their own, through the real binary: the examples pass, and each fixture
//! of `tests/fixtures/spec-dev-plan/` and `tests/fixtures/spec-kit/` fails
//! (or warns) for the one defect it is named for, except the `raw-*`
//! spec-kit templates, which fail at every value they leave. Every test
//! asserts the verdict and where each finding points, then snapshots the
//! JSON findings.

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

/// Checked alone, without `--artifact-file spec=...`, the tasks step's
/// traces to the spec are skipped, each saying so: the findings of a tasks
/// file are `expected` and these.
fn traces_skipped(
    expected: &[(&'static str, &'static str, u64, u64)],
) -> Vec<(&'static str, &'static str, u64, u64)> {
    let mut all = expected.to_vec();
    for check in [
        "stories-have-tasks",
        "task-requirements-defined",
        "requirements-have-tasks",
    ] {
        all.push((check, "info", 1, 1));
    }
    all
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
    // Checked alone, its only findings say the traces to the spec were
    // skipped (the implement step below snapshots this file's findings).
    let result = check(SPEC_KIT, "tasks", None, tasks);
    assert_eq!(result["verdict"], "passed", "{result:#}");
    let skipped: Vec<_> = traces_skipped(&[])
        .into_iter()
        .map(|(c, s, l, col)| (c.to_string(), s.to_string(), l, col))
        .collect();
    assert_eq!(places(&result), skipped);
    // Given the spec, nothing is left to say.
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    let output = command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--playbook", SPEC_KIT, "check", "--step", "tasks", tasks])
        .args([
            "--artifact-file",
            &format!("spec={spec}"),
            "--format",
            "json",
        ])
        .output()
        .expect("the binary runs");
    let traced: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(traced["results"][0]["verdict"], "passed", "{traced:#}");
    assert_eq!(traced["results"][0]["findings"], serde_json::json!([]));
    assert_document(
        kit("implement", None),
        tasks,
        "failed",
        &[
            ("all-tasks-done", "error", 11, 3),
            ("all-tasks-done", "error", 12, 3),
            ("all-tasks-done", "error", 16, 3),
            ("all-tasks-done", "error", 17, 3),
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
        &traces_skipped(&[
            ("task-lines", "error", 5, 7),
            ("task-lines", "error", 6, 7),
            ("task-lines", "error", 10, 7),
            ("task-lines", "error", 11, 7),
            ("task-lines", "error", 12, 7),
        ]),
    );
    assert_document(
        kit("tasks", None),
        &spec_kit_fixture("tasks-without-story-label.md"),
        "failed",
        &traces_skipped(&[("task-lines", "error", 11, 7)]),
    );
    assert_document(
        kit("tasks", None),
        &spec_kit_fixture("tasks-parallel-marker-malformed.md"),
        "failed",
        &traces_skipped(&[
            ("task-lines", "error", 6, 12),
            ("task-lines", "error", 12, 18),
        ]),
    );
    assert_document(
        kit("tasks", None),
        &spec_kit_fixture("tasks-sample-left.md"),
        "failed",
        &traces_skipped(&[
            // The sample's entity, and its file named after it.
            ("tasks-template-values", "error", 12, 29),
            ("tasks-template-values", "error", 12, 59),
            ("tasks-template-values", "error", 16, 7),
        ]),
    );
}

/// `(check, severity, line, column)` for each place, in order.
fn at(
    check: &'static str,
    severity: &'static str,
    places: &[(u64, u64)],
) -> Vec<(&'static str, &'static str, u64, u64)> {
    places
        .iter()
        .map(|&(line, column)| (check, severity, line, column))
        .collect()
}

// The `raw-*-template.md` fixtures are spec-kit 1.0's templates as an
// author receives them: each template's headings verbatim and its bracketed
// values, markers and sample ids where the template puts them, with filler
// of our own for its guidance. Each fails at every value it leaves. Values
// inside code blocks (the documentation tree's `specs/[###-feature]/`) are
// not looked at: filled plans keep that tree as it is.

#[test]
fn spec_kit_raw_constitution_template_fails_at_every_value() {
    // The version line holds three values, each reported where it stands.
    let places = [
        (1, 3),
        (6, 5),
        (8, 1),
        (11, 5),
        (13, 1),
        (16, 5),
        (18, 1),
        (21, 5),
        (23, 1),
        (26, 5),
        (28, 1),
        (31, 4),
        (34, 1),
        (37, 4),
        (40, 1),
        (46, 1),
        (49, 14),
        (49, 53),
        (49, 93),
    ];
    assert_document(
        kit("constitution", None),
        &spec_kit_fixture("raw-constitution-template.md"),
        "failed",
        &at("constitution-values", "error", &places),
    );
}

#[test]
fn spec_kit_raw_spec_template_fails_at_every_value_and_question() {
    let file = spec_kit_fixture("raw-spec-template.md");
    // Each acceptance scenario leaves three values on its line; an entity
    // leaves its name and what it represents.
    let values = at(
        "spec-template-values",
        "error",
        &[
            (1, 26),
            (3, 22),
            (5, 14),
            (9, 31),
            (17, 20),
            (19, 1),
            (21, 24),
            (23, 23),
            (27, 14),
            (27, 40),
            (27, 59),
            (28, 14),
            (28, 40),
            (28, 59),
            (32, 20),
            (34, 1),
            (36, 24),
            (38, 23),
            (42, 14),
            (42, 40),
            (42, 59),
            (46, 20),
            (48, 1),
            (50, 24),
            (52, 23),
            (56, 14),
            (56, 40),
            (56, 59),
            (60, 1),
            (68, 11),
            (69, 11),
            (79, 27),
            (80, 27),
            (81, 37),
            (82, 27),
            (83, 27),
            (85, 1),
            (92, 5),
            (92, 19),
            (93, 5),
            (93, 19),
            (103, 15),
            (104, 15),
            (105, 15),
            (106, 15),
            (114, 3),
            (115, 3),
            (116, 3),
            (117, 3),
        ],
    );
    // specify lets its two example questions stand (at most three)...
    assert_document(kit("specify", Some("spec")), &file, "failed", &values);
    // ...which clarify does not.
    let mut clarify = at("spec-questions-settled", "error", &[(87, 39), (88, 41)]);
    clarify.extend(values);
    let result = check(SPEC_KIT, "clarify", Some("spec"), &file);
    assert_eq!(result["verdict"], "failed");
    let expected: Vec<_> = clarify
        .iter()
        .map(|&(c, s, l, col)| (c.to_string(), s.to_string(), l, col))
        .collect();
    assert_eq!(places(&result), expected);
}

#[test]
fn spec_kit_raw_plan_template_fails_at_every_value() {
    let mut expected = at(
        "plan-clarified",
        "error",
        &[
            (17, 44),
            (19, 49),
            (23, 38),
            (25, 43),
            (27, 45),
            (29, 58),
            (31, 53),
            (33, 52),
        ],
    );
    // Storage is the one Technical Context field without the marker.
    expected.extend(at(
        "plan-template-values",
        "error",
        &[
            (1, 24),
            (3, 14),
            (3, 46),
            (3, 65),
            (5, 47),
            (9, 1),
            (21, 14),
            (39, 1),
        ],
    ));
    expected.extend(at("structure-decision", "error", &[(70, 25)]));
    expected.extend(at(
        "structure-chosen",
        "error",
        &[(57, 3), (61, 3), (65, 3)],
    ));
    expected.extend(at(
        "complexity-examples",
        "warning",
        &[
            (17, 23),
            (19, 27),
            (23, 14),
            (25, 22),
            (27, 19),
            (79, 3),
            (80, 3),
        ],
    ));
    assert_document(
        kit("plan", None),
        &spec_kit_fixture("raw-plan-template.md"),
        "failed",
        &expected,
    );
}

#[test]
fn spec_kit_raw_tasks_template_fails_at_every_sample_value() {
    // A sample task names its entity, service or endpoint and the file
    // named after it: two or three values on one line, each reported.
    let places = [
        (6, 10),
        (8, 42),
        (34, 19),
        (34, 43),
        (56, 28),
        (58, 11),
        (60, 23),
        (66, 27),
        (66, 61),
        (67, 27),
        (67, 68),
        (71, 29),
        (71, 53),
        (72, 29),
        (72, 53),
        (73, 24),
        (73, 50),
        (74, 24),
        (74, 50),
        (74, 61),
        (82, 28),
        (84, 11),
        (86, 23),
        (90, 27),
        (90, 61),
        (91, 27),
        (91, 68),
        (95, 29),
        (95, 52),
        (96, 24),
        (96, 50),
        (97, 24),
        (97, 50),
        (97, 61),
        (104, 28),
        (106, 11),
        (108, 23),
        (112, 27),
        (112, 61),
        (113, 27),
        (113, 68),
        (117, 29),
        (117, 52),
        (118, 24),
        (118, 50),
        (119, 24),
        (119, 50),
        (119, 61),
        (125, 1),
        (133, 7),
        (134, 7),
        (135, 7),
        (136, 7),
        (137, 7),
        (138, 7),
    ];
    assert_document(
        kit("tasks", None),
        &spec_kit_fixture("raw-tasks-template.md"),
        "failed",
        &traces_skipped(&at("tasks-template-values", "error", &places)),
    );
}

#[test]
fn spec_kit_raw_checklist_template_fails_at_every_value_and_open_item() {
    let mut expected = at(
        "checklists-done",
        "error",
        &[(17, 3), (18, 3), (19, 3), (23, 3), (24, 3), (25, 3)],
    );
    expected.extend(at(
        "checklist-template-values",
        "error",
        &[(1, 3), (1, 31), (3, 14), (4, 14), (5, 14), (15, 4), (21, 4)],
    ));
    assert_document(
        kit("implement", Some("checklists")),
        &spec_kit_fixture("raw-checklist-template.md"),
        "failed",
        &expected,
    );
}

/// The text report of each spec-kit fixture that fails (or warns) for the
/// rule it is named for, as a person reads it.
#[test]
fn spec_kit_fixture_findings_as_text() {
    let cases: [(&str, Option<&str>, &str); 20] = [
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
        ("constitution", None, "raw-constitution-template.md"),
        ("specify", Some("spec"), "raw-spec-template.md"),
        ("plan", None, "raw-plan-template.md"),
        ("tasks", None, "raw-tasks-template.md"),
        ("implement", Some("checklists"), "raw-checklist-template.md"),
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
