//! `tollgate plugin test PLUGIN`: runs a plugin against sample documents
//! and compares its findings with the expected ones, case by case, as
//! `vale test` or ESLint's `RuleTester` do, without writing any Rust.
//!
//! # The test file
//!
//! The cases of `plugins/risk_coverage.lua` live beside it in
//! `plugins/risk_coverage.test.yaml` (`tollgate plugin test` accepts either
//! path):
//!
//! ```yaml
//! # plugin: risk_coverage.lua      # optional: the plugin, relative to this file
//! # limits: { plugin_timeout_ms: 200, plugin_memory_mib: 16 }   # optional
//! cases:
//!   - name: every area has a risk  # shown in the report
//!     function: check              # the function of the plugin to call
//!     with: { areas: [security, data] }   # ctx.with (default {})
//!     document: |                  # ctx.doc, inline Markdown...
//!       ## Risks Register
//!       | Risk | Mitigation |
//!       |------|------------|
//!       | Security: leaked keys | rotate |
//!       | Data loss | backups |
//!     expect: []                   # no findings at all
//!
//!   - name: an area without a risk
//!     function: check
//!     with: { areas: [security, billing] }
//!     file: samples/plan.md        # ...or a file, relative to this file
//!     expect:                      # in the order the plugin reports them
//!       - severity: error          # each key is optional
//!         line: 12
//!         column: 1
//!         message: billing         # a part of the message
//! ```
//!
//! A case may also give `path` (the document's `doc.path`; by default its
//! `file`, or `document.md`), `vars` (`ctx.vars`), `subject` (`{ id, title,
//! slug, phase }`, nil when absent), `step` (`{ id, title, gate }`), and
//! `artifacts` (a map of artifact names to inline Markdown, for
//! `ctx:artifact`). Without `document` or `file`, `ctx.doc` is nil.
//! `ctx:read` reads inside the test file's folder.
//!
//! A case passes when the plugin reports exactly as many findings as
//! `expect` lists and each matches its entry. What the plugin prints is
//! shown with a failing case but is not a finding to expect.

use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value as Json;

use super::host::{LimitOverrides, PluginCall, PluginSet, StepInfo, SubjectInfo};
use crate::checks::Findings;
use crate::diagnostic::{Diagnostic, Severity};
use crate::markdown::Document;
use crate::playbook::{Check, Gate, Limits, SectionAliases};

/// The outcome of a plugin's test file.
#[derive(Debug, Clone)]
pub struct TestReport {
    /// The test file, as given or found.
    pub tests: PathBuf,
    /// Why the test file could not be used; no case ran then.
    pub error: Option<String>,
    pub cases: Vec<CaseResult>,
}

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    /// What differs from the expected findings; empty when the case passed.
    pub problems: Vec<String>,
    /// The findings the plugin reported.
    pub findings: Vec<Diagnostic>,
    /// What the plugin printed.
    pub printed: Vec<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

impl TestReport {
    /// Whether the file was usable, had cases, and every case passed.
    pub fn passed(&self) -> bool {
        self.error.is_none() && !self.cases.is_empty() && self.cases.iter().all(CaseResult::passed)
    }

    fn unusable(tests: PathBuf, why: String) -> Self {
        Self {
            tests,
            error: Some(why),
            cases: Vec::new(),
        }
    }
}

impl fmt::Display for TestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.tests.display())?;
        if let Some(why) = &self.error {
            return writeln!(f, "  error: {why}");
        }
        for case in &self.cases {
            if case.passed() {
                writeln!(f, "  ok    {}", case.name)?;
                continue;
            }
            writeln!(f, "  FAIL  {}", case.name)?;
            for problem in &case.problems {
                writeln!(f, "        {problem}")?;
            }
            for finding in &case.findings {
                writeln!(f, "        got: {}", describe(finding))?;
            }
            for line in &case.printed {
                writeln!(f, "        printed: {line}")?;
            }
        }
        let passed = self.cases.iter().filter(|case| case.passed()).count();
        writeln!(f, "{passed} passed, {} failed", self.cases.len() - passed)
    }
}

