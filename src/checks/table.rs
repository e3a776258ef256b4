//! `table: {under, columns, min_rows, allow_empty}`: a GFM table under a
//! heading (or anywhere) whose header holds the listed columns (matched like
//! headings), with at least `min_rows` data rows (default 1), and a
//! non-empty cell in every listed column of every row, except the columns in
//! `allow_empty`.
//!
//! The table holding the most listed columns (the first of equals) is
//! judged; without `under:`, a table holding none of them is not looked at.
//! An empty cell is reported at its row; a table in code or an HTML comment
//! is not a table.

use super::{Findings, count, resolve_under};
use crate::diagnostic::Position;
use crate::markdown::{Document, Table, normalize_title};
use crate::playbook::TableSpec;

/// How to fix what this kind finds, in one line, for reports.
pub const HINT: &str = "put a table under the heading with every listed column, enough rows, and a value in each required cell";

pub fn check(spec: &TableSpec, doc: &Document, findings: &mut Findings<'_>) {
    let Ok(section) = resolve_under(doc, spec.under.as_ref(), findings) else {
        return;
    };
    let wanted = spec.column_keys();
    let tables: Vec<&Table> = doc
        .tables
        .iter()
        .filter(|table| section.is_none_or(|s| doc.section_contains(s, table.section)))
        .collect();
    let columns_of = |table: &Table| -> Vec<Option<usize>> {
        let header: Vec<String> = table
            .header
            .iter()
            .map(|c| normalize_title(&c.text))
            .collect();
        wanted
            .iter()
            .map(|w| header.iter().position(|h| h == w))
            .collect()
    };
    let best = tables
        .iter()
        .map(|table| (*table, columns_of(table)))
        .max_by_key(|(table, found)| {
            (
                found.iter().flatten().count(),
                std::cmp::Reverse(table.position),
            )
        })
        // Without `under:`, a table that holds none of the columns is
        // another table, not a wrong one.
        .filter(|(_, found)| spec.under.is_some() || found.iter().any(Option::is_some));
    let where_ = match &spec.under {
        Some(under) => format!(" under \"{under}\""),
        None => String::new(),
    };
    let Some((table, found)) = best else {
        let message = match &spec.under {
            Some(under) => format!("no table under \"{under}\""),
            None => "no table in the document".to_string(),
        };
        findings.report_under(doc, section, message).help = Some(format!(
            "add a table with the columns {}",
            spec.columns.join(" | ")
        ));
        return;
    };
    let missing: Vec<&str> = spec
        .columns
        .iter()
        .zip(&found)
        .filter(|(_, index)| index.is_none())
        .map(|(name, _)| name.as_str())
        .collect();
    if !missing.is_empty() {
        findings
            .report_line(
                doc,
                table.position,
                format!("the table{where_} has no column {}", quoted(&missing)),
            )
            .help = Some(format!("its header must hold {}", spec.columns.join(" | ")));
        return;
    }
    if table.rows.len() < spec.min_rows {
        findings.report_lines(
            doc,
            table.position,
            table.end_line,
            format!(
                "the table{where_} has {}; at least {} are required",
                count(table.rows.len(), "row"),
                spec.min_rows
            ),
        );
    }
    let allow_empty = spec.allow_empty_keys();
    // The columns every row must fill, worked out once rather than per row.
    let required: Vec<(&String, &Option<usize>)> = spec
        .columns
        .iter()
        .zip(wanted)
        .zip(&found)
        .filter(|((_, key), _)| !allow_empty.contains(key))
        .map(|((name, _), index)| (name, index))
        .collect();
    for row in &table.rows {
        let empty: Vec<&str> = required
            .iter()
            .copied()
            .filter(|(_, index)| {
                index
                    .and_then(|i| row.cells.get(i))
                    .is_none_or(|cell| cell.text.trim().is_empty())
            })
            .map(|(name, _)| name.as_str())
            .collect();
        if !empty.is_empty() {
            findings.report_line(
                doc,
                Position::new(row.line, table.position.column),
                format!(
                    "row {} leaves {} empty",
                    row_label(row, &found),
                    quoted(&empty)
                ),
            );
        }
    }
    findings.evidence(
        count(table.rows.len(), "row"),
        table.position.line,
        table.end_line,
    );
}

/// A row named by its first non-empty listed cell, as a reader finds it.
fn row_label(row: &crate::markdown::Row, found: &[Option<usize>]) -> String {
    found
        .iter()
        .flatten()
        .filter_map(|i| row.cells.get(*i))
        .map(|cell| cell.text.trim())
        .find(|text| !text.is_empty())
        .map_or_else(
            || format!("on line {}", row.line),
            |text| format!("\"{text}\""),
        )
}

fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    quoted.join(", ")
}
