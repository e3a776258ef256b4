//! Subjects, approvals and history on disk, under the playbook's
//! `state_dir`: one pretty-printed JSON file per subject and an append-only
//! JSON Lines history, plain text that diffs and merges well in git.
//!
//! Every change takes an exclusive lock on `state_dir/.lock`, reads the
//! current file, and replaces it atomically (write a temporary file beside
//! it, sync, rename), so concurrent processes lose no update and a process
//! killed at any moment leaves the old or the new file, never half of one.
//! A file that does not parse is an error naming it and the position, and is
//! never rewritten.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::diagnostic::Position;
use crate::source::{self, SourceError};

/// Set to `die-mid-write` to make the next atomic write stop the process
/// halfway through its temporary file: the seam crash-safety tests use.
pub const FAULT_ENV: &str = "TOLLGATE_FAULT";

/// Far more than any subject or history needs; a larger file is not ours.
const MAX_STATE_BYTES: usize = 64 * 1024 * 1024;

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
}

/// A person's approval of a human gate, pinned to what they approved.
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
    dir: PathBuf,
    /// The folder as messages show it.
    display: String,
}

impl Store {
    pub fn new(root: &Path, state_dir: &str) -> Self {
        Self {
            dir: root.join(state_dir),
            display: state_dir.trim_end_matches('/').to_string(),
        }
    }

    /// A subject's file: its path, and as messages name it (relative to
    /// the project root).
    pub fn subject_file(&self, id: &str) -> (PathBuf, String) {
        let name = format!("subjects/{id}.json");
        (self.dir.join(&name), format!("{}/{name}", self.display))
    }

    /// The subject's record, or `None` when it is not registered.
    pub fn load(&self, id: &str) -> Result<Option<SubjectRecord>, StateError> {
        check_id(id)?;
        let (file, display) = self.subject_file(id);
        let text = match source::read_text(&file, MAX_STATE_BYTES) {
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

    /// Every registered subject, ordered by id.
    pub fn list(&self) -> Result<Vec<SubjectRecord>, StateError> {
        let folder = self.dir.join("subjects");
        let entries = match fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io(&format!("{}/subjects", self.display), error)),
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
        ids.iter()
            .filter_map(|id| self.load(id).transpose())
            .collect()
    }

    /// Registers a new subject; fails if the id is taken.
    pub fn create(&self, record: &SubjectRecord, actor: &str) -> Result<(), StateError> {
        check_id(&record.id)?;
        let _lock = self.lock()?;
        if self.load(&record.id)?.is_some() {
            return Err(StateError::Exists(record.id.clone()));
        }
        self.write(record)?;
        self.append(&HistoryEvent {
            at: record.created_at.clone(),
            actor: actor.to_string(),
            subject: record.id.clone(),
            event: EventKind::Created,
            step: None,
            from: None,
            to: Some(record.phase.clone()),
            note: None,
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
        let mut record = self
            .load(id)?
            .ok_or_else(|| StateError::NotFound(id.to_string()))?;
        if let Some(event) = change(&mut record)? {
            self.write(&record)?;
            self.append(&event)?;
        }
        Ok(record)
    }

    /// The history, oldest first.
    pub fn history(&self) -> Result<Vec<HistoryEvent>, StateError> {
        let display = format!("{}/history.jsonl", self.display);
        let text = match source::read_text(&self.dir.join("history.jsonl"), MAX_STATE_BYTES) {
            Ok(text) => text,
            Err(SourceError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Vec::new());
            }
            Err(error) => return Err(unreadable(&display, error)),
        };
        // A stream of values, so that an error's line is the file's.
        serde_json::Deserializer::from_str(&text)
            .into_iter()
            .map(|event| event.map_err(|error| corrupt(&text, &display, &error)))
            .collect()
    }

    fn lock(&self) -> Result<File, StateError> {
        fs::create_dir_all(self.dir.join("subjects")).map_err(|e| io(&self.display, e))?;
        let display = format!("{}/.lock", self.display);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(".lock"))
            .map_err(|e| io(&display, e))?;
        file.lock().map_err(|e| io(&display, e))?;
        Ok(file)
    }

    fn write(&self, record: &SubjectRecord) -> Result<(), StateError> {
        let (file, display) = self.subject_file(&record.id);
        let mut text = serde_json::to_string_pretty(record).expect("a record serialises");
        text.push('\n');
        write_atomic(&file, text.as_bytes()).map_err(|e| io(&display, e))
    }

    fn append(&self, event: &HistoryEvent) -> Result<(), StateError> {
        let display = format!("{}/history.jsonl", self.display);
        let mut line = serde_json::to_string(event).expect("an event serialises");
        line.push('\n');
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("history.jsonl"))
            .map_err(|e| io(&display, e))?;
        // One write of a whole line: appends under the lock never interleave.
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| io(&display, e))
    }
}

/// Replaces `file` with `bytes` so that a reader, or a crash, sees either
/// the old content or the new, never a mix. Only writers that hold the
/// lock call it, so one temporary name per file is enough, and the next
/// write takes over what a killed writer left behind.
fn write_atomic(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let temporary = file.with_file_name(format!(".{name}.tmp"));
    let mut out = File::create(&temporary)?;
    if std::env::var(FAULT_ENV).as_deref() == Ok("die-mid-write") {
        out.write_all(&bytes[..bytes.len() / 2])?;
        out.sync_all()?;
        std::process::abort();
    }
    out.write_all(bytes)?;
    out.sync_all()?;
    drop(out);
    fs::rename(&temporary, file)
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
        SourceError::TooLarge { .. } => io(path, std::io::Error::other(error.to_string())),
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
