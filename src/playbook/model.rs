//! The playbook format, version 1, as serde types. The JSON Schema in
//! `schemas/playbook.schema.json` is generated from these types, so the two
//! cannot drift apart. Doc comments become the schema's descriptions, which
//! editors show on hover.

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use std::borrow::Cow;
use std::sync::OnceLock;

use crate::diagnostic::Severity;
use crate::markdown::{normalize_title, title_keys};

/// The keys that name a check's kind; a check has exactly one of them.
pub const CHECK_KINDS: [&str; 10] = [
    "exists",
    "sections",
    "table",
    "checklist",
    "pattern",
    "placeholders",
    "words",
    "trace",
    "links",
    "plugin",
];

/// A Tollgate playbook: a team's process as phases, steps, documents and gates.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Tollgate playbook", transform = complete_or_extending)]
pub struct Playbook {
    /// The format version. Always 1.
    #[schemars(extend("const" = 1))]
    pub tollgate: u8,
    /// Machine name of the playbook: lower-case letters, digits and `-`.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"))]
    pub name: String,
    /// Human title, shown in step documents.
    pub title: Option<String>,
    pub description: Option<String>,
    /// Where subjects, approvals and history live, relative to the project root.
    #[serde(default = "default_state_dir")]
    #[schemars(default = "default_state_dir")]
    pub state_dir: String,
    /// What flows through the playbook.
    #[serde(default)]
    pub subject: SubjectSpec,
    /// Defaults for templates, overridden by `--var key=value`.
    #[serde(default)]
    pub vars: IndexMap<String, Json>,
    /// The ordered lifecycle; the first phase is where a new subject starts.
    #[schemars(length(min = 1))]
    pub phases: Vec<Phase>,
    /// Named documents. Each path is a minijinja template, relative to the
    /// project root. A path with `*` or `?` (`specs/x/checklists/*.md`)
    /// names every file that matches, one folder level per `*`: its checks
    /// run on each file, `requires` holds when one exists, and an approval
    /// pins them all.
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"pattern": "^[a-z][a-z0-9_-]*$"}))]
    pub artifacts: IndexMap<String, String>,
    /// Lua plugin files by name, relative to the playbook file.
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"pattern": "^[a-z][a-z0-9_-]*$"}))]
    pub plugins: IndexMap<String, String>,
    /// Resource limits for plugin calls.
    #[serde(default)]
    pub limits: Limits,
    /// Named check lists, reused by steps with `use: NAME`.
    #[serde(default)]
    pub checks: IndexMap<String, Vec<CheckItem>>,
    /// Named groups of people who may approve human gates, each a list of
    /// the e-mail addresses their git commits carry. A step's
    /// `approval.from` and `approval.require` name these groups.
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"pattern": "^[a-z][a-z0-9_-]*$"}))]
    pub approvers: IndexMap<String, Vec<Email>>,
    /// Whether a `<!-- tollgate-disable CHECK-ID: reason -->` comment in a
    /// document may suppress a finding of a check that does not say itself
    /// (default true).
    #[serde(default = "yes")]
    #[schemars(default = "yes")]
    pub suppressible: bool,
    /// The steps that move a subject from phase to phase.
    #[schemars(length(min = 1))]
    pub steps: Vec<Step>,
}

fn yes() -> bool {
    true
}

fn default_state_dir() -> String {
    ".tollgate".into()
}

/// What flows through the playbook: a feature, a change, an epic.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectSpec {
    /// The word used in messages: "feature F-11".
    #[serde(default = "default_noun")]
    #[schemars(default = "default_noun")]
    pub noun: String,
    /// A regular expression every subject id must match.
    pub id_pattern: Option<String>,
}

fn default_noun() -> String {
    "subject".into()
}

impl Default for SubjectSpec {
    fn default() -> Self {
        Self {
            noun: default_noun(),
            id_pattern: None,
        }
    }
}

/// One phase of the lifecycle.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Machine name: lower-case letters, digits, `-` and `_`.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9_-]*$"))]
    pub id: String,
    /// How the phase is shown to people, such as "② plan".
    pub label: Option<String>,
    pub description: Option<String>,
}

