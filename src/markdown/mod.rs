//! The document model: a Markdown planning document as the facts gates check.
//!
//! A [`Document`] is parsed once with comrak (GitHub Flavoured Markdown) and
//! flattened into nested sections, tables, task-list items, front matter and
//! per-line prose text. Every position is 1-based and columns count
//! characters. Line numbers are those of the file as written: a UTF-8
//! byte-order mark and CRLF or CR line endings change neither lines nor
//! columns.
//!
//! Only Markdown structure counts: a heading, table or task written inside a
//! code block, an HTML block or an HTML comment is not one.

mod directive;
mod parse;
mod source;
mod title;
mod words;

#[cfg(test)]
mod tests;

use serde::{Serialize, Serializer};

pub use directive::{Action, Directive, DirectiveBody};
pub use parse::comrak_options;
pub use title::{annotation, normalize_title, title_keys};

pub use crate::diagnostic::Position;

use source::{LineSpan, Lines};

/// Why a file could not be turned into a [`Document`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// The bytes are not UTF-8; carries the 1-based line and column of the
    /// first bad byte, as [`crate::source::position_at`] counts them.
    #[error("{path}:{line}:{column}: the file is not valid UTF-8")]
    NotUtf8 {
        path: String,
        line: usize,
        column: usize,
    },
}

/// Whether parsing counts the words of the document and of each section.
///
/// Only the `words` check and a `sections` entry's `min_words` read the
/// counts, and counting every piece of text is a good part of building the
/// model, so a caller whose checks read none may skip it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WordCounts {
    Counted,
    /// Every `words` of the document and its sections is 0.
    Skipped,
}

/// A parsed Markdown document.
///
/// An empty file has no lines and nothing else. A final line ending does not
/// start another line, so `"a\n"` has one line and `"a\n\n"` has two.
/// Its lines ([`Document::lines`]) borrow from the text it owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The path as given by the caller, used in messages.
    pub path: String,
    /// The text without a UTF-8 byte-order mark and with every line ending
    /// turned into `\n`.
    pub text: String,
    lines: Lines,
    /// Whitespace-separated words of the plain text of the whole document,
    /// counted as for [`Section::words`]: headings included; markup, code
    /// blocks, HTML blocks, HTML comments and front matter left out. 0 when
    /// parsed with [`WordCounts::Skipped`].
    pub words: usize,
    /// Every heading (ATX and setext), in document order.
    pub sections: Vec<Section>,
    /// Every GFM table, in document order.
    pub tables: Vec<Table>,
    /// Every task-list item, in document order.
    pub tasks: Vec<Task>,
    /// Every code block, fenced or indented, in document order.
    pub code_blocks: Vec<CodeBlock>,
    pub front_matter: Option<FrontMatter>,
    /// Every suppression directive (`<!-- tollgate-disable ... -->`), in
    /// document order: in an HTML comment of its own or inline in text,
    /// never in code.
    pub directives: Vec<Directive>,
    /// Every link and image, in document order (inline, reference or
    /// autolink), never in code.
    pub links: Vec<Link>,
    /// The explicit anchors of raw HTML (`<a id="x">`, `name="x"`), which a
    /// `#fragment` may name as well as a heading.
    pub anchors: Vec<String>,
}

/// A link or an image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The destination as written (after reference resolution).
    pub url: String,
    pub image: bool,
    /// The `[` (or `!` of an image, or `<` of an autolink).
    pub position: Position,
    /// Just past the link's last character, on the line where it ends.
    pub end: Position,
}

/// One line of a [`Document`], borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Line<'d> {
    pub number: usize,
    /// The line without its line ending, with inline HTML comments
    /// (`text <!-- note --> more`) replaced by spaces so that patterns do not
    /// match inside them while columns stay those of the file.
    pub text: &'d str,
    /// The line belongs to a fenced or indented code block, an HTML block
    /// (including a multi-line `<!-- comment -->`) or the front matter, so it
    /// is not prose for pattern checks.
    pub in_code: bool,
}

