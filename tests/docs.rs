//! The reference pages under `docs/` cannot drift from the code:
//! `docs/checks.md` is generated from each check kind's doc comment and the
//! JSON Schema; the API and test-file sections of `docs/plugins.md` are the
//! Lua type stubs and the doc comment of the plugin harness; and every name `docs/templates.md` lists
//! is one a template's context really has, and the reverse. Run with
//! `TOLLGATE_WRITE_DOCS=1` to rewrite the generated parts after changing
//! their sources.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::Value as Json;
use tollgate::engine::Options;
use tollgate::playbook::{CHECK_KINDS, LoadedPlaybook};
use tollgate::project::Project;
use tollgate::render::TemplateKind;

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Compares a generated page (or part) with the committed text, or writes
/// it when asked to.
fn assert_generated(path: &str, committed: &str, generated: &str, whole: &str) {
    if std::env::var_os("TOLLGATE_WRITE_DOCS").is_some() {
        fs::write(manifest().join(path), whole).unwrap();
        return;
    }
    assert!(
        committed == generated,
        "{path} is out of date: run `TOLLGATE_WRITE_DOCS=1 cargo test --test docs`"
    );
}

/// The `//!` doc comment at the top of a source file, as Markdown.
fn module_doc(path: &str) -> String {
    let text = fs::read_to_string(manifest().join(path)).unwrap();
    let mut doc = String::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("//!") else {
            break;
        };
        doc.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        doc.push('\n');
    }
    doc
}

const CHECKS_HEADER: &str = "# Check kinds\n\n\
<!-- Generated from the doc comment of each file in src/checks/ and from the JSON Schema\n\
     by tests/docs.rs: edit those, then run `TOLLGATE_WRITE_DOCS=1 cargo test --test docs`. -->\n\n\
Every check of a step (or of a named list under the top-level `checks:`) has an\n\
`id`, usually an `artifact`, and exactly one kind key. Its keys:\n\n";

/// Keys of a check that belong to one kind without being its kind key.
const KIND_OPTIONS: [(&str, &[&str]); 2] = [
    ("sections", &["order", "level", "min_words", "add_sections"]),
    ("plugin", &["with"]),
];

const COMMON: [&str; 7] = [
    "id",
    "artifact",
    "severity",
    "message",
    "when",
    "suppressible",
    "use",
];

/// A schema's type as a reader says it.
fn type_of(schema: &Json, defs: &Json) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        let def = &defs[name];
        if let Some(values) = def["oneOf"].as_array() {
            let values: Vec<String> = values
                .iter()
                .filter_map(|v| v["const"].as_str().or_else(|| v["enum"][0].as_str()))
                .map(|v| format!("`{v}`"))
                .collect();
            if !values.is_empty() {
                return values.join(" \\| ");
            }
        }
        if let Some(values) = def["enum"].as_array() {
            let values: Vec<String> = values
                .iter()
                .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
                .collect();
            return values.join(" \\| ");
        }
        if def.get("anyOf").is_some() {
            return "title or mapping".into();
        }
        return "mapping".into();
    }
    if schema.get("anyOf").is_some() {
        return "title or mapping".into();
    }
    match (schema["type"].as_str(), schema.get("const")) {
        (_, Some(value)) => format!("`{value}`"),
        (Some("array"), _) => format!("list of {}", type_of(&schema["items"], defs)),
        (Some("integer"), _) => "number".into(),
        (Some("boolean"), _) => "`true` \\| `false`".into(),
        (Some("object"), _) => "mapping".into(),
        (Some(other), _) => other.into(),
        (None, _) => "value".into(),
    }
}

fn description(schema: &Json, defs: &Json) -> String {
    let own = schema["description"].as_str();
    let referenced = schema["$ref"]
        .as_str()
        .and_then(|r| defs[r.rsplit('/').next().unwrap_or_default()]["description"].as_str());
    own.or(referenced)
        .map(str::to_owned)
        .or_else(|| choices(schema, defs))
        .unwrap_or_default()
        .replace('\n', " ")
        .replace('|', "\\|")
}

