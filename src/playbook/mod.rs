//! Playbooks: the serde model, loading YAML with positions, JSON Schema
//! validation, and the semantic lint.

pub mod aliases;
mod extends;
pub mod graph;
pub mod lint;
mod model;
pub mod schema;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use aliases::SectionAliases;
pub use model::*;

use crate::diagnostic::{Diagnostic, Position};
use crate::source::SourceError;
use crate::yaml::{self, SpanIndex};

/// A playbook with where it came from, so that every later message can
/// point into its source.
#[derive(Debug, Clone)]
pub struct LoadedPlaybook {
    /// The file on disk.
    pub file: PathBuf,
    /// The path as shown in messages.
    pub display: String,
    pub source: String,
    pub spans: SpanIndex,
    pub playbook: Playbook,
    /// The files this one `extends:`, nearest first, as (display, text):
    /// positions in `spans` may point into them.
    pub bases: Vec<(String, String)>,
    /// The repository holding the playbook: every path it names (bases,
    /// plugins, templates) must lead to a file inside it.
    pub root: PathBuf,
}

/// A playbook file read into JSON, merged with its bases, and validated
/// against the schema.
struct Parsed {
    json: serde_json::Value,
    spans: SpanIndex,
    bases: Vec<(String, String)>,
}

/// Playbooks extending playbooks may nest this deep.
const MAX_EXTENDS_DEPTH: usize = 16;

/// How far loading got: the difference between "this is not a playbook"
/// (unusable input) and "this playbook breaks the format" (lint findings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadStage {
    /// The file could not be read, or is not YAML holding a mapping.
    Unusable,
    /// The YAML does not follow the playbook format.
    Invalid,
}

/// Why a playbook did not load, with the diagnostics that say where.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.summary())]
pub struct LoadError {
    pub stage: LoadStage,
    pub display: String,
    /// The text, when it could be read, for code frames.
    pub text: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    fn summary(&self) -> String {
        match self.diagnostics.first() {
            Some(first) => format!("{}: {}", first.location(), first.message),
            None => format!("{}: the playbook does not load", self.display),
        }
    }

    fn unusable(display: &str, text: Option<String>, diagnostic: Diagnostic) -> Self {
        Self {
            stage: LoadStage::Unusable,
            display: display.to_string(),
            text,
            diagnostics: vec![diagnostic],
        }
    }
}

impl LoadedPlaybook {
    /// Reads, parses and validates a playbook file. `display` is the path to
    /// show in messages (relative to the working folder, usually).
    pub fn load(file: &Path, display: &str) -> Result<Self, LoadError> {
        let text = read(file, display)?;
        Self::from_source(file, display, text)
    }

    /// Parses and validates playbook text already in memory.
    pub fn from_source(file: &Path, display: &str, text: String) -> Result<Self, LoadError> {
        // Absolute, since the paths it names are resolved against the
        // repository root, which need not be the working folder.
        let file = &std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let root = crate::confined::repository_root(file.parent().unwrap_or(Path::new(".")));
        let Parsed { json, spans, bases } = parse(file, display, &text, &root, &mut Vec::new())?;
        // By value: the playbook takes the strings of the JSON, not copies.
        let playbook = serde_path_to_error::deserialize::<_, Playbook>(json).map_err(|error| {
            let pointer = yaml::json_pointer(error.path());
            let position = spans.value(&pointer);
            LoadError {
                stage: LoadStage::Invalid,
                display: display.to_string(),
                text: Some(text.clone()),
                diagnostics: vec![
                    Diagnostic::error("invalid-playbook", display, error.inner().to_string())
                        .at_opt(position),
                ],
            }
        })?;
        Ok(Self {
            file: file.to_path_buf(),
            display: display.to_string(),
            source: text,
            spans,
            playbook,
            bases,
            root,
        })
    }

