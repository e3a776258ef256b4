//! The bundled spec-kit playbook over the real spec-kit plans and
//! templates of `../shared/corpus/real/`, through the real binary. When the
//! corpus is absent these tests say so and pass; so does each kind of
//! template it does not hold.
//!
//! What each document must do comes from `MANIFEST.tsv`, never from a list
//! here: a plan whose note starts with "filled" (including "filled except
//! …", leftovers the author still counts as filled) must pass the plan step;
//! any other plan ("partly filled", "mostly filled", "contains NEEDS
//! CLARIFICATION …") and every plan template must fail it.

use std::io::Write;
use std::path::Path;
use std::process::Command;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/real");
const PLAYBOOK: &str = "playbooks/spec-kit.yaml";

/// The checks that say a plan is not filled in.
const UNFILLED_CHECKS: [&str; 3] = ["plan-clarified", "plan-template-values", "structure-chosen"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Filled,
    Unfilled,
    Template,
}

/// One document of the manifest.
#[derive(Debug)]
struct Entry {
    /// The path under the corpus folder.
    file: String,
    class: Class,
}

/// The manifest's spec-kit plans and plan templates, or `None` (with a
/// note) when the corpus is not there.
fn plans() -> Option<Vec<Entry>> {
    let manifest = Path::new(CORPUS).join("MANIFEST.tsv");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        // Straight to stderr: the test harness captures `eprintln!` of a
        // passing test, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {CORPUS} is absent; the spec-kit corpus tests check nothing"
        );
        return None;
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header row").split('\t').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("MANIFEST.tsv has no column {name}"))
    };
    let (file, category, note) = (column("file"), column("category"), column("note"));
    let entries = lines
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let class = match cells[category] {
                "speckit-plans" if cells[note].trim_start().starts_with("filled") => Class::Filled,
                "speckit-plans" => Class::Unfilled,
                "templates" if cells[file].ends_with("plan-template.md") => Class::Template,
                _ => return None,
            };
            Some(Entry {
                file: cells[file].to_string(),
                class,
            })
        })
        .collect();
    Some(entries)
}

/// `tollgate check --step STEP [--artifact A] --format json` over the
/// files; the JSON results by the path they were given as.
fn check(step: &str, artifact: Option<&str>, files: &[String]) -> Vec<serde_json::Value> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "--playbook",
            PLAYBOOK,
            "--color",
            "never",
            "check",
            "--step",
            step,
        ])
        .args(["--format", "json"]);
    if let Some(artifact) = artifact {
        command.args(["--artifact", artifact]);
    }
    let output = command
        .args(files.iter().map(|file| Path::new(CORPUS).join(file)))
        .output()
        .expect("the binary runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the output is JSON");
    let results = json["results"]
        .as_array()
        .expect("a list of results")
        .clone();
    assert_eq!(results.len(), files.len());
    results
}

