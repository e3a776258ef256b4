//! The bundled SpecFlow playbooks: the step documents of both gate
//! variants, the plan fixtures of `tests/fixtures/specflow/` judged by each,
//! and the automated variant merged over its base.

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
