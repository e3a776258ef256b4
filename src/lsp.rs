//! `tollgate lsp`: a Language Server over stdio. Open artifacts are checked
//! from the editor's buffer through [`StatelessRun::check_text`], the call
//! `tollgate check --step` makes, so a finding is judged in one place; the
//! playbook, its bases and its plugins get the diagnostics of `tollgate lint`.
//!
//! The server is synchronous: one thread reads messages into a queue, the
//! main thread takes everything queued, applies every edit, and only then
//! checks each changed document once, so a burst of keystrokes costs one
//! check of the latest text and no delay is added to a lone edit.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::SystemTime;

use lsp_server::{ErrorCode, Message, Notification, Request, Response};
use lsp_types::{
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Position, Range,
    TextDocumentContentChangeEvent, Uri,
};

use crate::diagnostic::{self, Diagnostic, Severity};
use crate::engine::{Options, StatelessRun};
use crate::lua::PluginSet;
use crate::playbook::{LoadedPlaybook, lint};
use crate::project::Project;
use crate::source::LineStarts;

/// Where each check kind is documented.
const CHECKS_DOC: &str = "https://docs.rs/crate/tollgate/latest/source/docs/checks.md";

/// What the server is started with: the CLI's global options.
pub struct Config {
    pub root: PathBuf,
    pub playbook: PathBuf,
    pub vars: Vec<(String, serde_json::Value)>,
    pub options: Options,
}

/// A document the editor has open that the server checks.
struct Open {
    text: String,
    version: i32,
}

/// The playbook as last loaded, and which artifact each open file is.
/// What an open artifact is to the playbook: the step whose checks read it,
/// the artifact's name, and the subject's other artifacts (name and
/// root-relative path), which a `trace` or a plugin of that step may read.
struct ArtifactUse {
    step: String,
    artifact: String,
    others: Vec<(String, String)>,
}

struct Loaded {
    playbook: LoadedPlaybook,
    plugins: PluginSet,
    /// Root-relative artifact path: the step that reads it and more.
    artifacts: HashMap<String, ArtifactUse>,
    /// When the state's history last changed as `artifacts` saw it: a
    /// subject registered or moved since (by the command line) changes it.
    history_changed: Option<SystemTime>,
}

struct Server {
    config: Config,
    loaded: Option<Loaded>,
    docs: HashMap<String, Open>,
    /// Files (by URI) that last got playbook or plugin diagnostics.
    linted: HashSet<String>,
    /// Last published diagnostics of each artifact, to republish as stale.
    published: HashMap<String, Vec<lsp_types::Diagnostic>>,
    /// The text of each playbook file as last linted, for fixes and hover.
    playbook_texts: HashMap<String, String>,
    /// The playbook as its open buffer holds it, linted as it is typed;
    /// `None` while it is not open, when the file on disk is read.
    playbook_buffer: Option<String>,
    out: std::io::Stdout,
}