/// A heading and the part of the document it governs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Section {
    /// 1 to 6.
    pub level: u8,
    /// The heading text with inline markup rendered to plain text:
    /// `**3. Failure modes**:` has the title `3. Failure modes:`.
    pub title: String,
    /// [`normalize_title`] of the title.
    pub normalized: String,
    /// Start of the heading.
    pub position: Position,
    /// The first line after the heading (for a setext heading, after its
    /// underline).
    pub body_start_line: usize,
    /// The line before the next heading of the same or a higher (smaller
    /// number) level, or the last line of the document; never less than the
    /// heading line.
    pub end_line: usize,
    /// Index into [`Document::sections`] of the enclosing section.
    pub parent: Option<usize>,
    /// The section has content of its own: a block between the heading and
    /// its first subsection (or its end) other than blank lines, HTML
    /// comments and thematic breaks (`---` separators between sections are
    /// not content).
    pub own_content: bool,
    /// No content of its own and no subsection. A section whose only content
    /// is subsections is not empty.
    pub empty: bool,
    /// Whitespace-separated words of the plain text of the whole body,
    /// subsections and their headings included; code blocks, HTML blocks,
    /// HTML comments and front matter are not counted. 0 when parsed with
    /// [`WordCounts::Skipped`].
    pub words: usize,
}

/// A GFM table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    /// Start of the header row.
    pub position: Position,
    pub end_line: usize,
    pub header: Vec<Cell>,
    /// The data rows (neither the header nor the delimiter row), each with
    /// exactly as many cells as the header: missing cells are empty, extra
    /// cells are dropped.
    pub rows: Vec<Row>,
    /// Index of the innermost section containing the table.
    pub section: Option<usize>,
}

/// A data row of a [`Table`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<Cell>,
}

/// A table cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// The inline content as plain text, trimmed.
    pub text: String,
    /// The first character of the content, or where the cell starts when it
    /// is empty.
    pub position: Position,
}

/// A task-list item (`- [ ] ...` or `- [x] ...`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Task {
    pub checked: bool,
    /// The first paragraph of the item as plain text, trimmed.
    pub text: String,
    /// The `[` of the box.
    pub position: Position,
    /// Index of the innermost section containing the task.
    pub section: Option<usize>,
}

/// A fenced or indented code block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodeBlock {
    /// The first word of a fence's info string (` ```rust title` is
    /// `rust`); `None` without one, as for an indented block.
    pub lang: Option<String>,
    /// The content, without the fences and the block's indentation.
    pub text: String,
    /// The opening fence's line, or an indented block's first line.
    pub line: usize,
    /// The closing fence's line (the last line of the container when the
    /// fence is never closed), or an indented block's last line.
    pub end_line: usize,
    /// Fenced, rather than indented: its content starts on `line + 1`.
    pub fenced: bool,
}

/// YAML front matter delimited by `---` lines at the very start of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FrontMatter {
    /// The lines between the delimiters, joined with `\n`.
    pub text: String,
    /// The line of the opening delimiter.
    pub line: usize,
    /// The line of the closing delimiter.
    pub end_line: usize,
}

impl Document {
    /// Parses a file's bytes.
    ///
    /// # Errors
    ///
    /// [`DocumentError::NotUtf8`] when the bytes are not UTF-8.
    pub fn parse(path: impl Into<String>, bytes: &[u8]) -> Result<Document, DocumentError> {
        let path = path.into();
        let text = crate::source::decode_str(bytes).map_err(|position| DocumentError::NotUtf8 {
            path: path.clone(),
            line: position.line,
            column: position.column,
        })?;
        Ok(Self::parse_str(path, text))
    }

    /// Parses text already known to be UTF-8.
    pub fn parse_str(path: impl Into<String>, text: &str) -> Document {
        Self::parse_string(path, text.to_owned())
    }

    /// [`Self::parse_str`] of a text the document may keep as its own.
    pub fn parse_string(path: impl Into<String>, text: String) -> Document {
        Self::parse_string_with(path, text, WordCounts::Counted)
    }

    /// [`Self::parse_string`], counting words only if `words` asks for it.
    pub fn parse_string_with(path: impl Into<String>, text: String, words: WordCounts) -> Document {
        parse::parse(path.into(), source::normalize_text(text), words)
    }

    /// The first section, with its index, whose normalized title equals
    /// [`normalize_title`] of `title` or of one of `aliases`, optionally only
    /// among sections of `level`.
    pub fn find_section(
        &self,
        title: &str,
        aliases: &[String],
        level: Option<u8>,
    ) -> Option<(usize, &Section)> {
        self.find_section_by_keys(&title_keys(title, aliases), level)
    }

    /// [`Self::find_section`] by keys already normalized ([`title_keys`]),
    /// which a check works out once rather than for every document.
    pub fn find_section_by_keys(
        &self,
        keys: &[String],
        level: Option<u8>,
    ) -> Option<(usize, &Section)> {
        self.sections.iter().enumerate().find(|(_, section)| {
            level.is_none_or(|level| section.level == level) && keys.contains(&section.normalized)
        })
    }

