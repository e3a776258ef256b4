//! What a plugin sees (API version 1): `ctx`, documents, and the findings
//! it reports or returns.
//!
//! A document is a userdata over the borrowed [`Document`]: `doc.text` or
//! `doc:sections()` builds its Lua strings and tables only when the plugin
//! asks, so a plugin that reads one table pays for one table. Each call of a
//! method returns new tables, which the plugin may change freely.
//!
//! Mistakes in using the API (a wrong argument, `ctx.error` with a dot, an
//! unknown option) are Lua errors with the plugin's line, like any other: the
//! host turns them into an error finding of the check.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::path::{Component, Path};
use std::sync::Arc;

use mlua::{
    AnyUserData, Function, Lua, MultiValue, Scope, Table, UserData, UserDataFields,
    UserDataMethods, Value,
};
use serde_json::Value as Json;

use super::budget::charged;
use super::host::PluginCall;
use crate::checks::Read;
use crate::diagnostic::{Position, Severity};
use crate::markdown::{self, Document};
use crate::playbook::SectionAliases;
use crate::source;

/// Every field and method of `ctx`, as `plugins/tollgate.d.lua` declares them.
pub const CTX_MEMBERS: &[&str] = &[
    "doc", "with", "subject", "vars", "step", "artifact", "read", "error", "warn", "info",
];

/// Every field and method of a document, as `plugins/tollgate.d.lua`
/// declares them.
pub const DOCUMENT_MEMBERS: &[&str] = &[
    "path",
    "text",
    "lines",
    "sections",
    "section",
    "tables",
    "table",
    "tasks",
    "code_blocks",
    "front_matter",
];

/// Findings one call may report; a loop gone wrong must not fill the
/// memory of the host, which the Lua memory limit does not cover.
const MAX_FINDINGS: usize = 1000;
/// `print` lines one call may leave in the diagnostics.
const MAX_PRINTS: usize = 100;
/// Characters kept of a finding's message or a printed line.
const MAX_MESSAGE_CHARS: usize = 4000;
/// The largest file `ctx:read` returns, as for documents.
const MAX_READ_BYTES: usize = crate::engine::MAX_DOCUMENT_BYTES;

/// A finding a plugin reported with `ctx:error` (and co.) or returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reported {
    pub(super) severity: Severity,
    pub(super) message: String,
    pub(super) start: Position,
    pub(super) end: Option<Position>,
    /// How to fix it, in the plugin's words.
    pub(super) hint: Option<String>,
}

/// What the plugin reported during one call: kept as Lua app data while the
/// call runs, since `ctx:error` and `print` are created once per state.
#[derive(Debug, Default)]
pub(super) struct Collector {
    pub(super) reported: Vec<Reported>,
    pub(super) prints: Vec<String>,
    /// Findings and printed lines beyond the caps.
    pub(super) dropped: usize,
    /// The artifacts `ctx:artifact` and the paths inside the root
    /// `ctx:read` were asked for, as given.
    pub(super) read: Vec<Read>,
}

impl Collector {
    /// Notes what a call asked for, once; as many as findings at most.
    fn note_read(&mut self, read: Read) {
        if self.read.len() < MAX_FINDINGS && !self.read.contains(&read) {
            self.read.push(read);
        }
    }
}

impl Collector {
    pub(super) fn push(&mut self, finding: Reported) {
        if self.reported.len() < MAX_FINDINGS {
            self.reported.push(finding);
        } else {
            self.dropped += 1;
        }
    }

    fn print(&mut self, line: String) {
        if self.prints.len() < MAX_PRINTS {
            self.prints.push(truncate(line));
        } else {
            self.dropped += 1;
        }
    }
}

/// The step's section aliases during one call, with the artifact each
/// document of the call is, by path: kept as Lua app data, since a
/// document's methods see only the document.
#[derive(Debug, Default)]
pub(super) struct DocAliases {
    aliases: SectionAliases,
    artifact_of: HashMap<String, String>,
}

