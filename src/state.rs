//! Subjects, approvals and history on disk, under the playbook's
//! `state_dir`: one pretty-printed JSON file per subject and an append-only
//! JSON Lines history, plain text that diffs and merges well in git.
//!
//! Every change takes an exclusive lock on `state_dir/.lock`, reads the
//! current file, and replaces it atomically (write a temporary file beside
//! it, sync, rename), so concurrent processes lose no update and a process
//! killed at any moment leaves the old or the new file, never half of one.
//! A change writes the subject, then appends its history line; if the
//! append fails, the subject is put back as it was, so the two agree.
//! A file that does not parse is an error naming it and the position, and is
//! never rewritten.
//!
//! The history is a hash chain: each line's `prev` is the SHA-256 (hex) of
//! the line before it, as the file holds it without its newline (for the
//! first line, of nothing), so an edited, removed or reordered line breaks
//! the chain at the line after it ([`Store::scan_history`]). A history
//! written before lines were chained is chained on the next write.
//!
//! The state folder is part of the repository, so it is untrusted: every
//! path goes through [`crate::confined`], which keeps it inside the project
//! root and never writes through a symbolic link.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::confined;
use crate::diagnostic::Position;
use crate::source::{self, SourceError};

pub use crate::confined::FAULT_ENV;

/// Far more than any subject or history needs; a larger file is not ours.
pub const MAX_STATE_BYTES: usize = 64 * 1024 * 1024;

/// Where a subject stands, as its file records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectRecord {
    pub id: String,
    pub title: String,
    pub slug: String,
    pub phase: String,
    pub created_at: String,
    #[serde(default)]
    pub approvals: Vec<Approval>,
    /// Changes requested at human gates (`tollgate reject`), pinned like
    /// approvals: each holds its gate shut while what it pinned is unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejections: Vec<Approval>,
}

/// A person's review of a human gate (an approval, or changes requested),
/// pinned to what they reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub step: String,
    pub by: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Each artifact the step checks: its path and SHA-256 when approved.
    pub artifacts: IndexMap<String, PinnedArtifact>,
    /// Every other file the step's checks read (a plugin's `ctx:read`),
    /// relative to the root: its SHA-256 when approved, or `null` when it
    /// did not exist.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub files: IndexMap<String, Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedArtifact {
    pub path: String,
    /// Hex SHA-256 of the file, or `null` when it did not exist.
    pub sha256: Option<String>,
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// The SHA-256 of the line before (see the module's documentation);
    /// set when the line is appended, absent from a history not yet chained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    pub at: String,
    pub actor: String,
    pub subject: String,
    pub event: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Advanced,
    Approved,
    Rejected,
}

/// The history read line by line, as `verify` judges it.
#[derive(Debug, Default)]
pub struct HistoryScan {
    /// Each line that parses, with its line number (from 1).
    pub events: Vec<(usize, HistoryEvent)>,
    /// Where the chain breaks: the line and why.
    pub breaks: Vec<(usize, String)>,
    /// The number of a last line without its newline: an append that a
    /// killed process left unfinished, which the next write removes.
    pub torn: Option<usize>,
    /// Whether the lines carry links at all (a history written before
    /// lines were chained does not, until its next write).
    pub chained: bool,
    /// The file's text, for code frames.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path}:{position}: the state file does not parse: {message}")]
    Corrupt {
        path: String,
        position: Position,
        message: String,
    },
    #[error("{path}:{position}: the state file is for `{found}`, not `{expected}`")]
    WrongSubject {
        path: String,
        position: Position,
        found: String,
        expected: String,
    },
    #[error("{path}: {error}; nothing was recorded: the subject is as it was")]
    NotRecorded { path: String, error: std::io::Error },
    #[error("`{0}` is already registered")]
    Exists(String),
    #[error("no subject `{0}` is registered")]
    NotFound(String),
    #[error("`{0}` cannot name a subject: use letters, digits, `.`, `_` and `-`")]
    BadId(String),
}

/// The state folder of one project and playbook.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    /// The folder, relative to the root.
    dir: PathBuf,
    /// The folder as messages show it.
    display: String,
}

impl Store {
    pub fn new(root: &Path, state_dir: &str) -> Self {
        Self {
            root: root.to_path_buf(),
            dir: PathBuf::from(state_dir),
            display: state_dir.trim_end_matches('/').to_string(),
        }
    }

