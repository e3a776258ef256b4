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
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    }
}

/// The lines of a normalised text, indexed by 1-based line number.
///
/// A final `\n` does not start another line, so an empty text has no lines.
pub(super) struct Source<'t> {
    lines: Vec<&'t str>,
}

impl<'t> Source<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Self {
            lines: text.split_terminator('\n').collect(),
        }
    }

    pub(super) fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// The text of a line; empty for line numbers outside the document, which
    /// comrak can report for blocks that end with the file.
    pub(super) fn line(&self, number: usize) -> &'t str {
        number
            .checked_sub(1)
            .and_then(|index| self.lines.get(index))
            .copied()
            .unwrap_or_default()
    }

    pub(super) fn lines(&self) -> impl Iterator<Item = &'t str> + '_ {
        self.lines.iter().copied()
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

/// Replaces every character inside `blanks` (sorted by start, possibly
/// overlapping) with a space, so character columns stay those of `text`.
pub(super) fn blank_out(text: &str, blanks: &[Blank]) -> String {
    let mut out = String::with_capacity(text.len());
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
    out
}
