//! Inline suppression through the real binary: every fixture of
//! `tests/fixtures/suppress/` in text and JSON, the exit codes, the
//! playbook's `suppressible`, and suppression in subject mode (`check ID`,
//! `show --with-results`, `advance`).

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use std::process::{Command, Output};

use harness::Project;
use serde_json::{Value, json};

const PLAYBOOK: &str = "tests/fixtures/suppress/playbook.yaml";
const FORBID_ALL: &str = "tests/fixtures/suppress/forbid-all.yaml";

fn fixture(name: &str) -> String {
    format!("tests/fixtures/suppress/{name}")
}

/// `tollgate --root . --color never --playbook PLAYBOOK check --step plan ARGS...`.
fn check(playbook: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("TOLLGATE_PLAYBOOK")
        .args(["--root", ".", "--color", "never", "--playbook", playbook])
        .args(["check", "--step", "plan"])
        .args(args)
        .output()
        .expect("the binary runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("the process exited")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// The single result of `check --format json` on one fixture, and the exit code.
fn json_result(playbook: &str, name: &str, extra: &[&str]) -> (Value, i32) {
    let path = fixture(name);
    let mut args = vec!["--format", "json"];
    args.extend(extra);
    args.push(&path);
    let output = check(playbook, &args);
    let value: Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    (value["results"][0].clone(), code(&output))
}

/// `(check, line)` of each finding of a result, or of each suppressed one.
fn at(result: &Value, list: &str) -> Vec<(String, u64)> {
    result[list]
        .as_array()
        .expect("a list")
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected
        .iter()
        .map(|(check, line)| (check.to_string(), *line))
        .collect()
}

#[test]
fn each_fixture_in_text() {
    insta::glob!("fixtures/suppress/*.md", |path| {
        let name = path.file_name().unwrap().to_string_lossy();
        let output = check(PLAYBOOK, &[&fixture(&name)]);
        insta::assert_snapshot!(format!("[exit {}]\n{}", code(&output), stdout(&output)));
    });
}

#[test]
fn each_fixture_in_json() {
    insta::glob!("fixtures/suppress/*.md", |path| {
        let name = path.file_name().unwrap().to_string_lossy();
        let (result, _) = json_result(PLAYBOOK, &name, &[]);
        insta::assert_json_snapshot!(result);
    });
}

#[test]
fn a_step_whose_only_error_is_suppressed_passes_and_keeps_the_finding() {
    let (result, code) = json_result(PLAYBOOK, "disable-with-reason.md", &[]);
    assert_eq!(code, 0);
    assert_eq!(result["verdict"], "passed");
    assert_eq!(result["findings"], json!([]));
    let suppressed = &result["suppressed"][0];
    assert_eq!(suppressed["check"], "plan-covers");
    assert_eq!(suppressed["message"], "missing section \"Failure modes\"");
    assert_eq!(
        suppressed["reason"],
        "the service keeps no state, so nothing can fail over"
    );
    assert_eq!(suppressed["directive"], json!({"line": 1, "column": 1}));
}

#[test]
fn a_directive_without_reason_suppresses_nothing_and_fails() {
    let (result, code) = json_result(PLAYBOOK, "disable-without-reason.md", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        at(&result, "findings"),
        pairs(&[("no-markers", 7), ("tollgate-suppression", 3)])
    );
    assert_eq!(result["findings"][1]["severity"], "error");
    assert_eq!(result["suppressed"], json!([]));
}

#[test]
fn next_line_covers_only_the_next_non_blank_line() {
    let (result, code) = json_result(PLAYBOOK, "next-line.md", &[]);
    assert_eq!(code, 1);
    assert_eq!(at(&result, "suppressed"), pairs(&[("no-markers", 7)]));
    assert_eq!(at(&result, "findings"), pairs(&[("no-markers", 8)]));
}

#[test]
fn next_line_directives_stack_over_the_line_after_them() {
    let (result, code) = json_result(PLAYBOOK, "next-line-stacked.md", &[]);
    assert_eq!(code, 0);
    assert_eq!(
        at(&result, "suppressed"),
        pairs(&[("no-markers", 7), ("firm-wording", 7)])
    );
    assert_eq!(at(&result, "findings"), pairs(&[]));
}

#[test]
fn enable_ends_the_range() {
    let (result, code) = json_result(PLAYBOOK, "enable-ends-range.md", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        at(&result, "suppressed"),
        pairs(&[("no-markers", 6), ("no-markers", 7)])
    );
    assert_eq!(at(&result, "findings"), pairs(&[("no-markers", 12)]));
}

#[test]
fn an_unused_suppression_is_a_warning_that_fails_only_with_strict() {
    let (result, code) = json_result(PLAYBOOK, "unused-suppression.md", &[]);
    assert_eq!(code, 0);
    let severities: Vec<&str> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    // The check `retired` never runs, so its suppression is not reported.
    assert_eq!(severities, ["warning", "warning", "warning"]);
    assert_eq!(
        result["findings"][0]["message"],
        "suppression of `risk-table` suppresses nothing"
    );
    let (_, strict) = json_result(PLAYBOOK, "unused-suppression.md", &["--strict"]);
    assert_eq!(strict, 1);
}

#[test]
fn overlapping_disables_attribute_to_the_latest_and_one_enable_ends_both() {
    let (result, code) = json_result(PLAYBOOK, "overlapping-disables.md", &[]);
    assert_eq!(code, 1);
    let reasons: Vec<(u64, &str)> = result["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["line"].as_u64().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (5, "sizing waits for the load test"),
            (10, "the product team sets the lifetime")
        ]
    );
    assert_eq!(at(&result, "findings"), pairs(&[("no-markers", 12)]));
}

#[test]
fn unknown_check_ids_are_errors_but_checks_of_other_steps_are_left_alone() {
    let (result, code) = json_result(PLAYBOOK, "unknown-check-id.md", &[]);
    assert_eq!(code, 1);
    let messages: Vec<&str> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "tollgate-suppression")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    // `release-notes` is a check of the ship step, which reads the plan too.
    assert_eq!(
        messages,
        ["unknown check `no-marker`", "unknown check `dependencies`"]
    );
}