    /// A subject's file: its path relative to the root, and as messages
    /// name it.
    pub fn subject_file(&self, id: &str) -> (PathBuf, String) {
        let name = format!("subjects/{id}.json");
        (self.dir.join(&name), format!("{}/{name}", self.display))
    }

    /// The subject's record, or `None` when it is not registered.
    pub fn load(&self, id: &str) -> Result<Option<SubjectRecord>, StateError> {
        check_id(id)?;
        let (file, display) = self.subject_file(id);
        let text = match confined::read_text(&self.root, &file, MAX_STATE_BYTES) {
            Ok(text) => text,
            Err(SourceError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(None);
            }
            Err(error) => return Err(unreadable(&display, error)),
        };
        let record: SubjectRecord = parse(&text, &display)?;
        if record.id != id {
            // The record's `"id"` is the only key named so whose value is
            // a string (an artifact named `id` holds an object).
            let key = regex::Regex::new(r#""id"\s*:\s*""#).expect("a valid regex");
            return Err(StateError::WrongSubject {
                path: display,
                position: key.find(&text).map_or(Position::START, |found| {
                    source::position_at(&text, found.end() - 1)
                }),
                found: record.id,
                expected: id.to_string(),
            });
        }
        Ok(Some(record))
    }

    /// The text of a subject's file as it is on disk, for code frames;
    /// `None` when it cannot be read.
    pub fn subject_text(&self, id: &str) -> Option<String> {
        let (file, _) = self.subject_file(id);
        confined::read_text(&self.root, &file, MAX_STATE_BYTES).ok()
    }

    /// Every registered subject, ordered by id; fails at the first file
    /// that cannot be used.
    pub fn list(&self) -> Result<Vec<SubjectRecord>, StateError> {
        self.subjects()?.into_iter().collect()
    }

    /// Every registered subject, ordered by id, each loaded on its own: a
    /// file that cannot be used is its error, and the others still load.
    pub fn subjects(&self) -> Result<Vec<Result<SubjectRecord, StateError>>, StateError> {
        let shown = format!("{}/subjects", self.display);
        let folder = match confined::resolve(&self.root, &self.dir.join("subjects")) {
            Ok(folder) => folder,
            Err(error) => return Err(io(&shown, error)),
        };
        let entries = match fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io(&shown, error)),
        };
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                name.strip_suffix(".json").map(str::to_string)
            })
            .filter(|id| check_id(id).is_ok())
            .collect();
        ids.sort();
        Ok(ids
            .iter()
            .filter_map(|id| self.load(id).transpose())
            .collect())
    }

    /// Registers a new subject; fails if the id is taken.
    pub fn create(&self, record: &SubjectRecord, actor: &str) -> Result<(), StateError> {
        check_id(&record.id)?;
        let _lock = self.lock()?;
        if self.load(&record.id)?.is_some() {
            return Err(StateError::Exists(record.id.clone()));
        }
        self.record(
            None,
            record,
            &HistoryEvent {
                prev: None,
                at: record.created_at.clone(),
                actor: actor.to_string(),
                subject: record.id.clone(),
                event: EventKind::Created,
                step: None,
                from: None,
                to: Some(record.phase.clone()),
                note: None,
            },
        )
    }

    /// Writes `record`, then appends `event` to the history; when the
    /// append fails, the subject is put back as `previous` (or removed when
    /// it is new), so that neither is recorded.
    fn record(
        &self,
        previous: Option<&SubjectRecord>,
        record: &SubjectRecord,
        event: &HistoryEvent,
    ) -> Result<(), StateError> {
        self.write(record)?;
        let Err(error) = self.append(event) else {
            return Ok(());
        };
        match previous {
            Some(previous) => self.write(previous)?,
            None => {
                let (file, display) = self.subject_file(&record.id);
                fs::remove_file(self.root.join(file)).map_err(|e| io(&display, e))?;
            }
        }
        Err(match error {
            StateError::Io { path, error } => StateError::NotRecorded { path, error },
            error => error,
        })
    }

    /// Reads, changes and writes a subject under the lock. `change` returns
    /// the history event to record, or `None` to leave everything as it was.
    pub fn update<E: From<StateError>>(
        &self,
        id: &str,
        change: impl FnOnce(&mut SubjectRecord) -> Result<Option<HistoryEvent>, E>,
    ) -> Result<SubjectRecord, E> {
        let _lock = self.lock()?;
        let previous = self
            .load(id)?
            .ok_or_else(|| StateError::NotFound(id.to_string()))?;
        let mut record = previous.clone();
        if let Some(event) = change(&mut record)? {
            self.record(Some(&previous), &record, &event)?;
        }
        Ok(record)
    }

    /// The history, oldest first.
    pub fn history(&self) -> Result<Vec<HistoryEvent>, StateError> {
        let display = format!("{}/history.jsonl", self.display);
        let file = self.dir.join("history.jsonl");
        let text = match confined::read_text(&self.root, &file, MAX_STATE_BYTES) {
            Ok(text) => text,
            Err(SourceError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Vec::new());
            }
            Err(error) => return Err(unreadable(&display, error)),
        };
        // A last line without its newline is an append a killed process
        // left unfinished: it never happened, and the next append removes it.
        let complete = match text.rfind('\n') {
            Some(end) => &text[..=end],
            None => "",
        };
        // A stream of values, so that an error's line is the file's.
        serde_json::Deserializer::from_str(complete)
            .into_iter()
            .map(|event| event.map_err(|error| corrupt(&text, &display, &error)))
            .collect()
    }

    /// The history line by line, with every break in its chain; a line that
    /// does not parse is a break, not an error.
    pub fn scan_history(&self) -> Result<(String, HistoryScan), StateError> {
        let display = format!("{}/history.jsonl", self.display);
        let file = self.dir.join("history.jsonl");
        let text = match confined::read_text(&self.root, &file, MAX_STATE_BYTES) {
            Ok(text) => text,
            Err(SourceError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok((display, HistoryScan::default()));
            }
            Err(error) => return Err(unreadable(&display, error)),
        };
        let mut scan = HistoryScan::default();
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut previous = "";
        for (index, line) in lines.iter().enumerate() {
            let number = index + 1;
            let Some(line) = line.strip_suffix('\n') else {
                scan.torn = Some(number);
                break;
            };
            match serde_json::from_str::<HistoryEvent>(line) {
                Ok(event) => {
                    match &event.prev {
                        Some(prev) => {
                            scan.chained = true;
                            if *prev != link(previous) {
                                scan.breaks.push((
                                    number,
                                    format!("line {number} does not follow the line before it: a line before it was edited, removed or moved"),
                                ));
                            }
                        }
                        None if index > 0 && scan.chained => scan.breaks.push((
                            number,
                            format!("line {number} carries no link to the line before it"),
                        )),
                        None => {}
                    }
                    scan.events.push((number, event));
                }
                Err(error) => scan.breaks.push((
                    number,
                    format!(
                        "line {number} does not parse: {}",
                        strip_position(&error.to_string())
                    ),
                )),
            }
            previous = line;
        }
        if scan.chained
            && let Some((number, _)) = scan.events.iter().find(|(_, e)| e.prev.is_none())
            && !scan.breaks.iter().any(|(n, _)| n == number)
        {
            scan.breaks.push((
                *number,
                format!("line {number} carries no link to the line before it"),
            ));
        }
        scan.breaks.sort();
        scan.text = text.clone();
        Ok((display, scan))
    }

    /// Takes the lock, making the folders (never through a symbolic link),
    /// and removes the temporary files a killed writer left.
    fn lock(&self) -> Result<File, StateError> {
        let subjects = self.dir.join("subjects");
        confined::create_dir_all(&self.root, &subjects).map_err(|e| io(&self.display, e))?;
        let display = format!("{}/.lock", self.display);
        let file = confined::open_lock(&self.root, &self.dir.join(".lock"))
            .map_err(|e| io(&display, e))?;
        file.lock().map_err(|e| io(&display, e))?;
        confined::remove_stale_temporaries(&self.root, &subjects)
            .map_err(|e| io(&format!("{}/subjects", self.display), e))?;
        Ok(file)
    }

    fn write(&self, record: &SubjectRecord) -> Result<(), StateError> {
        let (file, display) = self.subject_file(&record.id);
        let mut text = serde_json::to_string_pretty(record).expect("a record serialises");
        text.push('\n');
        confined::write_atomic(&self.root, &file, text.as_bytes()).map_err(|e| io(&display, e))
    }

    /// Appends one line to the history, linked to the line before it,
    /// first removing a last line a killed writer left without its newline
    /// (and chaining a history written before lines were); a line that
    /// cannot be written whole is taken back.
    fn append(&self, event: &HistoryEvent) -> Result<(), StateError> {
        let display = format!("{}/history.jsonl", self.display);
        let relative = self.dir.join("history.jsonl");
        let open = || {
            let mut file =
                confined::open_append(&self.root, &relative).map_err(|e| io(&display, e))?;
            let before = complete_length(&mut file).map_err(|e| io(&display, e))?;
            let last = last_line(&mut file, before).map_err(|e| io(&display, e))?;
            Ok::<_, StateError>((file, before, last))
        };
        let (mut file, mut before, mut last) = open()?;
        let unchained = !last.is_empty()
            && serde_json::from_slice::<HistoryEvent>(&last).is_ok_and(|e| e.prev.is_none());
        if unchained {
            drop(file);
            self.chain_history(&relative, &display)?;
            (file, before, last) = open()?;
        }
        let mut event = event.clone();
        event.prev = Some(link(&String::from_utf8_lossy(&last)));
        let mut line = serde_json::to_string(&event).expect("an event serialises");
        line.push('\n');
        // One write of a whole line: appends under the lock never interleave.
        let written = file
            .set_len(before)
            .and_then(|()| file.write_all(line.as_bytes()))
            .and_then(|()| file.sync_data());
        if let Err(error) = written {
            // Best effort: a torn line left here is dropped by the next append.
            let _ = file.set_len(before);
            return Err(io(&display, error));
        }
        Ok(())
    }

    /// Rewrites a history written before lines were chained with each
    /// line linked to the one before; a torn last line is left out. A
    /// history where some line is already linked is left as it is: chaining
    /// it anew would hide an edit that took a link away.
    fn chain_history(&self, relative: &Path, display: &str) -> Result<(), StateError> {
        let text = confined::read_text(&self.root, relative, MAX_STATE_BYTES)
            .map_err(|error| unreadable(display, error))?;
        let linked = text.lines().any(|line| {
            serde_json::from_str::<HistoryEvent>(line).is_ok_and(|event| event.prev.is_some())
        });
        if linked {
            return Ok(());
        }
        let mut chained = String::with_capacity(text.len() * 2);
        let mut previous = String::new();
        for line in text
            .split_inclusive('\n')
            .filter_map(|l| l.strip_suffix('\n'))
        {
            let mut event: HistoryEvent = parse(line, display)?;
            event.prev = Some(link(&previous));
            previous = serde_json::to_string(&event).expect("an event serialises");
            chained.push_str(&previous);
            chained.push('\n');
        }
        confined::write_atomic(&self.root, relative, chained.as_bytes()).map_err(|e| io(display, e))
    }
}