impl DocAliases {
    pub(super) fn of_call(call: &PluginCall<'_>) -> Self {
        let artifact_of = call
            .doc
            .zip(call.artifact)
            .map(|(doc, artifact)| (doc.path.clone(), artifact.to_string()))
            .into_iter()
            .collect();
        Self {
            aliases: call.aliases.clone(),
            artifact_of,
        }
    }

    /// The other titles accepted for `title` in `doc`.
    fn for_title(lua: &Lua, doc: &Document, title: &str) -> Vec<String> {
        lua.app_data_ref::<DocAliases>()
            .and_then(|known| {
                let artifact = known.artifact_of.get(&doc.path)?;
                Some(known.aliases.aliases_of(artifact, title))
            })
            .unwrap_or_default()
    }
}

/// The functions of `ctx` that need nothing borrowed from the call: created
/// once per Lua state, and put into each call's `ctx`.
pub(super) struct Methods {
    read: Function,
    error: Function,
    warn: Function,
    info: Function,
}

impl Methods {
    /// `root` is the canonical project root that `ctx:read` stays inside.
    pub(super) fn new(lua: &Lua, root: Arc<Path>) -> mlua::Result<Self> {
        Ok(Self {
            read: lua.create_function(move |lua, (this, path): (Value, Value)| {
                read(lua, &root, &this, path)
            })?,
            error: report_function(lua, "error", Severity::Error)?,
            warn: report_function(lua, "warn", Severity::Warning)?,
            info: report_function(lua, "info", Severity::Info)?,
        })
    }
}

/// The safe `print`: its line goes into the call's diagnostics, not to the
/// terminal (and is dropped outside a call, as when lint loads a plugin).
pub(super) fn print_function(lua: &Lua) -> mlua::Result<Function> {
    let tostring: Function = lua.globals().get("tostring")?;
    lua.create_function(move |lua, values: MultiValue| {
        let mut parts = Vec::with_capacity(values.len());
        for value in values {
            // `tostring` honours `__tostring`, under the call's budget.
            let text: mlua::LuaString = tostring.call(value)?;
            parts.push(text.to_string_lossy());
        }
        if let Some(mut collector) = lua.app_data_mut::<Collector>() {
            collector.print(parts.join("\t"));
        }
        Ok(())
    })
}

/// Builds the `ctx` of one call. Values borrowed from the call (the
/// document, the artifact loader) live in `scope` and expire with it.
pub(super) fn context<'scope, 'env>(
    lua: &Lua,
    scope: &'scope Scope<'scope, 'env>,
    methods: &Methods,
    call: &'env PluginCall<'env>,
    with: &Json,
) -> mlua::Result<Table> {
    let ctx = lua.create_table_with_capacity(0, CTX_MEMBERS.len())?;
    if let Some(doc) = call.doc {
        ctx.raw_set("doc", scope.create_userdata_ref(doc)?)?;
    }
    let with = match with {
        Json::Null => Value::Table(lua.create_table()?),
        other => json_to_lua(lua, other)?,
    };
    ctx.raw_set("with", with)?;
    if let Some(subject) = &call.subject {
        let table = lua.create_table_with_capacity(0, 4)?;
        table.raw_set("id", subject.id)?;
        table.raw_set("title", subject.title)?;
        table.raw_set("slug", subject.slug)?;
        table.raw_set("phase", subject.phase)?;
        ctx.raw_set("subject", table)?;
    }
    let vars = lua.create_table_with_capacity(0, call.vars.len())?;
    for (name, value) in call.vars {
        vars.raw_set(name.as_str(), json_to_lua(lua, value)?)?;
    }
    ctx.raw_set("vars", vars)?;
    let step = lua.create_table_with_capacity(0, 3)?;
    step.raw_set("id", call.step.id)?;
    step.raw_set("title", call.step.title)?;
    step.raw_set("gate", gate_name(call.step.gate))?;
    ctx.raw_set("step", step)?;
    ctx.raw_set("artifact", artifact_function(scope, call.artifacts)?)?;
    ctx.raw_set("read", &methods.read)?;
    ctx.raw_set("error", &methods.error)?;
    ctx.raw_set("warn", &methods.warn)?;
    ctx.raw_set("info", &methods.info)?;
    Ok(ctx)
}