/// `error 12:1 message`, or `error - message` without a position.
fn describe(finding: &Diagnostic) -> String {
    let place = finding
        .start
        .map_or("-".to_string(), |start| start.to_string());
    format!("{} {place} {}", finding.severity, finding.message)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    plugin: Option<String>,
    #[serde(default)]
    limits: Limits,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    function: String,
    #[serde(default)]
    with: Json,
    document: Option<String>,
    file: Option<String>,
    path: Option<String>,
    #[serde(default)]
    vars: IndexMap<String, Json>,
    subject: Option<TestSubject>,
    step: Option<TestStep>,
    #[serde(default)]
    artifacts: IndexMap<String, String>,
    #[serde(default)]
    expect: Vec<Expected>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct TestSubject {
    id: String,
    title: String,
    slug: String,
    phase: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestStep {
    id: String,
    title: Option<String>,
    #[serde(default)]
    gate: Gate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    severity: Option<Severity>,
    line: Option<usize>,
    column: Option<usize>,
    message: Option<String>,
}

/// Runs the test file of a plugin: `path` is the plugin (its cases are in
/// `NAME.test.yaml` beside it) or the test file itself. The budgets are the
/// test file's `limits:`, unless `overrides` sets them.
pub fn test_plugin(path: &Path, overrides: LimitOverrides) -> TestReport {
    let tests = test_file_of(path);
    let text = match crate::source::read_text(&tests, crate::yaml::MAX_FILE_BYTES) {
        Ok(text) => text,
        Err(error) => return TestReport::unusable(tests, error.to_string()),
    };
    let file: TestFile = match parse(&text) {
        Ok(file) => file,
        Err(why) => return TestReport::unusable(tests, why),
    };
    if file.cases.is_empty() {
        return TestReport::unusable(tests, "the file has no cases".into());
    }
    // A bare file name's folder is "", which names nothing to resolve from;
    // absolute, since paths under it are resolved against the repository
    // root, which need not be the working folder.
    let folder = tests
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let folder = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
    let plugin = file
        .plugin
        .clone()
        .unwrap_or_else(|| plugin_name_of(&tests));
    let name = Path::new(&plugin)
        .file_stem()
        .map_or("plugin".into(), |stem| stem.to_string_lossy().into_owned());
    let plugins = IndexMap::from([(name.clone(), plugin)]);
    let set = PluginSet::load(&folder, &plugins, &folder, &file.limits, overrides);
    // A plugin that cannot run fails every case the same way: say it once.
    if let Some(error) = set.load_error(&name) {
        return TestReport::unusable(tests, error.located());
    }
    let cases = file
        .cases
        .iter()
        .map(|case| run_case(&set, &name, &folder, case))
        .collect();
    TestReport {
        tests,
        error: None,
        cases,
    }
}

/// `x.test.yaml` (or `.yml`) is a test file; `x.lua` has `x.test.yaml`.
fn test_file_of(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    if name.ends_with(".test.yaml") || name.ends_with(".test.yml") {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!("{stem}.test.yaml"))
}

/// The plugin a test file tests by default: `x.lua` for `x.test.yaml`.
fn plugin_name_of(tests: &Path) -> String {
    let name = tests
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    let stem = name.split(".test.").next().unwrap_or_default();
    format!("{stem}.lua")
}

fn parse(text: &str) -> Result<TestFile, String> {
    let (json, spans) = crate::yaml::parse(text).map_err(|error| match error.position {
        Some(position) => format!("{position}: {}", error.message),
        None => error.message,
    })?;
    serde_path_to_error::deserialize(&json).map_err(|error| {
        let pointer = crate::yaml::json_pointer(error.path());
        let message = error.inner().to_string();
        // An unknown key is best shown where it is written, at its name.
        let position = match message.starts_with("unknown field") {
            true => spans.key(&pointer),
            false => spans.value(&pointer),
        };
        match position {
            Some(position) => format!("{position}: {message}"),
            None => message,
        }
    })
}

fn run_case(set: &PluginSet, plugin: &str, folder: &Path, case: &Case) -> CaseResult {
    let failed = |why: String| CaseResult {
        name: case.name.clone(),
        problems: vec![why],
        findings: Vec::new(),
        printed: Vec::new(),
    };
    let text = match (&case.document, &case.file) {
        (Some(_), Some(_)) => return failed("give `document` or `file`, not both".into()),
        (Some(text), None) => Some(text.clone()),
        (None, Some(file)) => {
            // A case's file must be in the repository holding the test.
            let repository = crate::confined::repository_root(folder);
            let limit = crate::engine::MAX_DOCUMENT_BYTES;
            match crate::confined::read_text(&repository, &folder.join(file), limit) {
                Ok(text) => Some(text),
                Err(error) => return failed(format!("cannot read `{file}`: {error}")),
            }
        }
        (None, None) => None,
    };
    let path = case
        .path
        .clone()
        .or_else(|| case.file.clone())
        .unwrap_or_else(|| "document.md".into());
    let document = text.map(|text| Document::parse_str(path.as_str(), &text));
    let artifacts = |name: &str| {
        case.artifacts
            .get(name)
            .map(|text| Document::parse_str(format!("{name}.md"), text))
    };
    let call = PluginCall {
        doc: document.as_ref(),
        subject: case.subject.as_ref().map(|subject| SubjectInfo {
            id: &subject.id,
            title: &subject.title,
            slug: &subject.slug,
            phase: &subject.phase,
        }),
        vars: &case.vars,
        step: case.step.as_ref().map_or(
            StepInfo {
                id: "test",
                title: None,
                gate: Gate::Automated,
            },
            |step| StepInfo {
                id: &step.id,
                title: step.title.as_deref(),
                gate: step.gate,
            },
        ),
        artifacts: &artifacts,
        artifact: None,
        aliases: &SectionAliases::default(),
    };
    let function = format!("{plugin}.{}", case.function);
    let check = Check::plugin(&case.name, &function, case.with.clone());
    let mut outcome = set.outcome(&function, &case.with, &call);
    let printed = std::mem::take(&mut outcome.collected.prints);
    let mut findings = Findings::new(&check, &path);
    outcome.report(&function, call.doc, &mut findings);
    let findings = findings.finish().findings;
    CaseResult {
        name: case.name.clone(),
        problems: compare(&case.expect, &findings),
        findings,
        printed,
    }
}

/// What differs between the expected and the actual findings, in order.
fn compare(expected: &[Expected], actual: &[Diagnostic]) -> Vec<String> {
    let mut problems = Vec::new();
    if expected.len() != actual.len() {
        problems.push(format!(
            "expected {} finding{}, got {}",
            expected.len(),
            if expected.len() == 1 { "" } else { "s" },
            actual.len()
        ));
    }
    for (index, (want, got)) in expected.iter().zip(actual).enumerate() {
        let number = index + 1;
        if let Some(severity) = want.severity
            && severity != got.severity
        {
            problems.push(format!(
                "finding {number}: expected severity {severity}, got {}",
                got.severity
            ));
        }
        let line = got.start.map(|start| start.line);
        if let Some(want_line) = want.line
            && Some(want_line) != line
        {
            problems.push(format!(
                "finding {number}: expected line {want_line}, got {}",
                shown(line)
            ));
        }
        let column = got.start.map(|start| start.column);
        if let Some(want_column) = want.column
            && Some(want_column) != column
        {
            problems.push(format!(
                "finding {number}: expected column {want_column}, got {}",
                shown(column)
            ));
        }
        if let Some(part) = &want.message
            && !got.message.contains(part.as_str())
        {
            problems.push(format!(
                "finding {number}: expected a message containing \"{part}\""
            ));
        }
    }
    problems
}

fn shown(number: Option<usize>) -> String {
    number.map_or("none".into(), |number| number.to_string())
}