/// "`match`: some line must match; …", from the doc comments of an enum's
/// variants, for a key whose own description would only repeat them.
fn choices(schema: &Json, defs: &Json) -> Option<String> {
    let name = schema["$ref"].as_str()?.rsplit('/').next()?;
    let variants = defs[name]["oneOf"].as_array()?;
    let described: Vec<String> = variants
        .iter()
        .filter_map(|v| {
            let value = v["const"].as_str().or_else(|| v["enum"][0].as_str())?;
            let said = v["description"].as_str()?.trim_end_matches('.');
            let mut said = said.chars();
            let first = said.next()?.to_lowercase();
            Some(format!("`{value}`: {first}{}", said.as_str()))
        })
        .collect();
    (!described.is_empty()).then(|| described.join("; ") + ".")
}

fn row(out: &mut String, key: &str, schema: &Json, defs: &Json) {
    out.push_str(&format!(
        "| `{key}` | {} | {} |\n",
        type_of(schema, defs),
        description(schema, defs)
    ));
}

/// The properties of the definition a schema refers to, if any.
fn properties<'a>(schema: &Json, defs: &'a Json) -> Option<&'a serde_json::Map<String, Json>> {
    let name = schema["$ref"].as_str()?.rsplit('/').next()?;
    defs[name]["properties"].as_object()
}

fn checks_page() -> String {
    let schema: Json = serde_json::from_str(&tollgate::playbook::schema::schema_text()).unwrap();
    let defs = &schema["$defs"];
    let check = defs["Check"]["properties"].as_object().unwrap();
    let mut documented: BTreeSet<&str> = BTreeSet::new();
    let mut out = String::from(CHECKS_HEADER);
    out.push_str("| key | value | meaning |\n|---|---|---|\n");
    for key in COMMON {
        row(&mut out, key, &check[key], defs);
        documented.insert(key);
    }
    out.push_str("\nThe kinds:\n\n");
    for kind in CHECK_KINDS {
        out.push_str(&format!("- [`{kind}`](#{kind})\n"));
    }
    for kind in CHECK_KINDS {
        out.push_str(&format!("\n## `{kind}`\n\n"));
        let source = format!("src/checks/{kind}.rs");
        if manifest().join(&source).exists() {
            out.push_str(&module_doc(&source));
        } else {
            out.push_str(
                "`plugin: NAME.FUNCTION` calls a function of a Lua plugin named under the \
                 playbook's `plugins:`; see [plugins.md](plugins.md).\n",
            );
        }
        out.push_str("\n| key | value | meaning |\n|---|---|---|\n");
        row(&mut out, kind, &check[kind], defs);
        documented.insert(kind);
        for (name, inner) in properties(&check[kind], defs).into_iter().flatten() {
            row(&mut out, &format!("{kind}.{name}"), inner, defs);
        }
        if kind == "sections" {
            for (name, inner) in defs["DetailedSection"]["properties"].as_object().unwrap() {
                row(&mut out, &format!("sections[].{name}"), inner, defs);
            }
        }
        for (owner, options) in KIND_OPTIONS {
            if owner == kind {
                for option in options {
                    row(&mut out, option, &check[*option], defs);
                    documented.insert(option);
                }
            }
        }
    }
    let undocumented: Vec<&String> = check
        .keys()
        .filter(|key| !documented.contains(key.as_str()))
        .collect();
    assert!(
        undocumented.is_empty(),
        "check keys missing from docs/checks.md: {undocumented:?}"
    );
    out
}

#[test]
fn the_check_kinds_page_is_generated_from_the_code() {
    let generated = checks_page();
    let committed = fs::read_to_string(manifest().join("docs/checks.md")).unwrap_or_default();
    assert_generated("docs/checks.md", &committed, &generated, &generated);
}

const HARNESS_START: &str = "<!-- generated from the doc comment of src/lua/harness.rs -->\n";
const HARNESS_END: &str = "<!-- end of generated part -->\n";

#[test]
fn the_plugin_test_format_is_the_harness_doc_comment() {
    let doc = module_doc("src/lua/harness.rs");
    let format = doc
        .split_once("# The test file\n")
        .map(|(_, rest)| rest.trim_start())
        .unwrap();
    let committed = fs::read_to_string(manifest().join("docs/plugins.md")).unwrap();
    let (before, rest) = committed.split_once(HARNESS_START).unwrap();
    let (current, after) = rest.split_once(HARNESS_END).unwrap();
    let whole = format!("{before}{HARNESS_START}{format}{HARNESS_END}{after}");
    assert_generated("docs/plugins.md", current, format, &whole);
}

