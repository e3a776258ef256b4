//! The step documents of the bundled `spec-dev-plan` and `spec-kit`
//! playbooks, through the real binary: every step without a subject, and
//! with the results of a feature that walks through the steps, from a
//! failing document to a passing one and its approval.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use harness::Project;

const SPEC_DEV: &str = "playbooks/spec-dev-plan.yaml";
const SPEC_KIT: &str = "playbooks/spec-kit.yaml";

/// A file of the crate, such as an example or a fixture.
fn read(relative: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn show(project: &Project, args: &[&str]) -> String {
    let mut all = vec!["show"];
    all.extend(args);
    project.run(&all).expect(0).stdout
}

#[test]
fn spec_dev_plan_step_document() {
    let project = Project::with_playbook(SPEC_DEV);
    project
        .run(&[
            "new",
            "NOTIFY-7",
            "--title",
            "Retry Queue for Outgoing Webhooks",
        ])
        .expect(0);
    let generic = show(&project, &["plan"]);
    for part in [
        "## Context\n- **Playbook:** Spec-Dev Plan Phase (v1.1)\n- **State Directory:** `.spec-dev/`",
        "## Objective",
        "## Prerequisites",
        "### 1. Check Current Status",
        "## Output",
        "## Gate: Human Approval",
        "## Next",
    ] {
        assert!(generic.contains(part), "{part}\n{generic}");
    }
    assert!(!generic.contains("[x]"), "{generic}");
    insta::assert_snapshot!("spec_dev_plan", generic);

    project.write(
        ".spec-dev/active-dev/active-spec.md",
        "# Spec\n\nRetries.\n",
    );
    let plan = ".spec-dev/active-dev/active-plan.md";
    project.write(
        plan,
        &read("tests/fixtures/spec-dev-plan/plan-gate-fail-declared.md"),
    );
    let args = ["plan", "--subject", "NOTIFY-7", "--with-results"];
    let failing = show(&project, &args);
    assert!(
        failing.contains("| `^Gate: FAIL\\s*[—–-]+\\s*(?P<reason>\\S.*)$` on the last line | ❌ the plan declares its gate failed: the runbook for a stuck queue is not written yet (line 104) |"),
        "{failing}"
    );
    assert!(failing.contains("**Verdict:** `failed`"), "{failing}");
    insta::assert_snapshot!("spec_dev_plan_failing", failing);

    project.write(plan, &read("examples/spec-dev-plan/active-plan.md"));
    let passing = show(&project, &args);
    assert!(passing.contains("| Risks Register |") || passing.contains("risks-register"));
    assert!(
        passing.contains("**Verdict:** `awaiting_approval`"),
        "{passing}"
    );
    assert!(!passing.contains('❌'), "{passing}");
    insta::assert_snapshot!("spec_dev_plan_passing", passing);
    project
        .run(&["approve", "NOTIFY-7", "--by", "ana"])
        .expect(0);
    assert_eq!(project_phase(&project, ".spec-dev", "NOTIFY-7"), "planned");
}

/// The phase a subject file records.
fn project_phase(project: &Project, state_dir: &str, id: &str) -> String {
    let file = project
        .root()
        .join(state_dir)
        .join(format!("subjects/{id}.json"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    json["phase"].as_str().unwrap_or_default().to_string()
}

#[test]
fn spec_kit_step_documents_from_constitution_to_implement() {
    let project = Project::with_playbook(SPEC_KIT);
    for step in [
        "constitution",
        "specify",
        "clarify",
        "plan",
        "tasks",
        "implement",
    ] {
        let generic = show(&project, &[step]);
        assert!(!generic.contains("{{"), "{generic}");
        assert!(
            !generic.lines().any(|l| l.starts_with("- [x]")),
            "{generic}"
        );
        assert!(
            generic.contains(&format!("### 2. Run `/speckit.{step}`")),
            "{generic}"
        );
        insta::assert_snapshot!(format!("spec_kit_{step}"), generic);
    }

    project
        .run(&["new", "001", "--title", "Offline Notes Sync"])
        .expect(0);
    let folder = "specs/001-offline-notes-sync";
    let results = |step: &str| show(&project, &[step, "--subject", "001", "--with-results"]);

    project.write(
        ".specify/memory/constitution.md",
        &read("examples/spec-kit/constitution.md"),
    );
    insta::assert_snapshot!("spec_kit_constitution_passing", results("constitution"));
    project.run(&["advance", "001"]).expect(0);

    let spec = format!("{folder}/spec.md");
    project.write(
        &spec,
        &read("tests/fixtures/spec-kit/spec-needs-clarification.md"),
    );
    let specify = results("specify");
    // The template's `*(mandatory)*` headings match, and the evidence says why.
    assert!(
        specify.contains("| User Scenarios & Testing | ✅ lines 9-19 (heading \"User Scenarios & Testing (mandatory)\": its annotation (mandatory) is ignored) |"),
        "{specify}"
    );
    insta::assert_snapshot!("spec_kit_specify_passing", specify);
    project.run(&["approve", "001", "--by", "ana"]).expect(0);

    // Clarify is optional: taken here, by name.
    let failing = results("clarify");
    assert!(
        failing.contains("❌ open question [NEEDS CLARIFICATION] remains: answer it and write the answer in its place (line 26)"),
        "{failing}"
    );
    insta::assert_snapshot!("spec_kit_clarify_failing", failing);
    project.write(&spec, &read("examples/spec-kit/spec.md"));
    insta::assert_snapshot!("spec_kit_clarify_passing", results("clarify"));
    project
        .run(&["advance", "001", "--step", "clarify"])
        .expect(0);
    // The clarified spec is reviewed again before planning.
    project
        .run(&["approve", "001", "--step", "specify", "--by", "ana"])
        .expect(0);

    let plan = format!("{folder}/plan.md");
    project.write(
        &plan,
        &read("tests/fixtures/spec-kit/plan-structure-options-left.md"),
    );
    let failing = results("plan");
    assert!(failing.contains("| plugin `code_labels.check` (section: Project Structure; labels: [REMOVE IF UNUSED]; patterns: ^%s*#%s*Option %d+:; why: keep the option chosen and delete the others) | ❌ template label \"[REMOVE IF UNUSED]\" remains in a code block; keep the option chosen and delete the others (line 50) (and 1 more) |"), "{failing}");
    insta::assert_snapshot!("spec_kit_plan_failing", failing);
    project.write(&plan, &read("examples/spec-kit/plan.md"));
    let passing = results("plan");
    assert!(
        passing.contains("| Technical Context | ✅ lines 12-25 |"),
        "{passing}"
    );
    insta::assert_snapshot!("spec_kit_plan_passing", passing);
    project.run(&["approve", "001", "--by", "bo"]).expect(0);

    let tasks = format!("{folder}/tasks.md");
    project.write(&tasks, &read("examples/spec-kit/tasks.md"));
    insta::assert_snapshot!("spec_kit_tasks_passing", results("tasks"));
    project.run(&["advance", "001"]).expect(0);

    insta::assert_snapshot!("spec_kit_implement_failing", results("implement"));
    project.write(&tasks, &read("tests/fixtures/spec-kit/tasks-all-done.md"));
    let done = results("implement");
    assert!(done.contains("**Verdict:** `passed`"), "{done}");
    insta::assert_snapshot!("spec_kit_implement_passing", done);
    project.run(&["advance", "001"]).expect(0);
    assert_eq!(
        project_phase(&project, ".specify/tollgate", "001"),
        "implement"
    );
}

#[test]
fn spec_kit_graph_draws_clarify_and_the_way_round_it_dashed() {
    let project = Project::with_playbook(SPEC_KIT);
    let mermaid = project.run(&["graph"]).expect(0).stdout;
    assert!(
        mermaid.contains("  p2 -.->|\"clarify (optional)\"| p3\n"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("  p2 -.->|\"plan (human gate), clarify skipped\"| p4\n"),
        "{mermaid}"
    );
    let dot = project.run(&["graph", "--format", "dot"]).expect(0).stdout;
    assert!(
        dot.contains("\"specify\" -> \"plan\" [label=\"plan (human gate), clarify skipped\", style=\"bold,dashed\"];"),
        "{dot}"
    );
}
