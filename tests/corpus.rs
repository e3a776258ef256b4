//! The checks on real planning documents from public repositories, in
//! `../shared/corpus/real/` beside the crate. The corpus is not part of the
//! repository: when it is absent these tests say so and pass.
//!
//! Its text is never copied here: the tests assert counts, line numbers and
//! columns, each verified by reading the files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tollgate::engine::{Options, StatelessRun, StepResult, Verdict};
use tollgate::markdown::Document;
use tollgate::playbook::LoadedPlaybook;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/real");

/// The spec-kit plan template's sections, and the markers it leaves.
const PLAYBOOK: &str = r#"
tollgate: 1
name: corpus
phases: [{ id: none }, { id: planned }]
artifacts: { plan: plan.md }
steps:
  - id: plan
    from: none
    to: planned
    checks:
      - id: speckit-sections
        artifact: plan
        sections: [Summary, Technical Context, Constitution Check, Project Structure, Complexity Tracking]
      - id: clarified
        artifact: plan
        placeholders: ["NEEDS CLARIFICATION"]
      - id: template-leftovers
        artifact: plan
        placeholders: ["[FEATURE]", "[DATE]", "[###-feature-name]", "TODO:"]
"#;

/// The corpus folder, or `None` (with a note) when it is not there.
fn corpus() -> Option<&'static Path> {
    let dir = Path::new(CORPUS);
    if dir.is_dir() {
        Some(dir)
    } else {
        // Straight to stderr: the test harness captures `eprintln!` of a
        // passing test, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {CORPUS} is absent; the real-corpus tests check nothing"
        );
        None
    }
}

/// Every `.md` file under `dir`, sorted.
fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The one spec-kit plan whose file name starts with `prefix` (the
/// repository owner).
fn plan(dir: &Path, prefix: &str) -> PathBuf {
    let found: Vec<PathBuf> = markdown_files(&dir.join("speckit-plans"))
        .into_iter()
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(prefix)
        })
        .collect();
    assert_eq!(found.len(), 1, "{prefix}: {found:?}");
    found.into_iter().next().unwrap()
}

fn playbook() -> &'static LoadedPlaybook {
    static PLAYBOOK_LOADED: OnceLock<LoadedPlaybook> = OnceLock::new();
    PLAYBOOK_LOADED.get_or_init(|| {
        LoadedPlaybook::from_source(
            Path::new("corpus.yaml"),
            "corpus.yaml",
            PLAYBOOK.to_string(),
        )
        .expect("the corpus playbook loads")
    })
}

fn check(path: &Path) -> StepResult {
    let run = StatelessRun::new(&playbook().playbook, "plan", None, Options::default()).unwrap();
    run.check_file(path, &path.file_name().unwrap().to_string_lossy())
}

/// `(line, column, end column)` of each finding of one check.
fn places(result: &StepResult, check: &str) -> Vec<(usize, usize, usize)> {
    result
        .findings()
        .filter(|finding| finding.code == check)
        .map(|finding| {
            let start = finding.start.unwrap();
            let end = finding.end.unwrap_or(start);
            assert_eq!(end.line, start.line);
            (start.line, start.column, end.column)
        })
        .collect()
}

fn parse(path: &Path) -> Document {
    let bytes = std::fs::read(path).unwrap();
    Document::parse(path.to_string_lossy(), &bytes).expect("the corpus is UTF-8")
}

#[test]
fn every_document_parses_and_every_check_runs() {
    let Some(dir) = corpus() else { return };
    let files = markdown_files(dir);
    assert!(files.len() >= 30, "only {} documents", files.len());
    for path in &files {
        let doc = parse(path);
        let lines = doc.line_count();
        for section in &doc.sections {
            assert!(
                section.position.line <= section.end_line && section.end_line <= lines,
                "{path:?}"
            );
            assert!((1..=6).contains(&section.level), "{path:?}");
        }
        for table in &doc.tables {
            assert!(
                table
                    .rows
                    .iter()
                    .all(|row| row.cells.len() == table.header.len()),
                "{path:?}"
            );
            assert!(table.end_line <= lines, "{path:?}");
        }
        assert!(
            doc.tasks.iter().all(|task| task.position.line <= lines),
            "{path:?}"
        );
        let result = check(path);
        assert!(!result.unreadable, "{path:?}");
        for finding in result.findings() {
            let start = finding.start.unwrap();
            assert!(
                start.line >= 1 && start.line <= lines.max(1),
                "{path:?}: {finding:?}"
            );
        }
    }
}

