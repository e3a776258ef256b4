//! Step documents and diagrams, through the real binary: `show` of each
//! kind of document (a template file that includes a partial, the built-in
//! one, inline instructions) without a subject, for a subject, and with the
//! results of a passing and a failing document; templates that must end in
//! an error (a file outside the playbook's folder, an undefined name,
//! endless recursion or work); and `graph` in both formats.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::{Project, Run};

const SPEC: &str = "specs/f-11-vector-collector-service/spec.md";
const PLAN: &str = "specs/f-11-vector-collector-service/plan.md";
const BAD_TEMPLATES: &str = "tests/fixtures/subjects/bad-templates/playbook.yaml";

/// F-11 registered, in `phase`, with no document written yet.
fn feature_in(phase: &str) -> Project {
    let project = Project::new();
    project
        .run(&["new", "F-11", "--title", "Vector Collector Service"])
        .expect(0);
    if phase != "draft" {
        project.place("spec-good.md", SPEC);
        project.run(&["advance", "F-11"]).expect(0);
        std::fs::remove_file(project.root().join(SPEC)).unwrap();
    }
    project
}

fn show(project: &Project, args: &[&str]) -> String {
    let mut all = vec!["show"];
    all.extend(args);
    project.run(&all).expect(0).stdout
}

#[test]
fn a_template_file_with_an_included_partial() {
    let project = feature_in("draft");
    insta::assert_snapshot!("specify", show(&project, &["specify"]));
    insta::assert_snapshot!(
        "specify_for_a_subject",
        show(&project, &["specify", "--subject", "F-11"])
    );
    project.place("spec-good.md", SPEC);
    let passing = show(
        &project,
        &["specify", "--subject", "F-11", "--with-results"],
    );
    assert!(
        passing.contains("- Requirements: ✅ lines 7-11\n"),
        "{passing}"
    );
    insta::assert_snapshot!("specify_passing", passing);
    project.place("spec-bad.md", SPEC);
    let failing = show(
        &project,
        &["specify", "--subject", "F-11", "--with-results"],
    );
    assert!(
        failing.contains("- Failure modes: ❌ missing section \"Failure modes\" (line 1)\n"),
        "{failing}"
    );
    insta::assert_snapshot!("specify_failing", failing);
}

#[test]
fn the_built_in_document() {
    let project = feature_in("specified");
    let generic = show(&project, &["plan"]);
    // Without a subject, paths stay templates and boxes stay empty.
    assert!(generic.contains("tollgate approve <id> --step plan --by <name>"));
    assert!(!generic.contains("[x]"));
    insta::assert_snapshot!("plan", generic);
    insta::assert_snapshot!(
        "plan_for_a_subject",
        show(&project, &["plan", "--subject", "F-11"])
    );
    project.place("spec-good.md", SPEC);
    project.place("plan-good.md", PLAN);
    let passing = show(&project, &["plan", "--subject", "F-11", "--with-results"]);
    assert!(
        passing.contains("| Failure modes | ✅ lines 11-13 |"),
        "{passing}"
    );
    assert!(passing.contains("**Verdict:** `awaiting_approval`"));
    insta::assert_snapshot!("plan_passing", passing);
    project.place("plan-bad.md", PLAN);
    let failing = show(&project, &["plan", "--subject", "F-11", "--with-results"]);
    assert!(
        failing.contains("| Failure modes | ❌ missing section \"Failure modes\" (line 1) |"),
        "{failing}"
    );
    insta::assert_snapshot!("plan_failing", failing);
}

#[test]
fn inline_instructions() {
    let project = feature_in("specified");
    insta::assert_snapshot!(show(&project, &["ship"]), @r"
    # Ship the feature

    Team Platform ships once the plan is approved.

    - notes-cover: Changes
    ");
    insta::assert_snapshot!(show(&project, &["ship", "--subject", "F-11", "--with-results"]), @r"
    # Ship F-11

    Team Platform ships once the plan is approved and `specs/f-11-vector-collector-service/release-notes.md` is written.

    - notes-cover: Changes → ❌ the file does not exist (line 1)

    Verdict: blocked
    ");
}

#[test]
fn show_refuses_what_it_cannot_render() {
    let project = feature_in("draft");
    let unknown_step = project.run(&["show", "review"]).expect(2);
    assert_eq!(
        unknown_step.stderr,
        "tollgate: the playbook has no step `review` (steps: specify, plan, ship)\n"
    );
    let unknown_subject = project.run(&["show", "plan", "--subject", "F-9"]).expect(2);
    assert_eq!(
        unknown_subject.stderr,
        "tollgate: no subject `F-9` is registered\n"
    );
    let results_of_nobody = project.run(&["show", "plan", "--with-results"]).expect(2);
    assert!(results_of_nobody.stderr.contains("--subject <ID>"));
}

/// `show STEP` on the playbook of broken templates.
fn show_broken(step: &str) -> Run {
    let project = Project::with_playbook(BAD_TEMPLATES);
    let run = project.run(&["show", step]).expect(2);
    assert!(run.stdout.is_empty(), "{run}");
    run
}

#[test]
fn a_template_cannot_include_a_file_outside_the_playbook_folder() {
    let run = show_broken("escape");
    assert_eq!(
        run.stderr,
        "tollgate: cannot render the step document: \
         tests/fixtures/subjects/bad-templates/escape.md.j2:3: \
         template `../secret.txt` is outside the playbook's folder\n"
    );
    assert!(!run.stderr.contains("launch date"));
}

#[cfg(unix)]
#[test]
fn a_template_cannot_leave_the_playbook_folder_through_a_symlink() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "the launch date").unwrap();
    let folder = tempfile::tempdir().unwrap();
    let playbook = folder.path().join("playbook.yaml");
    std::fs::write(
        &playbook,
        "tollgate: 1\nname: links\nphases: [{id: a}, {id: b}]\n\
         steps: [{id: s, from: a, to: b, document: link.md.j2}]\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        folder.path().join("link.md.j2"),
    )
    .unwrap();
    let project = Project::with_playbook(playbook.to_str().unwrap());
    let run = project.run(&["show", "s"]).expect(2);
    assert!(
        run.stderr
            .ends_with("link.md.j2: template `link.md.j2` is outside the playbook's folder\n"),
        "{run}"
    );
    assert!(!run.stdout.contains("launch date"));
}

