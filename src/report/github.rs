//! `--format github`: GitHub Actions workflow commands, one per finding,
//! which the runner turns into annotations on the lines of a pull request:
//! `::error file=PATH,line=L,col=C,endColumn=C,title=CHECK::message` (or
//! `line=L,endLine=L` for a finding over several lines).
//! Errors are `::error`, warnings `::warning`, information `::notice`.

use std::borrow::Borrow;
use std::io::Write;

use super::{LintedFile, Totals};
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::StepResult;

/// `check --format github`: every finding, then the summary line as plain
/// log text (with `quiet`, no summary).
pub fn write_check_github<R: Borrow<StepResult>>(
    results: impl IntoIterator<Item = R>,
    quiet: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut totals = Totals::default();
    for result in results {
        let result = result.borrow();
        totals.add(result);
        for finding in result.findings() {
            write_command(finding, out)?;
        }
    }
    if !quiet {
        writeln!(out, "{}", totals.line())?;
    }
    Ok(())
}

/// `lint --format github`: every diagnostic of every playbook.
pub fn write_lint_github(linted: &[LintedFile], out: &mut dyn Write) -> std::io::Result<()> {
    for diagnostic in linted.iter().flat_map(|file| &file.diagnostics) {
        write_command(diagnostic, out)?;
    }
    Ok(())
}

fn write_command(diagnostic: &Diagnostic, out: &mut dyn Write) -> std::io::Result<()> {
    let command = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut properties = vec![("file", diagnostic.path.clone())];
    if let Some(start) = diagnostic.start {
        properties.push(("line", start.line.to_string()));
        match diagnostic.end {
            // Columns only within one line, as the runner takes them; its
            // end column is the last character, not the one after.
            Some(end) if end.line == start.line => properties.extend([
                ("col", start.column.to_string()),
                ("endColumn", (end.column - 1).max(start.column).to_string()),
            ]),
            Some(end) => properties.push(("endLine", end.line.to_string())),
            None => properties.push(("col", start.column.to_string())),
        }
    }
    properties.push(("title", diagnostic.code.clone()));
    let properties: Vec<String> = properties
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(value)))
        .collect();
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    writeln!(
        out,
        "::{command} {}::{}",
        properties.join(","),
        escape_data(&message)
    )
}

/// The message of a command: `%`, CR and LF are percent-encoded, as the
/// runner decodes them.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as data, and `:` and `,`, which delimit properties.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_percent_and_line_breaks_only() {
        assert_eq!(escape_data("50% a:b,c\r\nd"), "50%25 a:b,c%0D%0Ad");
    }

    #[test]
    fn properties_also_escape_colon_and_comma() {
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
