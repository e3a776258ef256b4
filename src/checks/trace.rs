//! `trace: {id, under, defined_in, defined, referenced, label}`:
//! identifiers defined in one document are referenced in another, and back.
//!
//! `id` is a regular expression for what an identifier looks like
//! (`'\bFR-\d{3}\b'`). Every match in the scope of `defined_in` (an
//! `{artifact, under}`, or a list of them) is a definition; every match in
//! the check's own artifact (under `under:`, when given) is a reference.
//! With a group named `id`, that group is the identifier, and a
//! `defined_in` entry may give its own `id:` expression, so that a
//! definition written `User Story 1` and a reference written `[US1]` name
//! the same identifier. Code blocks, HTML blocks and comments never count.
//! When `defined_in` names the check's own artifact (it then needs an
//! `under:`), the lines that define are not references too.
//!
//! - `defined: referenced`: each identifier defined but never referenced is
//!   a finding at its definition, in the defining file.
//! - `referenced: defined`: each reference to an identifier that no
//!   `defined_in` defines is a finding where it stands.
//! - An identifier defined twice is a warning at the second definition.
//!
//! Each finding also names its other end: where the references were looked
//! for, or where the identifiers are defined (SARIF `relatedLocations`). A
//! defining artifact that does not exist is one finding, not one per
//! identifier. In the stateless mode (`check --step STEP FILE...`) the other
//! artifacts come from `--artifact-file NAME=PATH`; without it, the check is
//! skipped with an information that says so. A step document shows the
//! counts: `label:` names the identifiers ("23 requirements, 21 with tasks;
//! FR-007 and FR-019 have none (spec.md:41, :77)").

use std::collections::HashMap;

use regex::Regex;

use super::{Artifact, Findings, Other, Others, Read, resolve_under};
use crate::diagnostic::{Position, Related, Severity};
use crate::markdown::Document;
use crate::playbook::{Definitions, TraceSpec};

/// How to fix what this kind finds, in one line, for reports.
pub const HINT: &str = "reference each defined identifier where the check looks for it, and define each identifier referenced";

/// The most identifiers a step document names in a trace's counts.
const LISTED: usize = 5;

/// One match of an identifier: what it names, as written, and where.
struct Found<'d> {
    id: &'d str,
    shown: &'d str,
    path: &'d str,
    start: Position,
    end: Position,
}

/// A document that defines identifiers, and the part of it that counts.
struct Scope<'d> {
    doc: &'d Document,
    section: Option<usize>,
    regex: &'d Regex,
}

pub fn check(spec: &TraceSpec, doc: &Document, others: &Others<'_>, findings: &mut Findings<'_>) {
    let Some(regex) = findings.compiled(spec.compiled()) else {
        return;
    };
    let own = findings.check.artifact.clone();
    let mut others_read = Vec::new();
    for definitions in spec.defined_in.as_slice() {
        if own.as_deref() != Some(definitions.artifact.as_str()) {
            findings.read(Read::Artifact(definitions.artifact.clone()));
            others_read.push((definitions, others(&definitions.artifact)));
        }
    }
    let mut scopes = Vec::new();
    for definitions in spec.defined_in.as_slice() {
        let defining = match others_read
            .iter()
            .find(|(d, _)| std::ptr::eq(*d, definitions))
        {
            None => doc,
            Some((_, other)) => match defining_document(definitions, other.as_ref(), findings) {
                Some(defining) => defining,
                None => return,
            },
        };
        let Some(regex) = definition_regex(definitions, regex, findings) else {
            return;
        };
        let Some(section) = scope(defining, definitions, findings) else {
            return;
        };
        scopes.push(Scope {
            doc: defining,
            section,
            regex,
        });
    }
    let Ok(section) = resolve_under(doc, spec.under.as_ref(), findings) else {
        return;
    };
    let defined = definitions(&scopes, findings);
    // Definitions in the check's own document are not references too.
    let excluded: Vec<(usize, usize)> = scopes
        .iter()
        .filter(|scope| std::ptr::eq(scope.doc, doc))
        .map(|scope| lines_of(scope.doc, scope.section))
        .collect();
    let references: Vec<Found> = matches(doc, section, regex)
        .filter(|found| {
            !excluded
                .iter()
                .any(|(first, last)| (*first..=*last).contains(&found.start.line))
        })
        .collect();
    let mut referenced: HashMap<&str, usize> = HashMap::new();
    for reference in &references {
        *referenced.entry(reference.id).or_default() += 1;
    }
    let here = Related {
        path: doc.path.clone(),
        start: heading(doc, section),
        message: "where references are looked for".into(),
    };
    let unreferenced: Vec<&Found> = defined
        .iter()
        .filter(|found| !referenced.contains_key(found.id))
        .collect();
    if spec.defined.is_some() {
        for found in &unreferenced {
            let finding = findings.report_in(
                found.path,
                found.start,
                format!("\"{}\" is not referenced in {}", found.shown, doc.path),
            );
            finding.end = Some(found.end);
            finding.related = vec![here.clone()];
            finding.help = Some(format!(
                "reference {} in {}, or remove its definition",
                found.shown, doc.path
            ));
        }
    }
    let known: HashMap<&str, ()> = defined.iter().map(|f| (f.id, ())).collect();
    let dangling: Vec<&Found> = references
        .iter()
        .filter(|found| !known.contains_key(found.id))
        .collect();
    if spec.referenced.is_some() {
        let defining: Vec<&str> = scopes.iter().map(|s| s.doc.path.as_str()).collect();
        let there: Vec<Related> = scopes
            .iter()
            .map(|scope| Related {
                path: scope.doc.path.clone(),
                start: heading(scope.doc, scope.section),
                message: "where the identifiers are defined".into(),
            })
            .collect();
        for found in &dangling {
            let finding = findings.report(
                found.start,
                format!(
                    "\"{}\" is not defined in {}",
                    found.shown,
                    defining.join(" or ")
                ),
            );
            finding.end = Some(found.end);
            finding.related = there.clone();
            finding.help = Some(format!(
                "define {} in {}, or correct the reference",
                found.shown,
                defining.join(" or ")
            ));
        }
    }
    let (first, last) = lines_of(doc, section);
    findings.evidence(
        counts(spec, own.as_deref(), &defined, &unreferenced, &dangling),
        first.max(1),
        last.max(1),
    );
}