    /// Whether section `inner` is section `outer` or one of its descendants;
    /// `false` for `None` (outside every section) and for unknown indices.
    pub fn section_contains(&self, outer: usize, inner: Option<usize>) -> bool {
        let (Some(outer), Some(inner)) = (
            self.sections.get(outer),
            inner.and_then(|inner| self.sections.get(inner)),
        ) else {
            return false;
        };
        (outer.position.line..=outer.end_line).contains(&inner.position.line)
    }

    /// Every line of the document, in order.
    pub fn lines(&self) -> impl DoubleEndedIterator<Item = Line<'_>> + ExactSizeIterator + Clone {
        self.lines_at(0..self.line_count())
    }

    /// The lines at `indices` (line numbers minus one), those past the end
    /// left out.
    pub fn lines_at(
        &self,
        indices: std::ops::Range<usize>,
    ) -> impl DoubleEndedIterator<Item = Line<'_>> + ExactSizeIterator + Clone {
        let count = self.line_count();
        self.indexed(indices.start.min(count)..indices.end.min(count))
            .map(|(index, span, in_code)| self.line_at(index, span, in_code))
    }

    /// How many lines the document has.
    pub fn line_count(&self) -> usize {
        self.lines.spans.len()
    }

    /// The line of a 1-based line number, if the document has that line.
    pub fn line(&self, number: usize) -> Option<Line<'_>> {
        let index = number.checked_sub(1)?;
        let span = self.lines.spans.get(index)?;
        Some(self.line_at(index, span, self.lines.in_code[index]))
    }

    /// The lines that are not `in_code`, of a section's body
    /// (`body_start_line..=end_line`, subsections included) or, for `None`,
    /// of the whole document. An unknown section index yields nothing.
    pub fn prose_lines(&self, section: Option<usize>) -> impl DoubleEndedIterator<Item = Line<'_>> {
        let indices = match section {
            None => 0..self.line_count(),
            Some(index) => self.sections.get(index).map_or(0..0, |section| {
                let end = section.end_line.min(self.line_count());
                let start = section.body_start_line.saturating_sub(1).min(end);
                start..end
            }),
        };
        self.indexed(indices)
            .filter(|&(_, _, in_code)| !in_code)
            .map(|(index, span, in_code)| self.line_at(index, span, in_code))
    }

    /// The last non-blank line that is not `in_code`: where a closing line
    /// such as `Gate: PASS` is expected.
    pub fn last_prose_line(&self) -> Option<Line<'_>> {
        self.prose_lines(None)
            .rev()
            .find(|line| !line.text.trim().is_empty())
    }

    /// [`Line::text`] of a 1-based line number, if the document has that line.
    pub fn line_text(&self, line: usize) -> Option<&str> {
        self.line(line).map(|line| line.text)
    }

    /// The index, span and `in_code` of each line at `indices` (line numbers
    /// minus one), which must be in range.
    fn indexed(
        &self,
        indices: std::ops::Range<usize>,
    ) -> impl DoubleEndedIterator<Item = (usize, &LineSpan, bool)> + ExactSizeIterator + Clone {
        let first = indices.start;
        self.lines.spans[indices.clone()]
            .iter()
            .zip(&self.lines.in_code[indices])
            .enumerate()
            .map(move |(offset, (span, &in_code))| (first + offset, span, in_code))
    }

    fn line_at(&self, index: usize, span: &LineSpan, in_code: bool) -> Line<'_> {
        let text = if span.blanked {
            &self.lines.blanked
        } else {
            &self.text
        };
        Line {
            number: index + 1,
            text: &text[span.start..span.end],
            in_code,
        }
    }
}

/// The serialised form lists every line as a [`Line`], as if the document
/// held them.
impl Serialize for Document {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// [`Document`] with its lines as they read.
        #[derive(Serialize)]
        struct Shape<'d> {
            path: &'d str,
            text: &'d str,
            lines: AllLines<'d>,
            words: usize,
            sections: &'d [Section],
            tables: &'d [Table],
            tasks: &'d [Task],
            code_blocks: &'d [CodeBlock],
            front_matter: &'d Option<FrontMatter>,
            directives: &'d [Directive],
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            links: &'d [Link],
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            anchors: &'d [String],
        }

        struct AllLines<'d>(&'d Document);

        impl Serialize for AllLines<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.lines())
            }
        }

        Shape {
            path: &self.path,
            text: &self.text,
            lines: AllLines(self),
            words: self.words,
            sections: &self.sections,
            tables: &self.tables,
            tasks: &self.tasks,
            code_blocks: &self.code_blocks,
            front_matter: &self.front_matter,
            directives: &self.directives,
            links: &self.links,
            anchors: &self.anchors,
        }
        .serialize(serializer)
    }
}