/// Serves the editor on stdin and stdout until it says `exit`; the exit code.
pub fn serve(config: Config) -> i32 {
    let (sender, receiver) = mpsc::channel();
    // The queue is unbounded so that the main thread can take every edit
    // that has arrived at once.
    std::thread::spawn(move || {
        let mut input = std::io::stdin().lock();
        loop {
            match Message::read(&mut input) {
                Ok(Some(message)) => {
                    if sender.send(message).is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                // A message that is not JSON-RPC is skipped, not fatal.
                Err(error) if error.kind() == std::io::ErrorKind::InvalidData => {
                    eprintln!("tollgate lsp: skipped a message: {error}");
                }
                Err(_) => return,
            }
        }
    });
    let mut server = Server {
        config,
        loaded: None,
        docs: HashMap::new(),
        linted: HashSet::new(),
        published: HashMap::new(),
        playbook_texts: HashMap::new(),
        playbook_buffer: None,
        out: std::io::stdout(),
    };
    let mut shutdown = false;
    while let Ok(first) = receiver.recv() {
        let batch: Vec<Message> = std::iter::once(first).chain(receiver.try_iter()).collect();
        let mut changed: Vec<String> = Vec::new();
        let mut recheck = false;
        for message in batch {
            match message {
                Message::Request(request) => {
                    shutdown |= request.method == "shutdown";
                    let initialize = request.method == "initialize";
                    let response = server.answer(request);
                    server.send(Message::Response(response));
                    if initialize {
                        server.reload();
                    }
                }
                Message::Notification(note) if note.method == "exit" => {
                    return if shutdown { 0 } else { 1 };
                }
                Message::Notification(note) => match server.notice(note) {
                    Effect::Check(uri) => {
                        if !changed.contains(&uri) {
                            changed.push(uri);
                        }
                    }
                    Effect::Reload => recheck = true,
                    Effect::None => {}
                },
                Message::Response(_) => {}
            }
        }
        if recheck {
            server.reload();
            changed = server.docs.keys().cloned().collect();
        }
        for uri in changed {
            server.check(&uri);
        }
    }
    0
}

/// What a notification calls for once the queue is drained.
enum Effect {
    None,
    Check(String),
    Reload,
}

impl Server {
    fn send(&mut self, message: Message) {
        let mut out = self.out.lock();
        // The editor has gone when its pipe is closed; the reader sees it too.
        let _ = message.write(&mut out);
        let _ = out.flush();
    }

    fn answer(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            "initialize" => Ok(serde_json::json!({
                "capabilities": {
                    "textDocumentSync": {
                        "openClose": true,
                        "change": 2,
                        "save": { "includeText": false },
                    },
                    "codeActionProvider": true,
                    "hoverProvider": true,
                },
                "serverInfo": { "name": "tollgate", "version": env!("CARGO_PKG_VERSION") },
            })),
            "shutdown" => Ok(serde_json::Value::Null),
            "textDocument/codeAction" => Ok(serde_json::from_value(request.params)
                .map(|p| serde_json::json!(self.code_actions(p)))
                .unwrap_or_default()),
            "textDocument/hover" => Ok(serde_json::from_value(request.params)
                .map(|p| serde_json::json!(self.hover(p)))
                .unwrap_or_default()),
            other => Err(format!("tollgate lsp does not answer `{other}`")),
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err(message) => Response::new_err(id, ErrorCode::MethodNotFound as i32, message),
        }
    }

    fn notice(&mut self, note: Notification) -> Effect {
        let params = note.params;
        match note.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(params)
                else {
                    return Effect::None;
                };
                let uri = p.text_document.uri.as_str().to_string();
                if self.is_main_playbook(&uri) {
                    self.playbook_buffer = Some(p.text_document.text);
                    return Effect::Reload;
                }
                if self.is_playbook_file(&uri) {
                    return Effect::None;
                }
                self.refresh_artifacts();
                if self.artifact_of(&uri).is_none() {
                    // Neither artifact nor playbook: nothing is kept.
                    return Effect::None;
                }
                self.docs.insert(
                    uri.clone(),
                    Open {
                        text: p.text_document.text,
                        version: p.text_document.version,
                    },
                );
                Effect::Check(uri)
            }
            "textDocument/didChange" => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(params)
                else {
                    return Effect::None;
                };
                let uri = p.text_document.uri.as_str().to_string();
                if self.is_main_playbook(&uri)
                    && let Some(buffer) = self.playbook_buffer.as_mut()
                {
                    for change in p.content_changes {
                        apply(buffer, change);
                    }
                    return Effect::Reload;
                }
                let Some(open) = self.docs.get_mut(&uri) else {
                    return Effect::None;
                };
                for change in p.content_changes {
                    apply(&mut open.text, change);
                }
                open.version = p.text_document.version;
                Effect::Check(uri)
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(params)
                else {
                    return Effect::None;
                };
                let uri = p.text_document.uri.as_str().to_string();
                if self.is_main_playbook(&uri) && self.playbook_buffer.take().is_some() {
                    // Closed unsaved, the playbook is the file on disk again.
                    return Effect::Reload;
                }
                if self.docs.remove(&uri).is_some() {
                    self.published.remove(&uri);
                    self.publish(&uri, Vec::new(), None);
                }
                Effect::None
            }
            "textDocument/didSave" => {
                let Ok(p) = serde_json::from_value::<lsp_types::DidSaveTextDocumentParams>(params)
                else {
                    return Effect::None;
                };
                if self.is_playbook_file(p.text_document.uri.as_str()) {
                    Effect::Reload
                } else {
                    Effect::None
                }
            }
            _ => Effect::None,
        }
    }

    /// Whether a file is the playbook itself, whose open buffer is linted as
    /// it is typed.
    fn is_main_playbook(&self, uri: &str) -> bool {
        uri_path(uri).is_some_and(|path| same_file(&path, &self.config.playbook))
    }

    /// Whether a file is the playbook, a base of it or a plugin it names,
    /// whose saving changes every verdict.
    fn is_playbook_file(&self, uri: &str) -> bool {
        let Some(path) = uri_path(uri) else {
            return false;
        };
        if same_file(&path, &self.config.playbook) {
            return true;
        }
        if self.linted.contains(uri) {
            return true;
        }
        self.loaded.as_ref().is_some_and(|loaded| {
            let folder = loaded.playbook.folder();
            let plugins = loaded.playbook.playbook.plugins.values();
            let bases = loaded.playbook.bases.iter().map(|(shown, _)| shown);
            plugins
                .chain(bases)
                .any(|p| same_file(&path, &folder.join(p)))
        })
    }

    /// Learns the artifacts afresh when the state's history changed since
    /// they were learnt: one look at a file's time, not a read of the state.
    fn refresh_artifacts(&mut self) {
        let Some(loaded) = self.loaded.as_mut() else {
            return;
        };
        let now = history_changed(&self.config.root, &loaded.playbook);
        if now != loaded.history_changed {
            loaded.artifacts =
                artifact_steps(&self.config.root, &loaded.playbook, self.config.options);
            loaded.history_changed = now;
        }
    }

    /// The root-relative path of an artifact file, when `uri` is one.
    fn artifact_of(&self, uri: &str) -> Option<String> {
        let path = uri_path(uri)?;
        let root = std::path::absolute(&self.config.root).ok()?;
        let relative = path.strip_prefix(&root).ok()?;
        let relative = relative.to_string_lossy().replace('\\', "/");
        let loaded = self.loaded.as_ref()?;
        loaded.artifacts.contains_key(&relative).then_some(relative)
    }

    /// Loads the playbook (from its open buffer, else from disk), publishes
    /// its lint diagnostics (or the reason it does not load), and learns
    /// which files are artifacts.
    fn reload(&mut self) {
        let file = std::path::absolute(&self.config.playbook)
            .unwrap_or_else(|_| self.config.playbook.clone());
        let display = file.to_string_lossy().into_owned();
        let mut by_file: HashMap<String, Vec<Diagnostic>> = HashMap::new();
        let mut texts: HashMap<String, String> = HashMap::new();
        let loaded = match self.playbook_buffer.clone() {
            Some(text) => LoadedPlaybook::from_source(&file, &display, text),
            None => LoadedPlaybook::load(&file, &display),
        };
        match loaded {
            Ok(mut playbook) => {
                let lint = lint::lint(&playbook);
                for diagnostic in lint.diagnostics {
                    by_file
                        .entry(diagnostic.path.clone())
                        .or_default()
                        .push(diagnostic);
                }
                for (path, text) in lint.extra_sources {
                    texts.insert(path, text);
                }
                texts.insert(display.clone(), playbook.source.clone());
                for (path, text) in &playbook.bases {
                    texts.insert(path.clone(), text.clone());
                }
                for (key, value) in &self.config.vars {
                    playbook.playbook.vars.insert(key.clone(), value.clone());
                }
                // Read before the state is, so a change made meanwhile is seen.
                let history_changed = history_changed(&self.config.root, &playbook);
                let artifacts = artifact_steps(&self.config.root, &playbook, self.config.options);
                let plugins = PluginSet::load(
                    playbook.folder(),
                    &playbook.playbook.plugins,
                    &self.config.root,
                    &playbook.playbook.limits,
                    self.config.options.limits,
                );
                self.loaded = Some(Loaded {
                    playbook,
                    plugins,
                    artifacts,
                    history_changed,
                });
            }
            Err(error) => {
                if let Some(text) = &error.text {
                    texts.insert(error.display.clone(), text.clone());
                }
                for diagnostic in error.diagnostics {
                    by_file
                        .entry(diagnostic.path.clone())
                        .or_default()
                        .push(diagnostic);
                }
                by_file.entry(display.clone()).or_default();
                self.loaded = None;
                self.mark_stale();
            }
        }
        by_file.entry(display).or_default();
        let mut now = HashSet::new();
        for (path, diagnostics) in by_file {
            let path = Path::new(&path);
            let absolute = if path.is_absolute() {
                path.to_path_buf()
            } else {
                file.parent().unwrap_or(Path::new(".")).join(path)
            };
            let uri = path_uri(&absolute);
            let text = texts.get(&*path.to_string_lossy()).map(String::as_str);
            if let Some(text) = text {
                self.playbook_texts.insert(uri.clone(), text.to_string());
            }
            let starts = text.map(LineStarts::new);
            let converted = diagnostics
                .iter()
                .map(|d| convert(d, text.zip(starts.as_ref()), &uri, None))
                .collect();
            self.publish(&uri, converted, None);
            now.insert(uri);
        }
        // A file whose findings are gone is cleared.
        for uri in self.linted.difference(&now).cloned().collect::<Vec<_>>() {
            self.publish(&uri, Vec::new(), None);
        }
        self.linted = now;
    }

    /// Fixes for the findings the editor shows at a place: a missing
    /// heading, a suppression comment, a did-you-mean in the playbook.
    fn code_actions(&self, params: lsp_types::CodeActionParams) -> Vec<lsp_types::CodeAction> {
        let uri = params.text_document.uri;
        let key = uri.as_str();
        let mut actions = Vec::new();
        let ours = params
            .context
            .diagnostics
            .into_iter()
            .filter(|d| d.source.as_deref() == Some("tollgate"));
        if let Some(open) = self.docs.get(key) {
            for diagnostic in ours {
                let Some(NumberOrString::String(code)) = &diagnostic.code else {
                    continue;
                };
                let heading = diagnostic
                    .message
                    .starts_with("missing section")
                    .then(|| backticked(diagnostic.related_information.as_ref()?.first()?))
                    .flatten();
                if let Some(heading) = heading {
                    // With `order: true` the finding points at the section
                    // that should follow; otherwise the heading goes last.
                    let at = diagnostic.range.start;
                    let (at, text) = if at == Position::new(0, 0) {
                        let end = end_of(&open.text);
                        let gap = if open.text.ends_with('\n') {
                            "\n"
                        } else {
                            "\n\n"
                        };
                        (end, format!("{gap}{heading}\n"))
                    } else {
                        (Position::new(at.line, 0), format!("{heading}\n\n"))
                    };
                    actions.push(edit_action(
                        format!("Add the heading `{heading}`"),
                        &uri,
                        Range::new(at, at),
                        text,
                        &diagnostic,
                    ));
                }
                let line = Position::new(diagnostic.range.start.line, 0);
                actions.push(edit_action(
                    format!("Suppress `{code}` on this line (give the reason)"),
                    &uri,
                    Range::new(line, line),
                    format!("<!-- tollgate-disable-next-line {code}: reason -->\n"),
                    &diagnostic,
                ));
            }
        } else if let Some(text) = self.playbook_texts.get(key) {
            for diagnostic in ours {
                let help = diagnostic
                    .related_information
                    .as_ref()
                    .and_then(|r| r.first());
                let Some(help) = help.filter(|h| h.message.starts_with("did you mean")) else {
                    continue;
                };
                let Some(near) = suggested(&help.message) else {
                    continue;
                };
                let start = diagnostic.range.start;
                let at = offset(text, start);
                let word = text[at..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(text.len() - at);
                let end = Position::new(
                    start.line,
                    start.character + text[at..at + word].encode_utf16().count() as u32,
                );
                actions.push(edit_action(
                    format!("Replace with `{near}`"),
                    &uri,
                    Range::new(start, end),
                    near,
                    &diagnostic,
                ));
            }
        }
        actions
    }

    /// On an artifact's heading, the checks that read its section; on a
    /// playbook key, what the schema says of it.
    fn hover(&self, params: lsp_types::HoverParams) -> Option<lsp_types::Hover> {
        let place = params.text_document_position_params;
        let key = place.text_document.uri.as_str();
        let line_of = |text: &str| {
            text.lines()
                .nth(place.position.line as usize)
                .map(str::to_string)
        };
        let value = if let Some(open) = self.docs.get(key) {
            let line = line_of(&open.text)?;
            let title = line
                .strip_prefix('#')?
                .trim_start_matches('#')
                .trim()
                .to_string();
            let relative = self.artifact_of(key)?;
            let loaded = self.loaded.as_ref()?;
            let ArtifactUse { step, artifact, .. } = &loaded.artifacts[&relative];
            let index = loaded
                .playbook
                .playbook
                .steps
                .iter()
                .position(|s| &s.id == step)?;
            let checks = loaded.playbook.playbook.step_checks(index);
            let on_file: Vec<_> = checks
                .iter()
                .filter(|(_, c)| c.artifact.as_deref() == Some(artifact.as_str()))
                .collect();
            // A check names the sections it reads by title in its settings.
            let reading: Vec<String> = on_file
                .iter()
                .filter(|(_, c)| format!("{:?}", c.kind).contains(&format!("{title:?}")))
                .map(|(_, c)| format!("- `{}` ({})", c.id, c.kind.name()))
                .collect();
            if reading.is_empty() {
                format!(
                    "**{title}**: no check of step `{step}` names this section; {} check the whole file",
                    on_file.len()
                )
            } else {
                format!(
                    "**{title}**: read by step `{step}`:\n{}",
                    reading.join("\n")
                )
            }
        } else if self.playbook_texts.contains_key(key) {
            let text = &self.playbook_texts[key];
            let line = line_of(text)?;
            let name = line
                .trim_start()
                .trim_start_matches("- ")
                .split(':')
                .next()?
                .trim();
            let description = describe_key(name)?;
            format!("`{name}`: {description}")
        } else {
            return None;
        };
        Some(lsp_types::Hover {
            contents: lsp_types::HoverContents::Markup(lsp_types::MarkupContent {
                kind: lsp_types::MarkupKind::Markdown,
                value,
            }),
            range: None,
        })
    }

    /// Keeps each open artifact's last findings, marked as out of date
    /// while the playbook does not load.
    fn mark_stale(&mut self) {
        let stale: Vec<(String, Vec<lsp_types::Diagnostic>)> = self
            .published
            .iter()
            .map(|(uri, list)| {
                let list = list
                    .iter()
                    .cloned()
                    .map(|mut d| {
                        if !d.message.starts_with("(stale)") {
                            d.message = format!(
                                "(stale) {} [the playbook does not load; this finding is from its last version]",
                                d.message
                            );
                        }
                        d
                    })
                    .collect();
                (uri.clone(), list)
            })
            .collect();
        for (uri, list) in stale {
            let version = self.docs.get(&uri).map(|d| d.version);
            self.publish(&uri, list, version);
        }
    }

    /// Checks an open artifact's buffer and publishes its findings.
    fn check(&mut self, uri: &str) {
        self.refresh_artifacts();
        let Some(relative) = self.artifact_of(uri) else {
            return;
        };
        let (Some(open), Some(loaded)) = (self.docs.get(uri), &self.loaded) else {
            return;
        };
        let used = &loaded.artifacts[&relative];
        let root = &self.config.root;
        let base = || {
            StatelessRun::new(
                &loaded.playbook.playbook,
                &used.step,
                Some(&used.artifact),
                self.config.options,
            )
            .map(|run| run.with_plugins(&loaded.plugins).within(root))
        };
        // The subject's other documents, as on disk, for the checks that
        // read them; one that cannot be read is left out, as it is missing.
        let run = base()
            .and_then(|run| {
                (used.others.iter())
                    .filter(|(_, path)| root.join(path).is_file())
                    .try_fold(run, |run, (name, path)| {
                        run.with_artifact_file(name, &root.join(path), path)
                    })
            })
            .or_else(|_| base());
        let Ok(run) = run else {
            return;
        };
        let result = run.check_text(open.text.clone(), &relative);
        let starts = LineStarts::new(&open.text);
        let diagnostics: Vec<lsp_types::Diagnostic> = result
            .outcomes
            .iter()
            .flat_map(|outcome| {
                outcome
                    .findings
                    .iter()
                    .map(move |finding| (outcome.kind, finding))
            })
            .filter(|(_, finding)| finding.path == relative)
            .map(|(kind, finding)| convert(finding, Some((&open.text, &starts)), uri, Some(kind)))
            .collect();
        let version = open.version;
        self.published.insert(uri.to_string(), diagnostics.clone());
        self.publish(uri, diagnostics, Some(version));
    }

    fn publish(
        &mut self,
        uri: &str,
        diagnostics: Vec<lsp_types::Diagnostic>,
        version: Option<i32>,
    ) {
        let Ok(uri) = uri.parse::<Uri>() else {
            return;
        };
        let params = lsp_types::PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.send(Message::Notification(Notification::new(
            "textDocument/publishDiagnostics".into(),
            params,
        )));
    }
}

