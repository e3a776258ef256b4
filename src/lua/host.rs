//! Plugins compiled once per run, one sandboxed Lua state per worker
//! thread, and the outcome of every call as findings.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use indexmap::IndexMap;
use mlua::chunk::{ChunkMode, Compiler};
use mlua::{Function, Value};
use serde_json::Value as Json;

use super::api::{self, Collector, DocAliases, Reported};
use super::budget::{self, Deadline};
use super::sandbox::Sandbox;
use crate::checks::Findings;
use crate::diagnostic::Severity;
use crate::markdown::Document;
use crate::playbook::{Gate, Limits, SectionAliases, Step};

/// Time budget of a call when neither the playbook nor the command line sets one.
pub const DEFAULT_TIMEOUT_MS: u64 = 1000;
/// Memory limit of a call when neither the playbook nor the command line sets one.
pub const DEFAULT_MEMORY_MIB: u64 = 64;
/// A plugin is a script, not a data file.
pub(crate) const MAX_PLUGIN_BYTES: usize = 1024 * 1024;

/// Budgets given on the command line (`--plugin-timeout-ms`,
/// `--plugin-memory-mib`); they win over the playbook's `limits:`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitOverrides {
    pub timeout_ms: Option<u64>,
    pub memory_mib: Option<u64>,
}

/// The budget of every call of a run.
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    timeout_ms: u64,
    memory_mib: u64,
}

impl Budget {
    pub(super) fn new(limits: &Limits, overrides: LimitOverrides) -> Self {
        Self {
            timeout_ms: overrides
                .timeout_ms
                .or(limits.plugin_timeout_ms)
                .unwrap_or(DEFAULT_TIMEOUT_MS)
                .max(1),
            memory_mib: overrides
                .memory_mib
                .or(limits.plugin_memory_mib)
                .unwrap_or(DEFAULT_MEMORY_MIB)
                .max(1),
        }
    }

    fn timeout(self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    fn memory_bytes(self) -> usize {
        usize::try_from(self.memory_mib.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }
}

/// `ctx.subject`: the subject a stateful check is about.
#[derive(Debug, Clone, Copy)]
pub struct SubjectInfo<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub slug: &'a str,
    pub phase: &'a str,
}

/// `ctx.step`: the step whose check runs.
#[derive(Debug, Clone, Copy)]
pub struct StepInfo<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    pub gate: Gate,
}

impl<'a> From<&'a Step> for StepInfo<'a> {
    fn from(step: &'a Step) -> Self {
        Self {
            id: &step.id,
            title: step.title.as_deref(),
            gate: step.gate,
        }
    }
}

/// What one plugin check on one document sees besides its `with:`.
pub struct PluginCall<'a> {
    /// `ctx.doc`: the check's artifact; `None` when the check names none.
    pub doc: Option<&'a Document>,
    /// `ctx.subject`; `None` in stateless mode.
    pub subject: Option<SubjectInfo<'a>>,
    /// `ctx.vars`: the playbook's vars after `--var` overrides.
    pub vars: &'a IndexMap<String, Json>,
    pub step: StepInfo<'a>,
    /// `ctx:artifact(name)`: another artifact of the step, parsed, or `None`
    /// when it does not exist (always `None` in stateless mode).
    pub artifacts: &'a dyn Fn(&str) -> Option<Document>,
    /// The artifact `ctx.doc` is.
    pub artifact: Option<&'a str>,
    /// The section aliases of the step, which `doc:section()` and
    /// `{ under = ... }` accept for the artifact each document is.
    pub aliases: &'a SectionAliases,
}

/// Why a plugin file cannot be used: for lint, and kept by [`PluginSet`]
/// to be reported by each check that calls the plugin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.located())]
pub struct PluginError {
    /// The plugin file as shown in messages.
    pub file: String,
    /// The Lua line, when the error has one. (Luau reports no column.)
    pub line: Option<usize>,
    /// What is wrong, without the file and line.
    pub message: String,
}

