//! `--format text|json|sarif|junit|github` of `check` and `lint` through the
//! real binary: a snapshot of every format for a failing run, an all-pass
//! run and a lint run; SARIF validated against the SARIF 2.1.0 schema; JUnit
//! parsed back; the workflow commands' shape; exit codes that do not depend
//! on the format; and no progress bar without a terminal.

use std::process::{Command, Output};

const PLAYBOOK: &str = "tests/fixtures/checks/playbook.yaml";
const FORMATS: [&str; 5] = ["text", "json", "sarif", "junit", "github"];
/// The `gate` step's fixtures: one passes, two fail (a malformed closing
/// line, a missing decision), one passes with two warnings.
const GATE_FILES: [&str; 4] = [
    "tests/fixtures/checks/gate-pass.md",
    "tests/fixtures/checks/gate-line-malformed.md",
    "tests/fixtures/checks/decision-missing.md",
    "tests/fixtures/checks/tbd-remains.md",
];
const PASSING: [&str; 1] = ["tests/fixtures/checks/gate-pass.md"];
const BROKEN_PLAYBOOK: &str = "tests/fixtures/playbooks/check-reads-unknown-artifact.yaml";

fn tollgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("TOLLGATE_PLAYBOOK")
        .args(["--root", ".", "--color", "never", "--playbook", PLAYBOOK])
        .args(args)
        .output()
        .expect("the binary runs")
}

/// `check --step gate --format FORMAT [EXTRA...] FILES...`.
fn check(format: &str, extra: &[&str], files: &[&str]) -> Output {
    let mut args = vec!["check", "--step", "gate", "--format", format];
    args.extend(extra);
    args.extend(files);
    tollgate(&args)
}

fn lint(format: &str) -> Output {
    tollgate(&["lint", "--format", format, BROKEN_PLAYBOOK, PLAYBOOK])
}

/// Stdout, with the version the SARIF driver reports made stable.
fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone())
        .expect("stdout is UTF-8")
        .replace(
            &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
            "\"version\": \"[VERSION]\"",
        )
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("the process exited")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

#[test]
fn every_format_of_a_failing_run() {
    for format in FORMATS {
        let output = check(format, &[], &GATE_FILES);
        assert_eq!(code(&output), 1, "{format}");
        insta::assert_snapshot!(format!("check_failing_{format}"), stdout(&output));
    }
}

#[test]
fn every_format_of_an_all_passing_run() {
    for format in FORMATS {
        let output = check(format, &[], &PASSING);
        assert_eq!(code(&output), 0, "{format}");
        insta::assert_snapshot!(format!("check_passing_{format}"), stdout(&output));
    }
}

#[test]
fn every_format_of_lint() {
    for format in FORMATS {
        let output = lint(format);
        assert_eq!(code(&output), 1, "{format}");
        insta::assert_snapshot!(format!("lint_{format}"), stdout(&output));
    }
}

#[test]
fn exit_codes_do_not_depend_on_the_format() {
    let tbd = ["tests/fixtures/checks/tbd-remains.md"];
    let missing = ["tests/fixtures/checks/no-such-file.md"];
    for format in FORMATS {
        assert_eq!(
            code(&check(format, &[], &tbd)),
            0,
            "{format}: warnings pass"
        );
        assert_eq!(code(&check(format, &["--strict"], &tbd)), 1, "{format}");
        assert_eq!(code(&check(format, &[], &missing)), 2, "{format}");
    }
}

