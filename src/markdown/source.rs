//! The raw text side of a document: line endings, line splitting, and the
//! translation of comrak's byte columns into character columns.

use std::ops::Range;

use super::Position;

const BOM: char = '\u{feff}';

/// Removes a leading byte-order mark and turns `\r\n` and lone `\r` line
/// endings into `\n`, so that comrak and every later step see one line per
/// line of the original file.
/// A text that needs neither is kept as it is, not copied.
pub(super) fn normalize_text(mut text: String) -> String {
    if text.starts_with(BOM) {
        text.drain(..BOM.len_utf8());
    }
    if memchr::memchr(b'\r', text.as_bytes()).is_some() {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    }
}

/// Where one line of a [`super::Document`] lies: a byte range of its text,
/// or of [`Lines::blanked`] when an inline comment was blanked out of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct LineSpan {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) blanked: bool,
}

/// The lines of a document as ranges of text it owns, so that a line costs
/// no allocation of its own. The vectors are indexed by line number minus
/// one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Lines {
    /// The lines that had inline comments blanked out, one after the other
    /// as they read blanked; empty (and unallocated) when no line had any.
    pub(super) blanked: String,
    pub(super) spans: Vec<LineSpan>,
    pub(super) in_code: Vec<bool>,
}

/// The lines of a normalised text, indexed by 1-based line number.
///
/// A final `\n` does not start another line, so an empty text has no lines.
pub(super) struct Source<'t> {
    text: &'t str,
    spans: Vec<LineSpan>,
}

impl<'t> Source<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        let span = |start, end| LineSpan {
            start,
            end,
            blanked: false,
        };
        let mut start = 0;
        let mut spans: Vec<LineSpan> = memchr::memchr_iter(b'\n', text.as_bytes())
            .map(|end| {
                let line = span(start, end);
                start = end + 1;
                line
            })
            .collect();
        // A last line without a line ending; a final line ending starts none.
        if start < text.len() {
            spans.push(span(start, text.len()));
        }
        Self { text, spans }
    }

    pub(super) fn line_count(&self) -> usize {
        self.spans.len()
    }

    /// The text of a line; empty for line numbers outside the document, which
    /// comrak can report for blocks that end with the file.
    pub(super) fn line(&self, number: usize) -> &'t str {
        number
            .checked_sub(1)
            .and_then(|index| self.spans.get(index))
            .map_or("", |span| &self.text[span.start..span.end])
    }

    pub(super) fn lines(&self) -> impl Iterator<Item = &'t str> + '_ {
        let text = self.text;
        self.spans
            .iter()
            .map(move |span| &text[span.start..span.end])
    }

    /// The lines of the document: `in_code` of each line (indexed by line
    /// number minus one), and the `blanks` to replace with spaces in them.
    /// Only lines with blanks are looked at again.
    pub(super) fn into_lines(self, in_code: Vec<bool>, mut blanks: Vec<Blank>) -> Lines {
        let Self { text, mut spans } = self;
        blanks.sort_unstable_by_key(|blank| (blank.line, blank.bytes.start));
        let by_line = || blanks.chunk_by(|one, other| one.line == other.line);
        let span_of = |line_blanks: &[Blank]| line_blanks[0].line.checked_sub(1);
        // Blanking never lengthens a line, so one allocation holds them all.
        let mut blanked = String::with_capacity(
            by_line()
                .filter_map(|line_blanks| spans.get(span_of(line_blanks)?))
                .map(|span| span.end - span.start)
                .sum(),
        );
        for line_blanks in by_line() {
            let Some(span) = span_of(line_blanks).and_then(|index| spans.get_mut(index)) else {
                continue;
            };
            let start = blanked.len();
            blank_out(&mut blanked, &text[span.start..span.end], line_blanks);
            *span = LineSpan {
                start,
                end: blanked.len(),
                blanked: true,
            };
        }
        Lines {
            blanked,
            spans,
            in_code,
        }
    }

    /// The position of a comrak `(line, byte column)` pair.
    pub(super) fn position(&self, line: usize, byte_column: usize) -> Position {
        Position {
            line,
            column: self.cursor(line).column(byte_column),
        }
    }

    pub(super) fn cursor(&self, line: usize) -> ColumnCursor<'t> {
        ColumnCursor {
            text: self.line(line),
            byte: 0,
            chars: 0,
        }
    }
}

/// Converts 1-based byte columns of one line into 1-based character columns.
///
/// It resumes from the previous answer, so converting the increasing columns
/// of all the cells of a table row reads the row once rather than once per
/// cell, which matters for very long lines.
pub(super) struct ColumnCursor<'t> {
    text: &'t str,
    byte: usize,
    chars: usize,
}

impl ColumnCursor<'_> {
    /// A column past the end of the line maps to just after its last
    /// character; a column inside a multi-byte character maps to that
    /// character.
    pub(super) fn column(&mut self, byte_column: usize) -> usize {
        let target = byte_column.saturating_sub(1).min(self.text.len());
        if target < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        self.chars += self.text.as_bytes()[self.byte..target]
            .iter()
            .filter(|&&byte| !is_utf8_continuation(byte))
            .count();
        self.byte = target;
        self.chars + 1
    }
}

fn is_utf8_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

/// A byte range of one line to be replaced by spaces.
#[derive(Debug)]
pub(super) struct Blank {
    pub(super) line: usize,
    pub(super) bytes: Range<usize>,
}

/// Appends `text` to `out` with every character inside `blanks` (sorted by
/// start, possibly overlapping) replaced by a space, so character columns
/// stay those of `text`.
fn blank_out(out: &mut String, text: &str, blanks: &[Blank]) {
    let mut copied = 0;
    for blank in blanks {
        let start = blank.bytes.start.max(copied);
        let end = blank.bytes.end.min(text.len());
        let (Some(kept), Some(hidden)) = (text.get(copied..start), text.get(start..end)) else {
            continue;
        };
        out.push_str(kept);
        out.extend(std::iter::repeat_n(' ', hidden.chars().count()));
        copied = end;
    }
    out.push_str(&text[copied..]);
}