#[test]
fn a_check_that_forbids_suppression_keeps_its_finding() {
    let (result, code) = json_result(PLAYBOOK, "forbidden-by-playbook.md", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        at(&result, "findings"),
        pairs(&[("gate-line", 22), ("tollgate-suppression", 21)])
    );
    assert_eq!(result["suppressed"], json!([]));
}

#[test]
fn a_playbook_can_forbid_suppression_for_every_check_but_those_that_allow_it() {
    let (result, code) = json_result(FORBID_ALL, "disable-with-reason.md", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        result["findings"][1]["message"],
        "check `plan-covers` may not be suppressed: the playbook forbids it"
    );
    let (result, code) = json_result(FORBID_ALL, "next-line.md", &[]);
    assert_eq!(code, 1);
    assert_eq!(at(&result, "suppressed"), pairs(&[("no-markers", 7)]));
}

#[test]
fn directives_in_code_do_not_count() {
    let (result, code) = json_result(PLAYBOOK, "directive-in-code-fence.md", &[]);
    assert_eq!(code, 1);
    assert_eq!(at(&result, "findings"), pairs(&[("no-markers", 5)]));
}

#[test]
fn plugin_findings_are_suppressed_like_built_in_ones() {
    let (result, code) = json_result(PLAYBOOK, "plugin-finding-suppressed.md", &[]);
    assert_eq!(code, 1);
    assert_eq!(at(&result, "suppressed"), pairs(&[("firm-wording", 6)]));
    assert_eq!(at(&result, "findings"), pairs(&[("firm-wording", 7)]));
}

#[test]
fn a_disable_before_any_content_covers_findings_at_the_start_under_front_matter() {
    let (result, code) = json_result(PLAYBOOK, "front-matter-leading.md", &[]);
    assert_eq!(code, 0);
    assert_eq!(at(&result, "suppressed"), pairs(&[("plan-covers", 1)]));
}

#[test]
fn malformed_directives_are_errors_at_their_comment() {
    let (result, code) = json_result(PLAYBOOK, "malformed-directives.md", &[]);
    assert_eq!(code, 1);
    let lines: Vec<u64> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 5, 6, 7]);
}

