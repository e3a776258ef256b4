//! The built-in check kinds, one file each, and what they share: the
//! finding collector, the `under:` lookup, and the outcome of one check.
//!
//! Every kind reads the comrak document model, never raw text, so a heading,
//! table, box or closing line inside code or an HTML comment never counts.

mod checklist;
mod exists;
mod links;
mod pattern;
mod placeholders;
mod sections;
mod table;
mod trace;
mod words;

use serde::Serialize;

pub use placeholders::unmatchable as unmatchable_placeholder;

use crate::diagnostic::{Diagnostic, Position, Severity};
use crate::markdown::Document;
use crate::playbook::{Check, CheckKind, Under};
use crate::suppress::Suppressed;

/// What a check looks at: its artifact's document, or why there is none.
#[derive(Debug)]
pub enum Artifact<'a> {
    Loaded(&'a Document),
    Missing,
    /// The file exists but could not be read as text: why, and where (the
    /// first bad byte of a file that is not UTF-8, else the start).
    Unreadable(&'a str, Position),
}

/// Another artifact of the step, as a check that reads it sees it.
pub struct Other<'a> {
    /// Its path, as findings show it.
    pub path: &'a str,
    pub artifact: Artifact<'a>,
}

/// Finds another artifact of the step by name; `None` when the run was
/// given none by that name (the stateless mode without `--artifact-file`).
pub type Others<'a> = dyn Fn(&str) -> Option<Other<'a>> + 'a;

/// What a check may look at besides its own artifact.
pub struct Surroundings<'a> {
    /// The other artifacts of the step (a `trace` reads them).
    pub others: &'a Others<'a>,
    /// The project root that a `links` target must lie inside; `None` when
    /// the document lies outside every root, so no relative link resolves.
    pub root: Option<&'a std::path::Path>,
}

impl Surroundings<'static> {
    /// Nothing around the document: no other artifact, no root.
    pub const ALONE: Surroundings<'static> = Surroundings {
        others: &no_other,
        root: None,
    };
}

fn no_other(_: &str) -> Option<Other<'static>> {
    None
}

/// Where a check found what it looked for: the evidence a step document
/// shows beside a passed check ("Data models: lines 67-105").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub label: String,
    pub line: usize,
    pub end_line: usize,
    /// Why what was found counts, when that is not plain: a heading that
    /// matched only once its annotation was set aside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The verdict of one check on one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Passed,
    Failed,
    /// Its `when:` was false, or its artifact is missing and another check said so.
    Skipped,
}

impl CheckStatus {
    /// Failed when a finding is more than information (a plugin's `print`,
    /// say, is reported, not a failure).
    pub fn of(findings: &[Diagnostic]) -> Self {
        if findings.iter().any(|f| f.severity != Severity::Info) {
            CheckStatus::Failed
        } else {
            CheckStatus::Passed
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    pub check: String,
    pub kind: &'static str,
    pub status: CheckStatus,
    pub findings: Vec<Diagnostic>,
    pub evidence: Vec<Evidence>,
    /// Findings a directive in the document suppressed, with its reason.
    pub suppressed: Vec<Suppressed>,
    /// What the check read besides its artifact: an approval pins it.
    #[serde(skip)]
    pub read: Vec<Read>,
}

impl CheckOutcome {
    /// The findings that say the check's plugin failed (an error, or its
    /// time or memory budget spent) rather than where the document is
    /// wrong: a plugin check's errors with no place in the document.
    pub fn plugin_failures(&self) -> impl Iterator<Item = &Diagnostic> {
        let plugin = self.kind == "plugin";
        self.findings
            .iter()
            .filter(move |f| plugin && f.start.is_none() && f.severity == Severity::Error)
    }
}

/// Something a check read besides its own artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// Another artifact of the step, by name (a plugin's `ctx:artifact`).
    Artifact(String),
    /// A file inside the root, as the check named it (`ctx:read`).
    File(String),
}

/// Collects the findings of one check on one document, each with the
/// check's id, severity and path.
pub struct Findings<'a> {
    check: &'a Check,
    path: &'a str,
    findings: Vec<Diagnostic>,
    evidence: Vec<Evidence>,
    read: Vec<Read>,
    /// The check could not run here, and a finding says why.
    skipped: bool,
}

