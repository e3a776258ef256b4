//! Creating new files inside the project root, never through a symlink and
//! never over an existing file: a repository is untrusted input, and a
//! symlink planted where a document belongs must not make Tollgate write
//! elsewhere.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path};

/// What became of one file to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Written,
    /// Something (a file, a folder, a symlink) is already there: left alone.
    AlreadyThere,
}

/// Creates `relative` (a path under `root`, with `/`) holding `bytes`, and
/// the folders on the way. Refuses a path that is absolute or climbs out
/// with `..`, and a folder on the way that is a symlink; never replaces
/// anything.
pub fn create_new(root: &Path, relative: &str, bytes: &[u8]) -> io::Result<Created> {
    let refuse = |why: &str| io::Error::new(io::ErrorKind::PermissionDenied, why.to_string());
    let path = Path::new(relative);
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            _ => return Err(refuse("the path leaves the project root")),
        }
    }
    let Some((name, folders)) = parts.split_last() else {
        return Err(refuse("the path names no file"));
    };
    let mut at = root.to_path_buf();
    for folder in folders {
        at.push(folder);
        match fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(refuse("a folder on the way is a symlink"));
            }
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(refuse("a file stands where a folder belongs")),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                // `create_dir` (not `_all`) fails on anything already there,
                // a symlink included.
                fs::create_dir(&at)?;
            }
            Err(error) => return Err(error),
        }
    }
    at.push(name);
    let mut options = OpenOptions::new();
    // `create_new` fails on an existing name, a dangling symlink included.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Redundant with `create_new` on Linux; it keeps the promise where
        // `O_EXCL` would follow a final symlink.
        options.custom_flags(libc::O_NOFOLLOW);
    }
    match options.open(&at) {
        Ok(mut file) => {
            file.write_all(bytes)?;
            Ok(Created::Written)
        }
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(Created::AlreadyThere),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_new_files_and_leaves_existing_ones() {
        let root = tempfile::tempdir().unwrap();
        let created = create_new(root.path(), "a/b/c.md", b"text").unwrap();
        assert_eq!(created, Created::Written);
        assert_eq!(
            fs::read_to_string(root.path().join("a/b/c.md")).unwrap(),
            "text"
        );
        let again = create_new(root.path(), "a/b/c.md", b"other").unwrap();
        assert_eq!(again, Created::AlreadyThere);
        assert_eq!(
            fs::read_to_string(root.path().join("a/b/c.md")).unwrap(),
            "text"
        );
        assert!(create_new(root.path(), "../out.md", b"x").is_err());
        assert!(create_new(root.path(), "/tmp/out.md", b"x").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn never_writes_through_a_symlink() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("docs")).unwrap();
        assert!(create_new(root.path(), "docs/plan.md", b"x").is_err());
        std::os::unix::fs::symlink(
            outside.path().join("target.md"),
            root.path().join("plan.md"),
        )
        .unwrap();
        let dangling = create_new(root.path(), "plan.md", b"x").unwrap();
        assert_eq!(dangling, Created::AlreadyThere);
        assert!(!outside.path().join("target.md").exists());
        assert!(fs::read_dir(outside.path()).unwrap().next().is_none());
    }
}