impl Phase {
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.id)
    }
}

/// Budgets for each plugin call.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Time budget of one plugin call, in milliseconds (default 1000).
    #[schemars(range(min = 1, max = 600000))]
    pub plugin_timeout_ms: Option<u64>,
    /// Memory limit of one plugin call, in MiB (default 64).
    #[schemars(range(min = 1, max = 4096))]
    pub plugin_memory_mib: Option<u64>,
}

/// Whether passing checks is enough, or a person must approve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    /// The gate passes when every check passes.
    #[default]
    Automated,
    /// The gate also needs a recorded approval.
    Human,
}

/// One step: the work that moves a subject from one phase to the next.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = document_or_instructions)]
pub struct Step {
    /// Machine name, unique in the playbook.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9_-]*$"))]
    pub id: String,
    /// The step's number in documents ("Step 2").
    pub number: Option<u32>,
    pub title: Option<String>,
    /// A free label shown in the document header, such as "Planning".
    pub stage: Option<String>,
    #[serde(default)]
    pub gate: Gate,
    /// The phase a subject must be in to take this step.
    pub from: String,
    /// The phase the subject moves to when the gate passes.
    pub to: String,
    /// The step may be skipped: a subject in its `from` phase may take the
    /// step that starts from its `to` phase instead, and is told of that
    /// step as its next. Take the optional step by naming it (`tollgate
    /// check ID --step STEP`, `tollgate advance ID --step STEP`).
    #[serde(default)]
    pub optional: bool,
    pub objective: Option<String>,
    /// Prerequisites; when one fails the step is blocked, not failed.
    #[serde(default)]
    pub requires: Vec<Requirement>,
    /// A minijinja template file for the step document, relative to the playbook.
    pub document: Option<String>,
    /// The step document inline, as a minijinja template.
    pub instructions: Option<String>,
    /// For human gates: what the reviewer must be shown.
    #[serde(default)]
    pub review: Vec<String>,
    /// For human gates: who may approve, how many must, and what `tollgate
    /// verify` demands of each approval. Absent: one approval by anyone.
    pub approval: Option<ApprovalRule>,
    /// The checks the step's documents must pass, in order.
    #[serde(default)]
    pub checks: Vec<CheckItem>,
    /// The id of the step that usually follows.
    pub next: Option<String>,
    /// In a playbook that `extends:` another: ids of the base step's checks to drop.
    #[serde(default)]
    pub remove_checks: Vec<String>,
}

/// An e-mail address, as git records an author.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Email(#[schemars(regex(pattern = r"^[^@\s<>]+@[^@\s<>]+$"))] pub String);

/// Who may open a human gate, and how many of them must.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRule {
    /// Who may approve: group names from `approvers:` or e-mail addresses.
    /// Absent: anyone.
    #[serde(default)]
    pub from: Vec<String>,
    /// How many distinct people must approve (default 1).
    #[serde(default = "one")]
    #[schemars(default = "one", range(min = 1))]
    pub min: usize,
    /// Groups of `from` that at least one approver must belong to, each.
    #[serde(default)]
    pub require: Vec<String>,
    /// `false`: a person who last changed an artifact the step pins (as git
    /// records it; uncommitted changes count as the local git user's) may
    /// not approve it (default true).
    #[serde(default = "yes")]
    #[schemars(default = "yes")]
    pub authors_may_approve: bool,
    /// `true`: `tollgate verify` requires each approval to have been
    /// committed with a signature `git verify-commit` accepts.
    #[serde(default)]
    pub signed: bool,
}

impl Default for ApprovalRule {
    fn default() -> Self {
        Self {
            from: Vec::new(),
            min: 1,
            require: Vec::new(),
            authors_may_approve: true,
            signed: false,
        }
    }
}

