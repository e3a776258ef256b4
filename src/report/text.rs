//! Text for people: each file (or subject) with its verdict, its findings
//! framed by the offending lines, a hint per kind of check that found
//! something, and a summary line.

use codespan_reporting::term::termcolor::{Color, ColorSpec, WriteColor};

use std::borrow::Borrow;

use super::{Counts, LintedFile, Sources, Totals, one_line, write_diagnostics};
use crate::checks::{CheckStatus, count};
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::StepResult;

/// `check` for people, each result written as it comes. With `quiet`,
/// only what failed, and no summary.
pub fn write_check_text<R: Borrow<StepResult>>(
    results: impl IntoIterator<Item = R>,
    quiet: bool,
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let mut totals = Totals::default();
    for result in results {
        let result = result.borrow();
        totals.add(result);
        if quiet && !result.verdict.fails() {
            continue;
        }
        out.set_color(ColorSpec::new().set_bold(true))?;
        write!(out, "{}", one_line(&result.target()))?;
        out.reset()?;
        writeln!(out, ": {}", result.verdict.as_str())?;
        let findings: Vec<Diagnostic> = result.findings().cloned().collect();
        write_diagnostics(&findings, &result.source_map(), out)?;
        write_suppressed(result, out)?;
        write_hints(result, out)?;
    }
    if !quiet {
        writeln!(out, "{}", totals.line())?;
    }
    Ok(())
}

/// One line per suppressed finding of a result, with the directive's line
/// and reason.
fn write_suppressed(result: &StepResult, out: &mut dyn WriteColor) -> std::io::Result<()> {
    for suppressed in result.suppressed() {
        let finding = &suppressed.finding;
        writeln!(
            out,
            "suppressed[{}] {}: {} (reason, line {}: {})",
            finding.code,
            one_line(&finding.location()),
            one_line(&finding.message),
            suppressed.directive.line,
            one_line(&suppressed.reason)
        )?;
    }
    Ok(())
}

/// One line per kind of check that found something in this result, once
/// per kind, saying how to fix it.
fn write_hints(result: &StepResult, out: &mut dyn WriteColor) -> std::io::Result<()> {
    let mut kinds: Vec<&str> = Vec::new();
    for outcome in &result.outcomes {
        // A plugin whose every finding carries its own hint needs no
        // general one.
        let hinted = outcome.kind == "plugin"
            && outcome
                .findings
                .iter()
                .all(|finding| finding.severity == Severity::Info || finding.help.is_some());
        if outcome.status == CheckStatus::Failed && !hinted && !kinds.contains(&outcome.kind) {
            kinds.push(outcome.kind);
        }
    }
    let hints: Vec<(&str, &str)> = kinds
        .into_iter()
        .filter_map(|kind| Some((kind, crate::checks::hint(kind)?)))
        .collect();
    for (kind, hint) in &hints {
        out.set_color(ColorSpec::new().set_fg(Some(Color::Cyan)).set_bold(true))?;
        write!(out, "hint")?;
        out.reset()?;
        writeln!(out, " ({kind}): {hint}")?;
    }
    if !hints.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

/// `lint` for people: every diagnostic with its code frame (with `quiet`,
/// only errors and no summary), then "1 error, 0 warnings in 2 playbooks".
pub fn write_lint_text(
    linted: &[LintedFile],
    sources: &Sources,
    quiet: bool,
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let all = || linted.iter().flat_map(|file| &file.diagnostics);
    let shown: Vec<Diagnostic> = all()
        .filter(|d| !quiet || d.severity == Severity::Error)
        .cloned()
        .collect();
    write_diagnostics(&shown, sources, out)?;
    if !quiet {
        let counts = Counts::of(all());
        writeln!(
            out,
            "{} in {}",
            counts.summary(),
            count(linted.len(), "playbook")
        )?;
    }
    Ok(())
}

/// `verify` for people: every finding with its code frame (with `quiet`,
/// only errors and no summary), then "1 error, 0 warnings".
pub fn write_verify_text(
    findings: &[Diagnostic],
    sources: &Sources,
    quiet: bool,
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let shown: Vec<Diagnostic> = findings
        .iter()
        .filter(|d| !quiet || d.severity == Severity::Error)
        .cloned()
        .collect();
    write_diagnostics(&shown, sources, out)?;
    if !quiet {
        writeln!(out, "verified: {}", Counts::of(findings).summary())?;
    }
    Ok(())
}
