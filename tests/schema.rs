//! The committed JSON Schema and the serde model it is generated from.

use std::path::Path;

use tollgate::playbook::Playbook;
use tollgate::playbook::schema::{schema_text, validate};

const SCHEMA_FILE: &str = "schemas/playbook.schema.json";

/// Fixtures the schema refuses but the serde model accepts, and why. The
/// model holds the shapes; limits on values (constants, patterns, lengths,
/// ranges) and rules between keys live only in the schema, which
/// `LoadedPlaybook::load` always applies before the model.
const MODEL_IS_LOOSER: &[(&str, &str)] = &[
    (
        "unsupported-version.yaml",
        "`tollgate: 1` is a schema `const`; the model reads any u8",
    ),
    (
        "exists-false.yaml",
        "`exists: true` is a schema `const`; the model takes the key's presence as the kind",
    ),
    (
        "playbook-name-with-spaces.yaml",
        "the name's form is a schema `pattern`",
    ),
    (
        "artifact-name-with-capitals.yaml",
        "artifact names are schema `propertyNames`",
    ),
    (
        "no-phases.yaml",
        "`phases:` needs items by schema `minItems`",
    ),
    (
        "empty-sections-list.yaml",
        "`sections:` needs items by schema `minItems`",
    ),
    (
        "plugin-timeout-zero.yaml",
        "limits are schema `minimum`/`maximum`",
    ),
    (
        "section-level-out-of-range.yaml",
        "a heading level is a schema range; the model reads any u8",
    ),
    (
        "title-set-to-null.yaml",
        "the schema forbids null; the model reads `~` as an absent optional key",
    ),
    (
        "document-and-instructions.yaml",
        "the schema's `not` rule; the model keeps both",
    ),
    (
        "order-without-sections.yaml",
        "the schema's `dependentRequired`; the model ignores `order` without `sections`",
    ),
    (
        "with-without-plugin.yaml",
        "the schema's `dependentRequired`; the model ignores `with` without `plugin`",
    ),
    (
        "use-with-extra-keys.yaml",
        "the schema's `maxProperties` on `use:`; the model reads only `use`",
    ),
];

#[test]
fn the_committed_schema_is_the_generated_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_FILE);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == schema_text(),
        "{SCHEMA_FILE} is out of date with the playbook model; regenerate it with\n\n    \
         cargo run -- schema > {SCHEMA_FILE}\n"
    );
}

/// Every fixture and bundled playbook that parses as YAML.
fn parsed_playbooks() -> Vec<(String, serde_json::Value, tollgate::yaml::SpanIndex)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for folder in ["tests/fixtures/playbooks", "playbooks"] {
        for entry in std::fs::read_dir(root.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let (json, spans) = tollgate::yaml::parse(&text).ok()?;
            // A playbook that extends another becomes a model only merged
            // with its base, as `load` does (tests/lint.rs covers those).
            if json.get("extends").is_some() {
                return None;
            }
            let name = path.file_name()?.to_string_lossy().into_owned();
            Some((name, json, spans))
        })
        .collect()
}

#[test]
fn schema_and_model_accept_the_same_playbooks() {
    let playbooks = parsed_playbooks();
    assert!(playbooks.len() > 40, "too few playbooks parsed");
    let mut looser = Vec::new();
    for (name, json, spans) in playbooks {
        let schema_accepts = validate(&json, &spans, &name).is_empty();
        let model = serde_json::from_value::<Playbook>(json);
        let model_accepts = model.is_ok();
        if schema_accepts {
            // Else `load` would end in `invalid-playbook`, a message
            // without the schema's care.
            assert!(
                model_accepts,
                "{name}: the schema accepts it, the model does not: {:?}",
                model.err()
            );
        } else if model_accepts {
            looser.push(name);
        }
    }
    let listed: Vec<String> = MODEL_IS_LOOSER
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    looser.sort();
    let mut expected = listed;
    expected.sort();
    assert_eq!(
        looser, expected,
        "the fixtures where only the schema refuses must be the ones MODEL_IS_LOOSER explains"
    );
}
