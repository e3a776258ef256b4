//! `placeholders: [...]`: none of these markers (`NEEDS CLARIFICATION`,
//! `[FEATURE]`, `TODO:`) may remain where a value belongs.
//!
//! A marker is matched exactly (case matters) on prose lines; code blocks,
//! HTML blocks and comments are never looked at. A match is a placeholder
//! only when it stands where a value belongs, so that a sentence which merely
//! mentions a marker ("no `NEEDS CLARIFICATION` markers remain") passes. A
//! line is cut into fields at `|` (table cells); each field loses its list
//! bullet, heading marks, task box, leading symbols and a leading
//! `**Label**:`, which leaves its value. The marker, widened to the `[...]`
//! group around it and to wrapping backticks or emphasis, is a placeholder
//! when it:
//! - is the whole value (`**Testing**: NEEDS CLARIFICATION`, `[DATE]`);
//! - ends the value after a separator (`Python - NEEDS CLARIFICATION`);
//! - is a bracket group carrying a question (`[NEEDS CLARIFICATION: which auth?]`),
//!   unless the group is quoted as code in a sentence (``no `[NEEDS
//!   CLARIFICATION: …]` remains``);
//! - is a bracket group glued to a path (`specs/[###-feature]/plan.md`);
//! - or is a marker ending in `:` that opens the value (`TODO: write this`).
//!
//! Anything else is a mention inside a sentence, and is not reported.
//!
//! A marker may be made of symbols only (`???`, `...`, `…`, `<>`, `--`): it
//! is found wherever a word marker is (a cell, a task, a bare line, a list
//! item), never taken for the bullet or the leading symbols it resembles.
//! Rules (`---`, a table's `|---|`) hold no value. Each line is searched
//! alone, cut at `|`, with HTML comments blanked out, so lint warns about a
//! marker holding `|` or `<!--`, spanning lines, or blank.

use std::ops::Range;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::Findings;
use crate::diagnostic::Position;
use crate::markdown::{Document, Line};
use crate::playbook::Markers;

/// How to fix what this kind finds, in one line, for reports.
pub const HINT: &str =
    "replace each marker with the value it stands for, or settle the open question";

/// Characters that wrap a value without being part of it.
const WRAPPERS: &[char] = &['`', '*', '_', '~', ' ', '\t', '"', '\''];
/// What may sit between the rest of a value and a marker that ends it.
const SEPARATORS: &[char] = &['-', '–', '—', ':', '(', ',', ';', '/', '='];

/// The openings and closings of HTML comments, which [`Line::text`] blanks
/// out.
static OPENING: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("<!--"));
static CLOSING: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("-->"));

pub fn check(markers: &Markers, doc: &Document, findings: &mut Findings<'_>) {
    let finders = markers.finders();
    let mut reported = 0;
    for line in candidate_lines(finders, doc) {
        // Few lines hold a marker: skip the field analysis for the others.
        // A rule (`---`, a table's `|---|`) holds no value, whatever `--` says.
        if line.in_code || !holds_marker(finders, line.text) || is_rule(line.text) {
            continue;
        }
        // Columns are counted on from the previous field and, within a
        // field, from the previous match, never from the line's start, so a
        // line of many markers costs its length (once per marker).
        let mut field_column = (0, 1);
        for (field_start, field) in fields(line.text) {
            field_column.1 += line.text[field_column.0..field_start].chars().count();
            field_column.0 = field_start;
            let value_start = field_start + value_offset(field, markers);
            let value = &line.text[value_start..field_start + field.len()];
            let brackets = Brackets::of(value);
            for marker in markers.iter() {
                let (mut counted_to, mut column) = field_column;
                for (at, _) in value.match_indices(marker.as_str()) {
                    if is_placeholder(value, &brackets, at, marker) {
                        let byte = value_start + at;
                        column += line.text[counted_to..byte].chars().count();
                        counted_to = byte;
                        let end = column + marker.chars().count();
                        let finding = findings.report(
                            Position::new(line.number, column),
                            format!("placeholder \"{marker}\" remains"),
                        );
                        finding.end = Some(Position::new(line.number, end));
                        finding.help = Some("replace it with the real content".into());
                        reported += 1;
                    }
                }
            }
        }
    }
    if reported == 0 {
        findings.evidence("no placeholders", 1, doc.line_count().max(1));
    }
}