/// The link a history line carries to the line before it: the SHA-256 of
/// that line (without its newline) in hex.
pub fn link(previous: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::project::hex(&Sha256::digest(previous.as_bytes()))
}

/// The last whole line of a file whose whole lines end at `end`, without
/// its newline; empty when there is none.
fn last_line(file: &mut File, end: u64) -> std::io::Result<Vec<u8>> {
    const CHUNK: u64 = 4096;
    // The line runs from just after the newline before `end - 1` to it.
    let Some(stop) = end.checked_sub(1) else {
        return Ok(Vec::new());
    };
    let mut line = Vec::new();
    let mut start = stop;
    while start > 0 {
        let from = start.saturating_sub(CHUNK);
        file.seek(SeekFrom::Start(from))?;
        let mut chunk = Vec::new();
        (&mut *file).take(start - from).read_to_end(&mut chunk)?;
        let newline = chunk.iter().rposition(|&b| b == b'\n');
        if let Some(at) = newline {
            chunk.drain(..=at);
        }
        chunk.extend_from_slice(&line);
        line = chunk;
        if newline.is_some() {
            break;
        }
        start = from;
    }
    Ok(line)
}

/// The length of a file up to and including its last newline: the part
/// that holds whole lines.
fn complete_length(file: &mut File) -> std::io::Result<u64> {
    const CHUNK: u64 = 4096;
    let mut end = file.metadata()?.len();
    let mut buffer = Vec::new();
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        file.seek(SeekFrom::Start(start))?;
        buffer.clear();
        (&mut *file).take(end - start).read_to_end(&mut buffer)?;
        if let Some(at) = buffer.iter().rposition(|&b| b == b'\n') {
            return Ok(start + at as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str, display: &str) -> Result<T, StateError> {
    serde_json::from_str(text).map_err(|error| corrupt(text, display, &error))
}

fn corrupt(text: &str, display: &str, error: &serde_json::Error) -> StateError {
    // serde_json counts columns in bytes from 1 (0 at the very start);
    // positions count characters, as an editor does.
    let line_start: usize = text
        .split_inclusive('\n')
        .take(error.line().saturating_sub(1))
        .map(str::len)
        .sum();
    StateError::Corrupt {
        path: display.to_string(),
        position: source::position_at(text, line_start + error.column().saturating_sub(1)),
        message: strip_position(&error.to_string()),
    }
}

/// serde_json ends its messages with " at line L column C"; the position is
/// carried separately.
fn strip_position(message: &str) -> String {
    message
        .rsplit_once(" at line ")
        .map_or(message, |(words, _)| words)
        .to_string()
}

/// A state file that cannot be read as text: not UTF-8 is corrupt, at the
/// first bad byte.
fn unreadable(path: &str, error: SourceError) -> StateError {
    match error {
        SourceError::Io(error) => io(path, error),
        SourceError::NotUtf8 { position } => StateError::Corrupt {
            path: path.to_string(),
            position,
            message: "the file is not valid UTF-8".into(),
        },
        SourceError::TooLarge { .. } | SourceError::NotRegular => {
            io(path, std::io::Error::other(error.to_string()))
        }
    }
}

fn io(path: &str, error: std::io::Error) -> StateError {
    StateError::Io {
        path: path.to_string(),
        error,
    }
}

/// Subject ids become file names, so they are kept to a safe alphabet.
fn check_id(id: &str) -> Result<(), StateError> {
    let safe = !id.is_empty()
        && id.len() <= 100
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if safe {
        Ok(())
    } else {
        Err(StateError::BadId(id.to_string()))
    }
}

/// The id and the title lower-cased, every run of characters other than
/// a-z and 0-9 turned into one `-`, with no `-` at either end:
/// `F-11` + `Vector Collector Service` gives `f-11-vector-collector-service`.
pub fn slug(id: &str, title: &str) -> String {
    let mut slug = String::with_capacity(id.len() + title.len() + 1);
    for c in id.chars().chain([' ']).chain(title.chars()) {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> SubjectRecord {
        SubjectRecord {
            id: id.into(),
            title: "Vector Collector Service".into(),
            slug: slug(id, "Vector Collector Service"),
            phase: "none".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            approvals: Vec::new(),
            rejections: Vec::new(),
        }
    }

    #[test]
    fn slugs_follow_the_format() {
        assert_eq!(
            slug("F-11", "Vector Collector Service"),
            "f-11-vector-collector-service"
        );
        assert_eq!(
            slug("F-3", "  Concurrent   Write: Handling! "),
            "f-3-concurrent-write-handling"
        );
        assert_eq!(slug("F-1", "Café déjà"), "f-1-caf-d-j");
    }

    #[test]
    fn creates_updates_and_records_history() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path(), ".maestro");
        store.create(&record("F-11"), "ana").unwrap();
        assert!(matches!(
            store.create(&record("F-11"), "ana"),
            Err(StateError::Exists(_))
        ));
        let updated = store
            .update::<StateError>("F-11", |r| {
                r.phase = "specify".into();
                Ok(Some(HistoryEvent {
                    prev: None,
                    at: "t".into(),
                    actor: "ana".into(),
                    subject: r.id.clone(),
                    event: EventKind::Advanced,
                    step: Some("specify".into()),
                    from: Some("none".into()),
                    to: Some("specify".into()),
                    note: None,
                }))
            })
            .unwrap();
        assert_eq!(updated.phase, "specify");
        assert_eq!(store.load("F-11").unwrap().unwrap().phase, "specify");
        let kinds: Vec<EventKind> = store.history().unwrap().iter().map(|e| e.event).collect();
        assert_eq!(kinds, [EventKind::Created, EventKind::Advanced]);
    }

    #[test]
    fn corrupt_files_are_reported_with_position_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path(), ".maestro");
        fs::create_dir_all(dir.path().join(".maestro/subjects")).unwrap();
        let file = dir.path().join(".maestro/subjects/F-1.json");
        fs::write(&file, "{\n  \"id\": \"F-1\",\n  oops\n}").unwrap();
        let error = store.load("F-1").unwrap_err();
        assert!(
            matches!(&error, StateError::Corrupt { position, .. } if position.line == 3),
            "{error}"
        );
        let result = store.update::<StateError>("F-1", |_| Ok(None));
        assert!(result.is_err());
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            "{\n  \"id\": \"F-1\",\n  oops\n}"
        );
    }

    #[test]
    fn ids_that_are_not_file_names_are_refused() {
        let store = Store::new(Path::new("."), ".maestro");
        for id in ["../x", "a/b", "", ".hidden", "a b"] {
            assert!(matches!(store.load(id), Err(StateError::BadId(_))), "{id}");
        }
    }
}