/// The checks of a result's error findings.
fn errors(result: &serde_json::Value) -> Vec<String> {
    result["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|finding| finding["severity"] == "error")
        .map(|finding| finding["check"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn filled_plans_pass_and_unfilled_plans_and_templates_fail() {
    let Some(entries) = plans() else { return };
    let files: Vec<String> = entries.iter().map(|entry| entry.file.clone()).collect();
    let results = check("plan", None, &files);
    let mut counts = [
        (Class::Filled, 0),
        (Class::Unfilled, 0),
        (Class::Template, 0),
    ];
    for (entry, result) in entries.iter().zip(&results) {
        let path = result["artifacts"]["plan"].as_str().unwrap_or_default();
        assert!(path.ends_with(&entry.file), "{path} for {}", entry.file);
        let verdict = result["verdict"].as_str().unwrap_or_default();
        let errors = errors(result);
        match entry.class {
            Class::Filled => {
                assert_eq!(verdict, "awaiting_approval", "{}: {errors:?}", entry.file);
                assert!(errors.is_empty(), "{}: {errors:?}", entry.file);
            }
            Class::Unfilled | Class::Template => {
                assert_eq!(verdict, "failed", "{}", entry.file);
                assert!(
                    errors.iter().any(|e| UNFILLED_CHECKS.contains(&e.as_str())),
                    "{} fails, but not for what is left unfilled: {errors:?}",
                    entry.file
                );
            }
        }
        for (class, count) in &mut counts {
            *count += usize::from(*class == entry.class);
        }
    }
    eprintln!("spec-kit plan step over the corpus: {counts:?}, as the manifest expects");
    for (class, count) in counts {
        assert!(count >= 2, "only {count} documents of class {class:?}");
    }
}

#[test]
fn a_marker_only_mentioned_in_a_filled_plan_is_not_flagged() {
    let Some(entries) = plans() else { return };
    let mentioning: Vec<String> = entries
        .iter()
        .filter(|entry| entry.class == Class::Filled)
        .filter(|entry| {
            std::fs::read_to_string(Path::new(CORPUS).join(&entry.file))
                .is_ok_and(|text| text.contains("NEEDS CLARIFICATION"))
        })
        .map(|entry| entry.file.clone())
        .collect();
    assert!(!mentioning.is_empty(), "no filled plan mentions the marker");
    for result in check("plan", None, &mentioning) {
        let flagged: Vec<String> = errors(&result)
            .into_iter()
            .filter(|check| check == "plan-clarified")
            .collect();
        assert!(flagged.is_empty(), "{}", result["artifacts"]["plan"]);
    }
}

#[test]
fn real_tasks_files_pass_the_tasks_step() {
    let Some(_) = plans() else { return };
    let manifest = std::fs::read_to_string(Path::new(CORPUS).join("MANIFEST.tsv")).unwrap();
    let files: Vec<String> = manifest
        .lines()
        .filter_map(|line| line.split('\t').next())
        .filter(|file| file.starts_with("templates/") && file.ends_with("tasks.md"))
        .map(str::to_string)
        .collect();
    assert!(!files.is_empty(), "no tasks.md in the manifest");
    for result in check("tasks", None, &files) {
        assert_eq!(result["verdict"], "passed", "{result:#}");
    }
}

/// Each spec-kit template by the end of its file name: the step that judges
/// what is written from it, the artifact it stands for, and the checks that
/// say a template value is left in it.
const TEMPLATES: [(&str, &str, &str, &[&str]); 5] = [
    (
        "constitution-template.md",
        "constitution",
        "constitution",
        &["constitution-values"],
    ),
    (
        "spec-template.md",
        "specify",
        "spec",
        &["spec-template-values"],
    ),
    ("plan-template.md", "plan", "plan", &UNFILLED_CHECKS),
    (
        "tasks-template.md",
        "tasks",
        "tasks",
        &["tasks-template-values"],
    ),
    (
        "checklist-template.md",
        "implement",
        "checklists",
        &["checklist-template-values"],
    ),
];

#[test]
fn the_corpus_spec_kit_templates_fail_their_step_for_their_values() {
    let folder = Path::new(CORPUS).join("templates");
    let Ok(entries) = std::fs::read_dir(&folder) else {
        eprintln!(
            "note: {} is absent; no spec-kit template is checked",
            folder.display()
        );
        return;
    };
    let names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    for (ending, step, artifact, value_checks) in TEMPLATES {
        let files: Vec<String> = names
            .iter()
            .filter(|name| name.ends_with(ending))
            .map(|name| format!("templates/{name}"))
            .collect();
        if files.is_empty() {
            eprintln!("note: the corpus holds no {ending}; that step is not checked here");
            continue;
        }
        for (file, result) in files.iter().zip(check(step, Some(artifact), &files)) {
            assert_eq!(result["verdict"], "failed", "{file}");
            let errors = errors(&result);
            assert!(
                errors.iter().any(|e| value_checks.contains(&e.as_str())),
                "{file} fails, but not for a template value: {errors:?}"
            );
        }
        eprintln!("{step} fails each of the corpus's {} {ending}", files.len());
    }
}