/// Whether a line's text holds one of the markers.
fn holds_marker(finders: &[Finder<'_>], text: &str) -> bool {
    finders
        .iter()
        .any(|finder| finder.find(text.as_bytes()).is_some())
}

/// The lines that may hold a marker, in order, found in passes over the
/// whole text so that every other line is skipped unread: each line whose
/// text in the file holds a marker, and each line an HTML comment spans
/// (from its `<!--` to the first `-->` after it), since blanking the
/// comment out of [`Line::text`] can make a marker holding spaces appear.
/// Every line when a marker is empty, and so on every line.
fn candidate_lines<'d>(
    finders: &[Finder<'_>],
    doc: &'d Document,
) -> impl Iterator<Item = Line<'d>> {
    let spans = if finders.iter().any(|finder| finder.needle().is_empty()) {
        std::iter::once(0..doc.line_count()).collect()
    } else {
        marked_lines(finders, &doc.text)
    };
    spans.into_iter().flat_map(move |span| doc.lines_at(span))
}

/// The 0-based indices of the lines of `text` with a marker or in an HTML
/// comment, as ascending, disjoint ranges.
///
/// A marker that holds a line break is never on a line, so it is not
/// looked for. Every match of another overlaps one that its search reports
/// (which skips overlapping ones), and both lie on one line, so no line is
/// missed.
fn marked_lines(finders: &[Finder<'_>], text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    // Byte ranges first; their lines are counted in one pass once sorted.
    let mut marked: Vec<Range<usize>> = Vec::new();
    for finder in finders
        .iter()
        .filter(|finder| !finder.needle().contains(&b'\n'))
    {
        marked.extend(finder.find_iter(bytes).map(|found| found..found));
    }
    for open in OPENING.find_iter(bytes) {
        let end = CLOSING
            .find(&bytes[open..])
            .map_or(text.len(), |at| open + at);
        marked.push(open..end);
    }
    marked.sort_unstable_by_key(|range| range.start);
    let mut spans: Vec<Range<usize>> = Vec::with_capacity(marked.len());
    let (mut line, mut counted_to) = (0, 0);
    for range in marked {
        line += newlines(&bytes[counted_to..range.start]);
        counted_to = range.start;
        let span = line..line + 1 + newlines(&bytes[range]);
        match spans.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => spans.push(span),
        }
    }
    spans
}

fn newlines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

/// Whether a line is only markup that draws a rule: a thematic break, a
/// setext underline, or a table's delimiter row.
fn is_rule(line: &str) -> bool {
    line.chars()
        .all(|c| matches!(c, '-' | '=' | '*' | '_' | '|' | ':') || c.is_whitespace())
}

/// Why a marker can never be found, as lint says it: each line is looked at
/// alone, cut into fields at `|`, with its HTML comments blanked out.
pub fn unmatchable(marker: &str) -> Option<&'static str> {
    if marker.trim().is_empty() {
        Some("it is blank")
    } else if marker.contains(['\n', '\r']) {
        Some("it spans lines, and each line is searched alone")
    } else if marker.contains('|') {
        Some("it holds `|`, where a line is cut into table cells")
    } else if marker.contains("<!--") {
        Some("it holds `<!--`, and HTML comments are never searched")
    } else {
        None
    }
}

/// The `|`-separated fields of a line, with their byte offsets; an escaped
/// `\|` does not separate.
fn fields(line: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    let mut previous = '\0';
    let mut cuts = Vec::new();
    for (i, c) in line.char_indices() {
        if c == '|' && previous != '\\' {
            cuts.push((start, &line[start..i]));
            start = i + 1;
        }
        previous = c;
    }
    cuts.push((start, &line[start..]));
    cuts.into_iter()
}

