//! What Tollgate asks of the repository's git history, through the `git`
//! program: who last changed a file, the commits that changed one and its
//! text at each, and whether a commit's signature holds. The program is
//! what the tests and every repository already have, and git alone can
//! judge a signature (it hands it to gpg or ssh-keygen with the team's
//! allowed signers). No command used here runs a hook; the file-system
//! monitor a repository may configure is turned off, and diff drivers are
//! never asked for.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// One commit that changed a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub id: String,
    pub parents: Vec<String>,
    pub author_name: String,
    pub author_email: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git cannot be run: {0}")]
    Missing(std::io::Error),
    #[error("`git {command}` failed: {message}")]
    Failed { command: String, message: String },
}

fn git(root: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(root)
        // A repository's own settings must not run programs, mix signature
        // output into what is parsed, or take the index lock.
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "log.showSignature=false",
        ])
        .arg("--no-optional-locks")
        .stdin(Stdio::null());
    command
}

/// Runs git with `args` in `root`: its standard output.
fn run(root: &Path, args: &[&str]) -> Result<String, GitError> {
    let output = git(root)
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .map_err(GitError::Missing)?;
    if !output.status.success() {
        return Err(GitError::Failed {
            command: args.join(" "),
            message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether `root` lies in a git work tree.
pub fn is_repository(root: &Path) -> bool {
    run(root, &["rev-parse", "--is-inside-work-tree"]).is_ok_and(|out| out.trim() == "true")
}

/// Where `root` lies in its repository ("" at the top, else "sub/dir/"):
/// what object names of the form `COMMIT:PATH` need in front of a path.
pub fn prefix(root: &Path) -> Result<String, GitError> {
    Ok(run(root, &["rev-parse", "--show-prefix"])?
        .trim()
        .to_string())
}

/// The e-mail of whoever last changed `path` (relative to `root`): the
/// local git user when the work tree holds uncommitted changes to it, else
/// the author of the last commit that changed it; `None` when neither is
/// known (a file git has never seen, with no local user).
pub fn last_changed_by(root: &Path, path: &str) -> Option<String> {
    let changed = run(
        root,
        &["status", "--porcelain", "--untracked-files=all", "--", path],
    )
    .ok()?;
    if !changed.trim().is_empty() {
        return crate::identity::git_email(root);
    }
    let author = run(root, &["log", "-1", "--format=%ae", "--", path]).ok()?;
    let author = author.trim();
    (!author.is_empty()).then(|| author.to_string())
}

/// Every commit reachable from HEAD that changed `path`, oldest first.
pub fn commits_of(root: &Path, path: &str) -> Result<Vec<Commit>, GitError> {
    // No commit yet: nothing was committed.
    if run(root, &["rev-parse", "--verify", "--quiet", "HEAD"]).is_err() {
        return Ok(Vec::new());
    }
    let log = run(
        root,
        &[
            "log",
            "--reverse",
            "--topo-order",
            "--format=%H%x1f%P%x1f%an%x1f%ae",
            "--",
            path,
        ],
    )?;
    Ok(log
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\u{1f}');
            let id = fields.next()?.to_string();
            let parents = fields
                .next()?
                .split_whitespace()
                .map(str::to_string)
                .collect();
            Some(Commit {
                id,
                parents,
                author_name: fields.next()?.to_string(),
                author_email: fields.next()?.to_string(),
            })
        })
        .collect())
}

/// The text of `path` (relative to the repository's top) at each of
/// `commits`, by commit; a commit where the file does not exist is left
/// out. One `git cat-file` process answers them all.
pub fn texts_at(
    root: &Path,
    commits: &[&str],
    path: &str,
) -> Result<HashMap<String, String>, GitError> {
    let mut child = git(root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(GitError::Missing)?;
    let requests: String = commits.iter().map(|c| format!("{c}:{path}\n")).collect();
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Written from another thread: git answers as it reads, and a full
    // pipe either way would stall both.
    let writer = std::thread::spawn(move || stdin.write_all(requests.as_bytes()));
    let mut out = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut texts = HashMap::new();
    let failed = |message: String| GitError::Failed {
        command: "cat-file --batch".into(),
        message,
    };
    for commit in commits {
        let mut header = String::new();
        out.read_line(&mut header)
            .map_err(|e| failed(e.to_string()))?;
        // "<oid> <type> <size>" and the object, or "<name> missing" (a name
        // holds the path, which may hold spaces).
        if header.trim_end().ends_with(" missing") {
            continue;
        }
        let fields: Vec<&str> = header.split_whitespace().collect();
        let [_, kind, size] = fields[..] else {
            continue;
        };
        let size: usize = size.parse().map_err(|_| failed(header.clone()))?;
        // A state file larger than any state file may be is passed over,
        // read off the stream but not kept.
        if size > crate::state::MAX_STATE_BYTES {
            std::io::copy(&mut (&mut out).take(size as u64 + 1), &mut std::io::sink())
                .map_err(|e| failed(e.to_string()))?;
            continue;
        }
        let mut body = vec![0; size + 1];
        out.read_exact(&mut body)
            .map_err(|e| failed(e.to_string()))?;
        body.pop();
        if kind == "blob" {
            texts.insert(
                commit.to_string(),
                String::from_utf8_lossy(&body).into_owned(),
            );
        }
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(texts)
}

/// Whether git accepts the signature of `commit` (`git verify-commit`),
/// with the signers the repository's configuration trusts.
pub fn signature_holds(root: &Path, commit: &str) -> bool {
    git(root)
        .args(["verify-commit", commit])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The e-mail of the author of the last commit, up to and including
/// `commit`, that changed `path` (relative to `root`).
pub fn last_author_before(root: &Path, commit: &str, path: &str) -> Option<String> {
    let author = run(root, &["log", "-1", "--format=%ae", commit, "--", path]).ok()?;
    let author = author.trim();
    (!author.is_empty()).then(|| author.to_string())
}
