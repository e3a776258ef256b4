//! The one message type every layer reports in: a code, a severity, words,
//! and the file and position they are about. Lint diagnostics and check
//! findings share it, so text, JSON and code frames are rendered in one place.

use std::fmt;

use codespan_reporting::diagnostic::{Diagnostic as Frame, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config, termcolor::WriteColor};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A 1-based line and column; the column counts characters, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    pub const fn new(line: usize, column: usize) -> Self {
        Self { line, column }
    }

    /// The start of a file: where a finding about something missing points.
    pub const START: Position = Position { line: 1, column: 1 };
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails a gate.
    #[default]
    Error,
    /// Reported; fails a gate only with `--strict`.
    Warning,
    /// Reported for information; never fails a gate.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// Whether a finding of this severity fails a gate.
    pub fn fails(self, strict: bool) -> bool {
        match self {
            Severity::Error => true,
            Severity::Warning => strict,
            Severity::Info => false,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something found about a file, at a position when there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// A stable identifier: a lint code such as `unknown-phase`, or a check id.
    pub code: String,
    pub severity: Severity,
    pub message: String,
    /// The file, relative to the project root where possible, with `/` separators.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Position>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Position>,
    /// What to do about it, shown under the code frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(
        code: impl Into<String>,
        severity: Severity,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code: code.into(),
            severity,
            message: message.into(),
            path: path.into(),
            start: None,
            end: None,
            help: None,
        }
    }

    pub fn error(
        code: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(code, Severity::Error, path, message)
    }

    pub fn warning(
        code: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(code, Severity::Warning, path, message)
    }

    pub fn at(mut self, start: Position) -> Self {
        self.start = Some(start);
        self
    }

    pub fn at_opt(mut self, start: Option<Position>) -> Self {
        self.start = start;
        self
    }

    pub fn to(mut self, end: Position) -> Self {
        self.end = Some(end);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `path:line:column`, or the path alone when there is no position.
    pub fn location(&self) -> String {
        match self.start {
            Some(start) => format!("{}:{}", self.path, start),
            None => self.path.clone(),
        }
    }

    /// Writes the diagnostic with a code frame of `source` (the text of
    /// `self.path`) when there is a position; a header line otherwise.
    pub fn render(&self, source: Option<&str>, out: &mut dyn WriteColor) -> std::io::Result<()> {
        let frame = match self.severity {
            Severity::Error => Frame::error(),
            Severity::Warning => Frame::warning(),
            Severity::Info => Frame::note(),
        }
        .with_code(self.code.as_str())
        .with_message(self.message.as_str());
        let frame = match self.help.as_ref() {
            Some(help) => frame.with_notes(vec![format!("help: {help}")]),
            None => frame,
        };
        let file = SimpleFile::new(self.path.as_str(), source.unwrap_or(""));
        let frame = match (self.start, source) {
            (Some(start), Some(text)) => {
                let range = byte_range(text, start, self.end);
                frame.with_labels(vec![Label::primary((), range)])
            }
            _ => frame.with_notes_prefixed_by_location(self),
        };
        term::emit_to_write_style(out, &Config::default(), &file, &frame)
            .map_err(|error| std::io::Error::other(error.to_string()))
    }
}

trait LocationNote {
    fn with_notes_prefixed_by_location(self, diagnostic: &Diagnostic) -> Self;
}

impl LocationNote for Frame<()> {
    /// Without a source to frame, the location still has to be said.
    fn with_notes_prefixed_by_location(mut self, diagnostic: &Diagnostic) -> Self {
        self.notes
            .insert(0, format!("in {}", diagnostic.location()));
        self
    }
}

/// Byte offsets of a character position, clamped into the text so that a
/// stale or hostile position never panics the renderer.
pub fn byte_offset(text: &str, position: Position) -> usize {
    let line_start = text
        .split_inclusive('\n')
        .take(position.line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>()
        .min(text.len());
    let line = text[line_start..].split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    let within = line
        .char_indices()
        .nth(position.column.saturating_sub(1))
        .map_or(line.len(), |(offset, _)| offset);
    line_start + within
}

/// The byte range a label covers: to `end` when given, else the token at
/// `start`: up to the end of its line, a `: ` or ` #`, or a flow
/// delimiter; at least one character, so the frame always points.
fn byte_range(text: &str, start: Position, end: Option<Position>) -> std::ops::Range<usize> {
    let from = byte_offset(text, start);
    let to = match end {
        Some(end) if end > start => byte_offset(text, end),
        _ => {
            let rest = &text[from..];
            let line = rest.split(['\n', '\r']).next().unwrap_or("");
            let token = [": ", " #", ", ", "]", "}"]
                .iter()
                .filter_map(|stop| line.find(stop))
                .min()
                .unwrap_or(line.len());
            let token = line[..token].trim_end().trim_end_matches(':').len();
            from + token.max(rest.chars().next().map_or(0, char::len_utf8))
        }
    };
    from..to.max(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offset_counts_characters_and_clamps() {
        let text = "ab\n→cd\r\nlast";
        assert_eq!(byte_offset(text, Position::new(2, 2)), 6);
        assert_eq!(byte_offset(text, Position::new(3, 1)), 10);
        assert_eq!(byte_offset(text, Position::new(99, 99)), text.len());
        assert_eq!(byte_offset(text, Position::new(1, 99)), 2);
    }
}