/// The document of a defining artifact, or `None` when a finding says why
/// there is none.
fn defining_document<'d>(
    definitions: &Definitions,
    other: Option<&Other<'d>>,
    findings: &mut Findings<'_>,
) -> Option<&'d Document> {
    let name = &definitions.artifact;
    match other {
        None => {
            findings
                .skip(format!(
                    "skipped: artifact \"{name}\", where the identifiers are defined, was not given"
                ))
                .help = Some(format!(
                "add --artifact-file {name}=PATH to check against it"
            ));
            None
        }
        Some(Other {
            artifact: Artifact::Loaded(doc),
            ..
        }) => Some(doc),
        Some(Other {
            path,
            artifact: Artifact::Missing,
        }) => {
            findings
                .report(
                    Position::START,
                    format!("missing artifact \"{name}\" ({path})"),
                )
                .help = Some(format!(
                "write {path} first: the identifiers this check traces are defined there"
            ));
            None
        }
        Some(Other {
            path,
            artifact: Artifact::Unreadable(why, at),
        }) => {
            findings.report_in(path, *at, *why);
            None
        }
    }
}

/// The expression definitions are found with: the entry's own, or the
/// check's.
fn definition_regex<'s>(
    definitions: &'s Definitions,
    regex: &'s Regex,
    findings: &mut Findings<'_>,
) -> Option<&'s Regex> {
    match definitions.compiled() {
        None => Some(regex),
        Some(Ok(regex)) => Some(regex),
        Some(Err(error)) => {
            findings.report(
                Position::START,
                format!(
                    "the regular expression of `defined_in` {} does not compile: {error}",
                    definitions.artifact
                ),
            );
            None
        }
    }
}

/// The section of a defining document named by `under:`; `None` when it
/// is missing, and a finding in that document says so.
fn scope(
    doc: &Document,
    definitions: &Definitions,
    findings: &mut Findings<'_>,
) -> Option<Option<usize>> {
    match resolve_under(doc, definitions.under.as_ref(), findings) {
        Ok(section) => Some(section),
        Err(_) => {
            if let Some(finding) = findings.findings.last_mut() {
                finding.path = doc.path.clone();
            }
            None
        }
    }
}

/// Every definition, in order, each identifier once; a second definition
/// is a warning.
fn definitions<'d>(scopes: &[Scope<'d>], findings: &mut Findings<'_>) -> Vec<Found<'d>> {
    let mut defined: Vec<Found<'d>> = Vec::new();
    let mut index: HashMap<&'d str, usize> = HashMap::new();
    for scope in scopes {
        for found in matches(scope.doc, scope.section, scope.regex) {
            match index.get(found.id) {
                Some(&first) => {
                    let first = &defined[first];
                    let related = Related {
                        path: first.path.to_string(),
                        start: first.start,
                        message: "the first definition".into(),
                    };
                    let finding = findings.report_in(
                        found.path,
                        found.start,
                        format!(
                            "\"{}\" is defined again (first at {}:{})",
                            found.shown, first.path, first.start.line
                        ),
                    );
                    finding.severity = Severity::Warning;
                    finding.end = Some(found.end);
                    finding.related = vec![related];
                }
                None => {
                    index.insert(found.id, defined.len());
                    defined.push(found);
                }
            }
        }
    }
    defined
}

