//! Skeletons from the gate: the starting document of a step's artifact,
//! derived from the checks that will judge it, so that it passes every
//! structural check by construction and fails only on content.
//!
//! A skeleton holds a title; a comment with the step's guidance (its
//! objective, what a reviewer is shown, and the commands that render the
//! step's instructions and check the document); every heading a `sections`
//! check requires, with its canonical title at its level (2 when the check
//! gives none), in the listed order; every heading that an `under:` names
//! and no `sections` check lists; under each, the header of each table a
//! `table` check requires (and as many empty rows as it asks for), and the
//! items a `checklist` check requires, unticked. Tables and checklists
//! without `under:` go before the first heading. `pattern`, `placeholders`,
//! `words` and plugin checks judge what is written, so they add nothing.
//!
//! Writing never replaces a file and never follows a symlink: see
//! [`crate::confined`].

use std::path::Path;

use crate::checks::title_matches;
use crate::confined::{self, Created};
use crate::markdown::normalize_title;
use crate::playbook::{Check, CheckKind, Playbook, Step};
use crate::project::{Project, ProjectError};
use crate::state::SubjectRecord;

/// Why a skeleton could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error("cannot create {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// One artifact of the step, and whether its skeleton was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scaffolded {
    pub artifact: String,
    /// Relative to the project root.
    pub path: String,
    pub created: Created,
}

/// Who the skeleton is for, for its title and guidance.
#[derive(Debug, Clone, Copy)]
pub struct For<'a> {
    pub id: &'a str,
    pub title: &'a str,
}

/// A heading of the skeleton and what goes under it.
struct Heading {
    title: String,
    aliases: Vec<String>,
    level: u8,
    tables: Vec<TableShape>,
    items: Vec<String>,
}

struct TableShape {
    columns: Vec<String>,
    rows: usize,
}

impl Heading {
    fn new(title: &str, aliases: &[String], level: u8) -> Self {
        Heading {
            title: title.to_string(),
            aliases: aliases.to_vec(),
            level,
            tables: Vec::new(),
            items: Vec::new(),
        }
    }

    fn matches(&self, title: &str) -> bool {
        title_matches(&normalize_title(title), &self.title, &self.aliases)
    }

    fn add_table(&mut self, columns: &[String], rows: usize) {
        let key = |columns: &[String]| -> Vec<String> {
            columns.iter().map(|c| normalize_title(c)).collect()
        };
        let wanted = key(columns);
        // One table serves two checks when one's columns hold the other's.
        for table in &mut self.tables {
            let have = key(&table.columns);
            if wanted.iter().all(|c| have.contains(c)) {
                table.rows = table.rows.max(rows);
                return;
            }
            if have.iter().all(|c| wanted.contains(c)) {
                table.columns = columns.to_vec();
                table.rows = table.rows.max(rows);
                return;
            }
        }
        self.tables.push(TableShape {
            columns: columns.to_vec(),
            rows,
        });
    }

    fn add_items(&mut self, items: &[String]) {
        for item in items {
            let wanted = normalize_title(item);
            if !self.items.iter().any(|i| normalize_title(i) == wanted) {
                self.items.push(item.clone());
            }
        }
    }

    fn write(&self, out: &mut String) {
        if self.level > 0 {
            out.push_str(&format!(
                "{} {}\n\n",
                "#".repeat(self.level.into()),
                self.title
            ));
        }
        for table in &self.tables {
            let cells = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
            out.push_str(&cells(table.columns.iter().map(|c| cell(c)).collect()));
            out.push_str(&cells(table.columns.iter().map(|_| "---".into()).collect()));
            for _ in 0..table.rows {
                out.push_str(&cells(table.columns.iter().map(|_| " ".into()).collect()));
            }
            out.push('\n');
        }
        for item in &self.items {
            out.push_str(&format!("- [ ] {item}\n"));
        }
        if !self.items.is_empty() {
            out.push('\n');
        }
    }
}

