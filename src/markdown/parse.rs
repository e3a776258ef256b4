//! Builds a [`Document`] from a single comrak parse.
//!
//! One walk over the syntax tree records per-line facts (code lines, where
//! content blocks start, word counts, inline comments to blank) and the
//! headings, tables, tasks and front matter. Sections are then derived from
//! the headings in one pass, using prefix sums over the per-line facts so
//! that no step looks at every line for every section.

use comrak::nodes::{AstNode, LineColumn, NodeHeading, NodeTaskItem, NodeValue, Sourcepos};
use comrak::{Arena, Options};

use super::directive::{self, Directive};
use super::source::{Blank, Source};
use super::words::WordCount;
use super::{
    Cell, CodeBlock, Document, FrontMatter, Link, Position, Row, Section, Table, Task, WordCounts,
    normalize_title,
};

/// comrak's `block_type` for an HTML block that is a comment (`<!-- ... -->`).
const HTML_COMMENT_BLOCK: u8 = 2;

/// Parses normalised text (no byte-order mark, `\n` line endings).
pub(super) fn parse(path: String, text: String, word_counts: WordCounts) -> Document {
    let source = Source::new(&text);
    let arena = Arena::new();
    let root = comrak::parse_document(&arena, &text, &comrak_options());
    let mut collector = Collector::new(&source, word_counts);
    for node in root.descendants() {
        collector.visit(node);
    }
    collector.end_paragraph();
    let Collector {
        in_code,
        content,
        words,
        blanks,
        headings,
        mut tables,
        mut tasks,
        code_blocks,
        front_matter,
        mut directives,
        first_content_line,
        links,
        anchors,
        ..
    } = collector;

    let sections = build_sections(headings, source.line_count(), &content, &words);
    for table in &mut tables {
        table.section = innermost_section(&sections, table.position.line);
    }
    for task in &mut tasks {
        task.section = innermost_section(&sections, task.position.line);
    }
    let lines = source.into_lines(in_code, blanks);
    for directive in &mut directives {
        directive.leading = first_content_line.is_none_or(|line| directive.position.line < line);
    }
    Document {
        path,
        text,
        lines,
        words: words.iter().sum(),
        sections,
        tables,
        tasks,
        code_blocks,
        front_matter,
        directives,
        links,
        anchors,
    }
}

/// The comrak options of the document model: GitHub Flavoured Markdown plus
/// YAML front matter. Public so that measurements of comrak alone parse the
/// same dialect.
pub fn comrak_options() -> Options<'static> {
    let mut options = Options::default();
    options.extension.table = true;
    options.extension.tasklist = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    options.extension.front_matter_delimiter = Some("---".to_owned());
    options
}

/// A heading before its section's extent is known.
struct Heading {
    level: u8,
    title: String,
    position: Position,
    body_start_line: usize,
}

/// What one walk over the syntax tree learns. The per-line vectors are
/// indexed by line number minus one.
struct Collector<'s, 't> {
    source: &'s Source<'t>,
    in_code: Vec<bool>,
    /// How many content blocks start on each line.
    content: Vec<usize>,
    /// How many words of prose blocks starting on each line.
    words: Vec<usize>,
    blanks: Vec<Blank>,
    headings: Vec<Heading>,
    tables: Vec<Table>,
    tasks: Vec<Task>,
    code_blocks: Vec<CodeBlock>,
    front_matter: Option<FrontMatter>,
    directives: Vec<Directive>,
    /// The first line of a top-level block other than front matter and
    /// HTML comments.
    first_content_line: Option<usize>,
    links: Vec<Link>,
    anchors: Vec<String>,
    /// Room in which [`Collector::plain_text`] gathers a text before it is
    /// copied out once at its final length.
    scratch: String,
    count_words: bool,
    /// The paragraph whose text the walk is passing, with the words counted
    /// so far: where it starts and its count; always `None` when words are
    /// not counted.
    paragraph: Option<(LineColumn, WordCount)>,
}

