//! Budgets: templates that build more than they may end with the budget's
//! error at run time and are reported by `lint`; Lua's budget is in
//! `tests/lua.rs`.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::Project;

const BOMBS: &str = "tests/fixtures/budgets/template-bombs.yaml";

/// What every spent template says.
const BUDGET: &str = "engine ran out of fuel: a template may spend 1000000 units, one per \
                      instruction and one per 64 bytes of text and lists it builds (about 61 MiB)";

#[test]
fn a_step_document_that_builds_too_much_ends_with_the_budget() {
    let started = Instant::now();
    let project = Project::with_playbook(BOMBS);
    for step in ["indent", "doubling"] {
        let run = project.run(&["show", step]).expect(2);
        assert_eq!(
            run.stderr,
            format!(
                "tollgate: cannot render the step document: step `{step}` instructions:1: {BUDGET}\n"
            )
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_condition_or_message_that_builds_too_much_is_a_finding() {
    let project = Project::with_playbook(BOMBS);
    project.write("notes.md", "# Notes\n");
    let notes = project.root().join("notes.md");
    let notes = notes.to_str().unwrap();
    let run = project.run(&["check", "--step", "when", notes]).expect(1);
    assert!(
        run.stdout
            .contains(&format!("cannot be evaluated: {BUDGET}")),
        "{run}"
    );
    let run = project
        .run(&["check", "--step", "message", notes])
        .expect(1);
    assert!(
        run.stdout.contains(&format!(
            "(the check's `message:` template failed: {BUDGET})"
        )),
        "{run}"
    );
}

#[test]
fn an_artifact_path_that_builds_too_much_is_an_error() {
    let project = Project::with_playbook(BOMBS);
    let playbook = project.root().join("playbook.yaml");
    std::fs::write(
        &playbook,
        "tollgate: 1\nname: path-bomb\nphases: [{ id: a }, { id: b }]\n\
         artifacts: { doc: \"{{ 'x' | indent(9000000000) }}\" }\n\
         steps: [{ id: s, from: a, to: b, checks: [{ id: d, artifact: doc, exists: true }] }]\n",
    )
    .unwrap();
    let playbook = playbook.to_str().unwrap();
    let run = |args: &[&str]| {
        let child = project.command_for(playbook, args).spawn().unwrap();
        project.finish(child)
    };
    let run = run(&["new", "F-1", "--title", "x"]).expect(2);
    assert_eq!(run.stderr, format!("tollgate: artifact `doc`: {BUDGET}\n"));
}

#[test]
fn lint_reports_each_template_over_budget_where_it_is() {
    let project = Project::with_playbook(BOMBS);
    let run = project.run(&["lint"]).expect(1);
    assert_eq!(
        run.stdout.matches("error[template-budget]").count(),
        4,
        "{run}"
    );
    for at in ["15:29", "20:77", "28:23", "37:42"] {
        assert!(
            run.stdout.contains(&format!("template-bombs.yaml:{at}\n")),
            "at {at}: {run}"
        );
    }
}