/// Each artifact path of each registered subject, with the step whose
/// gate reads it: the subject's current step when it reads the artifact,
/// else the last step before it that does.
fn artifact_steps(
    root: &Path,
    loaded: &LoadedPlaybook,
    options: Options,
) -> HashMap<String, ArtifactUse> {
    let project = Project::new(root, loaded, options);
    let playbook = &loaded.playbook;
    let reads = |index: usize, name: &str| {
        (playbook.step_checks(index).iter())
            .any(|(_, check)| check.artifact.as_deref() == Some(name))
    };
    let mut map = HashMap::new();
    let Ok(records) = project.store.subjects() else {
        return map;
    };
    for record in records.into_iter().flatten() {
        let Ok(paths) = project.artifact_paths(&record) else {
            continue;
        };
        let current = project
            .current_step(&record)
            .and_then(|step| (playbook.steps.iter()).position(|s| std::ptr::eq(s, step)));
        let last = current.unwrap_or(playbook.steps.len().saturating_sub(1));
        for (name, path) in &paths {
            let step = (0..=last).rev().find(|&index| reads(index, name));
            if let Some(index) = step {
                let others = (paths.iter())
                    .filter(|(other, _)| *other != name)
                    .map(|(other, path)| (other.clone(), path.clone()))
                    .collect();
                let used = ArtifactUse {
                    step: playbook.steps[index].id.clone(),
                    artifact: name.clone(),
                    others,
                };
                map.insert(path.clone(), used);
            }
        }
    }
    map
}

