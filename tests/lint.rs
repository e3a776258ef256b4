//! The playbook linter through the library, as `tollgate lint` uses it.
//!
//! Every playbook in `tests/fixtures/playbooks/` is broken in the one way
//! its name says; its diagnostics, rendered as text with code frames, are
//! snapshotted. A table ties each fixture to the code it shows, and every
//! code the linter emits must have a fixture. The bundled playbooks in
//! `playbooks/` must lint clean and validate against the committed schema.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::LazyLock;

use tollgate::diagnostic::Diagnostic;
use tollgate::playbook::{LoadedPlaybook, lint};
use tollgate::report::{Sources, diagnostics_to_string};

const FIXTURES: &str = "tests/fixtures/playbooks";

/// Each fixture and the diagnostic code it is named for.
const FIXTURE_CODES: &[(&str, &str)] = &[
    // Loading: the file is not a usable YAML mapping.
    ("not-utf8.yaml", "not-utf8"),
    ("empty-file.yaml", "empty-file"),
    ("only-comments.yaml", "empty-file"),
    ("unclosed-flow-sequence.yaml", "yaml-syntax"),
    ("unclosed-flow-mapping.yaml", "yaml-syntax"),
    ("tab-indentation.yaml", "yaml-syntax"),
    ("two-documents.yaml", "yaml-syntax"),
    ("duplicate-key.yaml", "duplicate-key"),
    ("alias-bomb.yaml", "yaml-limit"),
    ("nesting-too-deep.yaml", "yaml-limit"),
    ("list-instead-of-mapping.yaml", "not-a-mapping"),
    // Schema: the YAML does not follow the playbook format.
    ("misspelt-key.yaml", "unknown-key"),
    ("misspelt-check-key.yaml", "unknown-key"),
    ("step-without-to.yaml", "missing-key"),
    ("order-without-sections.yaml", "key-needs-key"),
    ("with-without-plugin.yaml", "key-needs-key"),
    ("steps-as-mapping.yaml", "wrong-type"),
    ("title-set-to-null.yaml", "wrong-type"),
    ("unknown-gate.yaml", "invalid-value"),
    ("unsupported-version.yaml", "invalid-value"),
    ("exists-false.yaml", "invalid-value"),
    ("playbook-name-with-spaces.yaml", "invalid-name"),
    ("artifact-name-with-capitals.yaml", "invalid-name"),
    ("no-phases.yaml", "too-few-items"),
    ("empty-sections-list.yaml", "too-few-items"),
    ("plugin-timeout-zero.yaml", "out-of-range"),
    ("section-level-out-of-range.yaml", "out-of-range"),
    ("use-with-extra-keys.yaml", "use-stands-alone"),
    ("document-and-instructions.yaml", "conflicting-keys"),
    ("check-with-two-kinds.yaml", "conflicting-keys"),
    (
        "requirement-with-artifact-and-approval.yaml",
        "conflicting-keys",
    ),
    ("check-without-kind.yaml", "missing-kind"),
    ("misspelt-check-kind.yaml", "unknown-kind"),
    // Semantic lint: what the schema cannot say.
    ("duplicate-phase-id.yaml", "duplicate-id"),
    ("duplicate-step-id.yaml", "duplicate-id"),
    ("duplicate-check-id.yaml", "duplicate-id"),
    ("duplicate-check-id-through-use.yaml", "duplicate-id"),
    ("unknown-phase-in-from.yaml", "unknown-phase"),
    ("unknown-step-in-next.yaml", "unknown-step"),
    ("approval-of-unknown-step.yaml", "unknown-step"),
    ("check-reads-unknown-artifact.yaml", "unknown-artifact"),
    ("requires-unknown-artifact.yaml", "unknown-artifact"),
    ("unknown-plugin.yaml", "unknown-plugin"),
    ("unknown-check-list.yaml", "unknown-check-list"),
    ("check-list-includes-itself.yaml", "check-list-cycle"),
    ("missing-plugin-file.yaml", "missing-plugin-file"),
    ("plugin-syntax-error.yaml", "plugin-syntax"),
    (
        "plugin-function-not-defined.yaml",
        "unknown-plugin-function",
    ),
    ("missing-template.yaml", "missing-template"),
    ("invalid-regex-in-pattern.yaml", "invalid-regex"),
    ("invalid-id-pattern.yaml", "invalid-regex"),
    ("template-syntax-in-document.yaml", "template-syntax"),
    ("template-syntax-in-instructions.yaml", "template-syntax"),
    ("template-syntax-in-artifact-path.yaml", "template-syntax"),
    ("template-syntax-in-message.yaml", "template-syntax"),
    ("template-syntax-in-when.yaml", "template-syntax"),
    ("template-undefined-variable.yaml", "undefined-variable"),
    (
        "template-undefined-variable-in-document.yaml",
        "undefined-variable",
    ),
    ("template-undefined-attribute.yaml", "undefined-variable"),
    ("template-used-by-several-steps.yaml", "undefined-variable"),
    ("template-over-budget.yaml", "template-budget"),
    ("under-names-undeclared-section.yaml", "undeclared-section"),
    ("placeholder-never-matches.yaml", "unmatchable-placeholder"),
    ("artifact-absolute-path.yaml", "path-outside-root"),
    ("artifact-climbs-out-of-root.yaml", "path-outside-root"),
    ("artifact-var-climbs-out-of-root.yaml", "path-outside-root"),
    ("state-dir-outside-root.yaml", "path-outside-root"),
    ("document-outside-playbook-folder.yaml", "path-outside-root"),
    ("check-without-artifact.yaml", "check-needs-artifact"),
    ("allow-empty-not-a-column.yaml", "allow-empty-not-a-column"),
    ("words-min-above-max.yaml", "empty-range"),
    ("trace-unknown-artifact.yaml", "unknown-artifact"),
    ("trace-invalid-regex.yaml", "invalid-regex"),
    ("trace-empty-match.yaml", "empty-match"),
    ("trace-defines-itself.yaml", "trace-defines-itself"),
    ("step-to-its-own-phase.yaml", "no-progress"),
    (
        "optional-step-leads-nowhere.yaml",
        "optional-step-leads-nowhere",
    ),
    ("artifact-pattern-unusable.yaml", "invalid-artifact-pattern"),
    (
        "review-without-human-gate.yaml",
        "review-without-human-gate",
    ),
    ("gate-without-checks.yaml", "gate-without-checks"),
    ("approval-never-given.yaml", "approval-never-given"),
    ("approval-from-unknown-group.yaml", "unknown-approver-group"),
    ("approval-min-unreachable.yaml", "approval-min-unreachable"),
    (
        "approval-require-outside-from.yaml",
        "approval-require-outside-from",
    ),
    (
        "approval-on-automated-gate.yaml",
        "approval-on-automated-gate",
    ),
    ("unreachable-phase.yaml", "unreachable-phase"),
    ("unreachable-step.yaml", "unreachable-step"),
    // `extends:`: a playbook built on another (bases in `bases/`).
    ("extends-missing-base.yaml", "missing-base"),
    ("extends-cycle.yaml", "extends-cycle"),
    ("extends-unknown-step.yaml", "unknown-base-step"),
    ("extends-remove-unknown-check.yaml", "unknown-base-check"),
    ("extends-unknown-key.yaml", "unknown-key"),
    (
        "extends-automated-gate-keeps-base-review.yaml",
        "review-without-human-gate",
    ),
    (
        "remove-checks-without-extends.yaml",
        "remove-without-extends",
    ),
];

