//! The minijinja environment that step documents, artifact paths, messages,
//! `when:` expressions and the board are evaluated in: strict about
//! undefined names, and bounded in time and memory so that a bad template
//! ends with an error, never a hang or an allocation that ends the process.

pub mod step;

use std::collections::BTreeSet;
use std::ops::Range;

use minijinja::{Environment, ErrorKind, UndefinedBehavior};

/// The fuel one rendering may spend before it is stopped. minijinja charges
/// one unit per instruction and one per [`BYTES_PER_FUEL`] bytes of every
/// string and list a template builds, output included, and refuses a value
/// whose size it knows ahead (`'x' * n`, `indent(n)`) that the fuel left
/// cannot pay for: so this bounds the time and the memory of a template.
pub const FUEL: u64 = 1_000_000;
/// What one unit of fuel buys of the values a template builds.
const BYTES_PER_FUEL: u64 = 64;
const RECURSION_LIMIT: usize = 64;

/// Where a template is used, which decides the names it can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    /// A step document: the whole context.
    Document,
    /// An artifact path: only what is known before any document is read.
    ArtifactPath,
    /// A check's `message:`, which can also use the default message and
    /// the captures of a `pattern` match.
    Message,
    /// A check's `when:` expression.
    When,
}

impl TemplateKind {
    /// The top-level names in the context of this kind of template.
    pub fn roots(self) -> &'static [&'static str] {
        match self {
            TemplateKind::Document => &[
                "playbook",
                "step",
                "subject",
                "vars",
                "artifacts",
                "phases",
                "results",
                // The functions of `add_document_functions`.
                "checkbox",
            ],
            TemplateKind::ArtifactPath => &["playbook", "subject", "vars"],
            TemplateKind::Message => &[
                "playbook", "step", "subject", "vars", "check", "message", "captures",
            ],
            TemplateKind::When => &["playbook", "step", "subject", "vars", "artifacts"],
        }
    }
}

/// The fields a subject has in every template.
pub const SUBJECT_FIELDS: [&str; 5] = ["id", "title", "slug", "phase", "phase_label"];

impl TemplateKind {
    /// The fields of a top-level object in this kind of template, for the
    /// objects whose fields are fixed (`vars` and `artifacts` depend on the
    /// playbook: see [`KnownNames`]). The step document's are those of
    /// `render::step`'s context, which a test there holds them to.
    pub fn fields(self, root: &str) -> Option<&'static [&'static str]> {
        use TemplateKind::*;
        Some(match (self, root) {
            (_, "subject") => &SUBJECT_FIELDS,
            (Document, "playbook") => &["name", "title", "description", "state_dir", "noun"],
            (Document, "step") => &[
                "id",
                "number",
                "title",
                "stage",
                "gate",
                "from",
                "from_label",
                "entry_phases",
                "entry_labels",
                "optional",
                "to",
                "to_label",
                "objective",
                "requires",
                "review",
                "next",
                "next_if_skipped",
                "outputs",
                "checks",
            ],
            (Document, "results") => &["verdict", "produced", "checks_passed"],
            (ArtifactPath, "playbook") => &["name"],
            (Message | When, "playbook") => &["name", "title"],
            (Message | When, "step") => &["id", "title"],
            (Message, "check") => &["id", "artifact"],
            _ => return None,
        })
    }
}

/// Names that a playbook defines, against which `vars.X` and `artifacts.X`
/// are checked.
#[derive(Debug, Default)]
pub struct KnownNames {
    pub vars: BTreeSet<String>,
    pub artifacts: BTreeSet<String>,
}

/// Something wrong with a template, located in its own source by bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateIssue {
    pub code: &'static str,
    pub message: String,
    pub range: Option<Range<usize>>,
    /// How to fix it: the name probably meant, and the names there are.
    pub help: Option<String>,
}

/// The environment every template from the playbook is rendered in.
pub fn environment() -> Environment<'static> {
    bounded(FUEL)
}