/// Every match of `regex` in the prose of a section (or the document).
fn matches<'d>(
    doc: &'d Document,
    section: Option<usize>,
    regex: &'d Regex,
) -> impl Iterator<Item = Found<'d>> {
    let named = regex.capture_names().any(|name| name == Some("id"));
    doc.prose_lines(section).flat_map(move |line| {
        let text: &'d str = line.text;
        let found: Vec<Found<'d>> = if named {
            regex
                .captures_iter(text)
                .filter_map(|captures| {
                    let whole = captures.get(0)?;
                    let id = captures.name("id").map_or(whole.as_str(), |m| m.as_str());
                    found(doc, line.number, text, whole, id)
                })
                .collect()
        } else {
            regex
                .find_iter(text)
                .filter_map(|whole| found(doc, line.number, text, whole, whole.as_str()))
                .collect()
        };
        found
    })
}

fn found<'d>(
    doc: &'d Document,
    line: usize,
    text: &'d str,
    whole: regex::Match<'d>,
    id: &'d str,
) -> Option<Found<'d>> {
    // An expression that matches nothing at all would define everything.
    if whole.is_empty() || id.is_empty() {
        return None;
    }
    let column = text[..whole.start()].chars().count() + 1;
    Some(Found {
        id,
        shown: whole.as_str(),
        path: &doc.path,
        start: Position::new(line, column),
        end: Position::new(line, column + whole.as_str().chars().count()),
    })
}

/// The heading of a section, or the start of the document.
fn heading(doc: &Document, section: Option<usize>) -> Position {
    section
        .and_then(|index| doc.sections.get(index))
        .map_or(Position::START, |section| section.position)
}

/// The first and last line of a section (heading included), or of the
/// document.
fn lines_of(doc: &Document, section: Option<usize>) -> (usize, usize) {
    match section.and_then(|index| doc.sections.get(index)) {
        Some(section) => (section.position.line, section.end_line),
        None => (1, doc.line_count()),
    }
}

/// "23 requirements, 21 with tasks; FR-007 and FR-019 have none (spec.md:41,
/// :77)", and the dangling references after.
fn counts(
    spec: &TraceSpec,
    own: Option<&str>,
    defined: &[Found<'_>],
    unreferenced: &[&Found<'_>],
    dangling: &[&Found<'_>],
) -> String {
    let label = spec.label.as_deref().unwrap_or("ids");
    let mut text = format!(
        "{} {label}, {} with {}",
        defined.len(),
        defined.len() - unreferenced.len(),
        own.unwrap_or("references")
    );
    if !unreferenced.is_empty() {
        let verb = if unreferenced.len() == 1 {
            "has"
        } else {
            "have"
        };
        text.push_str(&format!(
            "; {} {verb} none ({})",
            names(unreferenced),
            places(unreferenced)
        ));
    }
    if !dangling.is_empty() {
        let verb = if dangling.len() == 1 { "is" } else { "are" };
        text.push_str(&format!(
            "; {} {verb} not defined ({})",
            names(dangling),
            places(dangling)
        ));
    }
    text
}

/// "FR-007", "FR-007 and FR-019", "FR-001, FR-002 and FR-003", with "and N
/// more" past [`LISTED`].
fn names(found: &[&Found<'_>]) -> String {
    let shown: Vec<&str> = found.iter().take(LISTED).map(|f| f.shown).collect();
    let more = found.len().saturating_sub(LISTED);
    match (shown.split_last(), more) {
        (Some((last, [])), 0) => (*last).to_string(),
        (Some((last, rest)), 0) => format!("{} and {last}", rest.join(", ")),
        (_, more) => format!("{} and {more} more", shown.join(", ")),
    }
}

/// "spec.md:41, :77": each place's line, its path only when it changes.
fn places(found: &[&Found<'_>]) -> String {
    let mut previous = None;
    let listed: Vec<String> = found
        .iter()
        .take(LISTED)
        .map(|f| {
            let place = if previous == Some(f.path) {
                format!(":{}", f.start.line)
            } else {
                format!("{}:{}", f.path, f.start.line)
            };
            previous = Some(f.path);
            place
        })
        .collect();
    listed.join(", ")
}