fn gate_name(gate: crate::playbook::Gate) -> &'static str {
    match gate {
        crate::playbook::Gate::Automated => "automated",
        crate::playbook::Gate::Human => "human",
    }
}

/// `ctx:artifact(name)`: another artifact of the step as a document, or
/// nil. Each artifact is loaded once per call, however often it is asked for.
fn artifact_function<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    artifacts: &'env dyn Fn(&str) -> Option<Document>,
) -> mlua::Result<Function> {
    let loaded: RefCell<HashMap<String, Option<AnyUserData>>> = RefCell::default();
    scope.create_function(move |lua, (this, name): (Value, Value)| {
        colon("artifact", &this)?;
        let name = string_argument("artifact", "the artifact name", name)?;
        if let Some(mut collector) = lua.app_data_mut::<Collector>() {
            collector.note_read(Read::Artifact(name.clone()));
        }
        if let Some(known) = loaded.borrow().get(&name) {
            return Ok(known.clone());
        }
        let document = artifacts(&name);
        if let (Some(doc), Some(mut known)) = (&document, lua.app_data_mut::<DocAliases>()) {
            known.artifact_of.insert(doc.path.clone(), name.clone());
        }
        let document = document
            .map(|doc| charged(lua, || lua.create_userdata(doc)))
            .transpose()?;
        loaded.borrow_mut().insert(name, document.clone());
        Ok(document)
    })
}

/// `ctx:read(path)`: the text of a file inside the project root, or
/// `nil, why` when it cannot be read. A path that is absolute, climbs out
/// with `..` or leads out through a symbolic link is an error.
fn read(lua: &Lua, root: &Path, this: &Value, path: Value) -> mlua::Result<(Value, Value)> {
    colon("read", this)?;
    let path = string_argument("read", "the path", path)?;
    let mut depth = 0usize;
    for component in Path::new(&path).components() {
        match component {
            Component::Prefix(_) | Component::RootDir => {
                return Err(api_error(format!(
                    "ctx:read: `{path}` is absolute; give a path relative to the project root"
                )));
            }
            Component::ParentDir => {
                depth = depth.checked_sub(1).ok_or_else(|| {
                    api_error(format!("ctx:read: `{path}` leads outside the project root"))
                })?;
            }
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
        }
    }
    let unreadable = |why: String| Ok((Value::Nil, Value::String(lua.create_string(why)?)));
    // What a check read is pinned by an approval, whether it was there
    // or not: a file that appears later changes the verdict too.
    if let Some(mut collector) = lua.app_data_mut::<Collector>() {
        collector.note_read(Read::File(path.clone()));
    }
    // The one confined read: links resolved, only a regular file, capped.
    match crate::confined::read_text(root, Path::new(&path), MAX_READ_BYTES) {
        Ok(text) => Ok((
            Value::String(charged(lua, || lua.create_string(text))?),
            Value::Nil,
        )),
        Err(source::SourceError::Io(error)) if crate::confined::refusal(&error).is_some() => {
            Err(api_error(format!(
                "ctx:read: `{path}` leads outside the project root through a symbolic link"
            )))
        }
        Err(error) => unreadable(format!("cannot read `{path}`: {error}")),
    }
}