/// When the state's history file last changed; `None` without one.
fn history_changed(root: &Path, loaded: &LoadedPlaybook) -> Option<SystemTime> {
    let history = root.join(&loaded.playbook.state_dir).join("history.jsonl");
    std::fs::metadata(history).and_then(|m| m.modified()).ok()
}

/// A quick fix that makes one edit.
fn edit_action(
    title: String,
    uri: &Uri,
    range: Range,
    text: String,
    diagnostic: &lsp_types::Diagnostic,
) -> lsp_types::CodeAction {
    let edit = lsp_types::TextEdit::new(range, text);
    lsp_types::CodeAction {
        title,
        kind: Some(lsp_types::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic.clone()]),
        edit: Some(lsp_types::WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The first `backticked` text of a hint.
fn backticked(info: &DiagnosticRelatedInformation) -> Option<String> {
    let (_, rest) = info.message.split_once('`')?;
    Some(rest.split_once('`')?.0.to_string())
}

/// The name a "did you mean `x`?" (or "x") hint suggests.
fn suggested(message: &str) -> Option<String> {
    let rest = message.strip_prefix("did you mean ")?;
    let quote = rest.chars().next()?;
    let rest = &rest[quote.len_utf8()..];
    Some(rest.split_once(quote)?.0.to_string())
}

fn end_of(text: &str) -> Position {
    let line = text.matches('\n').count();
    let last = text.rsplit('\n').next().unwrap_or("");
    Position::new(line as u32, last.encode_utf16().count() as u32)
}

/// The schema's description of a playbook key: the first property of
/// that name that has one.
fn describe_key(name: &str) -> Option<String> {
    fn find(value: &serde_json::Value, name: &str) -> Option<String> {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(found) = map
                    .get("properties")
                    .and_then(|p| p.get(name))
                    .and_then(|p| p.get("description"))
                    .and_then(|d| d.as_str())
                {
                    return Some(found.to_string());
                }
                map.values().find_map(|v| find(v, name))
            }
            serde_json::Value::Array(items) => items.iter().find_map(|v| find(v, name)),
            _ => None,
        }
    }
    find(crate::playbook::schema::schema(), name)
}