#[test]
fn an_undefined_name_is_an_error_at_its_line() {
    let run = show_broken("undefined");
    assert_eq!(
        run.stderr,
        "tollgate: cannot render the step document: \
         tests/fixtures/subjects/bad-templates/undefined.md.j2:3: `step.owner` is undefined\n"
    );
}

#[test]
fn endless_templates_end_with_an_error() {
    let start = Instant::now();
    let recursion = show_broken("recursion");
    assert_eq!(
        recursion.stderr,
        "tollgate: cannot render the step document: \
         tests/fixtures/subjects/bad-templates/recursion.md.j2:2: recursion limit exceeded \
         (included from tests/fixtures/subjects/bad-templates/recursion.md.j2:2)\n"
    );
    let fuel = show_broken("fuel");
    assert_eq!(
        fuel.stderr,
        "tollgate: cannot render the step document: \
         step `fuel` instructions:2: engine ran out of fuel: a template may spend 1000000 \
         units, one per instruction and one per 64 bytes of text and lists it builds \
         (about 61 MiB)\n"
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn graphs_in_mermaid_and_dot() {
    let project = Project::new();
    let mermaid = project.run(&["graph"]).expect(0).stdout;
    assert_eq!(
        project
            .run(&["graph", "--format", "mermaid"])
            .expect(0)
            .stdout,
        mermaid
    );
    insta::assert_snapshot!(mermaid, @r#"
    flowchart LR
      p0["① draft"]
      p1["② specified"]
      p2["③ planned"]
      p3["④ done"]
      p0 -->|"specify"| p1
      p1 -->|"plan (human gate)"| p2
      p2 -->|"ship"| p3
    "#);
    insta::assert_snapshot!(project.run(&["graph", "--format", "dot"]).expect(0).stdout, @r#"
    digraph "subjects-demo" {
      rankdir=LR;
      node [shape=box];
      "draft" [label="① draft"];
      "specified" [label="② specified"];
      "planned" [label="③ planned"];
      "done" [label="④ done"];
      "draft" -> "specified" [label="specify"];
      "specified" -> "planned" [label="plan (human gate)", style=bold];
      "planned" -> "done" [label="ship"];
    }
    "#);
}

/// Phase ids that clash once `-` is dropped, a Mermaid keyword, and labels
/// with quotes and backslashes.
#[test]
fn graphs_of_awkward_names() {
    let folder = tempfile::tempdir().unwrap();
    let playbook = folder.path().join("playbook.yaml");
    std::fs::write(
        &playbook,
        r#"tollgate: 1
name: awkward
phases:
  - { id: a-b, label: 'the "first"' }
  - { id: a_b, label: 'C:\drafts' }
  - { id: end }
steps:
  - { id: one, from: a-b, to: a_b, gate: human }
  - { id: two, from: a_b, to: end }
"#,
    )
    .unwrap();
    let project = Project::with_playbook(playbook.to_str().unwrap());
    insta::assert_snapshot!(project.run(&["graph"]).expect(0).stdout, @r#"
    flowchart LR
      p0["the #quot;first#quot;"]
      p1["C:\drafts"]
      p2["end"]
      p0 -->|"one (human gate)"| p1
      p1 -->|"two"| p2
    "#);
    insta::assert_snapshot!(project.run(&["graph", "--format", "dot"]).expect(0).stdout, @r#"
    digraph "awkward" {
      rankdir=LR;
      node [shape=box];
      "a-b" [label="the \"first\""];
      "a_b" [label="C:\\drafts"];
      "end" [label="end"];
      "a-b" -> "a_b" [label="one (human gate)", style=bold];
      "a_b" -> "end" [label="two"];
    }
    "#);
}

#[test]
fn the_fixture_playbooks_load_and_the_good_one_lints_clean() {
    let project = Project::new();
    let run = project.run(&["lint"]).expect(0);
    assert_eq!(run.stdout, "0 errors, 0 warnings in 1 playbook\n");
}
