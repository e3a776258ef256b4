//! Output for people and machines: diagnostics as code frames, and the JSON
//! shapes of the command line's `--format json`.

use std::collections::HashMap;

use codespan_reporting::term::termcolor::{NoColor, WriteColor};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};

/// The text of the files diagnostics point into, by displayed path.
#[derive(Debug, Default)]
pub struct Sources {
    texts: HashMap<String, String>,
}

impl Sources {
    pub fn insert(&mut self, path: impl Into<String>, text: impl Into<String>) {
        self.texts.insert(path.into(), text.into());
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.texts.get(path).map(String::as_str)
    }
}

/// Writes each diagnostic with a code frame where its source is known.
pub fn write_diagnostics(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    for diagnostic in diagnostics {
        diagnostic.render(sources.get(&diagnostic.path), out)?;
    }
    Ok(())
}

/// The diagnostics as plain text with code frames, as tests snapshot them.
pub fn diagnostics_to_string(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let mut out = NoColor::new(Vec::new());
    write_diagnostics(diagnostics, sources, &mut out).expect("writing to memory cannot fail");
    String::from_utf8_lossy(&out.into_inner()).into_owned()
}

/// How many diagnostics of each severity, in the words of a summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Counts {
    pub fn of<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) -> Self {
        let mut counts = Counts::default();
        for diagnostic in diagnostics {
            match diagnostic.severity {
                Severity::Error => counts.errors += 1,
                Severity::Warning => counts.warnings += 1,
                Severity::Info => counts.infos += 1,
            }
        }
        counts
    }

    pub fn summary(&self) -> String {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {}",
            plural(self.errors, "error"),
            plural(self.warnings, "warning")
        )
    }
}

#[derive(Serialize)]
struct LintJsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    path: &'a str,
    line: Option<usize>,
    column: Option<usize>,
}

/// `lint --format json`: `{"diagnostics": [{code, severity, message, path, line, column}]}`.
pub fn lint_json(diagnostics: &[Diagnostic]) -> serde_json::Value {
    let diagnostics: Vec<LintJsonDiagnostic> = diagnostics
        .iter()
        .map(|d| LintJsonDiagnostic {
            code: &d.code,
            severity: d.severity,
            message: &d.message,
            path: &d.path,
            line: d.start.map(|p| p.line),
            column: d.start.map(|p| p.column),
        })
        .collect();
    serde_json::json!({ "diagnostics": diagnostics })
}
