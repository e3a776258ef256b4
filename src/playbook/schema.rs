//! Validation against the playbook JSON Schema, with each error turned into
//! words a person understands and placed at the YAML position it is about.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value as Json;

use crate::diagnostic::Diagnostic;
use crate::yaml::{SpanIndex, pointer_segment};

use super::model;

/// The playbook's JSON Schema, generated once.
pub fn schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(model::schema)
}

/// The validator that lists every error, built on first use.
fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        // The `regex` engine: the schema's patterns need no look-around, and it
        // compiles them several times faster than `fancy-regex`.
        jsonschema::draft202012::options()
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(schema())
            .expect("the generated playbook schema compiles")
    })
}

/// The validity test of the committed schema (the same as [`schema`]: a
/// test keeps them equal), generated as code when Tollgate is built. Most
/// playbooks are valid, and this says so without compiling a validator at
/// run time, which cost more than anything else in loading one; the
/// validator is built only to say what is wrong with a playbook that is not.
/// Its `pattern`s are matched a few times per playbook against short
/// names: no lazy DFA is built for them (`dfa_size_limit = 0`), which
/// would cost more to set up than those matches take.
#[jsonschema::validator(
    path = "schemas/playbook.schema.json",
    draft = Draft202012,
    validate_formats = false,
    pattern_options = { engine = regex, dfa_size_limit = 0 },
    methods = { is_valid = true, validate = false, iter_errors = false }
)]
struct Committed;

/// The schema as `tollgate schema` prints it and the repository keeps it.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(schema()).expect("a JSON value serialises");
    text.push('\n');
    text
}

/// Every way `json` breaks the schema, positioned in the YAML it came from.
pub fn validate(json: &Json, spans: &SpanIndex, path: &str) -> Vec<Diagnostic> {
    // Both validators apply the same schema, so one that passes here has
    // nothing for the other to find.
    if Committed::is_valid(json) {
        return Vec::new();
    }
    let mut diagnostics = Vec::new();
    for error in validator().iter_errors(json) {
        let from = diagnostics.len();
        translate(&error, spans, path, &mut diagnostics);
        // In a merged playbook, the file the value was written in.
        if let Some(file) = spans.file(error.instance_path().as_str()) {
            for diagnostic in &mut diagnostics[from..] {
                diagnostic.path = file.to_string();
            }
        }
    }
    diagnostics.sort_by_key(|d| d.start);
    diagnostics.dedup();
    diagnostics
}

/// "a string", "a list", ...: how a JSON value reads in a sentence.
pub fn describe_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "nothing (null)",
        Json::Bool(_) => "true or false",
        Json::Number(n) if n.is_f64() => "a number",
        Json::Number(_) => "an integer",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}

fn type_name(name: &str) -> &str {
    match name {
        "string" => "a string",
        "object" => "a mapping",
        "array" => "a list",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "true or false",
        "null" => "nothing",
        other => other,
    }
}

