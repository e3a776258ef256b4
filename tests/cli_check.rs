//! `tollgate check --step STEP FILE...` through the real binary: exit codes,
//! text and JSON output, `--strict`, `--artifact`, `--var`, human gates, and
//! many files at once.
//!
//! Every run uses the fixture playbook and the fixtures of
//! `tests/fixtures/checks/`, by paths relative to the crate, from the crate's
//! folder, so the output is the same on every machine.

use std::path::Path;
use std::process::{Command, Output};

const PLAYBOOK: &str = "tests/fixtures/checks/playbook.yaml";

fn fixture(name: &str) -> String {
    format!("tests/fixtures/checks/{name}")
}

/// Runs `tollgate --root . --color never --playbook PLAYBOOK ARGS...`.
fn tollgate(args: &[&str]) -> Output {
    tollgate_with(PLAYBOOK, args)
}

fn tollgate_with(playbook: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("TOLLGATE_PLAYBOOK")
        .args(["--root", ".", "--color", "never", "--playbook", playbook])
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Checks `files` against `step`; extra arguments come first.
fn check(step: &str, extra: &[&str], files: &[&str]) -> Output {
    let paths: Vec<String> = files.iter().map(|name| fixture(name)).collect();
    let mut args = vec!["check", "--step", step];
    args.extend(extra);
    args.extend(paths.iter().map(String::as_str));
    tollgate(&args)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("the process exited")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

/// `(path, verdict)` of every result, in order.
fn verdicts(value: &serde_json::Value) -> Vec<(String, String)> {
    value["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| {
            let path = result["artifacts"]
                .as_object()
                .unwrap()
                .values()
                .next()
                .unwrap();
            (
                path.as_str().unwrap().to_string(),
                result["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn all_files_passing_exit_0() {
    let output = check("plan", &[], &["plan-complete.md", "section-aliases.md"]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    assert_eq!(
        stdout(&output),
        "tests/fixtures/checks/plan-complete.md: passed\n\
         tests/fixtures/checks/section-aliases.md: passed\n\
         2 files checked: 2 passed — 0 errors, 0 warnings\n"
    );
}

#[test]
fn one_failing_file_exits_1() {
    let output = check(
        "plan",
        &[],
        &["plan-complete.md", "plan-missing-failure-modes.md"],
    );
    assert_eq!(code(&output), 1, "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.contains("tests/fixtures/checks/plan-complete.md: passed\n"),
        "{text}"
    );
    assert!(
        text.contains("tests/fixtures/checks/plan-missing-failure-modes.md: failed\n"),
        "{text}"
    );
    assert!(
        text.ends_with("2 files checked: 1 passed, 1 failed — 1 error, 0 warnings\n"),
        "{text}"
    );
}

#[test]
fn text_output_groups_findings_under_each_file_with_the_offending_line() {
    let output = check(
        "readiness",
        &[],
        &[
            "open-box-in-readiness-checklist.md",
            "readiness-complete.md",
            "missing-checklist-item.md",
        ],
    );
    assert_eq!(code(&output), 1);
    let text = stdout(&output);
    // The first file's findings come before the next file's header.
    let first = text
        .find("open-box-in-readiness-checklist.md: failed")
        .unwrap();
    let open_box = text.find("8 │ - [ ] Telemetry").unwrap();
    let second = text.find("readiness-complete.md: passed").unwrap();
    let third = text.find("missing-checklist-item.md: failed").unwrap();
    let heading = text.find("3 │ ## Readiness Checklist").unwrap();
    assert!(
        first < open_box && open_box < second && second < third && third < heading,
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn json_output_shape() {
    let output = check(
        "plan",
        &["--format", "json"],
        &["plan-complete.md", "empty-section.md", "not-utf8.md"],
    );
    assert_eq!(code(&output), 2);
    let value = json(&output);
    assert_eq!(value["tollgate"], 1);
    assert_eq!(value["playbook"], "check-fixtures");
    assert_eq!(value["summary"]["failed"], 2);
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn unreadable_files_exit_2_and_the_others_are_still_checked() {
    let output = check(
        "plan",
        &["--format", "json"],
        &[
            "not-utf8.md",
            "plan-complete.md",
            "no-such-file.md",
            "plan-missing-failure-modes.md",
        ],
    );
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let value = json(&output);
    assert_eq!(
        verdicts(&value),
        [
            (
                "tests/fixtures/checks/not-utf8.md".to_string(),
                "failed".to_string()
            ),
            (
                "tests/fixtures/checks/plan-complete.md".to_string(),
                "passed".to_string()
            ),
            (
                "tests/fixtures/checks/no-such-file.md".to_string(),
                "failed".to_string()
            ),
            (
                "tests/fixtures/checks/plan-missing-failure-modes.md".to_string(),
                "failed".to_string()
            ),
        ]
    );
    // The bad byte and the missing file are named where they are.
    let not_utf8 = &value["results"][0]["findings"][0];
    assert_eq!(
        (not_utf8["line"].as_u64(), not_utf8["column"].as_u64()),
        (Some(5), Some(4))
    );
    assert!(
        not_utf8["message"]
            .as_str()
            .unwrap()
            .contains("not valid UTF-8")
    );
    let missing = &value["results"][2]["findings"];
    assert_eq!(
        missing.as_array().unwrap().len(),
        1,
        "a missing file is said once"
    );
    assert_eq!(missing[0]["message"], "the file does not exist");
}

#[test]
fn a_folder_given_as_a_file_exits_2() {
    let output = check("plan", &[], &["", "plan-complete.md"]);
    assert_eq!(code(&output), 2);
    let text = stdout(&output);
    assert!(text.contains("tests/fixtures/checks: failed"), "{text}");
    assert!(
        text.contains("tests/fixtures/checks/plan-complete.md: passed"),
        "{text}"
    );
}

#[test]
fn unknown_step_exits_2_and_names_the_steps() {
    let output = check("plann", &[], &["plan-complete.md"]);
    assert_eq!(code(&output), 2);
    assert!(output.stdout.is_empty());
    let message = stderr(&output);
    assert!(
        message.contains("the playbook has no step `plann`"),
        "{message}"
    );
    assert!(message.contains("specify, plan, outline"), "{message}");
}

#[test]
fn unknown_artifact_exits_2() {
    let output = check("plan", &["--artifact", "design"], &["plan-complete.md"]);
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(
        message.contains("no artifact `design` (artifacts: spec, plan, tasks)"),
        "{message}"
    );
}

#[test]
fn playbook_that_does_not_load_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "tollgate: 1\nname: Not A Name\nphases: []\nsteps: []\n",
    )
    .unwrap();
    let output = tollgate_with(
        broken.to_str().unwrap(),
        &["check", "--step", "plan", &fixture("plan-complete.md")],
    );
    assert_eq!(code(&output), 2);
    assert!(output.stdout.is_empty());
    let message = stderr(&output);
    assert!(message.contains("broken.yaml:2:"), "{message}");
    assert!(message.contains("the playbook does not load"), "{message}");

    let missing = dir.path().join("missing.yaml");
    let output = tollgate_with(
        missing.to_str().unwrap(),
        &["check", "--step", "plan", &fixture("plan-complete.md")],
    );
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("missing.yaml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn strict_turns_a_warning_into_a_failure() {
    let output = check("gate", &[], &["tbd-remains.md"]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.contains("tbd-remains.md: passed"), "{text}");
    assert!(
        text.contains("warning[no-tbd]: \"TBD\" must not appear"),
        "{text}"
    );

    let output = check("gate", &["--strict"], &["tbd-remains.md"]);
    assert_eq!(code(&output), 1);
    assert!(stdout(&output).contains("tbd-remains.md: failed"));
}

#[test]
fn artifact_chooses_what_the_files_stand_for() {
    let output = check(
        "plan",
        &["--artifact", "spec", "--format", "json"],
        &["spec-problem-statement.md", "plan-complete.md"],
    );
    assert_eq!(code(&output), 1);
    let value = json(&output);
    let first = &value["results"][0];
    assert_eq!(
        first["artifacts"]["spec"],
        "tests/fixtures/checks/spec-problem-statement.md"
    );
    assert_eq!(first["verdict"], "passed");
    // The plan's checks do not read the spec; the spec's check does.
    let findings = value["results"][1]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["check"], "spec-has-problem");
    assert_eq!(
        findings[0]["message"],
        "missing section \"Problem statement\""
    );
}

#[test]
fn files_no_check_reads_are_not_a_pass() {
    let output = check("plan", &["--artifact", "tasks"], &["plan-complete.md"]);
    assert_eq!(code(&output), 2, "{}", stdout(&output));
    let message = stderr(&output);
    assert!(
        message.contains(
            "nothing was checked: no check of step `plan` reads artifact `tasks`, which the files stand for"
        ),
        "{message}"
    );
    let allowed = check(
        "plan",
        &["--artifact", "tasks", "--allow-empty"],
        &["plan-complete.md"],
    );
    assert_eq!(code(&allowed), 0, "{}", stderr(&allowed));
}

#[test]
fn no_playbook_says_to_run_init() {
    for command in [&["check"][..], &["status"], &["show", "plan"]] {
        let output = tollgate_with("tests/fixtures/no-such-playbook.yaml", command);
        assert_eq!(code(&output), 2);
        let message = stderr(&output);
        assert!(
            message.contains("there is no playbook at `tests/fixtures/no-such-playbook.yaml`; run `tollgate init`"),
            "{command:?}: {message}"
        );
    }
}

#[test]
fn human_gate_with_passing_checks_awaits_approval_and_exits_0() {
    let output = check("review", &["--format", "json"], &["review-ready.md"]);
    assert_eq!(code(&output), 0);
    let value = json(&output);
    assert_eq!(value["results"][0]["verdict"], "awaiting_approval");
    assert_eq!(value["results"][0]["subject"], serde_json::Value::Null);
    assert_eq!(value["summary"]["awaiting_approval"], 1);

    let output = check("review", &[], &["review-ready.md"]);
    assert_eq!(code(&output), 0);
    assert!(
        stdout(&output).starts_with("tests/fixtures/checks/review-ready.md: awaiting_approval\n")
    );
}

#[test]
fn var_turns_on_a_check_with_when() {
    let output = check("length", &[], &["words-in-code-not-counted.md"]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    let output = check(
        "length",
        &["--var", "strict_mode=true", "--format", "json"],
        &["words-in-code-not-counted.md"],
    );
    assert_eq!(code(&output), 1);
    let value = json(&output);
    let checks: Vec<&str> = value["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["check"].as_str().unwrap())
        .collect();
    // `when: vars.strict_mode` now holds; `when: not vars.strict_mode` does not.
    assert_eq!(checks, ["document-length-strict"]);
}

#[test]
fn quiet_prints_only_what_failed() {
    let output = check(
        "plan",
        &["--quiet"],
        &["plan-complete.md", "plan-missing-failure-modes.md"],
    );
    assert_eq!(code(&output), 1);
    let text = stdout(&output);
    assert!(!text.contains("plan-complete.md"), "{text}");
    assert!(
        text.starts_with("tests/fixtures/checks/plan-missing-failure-modes.md: failed\n"),
        "{text}"
    );
    assert!(!text.contains("passed,"), "{text}");
}

#[test]
fn many_files_are_all_reported_in_the_order_given() {
    let dir = tempfile::tempdir().unwrap();
    let complete = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture("plan-complete.md")),
    )
    .unwrap();
    let missing = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture("plan-missing-failure-modes.md")),
    )
    .unwrap();
    // Names out of alphabetical order, every third file failing.
    let files: Vec<(String, bool)> = (0..50)
        .map(|i| {
            let path = dir.path().join(format!("plan-{:02}.md", (i * 37) % 50));
            let fails = i % 3 == 0;
            std::fs::write(&path, if fails { &missing } else { &complete }).unwrap();
            (path.to_str().unwrap().to_string(), fails)
        })
        .collect();
    let mut args = vec!["check", "--step", "plan", "--format", "json"];
    args.extend(files.iter().map(|(path, _)| path.as_str()));
    let output = tollgate(&args);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let expected: Vec<(String, String)> = files
        .iter()
        .map(|(path, fails)| {
            (
                path.clone(),
                if *fails { "failed" } else { "passed" }.to_string(),
            )
        })
        .collect();
    let value = json(&output);
    assert_eq!(verdicts(&value), expected);
    assert_eq!(value["summary"]["failed"], 17);
    assert_eq!(value["summary"]["passed"], 33);
    for (result, (path, _)) in value["results"].as_array().unwrap().iter().zip(&files) {
        for finding in result["findings"].as_array().unwrap() {
            assert_eq!(finding["path"].as_str(), Some(path.as_str()));
        }
    }
}

#[test]
fn a_plugin_check_without_an_artifact_reports_at_its_plugin_file_from_the_root() {
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("process");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(
        folder.join("playbook.yaml"),
        "tollgate: 1\nname: nested\nphases: [{ id: a }, { id: b }]\n\
         artifacts: { doc: doc.md }\nplugins: { whole: whole.lua }\n\
         steps:\n  - id: s\n    from: a\n    to: b\n    checks:\n\
         \x20     - { id: doc-exists, artifact: doc, exists: true }\n\
         \x20     - { id: project-rule, plugin: whole.check }\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("whole.lua"),
        "local M = {}\nfunction M.check(ctx)\n  ctx:error(\"the project breaks a rule\")\nend\nreturn M\n",
    )
    .unwrap();
    std::fs::write(root.path().join("doc.md"), "# Doc\n\nText.\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(root.path())
        .env_remove("TOLLGATE_PLAYBOOK")
        .args(["--root", ".", "--playbook", "process/playbook.yaml"])
        .args(["check", "--step", "s", "--format", "json", "doc.md"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let finding = &json["results"][0]["findings"][0];
    assert_eq!(finding["check"], "project-rule");
    assert_eq!(finding["path"], "process/whole.lua");
}

/// The playbook and the files may be named from a subfolder: the plugins the
/// playbook names are found beside it, not beside the working folder.
#[test]
fn a_playbook_named_from_a_subfolder_loads_its_plugins() {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
        .env_remove("TOLLGATE_PLAYBOOK")
        .args(["--root", "../..", "--color", "never"])
        .args(["--playbook", "../../playbooks/specflow.yaml"])
        .args([
            "check",
            "--step",
            "plan",
            "../../examples/plans/log-shipper-plan.md",
        ])
        .output()
        .expect("the binary runs");
    assert_eq!(code(&output), 0, "{}{}", stdout(&output), stderr(&output));
    assert_eq!(
        stdout(&output),
        "examples/plans/log-shipper-plan.md: awaiting_approval\n\
         1 file checked: 1 awaiting approval — 0 errors, 0 warnings\n"
    );
}

/// The size limit of a document, as the README states it.
const DOCUMENT_LIMIT: usize = 512 * 1024;

/// Runs `tollgate check --step plan FILES...` from `dir`, with the fixture
/// playbook.
fn check_in(dir: &Path, files: &[&str]) -> Command {
    let mut command = tollgate_in(dir, &["check", "--step", "plan"]);
    command.args(files);
    command
}

/// Runs `tollgate ARGS...` from `dir`, the root, with the fixture playbook.
fn tollgate_in(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .current_dir(dir)
        .env_remove("TOLLGATE_PLAYBOOK")
        .args(["--root", ".", "--color", "never", "--playbook"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(PLAYBOOK))
        .args(args);
    command
}

#[test]
fn a_file_over_the_size_limit_exits_2_naming_its_size_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    // One long line: the document at the limit is cheap to parse.
    std::fs::write(dir.path().join("at-limit.md"), "a".repeat(DOCUMENT_LIMIT)).unwrap();
    std::fs::write(dir.path().join("over.md"), "a".repeat(DOCUMENT_LIMIT + 1)).unwrap();
    let output = check_in(dir.path(), &["at-limit.md", "over.md"])
        .output()
        .expect("the binary runs");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(&format!(
            "over.md: failed\n\
             error[plan-exists]: the file is {} bytes, more than the {DOCUMENT_LIMIT} bytes allowed\n \
             = in over.md:1:1\n",
            DOCUMENT_LIMIT + 1
        )),
        "{text}"
    );
    // The file at the limit is read and checked like any other.
    assert!(text.contains("at-limit.md: failed\n"), "{text}");
    assert_eq!(text.matches("bytes allowed").count(), 1, "{text}");
}

/// Many files of the costliest construct at the size limit, checked by
/// more threads than the memory budget has room for: the threads take
/// turns, and the process never holds much more than the budget. Without
/// the budget, each thread would hold a parsed document of some 140 MiB.
#[cfg(target_os = "linux")]
#[test]
fn files_checked_in_parallel_stay_within_the_memory_budget() {
    const FILES: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    // Unmatched emphasis delimiters: a syntax node for every byte.
    let costly = "*_".repeat(DOCUMENT_LIMIT / 2);
    let names: Vec<String> = (0..FILES).map(|index| format!("{index}.md")).collect();
    for name in &names {
        std::fs::write(dir.path().join(name), &costly).unwrap();
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    fails_within_the_memory_budget(&mut check_in(dir.path(), &names), FILES);
}

/// The same for subjects judged in parallel by `check --all`: each takes
/// its documents' share of the budget before they are read.
#[cfg(target_os = "linux")]
#[test]
fn subjects_checked_in_parallel_stay_within_the_memory_budget() {
    const SUBJECTS: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let costly = "*_".repeat(DOCUMENT_LIMIT / 2);
    for index in 0..SUBJECTS {
        let id = format!("F-{index}");
        let output = tollgate_in(dir.path(), &["new", &id, "--title", "Costly"])
            .output()
            .unwrap();
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        let state =
            std::fs::read_to_string(dir.path().join(format!(".tollgate/subjects/{id}.json")));
        let state: serde_json::Value = serde_json::from_str(&state.unwrap()).unwrap();
        let folder = dir
            .path()
            .join("specs")
            .join(state["slug"].as_str().unwrap());
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("plan.md"), &costly).unwrap();
    }
    let mut command = tollgate_in(
        dir.path(),
        &[
            "--var",
            "spec_root=specs",
            "check",
            "--all",
            "--step",
            "plan",
        ],
    );
    fails_within_the_memory_budget(&mut command, SUBJECTS);
}

/// Runs `command` on `threads` threads: every document it checks must fail
/// the plan, and its peak memory stay within the budget and some room for
/// the rest of the process.
#[cfg(target_os = "linux")]
fn fails_within_the_memory_budget(command: &mut Command, threads: usize) {
    let (code, peak_mib) = exit_and_peak_mib(command.env("RAYON_NUM_THREADS", threads.to_string()));
    assert_eq!(code, 1, "every document fails the plan");
    let bound_mib = tollgate::memory::MEMORY_BUDGET / (1024 * 1024) + 128;
    assert!(
        peak_mib <= bound_mib,
        "the check held {peak_mib} MiB at its peak, more than {bound_mib} MiB"
    );
}

/// A step's regexes are compiled before its first file is read; one that
/// does not compile is still reported by its check, on every file.
#[test]
fn a_regex_that_does_not_compile_fails_its_check_on_every_file() {
    let output = tollgate_with(
        "tests/fixtures/playbooks/invalid-regex-in-pattern.yaml",
        &[
            "check",
            "--step",
            "specify",
            "--format",
            "json",
            &fixture("bom.md"),
            &fixture("box-in-code-fence.md"),
        ],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let value = json(&output);
    let results = value["results"].as_array().expect("a list of results");
    assert_eq!(results.len(), 2);
    for result in results {
        assert_eq!(result["verdict"], "failed", "{result}");
        let messages: Vec<&str> = result["findings"]
            .as_array()
            .expect("a list of findings")
            .iter()
            .filter_map(|finding| finding["message"].as_str())
            .collect();
        assert!(
            messages
                .iter()
                .any(|message| message.starts_with("the regular expression does not compile: ")),
            "{messages:?}"
        );
    }
}

/// Runs `command` to its end, its output thrown away: its exit code and
/// its peak resident memory in MiB.
#[cfg(target_os = "linux")]
fn exit_and_peak_mib(command: &mut Command) -> (i32, usize) {
    #[expect(
        clippy::zombie_processes,
        reason = "waited for below with `wait4`, which also reports its peak memory"
    )]
    let child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary runs");
    // Waited for by its id, so that the peak is this child's, not the
    // largest of every child the tests of this file ran. (Linux counts in it
    // this test process's own memory from before the exec too: far below
    // the bound.)
    let mut status = 0;
    // SAFETY: a zeroed `rusage` is a valid value for `wait4` to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointers are to live locals; the child is ours and not
    // yet waited for.
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(waited, child.id() as libc::pid_t);
    assert!(libc::WIFEXITED(status));
    // Linux gives the peak resident size in KiB.
    (libc::WEXITSTATUS(status), usage.ru_maxrss as usize / 1024)
}

/// The options every command takes may come before the command or after
/// it. Given on both sides, the one after the command wins (all its
/// `--var`s); given on the command line, it beats `TOLLGATE_PLAYBOOK` on
/// either side.
#[test]
fn shared_options_before_and_after_the_command() {
    let file = fixture("plan-complete.md");
    let run = |env: Option<&str>, args: &[String]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("TOLLGATE_PLAYBOOK")
            .args(["--root", ".", "--color", "never"])
            .args(args);
        if let Some(playbook) = env {
            command.env("TOLLGATE_PLAYBOOK", playbook);
        }
        command.output().expect("the binary runs")
    };
    let missing = "tests/fixtures/checks/no-such-playbook.yaml";
    let passes = |output: &Output| {
        assert_eq!(code(output), 0, "{}{}", stdout(output), stderr(output));
        assert!(stdout(output).contains("plan-complete.md: passed"));
    };
    let names_missing = |output: &Output| {
        assert_eq!(code(output), 2, "{}", stdout(output));
        assert!(
            stderr(output).contains("no-such-playbook.yaml"),
            "{}",
            stderr(output)
        );
    };
    let check_with = |before: &[&'static str], after: &[&'static str]| -> Vec<String> {
        let mut args = before.to_vec();
        args.extend(["check", "--step", "plan"]);
        args.extend(after);
        let mut args: Vec<String> = args.into_iter().map(String::from).collect();
        args.push(file.clone());
        args
    };
    passes(&run(None, &check_with(&["--playbook", PLAYBOOK], &[])));
    passes(&run(None, &check_with(&[], &["--playbook", PLAYBOOK])));
    passes(&run(
        None,
        &check_with(&["--playbook", missing], &["--playbook", PLAYBOOK]),
    ));
    names_missing(&run(
        None,
        &check_with(&["--playbook", PLAYBOOK], &["--playbook", missing]),
    ));
    passes(&run(
        Some(missing),
        &check_with(&["--playbook", PLAYBOOK], &[]),
    ));
    passes(&run(
        Some(missing),
        &check_with(&[], &["--playbook", PLAYBOOK]),
    ));
    names_missing(&run(Some(missing), &check_with(&[], &[])));

    // The `--var`s after the command replace those before it.
    let length = |before: &[&str], after: &[&str]| {
        let mut args = before.to_vec();
        args.extend(["--playbook", PLAYBOOK, "check", "--step", "length"]);
        args.extend(after);
        let words = fixture("words-in-code-not-counted.md");
        let mut args: Vec<String> = args.into_iter().map(String::from).collect();
        args.push(words);
        code(&run(None, &args))
    };
    let strict = ["--var", "strict_mode=true"];
    let other = ["--var", "other=1"];
    assert_eq!(length(&strict, &[]), 1);
    assert_eq!(length(&[], &strict), 1);
    assert_eq!(length(&other, &strict), 1);
    assert_eq!(length(&strict, &other), 0);

    // `--quiet` on either side leaves out the summary.
    for (before, after) in [(&["-q"][..], &[][..]), (&[], &["-q"])] {
        let mut before = before.to_vec();
        before.extend(["--playbook", PLAYBOOK]);
        let output = run(None, &check_with(&before, after));
        assert_eq!(code(&output), 0);
        assert!(
            !stdout(&output).contains("files checked"),
            "{}",
            stdout(&output)
        );
    }
}