/// A table cell's text: a `|` in it would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The skeleton of `artifact` for `step` (at `step_index` in `playbook`),
/// for a subject.
pub fn skeleton(
    playbook: &Playbook,
    step_index: usize,
    artifact: &str,
    subject: For<'_>,
) -> String {
    let Some(step) = playbook.steps.get(step_index) else {
        return String::new();
    };
    let checks: Vec<&Check> = playbook
        .step_checks(step_index)
        .into_iter()
        .map(|(_, check)| check)
        .filter(|check| check.artifact.as_deref() == Some(artifact))
        .collect();
    // Index 0 holds what has no `under:`, before any heading.
    let mut headings = vec![Heading::new("", &[], 0)];
    for check in &checks {
        if let CheckKind::Sections(spec) = &check.kind {
            for entry in &spec.sections {
                if !headings[1..].iter().any(|h| h.matches(&entry.title)) {
                    headings.push(Heading::new(
                        &entry.title,
                        &entry.aliases,
                        entry.level.unwrap_or(2),
                    ));
                }
            }
        }
    }
    for check in &checks {
        let index = match check.kind.under() {
            None => 0,
            Some(under) => {
                let named = |h: &Heading| {
                    h.matches(&under.title) || under.aliases.iter().any(|alias| h.matches(alias))
                };
                match headings[1..].iter().position(named) {
                    Some(found) => found + 1,
                    None => {
                        headings.push(Heading::new(&under.title, &under.aliases, 2));
                        headings.len() - 1
                    }
                }
            }
        };
        match &check.kind {
            CheckKind::Table(spec) => headings[index].add_table(&spec.columns, spec.min_rows),
            CheckKind::Checklist(spec) => headings[index].add_items(&spec.items),
            _ => {}
        }
    }
    let mut out = format!(
        "# {}: {}{}\n\n",
        capitalized(artifact),
        subject.id,
        if subject.title.is_empty() {
            String::new()
        } else {
            format!(" — {}", subject.title)
        }
    );
    out.push_str(&guidance(step, subject));
    for heading in &headings {
        heading.write(&mut out);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// The step's guidance, as an HTML comment that no check reads.
fn guidance(step: &Step, subject: For<'_>) -> String {
    let mut lines = vec![format!(
        "A skeleton written by tollgate for step `{}`{}: each heading, table and box is one its checks require. Write the content; keep the headings.",
        step.id,
        step.title
            .as_deref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default()
    )];
    if let Some(objective) = &step.objective {
        lines.push(format!("Objective: {}", objective.trim()));
    }
    if !step.review.is_empty() {
        lines.push(format!("A reviewer is shown: {}.", step.review.join("; ")));
    }
    lines.push(format!(
        "The step's instructions: `tollgate show {} --subject {}`. Check: `tollgate check {}`.",
        step.id, subject.id, subject.id
    ));
    // Only `-->` ends the comment early.
    let body = lines.join("\n").replace("-->", "→");
    format!("<!--\n{body}\n-->\n\n")
}

fn capitalized(name: &str) -> String {
    let words = name.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The artifacts `step` checks, in the order its checks first read them.
pub fn step_artifacts(playbook: &Playbook, step_index: usize) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, check) in playbook.step_checks(step_index) {
        if let Some(name) = &check.artifact
            && !names.contains(name)
        {
            names.push(name.clone());
        }
    }
    names
}

/// Writes the skeleton of each artifact of `step` that does not exist yet
/// for `record`; an existing file (or anything else at its path) is left
/// alone and reported as such. An artifact that names a pattern has no one
/// file to write and is passed over.
pub fn scaffold(
    project: &Project<'_>,
    record: &SubjectRecord,
    step: &Step,
) -> Result<Vec<Scaffolded>, ScaffoldError> {
    let playbook = &project.loaded.playbook;
    let index = playbook
        .steps
        .iter()
        .position(|s| s.id == step.id)
        .unwrap_or(0);
    let paths = project.artifact_paths(record)?;
    let subject = For {
        id: &record.id,
        title: &record.title,
    };
    let mut written = Vec::new();
    for artifact in step_artifacts(playbook, index) {
        // A pattern names files the team adds one by one: no name to write.
        let Some(path) = paths
            .get(&artifact)
            .filter(|path| !crate::glob::is_glob(path))
        else {
            continue;
        };
        let text = skeleton(playbook, index, &artifact, subject);
        let created = confined::create_if_absent(&project.root, Path::new(path), text.as_bytes())
            .map_err(|source| ScaffoldError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(Scaffolded {
            artifact,
            path: path.clone(),
            created,
        });
    }
    Ok(written)
}