/// A finding as the editor shows it; `text` is the file's, with its line
/// starts found once for all its findings.
fn convert(
    finding: &Diagnostic,
    text: Option<(&str, &LineStarts)>,
    uri: &str,
    kind: Option<&str>,
) -> lsp_types::Diagnostic {
    let start = finding.start.unwrap_or(diagnostic::Position::START);
    let start = to_lsp(text, start);
    let end = match finding.end {
        Some(end) => to_lsp(text, end),
        // A point finding covers the rest of its line.
        None => Position::new(start.line, line_end(text, start.line).max(start.character)),
    };
    let range = Range::new(start, end);
    let related = match (&finding.help, uri.parse::<Uri>()) {
        (Some(help), Ok(uri)) => Some(vec![DiagnosticRelatedInformation {
            location: Location { uri, range },
            message: help.clone(),
        }]),
        _ => None,
    };
    let href = kind.and_then(|kind| format!("{CHECKS_DOC}#{kind}").parse::<Uri>().ok());
    lsp_types::Diagnostic {
        range,
        severity: Some(match finding.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Info => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(finding.code.clone())),
        code_description: href.map(|href| lsp_types::CodeDescription { href }),
        source: Some("tollgate".into()),
        message: finding.message.clone(),
        related_information: related,
        tags: None,
        data: None,
    }
}