impl<'s, 't> Collector<'s, 't> {
    fn new(source: &'s Source<'t>, word_counts: WordCounts) -> Self {
        let line_count = source.line_count();
        let count_words = word_counts == WordCounts::Counted;
        Self {
            source,
            in_code: vec![false; line_count],
            content: vec![0; line_count],
            // Left empty when not counting: every line's count reads as 0.
            words: if count_words {
                vec![0; line_count]
            } else {
                Vec::new()
            },
            blanks: Vec::new(),
            headings: Vec::new(),
            tables: Vec::new(),
            tasks: Vec::new(),
            code_blocks: Vec::new(),
            front_matter: None,
            directives: Vec::new(),
            first_content_line: None,
            links: Vec::new(),
            anchors: Vec::new(),
            scratch: String::new(),
            count_words,
            paragraph: None,
        }
    }

    fn visit<'a>(&mut self, node: &'a AstNode<'a>) {
        let data = node.data();
        let span = data.sourcepos;
        let comment = matches!(&data.value, NodeValue::HtmlBlock(html) if html.block_type == HTML_COMMENT_BLOCK);
        if self.first_content_line.is_none()
            && !comment
            && !matches!(data.value, NodeValue::Document | NodeValue::FrontMatter(_))
            && node
                .parent()
                .is_some_and(|parent| matches!(parent.data().value, NodeValue::Document))
        {
            self.first_content_line = Some(span.start.line);
        }
        // A walk in document order passes a paragraph's inline nodes right
        // after it, and meets a block only once they are all passed.
        if data.value.block() {
            self.end_paragraph();
        }
        match &data.value {
            NodeValue::FrontMatter(_) => {
                self.mark_code(span);
                self.front_matter = Some(self.front_matter(span.end.line));
            }
            NodeValue::CodeBlock(block) => {
                self.mark_code(span);
                self.mark_content(span.start);
                self.code_blocks.push(CodeBlock {
                    lang: block.info.split_whitespace().next().map(str::to_string),
                    text: block.literal.clone(),
                    line: span.start.line,
                    end_line: span.end.line,
                    fenced: block.fenced,
                });
            }
            NodeValue::HtmlBlock(html) => {
                self.mark_code(span);
                if comment {
                    self.directives(span, &html.literal);
                } else {
                    self.mark_content(span.start);
                    self.anchors.extend(anchors(&html.literal));
                }
            }
            NodeValue::Link(link) | NodeValue::Image(link) => {
                self.links.push(Link {
                    url: link.url.clone(),
                    image: matches!(data.value, NodeValue::Image(_)),
                    position: self.source.position(span.start.line, span.start.column),
                    end: self.source.position(span.end.line, span.end.column + 1),
                });
            }
            NodeValue::HtmlInline(html) if !html.starts_with("<!--") => {
                self.anchors.extend(anchors(html));
            }
            NodeValue::Heading(heading) => self.heading(node, heading, span),
            NodeValue::Paragraph => {
                self.mark_content(span.start);
                if self.count_words {
                    self.paragraph = Some((span.start, WordCount::default()));
                }
            }

            // The words of a cell are counted as the table reads its text.
            NodeValue::TableCell => self.mark_content(span.start),
            NodeValue::Table(_) => {
                self.mark_content(span.start);
                self.table(node, span);
            }
            NodeValue::TaskItem(item) => {
                self.mark_content(span.start);
                self.task(node, item);
            }
            NodeValue::List(_) | NodeValue::Item(_) | NodeValue::BlockQuote => {
                self.mark_content(span.start);
            }
            NodeValue::HtmlInline(html) if html.starts_with("<!--") => {
                self.blank_comment(span, html);
                self.directives(span, html);
            }
            // A paragraph's words are counted as the walk passes its text,
            // not in a walk of their own.
            value => {
                if let Some(piece) = text_piece(value) {
                    self.paragraph_text(piece);
                }
            }
        }
    }

    /// Counts a piece of text of the paragraph being passed, if any (a
    /// heading's or a cell's words are counted with its text).
    fn paragraph_text(&mut self, piece: &str) {
        if let Some((_, count)) = &mut self.paragraph {
            count.add(piece);
        }
    }

    /// Adds the words of the paragraph just passed to its first line.
    fn end_paragraph(&mut self) {
        if let Some((start, count)) = self.paragraph.take() {
            self.add_words(start, count.words);
        }
    }

    fn mark_code(&mut self, span: Sourcepos) {
        let end = span.end.line.min(self.in_code.len());
        let start = span.start.line.saturating_sub(1).min(end);
        self.in_code[start..end].fill(true);
    }

    fn mark_content(&mut self, start: LineColumn) {
        if let Some(count) = line_entry(&mut self.content, start.line) {
            *count += 1;
        }
    }

    fn add_words(&mut self, start: LineColumn, words: usize) {
        if let Some(count) = line_entry(&mut self.words, start.line) {
            *count += words;
        }
    }

    /// Adds the words of a heading's or a cell's text to its first line.
    fn add_words_of(&mut self, start: LineColumn, text: &str) {
        if self.count_words {
            let mut count = WordCount::default();
            count.add(text);
            self.add_words(start, count.words);
        }
    }

    /// The front matter ends with the closing delimiter on `end_line`; its
    /// text is what lies between the delimiters.
    fn front_matter(&self, end_line: usize) -> FrontMatter {
        let end_line = end_line.min(self.source.line_count());
        let text = self
            .source
            .lines()
            .take(end_line.saturating_sub(1))
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n");
        FrontMatter {
            text,
            line: 1,
            end_line,
        }
    }

    fn heading<'a>(&mut self, node: &'a AstNode<'a>, heading: &NodeHeading, span: Sourcepos) {
        let title = self.plain_text(node);
        self.add_words_of(span.start, &title);
        self.headings.push(Heading {
            level: heading.level,
            title,
            position: self.source.position(span.start.line, span.start.column),
            body_start_line: span.end.line.max(span.start.line) + 1,
        });
    }

    fn table<'a>(&mut self, node: &'a AstNode<'a>, span: Sourcepos) {
        let mut header = Vec::new();
        let mut rows = Vec::new();
        for row in node.children() {
            let data = row.data();
            let NodeValue::TableRow(is_header) = data.value else {
                continue;
            };
            let line = data.sourcepos.start.line;
            let cells = self.cells(row, line);
            if is_header {
                header = cells;
            } else {
                rows.push(Row { line, cells });
            }
        }
        for row in &mut rows {
            fit_row(row, header.len());
        }
        self.tables.push(Table {
            position: self.source.position(span.start.line, span.start.column),
            end_line: span
                .end
                .line
                .min(self.source.line_count())
                .max(span.start.line),
            header,
            rows,
            section: None,
        });
    }

    fn cells<'a>(&mut self, row: &'a AstNode<'a>, line: usize) -> Vec<Cell> {
        let text = self.source.line(line);
        let mut cursor = self.source.cursor(line);
        row.children()
            .map(|cell| {
                let span = cell.data().sourcepos;
                let start = first_non_blank(text, span.start.column, span.end.column);
                let text = self.plain_text(cell);
                self.add_words_of(span.start, &text);
                Cell {
                    text,
                    position: Position {
                        line,
                        column: cursor.column(start),
                    },
                }
            })
            .collect()
    }

    fn task<'a>(&mut self, node: &'a AstNode<'a>, item: &NodeTaskItem) {
        let symbol = item.symbol_sourcepos.start;
        // comrak points at the symbol inside the box; the box starts one
        // byte earlier with `[`.
        let before_symbol = symbol.column.checked_sub(2);
        let opens_box = before_symbol
            .and_then(|index| self.source.line(symbol.line).as_bytes().get(index))
            == Some(&b'[');
        let box_column = if opens_box {
            symbol.column - 1
        } else {
            symbol.column
        };
        let text = node
            .children()
            .find(|child| matches!(child.data().value, NodeValue::Paragraph))
            .map(|paragraph| self.plain_text(paragraph))
            .unwrap_or_default();
        self.tasks.push(Task {
            checked: item.symbol.is_some(),
            text,
            position: self.source.position(symbol.line, box_column),
            section: None,
        });
    }

    /// The text a reader sees, trimmed: text and code spans, with line
    /// breaks as spaces; HTML tags and comments are left out.
    fn plain_text<'a>(&mut self, node: &'a AstNode<'a>) -> String {
        self.scratch.clear();
        for descendant in node.descendants() {
            if let Some(piece) = text_piece(&descendant.data().value) {
                self.scratch.push_str(piece);
            }
        }
        self.scratch.trim().to_owned()
    }

    /// Records the bytes of an inline `<!-- comment -->` to blank out of
    /// [`super::Line::text`].
    ///
    /// comrak's inline positions can fall short inside table cells (an
    /// escaped `\|` counts as one byte), so the comment is looked up from the
    /// reported column onwards rather than trusted blindly.
    fn blank_comment(&mut self, span: Sourcepos, literal: &str) {
        let line_count = self.source.line_count();
        let start_line = span.start.line;
        if start_line == 0 || start_line > line_count {
            return;
        }
        let text = self.source.line(start_line);
        let (first_part, rest) = literal.split_once('\n').unwrap_or((literal, ""));
        let Some(start) = find_from(text, span.start.column.saturating_sub(1), first_part) else {
            return;
        };
        if rest.is_empty() {
            self.push_blank(start_line, start, start + first_part.len());
            return;
        }
        self.push_blank(start_line, start, text.len());
        let end_line = span.end.line.min(line_count);
        for line in start_line + 1..end_line {
            self.push_blank(line, 0, self.source.line(line).len());
        }
        if end_line > start_line {
            let text = self.source.line(end_line);
            let end = text
                .find("-->")
                .map_or(text.len(), |index| index + "-->".len());
            self.push_blank(end_line, 0, end);
        }
    }

    /// Records the directives among the comments of `literal`, the text of
    /// an HTML comment block or of an inline comment.
    fn directives(&mut self, span: Sourcepos, literal: &str) {
        let mut from = 0;
        while let Some(open) = literal[from..].find("<!--").map(|index| from + index) {
            let body = open + "<!--".len();
            let Some(close) = literal[body..].find("-->").map(|index| body + index) else {
                break;
            };
            from = close + "-->".len();
            let Some(parsed) = directive::parse(&literal[body..close]) else {
                continue;
            };
            let end = self.literal_position(span, literal, close, "-->");
            self.directives.push(Directive {
                position: self.literal_position(span, literal, open, "<!--"),
                end: Position::new(end.line, end.column + "-->".len()),
                leading: false,
                parsed,
            });
        }
    }

    /// The position of `needle`, which starts at byte `offset` of `literal`,
    /// a literal starting at `span.start`. Container prefixes (`> `, list
    /// indentation) are not part of a literal's later lines, and comrak's
    /// inline columns can fall short in table cells, so the needle is looked
    /// up in the source line from its column in the literal onwards.
    fn literal_position(
        &self,
        span: Sourcepos,
        literal: &str,
        offset: usize,
        needle: &str,
    ) -> Position {
        let before = &literal[..offset];
        let newlines = before.matches('\n').count();
        let line = span.start.line + newlines;
        let column_in_literal = offset - before.rfind('\n').map_or(0, |index| index + 1);
        let hint = if newlines == 0 {
            span.start.column.saturating_sub(1) + column_in_literal
        } else {
            column_in_literal
        };
        let text = self.source.line(line);
        let byte = find_from(text, hint, needle).unwrap_or(hint);
        self.source.position(line, byte + 1)
    }

    fn push_blank(&mut self, line: usize, start: usize, end: usize) {
        self.blanks.push(Blank {
            line,
            bytes: start..end,
        });
    }
}