/// `ctx:error(msg, opts)`, `ctx:warn` and `ctx:info`.
fn report_function(lua: &Lua, name: &'static str, severity: Severity) -> mlua::Result<Function> {
    lua.create_function(
        move |lua, (this, message, options): (Value, Value, Value)| {
            colon(name, &this)?;
            let message = match message {
                Value::String(text) => text.to_string_lossy(),
                Value::Integer(number) => number.to_string(),
                Value::Number(number) => number_text(number),
                other => {
                    return Err(api_error(format!(
                        "ctx:{name}: the message must be a string, not {}",
                        type_phrase(&other)
                    )));
                }
            };
            let fields = match options {
                Value::Nil => Fields::default(),
                Value::Table(table) => Fields::read(&table, POSITION_KEYS)
                    .map_err(|why| api_error(format!("ctx:{name}: {why}")))?,
                other => {
                    return Err(api_error(format!(
                        "ctx:{name}: the options must be a table such as {{ line = 3 }}, not {}",
                        type_phrase(&other)
                    )));
                }
            };
            let (start, end) = fields.span();
            let finding = Reported {
                severity,
                message: truncate(message),
                start,
                end,
                hint: fields.hint,
            };
            if let Some(mut collector) = lua.app_data_mut::<Collector>() {
                collector.push(finding);
            }
            Ok(())
        },
    )
}

const POSITION_KEYS: &[&str] = &["line", "column", "end_line", "end_column", "hint"];
const FINDING_KEYS: &[&str] = &[
    "severity",
    "message",
    "line",
    "column",
    "end_line",
    "end_column",
    "hint",
];

/// The fields of finding options or of a returned finding.
#[derive(Debug, Default)]
struct Fields {
    severity: Option<Severity>,
    message: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    hint: Option<String>,
}

impl Fields {
    /// Reads the keys of `table`, each of which must be one of `allowed`.
    fn read(table: &Table, allowed: &[&str]) -> Result<Self, String> {
        let mut fields = Fields::default();
        for pair in table.pairs::<Value, Value>() {
            let (key, value) = pair.map_err(|error| error.to_string())?;
            let key = match &key {
                Value::String(key) => key.to_string_lossy(),
                other => return Err(format!("unexpected key {}", type_phrase(other))),
            };
            if !allowed.contains(&key.as_str()) {
                return Err(format!(
                    "unknown option `{key}` (known: {})",
                    allowed.join(", ")
                ));
            }
            match key.as_str() {
                "severity" => fields.severity = Some(severity(&value)?),
                "message" | "hint" => {
                    let text = match value {
                        Value::String(text) => truncate(text.to_string_lossy()),
                        other => {
                            return Err(format!(
                                "`{key}` must be a string, not {}",
                                type_phrase(&other)
                            ));
                        }
                    };
                    match key.as_str() {
                        "message" => fields.message = Some(text),
                        _ => fields.hint = Some(text),
                    }
                }
                "line" => fields.line = Some(positive(&key, &value)?),
                "column" => fields.column = Some(positive(&key, &value)?),
                "end_line" => fields.end_line = Some(positive(&key, &value)?),
                _ => fields.end_column = Some(positive(&key, &value)?),
            }
        }
        Ok(fields)
    }

    /// Where the finding starts (the document's start by default, as for
    /// built-in checks) and ends, when it ends after it starts.
    fn span(&self) -> (Position, Option<Position>) {
        let start = Position::new(self.line.unwrap_or(1), self.column.unwrap_or(1));
        let end = (self.end_line.is_some() || self.end_column.is_some())
            .then(|| {
                Position::new(
                    self.end_line.unwrap_or(start.line),
                    self.end_column.unwrap_or(1),
                )
            })
            .filter(|end| *end > start);
        (start, end)
    }
}

fn severity(value: &Value) -> Result<Severity, String> {
    let name = match value {
        Value::String(name) => name.to_string_lossy(),
        other => {
            return Err(format!(
                "`severity` must be a string, not {}",
                type_phrase(other)
            ));
        }
    };
    match name.as_str() {
        "error" => Ok(Severity::Error),
        "warning" | "warn" => Ok(Severity::Warning),
        "info" => Ok(Severity::Info),
        _ => Err(format!(
            "unknown severity \"{name}\" (use error, warning or info)"
        )),
    }
}

fn positive(key: &str, value: &Value) -> Result<usize, String> {
    let number = match value {
        Value::Integer(number) => Some(*number),
        // Luau has no integer subtype: a whole float is an integer.
        Value::Number(number) if number.fract() == 0.0 && number.abs() < 1e15 => {
            Some(*number as i64)
        }
        _ => None,
    };
    number
        .filter(|number| *number >= 1)
        .and_then(|number| usize::try_from(number).ok())
        .ok_or_else(|| {
            format!(
                "`{key}` must be a whole number of at least 1, not {}",
                value_phrase(value)
            )
        })
}

