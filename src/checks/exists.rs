//! `exists: true`: the artifact file exists and is not empty.
//!
//! A file holding only whitespace counts as empty: it is a document nobody
//! wrote yet.

use super::{Artifact, Findings};
use crate::diagnostic::Position;

/// How to fix what this kind finds, in one line, for reports.
pub const HINT: &str = "create the file at the artifact's path and write the document in it";

pub fn check(artifact: &Artifact<'_>, findings: &mut Findings<'_>) {
    match artifact {
        Artifact::Missing => {
            findings
                .report(Position::START, "the file does not exist")
                .help = Some("create it: this step must produce it".into());
        }
        Artifact::Unreadable(why, at) => {
            findings.report(*at, *why);
        }
        Artifact::Loaded(doc) if doc.text.trim().is_empty() => {
            findings.report(Position::START, "the file is empty");
        }
        Artifact::Loaded(doc) => findings.evidence("exists", 1, doc.line_count().max(1)),
    }
}