/// Every code the loader, the schema translation and the lint can emit,
/// except `unreadable` and `too-large`, which need files that cannot be
/// committed (see the tests below), and `invalid-playbook` and `schema`,
/// which only a disagreement between schema and model could produce.
const ALL_CODES: &[&str] = &[
    "not-utf8",
    "empty-file",
    "yaml-syntax",
    "duplicate-key",
    "yaml-limit",
    "not-a-mapping",
    "unknown-key",
    "missing-key",
    "key-needs-key",
    "wrong-type",
    "invalid-value",
    "invalid-name",
    "too-few-items",
    "out-of-range",
    "use-stands-alone",
    "conflicting-keys",
    "missing-kind",
    "unknown-kind",
    "duplicate-id",
    "unknown-phase",
    "unknown-step",
    "unknown-artifact",
    "unknown-plugin",
    "unknown-check-list",
    "check-list-cycle",
    "missing-plugin-file",
    "plugin-syntax",
    "unknown-plugin-function",
    "missing-template",
    "invalid-regex",
    "template-syntax",
    "undefined-variable",
    "template-budget",
    "path-outside-root",
    "check-needs-artifact",
    "allow-empty-not-a-column",
    "undeclared-section",
    "unmatchable-placeholder",
    "empty-range",
    "empty-match",
    "trace-defines-itself",
    "no-progress",
    "optional-step-leads-nowhere",
    "invalid-artifact-pattern",
    "review-without-human-gate",
    "gate-without-checks",
    "approval-never-given",
    "unknown-approver-group",
    "approval-min-unreachable",
    "approval-require-outside-from",
    "approval-on-automated-gate",
    "unreachable-phase",
    "unreachable-step",
    "missing-base",
    "extends-cycle",
    "unknown-base-step",
    "unknown-base-check",
    "remove-without-extends",
];

