//! `extends:` through the library: the merge rules on small playbooks in a
//! temporary folder, and where diagnostics point when bases are involved.
//! The lint codes of `extends:` have their fixtures in `tests/lint.rs`.

use std::path::Path;

use tollgate::diagnostic::Diagnostic;
use tollgate::playbook::{LoadedPlaybook, lint};

fn write(dir: &Path, name: &str, lines: &[&str]) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, lines.join("\n")).unwrap();
}

const BASE: [&str; 13] = [
    "tollgate: 1",
    "name: base",
    "phases: [{ id: a }, { id: b }]",
    "artifacts: { doc: doc.md }",
    "plugins: { p: ../plugins/p.lua }",
    "steps:",
    "  - id: write",
    "    from: a",
    "    to: b",
    "    checks:",
    "      - { id: one, artifact: doc, exists: true }",
    "      - { id: two, artifact: doc, words: { min: 1 } }",
    "      - { id: three, artifact: doc, placeholders: [TODO] }",
];

#[test]
fn checks_are_removed_replaced_and_added_by_id_with_their_positions() {
    let dir = tempfile::tempdir().unwrap();
    let variant = [
        "extends: base/process.yaml",
        "steps:",
        "  - id: write",
        "    remove_checks: [one]",
        "    checks:",
        "      - { id: three, artifact: doc, placeholders: [TBD] }",
        "      - { id: four, artifact: doc, exists: true }",
    ];
    write(dir.path(), "base/process.yaml", &BASE);
    write(dir.path(), "variant.yaml", &variant);
    let loaded = LoadedPlaybook::load(&dir.path().join("variant.yaml"), "variant.yaml").unwrap();
    let checks = loaded.playbook.step_checks(0);
    let ids: Vec<&str> = checks.iter().map(|(_, c)| c.id.as_str()).collect();
    assert_eq!(ids, ["two", "three", "four"]);
    let files: Vec<&str> = (0..3)
        .map(|i| loaded.file_of(&format!("/steps/0/checks/{i}")))
        .collect();
    assert_eq!(files, ["base/process.yaml", "variant.yaml", "variant.yaml"]);
    assert_eq!(
        loaded.position("/steps/0/checks/0").map(|p| p.line),
        Some(12)
    );
    assert_eq!(
        loaded.position("/steps/0/checks/2").map(|p| p.line),
        Some(7)
    );
    // The base's plugin path, relative to the base, now reads from here.
    assert_eq!(loaded.playbook.plugins["p"], "plugins/p.lua");
}

#[test]
fn top_level_maps_merge_by_name_and_other_keys_replace() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "base.yaml", &BASE);
    write(
        dir.path(),
        "variant.yaml",
        &[
            "extends: base.yaml",
            "name: variant",
            "artifacts: { notes: notes.md }",
            "phases: [{ id: a }, { id: b, label: done }]",
        ],
    );
    let loaded = LoadedPlaybook::load(&dir.path().join("variant.yaml"), "variant.yaml").unwrap();
    let artifacts: Vec<&str> = loaded
        .playbook
        .artifacts
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(artifacts, ["doc", "notes"]);
    assert_eq!(loaded.playbook.phases[1].label(), "done");
    assert_eq!(loaded.playbook.name, "variant");
    assert_eq!(loaded.file_of("/artifacts/doc"), "base.yaml");
    assert_eq!(loaded.file_of("/artifacts/notes"), "variant.yaml");
    assert_eq!(loaded.file_of("/phases/1"), "variant.yaml");
    assert_eq!(loaded.file_of("/steps/0/checks/0"), "base.yaml");
}

/// Lints `variant.yaml`, which only extends `base.yaml` (written from
/// `base`), and returns the lint with its first diagnostic of `code`.
fn lint_through_variant(dir: &Path, base: &[&str], code: &str) -> (lint::Lint, Diagnostic) {
    write(dir, "base.yaml", base);
    write(
        dir,
        "variant.yaml",
        &["extends: base.yaml", "name: variant"],
    );
    let loaded = LoadedPlaybook::load(&dir.join("variant.yaml"), "variant.yaml").unwrap();
    let lint = lint::lint(&loaded);
    let found = lint
        .diagnostics
        .iter()
        .find(|d| d.code == code)
        .unwrap_or_else(|| panic!("{code} is reported"))
        .clone();
    (lint, found)
}

#[test]
fn a_defect_in_the_base_is_reported_in_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let mut broken = BASE.to_vec();
    broken[8] = "    to: c";
    let (lint, unknown) = lint_through_variant(dir.path(), &broken, "unknown-phase");
    assert_eq!(unknown.path, "base.yaml");
    assert_eq!(unknown.start.map(|p| (p.line, p.column)), Some((9, 9)));
    // Its text is there for the code frame.
    assert!(
        lint.extra_sources
            .iter()
            .any(|(path, _)| path == "base.yaml")
    );

    // A base that breaks the schema does not load; the error names it.
    broken[2] = "phases: {}";
    write(dir.path(), "base.yaml", &broken);
    let error = LoadedPlaybook::load(&dir.path().join("variant.yaml"), "variant.yaml").unwrap_err();
    assert_eq!(error.display, "base.yaml");
    assert!(error.diagnostics.iter().all(|d| d.path == "base.yaml"));
}

#[test]
fn a_chain_of_bases_deeper_than_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p0.yaml", &BASE);
    for i in 1..=20 {
        let extends = format!("extends: p{}.yaml", i - 1);
        write(dir.path(), &format!("p{i}.yaml"), &[&extends, "name: deep"]);
    }
    let error = LoadedPlaybook::load(&dir.path().join("p20.yaml"), "p20.yaml").unwrap_err();
    assert_eq!(error.diagnostics[0].code, "extends-cycle");
    assert!(
        error.diagnostics[0]
            .message
            .contains("more than 16 playbooks deep")
    );
    // Within the limit, a chain merges.
    let loaded = LoadedPlaybook::load(&dir.path().join("p10.yaml"), "p10.yaml").unwrap();
    assert_eq!(loaded.bases.len(), 10);
    assert_eq!(loaded.file_of("/steps/0/from"), "p0.yaml");
}

#[test]
fn remove_checks_in_a_base_that_extends_nothing_is_reported_in_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let mut base = BASE.to_vec();
    base.insert(9, "    remove_checks: [one]");
    let (_, removal) = lint_through_variant(dir.path(), &base, "remove-without-extends");
    assert_eq!(removal.path, "base.yaml");
    assert_eq!(removal.start.map(|p| p.line), Some(10));
}