/// The findings a function returned: nothing, or a list of
/// `{ severity, message, line, ... }`. `Err` says what is wrong with it.
pub(super) fn returned_findings(value: Value) -> Result<Vec<Reported>, String> {
    let list = match value {
        Value::Nil => return Ok(Vec::new()),
        Value::Table(list) => list,
        other => return Err(format!("returned {}", type_phrase(&other))),
    };
    let length = list.raw_len();
    if length == 0 && list.pairs::<Value, Value>().next().is_some() {
        return Err("returned a table that is not a list (one finding still goes in a list: { { message = ... } })".into());
    }
    let mut findings = Vec::with_capacity(length.min(MAX_FINDINGS));
    for index in 1..=length {
        let entry = match list.raw_get::<Value>(index) {
            Ok(Value::Table(entry)) => entry,
            Ok(other) => {
                return Err(format!(
                    "returned finding {index} as {}, not a table",
                    type_phrase(&other)
                ));
            }
            Err(error) => return Err(error.to_string()),
        };
        let fields = Fields::read(&entry, FINDING_KEYS)
            .map_err(|why| format!("returned finding {index}: {why}"))?;
        let message = fields
            .message
            .clone()
            .ok_or_else(|| format!("returned finding {index} has no `message`"))?;
        let (start, end) = fields.span();
        findings.push(Reported {
            severity: fields.severity.unwrap_or(Severity::Error),
            message,
            start,
            end,
            hint: fields.hint,
        });
    }
    Ok(findings)
}