/// How many bytes of a field come before its value: indentation, heading
/// marks, a list bullet or number, a quote mark, a task box, leading symbols
/// (✅, ⚠) and a `Label:` that holds no marker. A marker is never stripped
/// as markup: a field may start with one made of symbols (`???`, `--`).
fn value_offset(field: &str, markers: &[String]) -> usize {
    let at_marker = |rest: &str| {
        markers
            .iter()
            .any(|marker| !marker.is_empty() && rest.starts_with(marker.as_str()))
    };
    let mut rest = field.trim_start();
    loop {
        let before = rest.len();
        if at_marker(rest) {
            break;
        }
        rest = rest
            .trim_start_matches(['#', '>', '-', '+', '*'])
            .trim_start();
        if let Some(after) = rest
            .strip_prefix("[ ]")
            .or_else(|| rest.strip_prefix("[x]"))
            .or_else(|| rest.strip_prefix("[X]"))
        {
            rest = after.trim_start();
        }
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && rest[digits..].starts_with(['.', ')']) {
            rest = rest[digits + 1..].trim_start();
        }
        if at_marker(rest) {
            break;
        }
        rest = rest.trim_start_matches(|c: char| !c.is_alphanumeric() && !"[`*_\"'(".contains(c));
        if rest.len() == before {
            break;
        }
    }
    if let Some(colon) = rest.find(": ") {
        let label = &rest[..colon];
        let plain_label = label.chars().count() <= 60
            && !markers.iter().any(|m| {
                label.contains(m.as_str())
                    || m.starts_with(label.trim_start_matches(['[', '*', '`']))
            });
        if plain_label {
            rest = &rest[colon + 1..];
        }
    }
    field.len() - rest.len()
}

/// Whether the marker found at byte `at` of `value` stands where a value
/// belongs (see the module documentation).
fn is_placeholder(value: &str, brackets: &Brackets, at: usize, marker: &str) -> bool {
    let (start, end) = group(value, brackets, at, at + marker.len());
    let bracketed = value[start..].starts_with('[');
    let before = value[..start].trim_end_matches(WRAPPERS);
    let after = value[end..].trim_start_matches(WRAPPERS);
    let after_is_empty = after
        .trim_end_matches(['.', '!', '?', ',', ';'])
        .trim()
        .is_empty();
    let whole = before.trim().is_empty() && after_is_empty;
    let ends_after_separator = after_is_empty && before.trim_end().ends_with(SEPARATORS);
    let quoted = value[..start].ends_with('`') && value[end..].starts_with('`');
    let question =
        bracketed && !quoted && value[at + marker.len()..end].trim_start().starts_with(':');
    let in_path = bracketed && (before.ends_with('/') || after.starts_with('/'));
    let opens_with_colon =
        before.trim().is_empty() && (marker.ends_with(':') || after.starts_with(':'));
    whole || ends_after_separator || question || in_path || opens_with_colon
}

/// The span a marker stands for: the `[...]` group around it when there is
/// one (not a link's text), else the marker itself.
fn group(value: &str, brackets: &Brackets, start: usize, end: usize) -> (usize, usize) {
    let open = brackets.last_open_before(start).filter(|&open| {
        brackets
            .first_close_from(open)
            .is_none_or(|close| close >= start)
    });
    let open = open.or_else(|| value[start..].starts_with('[').then_some(start));
    let Some(open) = open else {
        return (start, end);
    };
    match brackets.first_close_from(end.max(open + 1)) {
        Some(close) => {
            let close = close + 1;
            if value[close..].starts_with('(') {
                (start, end)
            } else {
                (open, close)
            }
        }
        None => (start, end),
    }
}

/// Where a value's `[` and `]` are, so that finding the group around each of
/// many markers on one line costs a search, not a scan of the line.
struct Brackets {
    opens: Vec<usize>,
    closes: Vec<usize>,
}

