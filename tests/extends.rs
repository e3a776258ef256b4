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

#[test]
fn a_bundled_playbook_is_extended_by_name_with_its_plugins_read_from_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ours.yaml",
        &[
            "extends: specflow",
            "name: ours",
            "steps:",
            "  - id: plan",
            "    gate: automated",
            "    review: []",
        ],
    );
    let loaded = LoadedPlaybook::load(&dir.path().join("ours.yaml"), "ours.yaml").unwrap();
    assert_eq!(loaded.playbook.name, "ours");
    assert_eq!(
        loaded.playbook.plugins["pai"],
        "tollgate:bundled/plugins/pai_principles.lua"
    );
    assert_eq!(
        loaded.file_of("/steps/0/checks/0"),
        "tollgate:bundled/playbooks/specflow.yaml"
    );
    let lint = lint::lint(&loaded);
    assert!(lint.diagnostics.is_empty(), "{:#?}", lint.diagnostics);
}

#[test]
fn a_name_that_is_not_bundled_is_a_missing_base_that_lists_the_bundled_ones() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ours.yaml", &["extends: specflo", "name: ours"]);
    let error = LoadedPlaybook::load(&dir.path().join("ours.yaml"), "ours.yaml").unwrap_err();
    let diagnostic = &error.diagnostics[0];
    assert_eq!(diagnostic.code, "missing-base");
    let help = diagnostic.help.as_deref().unwrap_or_default();
    assert!(help.contains("specflow, specflow-automated"), "{help}");
}

#[test]
fn add_sections_appends_to_a_base_check_without_repeating_it() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "tollgate: 1",
        "name: base",
        "phases: [{ id: a }, { id: b }]",
        "artifacts: { doc: doc.md }",
        "steps:",
        "  - id: write",
        "    from: a",
        "    to: b",
        "    checks:",
        "      - { id: covers, artifact: doc, sections: [Goals, Risks] }",
        "      - { id: words, artifact: doc, words: { min: 1 } }",
    ];
    write(dir.path(), "base.yaml", &base);
    write(
        dir.path(),
        "variant.yaml",
        &[
            "extends: base.yaml",
            "steps:",
            "  - id: write",
            "    checks:",
            "      - id: covers",
            "        severity: warning",
            "        add_sections: [Rollback, { title: Owners, aliases: [Team] }]",
        ],
    );
    let loaded = LoadedPlaybook::load(&dir.path().join("variant.yaml"), "variant.yaml").unwrap();
    let checks = loaded.playbook.step_checks(0);
    let covers = checks[0].1;
    let tollgate::playbook::CheckKind::Sections(spec) = &covers.kind else {
        panic!("{covers:?}");
    };
    let titles: Vec<&str> = spec.sections.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, ["Goals", "Risks", "Rollback", "Owners"]);
    assert_eq!(spec.sections[3].aliases, ["Team"]);
    assert_eq!(covers.severity.as_str(), "warning");
    assert_eq!(covers.artifact.as_deref(), Some("doc"));
    assert_eq!(checks.len(), 2);
    // The base's sections point into the base, the added ones into the variant.
    assert_eq!(loaded.file_of("/steps/0/checks/0/sections/1"), "base.yaml");
    assert_eq!(
        loaded.file_of("/steps/0/checks/0/sections/2"),
        "variant.yaml"
    );
    assert_eq!(
        loaded
            .position("/steps/0/checks/0/sections/3")
            .map(|p| p.line),
        Some(7)
    );
    assert!(lint::lint(&loaded).diagnostics.is_empty());
}

#[test]
fn add_sections_that_patches_nothing_is_an_error_at_the_variant() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "base.yaml", &BASE);
    write(
        dir.path(),
        "variant.yaml",
        &[
            "extends: base.yaml",
            "steps:",
            "  - id: write",
            "    checks:",
            "      - { id: tow, add_sections: [Rollback] }",
            "      - { id: two, add_sections: [Rollback] }",
        ],
    );
    let error = LoadedPlaybook::load(&dir.path().join("variant.yaml"), "variant.yaml").unwrap_err();
    let found: Vec<(&str, &str, usize)> = error
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.code.as_str(),
                d.path.as_str(),
                d.start.map_or(0, |p| p.line),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("unknown-base-check", "variant.yaml", 5),
            ("add-sections-to-other-kind", "variant.yaml", 6)
        ]
    );
    assert!(
        error.diagnostics[0]
            .help
            .as_deref()
            .unwrap_or_default()
            .contains("two"),
        "{:?}",
        error.diagnostics[0]
    );
}

#[test]
fn add_sections_in_a_playbook_that_extends_nothing_says_where_it_belongs() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = BASE.to_vec();
    lines.push("      - { id: four, artifact: doc, add_sections: [Rollback] }");
    write(dir.path(), "alone.yaml", &lines);
    let error = LoadedPlaybook::load(&dir.path().join("alone.yaml"), "alone.yaml").unwrap_err();
    let message = &error.diagnostics[0].message;
    assert!(
        message.contains("`add_sections` adds to a check of the base playbook"),
        "{message}"
    );
    assert_eq!(error.diagnostics[0].start.map(|p| p.line), Some(14));
}