/// A playbook either stands alone, with every key a process needs, or
/// names a base with `extends:` and gives only what differs: then its steps
/// override the base's steps of the same `id`, so only `id` is required.
/// The loader removes `extends:` once it has merged the base, so the merged
/// playbook is held to the full requirements.
fn complete_or_extending(schema: &mut Schema) {
    let required = schema.remove("required").unwrap_or_else(|| json!([]));
    if let Some(properties) = schema.get_mut("properties").and_then(Json::as_object_mut) {
        properties.insert(
            "extends".into(),
            json!({
                "type": "string",
                "minLength": 1,
                "description": "A playbook this one builds on, relative to this file. Its keys are kept unless given here: `vars`, `artifacts`, `plugins`, `checks` and `approvers` are merged name by name, other keys replaced whole; each step here overrides the base step with the same `id` key by key, its `checks` replacing base checks of the same id and adding the others, and `remove_checks` dropping base checks."
            }),
        );
    }
    schema.insert("if".into(), json!({"required": ["extends"]}));
    schema.insert(
        "else".into(),
        json!({
            "required": required,
            "properties": {"steps": {"items": {"required": ["from", "to"]}}}
        }),
    );
}

fn document_or_instructions(schema: &mut Schema) {
    // `from` and `to` are required of a step of a playbook that stands
    // alone, not of a step override: see `complete_or_extending`.
    schema.insert("required".into(), json!(["id"]));
    schema.insert(
        "not".into(),
        json!({"required": ["document", "instructions"]}),
    );
}

/// A prerequisite of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// The named artifact exists and is not empty.
    ArtifactExists(String),
    /// The named step holds a current approval.
    Approved(String),
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Requirement", transform = requirement_forms)]
/// A prerequisite: `{ artifact: NAME }` (optionally `exists: true`) or `{ approved: STEP }`.
struct RawRequirement {
    /// The artifact that must exist.
    artifact: Option<String>,
    /// Optional and always `true`: the artifact must exist.
    #[serde(rename = "exists")]
    #[schemars(extend("const" = true))]
    _exists: Option<bool>,
    /// The step that must hold a current approval.
    approved: Option<String>,
}

fn requirement_forms(schema: &mut Schema) {
    schema.insert(
        "oneOf".into(),
        json!([{"required": ["artifact"]}, {"required": ["approved"]}]),
    );
    schema.insert("dependentRequired".into(), json!({"exists": ["artifact"]}));
}

impl<'de> Deserialize<'de> for Requirement {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawRequirement::deserialize(deserializer)?;
        match (raw.artifact, raw.approved) {
            (Some(artifact), None) => Ok(Requirement::ArtifactExists(artifact)),
            (None, Some(step)) => Ok(Requirement::Approved(step)),
            _ => Err(serde::de::Error::custom(
                "a requirement names exactly one of `artifact` or `approved`",
            )),
        }
    }
}

impl JsonSchema for Requirement {
    fn schema_name() -> Cow<'static, str> {
        "Requirement".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        RawRequirement::json_schema(generator)
    }
}

/// An entry of a step's `checks:`: a check, or a reference to a named list.
#[derive(Debug, Clone)]
pub enum CheckItem {
    Use(String),
    Check(Box<Check>),
}

/// One check of a document.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub artifact: Option<String>,
    pub severity: Severity,
    /// A template that replaces the default message of each finding.
    pub message: Option<String>,
    /// A minijinja expression; the check runs only when it is true.
    pub when: Option<String>,
    /// Whether documents may suppress its findings; the playbook's
    /// `suppressible` when absent.
    pub suppressible: Option<bool>,
    pub kind: CheckKind,
}

impl Check {
    /// A check that calls one plugin function with `with`, as the plugin
    /// harness runs it outside a playbook: an error by default, on no
    /// particular artifact.
    pub fn plugin(id: impl Into<String>, function: impl Into<String>, with: Json) -> Self {
        Check {
            id: id.into(),
            artifact: None,
            severity: Severity::Error,
            message: None,
            when: None,
            suppressible: None,
            kind: CheckKind::Plugin {
                function: function.into(),
                with,
            },
        }
    }
}

#[derive(Debug, Clone)]
pub enum CheckKind {
    Exists,
    Sections(SectionsSpec),
    Table(TableSpec),
    Checklist(ChecklistSpec),
    Pattern(PatternSpec),
    Placeholders(Markers),
    Words(WordsSpec),
    Trace(Box<TraceSpec>),
    Links(LinksSpec),
    Plugin { function: String, with: Json },
}