/// A 1-based line and character column as a 0-based line and UTF-16 offset.
fn to_lsp(text: Option<(&str, &LineStarts)>, at: diagnostic::Position) -> Position {
    let line = at.line.saturating_sub(1);
    let column = at.column.saturating_sub(1);
    let units = match line_text(text, line) {
        Some(content) => content.chars().take(column).map(char::len_utf16).sum(),
        None => column,
    };
    Position::new(line as u32, units as u32)
}

fn line_end(text: Option<(&str, &LineStarts)>, line: u32) -> u32 {
    line_text(text, line as usize).map_or(0, |content| content.encode_utf16().count() as u32)
}

/// The text of a 0-based line, without its ending (LF, CRLF or CR, as the
/// protocol counts lines); `None` past the last.
fn line_text<'t>(text: Option<(&'t str, &LineStarts)>, line: usize) -> Option<&'t str> {
    let (text, starts) = text?;
    (line < starts.lines()).then(|| &text[starts.line_span(text, line + 1)])
}

/// The byte offset of an LSP position in `text`, clamped to the text.
fn offset(text: &str, at: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..at.line {
        match text[line_start..].find('\n') {
            Some(newline) => line_start += newline + 1,
            None => return text.len(),
        }
    }
    let mut units = 0;
    for (index, c) in text[line_start..].char_indices() {
        if units >= at.character as usize || c == '\n' {
            return line_start + index;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// Applies one change, whole-text or ranged, to a buffer.
fn apply(text: &mut String, change: TextDocumentContentChangeEvent) {
    match change.range {
        None => *text = change.text,
        Some(range) => {
            let start = offset(text, range.start);
            let end = offset(text, range.end).max(start);
            text.replace_range(start..end, &change.text);
        }
    }
}

/// The file a `file:` URI names.
fn uri_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let mut bytes = Vec::with_capacity(rest.len());
    let mut iter = rest.bytes();
    while let Some(b) = iter.next() {
        if b == b'%' {
            let hex: Vec<u8> = iter.by_ref().take(2).collect();
            let decoded = std::str::from_utf8(&hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())?;
            bytes.push(decoded);
        } else {
            bytes.push(b);
        }
    }
    Some(PathBuf::from(String::from_utf8(bytes).ok()?))
}

/// The `file:` URI of a path, reserved characters escaped.
fn path_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

fn same_file(a: &Path, b: &Path) -> bool {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    absolute(a) == absolute(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranged_changes_count_utf16_units() {
        let mut text = String::from("é😀x\nsecond");
        apply(
            &mut text,
            TextDocumentContentChangeEvent {
                range: Some(Range::new(Position::new(0, 3), Position::new(0, 4))),
                range_length: None,
                text: "y".into(),
            },
        );
        assert_eq!(text, "é😀y\nsecond");
        let starts = LineStarts::new(&text);
        assert_eq!(
            to_lsp(Some((&text, &starts)), diagnostic::Position::new(1, 3)),
            Position::new(0, 3)
        );
    }

    #[test]
    fn lines_end_at_cr_as_the_protocol_counts_them() {
        let text = "é\r😀x\r\nlast";
        let starts = LineStarts::new(text);
        let at = |line, column| {
            to_lsp(
                Some((text, &starts)),
                diagnostic::Position::new(line, column),
            )
        };
        assert_eq!(at(2, 2), Position::new(1, 2));
        assert_eq!(line_end(Some((text, &starts)), 1), 3);
        assert_eq!(line_end(Some((text, &starts)), 2), 4);
        assert_eq!(line_end(Some((text, &starts)), 3), 0);
    }

    #[test]
    fn file_uris_round_trip() {
        let path = Path::new("/tmp/a b/plan é.md");
        assert_eq!(uri_path(&path_uri(path)).as_deref(), Some(path));
    }
}