/// Converts JSON (a check's `with:`, the playbook's vars, front matter)
/// into Lua: null becomes nil, arrays become lists.
pub(super) fn json_to_lua(lua: &Lua, json: &Json) -> mlua::Result<Value> {
    Ok(match json {
        Json::Null => Value::Nil,
        Json::Bool(flag) => Value::Boolean(*flag),
        Json::Number(number) => match number.as_i64() {
            Some(integer) => Value::Integer(integer),
            None => Value::Number(number.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(text) => Value::String(lua.create_string(text)?),
        Json::Array(items) => {
            let table = lua.create_table_with_capacity(items.len(), 0)?;
            for (index, item) in items.iter().enumerate() {
                table.raw_set(index + 1, json_to_lua(lua, item)?)?;
            }
            Value::Table(table)
        }
        Json::Object(entries) => {
            let table = lua.create_table_with_capacity(0, entries.len())?;
            for (key, value) in entries {
                table.raw_set(key.as_str(), json_to_lua(lua, value)?)?;
            }
            Value::Table(table)
        }
    })
}

impl UserData for Document {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("path", |lua, doc| lua.create_string(&doc.path));
        fields.add_field_method_get("text", |lua, doc| lua.create_string(&doc.text));
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("lines", |lua, doc, ()| {
            charged(lua, || {
                lua.create_sequence_from(doc.text.split_terminator('\n'))
            })
        });
        methods.add_function("sections", |lua, this: AnyUserData| {
            let meta = section_meta(lua, &this)?;
            this.borrow_scoped::<Document, _>(|doc| {
                charged(lua, || {
                    let list = lua.create_table_with_capacity(doc.sections.len(), 0)?;
                    for section in &doc.sections {
                        list.raw_push(section_table(lua, section, &meta)?)?;
                    }
                    Ok(list)
                })
            })?
        });
        methods.add_function("section", |lua, (this, title): (AnyUserData, Value)| {
            let title = string_argument_of("doc:section", "the title", title)?;
            let meta = section_meta(lua, &this)?;
            this.borrow_scoped::<Document, _>(|doc| {
                let aliases = DocAliases::for_title(lua, doc, &title);
                match doc.find_section(&title, &aliases, None) {
                    Some((_, section)) => {
                        charged(lua, || section_table(lua, section, &meta)).map(Some)
                    }
                    None => Ok(None),
                }
            })?
        });
        methods.add_method("tables", |lua, doc, options: Value| {
            let region = Region::of(lua, doc, "tables", options)?;
            charged(lua, || {
                let list = lua.create_table()?;
                for table in doc
                    .tables
                    .iter()
                    .filter(|table| region.holds(doc, table.section))
                {
                    list.raw_push(table_table(lua, table)?)?;
                }
                Ok(list)
            })
        });
        methods.add_method("table", |lua, doc, options: Value| {
            let region = Region::of(lua, doc, "table", options)?;
            doc.tables
                .iter()
                .find(|table| region.holds(doc, table.section))
                .map(|table| charged(lua, || table_table(lua, table)))
                .transpose()
        });
        methods.add_method("tasks", |lua, doc, options: Value| {
            let region = Region::of(lua, doc, "tasks", options)?;
            charged(lua, || {
                let list = lua.create_table()?;
                for task in doc
                    .tasks
                    .iter()
                    .filter(|task| region.holds(doc, task.section))
                {
                    let entry = lua.create_table_with_capacity(0, 3)?;
                    entry.raw_set("text", task.text.as_str())?;
                    entry.raw_set("checked", task.checked)?;
                    entry.raw_set("line", task.position.line)?;
                    list.raw_push(entry)?;
                }
                Ok(list)
            })
        });
        methods.add_method("code_blocks", |lua, doc, ()| {
            charged(lua, || {
                let list = lua.create_table_with_capacity(doc.code_blocks.len(), 0)?;
                for block in &doc.code_blocks {
                    let entry = lua
                        .create_table_from([("line", block.line), ("end_line", block.end_line)])?;
                    entry.raw_set("text", block.text.as_str())?;
                    entry.raw_set("lang", block.lang.as_deref())?;
                    entry.raw_set("fenced", block.fenced)?;
                    list.raw_push(entry)?;
                }
                Ok(list)
            })
        });
        methods.add_method("front_matter", |lua, doc, ()| {
            charged(lua, || front_matter(lua, doc))
        });
    }
}

/// `doc:front_matter()`: the YAML front matter as a table, nil when there
/// is none, or `nil, why` when it is not valid YAML (the document's fault,
/// not the plugin's, so not an error).
fn front_matter(lua: &Lua, doc: &Document) -> mlua::Result<(Value, Value)> {
    let Some(front_matter) = &doc.front_matter else {
        return Ok((Value::Nil, Value::Nil));
    };
    if front_matter.text.trim().is_empty() {
        return Ok((Value::Table(lua.create_table()?), Value::Nil));
    }
    match crate::yaml::parse(&front_matter.text) {
        Ok((json, _)) => Ok((json_to_lua(lua, &json)?, Value::Nil)),
        Err(error) => {
            let why = format!("the front matter is not valid YAML: {}", error.message);
            Ok((Value::Nil, Value::String(lua.create_string(why)?)))
        }
    }
}

/// `{ title, level, line, end_line, text }`, where `text` is the body: the
/// lines after the heading up to `end_line`, subsections included. The
/// body is made only when the plugin reads `text` (see [`section_meta`]):
/// copying every section's body into Lua, when most plugins read titles,
/// was most of the cost of `doc:sections()`.
fn section_table(lua: &Lua, section: &markdown::Section, meta: &Table) -> mlua::Result<Table> {
    // One call per table rather than per field: each mlua call has a cost.
    let table = lua.create_table_from([
        ("level", usize::from(section.level)),
        ("line", section.position.line),
        ("end_line", section.end_line),
    ])?;
    table.raw_set("title", section.title.as_str())?;
    table.set_metatable(Some(meta.clone()))?;
    Ok(table)
}

/// The metatable of the sections of one document in one method call:
/// `__index` makes `text` on first read (then stores it in the table), from
/// the section whose heading is at the table's `line`.
fn section_meta(lua: &Lua, doc: &AnyUserData) -> mlua::Result<Table> {
    let doc = doc.clone();
    // Byte offsets of the start of each line, found on the first read.
    let starts: OnceCell<Vec<usize>> = OnceCell::new();
    let index = lua.create_function(move |lua, (section, key): (Table, Value)| {
        let wanted = matches!(&key, Value::String(key) if key.as_bytes().as_ref() == b"text");
        let line = match section.raw_get::<Value>("line")? {
            Value::Integer(line) => usize::try_from(line).ok(),
            _ => None,
        };
        let Some(line) = line.filter(|_| wanted) else {
            return Ok(Value::Nil);
        };
        let body = doc.borrow_scoped::<Document, _>(|doc| {
            let Some(found) = doc
                .sections
                .iter()
                .find(|found| found.position.line == line)
            else {
                return Ok(Value::Nil);
            };
            let starts = starts.get_or_init(|| {
                std::iter::once(0)
                    .chain(doc.text.match_indices('\n').map(|(offset, _)| offset + 1))
                    .collect()
            });
            let body = lines(&doc.text, starts, found.body_start_line, found.end_line);
            charged(lua, || lua.create_string(body)).map(Value::String)
        })??;
        section.raw_set("text", &body)?;
        Ok(body)
    })?;
    let meta = lua.create_table_with_capacity(0, 1)?;
    meta.raw_set("__index", index)?;
    Ok(meta)
}

/// Lines `first..=last` (1-based) of a normalised text whose line starts
/// are `starts`, without the final line ending.
fn lines<'t>(text: &'t str, starts: &[usize], first: usize, last: usize) -> &'t str {
    let offset = |line: usize| {
        line.checked_sub(1)
            .and_then(|index| starts.get(index))
            .copied()
            .unwrap_or(text.len())
            .min(text.len())
    };
    if first > last {
        return "";
    }
    let start = offset(first);
    let end = offset(last + 1).max(start);
    let body = &text[start..end];
    body.strip_suffix('\n').unwrap_or(body)
}

