//! A section's aliases, declared where a `sections` check requires it, hold
//! for every check of the same step that looks `under:` that section of the
//! same artifact (a check from a `use:` list included) and for the step's
//! plugins' `doc:section()` and `{ under = ... }` lookups; `under:` also
//! takes aliases of its own. The playbook is `tests/fixtures/aliases/`.

use std::path::Path;

use tollgate::engine::{Options, StatelessRun, StepResult, Verdict};
use tollgate::lua::{LimitOverrides, PluginSet};
use tollgate::playbook::LoadedPlaybook;
use tollgate::report;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/aliases");

fn check(fixture: &str) -> StepResult {
    let folder = Path::new(FIXTURES);
    let loaded = LoadedPlaybook::load(&folder.join("playbook.yaml"), "playbook.yaml")
        .expect("the fixture playbook loads");
    let plugins = PluginSet::load(
        folder,
        &loaded.playbook.plugins,
        folder,
        &loaded.playbook.limits,
        LimitOverrides::default(),
    );
    let run = StatelessRun::new(&loaded.playbook, "review", None, Options::default())
        .expect("the step exists")
        .with_plugins(&plugins);
    run.check_file(&folder.join(fixture), fixture)
}

fn rendered(result: &StepResult) -> String {
    let findings: Vec<_> = result.findings().cloned().collect();
    report::diagnostics_to_string(&findings, &result.source_map())
}

#[test]
fn the_fixture_playbook_lints_clean() {
    let folder = Path::new(FIXTURES);
    let loaded = LoadedPlaybook::load(&folder.join("playbook.yaml"), "playbook.yaml").unwrap();
    let lint = tollgate::playbook::lint::lint(&loaded);
    assert!(lint.diagnostics.is_empty(), "{:#?}", lint.diagnostics);
}

#[test]
fn every_check_and_plugin_of_the_step_accepts_the_declared_aliases() {
    let result = check("plan-with-aliased-headings.md");
    assert_eq!(result.findings().count(), 0, "{}", rendered(&result));
    assert_eq!(result.verdict, Verdict::Passed);
}

#[test]
fn a_missing_section_is_reported_with_its_aliases() {
    let result = check("plan-without-lock-section.md");
    assert_eq!(result.verdict, Verdict::Failed);
    let checks: Vec<&str> = result.findings().map(|f| f.code.as_str()).collect();
    assert_eq!(
        checks,
        [
            "required-sections",
            "lock-table",
            "plugin-lookups",
            "plugin-lookups"
        ]
    );
    insta::assert_snapshot!(rendered(&result));
}

#[test]
fn a_plugin_s_own_hints_replace_the_general_one() {
    let result = check("plan-without-lock-section.md");
    let mut out = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
    report::write_check_text(std::slice::from_ref(&result), false, &mut out).unwrap();
    let text = String::from_utf8(out.into_inner()).unwrap();
    assert!(
        text.contains("= help: write the section on locks"),
        "{text}"
    );
    assert!(text.contains("= help: list each locked table"), "{text}");
    assert!(text.contains("hint (sections)"), "{text}");
    assert!(!text.contains("hint (plugin)"), "{text}");
}