impl PluginError {
    /// `plugins/risk.lua:12: message`.
    pub fn located(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}: {}", self.file, self.message),
            None => format!("{}: {}", self.file, self.message),
        }
    }

    /// Splits a Lua message that starts with `file:line:` into its parts.
    fn from_lua(file: &str, text: &str) -> Self {
        let located = text
            .strip_prefix(file)
            .and_then(|rest| rest.strip_prefix(':'))
            .and_then(|rest| {
                let digits =
                    rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let line = rest[..digits].parse().ok()?;
                let message = rest[digits..].strip_prefix(':')?.trim_start();
                Some((line, message))
            });
        match located {
            Some((line, message)) => Self {
                file: file.to_string(),
                line: Some(line),
                message: message.to_string(),
            },
            None => Self {
                file: file.to_string(),
                line: None,
                message: text.to_string(),
            },
        }
    }
}

/// What lint learns from loading a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    /// The names of the functions in the table the plugin returns, sorted.
    pub functions: Vec<String>,
}

/// Compiles a plugin and runs its main chunk in the sandbox, under the
/// default budget, as every call will: a syntax error, a runtime error at
/// load time, or a plugin that returns no table is a [`PluginError`] with
/// the Lua line. `path` names the file in messages.
pub fn inspect_plugin(path: &Path, source: &str) -> Result<PluginInfo, PluginError> {
    let file = slashed(path);
    let bytecode = compile(&file, source)?;
    let budget = Budget::new(&Limits::default(), LimitOverrides::default());
    let lua_error = |error: mlua::Error| PluginError::from_lua(&file, &describe(&error, &file));
    let sandbox = Sandbox::new(Arc::from(Path::new("."))).map_err(lua_error)?;
    let chunk = load_chunk(&sandbox, &file, &bytecode).map_err(lua_error)?;
    let deadline = Deadline::start(budget.timeout());
    let module = budget::limit_memory(&sandbox.lua, budget.memory_bytes())
        .and_then(|()| sandbox.environment())
        .and_then(|environment| chunk.set_environment(environment))
        .and_then(|_| chunk.call::<Value>(()));
    if let Some(at) = deadline.spent() {
        let text = format!(
            "{}: {}",
            at.unwrap_or_else(|| file.clone()),
            spent_message(budget)
        );
        return Err(PluginError::from_lua(&file, &text));
    }
    let module = module.map_err(|error| match memory_error(&error) {
        true => PluginError {
            file: file.clone(),
            line: None,
            message: memory_message(budget),
        },
        false => lua_error(error),
    })?;
    let Value::Table(module) = module else {
        return Err(not_a_module(&file, &module));
    };
    let mut functions: Vec<String> = module
        .pairs::<Value, Value>()
        .filter_map(|pair| match pair {
            Ok((Value::String(name), Value::Function(_))) => Some(name.to_string_lossy()),
            _ => None,
        })
        .collect();
    functions.sort();
    Ok(PluginInfo { functions })
}

/// The playbook's plugins, read and compiled once per run. `Send + Sync`:
/// rayon's workers share it, each running the plugins in a Lua state of its
/// own (see [`PluginSet::run`]).
pub struct PluginSet {
    /// Tells apart the sets a worker's state was built for.
    id: u64,
    plugins: IndexMap<String, Plugin>,
    /// Canonical, so that `ctx:read` can compare real paths with it.
    root: Arc<Path>,
    budget: Budget,
    /// How many Lua states were built to run these plugins: none until a
    /// plugin check runs, so a step without one pays nothing for Lua.
    states: AtomicUsize,
}

struct Plugin {
    /// The file as named in messages: relative to the project root when it
    /// is inside it.
    file: String,
    /// Luau bytecode, or why there is none.
    code: Result<Vec<u8>, PluginError>,
}

static NEXT_SET: AtomicU64 = AtomicU64::new(0);