#[test]
fn subject_mode_check_show_and_advance_honour_suppressions() {
    let project = Project::with_playbook(PLAYBOOK);
    project
        .run(&["new", "F-1", "--title", "Session cache"])
        .expect(0);
    let plan = "plans/f-1-session-cache/plan.md";
    project.write(
        plan,
        &std::fs::read_to_string(fixture("disable-with-reason.md")).unwrap(),
    );
    let checked = project.run(&["check", "F-1"]).expect(0);
    let json = project.run(&["check", "F-1", "--format", "json"]).expect(0);
    let value: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(
        at(&value["results"][0], "suppressed"),
        pairs(&[("plan-covers", 1)])
    );
    let shown = project
        .run(&["show", "plan", "--subject", "F-1", "--with-results"])
        .expect(0);
    assert!(!shown.stdout.contains('❌'), "{}", shown.stdout);
    assert!(
        shown.stdout.contains(
            "| Failure modes | 🔇 missing section \"Failure modes\" (line 1), suppressed: \
             the service keeps no state, so nothing can fail over |"
        ),
        "{}",
        shown.stdout
    );
    let advanced = project.run(&["advance", "F-1"]).expect(0);
    insta::assert_snapshot!(format!(
        "$ tollgate check F-1\n{checked}\n$ tollgate advance F-1\n{advanced}"
    ));
}

/// Checks `text` as a plan in a new folder, with the fixture playbook.
fn check_text(text: &str, format: &str) -> Output {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("plan.md"), text).expect("the plan writes");
    let playbook = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(PLAYBOOK);
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(dir.path())
        .env_remove("TOLLGATE_PLAYBOOK")
        .args(["--root", ".", "--color", "never", "--playbook"])
        .arg(playbook)
        .args(["check", "--step", "plan", "--format", format, "plan.md"])
        .output()
        .expect("the binary runs")
}

/// Stacked next-line directives are read in one pass over the document:
/// each once looked for its line past every other directive, so 4,000 of
/// them took minutes.
#[test]
fn thousands_of_stacked_directives_are_read_in_one_pass() {
    let directive = "<!-- tollgate-disable-next-line no-markers: set next sprint -->\n";
    let text = format!(
        "# Plan\n\n## Goals\n\n{}**Timeout**: TBD\n",
        directive.repeat(4000)
    );
    let output = check_text(&text, "json");
    let value: Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    let result = &value["results"][0];
    let suppressed = result["suppressed"].as_array().expect("a list");
    assert_eq!(suppressed.len(), 1, "{result:#}");
    assert_eq!(suppressed[0]["line"], 4005);
    assert_eq!(suppressed[0]["directive"]["line"], 4004);
}

/// Each code frame reads the lines it shows: a frame once cost the whole
/// file, so 16,000 findings in one file took minutes as text and a moment
/// as JSON.
#[test]
fn thousands_of_findings_in_one_file_print_as_text() {
    let text = format!(
        "# Plan\n\n## Goals\n\n{}",
        "**Timeout**: TBD\n".repeat(16000)
    );
    let output = check_text(&text, "text");
    let out = stdout(&output);
    assert_eq!(out.matches("error[no-markers]").count(), 16000);
    assert!(
        out.contains("16004 │ **Timeout**: TBD\n"),
        "the last frame keeps its line number"
    );
}

/// Columns are counted on from the previous match, and the bracket group
/// around a marker is found by a search: both were quadratic in the markers
/// on a line, and a line of a million took minutes. A document may now hold
/// at most 512 KiB: the second line fills what the first leaves of it.
#[test]
fn a_line_of_markers_as_long_as_a_document_may_hold_is_read_once() {
    let cells = "| TBD ".repeat(20_000);
    let head = format!("# Plan\n\n## Goals\n\n{cells}|\n\n");
    let sentence = "TBD [ ".repeat((512 * 1024 - head.len() - 1) / "TBD [ ".len());
    let text = format!("{head}{sentence}\n");
    assert!(text.len() > 500 * 1024);
    let output = check_text(&text, "json");
    let value: Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    let findings: Vec<&Value> = value["results"][0]["findings"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|finding| finding["check"] == "no-markers")
        .collect();
    assert_eq!(findings.len(), 20_000);
    let last = findings.last().expect("a finding");
    assert_eq!(
        (last["line"].clone(), last["column"].clone()),
        (json!(5), json!(119_997))
    );
    // As text, each frame shows a window of the line, found from the
    // line's known start, not by searching the line for it.
    let out = stdout(&check_text(&text, "text"));
    assert_eq!(out.matches("error[no-markers]").count(), 20_000);
    assert!(
        out.contains("plan.md:5:119997\n"),
        "the last frame names its column"
    );
}