impl CheckKind {
    /// Compiles the regular expressions the check uses, if any.
    pub fn compile_regexes(&self) {
        match self {
            CheckKind::Pattern(spec) => {
                let _ = spec.compiled();
            }
            CheckKind::Trace(spec) => {
                let _ = spec.compiled();
                for definitions in spec.defined_in.as_slice() {
                    let _ = definitions.compiled();
                }
            }
            _ => {}
        }
    }

    /// Whether the check reads word counts, which a document's model then
    /// has to count (see [`crate::markdown::WordCounts`]).
    pub fn reads_word_counts(&self) -> bool {
        match self {
            CheckKind::Words(_) => true,
            CheckKind::Sections(spec) => {
                spec.sections.iter().any(|entry| entry.min_words.is_some())
            }
            CheckKind::Exists
            | CheckKind::Table(_)
            | CheckKind::Checklist(_)
            | CheckKind::Pattern(_)
            | CheckKind::Placeholders(_)
            | CheckKind::Trace(_)
            | CheckKind::Links(_)
            | CheckKind::Plugin { .. } => false,
        }
    }

    /// The key that selects this kind in YAML.
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Exists => "exists",
            CheckKind::Sections(_) => "sections",
            CheckKind::Table(_) => "table",
            CheckKind::Checklist(_) => "checklist",
            CheckKind::Pattern(_) => "pattern",
            CheckKind::Placeholders(_) => "placeholders",
            CheckKind::Words(_) => "words",
            CheckKind::Trace(_) => "trace",
            CheckKind::Links(_) => "links",
            CheckKind::Plugin { .. } => "plugin",
        }
    }

    /// The heading the check looks under, for the kinds that take `under:`.
    pub fn under(&self) -> Option<&Under> {
        match self {
            CheckKind::Table(spec) => spec.under.as_ref(),
            CheckKind::Checklist(spec) => spec.under.as_ref(),
            CheckKind::Pattern(spec) => spec.under.as_ref(),
            CheckKind::Words(spec) => spec.under.as_ref(),
            CheckKind::Trace(spec) => spec.under.as_ref(),
            _ => None,
        }
    }

    pub fn under_mut(&mut self) -> Option<&mut Under> {
        match self {
            CheckKind::Table(spec) => spec.under.as_mut(),
            CheckKind::Checklist(spec) => spec.under.as_mut(),
            CheckKind::Pattern(spec) => spec.under.as_mut(),
            CheckKind::Words(spec) => spec.under.as_mut(),
            CheckKind::Trace(spec) => spec.under.as_mut(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SectionsSpec {
    pub sections: Vec<SectionEntry>,
    /// The listed sections must appear in this order.
    pub order: bool,
}

/// A required section, with what it needs resolved from the check's defaults.
#[derive(Debug, Clone)]
pub struct SectionEntry {
    pub title: String,
    pub aliases: Vec<String>,
    pub level: Option<u8>,
    pub min_words: Option<usize>,
    keys: Keys,
}

impl SectionEntry {
    /// The keys its heading is looked up by: the title's, then the aliases'.
    pub fn keys(&self) -> &[String] {
        self.keys.get(|| title_keys(&self.title, &self.aliases))
    }
}

/// Titles of a spec as [`normalize_title`] keys, worked out on the first
/// lookup and then shared by every document and thread.
///
/// A clone starts without them: a clone is how a title's aliases are
/// widened (see [`super::aliases`]), and the widened title must not be
/// looked up by the keys of the original.
#[derive(Debug, Default)]
struct Keys(OnceLock<Vec<String>>);

impl Keys {
    fn get(&self, keys: impl FnOnce() -> Vec<String>) -> &[String] {
        self.0.get_or_init(keys)
    }
}

impl Clone for Keys {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// The keys follow from the titles beside them, which decide equality.
impl PartialEq for Keys {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Keys {}

/// [`normalize_title`] of each title.
fn normalized(titles: &[String]) -> Vec<String> {
    titles.iter().map(|title| normalize_title(title)).collect()
}

#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Section")]
/// A section title, or a mapping with a title and what it requires.
enum RawSectionEntry {
    Title(String),
    Detailed(DetailedSection),
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DetailedSection {
    /// The heading, matched ignoring case, emphasis, a trailing `:`, a
    /// leading number and a trailing annotation in parentheses
    /// (`Requirements *(mandatory)*` matches `Requirements`).
    title: String,
    /// Other accepted titles, matched the same way.
    #[serde(default)]
    aliases: Vec<String>,
    /// The heading level (1 for `#`), when it matters.
    #[schemars(range(min = 1, max = 6))]
    level: Option<u8>,
    /// A floor for the number of words in the section body.
    min_words: Option<usize>,
}

/// The heading a check looks under. Besides the aliases written here, it
/// accepts those that a `sections` check of the same step declares for the
/// same title of the same artifact (see [`super::aliases`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Under {
    pub title: String,
    pub aliases: Vec<String>,
    keys: Keys,
}

impl Under {
    pub fn new(title: String, aliases: Vec<String>) -> Self {
        Under {
            title,
            aliases,
            keys: Keys::default(),
        }
    }

    /// The keys its heading is looked up by: the title's, then the aliases'.
    pub fn keys(&self) -> &[String] {
        self.keys.get(|| title_keys(&self.title, &self.aliases))
    }
}

impl From<&str> for Under {
    fn from(title: &str) -> Self {
        Under::new(title.to_string(), Vec::new())
    }
}

impl std::fmt::Display for Under {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.title)
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Under")]
/// A section title, or `{ title, aliases }` with other accepted titles.
enum RawUnder {
    Title(String),
    Detailed(DetailedUnder),
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DetailedUnder {
    /// The heading, matched like `sections` titles.
    title: String,
    /// Other accepted titles.
    #[serde(default)]
    aliases: Vec<String>,
}

impl<'de> Deserialize<'de> for Under {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match RawUnder::deserialize(deserializer)? {
            RawUnder::Title(title) => title.as_str().into(),
            RawUnder::Detailed(DetailedUnder { title, aliases }) => Under::new(title, aliases),
        })
    }
}

impl JsonSchema for Under {
    fn schema_name() -> Cow<'static, str> {
        "Under".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        RawUnder::json_schema(generator)
    }
}

/// A GFM table and what its rows must hold.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// The heading the table must fall under; anywhere when absent.
    pub under: Option<Under>,
    /// Columns the header must hold, matched like headings.
    #[schemars(length(min = 1))]
    pub columns: Vec<String>,
    /// The least number of data rows (default 1).
    #[serde(default = "one")]
    #[schemars(default = "one")]
    pub min_rows: usize,
    /// Listed columns that may be left empty.
    #[serde(default)]
    pub allow_empty: Vec<String>,
    #[serde(skip)]
    #[schemars(skip)]
    column_keys: Keys,
    #[serde(skip)]
    #[schemars(skip)]
    allow_empty_keys: Keys,
}

impl TableSpec {
    /// [`normalize_title`] of each of `columns`.
    pub fn column_keys(&self) -> &[String] {
        self.column_keys.get(|| normalized(&self.columns))
    }

    /// [`normalize_title`] of each of `allow_empty`.
    pub fn allow_empty_keys(&self) -> &[String] {
        self.allow_empty_keys.get(|| normalized(&self.allow_empty))
    }
}

fn one() -> usize {
    1
}

/// A task list and the state of its boxes.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistSpec {
    /// The heading the task list must fall under; anywhere when absent.
    pub under: Option<Under>,
    /// Every box must be ticked.
    #[serde(default)]
    pub all_checked: bool,
    /// Items that must be present, matched by their leading text.
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(skip)]
    #[schemars(skip)]
    item_keys: Keys,
}

