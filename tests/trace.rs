//! Across documents, through the real binary: the `trace` kind (a spec's
//! requirements traced to tasks and back, findings located in both files),
//! the `links` kind, `--artifact-file` in the stateless mode, SARIF
//! `relatedLocations`, a subject whose spec and tasks disagree, and the
//! counts a step document shows. The playbook is `tests/fixtures/trace/`.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use std::path::Path;
use std::process::Command;

use harness::Project;

const PLAYBOOK: &str = "tests/fixtures/trace/playbook.yaml";
const SPEC: &str = "tests/fixtures/trace/spec.md";
const DISAGREE: &str = "tests/fixtures/trace/tasks-disagree.md";

/// `tollgate --playbook PLAYBOOK check ARGS` from the crate's folder: the
/// exit code and the output.
fn check(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("TOLLGATE_PLAYBOOK")
        .args(["--playbook", PLAYBOOK, "--color", "never", "check"])
        .args(args)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        output.status.code(),
        String::from_utf8(output.stdout).expect("UTF-8") + &stderr,
    )
}

fn json(args: &[&str]) -> serde_json::Value {
    let (_, out) = check(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Each finding as `(check, severity, path, line, column)`.
fn places(result: &serde_json::Value) -> Vec<(String, String, String, u64, u64)> {
    result["results"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn place(
    check: &str,
    severity: &str,
    path: &str,
    line: u64,
    column: u64,
) -> (String, String, String, u64, u64) {
    (check.into(), severity.into(), path.into(), line, column)
}

#[test]
fn a_trace_reports_each_end_in_its_own_file() {
    let spec_file = format!("spec={SPEC}");
    let args = ["--step", "tasks", DISAGREE, "--artifact-file", &spec_file];
    let (code, text) = check(&args);
    assert_eq!(code, Some(1), "{text}");
    insta::assert_snapshot!("trace_disagree_text", text);

    let result = json(&[&args[..], &["--format", "json"]].concat());
    // FR-002 defined twice (a warning at the second), never referenced (at
    // its definition, in the spec); FR-007 referenced, never defined (at the
    // reference, in the tasks). Code and comments count on neither side.
    assert_eq!(
        places(&result),
        vec![
            place("requirements-traced", "warning", SPEC, 8, 5),
            place("requirements-traced", "error", SPEC, 6, 5),
            place("requirements-traced", "error", DISAGREE, 4, 58),
            // The plugin compared the tasks with the spec it was given too.
            place("entities-in-tasks", "error", DISAGREE, 1, 1),
        ]
    );
    insta::assert_json_snapshot!("trace_disagree_json", result["results"][0]["findings"]);
}

#[test]
fn a_trace_without_its_other_artifact_is_skipped_saying_how_to_give_it() {
    let (code, text) = check(&["--step", "tasks", DISAGREE]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("add --artifact-file spec=PATH"),
        "the note says how to give the spec: {text}"
    );
    let result = json(&["--step", "tasks", DISAGREE, "--format", "json"]);
    assert_eq!(
        places(&result),
        vec![
            place("requirements-traced", "info", DISAGREE, 1, 1),
            place("entities-in-tasks", "info", DISAGREE, 1, 1),
        ]
    );
}

#[test]
fn an_artifact_file_must_exist_and_name_another_artifact() {
    for (given, says) in [
        ("spec=tests/fixtures/trace/none.md", "no such file"),
        ("specs=tests/fixtures/trace/spec.md", "no artifact `specs`"),
        (
            "tasks=tests/fixtures/trace/spec.md",
            "already stand for `tasks`",
        ),
        ("spec", "give it as NAME=PATH"),
    ] {
        let (code, text) = check(&["--step", "tasks", DISAGREE, "--artifact-file", given]);
        assert_eq!(code, Some(2), "{given}: {text}");
        assert!(text.contains(says), "{given}: {text}");
    }
}

#[test]
fn sarif_carries_the_other_end_of_a_trace_finding() {
    let spec_file = format!("spec={SPEC}");
    let sarif = json(&[
        "--step",
        "tasks",
        DISAGREE,
        "--artifact-file",
        &spec_file,
        "--format",
        "sarif",
    ]);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let uri = |location: &serde_json::Value| {
        location["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let unreferenced = &results[1];
    assert_eq!(uri(&unreferenced["locations"][0]), SPEC);
    let related = &unreferenced["relatedLocations"][0];
    assert_eq!(uri(related), DISAGREE);
    assert_eq!(related["physicalLocation"]["region"]["startLine"], 1);
    let dangling = &results[2];
    assert_eq!(uri(&dangling["locations"][0]), DISAGREE);
    let related = &dangling["relatedLocations"][0];
    assert_eq!(uri(related), SPEC);
    // The Functional Requirements heading, where definitions are read.
    assert_eq!(related["physicalLocation"]["region"]["startLine"], 3);
    assert_eq!(
        related["message"]["text"],
        "where the identifiers are defined"
    );
}

#[test]
fn links_resolve_to_files_headings_and_anchors() {
    let args = [
        "--step",
        "tasks",
        "--artifact",
        "plan",
        "tests/fixtures/trace/plan.md",
    ];
    let (code, text) = check(&args);
    assert_eq!(code, Some(1), "{text}");
    insta::assert_snapshot!("links_text", text);
    let result = json(&[&args[..], &["--format", "json"]].concat());
    let plan = "tests/fixtures/trace/plan.md";
    // Every broken link on lines 18-20, each at itself; the good ones on
    // lines 3-5 (a repeated heading's `-1`, an explicit anchor) pass, and
    // the link in a code block is none.
    assert_eq!(
        places(&result),
        vec![
            place("plan-links", "error", plan, 18, 3),
            place("plan-links", "error", plan, 18, 33),
            place("plan-links", "error", plan, 19, 3),
            place("plan-links", "error", plan, 19, 38),
            place("plan-links", "error", plan, 20, 1),
            place("plan-links", "error", plan, 20, 43),
        ]
    );
    insta::assert_json_snapshot!("links_json", result["results"][0]["findings"]);
}

#[test]
fn a_subject_whose_spec_and_tasks_disagree() {
    let project = Project::with_playbook(PLAYBOOK);
    project.run(&["new", "T-1", "--title", "Sync"]).expect(0);
    let folder = "docs/t-1-sync";
    let fixture = |name: &str| {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/trace/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("fixture")
    };
    project.write(
        &format!("{folder}/plan.md"),
        "# Plan\n\nFrom [the requirements](spec.md#functional-requirements): the Local store first.\n",
    );
    project.write(&format!("{folder}/tasks.md"), &fixture("tasks-disagree.md"));

    // The spec is not written yet: one finding says so, not one per id.
    let missing = project.run(&["check", "T-1"]).expect(1);
    assert!(
        missing
            .stdout
            .contains("missing artifact \"spec\" (docs/t-1-sync/spec.md)"),
        "{missing}"
    );

    project.write(&format!("{folder}/spec.md"), &fixture("spec.md"));
    let failed = project.run(&["check", "T-1"]).expect(1);
    insta::assert_snapshot!("subject_disagree", failed.stdout);
    let shown = project
        .run(&["show", "tasks", "--subject", "T-1", "--with-results"])
        .expect(0);
    assert!(
        shown.stdout.contains(
            "❌ 3 requirements, 2 with tasks; FR-002 has none (docs/t-1-sync/spec.md:6); FR-007 is not defined (docs/t-1-sync/tasks.md:4)"
        ),
        "{shown}"
    );

    // Once they agree the gate awaits a person, and the approval pins the
    // spec the trace read: changing it makes the approval stale.
    project.write(&format!("{folder}/tasks.md"), &fixture("tasks-agree.md"));
    project.run(&["approve", "T-1", "--by", "ana"]).expect(0);
    let status = project.run(&["status", "--format", "json"]).expect(0);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    assert_eq!(status["subjects"][0]["approvals"][0]["stale"], false);
    project.write(
        &format!("{folder}/spec.md"),
        &(fixture("spec.md") + "\n- **FR-010**: Added after the review.\n"),
    );
    let status = project.run(&["status", "--format", "json"]).expect(0);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    assert_eq!(
        status["subjects"][0]["approvals"][0]["stale"], true,
        "{status:#}"
    );
}

#[test]
fn a_plugin_test_case_gives_several_artifacts() {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["plugin", "test", "tests/fixtures/trace/drift.lua"])
        .output()
        .expect("the binary runs");
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("3 passed, 0 failed"), "{text}");
}

/// The real SpecFlow spec and tasks of `../shared/corpus/real/` (skipped,
/// saying so, when the corpus is absent): the spec numbers its requirements
/// as a plain ordered list, not `FR-1`, so the trace finds none to require
/// and none cited, and passes with the counts to show it.
#[test]
fn the_real_specflow_pair_defines_no_numbered_requirement() {
    use std::io::Write as _;
    let corpus = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/real/specflow"
    );
    let pair = "jcfischer__pai-deps__.specify__specs__f-010-path-queries__";
    let (spec, tasks) = (
        format!("{corpus}/{pair}spec.md"),
        format!("{corpus}/{pair}tasks.md"),
    );
    if !Path::new(&spec).is_file() {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {corpus} is absent; the real SpecFlow pair is not traced"
        );
        return;
    }
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "--playbook",
            "playbooks/specflow.yaml",
            "check",
            "--step",
            "tasks",
        ])
        .args([tasks.as_str(), "--artifact-file", &format!("spec={spec}")])
        .args(["--format", "json"])
        .output()
        .expect("the binary runs");
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    // The spec was read (a trace without it would say it was skipped).
    assert!(
        result["results"][0]["artifacts"]["spec"].is_string(),
        "{result:#}"
    );
    let findings = result["results"][0]["findings"]
        .as_array()
        .expect("findings");
    assert!(
        findings
            .iter()
            .all(|f| f["check"] != "requirements-have-tasks"),
        "{result:#}"
    );
}