fn translate(error: &ValidationError, spans: &SpanIndex, path: &str, out: &mut Vec<Diagnostic>) {
    let pointer = error.instance_path().as_str();
    let at_value = spans.value(pointer);
    let at_key = |key: &str| spans.key(&format!("{pointer}/{}", pointer_segment(key)));
    let instance = error.instance();
    let keyword_parent = schema_node(error.schema_path().as_str());
    let diagnostic = match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = property_names(keyword_parent);
            // A check without its kind reports a misspelt kind as such.
            let kind = kind_forms(keyword_parent)
                .and_then(|forms| misspelt_kind(instance, &allowed, &forms));
            for key in unexpected.iter().filter(|key| Some(*key) != kind.as_ref()) {
                let mut diagnostic =
                    Diagnostic::error("unknown-key", path, format!("unknown key `{key}`"))
                        .at_opt(at_key(key));
                diagnostic.help = Some(match closest(key, &allowed) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("the keys allowed here are: {}", allowed.join(", ")),
                });
                out.push(diagnostic);
            }
            return;
        }
        ValidationErrorKind::Required { property } => {
            let property = property.as_str().unwrap_or_default();
            match dependent_trigger(error.schema_path().as_str(), instance, property) {
                Some(trigger) => Diagnostic::error(
                    "key-needs-key",
                    path,
                    format!("`{trigger}` only applies together with `{property}`"),
                )
                .at_opt(at_key(&trigger).or(at_value)),
                None => Diagnostic::error(
                    "missing-key",
                    path,
                    format!("missing required key `{property}`"),
                )
                .at_opt(at_value),
            }
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(one) => type_name(&one.to_string()).to_string(),
                TypeKind::Multiple(many) => many
                    .iter()
                    .map(|t| type_name(&t.to_string()).to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            Diagnostic::error(
                "wrong-type",
                path,
                format!("expected {expected}, found {}", describe_type(instance)),
            )
            .at_opt(at_value)
        }
        ValidationErrorKind::Enum { options } => Diagnostic::error(
            "invalid-value",
            path,
            format!("{} is not one of {}", show(instance), list(options)),
        )
        .at_opt(at_value),
        ValidationErrorKind::Constant { expected_value } => {
            let message = if pointer == "/tollgate" {
                format!(
                    "unsupported format version {}; this Tollgate reads version 1",
                    show(instance)
                )
            } else {
                format!(
                    "expected {}, found {}",
                    show(expected_value),
                    show(instance)
                )
            };
            Diagnostic::error("invalid-value", path, message).at_opt(at_value)
        }
        ValidationErrorKind::Pattern { pattern } => Diagnostic::error(
            "invalid-name",
            path,
            format!("{} does not have the required form", show(instance)),
        )
        .at_opt(at_value)
        .with_help(format!("it must match the regular expression `{pattern}`")),
        ValidationErrorKind::PropertyNames { error: inner } => {
            let name = inner.instance().as_str().unwrap_or_default().to_string();
            let pattern = match inner.kind() {
                ValidationErrorKind::Pattern { pattern } => pattern.clone(),
                _ => String::new(),
            };
            Diagnostic::error(
                "invalid-name",
                path,
                format!("`{name}` is not a valid name here"),
            )
            .at_opt(at_key(&name).or(at_value))
            .with_help(format!(
                "names use lower-case letters, digits, `-` and `_` (`{pattern}`)"
            ))
        }
        ValidationErrorKind::MinItems { limit } => Diagnostic::error(
            "too-few-items",
            path,
            format!("needs at least {}", count_of(*limit, "item")),
        )
        .at_opt(at_value),
        ValidationErrorKind::MinLength { limit } => Diagnostic::error(
            "invalid-value",
            path,
            format!("needs at least {}", count_of(*limit, "character")),
        )
        .at_opt(at_value),
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => Diagnostic::error(
            "out-of-range",
            path,
            format!("{} is below the minimum of {limit}", show(instance)),
        )
        .at_opt(at_value),
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => Diagnostic::error(
            "out-of-range",
            path,
            format!("{} is above the maximum of {limit}", show(instance)),
        )
        .at_opt(at_value),
        ValidationErrorKind::MaxProperties { .. } => {
            let extra: Vec<String> = instance
                .as_object()
                .map(|object| object.keys().filter(|key| *key != "use").cloned().collect())
                .unwrap_or_default();
            Diagnostic::error(
                "use-stands-alone",
                path,
                format!(
                    "`use:` includes a named check list and takes no other keys, not {}",
                    backticked(&extra).join(" or ")
                ),
            )
            .at_opt(extra.first().and_then(|key| at_key(key)).or(at_value))
            .with_help("give the extra keys to the checks inside the list, or write the check out")
        }
        ValidationErrorKind::Not { schema } => {
            let keys = required_keys(schema);
            Diagnostic::error(
                "conflicting-keys",
                path,
                format!(
                    "{} cannot be used together",
                    backticked(&keys).join(" and ")
                ),
            )
            .at_opt(keys.last().and_then(|key| at_key(key)).or(at_value))
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            let forms = forms_required(keyword_parent, error.schema_path().as_str());
            let constants = constants(keyword_parent, error.schema_path().as_str());
            let allowed = property_names(keyword_parent);
            if let Some(key) = kind_forms(keyword_parent)
                .and_then(|forms| misspelt_kind(instance, &allowed, &forms))
            {
                let kinds: Vec<String> = model::CHECK_KINDS.map(String::from).to_vec();
                Diagnostic::error("unknown-kind", path, format!("unknown check kind `{key}`"))
                    .at_opt(at_key(&key).or(at_value))
                    .with_help(suggestion(&key, &kinds, ""))
            } else if let Some(forms) = forms {
                Diagnostic::error(
                    "missing-kind",
                    path,
                    format!("needs one of the keys {}", backticked(&forms).join(", ")),
                )
                .at_opt(at_value)
            } else if let Some(constants) = constants {
                // A documented enum: one `const` branch per value.
                Diagnostic::error(
                    "invalid-value",
                    path,
                    format!("{} is not one of {}", show(instance), list(&constants)),
                )
                .at_opt(at_value)
            } else if let Some(branch) = best_branch(context, pointer) {
                for inner in branch {
                    translate(inner, spans, path, out);
                }
                return;
            } else {
                Diagnostic::error(
                    "wrong-type",
                    path,
                    format!("{} is not accepted here", describe_type(instance)),
                )
                .at_opt(at_value)
            }
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            let forms =
                forms_required(keyword_parent, error.schema_path().as_str()).unwrap_or_default();
            let present: Vec<String> = forms
                .into_iter()
                .filter(|key| instance.get(key).is_some())
                .collect();
            Diagnostic::error(
                "conflicting-keys",
                path,
                format!(
                    "{} cannot be used together: choose one",
                    backticked(&present).join(" and ")
                ),
            )
            .at_opt(present.last().and_then(|key| at_key(key)).or(at_value))
        }
        _ => Diagnostic::error("schema", path, error.to_string()).at_opt(at_value),
    };
    out.push(diagnostic);
}