impl ChecklistSpec {
    /// [`normalize_title`] of each of `items`.
    pub fn item_keys(&self) -> &[String] {
        self.item_keys.get(|| normalized(&self.items))
    }
}

/// The markers of a `placeholders` check, in the order written.
#[derive(Debug, Clone)]
pub struct Markers {
    markers: Vec<String>,
    /// A searcher for each marker, built on first use, then shared by
    /// every document and thread.
    finders: OnceLock<Vec<memchr::memmem::Finder<'static>>>,
}

impl Markers {
    pub fn new(markers: Vec<String>) -> Self {
        Self {
            markers,
            finders: OnceLock::new(),
        }
    }

    /// A searcher for each marker, in order.
    pub fn finders(&self) -> &[memchr::memmem::Finder<'static>] {
        self.finders.get_or_init(|| {
            (self.markers.iter())
                .map(|marker| memchr::memmem::Finder::new(marker).into_owned())
                .collect()
        })
    }
}

/// A list of markers, read as one.
impl std::ops::Deref for Markers {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.markers
    }
}

/// A regular expression over the document's prose lines.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatternSpec {
    /// The regular expression (Rust `regex` syntax).
    pub regex: String,
    #[serde(default)]
    pub expect: Expect,
    /// The heading whose body is searched; the whole document when absent.
    pub under: Option<Under>,
    #[serde(default)]
    pub scope: Scope,
    /// Compiled once, on first use, then shared by every document and thread.
    #[serde(skip)]
    #[schemars(skip)]
    compiled: OnceLock<Result<regex::Regex, String>>,
}