/// The counter of a 1-based line, if the line exists.
fn line_entry(counts: &mut [usize], line: usize) -> Option<&mut usize> {
    counts.get_mut(line.checked_sub(1)?)
}

/// What a node adds to [`Collector::plain_text`]: its text, a code span's,
/// or a space for a line break.
fn text_piece(value: &NodeValue) -> Option<&str> {
    match value {
        NodeValue::Text(literal) => Some(literal),
        NodeValue::Code(code) => Some(&code.literal),
        NodeValue::SoftBreak | NodeValue::LineBreak => Some(" "),
        _ => None,
    }
}

/// The 1-based byte column of the first character of a cell spanning
/// `start..=end` that is not a space or tab, or `start` for a blank cell.
fn first_non_blank(text: &str, start: usize, end: usize) -> usize {
    let bytes = text.as_bytes();
    (start..=end)
        .find(|&column| {
            column
                .checked_sub(1)
                .and_then(|index| bytes.get(index))
                .is_some_and(|byte| !matches!(byte, b' ' | b'\t'))
        })
        .unwrap_or(start)
}

/// Gives a data row exactly `width` cells, as the header has: comrak already
/// pads short rows, but the model promises it whatever the parser does.
fn fit_row(row: &mut Row, width: usize) {
    let filler = Cell {
        text: String::new(),
        position: row.cells.last().map_or(
            Position {
                line: row.line,
                column: 1,
            },
            |cell| cell.position,
        ),
    };
    row.cells.resize(width, filler);
}

