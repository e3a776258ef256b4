//! `tollgate lint` and `tollgate schema` as a user runs them: the real
//! binary, from the repository root, with relative paths so that the output
//! is the same on every machine.

use std::path::Path;
use std::process::{Command, Output};

const CLEAN: &str = "playbooks/specflow.yaml";
const BROKEN: &str = "tests/fixtures/playbooks/unreachable-step.yaml";
const INVALID: &str = "tests/fixtures/playbooks/misspelt-key.yaml";
const UNUSABLE: &str = "tests/fixtures/playbooks/duplicate-key.yaml";

/// `tollgate ARGS` in `dir`, without the caller's `TOLLGATE_PLAYBOOK`.
fn tollgate_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .current_dir(dir)
        .env_remove("TOLLGATE_PLAYBOOK")
        .output()
        .expect("tollgate runs")
}

fn tollgate(args: &[&str]) -> Output {
    tollgate_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("the output is UTF-8")
}

fn lint_json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut all = vec!["lint", "--format", "json"];
    all.extend(args);
    let output = tollgate(&all);
    let json = serde_json::from_slice(&output.stdout).expect("the output is JSON");
    (output.status.code(), json)
}

#[test]
fn a_clean_playbook_exits_0() {
    let output = tollgate(&["lint", "--color", "never", CLEAN]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(stdout(&output), "0 errors, 0 warnings in 1 playbook\n");
}

#[test]
fn a_semantically_broken_playbook_exits_1_with_code_frames() {
    let output = tollgate(&["lint", "--color", "never", BROKEN]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("error[unreachable-step]"), "{text}");
    assert!(text.contains(&format!("┌─ {BROKEN}:18:11")), "{text}");
    assert!(text.contains("18 │     from: rejected"), "{text}");
    assert!(
        text.ends_with("1 error, 1 warning in 1 playbook\n"),
        "{text}"
    );
}

#[test]
fn a_playbook_that_breaks_the_schema_exits_1() {
    let output = tollgate(&["lint", "--color", "never", INVALID]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("error[unknown-key]: unknown key `artefacts`"));
}

#[test]
fn a_playbook_that_does_not_parse_exits_2() {
    let output = tollgate(&["lint", "--color", "never", UNUSABLE]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).contains(&format!("┌─ {UNUSABLE}:16:1")));
}

#[test]
fn quiet_prints_only_errors_and_no_summary() {
    let output = tollgate(&["lint", "--quiet", "--color", "never", BROKEN]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("error[unreachable-step]"), "{text}");
    assert!(!text.contains("warning["), "{text}");
    assert!(!text.contains("in 1 playbook"), "{text}");
}

#[test]
fn json_output_has_one_entry_per_diagnostic() {
    let (code, json) = lint_json(&[BROKEN]);
    assert_eq!(code, Some(1));
    insta::assert_json_snapshot!(json, @r#"
    {
      "diagnostics": [
        {
          "code": "unreachable-phase",
          "severity": "warning",
          "message": "no step leads to phase `rejected` from `draft`",
          "path": "tests/fixtures/playbooks/unreachable-step.yaml",
          "line": 6,
          "column": 11
        },
        {
          "code": "unreachable-step",
          "severity": "error",
          "message": "step `rework` can never run: no subject reaches its phase `rejected`",
          "path": "tests/fixtures/playbooks/unreachable-step.yaml",
          "line": 18,
          "column": 11
        }
      ]
    }
    "#);
}

#[test]
fn json_output_of_a_clean_playbook_is_an_empty_list() {
    let (code, json) = lint_json(&[CLEAN]);
    assert_eq!(code, Some(0));
    assert_eq!(json, serde_json::json!({ "diagnostics": [] }));
}

#[test]
fn several_playbooks_in_one_call_exit_with_the_worst_outcome() {
    let empty = "tests/fixtures/playbooks/empty-file.yaml";
    let (code, json) = lint_json(&[CLEAN, BROKEN, empty]);
    assert_eq!(code, Some(2), "an unusable file outweighs a lint error");
    // The files' diagnostics in the order given: the broken playbook's, as
    // it alone gives them, then the empty file's.
    let (_, broken) = lint_json(&[BROKEN]);
    let mut expected = broken["diagnostics"].as_array().unwrap().clone();
    expected.push(serde_json::json!({
        "code": "empty-file",
        "severity": "error",
        "message": "the file is empty",
        "path": "tests/fixtures/playbooks/empty-file.yaml",
        "line": null,
        "column": null
    }));
    assert_eq!(json, serde_json::json!({ "diagnostics": expected }));
    let (code, _) = lint_json(&[CLEAN, BROKEN]);
    assert_eq!(code, Some(1));
    let text = stdout(&tollgate(&["lint", "--color", "never", CLEAN, BROKEN]));
    assert!(
        text.ends_with("1 error, 1 warning in 2 playbooks\n"),
        "{text}"
    );
}

#[test]
fn the_playbook_comes_from_tollgate_playbook_when_no_file_is_given() {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["lint", "--color", "never"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TOLLGATE_PLAYBOOK", BROKEN)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains(&format!("┌─ {BROKEN}:18:11")));
}

#[test]
fn the_playbook_option_wins_over_the_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["--playbook", CLEAN, "lint", "--color", "never"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TOLLGATE_PLAYBOOK", BROKEN)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // The option is global: it may also follow the command.
    let output = tollgate(&["lint", "--playbook", BROKEN, "--color", "never"]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn without_a_playbook_lint_reads_tollgate_yaml_in_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The playbook beside its plugin, as `tollgate init` lays them out.
    let clean = std::fs::read_to_string(repo.join(CLEAN)).unwrap();
    std::fs::write(
        dir.path().join("tollgate.yaml"),
        clean.replace("../plugins/", "plugins/"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    std::fs::copy(
        repo.join("plugins/pai_principles.lua"),
        dir.path().join("plugins/pai_principles.lua"),
    )
    .unwrap();
    let output = tollgate_in(dir.path(), &["lint", "--color", "never"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    std::fs::remove_file(dir.path().join("tollgate.yaml")).unwrap();
    let output = tollgate_in(dir.path(), &["lint", "--color", "never"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).contains("error[unreadable]"));
    assert!(stdout(&output).contains("= in tollgate.yaml"));
}

#[test]
fn schema_prints_the_committed_schema() {
    let output = tollgate(&["schema"]);
    assert_eq!(output.status.code(), Some(0));
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/playbook.schema.json"),
    )
    .unwrap();
    assert!(
        stdout(&output) == committed,
        "`tollgate schema` differs from schemas/playbook.schema.json; run \
         `cargo run -- schema > schemas/playbook.schema.json`"
    );
}

#[test]
fn help_is_available() {
    for args in [&["--help"][..], &["lint", "--help"], &["help", "lint"]] {
        let output = tollgate(args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        let text = stdout(&output);
        assert!(text.contains("Usage: tollgate"), "{args:?}: {text}");
    }
    let text = stdout(&tollgate(&["lint", "--help"]));
    assert!(text.contains("--format <FORMAT>"), "{text}");
}

#[test]
fn a_bad_argument_exits_2() {
    let output = tollgate(&["lint", "--format", "yaml", CLEAN]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--format"));
}