/// `{ header = {...}, rows = { { cells = { [column] = text }, line }, ... }, line, end_line }`.
fn table_table(lua: &Lua, table: &markdown::Table) -> mlua::Result<Table> {
    // The keys of `cells`, made once per table; with two columns of the
    // same title, the first one keeps it.
    let keys = table
        .header
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let first = table.header[..index]
                .iter()
                .all(|earlier| earlier.text != column.text);
            first.then(|| lua.create_string(&column.text)).transpose()
        })
        .collect::<mlua::Result<Vec<_>>>()?;
    let rows = lua.create_table_with_capacity(table.rows.len(), 0)?;
    for row in &table.rows {
        // Collected first so that the table is made at its size: growing a
        // Lua table rehashes it.
        let cells: Vec<_> = keys
            .iter()
            .zip(&row.cells)
            .filter_map(|(key, cell)| Some((key.as_ref()?, cell.text.as_str())))
            .collect();
        let cells = lua.create_table_from(cells)?;
        rows.raw_push(lua.create_table_from([
            ("cells", Value::Table(cells)),
            ("line", Value::Integer(row.line as i64)),
        ])?)?;
    }
    let result =
        lua.create_table_from([("line", table.position.line), ("end_line", table.end_line)])?;
    result.raw_set(
        "header",
        lua.create_sequence_from(table.header.iter().map(|cell| cell.text.as_str()))?,
    )?;
    result.raw_set("rows", rows)?;
    Ok(result)
}

/// The part of a document an `{ under = TITLE }` option selects.
enum Region {
    Everywhere,
    Section(usize),
    /// The section named is not there: nothing is under it.
    Nowhere,
}