/// Paths in messages are relative to the working folder, which must be
/// the repository for them to be the same on every machine.
fn at_repository_root() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("the repository exists");
}

/// Loads and lints one playbook as `tollgate lint` does: its diagnostics,
/// and the texts they point into.
fn lint_file(file: &Path, display: &str) -> (Vec<Diagnostic>, Sources) {
    let mut sources = Sources::default();
    let diagnostics = match LoadedPlaybook::load(file, display) {
        Ok(loaded) => {
            let lint = lint::lint(&loaded);
            for (path, text) in lint.extra_sources {
                sources.insert(path, text);
            }
            sources.insert(display, loaded.source);
            lint.diagnostics
        }
        Err(error) => {
            if let Some(text) = error.text {
                sources.insert(error.display, text);
            }
            error.diagnostics
        }
    };
    (diagnostics, sources)
}

fn fixture_path(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

/// The file names of the fixtures, sorted.
fn fixture_names() -> BTreeSet<String> {
    std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURES))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect()
}

/// A fixture's diagnostics and sources, linted once for all the tests here.
fn fixture(name: &str) -> &'static (Vec<Diagnostic>, Sources) {
    static LINTED: LazyLock<BTreeMap<String, (Vec<Diagnostic>, Sources)>> = LazyLock::new(|| {
        at_repository_root();
        fixture_names()
            .into_iter()
            .map(|name| {
                let display = fixture_path(&name);
                let linted = lint_file(Path::new(&display), &display);
                (name, linted)
            })
            .collect()
    });
    LINTED
        .get(name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

#[test]
fn each_broken_playbook_renders_its_diagnostics() {
    insta::glob!("fixtures/playbooks/*.yaml", |path| {
        let name = path.file_name().unwrap().to_string_lossy();
        let (diagnostics, sources) = fixture(&name);
        assert!(
            !diagnostics.is_empty(),
            "{name} is named for a defect, but lints clean"
        );
        insta::assert_snapshot!(diagnostics_to_string(diagnostics, sources));
    });
}

#[test]
fn each_fixture_shows_the_code_it_is_named_for() {
    let on_disk = fixture_names();
    let listed: BTreeSet<String> = FIXTURE_CODES
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    assert_eq!(
        on_disk, listed,
        "FIXTURE_CODES must list every fixture, and only those"
    );
    for (name, code) in FIXTURE_CODES {
        let (diagnostics, _) = fixture(name);
        let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert!(
            codes.contains(code),
            "{name} should show `{code}`, but shows {codes:?}"
        );
        // One clear diagnostic: any other is a consequence, never a
        // second, unrelated defect.
        assert!(
            codes.len() <= 2,
            "{name} shows too many diagnostics: {codes:?}"
        );
    }
}

#[test]
fn every_code_has_a_fixture() {
    let covered: BTreeSet<&str> = FIXTURE_CODES.iter().map(|(_, code)| *code).collect();
    let all: BTreeSet<&str> = ALL_CODES.iter().copied().collect();
    assert_eq!(covered, all);
}

#[test]
fn every_diagnostic_of_a_fixture_has_a_position_in_a_known_file() {
    // Only an empty file has nowhere to point.
    let without_position = ["empty-file.yaml", "only-comments.yaml"];
    for (name, _) in FIXTURE_CODES {
        let (diagnostics, sources) = fixture(name);
        for diagnostic in diagnostics {
            if without_position.contains(name) {
                assert_eq!(diagnostic.start, None, "{name}");
                continue;
            }
            assert!(diagnostic.start.is_some(), "{name}: {diagnostic:?}");
            assert!(
                sources.get(&diagnostic.path).is_some(),
                "{name}: no text for {}",
                diagnostic.path
            );
        }
    }
}

#[test]
fn a_missing_file_is_unreadable() {
    at_repository_root();
    let display = fixture_path("no-such-playbook.yaml");
    let (diagnostics, sources) = lint_file(Path::new(&display), &display);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code, "unreadable");
    // The operating system's words differ from one system to another.
    let text = diagnostics_to_string(&diagnostics, &sources);
    assert!(
        text.starts_with("error[unreadable]: cannot read the file: "),
        "{text}"
    );
    assert!(text.contains(&format!("= in {display}")), "{text}");
}

