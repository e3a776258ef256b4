//! `--format junit`: JUnit XML for the test report viewers of CI systems.
//! `check`: one test suite per file (or subject and step), one test case per
//! check, named by its id with its kind as class name; a check whose
//! findings fail the gate is a failure listing them as `path:line:column`,
//! a check that did not run is skipped. `lint`: one suite per playbook with
//! one case, failing when lint found an error.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::LintedFile;
use crate::checks::CheckStatus;
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::StepResult;

/// `check --format junit`; with `strict`, warnings fail as the gate did.
pub fn check_junit(results: &[StepResult], strict: bool) -> std::io::Result<String> {
    let mut report = Report::new("tollgate check");
    for result in results {
        let mut suite = TestSuite::new(result.target());
        for outcome in &result.outcomes {
            let fails = |severity: Severity| severity.fails(strict);
            let mut case = match outcome.status {
                CheckStatus::Skipped => {
                    TestCase::new(outcome.check.as_str(), TestCaseStatus::skipped())
                }
                _ => case(outcome.check.as_str(), &outcome.findings, fails),
            };
            case.set_classname(outcome.kind);
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    serialize(&report)
}

/// `lint --format junit`.
pub fn lint_junit(linted: &[LintedFile]) -> std::io::Result<String> {
    diagnostics_junit("lint", linted)
}

/// `verify --format junit`: one suite for the state folder with one case,
/// failing when verify found an error.
pub fn verify_junit(verified: &[LintedFile]) -> std::io::Result<String> {
    diagnostics_junit("verify", verified)
}

fn diagnostics_junit(command: &str, files: &[LintedFile]) -> std::io::Result<String> {
    let mut report = Report::new(format!("tollgate {command}"));
    for file in files {
        let mut suite = TestSuite::new(file.path.as_str());
        let mut case = case(command, &file.diagnostics, |severity| {
            severity == Severity::Error
        });
        case.set_classname(command);
        suite.add_test_case(case);
        report.add_test_suite(suite);
    }
    serialize(&report)
}

/// A failure when some finding `fails`, carrying those findings, else a
/// success; the findings that do not fail (warnings, information) go to the
/// case's output.
fn case(name: &str, findings: &[Diagnostic], fails: impl Fn(Severity) -> bool) -> TestCase {
    let (failing, other): (Vec<&Diagnostic>, Vec<&Diagnostic>) =
        findings.iter().partition(|f| fails(f.severity));
    let status = match failing.first() {
        None => TestCaseStatus::success(),
        Some(first) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(first.message.as_str())
                .set_type(first.severity.as_str());
            if let Some(text) = listing(&failing) {
                status.set_description(text);
            }
            status
        }
    };
    let mut case = TestCase::new(name, status);
    if let Some(text) = listing(&other) {
        case.set_system_out(text);
    }
    case
}

/// Findings one per line: `path:line:column: severity[code]: message`,
/// and ` (help)` when the finding says how to fix it.
fn listing(findings: &[&Diagnostic]) -> Option<String> {
    let lines: Vec<String> = findings
        .iter()
        .map(|f| {
            let help = f.help.as_ref().map(|help| format!(" ({help})"));
            format!(
                "{}: {}[{}]: {}{}",
                f.location(),
                f.severity,
                f.code,
                f.message,
                help.unwrap_or_default()
            )
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn serialize(report: &Report) -> std::io::Result<String> {
    report.to_string().map_err(std::io::Error::other)
}