    /// The folder that plugin and template paths are relative to.
    pub fn folder(&self) -> &Path {
        self.file.parent().unwrap_or(Path::new("."))
    }

    /// Where the value at a JSON pointer was written.
    pub fn position(&self, pointer: &str) -> Option<Position> {
        self.spans.value(pointer)
    }

    /// The file (as displayed) the value at a JSON pointer was written in.
    pub fn file_of(&self, pointer: &str) -> &str {
        self.spans.file(pointer).unwrap_or(&self.display)
    }

    /// The text of the file shown as `display`: this one or a base.
    pub fn text_of(&self, display: &str) -> &str {
        self.bases
            .iter()
            .find(|(shown, _)| shown == display)
            .map_or(&self.source, |(_, text)| text)
    }
}

/// Reads a playbook file's text, or says why it cannot be used.
fn read(file: &Path, display: &str) -> Result<String, LoadError> {
    crate::init::read_playbook_file(file, yaml::MAX_FILE_BYTES).map_err(|error| match error {
        SourceError::NotUtf8 { position } => {
            // The frame shows the bad bytes as `�`, at the line and
            // column the diagnostic names.
            let shown = std::fs::File::open(file).ok().and_then(|opened| {
                let mut bytes = Vec::new();
                let limit = yaml::MAX_FILE_BYTES as u64;
                opened.take(limit).read_to_end(&mut bytes).ok()?;
                Some(String::from_utf8_lossy(&bytes).into_owned())
            });
            let diagnostic = Diagnostic::error("not-utf8", display, "the file is not valid UTF-8")
                .at(position)
                .to(Position::new(position.line, position.column + 1))
                .with_help("save the file with the UTF-8 encoding");
            LoadError::unusable(display, shown, diagnostic)
        }
        SourceError::TooLarge { .. } => {
            let diagnostic = Diagnostic::error("too-large", display, error.to_string());
            LoadError::unusable(display, None, diagnostic)
        }
        SourceError::Io(_) | SourceError::NotRegular => {
            let diagnostic = Diagnostic::error("unreadable", display, error.to_string());
            LoadError::unusable(display, None, diagnostic)
        }
    })
}

