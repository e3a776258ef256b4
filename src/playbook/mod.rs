//! Playbooks: the serde model, loading YAML with positions, JSON Schema
//! validation, and the semantic lint.

pub mod graph;
pub mod lint;
mod model;
pub mod schema;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use model::*;

use crate::diagnostic::{Diagnostic, Position};
use crate::source::{self, SourceError};
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
}

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
        let text = source::read_text(file, yaml::MAX_FILE_BYTES).map_err(|error| match error {
            SourceError::NotUtf8 { position } => {
                // The frame shows the bad bytes as `�`, at the line and
                // column the diagnostic names.
                let shown = std::fs::File::open(file).ok().and_then(|opened| {
                    let mut bytes = Vec::new();
                    let limit = yaml::MAX_FILE_BYTES as u64;
                    opened.take(limit).read_to_end(&mut bytes).ok()?;
                    Some(String::from_utf8_lossy(&bytes).into_owned())
                });
                let diagnostic =
                    Diagnostic::error("not-utf8", display, "the file is not valid UTF-8")
                        .at(position)
                        .to(Position::new(position.line, position.column + 1))
                        .with_help("save the file with the UTF-8 encoding");
                LoadError::unusable(display, shown, diagnostic)
            }
            SourceError::TooLarge { .. } => {
                let diagnostic = Diagnostic::error("too-large", display, error.to_string());
                LoadError::unusable(display, None, diagnostic)
            }
            SourceError::Io(_) => {
                let diagnostic = Diagnostic::error("unreadable", display, error.to_string());
                LoadError::unusable(display, None, diagnostic)
            }
        })?;
        Self::from_source(file, display, text)
    }

    /// Parses and validates playbook text already in memory.
    pub fn from_source(file: &Path, display: &str, text: String) -> Result<Self, LoadError> {
        let (json, spans) = match yaml::parse(&text) {
            Ok(parsed) => parsed,
            Err(error) => {
                let diagnostic = Diagnostic::error(error.code(), display, error.message.clone())
                    .at_opt(error.position);
                return Err(LoadError::unusable(display, Some(text), diagnostic));
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
            return Err(LoadError::unusable(display, Some(text), diagnostic));
        }
        let invalid = |diagnostics| LoadError {
            stage: LoadStage::Invalid,
            display: display.to_string(),
            text: Some(text.clone()),
            diagnostics,
        };
        let diagnostics = schema::validate(&json, &spans, display);
        if !diagnostics.is_empty() {
            return Err(invalid(diagnostics));
        }
        let playbook = serde_path_to_error::deserialize::<_, Playbook>(&json).map_err(|error| {
            let pointer = json_pointer(error.path());
            let position = spans.value(&pointer);
            invalid(vec![
                Diagnostic::error("invalid-playbook", display, error.inner().to_string())
                    .at_opt(position),
            ])
        })?;
        Ok(Self {
            file: file.to_path_buf(),
            display: display.to_string(),
            source: text,
            spans,
            playbook,
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
}

fn json_pointer(path: &serde_path_to_error::Path) -> String {
    path.iter()
        .map(|segment| match segment {
            serde_path_to_error::Segment::Seq { index } => format!("/{index}"),
            serde_path_to_error::Segment::Map { key } => format!("/{}", yaml::pointer_segment(key)),
            serde_path_to_error::Segment::Enum { variant } => format!("/{variant}"),
            serde_path_to_error::Segment::Unknown => String::new(),
        })
        .collect()
}