/// The SARIF 2.1.0 schema as the `serde-sarif` crate ships it
/// (`src/schema.json` of its package), found through `cargo metadata` so the
/// test reads the published schema rather than a copy of it. Only the host's
/// dependencies are resolved: they are the ones already downloaded.
fn sarif_schema() -> serde_json::Value {
    // The rustc beside the cargo running the tests, else the one on PATH.
    let beside_cargo = std::path::Path::new(env!("CARGO")).with_file_name("rustc");
    let rustc = if beside_cargo.exists() {
        beside_cargo
    } else {
        "rustc".into()
    };
    let rustc = std::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc runs");
    let rustc = String::from_utf8(rustc.stdout).expect("rustc prints UTF-8");
    let host = rustc
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host");
    let metadata = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", host])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(metadata.status.success(), "{metadata:?}");
    let metadata: serde_json::Value =
        serde_json::from_slice(&metadata.stdout).expect("cargo metadata prints JSON");
    let manifest = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|package| package["name"] == "serde-sarif")
        .and_then(|package| package["manifest_path"].as_str())
        .expect("serde-sarif is a dependency");
    let path = std::path::Path::new(manifest)
        .with_file_name("src")
        .join("schema.json");
    let text = std::fs::read_to_string(&path).expect("serde-sarif ships its schema");
    serde_json::from_str(&text).expect("the schema is JSON")
}

fn sarif_validator() -> jsonschema::Validator {
    let mut schema = sarif_schema();
    // The schema's pattern for `language` (of a run and of a tool
    // component) has a stray `]`, which is not a valid ECMA 262 regex, so the
    // draft-07 meta-schema rejects the whole schema. Tollgate never writes
    // `language`; the two patterns are dropped here.
    for definition in ["run", "toolComponent"] {
        let language = &mut schema["definitions"][definition]["properties"]["language"];
        let pattern = language.as_object_mut().and_then(|o| o.remove("pattern"));
        assert_eq!(
            pattern.as_ref().and_then(|p| p.as_str()),
            Some("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$"),
            "{definition}"
        );
    }
    jsonschema::draft7::new(&schema).expect("the SARIF schema compiles")
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let validator = sarif_validator();
    let runs = [
        ("failing", check("sarif", &[], &GATE_FILES)),
        ("passing", check("sarif", &[], &PASSING)),
        ("lint", lint("sarif")),
    ];
    for (name, output) in runs {
        let log = json(&output);
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
    // The schema is strict enough to notice a broken log.
    let mut broken = json(&check("sarif", &[], &GATE_FILES));
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
}

#[test]
fn sarif_files_every_finding_under_a_rule_with_its_kind_and_hint() {
    let log = json(&check("sarif", &[], &GATE_FILES));
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["gate-line", "decision-recorded", "no-tbd"]);
    for rule in rules {
        assert_eq!(rule["properties"]["tags"][0], "pattern");
        assert!(
            rule["help"]["text"]
                .as_str()
                .unwrap()
                .contains("write the line")
        );
    }
    let results = run["results"].as_array().unwrap();
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["error", "error", "warning", "warning"]);
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(result["ruleId"], rules[index]["id"]);
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("tests/fixtures/checks/"), "{uri}");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
    }
    let malformed = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (
            malformed["startLine"].as_u64(),
            malformed["endColumn"].as_u64()
        ),
        (Some(7), Some(11))
    );
}