impl<'a> Findings<'a> {
    pub fn new(check: &'a Check, path: &'a str) -> Self {
        Self {
            check,
            path,
            findings: Vec::new(),
            evidence: Vec::new(),
            read: Vec::new(),
            skipped: false,
        }
    }

    /// Reports, for information, why the check is skipped: its outcome is
    /// skipped, whatever else was found.
    pub fn skip(&mut self, message: impl Into<String>) -> &mut Diagnostic {
        self.skipped = true;
        let finding = self.report(Position::START, message);
        finding.severity = Severity::Info;
        // About the run, not a place in the document.
        finding.start = None;
        finding
    }

    /// Reports a finding in another file than the check's artifact (the
    /// other end of a trace), with the check's severity.
    pub fn report_in(
        &mut self,
        path: &str,
        position: Position,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let finding = self.report(position, message);
        finding.path = path.to_string();
        finding
    }

    /// Notes what the check read besides its artifact.
    pub fn read(&mut self, read: Read) {
        if !self.read.contains(&read) {
            self.read.push(read);
        }
    }

    /// Reports a finding at a position, with the check's severity.
    pub fn report(&mut self, position: Position, message: impl Into<String>) -> &mut Diagnostic {
        self.findings.push(
            Diagnostic::new(
                self.check.id.as_str(),
                self.check.severity,
                self.path,
                message,
            )
            .at(position),
        );
        self.findings.last_mut().expect("just pushed")
    }

    /// The check's compiled regular expression, or `None` after reporting
    /// that it does not compile.
    pub fn compiled<'r>(
        &mut self,
        compiled: Result<&'r regex::Regex, &str>,
    ) -> Option<&'r regex::Regex> {
        compiled
            .map_err(|error| {
                self.report(
                    Position::START,
                    format!("the regular expression does not compile: {error}"),
                );
            })
            .ok()
    }

    /// Reports a finding about a line (a heading, a table row, a closing
    /// line) from `start` to the end of the line's text, so that a code
    /// frame underlines all of it.
    pub fn report_line(
        &mut self,
        doc: &Document,
        start: Position,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let end = line_end(doc, start.line);
        let finding = self.report(start, message);
        finding.end = Some(end).filter(|&end| end > start);
        finding
    }

    /// Reports a finding at the heading of a section (`under:`), or at the
    /// start of the document when there is none.
    pub fn report_under(
        &mut self,
        doc: &Document,
        section: Option<usize>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        match section.and_then(|index| doc.sections.get(index)) {
            Some(section) => self.report_line(doc, section.position, message),
            None => self.report(Position::START, message),
        }
    }

    /// Reports a finding that spans lines `start..=end_line`, up to the end
    /// of the last of them that is not blank.
    pub fn report_lines(
        &mut self,
        doc: &Document,
        start: Position,
        end_line: usize,
        message: impl Into<String>,
    ) {
        let last = (start.line..=end_line)
            .rev()
            .find(|&line| {
                doc.line_text(line)
                    .is_some_and(|text| !text.trim().is_empty())
            })
            .unwrap_or(start.line);
        let end = line_end(doc, last);
        self.report(start, message).end = Some(end).filter(|&end| end > start);
    }

    pub fn evidence(&mut self, label: impl Into<String>, line: usize, end_line: usize) {
        self.evidence.push(Evidence {
            label: label.into(),
            line,
            end_line,
            note: None,
        });
    }

    /// Adds `note` to the evidence last recorded.
    pub fn note_evidence(&mut self, note: String) {
        if let Some(evidence) = self.evidence.last_mut() {
            evidence.note = Some(note);
        }
    }

    pub fn finish(self) -> CheckOutcome {
        CheckOutcome {
            check: self.check.id.clone(),
            kind: self.check.kind.name(),
            status: if self.skipped {
                CheckStatus::Skipped
            } else {
                CheckStatus::of(&self.findings)
            },
            findings: self.findings,
            evidence: self.evidence,
            suppressed: Vec::new(),
            read: self.read,
        }
    }
}

/// The section named by `under:` is missing, and a finding already says so.
#[derive(Debug)]
pub struct MissingSection;

