//! `tollgate board`: where every subject stands, as one HTML file.

use std::path::{Component, Path, PathBuf};

use clap::Args;

use super::{Context, EXIT_UNUSABLE, OptionsHere, complain, display_path, say};
use crate::confined;
use crate::project::now;
use crate::report::{BoardContext, board_html};

#[derive(Debug, Args)]
pub struct BoardArgs {
    /// Where to write the page [default: tollgate-board.html at the project root]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub options: OptionsHere,
}

pub(super) fn run(context: &Context, args: &BoardArgs) -> i32 {
    super::subjects::with_project(context, context.options(), |project| {
        // A subject file that cannot be used is reported; the board shows
        // the others.
        let (subjects, unusable): (Vec<_>, Vec<_>) =
            project.status(None)?.into_iter().partition(Result::is_ok);
        let subjects: Vec<_> = subjects.into_iter().filter_map(Result::ok).collect();
        let unusable = super::subjects::complain_each(unusable.into_iter().filter_map(Result::err));
        let history = project.store.history()?;
        let commit = head_commit(&context.root);
        let generated_at = now();
        let board = BoardContext {
            commit: commit.as_deref(),
            generated_at: &generated_at,
        };
        let page = match board_html(&project.loaded.playbook, &subjects, &history, &board) {
            Ok(page) => page,
            Err(error) => {
                complain(format_args!("cannot render the board: {error}"));
                return Ok(EXIT_UNUSABLE);
            }
        };
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| context.root.join("tollgate-board.html"));
        match write_page(&context.root, &out, page.as_bytes()) {
            Ok(()) if context.quiet => Ok(unusable),
            Ok(()) => Ok(unusable.max(say(format_args!(
                "wrote the board of {} to {}",
                crate::checks::count(subjects.len(), &project.loaded.playbook.subject.noun),
                display_path(&out)
            )))),
            Err(error) => {
                complain(format_args!("cannot write {}: {error}", display_path(&out)));
                Ok(EXIT_UNUSABLE)
            }
        }
    })
}

/// Writes the page at `out` through [`confined::write_atomic`], so never
/// through a symbolic link: a path inside the project is checked from the
/// root (no link at the file or on the way, folders made as needed); one
/// outside it, which only the user can give, from its own folder.
fn write_page(root: &Path, out: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let cwd = std::env::current_dir()?;
    let absolute = lexical(&cwd.join(out));
    if let Ok(relative) = absolute.strip_prefix(lexical(&cwd.join(root))) {
        if let Some(folder) = relative.parent() {
            confined::create_dir_all(root, folder)?;
        }
        return confined::write_atomic(root, relative, bytes);
    }
    let (Some(folder), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path names no file",
        ));
    };
    confined::write_atomic(folder, Path::new(name), bytes)
}

/// `path` with `.` and `..` taken away as written, no link followed.
fn lexical(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    normal
}

/// The commit checked out at `root`, when it is a git work tree: read from
/// `.git/HEAD` and the ref it names (loose or packed), else asked of
/// `git rev-parse` (a linked work tree, say). Only a full hex id is shown.
fn head_commit(root: &Path) -> Option<String> {
    let git = root.join(".git");
    let is_id = |text: &str| text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit());
    let read = |path: &Path| crate::source::read_text(path, 1 << 20).ok();
    if git.is_dir() {
        let head = read(&git.join("HEAD"))?;
        let head = head.trim();
        let Some(reference) = head.strip_prefix("ref: ") else {
            return is_id(head).then(|| head.to_string());
        };
        let safe = reference.starts_with("refs/")
            && Path::new(reference)
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if !safe {
            return None;
        }
        if let Some(id) = read(&git.join(reference)) {
            return is_id(id.trim()).then(|| id.trim().to_string());
        }
        let packed = read(&git.join("packed-refs"))?;
        return packed.lines().find_map(|line| {
            let (id, name) = line.split_once(' ')?;
            (name == reference && is_id(id)).then(|| id.to_string())
        });
    }
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--verify", "-q", "HEAD"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let id = String::from_utf8(output.stdout).ok()?;
    is_id(id.trim()).then(|| id.trim().to_string())
}