impl PatternSpec {
    /// The compiled regular expression, or why it does not compile.
    pub fn compiled(&self) -> Result<&regex::Regex, &str> {
        compile(&self.compiled, &self.regex)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Some line must match.
    #[default]
    Match,
    /// No line may match.
    Absent,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every prose line.
    #[default]
    Lines,
    /// Only the last non-blank line outside code.
    LastLine,
}

/// A word count of a section or of the whole document.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WordsSpec {
    /// The heading whose body (subsections included) is counted; the whole
    /// document when absent.
    pub under: Option<Under>,
    /// The least number of words.
    pub min: Option<usize>,
    /// The most words allowed.
    pub max: Option<usize>,
}

/// Identifiers defined in one document and referenced in another.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceSpec {
    /// What an identifier looks like (Rust `regex` syntax). With a group
    /// named `id`, that group is the identifier, so that `User Story 1` and
    /// `[US1]` can name the same one.
    pub id: String,
    /// The heading whose body holds the references; the whole document
    /// when absent.
    pub under: Option<Under>,
    /// Where identifiers are defined: one `{artifact, under, id}` or a list.
    pub defined_in: OneOrMany<Definitions>,
    /// `referenced`: every defined identifier is referenced here.
    pub defined: Option<DefinedMust>,
    /// `defined`: every identifier referenced here is defined.
    pub referenced: Option<ReferencedMust>,
    /// What the identifiers are, in the plural, for the counts a step
    /// document shows ("23 requirements, 21 with tasks"); `ids` when absent.
    pub label: Option<String>,
    #[serde(skip)]
    #[schemars(skip)]
    compiled: OnceLock<Result<regex::Regex, String>>,
}

impl TraceSpec {
    /// The compiled `id`, or why it does not compile.
    pub fn compiled(&self) -> Result<&regex::Regex, &str> {
        compile(&self.compiled, &self.id)
    }
}

/// Where a `trace` finds definitions.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Definitions {
    /// The artifact that defines the identifiers.
    pub artifact: String,
    /// Only this section (subsections included); the whole document when absent.
    pub under: Option<Under>,
    /// What a definition looks like there, when it is written differently
    /// from a reference (`User Story (?P<id>\d+)` for `\[US(?P<id>\d+)\]`).
    pub id: Option<String>,
    #[serde(skip)]
    #[schemars(skip)]
    compiled: OnceLock<Result<regex::Regex, String>>,
}

impl Definitions {
    /// The compiled `id`, when one is given, or why it does not compile.
    pub fn compiled(&self) -> Option<Result<&regex::Regex, &str>> {
        let id = self.id.as_deref()?;
        Some(compile(&self.compiled, id))
    }
}