#[test]
fn a_folder_is_unreadable() {
    at_repository_root();
    let display = fixture_path("templates");
    let (diagnostics, _) = lint_file(Path::new(&display), &display);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code, "unreadable");
    assert_eq!(diagnostics[0].path, display);
}

#[test]
fn a_file_over_the_size_limit_is_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.yaml");
    let limit = tollgate::yaml::MAX_FILE_BYTES;
    let mut text = "tollgate: 1\nname: huge\ndescription: ".to_string();
    text.push_str(&"x".repeat(limit + 1 - text.len()));
    std::fs::write(&file, text).unwrap();
    let (diagnostics, sources) = lint_file(&file, "huge.yaml");
    insta::assert_snapshot!(diagnostics_to_string(&diagnostics, &sources), @r"
    error[too-large]: the file is 4194305 bytes, more than the 4194304 bytes allowed
     = in huge.yaml
    ");
}

#[test]
fn bundled_playbooks_lint_clean_and_validate_against_the_schema_file() {
    at_repository_root();
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/playbook.schema.json").unwrap())
            .unwrap();
    let validator = jsonschema::draft202012::new(&schema).expect("the schema file compiles");
    let mut playbooks: Vec<_> = std::fs::read_dir("playbooks")
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    playbooks.sort();
    assert!(!playbooks.is_empty(), "no playbook in playbooks/");
    for file in playbooks {
        let display = file.to_string_lossy().replace('\\', "/");
        let (diagnostics, sources) = lint_file(&file, &display);
        assert!(
            diagnostics.is_empty(),
            "{display} does not lint clean:\n{}",
            diagnostics_to_string(&diagnostics, &sources)
        );
        let text = std::fs::read_to_string(&file).unwrap();
        let (json, _) = tollgate::yaml::parse(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|error| format!("{}: {error}", error.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{display} breaks the schema file: {errors:#?}"
        );
    }
}