/// The byte offset of `needle` in `text`, searching from `from` (moved to a
/// character boundary) onwards, then from the start of the line.
fn find_from(text: &str, from: usize, needle: &str) -> Option<usize> {
    let from = (from.min(text.len())..=text.len()).find(|&index| text.is_char_boundary(index))?;
    text[from..]
        .find(needle)
        .map(|index| from + index)
        .or_else(|| text.find(needle))
}

/// Turns headings into nested sections.
///
/// A stack of open sections gives each section its end and parent in one
/// pass; `content` and `words` (per line) become prefix sums so that each
/// section's own content and word count take constant time.
fn build_sections(
    headings: Vec<Heading>,
    line_count: usize,
    content: &[usize],
    words: &[usize],
) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::with_capacity(headings.len());
    let mut open: Vec<usize> = Vec::new();
    for heading in headings {
        let line = heading.position.line;
        while let Some(&top) = open.last()
            && sections[top].level >= heading.level
        {
            sections[top].end_line = line.saturating_sub(1).max(sections[top].position.line);
            open.pop();
        }
        let normalized = normalize_title(&heading.title);
        open.push(sections.len());
        sections.push(Section {
            level: heading.level,
            title: heading.title,
            normalized,
            position: heading.position,
            body_start_line: heading.body_start_line,
            end_line: line_count.max(line),
            parent: open.iter().rev().nth(1).copied(),
            own_content: false,
            empty: true,
            words: 0,
        });
    }

    let content = PrefixSums::new(content);
    let words = PrefixSums::new(words);
    let next_heading_lines: Vec<Option<usize>> = sections
        .iter()
        .skip(1)
        .map(|section| Some(section.position.line))
        .chain([None])
        .collect();
    for (section, next_heading_line) in sections.iter_mut().zip(next_heading_lines) {
        let has_subsection = next_heading_line.is_some_and(|line| line <= section.end_line);
        let own_end = next_heading_line.map_or(section.end_line, |line| line.saturating_sub(1));
        section.own_content = content.sum(section.body_start_line, own_end) > 0;
        section.empty = !section.own_content && !has_subsection;
        section.words = words.sum(section.body_start_line, section.end_line);
    }
    sections
}