/// The names one section of `docs/templates.md` lists in its first table
/// column, such as `step.title` or `vars.NAME`.
fn documented(section: &str) -> BTreeSet<String> {
    let page = fs::read_to_string(manifest().join("docs/templates.md")).unwrap();
    let body = page
        .split(&format!("\n## {section}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no section {section}"));
    let body = body.split("\n## ").next().unwrap();
    body.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_string())
        .filter(|name| !name.contains('('))
        .collect()
}

/// Lines `OBJECT.KEY` for each key of each object, as a template lists them.
fn listing(objects: &[&str]) -> String {
    objects
        .iter()
        .map(|object| {
            let (shown, expression) = object.split_once('=').unwrap_or((object, object));
            format!("{{% for key in {expression} %}}{shown}.{{{{ key }}}};{{% endfor %}}")
        })
        .collect()
}

fn names(listed: &str) -> BTreeSet<String> {
    listed
        .split(';')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// A project with one subject whose playbook lists the keys of every
/// context through its templates.
fn listing_project() -> (tempfile::TempDir, LoadedPlaybook) {
    let dir = tempfile::tempdir().unwrap();
    let document = listing(&[
        "playbook",
        "step",
        "check=step.checks[0]",
        "item=step.checks[0].items[0]",
        "subject",
        "results",
        "phases[]=phases[0]",
    ]);
    let message = listing(&["playbook", "step", "subject", "check"]);
    let path = listing(&["playbook", "subject"]).replace('.', "-");
    let playbook = format!(
        "tollgate: 1\nname: listing\nvars: {{ NAME: 1 }}\nphases: [{{ id: a }}, {{ id: b }}]\n\
         artifacts: {{ doc: 'out/{path}.md' }}\n\
         steps:\n  - id: write\n    from: a\n    to: b\n    instructions: '{document}'\n    checks:\n\
         \x20     - {{ id: c, artifact: doc, sections: [A], message: '{message}' }}\n"
    );
    fs::write(dir.path().join("tollgate.yaml"), playbook).unwrap();
    let loaded = LoadedPlaybook::load(&dir.path().join("tollgate.yaml"), "tollgate.yaml").unwrap();
    (dir, loaded)
}

#[test]
fn every_template_name_in_the_docs_is_in_its_context_and_the_reverse() {
    let (dir, loaded) = listing_project();
    let project = Project::new(dir.path(), &loaded, Options::default());
    let record = project.register("X-1", "Example", "tester").unwrap();
    let step = &loaded.playbook.steps[0];
    let paths = project.artifact_paths(&record).unwrap();
    fs::create_dir_all(dir.path().join("out")).unwrap();
    fs::write(dir.path().join(&paths["doc"]), "# Title\n").unwrap();
    let result = project.judge(&record, step).unwrap();
    let subject = project.subject_view(&record);
    let document =
        tollgate::render::step::render(&loaded, step, Some(&subject), &paths, Some(&result))
            .unwrap();
    let variables = |kind: TemplateKind| -> BTreeSet<String> {
        kind.roots()
            .iter()
            .filter(|root| **root != "checkbox")
            .map(|root| root.to_string())
            .collect()
    };
    // Objects whose keys are the playbook's own names, documented as NAME.
    let own_names = ["vars", "artifacts", "captures"];
    let expected = |listed: BTreeSet<String>, kind: TemplateKind| -> BTreeSet<String> {
        let mut all = listed;
        for root in variables(kind) {
            if own_names.contains(&root.as_str()) {
                all.insert(format!("{root}.NAME"));
            } else if !all
                .iter()
                .any(|n| n.split('.').next() == Some(root.as_str()))
            {
                all.insert(root);
            }
        }
        all
    };

    let mut listed = names(&document);
    // `phases` is documented as a list of `{ id, label }`.
    listed.retain(|n| !n.starts_with("phases[]."));
    listed.insert("phases".into());
    assert_eq!(
        documented("Step documents"),
        expected(listed, TemplateKind::Document),
        "docs/templates.md, Step documents"
    );

    let message = &result.outcomes[0].findings[0].message;
    assert_eq!(
        documented("Messages"),
        expected(names(message), TemplateKind::Message),
        "docs/templates.md, Messages"
    );

    let path_names = names(
        &paths["doc"]
            .trim_start_matches("out/")
            .trim_end_matches(".md")
            .replace('-', "."),
    );
    assert_eq!(
        documented("Artifact paths"),
        expected(path_names, TemplateKind::ArtifactPath),
        "docs/templates.md, Artifact paths"
    );

    // `when:` is an expression, whose keys cannot be listed; it shares the
    // context of messages, less what only a finding has.
    let mut when: BTreeSet<String> = documented("Messages")
        .into_iter()
        .filter(|n| variables(TemplateKind::When).contains(n.split('.').next().unwrap()))
        .collect();
    when.insert("artifacts.NAME".into());
    assert_eq!(
        documented("Conditions"),
        when,
        "docs/templates.md, Conditions"
    );
}

#[test]
fn every_filter_test_and_function_the_docs_name_exists() {
    let page = fs::read_to_string(manifest().join("docs/templates.md")).unwrap();
    let section = page
        .split("\n## Filters, tests and functions\n")
        .nth(1)
        .unwrap();
    let (filters, rest) = section.split_once("its tests").unwrap();
    let (tests, functions) = rest.split_once("its functions").unwrap();
    let quoted = |text: &str| -> Vec<String> {
        text.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let mut env = tollgate::render::environment();
    tollgate::render::add_document_functions(&mut env);
    for filter in quoted(filters) {
        let rendered = env.render_str(
            &format!("{{{{ x | {filter} }}}}"),
            minijinja::context! { x => "a" },
        );
        if let Err(error) = rendered {
            assert_ne!(
                error.kind(),
                minijinja::ErrorKind::UnknownFilter,
                "{filter}"
            );
        }
    }
    for test in quoted(tests) {
        let rendered = env.render_str(
            &format!("{{{{ x is {test} }}}}"),
            minijinja::context! { x => "a" },
        );
        if let Err(error) = rendered {
            assert_ne!(error.kind(), minijinja::ErrorKind::UnknownTest, "{test}");
        }
    }
    let globals: BTreeSet<String> = env.globals().map(|(name, _)| name.to_string()).collect();
    let named: BTreeSet<String> = quoted(functions).into_iter().collect();
    assert_eq!(named, globals, "functions in docs/templates.md");
}

const API_START: &str = "<!-- generated from plugins/tollgate.d.lua -->\n";
const API_END: &str = "<!-- end of the generated API -->\n";

/// How the pages name the receiver of each stub class's methods.
const RECEIVERS: &[(&str, &str)] = &[("Ctx", "ctx"), ("Document", "doc")];

/// One class of the Lua stubs: its doc lines, fields and methods.
#[derive(Default)]
struct StubClass {
    name: String,
    doc: String,
    fields: Vec<[String; 3]>,
    methods: Vec<[String; 3]>,
}

/// A stub's `TYPE rest`, where the type may hold spaces inside `<>`, `()`
/// or `{}` (`table<string, any>`).
fn split_type(text: &str) -> (&str, &str) {
    let mut depth = 0i32;
    for (at, c) in text.char_indices() {
        match c {
            '<' | '(' | '{' => depth += 1,
            '>' | ')' | '}' => depth -= 1,
            ' ' if depth == 0 => return (&text[..at], text[at + 1..].trim()),
            _ => {}
        }
    }
    (text, "")
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The plugin API reference, from the `---@class`, `---@field`, `---@param`,
/// `---@return` and `---` doc lines of the type stubs.
fn lua_api_reference(stubs: &str) -> String {
    let mut classes: Vec<StubClass> = Vec::new();
    let mut doc: Vec<String> = Vec::new();
    let mut params: Vec<String> = Vec::new();
    let mut returns: Vec<String> = Vec::new();
    let mut local_class: Vec<(String, usize)> = Vec::new();
    for line in stubs.lines() {
        if let Some(name) = line.strip_prefix("---@class ") {
            let name = name.split(':').next().unwrap_or_default().trim().to_owned();
            classes.push(StubClass {
                name,
                doc: doc.join(" "),
                ..Default::default()
            });
            doc.clear();
        } else if let Some(field) = line.strip_prefix("---@field ") {
            let (name, rest) = field.split_once(' ').unwrap_or((field, ""));
            let name = name.trim_end_matches('?');
            let (kind, meaning) = split_type(rest);
            let class = classes.last_mut().expect("a field follows its class");
            class.fields.push([
                format!("`{name}`"),
                format!("`{}`", cell(kind)),
                cell(meaning),
            ]);
        } else if let Some(param) = line.strip_prefix("---@param ") {
            let (name, rest) = param.split_once(' ').unwrap_or((param, ""));
            let (kind, meaning) = split_type(rest);
            let meaning = meaning.trim_end_matches('.');
            let meaning = if meaning.is_empty() {
                String::new()
            } else {
                format!(": {meaning}")
            };
            params.push(format!("`{name}` (`{}`){}", cell(kind), cell(&meaning)));
        } else if let Some(value) = line.strip_prefix("---@return ") {
            let (kind, _) = split_type(value);
            returns.push(format!("`{}`", cell(kind)));
        } else if let Some(text) = line.strip_prefix("---").filter(|t| !t.starts_with('@')) {
            doc.push(text.trim().to_owned());
        } else if let Some(rest) = line
            .strip_prefix("local ")
            .and_then(|r| r.strip_suffix(" = {}"))
        {
            local_class.push((rest.to_owned(), classes.len() - 1));
        } else if let Some(signature) = line
            .strip_prefix("function ")
            .and_then(|f| f.strip_suffix(" end"))
        {
            let (table, call) = signature.split_once(':').expect("a method");
            let index = local_class
                .iter()
                .find(|(name, _)| name == table)
                .expect("its table")
                .1;
            let receiver = RECEIVERS
                .iter()
                .find(|(t, _)| *t == table)
                .map_or(table, |(_, r)| r);
            let mut meaning = cell(&doc.join(" "));
            if !params.is_empty() {
                meaning.push_str(&format!(" Takes {}.", params.join("; ")));
            }
            classes[index].methods.push([
                format!("`{receiver}:{call}`"),
                returns.join(", "),
                meaning,
            ]);
            doc.clear();
            params.clear();
            returns.clear();
        } else if line.trim().is_empty() {
            doc.clear();
        }
    }
    let mut out = String::new();
    for class in &classes {
        out.push_str(&format!("\n### `{}`\n\n", class.name));
        if !class.doc.is_empty() {
            out.push_str(&format!("{}\n\n", class.doc));
        }
        if !class.fields.is_empty() {
            out.push_str("| field | type | meaning |\n|---|---|---|\n");
            for [name, kind, meaning] in &class.fields {
                out.push_str(&format!("| {name} | {kind} | {meaning} |\n"));
            }
        }
        if !class.methods.is_empty() {
            let gap = if class.fields.is_empty() { "" } else { "\n" };
            out.push_str(&format!(
                "{gap}| method | returns | meaning |\n|---|---|---|\n"
            ));
            for [call, returns, meaning] in &class.methods {
                out.push_str(&format!("| {call} | {returns} | {meaning} |\n"));
            }
        }
    }
    out.push('\n');
    out
}

#[test]
fn the_plugin_api_reference_is_the_type_stubs() {
    let stubs = fs::read_to_string(manifest().join("plugins/tollgate.d.lua")).unwrap();
    let reference = lua_api_reference(&stubs);
    for class in [
        "tollgate.Ctx",
        "tollgate.Document",
        "tollgate.Row",
        "tollgate.CodeBlock",
    ] {
        assert!(
            reference.contains(&format!("### `{class}`")),
            "{class} is missing"
        );
    }
    assert!(reference.contains("| `ctx:read(path)` |"), "{reference}");
    let committed = fs::read_to_string(manifest().join("docs/plugins.md")).unwrap();
    let (before, rest) = committed.split_once(API_START).unwrap();
    let (current, after) = rest.split_once(API_END).unwrap();
    let whole = format!("{before}{API_START}{reference}{API_END}{after}");
    assert_generated("docs/plugins.md", current, &reference, &whole);
}