impl Region {
    fn of(lua: &Lua, doc: &Document, method: &str, options: Value) -> mlua::Result<Self> {
        let options = match options {
            Value::Nil => return Ok(Region::Everywhere),
            Value::Table(options) => options,
            other => {
                return Err(api_error(format!(
                    "doc:{method}: the options must be a table such as {{ under = \"Risks\" }}, not {}",
                    type_phrase(&other)
                )));
            }
        };
        let mut under = None;
        for pair in options.pairs::<Value, Value>() {
            let (key, value) = pair?;
            match (&key, value) {
                (Value::String(key), Value::String(title)) if key.to_string_lossy() == "under" => {
                    under = Some(title.to_string_lossy());
                }
                (Value::String(key), other) if key.to_string_lossy() == "under" => {
                    return Err(api_error(format!(
                        "doc:{method}: `under` must be a section title, not {}",
                        type_phrase(&other)
                    )));
                }
                (key, _) => {
                    return Err(api_error(format!(
                        "doc:{method}: unknown option {} (known: under)",
                        value_phrase(key)
                    )));
                }
            }
        }
        Ok(match under {
            None => Region::Everywhere,
            Some(title) => doc
                .find_section(&title, &DocAliases::for_title(lua, doc, &title), None)
                .map_or(Region::Nowhere, |(index, _)| Region::Section(index)),
        })
    }

    fn holds(&self, doc: &Document, section: Option<usize>) -> bool {
        match self {
            Region::Everywhere => true,
            Region::Section(index) => doc.section_contains(*index, section),
            Region::Nowhere => false,
        }
    }
}

/// Methods of `ctx` are called with a colon; `ctx.error("x")` passes the
/// message as `self`, which deserves a clear word rather than a confusing one.
fn colon(method: &str, this: &Value) -> mlua::Result<()> {
    match this {
        Value::Table(_) => Ok(()),
        _ => Err(api_error(format!(
            "ctx:{method}: call it with a colon, as ctx:{method}(...)"
        ))),
    }
}

fn string_argument(method: &str, what: &str, value: Value) -> mlua::Result<String> {
    string_argument_of(&format!("ctx:{method}"), what, value)
}

fn string_argument_of(function: &str, what: &str, value: Value) -> mlua::Result<String> {
    match value {
        Value::String(text) => Ok(text.to_string_lossy()),
        other => Err(api_error(format!(
            "{function}: {what} must be a string, not {}",
            type_phrase(&other)
        ))),
    }
}

/// An error in the use of the API; the host adds the plugin's file and line.
fn api_error(message: String) -> mlua::Error {
    mlua::Error::RuntimeError(message)
}

/// "a string", "nil", "a table": for messages.
pub(super) fn type_phrase(value: &Value) -> String {
    match value {
        Value::Nil => "nil".into(),
        // Luau has numbers only; mlua tells whole ones apart.
        Value::Integer(_) | Value::Number(_) => "a number".into(),
        other => {
            let name = other.type_name();
            let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            format!("{article} {name}")
        }
    }
}

/// A short rendering of a value for messages: `"lien"`, `3`, `a table`.
fn value_phrase(value: &Value) -> String {
    match value {
        Value::String(text) => format!("\"{}\"", truncate_to(text.to_string_lossy(), 40)),
        Value::Integer(number) => number.to_string(),
        Value::Number(number) => number_text(*number),
        Value::Boolean(flag) => flag.to_string(),
        other => type_phrase(other),
    }
}

/// A number as Luau's `tostring` writes it (`0.1`, `1e+300`, `nan`), so
/// that the output shows it as the plugin would print it, not as the
/// hundreds of digits of Rust's fixed notation.
fn number_text(number: f64) -> String {
    if number.is_nan() {
        return "nan".into();
    }
    if number.is_infinite() {
        return if number > 0.0 { "inf" } else { "-inf" }.into();
    }
    // The shortest digits that read back as the same number, as Luau
    // finds them; Luau writes them in fixed notation when the decimal
    // point falls within 5 places before the first digit to 21 after it.
    let scientific = format!("{number:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-6..=20).contains(&exponent) {
        number.to_string()
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    }
}

fn truncate(text: String) -> String {
    truncate_to(text, MAX_MESSAGE_CHARS)
}

fn truncate_to(mut text: String, chars: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(chars) {
        text.truncate(cut);
        text.push('…');
    }
    text
}