impl Brackets {
    fn of(value: &str) -> Self {
        let at = |bracket: u8| {
            value
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == bracket)
                .map(|(i, _)| i)
                .collect()
        };
        Brackets {
            opens: at(b'['),
            closes: at(b']'),
        }
    }

    /// The byte offset of the last `[` before `offset`.
    fn last_open_before(&self, offset: usize) -> Option<usize> {
        let count = self.opens.partition_point(|&open| open < offset);
        count.checked_sub(1).map(|index| self.opens[index])
    }

    /// The byte offset of the first `]` at or after `offset`.
    fn first_close_from(&self, offset: usize) -> Option<usize> {
        let index = self.closes.partition_point(|&close| close < offset);
        self.closes.get(index).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flagged(line: &str, marker: &str) -> bool {
        let markers = vec![marker.to_string()];
        fields(line).any(|(start, field)| {
            let value_start = start + value_offset(field, &markers);
            let value = &line[value_start..start + field.len()];
            value
                .match_indices(marker)
                .any(|(at, _)| is_placeholder(value, &Brackets::of(value), at, marker))
        })
    }

    #[test]
    fn values_are_placeholders() {
        for (line, marker) in [
            ("**Testing**: NEEDS CLARIFICATION", "NEEDS CLARIFICATION"),
            (
                "**Storage**: [NEEDS CLARIFICATION or N/A]",
                "NEEDS CLARIFICATION",
            ),
            (
                "**Language**: [e.g., Python 3.11 or NEEDS CLARIFICATION]",
                "NEEDS CLARIFICATION",
            ),
            (
                "**Deps**: FastAPI, SQLModel - NEEDS CLARIFICATION",
                "NEEDS CLARIFICATION",
            ),
            ("NEEDS CLARIFICATION", "NEEDS CLARIFICATION"),
            ("# Implementation Plan: [FEATURE]", "[FEATURE]"),
            (
                "**Branch**: `[###-feature-name]` | **Date**: [DATE]",
                "[DATE]",
            ),
            (
                "**Branch**: `[###-feature-name]` | **Date**: [DATE]",
                "[###-feature-name]",
            ),
            (
                "- FR-006: System MUST use [NEEDS CLARIFICATION: auth method?]",
                "NEEDS CLARIFICATION",
            ),
            (
                "**Input**: spec from `/specs/[###-feature-name]/spec.md`",
                "[###-feature-name]",
            ),
            ("TODO: write the rollback plan", "TODO:"),
            ("| [e.g., 4th project] | [why] |", "[e.g.,"),
            ("| ??? | done |", "???"),
            ("- [ ] ???", "???"),
            ("???", "???"),
            ("- …", "…"),
            ("**Owner**: <>", "<>"),
            ("1. --", "--"),
        ] {
            assert!(flagged(line, marker), "{line}");
        }
    }

    #[test]
    fn mentions_are_not() {
        for (line, marker) in [
            (
                "No NEEDS CLARIFICATION markers remain.",
                "NEEDS CLARIFICATION",
            ),
            (
                "Inga `NEEDS CLARIFICATION` återstår från spec",
                "NEEDS CLARIFICATION",
            ),
            (
                "  - ✅ [NEEDS CLARIFICATION]マーカーは0個",
                "NEEDS CLARIFICATION",
            ),
            (
                "- [ ] All NEEDS CLARIFICATION resolved",
                "NEEDS CLARIFICATION",
            ),
            (
                "2. Fill Technical Context (scan for NEEDS CLARIFICATION)",
                "NEEDS CLARIFICATION",
            ),
            (
                "See [FEATURE](https://example.com) for details",
                "[FEATURE]",
            ),
            (
                "- [x] No `[NEEDS CLARIFICATION: ...]` markers remain",
                "NEEDS CLARIFICATION",
            ),
            ("No `???` remains in the plan", "???"),
            ("Wait for it...", "..."),
        ] {
            assert!(!flagged(line, marker), "{line}");
        }
    }

    #[test]
    fn rules_hold_no_value() {
        for line in ["---", "| --- | :---: |", "===", "* * *"] {
            assert!(is_rule(line), "{line}");
        }
        assert!(!is_rule("| -- | x |"));
    }

    proptest::proptest! {
        /// Every prose line whose text holds a marker is a candidate, once
        /// and in order, whatever inline comments blank out of the text and
        /// whatever the markers hold (spaces, a comment's opening, a line
        /// break).
        #[test]
        fn candidates_hold_every_line_with_a_marker(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "TODO: x", "a  b", "<!-- c -->", "<!--", "-->", "<!-->", "\n", "\n\n",
                    " ", "  ", "`<!--`", "- ", "> ", "| a | b |\n|---|---|\n", "TO", "DO:",
                    "[TBD]", "```\n", "x", "é", "# ",
                ]),
                0..40,
            ),
            markers in proptest::sample::subsequence(
                vec!["TODO:", "  ", "a  b", " -->", "<!-- c", "x\nTO", "[TBD]", "b x"],
                1..4,
            ),
        ) {
            let doc = Document::parse_str("plan.md", &pieces.concat());
            let markers = Markers::new(markers.into_iter().map(String::from).collect());
            let candidates: Vec<usize> = candidate_lines(markers.finders(), &doc)
                .map(|line| line.number)
                .collect();
            proptest::prop_assert!(candidates.windows(2).all(|pair| pair[0] < pair[1]));
            for line in doc.prose_lines(None) {
                let holds = markers.iter().any(|marker| line.text.contains(marker.as_str()));
                proptest::prop_assert_eq!(
                    holds,
                    holds_marker(markers.finders(), line.text)
                );
                if holds {
                    proptest::prop_assert!(candidates.contains(&line.number), "line {}", line.number);
                }
            }
        }
    }
}