impl PluginSet {
    /// Reads and compiles each plugin (`plugins` maps a name to a path
    /// relative to `playbook_folder`). A plugin that cannot be read or does
    /// not compile is kept with its error, which each check that calls it
    /// reports as a finding.
    pub fn load(
        playbook_folder: &Path,
        plugins: &IndexMap<String, String>,
        project_root: &Path,
        limits: &Limits,
        overrides: LimitOverrides,
    ) -> Self {
        let root = project_root
            .canonicalize()
            .unwrap_or_else(|_| project_root.to_path_buf());
        // A plugin runs with the project's files in reach: it must come
        // from the repository that holds the playbook naming it.
        let repository = crate::confined::repository_root(playbook_folder);
        let plugins = plugins
            .iter()
            .map(|(name, relative)| {
                let path = playbook_folder.join(relative);
                let file = shown_path(&path, &root, relative);
                let code =
                    crate::init::read_playbook_file_within(&repository, &path, MAX_PLUGIN_BYTES)
                        .map_err(|error| PluginError {
                            file: file.clone(),
                            line: None,
                            message: format!("cannot read the plugin: {error}"),
                        })
                        .and_then(|source| compile(&file, &source));
                (name.clone(), Plugin { file, code })
            })
            .collect();
        Self {
            id: NEXT_SET.fetch_add(1, Ordering::Relaxed),
            plugins,
            root: Arc::from(root),
            budget: Budget::new(limits, overrides),
            states: AtomicUsize::new(0),
        }
    }

    /// Runs `NAME.FUNCTION` for one check on one document and reports into
    /// `findings`: what the plugin reported or returned, what it printed (as
    /// info), and why it failed if it did (as an error naming the plugin
    /// file and line). Never panics, never outlives its budget.
    pub fn run(
        &self,
        function: &str,
        with: &Json,
        call: &PluginCall<'_>,
        findings: &mut Findings<'_>,
    ) {
        self.outcome(function, with, call)
            .report(function, call.doc, findings);
    }

    /// Why the plugin `name` cannot run at all (it cannot be read or does
    /// not compile), if so.
    pub fn load_error(&self, name: &str) -> Option<&PluginError> {
        self.plugins.get(name)?.code.as_ref().err()
    }

    /// The file of the plugin a `NAME.FUNCTION` calls, as messages name it.
    pub fn file_of(&self, function: &str) -> Option<&str> {
        let name = function.split('.').next()?;
        self.plugins.get(name).map(|plugin| plugin.file.as_str())
    }

    /// The raw outcome of a call, for [`PluginSet::run`] and the harness.
    pub(super) fn outcome(&self, function: &str, with: &Json, call: &PluginCall<'_>) -> Outcome {
        let Some((name, function_name)) = function.split_once('.') else {
            return Outcome::failed(format!(
                "`{function}` does not name a plugin function; write NAME.FUNCTION"
            ));
        };
        let Some((index, _, plugin)) = self.plugins.get_full(name) else {
            return Outcome::failed(format!(
                "the playbook has no plugin `{name}` under `plugins:`"
            ));
        };
        let bytecode = match &plugin.code {
            Ok(bytecode) => bytecode,
            Err(error) => return Outcome::failed(error.located()),
        };
        let outcome = with_host(self, |host| {
            host.call(self, index, function_name, with, call, bytecode)
        });
        outcome.unwrap_or_else(Outcome::failed)
    }
}

/// The plugin file as shown in messages: relative to the project root with
/// `/` separators, or as written in the playbook when outside the root.
fn shown_path(path: &Path, root: &Path, written: &str) -> String {
    path.canonicalize()
        .ok()
        .and_then(|real| real.strip_prefix(root).map(Path::to_path_buf).ok())
        .map_or_else(|| written.replace('\\', "/"), |relative| slashed(&relative))
}

