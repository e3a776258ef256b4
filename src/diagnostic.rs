//! The one message type every layer reports in: a code, a severity, words,
//! and the file and position they are about. Lint diagnostics and check
//! findings share it, so text, JSON and code frames are rendered in one place.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic as Frame, Label};
use codespan_reporting::files::{self, Files, SimpleFile};
use codespan_reporting::term::{self, Config, termcolor::WriteColor};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::source::LineStarts;

/// A 1-based line and column; the column counts characters, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
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
    /// The named groups of the regular expression match a `pattern` finding
    /// is about, which a check's `message:` template sees as `captures`.
    #[serde(skip)]
    pub captures: BTreeMap<String, String>,
    /// Other places the finding is about: the far end of a `trace`
    /// finding (where an identifier is defined, or where it should be
    /// referenced).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
}

/// Another place a finding is about, and what it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Related {
    /// The file, relative to the project root.
    pub path: String,
    /// Where in it.
    pub start: Position,
    /// What that place is to the finding ("the first definition").
    pub message: String,
}

impl Related {
    /// `path:line:column (message)`.
    pub fn describe(&self) -> String {
        format!("{}:{} ({})", self.path, self.start, self.message)
    }
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
            captures: BTreeMap::new(),
            related: Vec::new(),
        }
    }

    pub fn error(
        code: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(code, Severity::Error, path, message)
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
        let starts = source.map(LineStarts::new);
        self.render_indexed(source.zip(starts.as_ref()), out)
    }

    /// [`Self::render`] with the source's line starts found beforehand, so
    /// that a frame costs the lines it shows, not the text before them.
    pub fn render_indexed(
        &self,
        source: Option<(&str, &LineStarts)>,
        out: &mut dyn WriteColor,
    ) -> std::io::Result<()> {
        let frame = match self.severity {
            Severity::Error => Frame::error(),
            Severity::Warning => Frame::warning(),
            Severity::Info => Frame::note(),
        }
        .with_code(self.code.as_str())
        .with_message(crate::report::one_line(&self.message));
        let notes = (self.related.iter())
            .map(|related| format!("see {}", crate::report::one_line(&related.describe())))
            .chain(self.help.iter().map(|help| format!("help: {help}")))
            .collect();
        let frame = frame.with_notes(notes);
        let (text, frame) = match (self.start, source) {
            (Some(start), Some((text, starts))) => {
                let range = byte_range(text, starts, start, self.end);
                let last_line = self.end.map_or(start.line, |end| end.line.max(start.line));
                let (text, range, first_line_end) =
                    label_lines(text, starts, start.line, last_line, range);
                let (text, range) = match crop_long_line(text, &range, first_line_end) {
                    Some((cropped, range)) => (Cow::Owned(cropped), range),
                    None => (Cow::Borrowed(text), range),
                };
                (text, frame.with_labels(vec![Label::primary((), range)]))
            }
            // Without a source to frame, the location still has to be said.
            _ => {
                let mut frame = frame;
                frame.notes.insert(0, format!("in {}", self.location()));
                (Cow::Borrowed(""), frame)
            }
        };
        let path = crate::report::one_line(&self.path);
        let file = FramedFile {
            file: SimpleFile::new(path.as_ref(), text.as_ref()),
            start: self.start,
        };
        // An output error keeps its kind: a closed pipe is not a failure.
        term::emit_to_write_style(out, &Config::default(), &file, &frame).map_err(|error| {
            match error {
                files::Error::Io(error) => error,
                error => std::io::Error::other(error.to_string()),
            }
        })
    }
}

/// The file a frame is drawn from: only the lines its label covers (see
/// [`label_lines`]), numbered from the diagnostic's line. Its header names
/// the position the diagnostic states, not one counted in the text, which
/// may be a cropped line (see [`crop_long_line`]).
struct FramedFile<'a> {
    file: SimpleFile<&'a str, &'a str>,
    start: Option<Position>,
}

impl<'a> Files<'a> for FramedFile<'a> {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, (): ()) -> Result<&'a str, files::Error> {
        Files::name(&self.file, ())
    }

    fn source(&'a self, (): ()) -> Result<&'a str, files::Error> {
        Files::source(&self.file, ())
    }

    fn line_index(&'a self, (): (), byte_index: usize) -> Result<usize, files::Error> {
        self.file.line_index((), byte_index)
    }

    fn line_range(&'a self, (): (), line_index: usize) -> Result<Range<usize>, files::Error> {
        self.file.line_range((), line_index)
    }

    fn line_number(&'a self, (): (), line_index: usize) -> Result<usize, files::Error> {
        let first = self.start.map_or(1, |start| start.line.max(1));
        Ok(first + line_index)
    }

    fn location(&'a self, (): (), byte_index: usize) -> Result<files::Location, files::Error> {
        match self.start {
            Some(start) => Ok(files::Location {
                line_number: start.line,
                column_number: start.column,
            }),
            None => self.file.location((), byte_index),
        }
    }
}