/// The lines an `under:` option selects: a section (with its subsections),
/// or the whole document when `under` is absent.
pub fn resolve_under(
    doc: &Document,
    under: Option<&Under>,
    findings: &mut Findings<'_>,
) -> Result<Option<usize>, MissingSection> {
    let Some(under) = under else {
        return Ok(None);
    };
    let Under { title, aliases, .. } = under;
    match doc.find_section_by_keys(under.keys(), None) {
        Some((index, _)) => Ok(Some(index)),
        None => {
            findings
                .report(Position::START, format!("missing section \"{title}\""))
                .help = Some(match aliases.as_slice() {
                [] => format!("add a heading `## {title}`"),
                aliases => format!(
                    "add a heading `## {title}` (or one of: {})",
                    aliases.join(", ")
                ),
            });
            Err(MissingSection)
        }
    }
}

/// Runs one built-in check on one document; `others` finds the other
/// artifacts a `trace` reads. Plugin checks are run by the Lua host, not
/// here.
pub fn run_builtin(
    check: &Check,
    artifact: &Artifact<'_>,
    path: &str,
    around: &Surroundings<'_>,
) -> CheckOutcome {
    let mut findings = Findings::new(check, path);
    match (artifact, &check.kind) {
        (_, CheckKind::Exists) => exists::check(artifact, &mut findings),
        (Artifact::Loaded(doc), CheckKind::Trace(spec)) => {
            trace::check(spec, doc, around.others, &mut findings)
        }
        (Artifact::Loaded(doc), CheckKind::Links(spec)) => {
            links::check(spec, doc, around.root, &mut findings)
        }
        (Artifact::Loaded(doc), kind) => run_kind(kind, doc, &mut findings),
        (Artifact::Missing, _) => {
            findings.report(Position::START, "the file does not exist");
        }
        (Artifact::Unreadable(why, at), _) => {
            findings.report(*at, *why);
        }
    }
    findings.finish()
}

fn run_kind(kind: &CheckKind, doc: &Document, findings: &mut Findings<'_>) {
    match kind {
        CheckKind::Exists => {}
        CheckKind::Sections(spec) => sections::check(spec, doc, findings),
        CheckKind::Table(spec) => table::check(spec, doc, findings),
        CheckKind::Checklist(spec) => checklist::check(spec, doc, findings),
        CheckKind::Pattern(spec) => pattern::check(spec, doc, findings),
        CheckKind::Placeholders(markers) => placeholders::check(markers, doc, findings),
        CheckKind::Words(spec) => words::check(spec, doc, findings),
        // Run by `run_builtin`, which has what they read besides the document.
        CheckKind::Trace(_) | CheckKind::Links(_) => {}
        CheckKind::Plugin { function, .. } => {
            findings.report(
                Position::START,
                format!("plugin `{function}` was not run: no plugin host is configured"),
            );
        }
    }
}

/// Where the text of a line ends: just after its last character that is not
/// whitespace.
fn line_end(doc: &Document, line: usize) -> Position {
    let width = doc
        .line_text(line)
        .map_or(0, |text| text.trim_end().chars().count());
    Position::new(line, width + 1)
}

/// Whether a heading or column title matches a wanted title or an alias.
pub fn title_matches(normalized: &str, wanted: &str, aliases: &[String]) -> bool {
    use crate::markdown::normalize_title;
    normalized == normalize_title(wanted)
        || aliases.iter().any(|a| normalized == normalize_title(a))
}

/// "1 row", "2 rows".
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// One line on how to fix what a check of this kind (as
/// [`CheckOutcome::kind`] names it) found; each kind keeps its own.
pub fn hint(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "exists" => exists::HINT,
        "sections" => sections::HINT,
        "table" => table::HINT,
        "checklist" => checklist::HINT,
        "pattern" => pattern::HINT,
        "placeholders" => placeholders::HINT,
        "words" => words::HINT,
        "trace" => trace::HINT,
        "links" => links::HINT,
        "plugin" => {
            "read the plugin's message: it says which rule of the plugin the document breaks"
        }
        "requires" => {
            "finish what the step requires first: the earlier phase, the documents it reads, the approvals it needs"
        }
        _ => return None,
    })
}