/// An environment whose renderings may each spend `fuel`: [`FUEL`] for the
/// playbook's templates; more for the board, whose size grows with the
/// subjects it shows.
pub fn bounded(fuel: u64) -> Environment<'static> {
    let mut env = Environment::new();
    // Debug mode is what names the expression at fault ("`step.titel` is
    // undefined"); minijinja turns it on only in builds with debug
    // assertions, so a release build would say just "undefined value".
    env.set_debug(true);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(fuel));
    env.set_recursion_limit(RECURSION_LIMIT);
    env
}

/// What went wrong in rendering: minijinja's detail, which names the
/// expression at fault ("`step.titel` is undefined"), else the kind; for
/// spent fuel, the budget.
pub fn error_message(error: &minijinja::Error) -> String {
    if error.kind() == ErrorKind::OutOfFuel {
        return budget_message();
    }
    error
        .detail()
        .map_or_else(|| error.kind().to_string(), str::to_string)
}

/// The template's budget, said when it runs out.
fn budget_message() -> String {
    format!(
        "engine ran out of fuel: a template may spend {FUEL} units, one per instruction \
         and one per {BYTES_PER_FUEL} bytes of text and lists it builds (about {} MiB)",
        (FUEL * BYTES_PER_FUEL) >> 20
    )
}

/// The functions step documents can call: `checkbox(x)` writes a task box,
/// ticked when `x` is truthy as in `{% if %}` (so `subject and ...` without a
/// subject is an open box, not an error).
pub fn add_document_functions(env: &mut Environment<'_>) {
    env.add_function(
        "checkbox",
        |checked: minijinja::Value| {
            if checked.is_true() { "[x]" } else { "[ ]" }
        },
    );
}

/// Parses a template (or, for `when:`, an expression) and reports syntax
/// errors and names its context will not have.
pub fn inspect(
    env: &Environment<'_>,
    kind: TemplateKind,
    name: &str,
    source: &str,
    known: &KnownNames,
) -> Vec<TemplateIssue> {
    let used = match kind {
        TemplateKind::When => env
            .compile_expression(source)
            .map(|expression| expression.undeclared_variables(true)),
        _ => env
            .template_from_named_str(name, source)
            .map(|template| template.undeclared_variables(true)),
    };
    let used = match used {
        Ok(used) => used,
        Err(error) => {
            return vec![TemplateIssue {
                code: "template-syntax",
                message: error.detail().unwrap_or("invalid template").to_string(),
                range: error.range(),
                help: None,
            }];
        }
    };
    let mut used: Vec<String> = used.into_iter().collect();
    used.sort();
    // The environment's own functions (`range`, `namespace`, `dict`) are
    // names the template does not have to be given.
    let global = |name: &str| {
        let root = name.split('.').next().unwrap_or_default();
        env.globals().any(|(global, _)| global == root)
    };
    let expression = matches!(kind, TemplateKind::When);
    used.iter()
        .filter(|name| !global(name))
        .filter_map(|name| unknown_name(kind, name, known))
        .map(|unknown| TemplateIssue {
            code: "undefined-variable",
            range: locate(source, &unknown.text, expression),
            message: unknown.message,
            help: unknown.help,
        })
        .collect()
}

/// Renders a template (or evaluates a `when:` expression) once with an
/// example context, with undefined names allowed, and reports it when it
/// runs out of fuel: a template that spends its budget on an example will
/// on a real subject too. Other errors are [`inspect`]'s business.
pub fn over_budget(
    env: &Environment<'_>,
    kind: TemplateKind,
    source: &str,
    example: &minijinja::Value,
) -> Option<TemplateIssue> {
    let mut trial = env.clone();
    trial.set_undefined_behavior(UndefinedBehavior::Chainable);
    if kind == TemplateKind::Document {
        add_document_functions(&mut trial);
    }
    let error = match kind {
        TemplateKind::When => trial
            .compile_expression(source)
            .and_then(|expression| expression.eval(example))
            .err()?,
        _ => trial.render_str(source, example).err()?,
    };
    (error.kind() == ErrorKind::OutOfFuel).then(|| TemplateIssue {
        code: "template-budget",
        message: format!("with an example subject, {}", budget_message()),
        range: error.range(),
        help: Some(
            "templates fill in names; a loop or a filter that builds megabytes of text \
             is a mistake"
                .into(),
        ),
    })
}