fn compile<'a>(
    cell: &'a OnceLock<Result<regex::Regex, String>>,
    regex: &str,
) -> Result<&'a regex::Regex, &'a str> {
    cell.get_or_init(|| regex::Regex::new(regex).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(String::as_str)
}

/// One value, or a list of them.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(one) => std::slice::from_ref(one),
            OneOrMany::Many(many) => many,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DefinedMust {
    /// Each defined identifier is referenced at least once.
    Referenced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReferencedMust {
    /// Each referenced identifier is defined.
    Defined,
}

/// Relative links and images of a document resolve.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinksSpec {
    /// `deny`: a link to another site is a finding; `allow` (default): it
    /// is neither fetched nor reported.
    #[serde(default)]
    pub external: External,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum External {
    #[default]
    Allow,
    Deny,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Check", transform = one_check_kind)]
/// A check (with `id` and exactly one kind key), or `use: NAME` to include a named check list.
struct RawCheck {
    /// Identifier of the check, unique within its step.
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"))]
    id: Option<String>,
    /// Includes the named check list from the top-level `checks:`.
    #[serde(rename = "use")]
    use_list: Option<String>,
    /// The artifact the check reads.
    artifact: Option<String>,
    /// `error` (default) fails the gate; `warning` fails it only with `--strict`.
    severity: Option<Severity>,
    /// A template that replaces the default message.
    message: Option<String>,
    /// A minijinja expression; the check runs only when it is true.
    when: Option<String>,
    /// `false`: a document may not suppress this check's findings with
    /// `<!-- tollgate-disable ... -->`; the playbook's `suppressible` when absent.
    suppressible: Option<bool>,
    /// The artifact file exists and is not empty.
    #[schemars(extend("const" = true))]
    exists: Option<bool>,
    /// Each listed heading is present and its body is not empty.
    #[schemars(length(min = 1))]
    sections: Option<Vec<RawSectionEntry>>,
    /// In a playbook that `extends:` another, instead of a kind: sections to
    /// append to the `sections` list of the base step's check with this
    /// `id`; the other keys given here replace that check's.
    #[schemars(length(min = 1))]
    add_sections: Option<Vec<RawSectionEntry>>,
    /// With `sections`: the listed sections must appear in this order.
    order: Option<bool>,
    /// With `sections`: the heading level every listed section must have.
    #[schemars(range(min = 1, max = 6))]
    level: Option<u8>,
    /// With `sections`: a floor for the words in each listed section.
    min_words: Option<usize>,
    table: Option<TableSpec>,
    checklist: Option<ChecklistSpec>,
    pattern: Option<PatternSpec>,
    /// Markers that must not remain, such as `[NEEDS CLARIFICATION` or `TODO:`.
    #[schemars(length(min = 1))]
    placeholders: Option<Vec<String>>,
    words: Option<WordsSpec>,
    trace: Option<TraceSpec>,
    links: Option<LinksSpec>,
    /// `NAME.FUNCTION`: a function of a plugin from `plugins:`.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_]*$"))]
    plugin: Option<String>,
    /// With `plugin`: the table the function receives as `ctx.with`.
    with: Option<serde_json::Map<String, Json>>,
}

fn one_check_kind(schema: &mut Schema) {
    let forms: Vec<Json> = ["use", "add_sections"]
        .into_iter()
        .chain(CHECK_KINDS)
        .map(|key| json!({"required": [key]}))
        .collect();
    schema.insert("oneOf".into(), Json::Array(forms));
    schema.insert("if".into(), json!({"required": ["use"]}));
    schema.insert("then".into(), json!({"maxProperties": 1}));
    schema.insert("else".into(), json!({"required": ["id"]}));
    schema.insert(
        "dependentRequired".into(),
        json!({
            "order": ["sections"],
            "level": ["sections"],
            "min_words": ["sections"],
            "with": ["plugin"],
        }),
    );
}

impl TryFrom<RawCheck> for CheckItem {
    type Error = String;

    fn try_from(raw: RawCheck) -> Result<Self, String> {
        if let Some(name) = raw.use_list {
            return Ok(CheckItem::Use(name));
        }
        if raw.add_sections.is_some() {
            return Err(format!(
                "check `{}`: `add_sections` adds to a check of the base playbook, so it belongs in a step of a playbook that `extends:` another, on the id of a base `sections` check; here, list the sections under `sections`",
                raw.id.unwrap_or_default()
            ));
        }
        let defaults = (raw.level, raw.min_words);
        let mut kinds = Vec::new();
        if raw.exists.is_some() {
            kinds.push(CheckKind::Exists);
        }
        if let Some(entries) = raw.sections {
            let sections = entries
                .into_iter()
                .map(|entry| entry.resolve(defaults))
                .collect();
            kinds.push(CheckKind::Sections(SectionsSpec {
                sections,
                order: raw.order.unwrap_or(false),
            }));
        }
        kinds.extend(raw.table.map(CheckKind::Table));
        kinds.extend(raw.checklist.map(CheckKind::Checklist));
        kinds.extend(raw.pattern.map(CheckKind::Pattern));
        kinds.extend(
            raw.placeholders
                .map(|markers| CheckKind::Placeholders(Markers::new(markers))),
        );
        kinds.extend(raw.words.map(CheckKind::Words));
        kinds.extend(raw.trace.map(|spec| CheckKind::Trace(Box::new(spec))));
        kinds.extend(raw.links.map(CheckKind::Links));
        if let Some(function) = raw.plugin {
            let with = Json::Object(raw.with.unwrap_or_default());
            kinds.push(CheckKind::Plugin { function, with });
        }
        let id = raw.id.ok_or("a check needs an `id`")?;
        let kind = match (kinds.pop(), kinds.is_empty()) {
            (Some(kind), true) => kind,
            _ => {
                return Err(format!(
                    "check `{id}` needs exactly one of: {}",
                    CHECK_KINDS.join(", ")
                ));
            }
        };
        Ok(CheckItem::Check(Box::new(Check {
            id,
            artifact: raw.artifact,
            severity: raw.severity.unwrap_or_default(),
            message: raw.message,
            when: raw.when,
            suppressible: raw.suppressible,
            kind,
        })))
    }
}

impl RawSectionEntry {
    fn resolve(self, (level, min_words): (Option<u8>, Option<usize>)) -> SectionEntry {
        match self {
            RawSectionEntry::Title(title) => SectionEntry {
                title,
                aliases: Vec::new(),
                level,
                min_words,
                keys: Keys::default(),
            },
            RawSectionEntry::Detailed(detail) => SectionEntry {
                title: detail.title,
                aliases: detail.aliases,
                level: detail.level.or(level),
                min_words: detail.min_words.or(min_words),
                keys: Keys::default(),
            },
        }
    }
}

impl<'de> Deserialize<'de> for CheckItem {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawCheck::deserialize(deserializer)?
            .try_into()
            .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for CheckItem {
    fn schema_name() -> Cow<'static, str> {
        "Check".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        RawCheck::json_schema(generator)
    }
}

/// The schema of the whole format, as `schemas/playbook.schema.json` holds it.
pub fn schema() -> Json {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<Playbook>()
        .to_value();
    forbid_null(&mut schema);
    schema
}

/// A YAML `~` must not slip through where a value is expected: an optional
/// key is left out, never set to null. schemars allows null for every
/// `Option`, so take it out again.
fn forbid_null(schema: &mut Json) {
    match schema {
        Json::Object(object) => {
            if let Some(Json::Array(types)) = object.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    object.insert("type".into(), only);
                }
            }
            if let Some(Json::Array(branches)) = object.get_mut("anyOf") {
                branches.retain(|b| b.get("type").and_then(Json::as_str) != Some("null"));
                if branches.len() == 1 {
                    let only = branches.remove(0);
                    object.remove("anyOf");
                    if let Json::Object(only) = only {
                        object.extend(only);
                    }
                }
            }
            object.values_mut().for_each(forbid_null);
        }
        Json::Array(items) => items.iter_mut().for_each(forbid_null),
        _ => {}
    }
}