/// Parses `text`, merges the playbook it `extends:` (read recursively,
/// only from inside `root`; `chain` holds the files on the way, to catch
/// cycles) and validates the result against the schema.
fn parse(
    file: &Path,
    display: &str,
    text: &str,
    root: &Path,
    chain: &mut Vec<PathBuf>,
) -> Result<Parsed, LoadError> {
    let (json, spans) = match yaml::parse(text) {
        Ok(parsed) => parsed,
        Err(error) => {
            let diagnostic = Diagnostic::error(error.code(), display, error.message.clone())
                .at_opt(error.position);
            return Err(LoadError::unusable(
                display,
                Some(text.to_string()),
                diagnostic,
            ));
        }
    };
    if !json.is_object() {
        let diagnostic = Diagnostic::error(
            "not-a-mapping",
            display,
            format!(
                "a playbook is a mapping of keys such as `tollgate:`, `name:` and `steps:`, not {}",
                schema::describe_type(&json)
            ),
        )
        .at_opt(spans.value(""));
        return Err(LoadError::unusable(
            display,
            Some(text.to_string()),
            diagnostic,
        ));
    }
    let invalid = |diagnostics| LoadError {
        stage: LoadStage::Invalid,
        display: display.to_string(),
        text: Some(text.to_string()),
        diagnostics,
    };
    let diagnostics = schema::validate(&json, &spans, display);
    if !diagnostics.is_empty() {
        return Err(invalid(diagnostics));
    }
    let Some(base) = json.get("extends").and_then(|base| base.as_str()) else {
        return Ok(Parsed {
            json,
            spans,
            bases: Vec::new(),
        });
    };
    let at_extends = |code: &str, message: String, help: String| {
        invalid(vec![
            Diagnostic::error(code, display, message)
                .at_opt(spans.value("/extends"))
                .with_help(help),
        ])
    };
    // A bare name is a bundled playbook; anything else is a file beside this one.
    let (base_file, base_display, base_path) = match crate::init::bundled_base(base) {
        Some(bundled) => (PathBuf::from(&bundled), bundled.clone(), bundled),
        None => (
            file.parent().unwrap_or(Path::new(".")).join(base),
            lint::display_beside(display, base),
            base.to_string(),
        ),
    };
    let here = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    chain.push(here);
    let canonical = std::fs::canonicalize(&base_file).unwrap_or_else(|_| base_file.clone());
    if chain.contains(&canonical) {
        return Err(at_extends(
            "extends-cycle",
            format!("`extends: {base}` leads back to a playbook already being extended"),
            "a base may itself extend another, but never one that extends it".into(),
        ));
    }
    if chain.len() > MAX_EXTENDS_DEPTH {
        return Err(at_extends(
            "extends-cycle",
            format!("`extends: {base}` goes more than {MAX_EXTENDS_DEPTH} playbooks deep"),
            "merge some of the bases into one".into(),
        ));
    }
    if let Err(error) = crate::confined::resolve(root, &base_file) {
        return Err(at_extends(
            "path-outside-root",
            format!("`extends: {base}` cannot be used: {error}"),
            "a base must be a file inside the repository that holds the playbook".into(),
        ));
    }
    let base_text = read(&base_file, &base_display).map_err(|error| {
        let detail = error
            .diagnostics
            .first()
            .map_or_else(String::new, |d| d.message.clone());
        at_extends(
            "missing-base",
            format!("the base playbook `{base}` cannot be read: {detail}"),
            format!(
                "looked for {}; `extends:` is a path relative to this file, or the name of a bundled playbook ({})",
                crate::source::display_path(&base_file),
                crate::init::BUNDLED.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let mut base_parsed = parse(&base_file, &base_display, &base_text, root, chain)?;
    rebase(&mut base_parsed.json, &base_path);
    let (mut merged, merged_spans) = extends::merge(
        extends::Layer {
            json: &base_parsed.json,
            spans: &base_parsed.spans,
            display: &base_display,
        },
        extends::Layer {
            json: &json,
            spans: &spans,
            display,
        },
    )
    .map_err(invalid)?;
    if let Some(object) = merged.as_object_mut() {
        object.remove("extends");
    }
    let mut bases = vec![(base_display.clone(), base_text.clone())];
    bases.append(&mut base_parsed.bases);
    let diagnostics = schema::validate(&merged, &merged_spans, display);
    if !diagnostics.is_empty() {
        // An override can break a base value (`instructions:` beside a
        // base `document:`); when every diagnostic is in the base, its
        // text goes with them for the code frames.
        let mut error = invalid(diagnostics);
        if error.diagnostics.iter().all(|d| d.path == base_display) {
            error.display = base_display;
            error.text = Some(base_text);
        }
        return Err(error);
    }
    Ok(Parsed {
        json: merged,
        spans: merged_spans,
        bases,
    })
}

/// Makes the base's file paths (plugins, step templates), written relative
/// to the base, relative to the extending file, which is `base` away.
fn rebase(json: &mut serde_json::Value, base: &str) {
    let Some((folder, _)) = base.rsplit_once('/') else {
        return;
    };
    let joined = |path: &str| lint::join_relative(folder, path);
    if let Some(plugins) = json.get_mut("plugins").and_then(|p| p.as_object_mut()) {
        for path in plugins.values_mut() {
            if let Some(text) = path.as_str() {
                *path = joined(text).into();
            }
        }
    }
    if let Some(steps) = json.get_mut("steps").and_then(|s| s.as_array_mut()) {
        for step in steps {
            if let Some(document) = step.get_mut("document")
                && let Some(text) = document.as_str()
            {
                *document = joined(text).into();
            }
        }
    }
}