#[test]
fn sections_are_found_as_written() {
    let Some(dir) = corpus() else { return };
    let doc = parse(&plan(dir, "HamCraft__"));
    let levels: Vec<u8> = doc.sections.iter().map(|s| s.level).collect();
    assert_eq!(levels, [1, 2, 2, 2, 2, 3, 3, 2]);
    let lines: Vec<usize> = doc.sections.iter().map(|s| s.position.line).collect();
    assert_eq!(lines, [1, 8, 12, 24, 30, 32, 44, 63]);
    assert_eq!(doc.line_count(), 70);

    // CRLF line endings: every line counted once.
    let path = plan(dir, "microsoft__");
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.windows(2).any(|pair| pair == b"\r\n"));
    let doc = parse(&path);
    assert_eq!(
        doc.line_count(),
        bytes.iter().filter(|&&b| b == b'\n').count()
    );
    assert_eq!(doc.sections.len(), 19);

    assert_eq!(parse(&plan(dir, "ayeshadev283-max__")).sections.len(), 47);
}

#[test]
fn speckit_plans_lacking_complexity_tracking_are_the_only_ones_failing_sections() {
    let Some(dir) = corpus() else { return };
    let mut failing = Vec::new();
    for path in markdown_files(&dir.join("speckit-plans")) {
        let result = check(&path);
        let places = places(&result, "speckit-sections");
        if !places.is_empty() {
            let messages: Vec<&str> = result
                .findings()
                .filter(|f| f.code == "speckit-sections")
                .map(|f| f.message.as_str())
                .collect();
            assert_eq!(
                messages,
                ["missing section \"Complexity Tracking\""],
                "{path:?}"
            );
            assert_eq!(places, [(1, 1, 1)]);
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            failing.push(name.split("__").next().unwrap().to_string());
        }
    }
    assert_eq!(failing, ["Rakson0209", "drummerdox", "koshun225"]);
}

#[test]
fn needs_clarification_as_a_field_value_is_flagged() {
    let Some(dir) = corpus() else { return };
    let result = check(&plan(dir, "HamCraft__"));
    assert_eq!(result.verdict, Verdict::Failed);
    assert_eq!(
        places(&result, "clarified"),
        [
            (14, 72, 91),
            (15, 72, 91),
            (17, 14, 33),
            (20, 24, 43),
            (21, 18, 37),
            (22, 18, 37),
            (28, 1, 20),
        ]
    );
    let result = check(&plan(dir, "OnishellT__"));
    assert_eq!(
        places(&result, "clarified"),
        [(21, 24, 43), (22, 18, 37), (23, 18, 37)]
    );
}

#[test]
fn needs_clarification_only_mentioned_is_not_flagged() {
    let Some(dir) = corpus() else { return };
    for owner in ["Arne-Martin__", "HIRO15254__"] {
        let path = plan(dir, owner);
        // The marker is in the text, once, in a sentence saying none remain.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("NEEDS CLARIFICATION").count(), 1, "{owner}");
        let result = check(&path);
        assert_eq!(places(&result, "clarified"), [], "{owner}");
        assert_eq!(result.verdict, Verdict::Passed, "{owner}");
    }
}

#[test]
fn unfilled_template_fields_are_flagged() {
    let Some(dir) = corpus() else { return };
    let result = check(&plan(dir, "shingle2302__"));
    assert_eq!(
        places(&result, "template-leftovers"),
        [(1, 24, 33), (3, 14, 32), (3, 46, 52), (4, 47, 65)]
    );
}