/// `(name, tests, failures, skipped)` of each test suite, and the root.
fn junit_counts(xml: &str) -> Vec<(String, String, String, String)> {
    let document = roxmltree::Document::parse(xml).expect("the JUnit output is XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    std::iter::once(root)
        .chain(root.children().filter(|n| n.has_tag_name("testsuite")))
        .map(|n| {
            let attr = |name| n.attribute(name).unwrap_or_default().to_string();
            (
                attr("name"),
                attr("tests"),
                attr("failures"),
                attr("skipped"),
            )
        })
        .collect()
}

#[test]
fn junit_parses_back_with_a_case_per_check_and_the_findings_in_failures() {
    let xml = stdout(&check("junit", &[], &GATE_FILES));
    let counts = junit_counts(&xml);
    let row = |name: &str, tests: &str, failures: &str, skipped: &str| {
        (name.into(), tests.into(), failures.into(), skipped.into())
    };
    assert_eq!(
        counts,
        [
            row("tollgate check", "12", "2", "0"),
            row("tests/fixtures/checks/gate-pass.md", "3", "0", "0"),
            row(
                "tests/fixtures/checks/gate-line-malformed.md",
                "3",
                "1",
                "0"
            ),
            row("tests/fixtures/checks/decision-missing.md", "3", "1", "0"),
            row("tests/fixtures/checks/tbd-remains.md", "3", "0", "0"),
        ]
    );
    let document = roxmltree::Document::parse(&xml).unwrap();
    let failure = document
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert_eq!(
        failure.parent().unwrap().attribute("name"),
        Some("gate-line")
    );
    assert_eq!(
        failure.parent().unwrap().attribute("classname"),
        Some("pattern")
    );
    assert!(
        failure
            .text()
            .unwrap()
            .starts_with("tests/fixtures/checks/gate-line-malformed.md:7:1: error[gate-line]: ")
    );
    // Warnings that do not fail the gate are the case's output...
    let out = document
        .descendants()
        .find(|n| n.has_tag_name("system-out"))
        .expect("the warnings");
    assert!(
        out.text()
            .unwrap()
            .contains("tbd-remains.md:5:64: warning[no-tbd]")
    );
    // ... and failures with --strict, as the gate is.
    let strict = stdout(&check("junit", &["--strict"], &GATE_FILES));
    assert_eq!(junit_counts(&strict)[0].2, "3");
}

#[test]
fn junit_of_lint_has_a_suite_per_playbook() {
    let xml = stdout(&lint("junit"));
    let counts = junit_counts(&xml);
    assert_eq!(counts.len(), 3);
    assert_eq!(counts[1].0, BROKEN_PLAYBOOK);
    assert_eq!((counts[1].2.as_str(), counts[2].2.as_str()), ("1", "0"));
}

#[test]
fn github_commands_annotate_each_finding_at_its_lines() {
    let text = stdout(&check("github", &[], &GATE_FILES));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(
        lines[0],
        "::error file=tests/fixtures/checks/gate-line-malformed.md,line=7,col=1,endColumn=10,\
title=gate-line::the last line is \"Gate: FAIL\"; it must match `^Gate: (PASS|FAIL — .+)$`"
    );
    assert!(lines[1].starts_with("::error file=tests/fixtures/checks/decision-missing.md,"));
    // A help line travels in the same command, its line break escaped.
    assert!(lines[1].ends_with("%0Ahelp: write the line this pattern expects"));
    assert!(lines[2].starts_with("::warning ") && lines[3].starts_with("::warning "));
    assert_eq!(
        lines[4],
        "4 files checked: 2 passed, 2 failed — 2 errors, 2 warnings"
    );
    let quiet = check("github", &["--quiet"], &GATE_FILES);
    assert_eq!(stdout(&quiet).lines().count(), 4);
}

#[test]
fn the_text_report_ends_with_a_summary_and_hints_each_kind_once_per_file() {
    let text = stdout(&check("text", &[], &GATE_FILES));
    assert!(text.ends_with("4 files checked: 2 passed, 2 failed — 2 errors, 2 warnings\n"));
    // tbd-remains.md has two findings of one `pattern` check: one hint.
    let tail = &text[text.find("tbd-remains.md: passed").unwrap()..];
    assert_eq!(tail.matches("hint (pattern): ").count(), 1);
}

#[test]
fn no_progress_bar_is_drawn_without_a_terminal() {
    // More files than the bar's threshold, with stderr a pipe.
    let files = [PASSING[0]; 30];
    let output = check("text", &[], &files);
    assert_eq!(code(&output), 0);
    assert!(output.stderr.is_empty(), "{:?}", output.stderr);
    assert!(stdout(&output).ends_with("30 files checked: 30 passed — 0 errors, 0 warnings\n"));
}

#[test]
fn a_suppressed_finding_is_a_sarif_result_with_its_reason() {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("TOLLGATE_PLAYBOOK")
        .args(["--root", ".", "--color", "never"])
        .args(["--playbook", "tests/fixtures/suppress/playbook.yaml"])
        .args(["check", "--step", "plan", "--format", "sarif"])
        .arg("tests/fixtures/suppress/disable-with-reason.md")
        .output()
        .expect("the binary runs");
    assert_eq!(
        code(&output),
        0,
        "only suppressed findings: the step passes"
    );
    let log = json(&output);
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    insta::assert_json_snapshot!("check_suppressed_sarif_results", log["runs"][0]["results"]);
}