/// A name a template uses that its context will not have.
struct UnknownName {
    message: String,
    help: Option<String>,
    /// The text to point at: `step.titel`, or the root alone.
    text: String,
}

/// Why `dotted` (such as `vars.spec_root`) is not in the context.
fn unknown_name(kind: TemplateKind, dotted: &str, known: &KnownNames) -> Option<UnknownName> {
    let mut parts = dotted.split('.');
    let root = parts.next()?;
    let roots = kind.roots();
    if !roots.contains(&root) {
        let roots: Vec<String> = roots.iter().map(ToString::to_string).collect();
        return Some(UnknownName {
            message: format!("`{root}` is not defined here"),
            help: Some(crate::playbook::schema::suggestion(root, &roots, "")),
            text: root.to_string(),
        });
    }
    let field = parts.next()?;
    let (known_fields, what): (Vec<String>, String) = match root {
        "vars" => (known.vars.iter().cloned().collect(), "`vars:`".into()),
        "artifacts" => (
            known.artifacts.iter().cloned().collect(),
            "`artifacts:`".into(),
        ),
        _ => (
            kind.fields(root)?.iter().map(ToString::to_string).collect(),
            format!("`{root}` here"),
        ),
    };
    (!known_fields.iter().any(|known| known == field)).then(|| UnknownName {
        message: format!("`{root}.{field}` is not defined: {what} has no `{field}`"),
        help: Some(crate::playbook::schema::suggestion(
            field,
            &known_fields,
            &format!("{what} has nothing"),
        )),
        text: format!("{root}.{field}"),
    })
}

/// Where `text` is used as a name in `source`: its first occurrence, whole
/// (not part of a longer name), inside `{{ }}` or `{% %}` unless the source
/// is one expression.
fn locate(source: &str, text: &str, expression: bool) -> Option<Range<usize>> {
    let name_char = |c: char| c.is_alphanumeric() || c == '_';
    source
        .match_indices(text)
        .map(|(start, _)| start..start + text.len())
        .find(|range| {
            let before = source[..range.start].chars().next_back();
            let after = source[range.end..].chars().next();
            let whole =
                !before.is_some_and(|c| name_char(c) || c == '.') && !after.is_some_and(name_char);
            let in_tag = || {
                let opened = ["{{", "{%"]
                    .iter()
                    .filter_map(|open| source[..range.start].rfind(open))
                    .max();
                let closed = ["}}", "%}"]
                    .iter()
                    .filter_map(|close| source[..range.start].rfind(close))
                    .max();
                opened.is_some_and(|opened| closed.is_none_or(|closed| closed < opened))
            };
            whole && (expression || in_tag())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> KnownNames {
        KnownNames {
            vars: ["spec_root".to_string()].into(),
            artifacts: BTreeSet::new(),
        }
    }

    #[test]
    fn finds_syntax_errors_and_unknown_names() {
        let env = environment();
        let ok = inspect(
            &env,
            TemplateKind::ArtifactPath,
            "p",
            "{{ vars.spec_root }}/{{ subject.slug }}",
            &known(),
        );
        assert!(ok.is_empty(), "{ok:?}");
        let bad = inspect(
            &env,
            TemplateKind::ArtifactPath,
            "p",
            "{{ vars.spec_rot }}/{{ step.id }}",
            &known(),
        );
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert_eq!(
            bad[0].range,
            Some(23..27),
            "`step` is not in an artifact path"
        );
        let syntax = inspect(&env, TemplateKind::Document, "d", "{% if %}", &known());
        assert_eq!(syntax[0].code, "template-syntax");
        let when = inspect(
            &env,
            TemplateKind::When,
            "w",
            "subject.phase == 'plan'",
            &known(),
        );
        assert!(when.is_empty(), "{when:?}");
        let builtins = inspect(
            &env,
            TemplateKind::Document,
            "d",
            "{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = i %}{% endfor %}{{ ns.n }}",
            &known(),
        );
        assert!(builtins.is_empty(), "{builtins:?}");
    }
}