fn slashed(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Compiles a plugin to Luau bytecode.
///
/// Each call's environment is *safeenv* (see `Sandbox::environment`), so
/// the VM runs some builtins directly instead of the global of that name.
/// `getmetatable` must not be: its builtin would bypass the sandbox's
/// version and hand out the host's userdata metatables.
fn compile(file: &str, source: &str) -> Result<Vec<u8>, PluginError> {
    let compiler = Compiler::new().set_disabled_builtins(["getmetatable"]);
    compiler.compile(source).map_err(|error| {
        // Luau's compiler says `LINE: message`, without a chunk name.
        let text = match &error {
            mlua::Error::SyntaxError { message, .. } => message.clone(),
            other => other.to_string(),
        };
        let located = PluginError::from_lua(file, &format!("{file}:{text}"));
        PluginError {
            line: located
                .line
                .map(|line| line_of_unclosed(source, &located.message, line)),
            message: format!("syntax error: {}", located.message),
            ..located
        }
    })
}

/// Luau reports a bracket, call or block left open at the token that shows
/// it (`Expected ')' (to close '(' at line 4), got 'end'`), which often
/// starts the line after the mistake: the closer was due at the end of the
/// last line of code before that token.
fn line_of_unclosed(source: &str, message: &str, line: usize) -> usize {
    let Some(opened) = message
        .split_once("(to close ")
        .and_then(|(_, rest)| rest.split_once(" at line "))
        .and_then(|(_, rest)| {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            rest[..digits].parse::<usize>().ok()
        })
    else {
        return line;
    };
    let got = message
        .rsplit_once("got ")
        .map_or("", |(_, token)| token.trim_matches('\''));
    let lines: Vec<&str> = source.lines().collect();
    let starts_its_line = got == "<eof>"
        || lines
            .get(line.wrapping_sub(1))
            .is_some_and(|text| text.trim_start().starts_with(got));
    if !starts_its_line {
        return line;
    }
    (opened..line.min(lines.len() + 1))
        .rev()
        .find(|&number| {
            let text = lines[number - 1].trim();
            !text.is_empty() && !text.starts_with("--")
        })
        .unwrap_or(line)
}

fn load_chunk(sandbox: &Sandbox, file: &str, bytecode: &[u8]) -> mlua::Result<Function> {
    sandbox
        .lua
        .load(bytecode)
        .set_name(format!("@{file}"))
        .set_mode(ChunkMode::Binary)
        .into_function()
}

thread_local! {
    /// This worker's Lua state, for the last plugin set it ran.
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's host for `set`, building it when the thread
/// has none or one for another set. A host whose call reached a limit is
/// dropped: a fresh state costs less than doubt about a used one.
fn with_host<R>(set: &PluginSet, f: impl FnOnce(&mut Host) -> R) -> Result<R, String> {
    let mut f = Some(f);
    let reused = HOST.try_with(|slot| {
        // Busy when a call is made from inside a call on this thread (an
        // artifact loader that runs plugins, say): that call gets a state
        // of its own below.
        let mut slot = slot.try_borrow_mut().ok()?;
        if slot.as_ref().is_none_or(|host| host.set != set.id) {
            *slot = None;
            match Host::new(set) {
                Ok(host) => *slot = Some(host),
                Err(error) => return Some(Err(error)),
            }
        }
        let host = slot.as_mut()?;
        let result = (f.take()?)(host);
        if host.spent {
            *slot = None;
        }
        Some(Ok(result))
    });
    match (reused, f) {
        (Ok(Some(result)), _) => result,
        (_, Some(f)) => Host::new(set).map(|mut host| f(&mut host)),
        (_, None) => Err("the plugin could not run: its Lua state was lost".into()),
    }
}

/// A worker thread's Lua state and the plugins loaded into it.
struct Host {
    set: u64,
    sandbox: Sandbox,
    /// Each plugin's main chunk, loaded from bytecode on first use.
    chunks: Vec<Option<Function>>,
    /// A call reached a limit; the state is not reused.
    spent: bool,
}

impl Host {
    fn new(set: &PluginSet) -> Result<Self, String> {
        set.states.fetch_add(1, Ordering::Relaxed);
        let sandbox = Sandbox::new(set.root.clone())
            .map_err(|error| format!("the Lua state cannot be created: {error}"))?;
        Ok(Self {
            set: set.id,
            sandbox,
            chunks: vec![None; set.plugins.len()],
            spent: false,
        })
    }

    fn chunk(&mut self, index: usize, file: &str, bytecode: &[u8]) -> mlua::Result<Function> {
        if let Some(Some(chunk)) = self.chunks.get(index) {
            return Ok(chunk.clone());
        }
        let chunk = load_chunk(&self.sandbox, file, bytecode)?;
        if let Some(slot) = self.chunks.get_mut(index) {
            *slot = Some(chunk.clone());
        }
        Ok(chunk)
    }

    fn call(
        &mut self,
        set: &PluginSet,
        index: usize,
        function: &str,
        with: &Json,
        call: &PluginCall<'_>,
        bytecode: &[u8],
    ) -> Outcome {
        let Some((_, plugin)) = set.plugins.get_index(index) else {
            return Outcome::failed("the plugin set lost a plugin".into());
        };
        let file = plugin.file.as_str();
        let chunk = match self.chunk(index, file, bytecode) {
            Ok(chunk) => chunk,
            Err(error) => return Outcome::failed(describe(&error, file)),
        };
        let lua = &self.sandbox.lua;
        lua.set_app_data(Collector::default());
        lua.set_app_data(DocAliases::of_call(call));
        let deadline = Deadline::start(set.budget.timeout());
        let result = budget::limit_memory(lua, set.budget.memory_bytes()).and_then(|()| {
            lua.scope(|scope| self.sandbox.run(scope, &chunk, file, function, with, call))
        });
        let spent = deadline.spent();
        drop(deadline);
        let lifted = budget::lift_memory_limit(lua);
        let collector = lua.remove_app_data::<Collector>().unwrap_or_default();
        lua.remove_app_data::<DocAliases>();

        let mut outcome = Outcome {
            collected: collector,
            failure: None,
        };
        outcome.failure = if let Some(at) = spent {
            self.spent = true;
            Some(format!(
                "{}: {}",
                at.unwrap_or_else(|| file.to_string()),
                spent_message(set.budget)
            ))
        } else {
            match result {
                Ok(Ok(returned)) => {
                    returned
                        .into_iter()
                        .for_each(|finding| outcome.collected.push(finding));
                    None
                }
                Ok(Err(mistake)) => Some(mistake),
                Err(error) if memory_error(&error) => {
                    self.spent = true;
                    Some(format!("{file}: {}", memory_message(set.budget)))
                }
                Err(error) => Some(describe(&error, file)),
            }
        };
        if let Err(error) = lifted {
            self.spent = true;
            outcome.failure.get_or_insert(describe(&error, file));
        }
        outcome
    }
}

impl Sandbox {
    /// Inside the call's scope: runs the main chunk in a fresh environment,
    /// finds the function, calls it with `ctx`, and reads what it returned.
    /// The inner `Err` is a mistake of the plugin the host found (no such
    /// function, a wrong return value), already located.
    fn run<'scope, 'env>(
        &self,
        scope: &'scope mlua::Scope<'scope, 'env>,
        chunk: &Function,
        file: &str,
        function: &str,
        with: &Json,
        call: &'env PluginCall<'env>,
    ) -> mlua::Result<Result<Vec<Reported>, String>> {
        chunk.set_environment(budget::charged(&self.lua, || self.environment())?)?;
        let module = chunk.call::<Value>(())?;
        let Value::Table(module) = module else {
            return Ok(Err(not_a_module(file, &module).located()));
        };
        let entry = match module.get::<Value>(function)? {
            Value::Function(entry) => entry,
            _ => {
                let mut names: Vec<String> = module
                    .pairs::<Value, Value>()
                    .filter_map(|pair| match pair {
                        Ok((Value::String(name), Value::Function(_))) => {
                            Some(name.to_string_lossy())
                        }
                        _ => None,
                    })
                    .collect();
                names.sort();
                let known = match names.is_empty() {
                    true => "it defines none".to_string(),
                    false => format!("it defines: {}", names.join(", ")),
                };
                return Ok(Err(format!(
                    "{file}: the plugin has no function `{function}` ({known})"
                )));
            }
        };
        let ctx = budget::charged(&self.lua, || {
            api::context(&self.lua, scope, &self.methods, call, with)
        })?;
        let returned = entry.call::<Value>(ctx)?;
        Ok(api::returned_findings(returned).map_err(|why| {
            let line = entry
                .info()
                .line_defined
                .map_or(String::new(), |line| format!(":{line}"));
            format!("{file}{line}: `{function}` {why}; return nothing or a list of findings")
        }))
    }
}

fn not_a_module(file: &str, value: &Value) -> PluginError {
    PluginError {
        file: file.to_string(),
        line: None,
        message: format!(
            "the plugin returns {}, not a table of functions (end it with `return M`)",
            api::type_phrase(value)
        ),
    }
}

fn spent_message(budget: Budget) -> String {
    format!("time budget of {} ms exhausted", budget.timeout_ms)
}

fn memory_message(budget: Budget) -> String {
    format!("memory limit of {} MiB reached", budget.memory_mib)
}

/// Whether the call ran out of memory, wherever the error surfaced (in Lua,
/// or in a host function building a table for the plugin).
fn memory_error(error: &mlua::Error) -> bool {
    match error {
        mlua::Error::MemoryError(_) => true,
        mlua::Error::CallbackError { cause, .. }
        | mlua::Error::BadArgument { cause, .. }
        | mlua::Error::WithContext { cause, .. } => memory_error(cause),
        _ => false,
    }
}

/// A Lua error as `plugins/x.lua:12: message`: Lua's own message when it
/// carries the plugin's line, else the line of the innermost plugin frame
/// of the traceback (errors raised by the host's functions, `error(msg, 0)`).
fn describe(error: &mlua::Error, file: &str) -> String {
    let (message, traceback) = match error {
        mlua::Error::CallbackError { traceback, cause } => {
            (root_message(cause), traceback.as_str())
        }
        mlua::Error::RuntimeError(text) => match text.split_once("\nstack traceback:\n") {
            Some((message, traceback)) => (message.to_string(), traceback),
            None => (text.clone(), ""),
        },
        mlua::Error::SyntaxError { message, .. } => (message.clone(), ""),
        other => (other.to_string(), ""),
    };
    if message.starts_with(&format!("{file}:")) {
        return message;
    }
    let prefix = format!("{file}:");
    let line = traceback.lines().find_map(|frame| {
        let rest = frame.trim_start().strip_prefix(&prefix)?;
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        (digits > 0).then(|| &rest[..digits])
    });
    match line {
        Some(line) => format!("{file}:{line}: {message}"),
        None => format!("{file}: {message}"),
    }
}

/// The message of the innermost cause, without mlua's "runtime error: ".
fn root_message(error: &mlua::Error) -> String {
    match error {
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => {
            root_message(cause)
        }
        // `doc.lines()` for `doc:lines()`: mlua finds no document first.
        mlua::Error::BadArgument {
            to: Some(to),
            pos: 1,
            ..
        } if to.starts_with("Document.") => {
            let method = &to["Document.".len()..];
            format!("doc:{method}: call it with a colon, as doc:{method}(...)")
        }
        mlua::Error::RuntimeError(text) => text
            .split_once("\nstack traceback:\n")
            .map_or(text.as_str(), |(message, _)| message)
            .to_string(),
        other => other.to_string(),
    }
}

/// What one call produced.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// What the plugin reported, returned and printed.
    pub(super) collected: Collector,
    /// Why the call failed, located: `plugins/x.lua:12: message`.
    pub(super) failure: Option<String>,
}

impl Outcome {
    fn failed(why: String) -> Self {
        Self {
            failure: Some(why),
            ..Self::default()
        }
    }

    /// Reports into a check's findings. A plugin's own findings keep their
    /// severity but are never graver than the check's (`severity: warning`
    /// makes `ctx:error` a warning); failures of the plugin are errors.
    /// A line or column past the end of `doc` is moved back to its end, so
    /// that every finding points into the document.
    pub(super) fn report(
        self,
        function: &str,
        doc: Option<&Document>,
        findings: &mut Findings<'_>,
    ) {
        let Collector {
            reported,
            prints,
            dropped,
            read,
        } = self.collected;
        for read in read {
            findings.read(read);
        }
        // Into the document: its lines keep the file's columns, so a column
        // is clamped in its line without reading the text before it.
        let inside = |position: crate::diagnostic::Position| match doc {
            Some(doc) => {
                let line = position.line.clamp(1, doc.line_count().max(1));
                let width = doc.line_text(line).map_or(0, |text| text.chars().count());
                crate::diagnostic::Position::new(line, position.column.clamp(1, width + 1))
            }
            None => position,
        };
        for finding in reported {
            let start = inside(finding.start);
            let diagnostic = findings.report(start, finding.message);
            diagnostic.severity = diagnostic.severity.max(finding.severity);
            diagnostic.end = finding.end.map(inside).filter(|&end| end > start);
            diagnostic.help = finding.hint;
        }
        for line in prints {
            unplaced(
                findings,
                Severity::Info,
                format!("plugin `{function}` printed: {line}"),
            );
        }
        if dropped > 0 {
            unplaced(
                findings,
                Severity::Info,
                format!(
                    "plugin `{function}`: {dropped} more findings or printed lines were dropped"
                ),
            );
        }
        if let Some(why) = self.failure {
            unplaced(
                findings,
                Severity::Error,
                format!("plugin `{function}` failed: {why}"),
            );
        }
    }
}

/// A finding about the plugin rather than a place in the document; an
/// error one is its failure (see `CheckOutcome::plugin_failures`).
fn unplaced(findings: &mut Findings<'_>, severity: Severity, message: String) {
    let diagnostic = findings.report(crate::diagnostic::Position::START, message);
    diagnostic.severity = severity;
    diagnostic.start = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Options, StatelessRun};
    use crate::playbook::{CheckItem, CheckKind, LoadedPlaybook};

    /// Checks `text` as the primary artifact of `step`, and says how many
    /// Lua states were built for it.
    fn states_for_check(loaded: &LoadedPlaybook, step: &str, text: &str) -> usize {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let playbook = &loaded.playbook;
        let plugins = PluginSet::load(
            loaded.folder(),
            &playbook.plugins,
            root,
            &playbook.limits,
            LimitOverrides::default(),
        );
        let run = StatelessRun::new(playbook, step, None, Options::default())
            .unwrap()
            .with_plugins(&plugins);
        let result = run.check_text(text.to_string(), "doc.md");
        assert!(!result.outcomes.is_empty(), "the step ran no check");
        plugins.states.load(Ordering::Relaxed)
    }

    fn bundled(path: &str) -> LoadedPlaybook {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        LoadedPlaybook::load(&file, path).unwrap()
    }

    const DESIGN: &str = "# Design\n\n## Context\n\nWhy.\n\n## Decision\n\nWhat.\n\n\
        ## Risks\n\n| Risk | Owner |\n| --- | --- |\n| Outage | @kim |\n\n\
        ## Rollout\n\n- [x] Tested\n- [x] Documented\n";

    #[test]
    fn no_lua_state_is_built_for_a_step_without_plugin_checks() {
        // A playbook without plugins.
        let loaded = bundled("benches/plan-phase.yaml");
        assert!(loaded.playbook.plugins.is_empty());
        assert_eq!(states_for_check(&loaded, "plan", "# Plan\n"), 0);

        // A playbook with a plugin, on a step whose plugin check is taken
        // out: naming plugins costs nothing until one runs.
        let mut loaded = bundled("playbooks/minimal.yaml");
        assert!(!loaded.playbook.plugins.is_empty());
        let with_plugin = states_for_check(&loaded, "design", DESIGN);
        assert!(with_plugin >= 1, "the plugin check built no Lua state");
        for step in &mut loaded.playbook.steps {
            step.checks.retain(|item| {
                !matches!(item, CheckItem::Check(check) if matches!(check.kind, CheckKind::Plugin { .. }))
            });
        }
        assert_eq!(states_for_check(&loaded, "design", DESIGN), 0);
    }

    #[test]
    fn splits_located_messages() {
        let error = PluginError::from_lua(
            "plugins/a.lua",
            "plugins/a.lua:12: attempt to call a nil value",
        );
        assert_eq!(error.line, Some(12));
        assert_eq!(error.message, "attempt to call a nil value");
        let error = PluginError::from_lua("plugins/a.lua", "plugins/a.lua: no line");
        assert_eq!(error.line, None);
    }

    #[test]
    fn overrides_win_over_the_playbook() {
        let limits = Limits {
            plugin_timeout_ms: Some(500),
            plugin_memory_mib: Some(8),
        };
        let budget = Budget::new(
            &limits,
            LimitOverrides {
                timeout_ms: Some(50),
                memory_mib: None,
            },
        );
        assert_eq!((budget.timeout_ms, budget.memory_mib), (50, 8));
        let budget = Budget::new(&Limits::default(), LimitOverrides::default());
        assert_eq!(
            (budget.timeout_ms, budget.memory_mib),
            (DEFAULT_TIMEOUT_MS, DEFAULT_MEMORY_MIB)
        );
    }
}