/// The schema object that holds the keyword at `keyword_path`.
fn schema_node(keyword_path: &str) -> Option<&'static Json> {
    schema().pointer(&keyword_path[..keyword_path.rfind('/')?])
}

fn property_names(node: Option<&Json>) -> Vec<String> {
    node.and_then(|node| node.get("properties"))
        .and_then(Json::as_object)
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

/// For a `required` error raised by `dependentRequired`, the key present in
/// the instance that needs the missing one.
fn dependent_trigger(keyword_path: &str, instance: &Json, missing: &str) -> Option<String> {
    let (parent, _) = keyword_path.split_once("/dependentRequired")?;
    let dependencies = schema()
        .pointer(parent)?
        .get("dependentRequired")?
        .as_object()?;
    dependencies
        .iter()
        .find(|(key, needs)| {
            instance.get(key.as_str()).is_some()
                && needs
                    .as_array()
                    .is_some_and(|n| n.iter().any(|k| k == missing))
        })
        .map(|(key, _)| key.clone())
}

/// For a `oneOf` whose forms differ only by which key is present, the keys.
fn forms_required(parent: Option<&Json>, keyword_path: &str) -> Option<Vec<String>> {
    let keyword = keyword_path.rsplit('/').next()?;
    let forms = parent?.get(keyword)?.as_array()?;
    forms
        .iter()
        .map(|form| {
            let object = form.as_object()?;
            let keys = required_keys(form);
            (object.len() == 1 && keys.len() == 1).then(|| keys[0].clone())
        })
        .collect()
}

/// The keys that select a check's form (`use` and the kinds), when `node`
/// is the schema of a check.
fn kind_forms(node: Option<&Json>) -> Option<Vec<String>> {
    forms_required(node, "oneOf").filter(|forms| {
        model::CHECK_KINDS
            .iter()
            .all(|kind| forms.iter().any(|f| f == kind))
    })
}

/// In an object that has none of the `forms` keys, the unknown key that
/// most likely meant one: the nearest to a form, else the first unknown.
fn misspelt_kind(instance: &Json, allowed: &[String], forms: &[String]) -> Option<String> {
    let object = instance.as_object()?;
    if forms.iter().any(|form| object.contains_key(form)) {
        return None;
    }
    let unknown: Vec<&String> = object.keys().filter(|key| !allowed.contains(key)).collect();
    unknown
        .iter()
        .find(|key| closest(key, forms).is_some())
        .or(unknown.first())
        .map(|key| key.to_string())
}

/// For a `oneOf` whose forms are each one constant, the constants.
fn constants(parent: Option<&Json>, keyword_path: &str) -> Option<Json> {
    let keyword = keyword_path.rsplit('/').next()?;
    let forms = parent?.get(keyword)?.as_array()?;
    forms
        .iter()
        .map(|form| form.get("const").cloned())
        .collect::<Option<Vec<Json>>>()
        .map(Json::Array)
}

fn required_keys(schema: &Json) -> Vec<String> {
    schema
        .get("required")
        .and_then(Json::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Of the alternatives an `anyOf` tried, the one that came closest: not
/// refused for its type at this very place, and with the fewest errors.
fn best_branch<'a>(
    context: &'a [Vec<ValidationError<'static>>],
    pointer: &str,
) -> Option<&'a Vec<ValidationError<'static>>> {
    context
        .iter()
        .filter(|errors| {
            !errors.iter().any(|error| {
                matches!(error.kind(), ValidationErrorKind::Type { .. })
                    && error.instance_path().as_str() == pointer
            })
        })
        .min_by_key(|errors| errors.len())
}

/// The allowed name nearest to a misspelt one, if it is near enough.
/// The help for a name not among `known`: the closest known name, if one
/// is close, and the known names; `none` when nothing is known.
pub(crate) fn suggestion(name: &str, known: &[String], none: &str) -> String {
    match closest(name, known) {
        _ if known.is_empty() => none.to_string(),
        Some(near) if known.len() == 1 => format!("did you mean `{near}`?"),
        Some(near) => format!("did you mean `{near}`? known: {}", known.join(", ")),
        None => format!("known: {}", known.join(", ")),
    }
}

pub(crate) fn closest(key: &str, allowed: &[String]) -> Option<String> {
    allowed
        .iter()
        .map(|name| (strsim::damerau_levenshtein(key, name), name))
        .filter(|(distance, name)| *distance <= 2.max(name.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name.clone())
}

fn show(value: &Json) -> String {
    match value {
        Json::String(text) => format!("`{text}`"),
        other => format!("`{other}`"),
    }
}

fn list(options: &Json) -> String {
    options
        .as_array()
        .map(|options| options.iter().map(show).collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|| show(options))
}

fn backticked(keys: &[String]) -> Vec<String> {
    keys.iter().map(|key| format!("`{key}`")).collect()
}

fn count_of(limit: u64, noun: &str) -> String {
    crate::checks::count(usize::try_from(limit).unwrap_or(usize::MAX), noun)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::json;

    use super::*;

    /// Every playbook the repository keeps, parsed: the bundled ones, the
    /// benchmark's, and the test fixtures (valid and refused alike).
    fn repository_playbooks() -> Vec<(PathBuf, Json)> {
        fn walk(folder: &Path, found: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(folder) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "yaml") {
                    found.push(path);
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for folder in ["playbooks", "benches", "examples", "tests/fixtures"] {
            walk(&root.join(folder), &mut files);
        }
        files.sort();
        files
            .into_iter()
            .filter_map(|file| {
                let text = std::fs::read_to_string(&file).ok()?;
                let (json, _) = crate::yaml::parse(&text).ok()?;
                json.is_object().then_some((file, json))
            })
            .collect()
    }

    /// Values that break the schema's rules in different ways: types,
    /// constants, patterns, ranges, lengths, and required keys.
    fn replacements() -> Vec<Json> {
        vec![
            Json::Null,
            json!(true),
            json!(0),
            json!(1),
            json!(1.0),
            json!(-1),
            json!(1.5),
            json!(256),
            json!(100_000),
            json!(u64::MAX),
            json!(""),
            json!("Has Spaces"),
            json!("ok-name"),
            json!("ok-name\n"),
            json!("é"),
            json!("plugin.function"),
            json!("kim@example.com"),
            json!([]),
            json!(["x"]),
            json!({}),
            json!({ "unknown-key": 1 }),
        ]
    }

    /// Every pointer of `json`, the root excepted.
    fn pointers(json: &Json, at: String, out: &mut Vec<String>) {
        match json {
            Json::Object(map) => {
                for (key, value) in map {
                    let member = format!("{at}/{}", pointer_segment(key));
                    out.push(member.clone());
                    pointers(value, member, out);
                }
            }
            Json::Array(items) => {
                for (index, value) in items.iter().enumerate() {
                    let member = format!("{at}/{index}");
                    out.push(member.clone());
                    pointers(value, member, out);
                }
            }
            _ => {}
        }
    }

    fn assert_same_verdict(json: &Json, what: &str) {
        assert_eq!(
            Committed::is_valid(json),
            validator().is_valid(json),
            "the compiled-in validity test and the schema disagree on {what}"
        );
    }

    /// `validate` trusts the compiled-in test to say a playbook is valid, and
    /// asks the schema's validator why only when it is not: the two must
    /// agree on every playbook the repository keeps, and on each of them
    /// with any one value replaced, removed, or given an unknown key.
    #[test]
    fn the_compiled_test_agrees_with_the_schema() {
        let playbooks = repository_playbooks();
        assert!(playbooks.len() > 50, "found {} playbooks", playbooks.len());
        let mut valid = 0;
        for (file, json) in &playbooks {
            let what = file.display().to_string();
            assert_same_verdict(json, &what);
            valid += usize::from(Committed::is_valid(json));
            let mut all = Vec::new();
            pointers(json, String::new(), &mut all);
            for pointer in &all {
                for replacement in replacements() {
                    let mut changed = json.clone();
                    if let Some(value) = changed.pointer_mut(pointer) {
                        *value = replacement.clone();
                    }
                    assert_same_verdict(
                        &changed,
                        &format!("{what} with {pointer} = {replacement}"),
                    );
                }
                let (parent, last) = pointer.rsplit_once('/').expect("a member pointer");
                let mut changed = json.clone();
                if let Some(Json::Object(map)) = changed.pointer_mut(parent) {
                    map.shift_remove(&last.replace("~1", "/").replace("~0", "~"));
                    assert_same_verdict(&changed, &format!("{what} without {pointer}"));
                }
                let mut changed = json.clone();
                if let Some(Json::Object(map)) = changed.pointer_mut(pointer) {
                    map.insert("unknown-key".into(), json!(1));
                    assert_same_verdict(&changed, &format!("{what} with {pointer}/unknown-key"));
                }
            }
        }
        // Both verdicts are exercised: most fixtures load, some are refused.
        assert!(
            valid > 20 && valid < playbooks.len(),
            "{valid} of {}",
            playbooks.len()
        );
    }
}