/// SpecFlow's tasks step, where the spec numbers its requirements: FR-2
/// has no task (at its definition) and FR-4 is no requirement (at the
/// citation); the unnumbered fixture spec requires nothing.
#[test]
fn specflow_tasks_trace_numbered_requirements() {
    let run = |spec: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "--playbook",
                "playbooks/specflow.yaml",
                "check",
                "--step",
                "tasks",
            ])
            .arg("tests/fixtures/specflow/tasks-missing-requirement.md")
            .args([
                "--artifact-file",
                &format!("spec={spec}"),
                "--format",
                "json",
            ])
            .output()
            .expect("the binary runs");
        serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("JSON")
    };
    let numbered = run("tests/fixtures/specflow/spec-numbered.md");
    assert_eq!(
        places(&numbered),
        vec![
            place(
                "requirements-have-tasks",
                "error",
                "tests/fixtures/specflow/spec-numbered.md",
                11,
                3
            ),
            place(
                "requirements-have-tasks",
                "error",
                "tests/fixtures/specflow/tasks-missing-requirement.md",
                4,
                53
            ),
        ]
    );
    let unnumbered = run("tests/fixtures/specflow/spec.md");
    // FR-1, FR-3 and FR-4 are cited, and the spec defines none of them.
    assert_eq!(places(&unnumbered).len(), 3, "{unnumbered:#}");
}

/// A trace within one document: the spec's Notes cite FR-004, which its
/// Functional Requirements do not define; the definitions themselves are
/// not citations.
#[test]
fn a_trace_within_one_document_skips_its_definitions() {
    let result = json(&["--step", "review", SPEC, "--format", "json"]);
    assert_eq!(
        places(&result),
        vec![
            // FR-002 is defined twice, whichever check reads the spec.
            place("spec-cites-its-requirements", "warning", SPEC, 8, 5),
            place("spec-cites-its-requirements", "error", SPEC, 18, 1),
        ]
    );
}