/// Sums of per-line counts over ranges of lines.
struct PrefixSums(Vec<usize>);

impl PrefixSums {
    fn new(counts: &[usize]) -> Self {
        let mut sums = Vec::with_capacity(counts.len() + 1);
        let mut total = 0;
        sums.push(total);
        for count in counts {
            total += count;
            sums.push(total);
        }
        Self(sums)
    }

    /// The total over the 1-based lines `first..=last`, clamped to the lines
    /// that exist.
    fn sum(&self, first: usize, last: usize) -> usize {
        let last = last.min(self.0.len() - 1);
        let first = first.max(1);
        if first > last {
            return 0;
        }
        self.0[last] - self.0[first - 1]
    }
}

/// The innermost section containing `line`: because sections nest, it is the
/// section of the last heading at or before the line.
fn innermost_section(sections: &[Section], line: usize) -> Option<usize> {
    sections
        .partition_point(|section| section.position.line <= line)
        .checked_sub(1)
}

/// The `id` and `name` attributes of raw HTML: the anchors a link's
/// `#fragment` may name besides headings.
fn anchors(html: &str) -> impl Iterator<Item = String> + '_ {
    static ATTRIBUTE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let attribute = ATTRIBUTE.get_or_init(|| {
        regex::Regex::new(r#"(?i)\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("valid")
    });
    attribute.captures_iter(html).filter_map(|captures| {
        let value = captures.get(1).or_else(|| captures.get(2))?;
        Some(value.as_str().to_string())
    })
}