/// The byte range a label covers: to `end` when given, else the token at
/// `start`: up to the end of its line, a `: ` or ` #`, or a flow
/// delimiter; at least one character, so the frame always points.
fn byte_range(
    text: &str,
    starts: &LineStarts,
    start: Position,
    end: Option<Position>,
) -> Range<usize> {
    let from = starts.offset_of(text, start);
    let to = match end {
        Some(end) if end > start => starts.offset_of(text, end),
        _ => {
            let rest = &text[from..];
            let line = &text[from..starts.line_span(text, start.line).end.max(from)];
            let token = quoted_len(line).unwrap_or_else(|| {
                let token = [": ", " #", ", ", "]", "}"]
                    .iter()
                    .filter_map(|stop| line.find(stop))
                    .min()
                    .unwrap_or(line.len());
                line[..token].trim_end().trim_end_matches(':').len()
            });
            from + token.max(rest.chars().next().map_or(0, char::len_utf8))
        }
    };
    from..to.max(from)
}

/// The length of a quoted YAML scalar that `line` starts with, closing
/// quote included: `: ` and `, ` inside the quotes do not end it. None
/// when `line` does not start with a quote or the quote does not close.
fn quoted_len(line: &str) -> Option<usize> {
    let quote = line.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let mut chars = line.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            // `\"` in double quotes; `''` in single quotes is one quote.
            '\\' if quote == '"' => {
                chars.next();
            }
            _ if c == quote => {
                if quote == '\'' && line[i + 1..].starts_with('\'') {
                    chars.next();
                } else {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The lines a label covers, from the start of its first to the end of its
/// last, the label moved into them, and where the first line ends: a frame
/// shows no other line, and drawing it should not cost the whole file.
fn label_lines<'t>(
    text: &'t str,
    starts: &LineStarts,
    first_line: usize,
    last_line: usize,
    range: Range<usize>,
) -> (&'t str, Range<usize>, usize) {
    let first = starts.line_span(text, first_line).start.min(range.start);
    let first_end = starts.line_span(text, first_line).end.max(range.start);
    let last = starts.line_span(text, last_line).end.max(range.end);
    (
        &text[first..last],
        range.start - first..range.end - first,
        first_end - first,
    )
}

/// Longer lines are cut around the label in a code frame, so that a
/// minified or hostile file does not print megabytes.
const MAX_FRAME_LINE: usize = 160;

/// For a label on a very long first line (of the lines [`label_lines`]
/// gives, which ends at `line_end`): a window of that line around the
/// label, and the label moved into it.
fn crop_long_line(
    text: &str,
    range: &Range<usize>,
    line_end: usize,
) -> Option<(String, Range<usize>)> {
    if line_end <= MAX_FRAME_LINE {
        return None;
    }
    let boundary = |mut offset: usize| {
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    };
    let from = boundary(range.start.saturating_sub(MAX_FRAME_LINE / 4));
    let to = boundary((from + MAX_FRAME_LINE).min(line_end));
    let mut cropped = String::new();
    if from > 0 {
        cropped.push('…');
    }
    let label =
        cropped.len() + range.start - from..cropped.len() + range.end.clamp(range.start, to) - from;
    cropped.push_str(&text[from..to]);
    if to < line_end {
        cropped.push('…');
    }
    Some((cropped, label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_offsets_count_characters_and_clamp() {
        let offset_of = crate::source::offset_of;
        let text = "ab\n→cd\r\nlast";
        assert_eq!(offset_of(text, Position::new(2, 2)), 6);
        assert_eq!(offset_of(text, Position::new(3, 1)), 10);
        assert_eq!(offset_of(text, Position::new(99, 99)), text.len());
        assert_eq!(offset_of(text, Position::new(1, 99)), 2);
    }

    #[test]
    fn a_quoted_scalar_is_one_token() {
        assert_eq!(quoted_len(r#""a: b, c" # note"#), Some(9));
        assert_eq!(quoted_len("'it''s: x' y"), Some(10));
        assert_eq!(quoted_len(r#""a \" b": c"#), Some(8));
        assert_eq!(quoted_len("\"never closed"), None);
        assert_eq!(quoted_len("plain: x"), None);
    }

    #[test]
    fn a_long_line_is_framed_in_part_at_the_stated_column() {
        let text = format!("first\n{}bad{}\n", "x".repeat(5_000), "y".repeat(5_000));
        let diagnostic = Diagnostic::error("code", "f.yaml", "words").at(Position::new(2, 5_001));
        let mut out = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
        diagnostic.render(Some(&text), &mut out).unwrap();
        let out = String::from_utf8(out.into_inner()).unwrap();
        assert!(out.contains("f.yaml:2:5001"), "{out}");
        // A quarter of the window before the label, the rest after it.
        let window = format!("…{}bad{}…", "x".repeat(40), "y".repeat(117));
        assert!(out.contains(&window), "{out}");
        assert!(out.len() < 1_000, "{out}");
    }
}
