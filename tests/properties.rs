//! Properties that must hold for any input: the YAML loader, the document
//! model, suppression directives, templates and Lua return values never
//! panic, and every position they report lies in the text it is about.
//!
//! Inputs are any bytes, and bytes turned into near-valid text by the
//! generators of `tests/support/generate.rs`, which the fuzz targets in
//! `fuzz/` share. Case counts keep the file to seconds in a debug build;
//! `PROPTEST_CASES=N` runs more. Failing cases proptest finds are kept in
//! `tests/properties.proptest-regressions` and replayed first.

#[path = "support/generate.rs"]
mod generate;
#[path = "support/invariants.rs"]
mod invariants;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use tollgate::markdown::Document;
use tollgate::playbook::LoadedPlaybook;

/// Cases per property: `PROPTEST_CASES`, else `default`.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

/// Up to `most` bytes of anything.
fn bytes(most: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..most)
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_bytes_as_a_playbook(input in bytes(600)) {
        invariants::load_playbook(&input);
    }

    #[test]
    fn generated_playbooks(input in bytes(200)) {
        invariants::load_playbook(generate::playbook(&input).as_bytes());
    }

    #[test]
    fn any_bytes_as_a_document(input in bytes(2000)) {
        if let Ok(doc) = Document::parse("doc.md", &input) {
            invariants::check_document(&doc);
        }
    }

    #[test]
    fn generated_documents(input in bytes(400)) {
        let doc = Document::parse_str("doc.md", &generate::markdown(&input));
        invariants::check_document(&doc);
    }

    #[test]
    fn suppression_directives(input in bytes(300), lines in bytes(20)) {
        let doc = Document::parse_str("doc.md", &generate::markdown(&input));
        invariants::suppress_over(&doc, &lines);
    }

    #[test]
    fn templates_end(input in bytes(120)) {
        invariants::render_template(&generate::template(&input));
    }

    #[test]
    fn any_text_as_a_template(input in bytes(200)) {
        invariants::render_template(&String::from_utf8_lossy(&input));
    }

    #[test]
    fn lua_return_values(input in bytes(60)) {
        invariants::plugin_returning(&generate::lua_value(&input));
    }
}

/// The generators make what they are named for: without this, a generator
/// gone wrong (all its texts rejected at the first line) would leave the
/// properties above testing nothing.
#[test]
fn the_generators_reach_deep() {
    let mut sections = 0;
    let mut tables = 0;
    let mut directives = 0;
    let mut loaded = 0;
    for seed in 0..200u32 {
        let input: Vec<u8> = (0..300u32)
            .map(|i| (seed.wrapping_mul(2_654_435_761).wrapping_add(i * 40_503) >> 8) as u8)
            .collect();
        let doc = Document::parse_str("doc.md", &generate::markdown(&input));
        sections += doc.sections.len();
        tables += doc.tables.len();
        directives += doc.directives.len();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.yaml");
        let short = &input[..seed as usize % 30];
        std::fs::write(&file, generate::playbook(short)).unwrap();
        loaded += usize::from(LoadedPlaybook::load(&file, "p.yaml").is_ok());
    }
    assert!(
        sections > 100 && tables > 10 && directives > 10,
        "{sections} {tables} {directives}"
    );
    assert!(loaded > 20, "{loaded} of 200 generated playbooks load");
    let findings =
        invariants::plugin_returning("{ { message = 'm', line = 0/0 }, { message = '\\255' } }");
    assert_eq!(findings.len(), 1, "{findings:?}");
}
