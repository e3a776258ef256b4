//! The bundled SpecFlow playbooks: the step documents of both gate
//! variants, the plan fixtures of `tests/fixtures/specflow/` judged by each,
//! and how `extends:` merges the automated variant over its base.

use std::path::Path;
use std::process::Command;

use tollgate::playbook::{Gate, LoadedPlaybook};

const HUMAN: &str = "playbooks/specflow.yaml";
const AUTOMATED: &str = "playbooks/specflow-automated.yaml";
const STEPS: [&str; 4] = ["specify", "plan", "tasks", "implement"];

fn tollgate(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("TOLLGATE_PLAYBOOK")
        .args(["--color", "never"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

fn load(path: &str) -> LoadedPlaybook {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    LoadedPlaybook::load(&file, path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_step_document_of_both_variants() {
    for (variant, playbook) in [("human", HUMAN), ("automated", AUTOMATED)] {
        for step in STEPS {
            let (code, document) = tollgate(&["--playbook", playbook, "show", step]);
            assert_eq!(code, Some(0), "{playbook} {step}");
            insta::assert_snapshot!(format!("{variant}-{step}"), document);
        }
    }
}

#[test]
fn the_plan_fixtures_under_each_gate() {
    let fixtures = [
        "tests/fixtures/specflow/plan-good.md",
        "tests/fixtures/specflow/plan-defective.md",
    ];
    for (variant, playbook, good_verdict) in [
        ("human", HUMAN, "awaiting_approval"),
        ("automated", AUTOMATED, "passed"),
    ] {
        let (code, good) = tollgate(&[
            "--playbook",
            playbook,
            "check",
            "--step",
            "plan",
            fixtures[0],
        ]);
        assert_eq!(code, Some(0), "{good}");
        assert!(
            good.contains(&format!("plan-good.md: {good_verdict}")),
            "{good}"
        );
        let (code, defective) = tollgate(&[
            "--playbook",
            playbook,
            "check",
            "--step",
            "plan",
            fixtures[1],
        ]);
        assert_eq!(code, Some(1));
        insta::assert_snapshot!(format!("{variant}-plan-defective"), defective);
    }
}

#[test]
fn the_automated_variant_overrides_only_the_plan_step() {
    let base = load(HUMAN);
    let variant = load(AUTOMATED);
    assert_eq!(variant.playbook.name, "specflow-automated");
    assert_eq!(variant.playbook.title, base.playbook.title);
    assert_eq!(variant.playbook.state_dir, ".maestro");
    let plan = variant
        .playbook
        .steps
        .iter()
        .position(|s| s.id == "plan")
        .unwrap();
    let step = &variant.playbook.steps[plan];
    assert_eq!(step.gate, Gate::Automated);
    assert!(step.review.is_empty());
    assert_eq!(step.requires, base.playbook.steps[plan].requires);
    let ids: Vec<&str> = variant
        .playbook
        .step_checks(plan)
        .into_iter()
        .map(|(_, check)| check.id.as_str())
        .collect();
    // Replaced in place, added at the end.
    assert_eq!(
        ids,
        [
            "plan-exists",
            "plan-covers",
            "pai-principles",
            "plan-no-markers",
            "failure-modes-mitigated"
        ]
    );
    for (index, step) in variant.playbook.steps.iter().enumerate() {
        if step.id != "plan" {
            assert_eq!(step.gate, base.playbook.steps[index].gate, "{}", step.id);
        }
    }
    // Each value is placed in the file it was written in.
    assert_eq!(variant.file_of(&format!("/steps/{plan}/gate")), AUTOMATED);
    assert_eq!(variant.file_of(&format!("/steps/{plan}/checks/0")), HUMAN);
    assert_eq!(
        variant.file_of(&format!("/steps/{plan}/checks/1")),
        AUTOMATED
    );
    assert_eq!(variant.file_of(&format!("/steps/{plan}/checks/2")), HUMAN);
    assert_eq!(variant.file_of("/phases/2"), HUMAN);
    assert_eq!(variant.file_of("/name"), AUTOMATED);
    let at = variant
        .position(&format!("/steps/{plan}/checks/2/id"))
        .unwrap();
    assert_eq!(
        variant
            .text_of(HUMAN)
            .lines()
            .nth(at.line - 1)
            .map(str::trim),
        Some("- id: pai-principles")
    );
}

#[test]
fn checks_are_removed_replaced_and_added_by_id_with_their_positions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("base")).unwrap();
    let base = [
        "tollgate: 1",
        "name: base",
        "phases: [{ id: a }, { id: b }]",
        "artifacts: { doc: doc.md }",
        "plugins: { p: ../plugins/p.lua }",
        "steps:",
        "  - id: write",
        "    from: a",
        "    to: b",
        "    checks:",
        "      - { id: one, artifact: doc, exists: true }",
        "      - { id: two, artifact: doc, words: { min: 1 } }",
        "      - { id: three, artifact: doc, placeholders: [TODO] }",
    ];
    let variant = [
        "extends: base/process.yaml",
        "steps:",
        "  - id: write",
        "    remove_checks: [one]",
        "    checks:",
        "      - { id: three, artifact: doc, placeholders: [TBD] }",
        "      - { id: four, artifact: doc, exists: true }",
    ];
    std::fs::write(dir.path().join("base/process.yaml"), base.join("\n")).unwrap();
    std::fs::write(dir.path().join("variant.yaml"), variant.join("\n")).unwrap();
    let loaded = LoadedPlaybook::load(&dir.path().join("variant.yaml"), "variant.yaml").unwrap();
    let checks = loaded.playbook.step_checks(0);
    let ids: Vec<&str> = checks.iter().map(|(_, c)| c.id.as_str()).collect();
    assert_eq!(ids, ["two", "three", "four"]);
    let files: Vec<&str> = (0..3)
        .map(|i| loaded.file_of(&format!("/steps/0/checks/{i}")))
        .collect();
    assert_eq!(files, ["base/process.yaml", "variant.yaml", "variant.yaml"]);
    assert_eq!(
        loaded.position("/steps/0/checks/0").map(|p| p.line),
        Some(12)
    );
    assert_eq!(
        loaded.position("/steps/0/checks/2").map(|p| p.line),
        Some(7)
    );
    // The base's plugin path, relative to the base, now reads from here.
    assert_eq!(loaded.playbook.plugins["p"], "plugins/p.lua");
}
