//! Artifacts that name many files. An artifact path with `*` or `?` in it
//! (`specs/001-sync/checklists/*.md`) is one artifact made of every regular
//! file that matches, in path order: a check of it runs on each file, its
//! prerequisite holds when one file exists, and an approval pins them all.
//!
//! `*` and `?` match within one path component, never across `/`, so a
//! pattern reaches only as deep as it is written (`**` is refused by lint).
//! Files and folders that are symbolic links are passed over: what a
//! pattern matches always lies inside the folder it names.

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};
use sha2::{Digest, Sha256};

/// Whether an artifact path names many files.
pub fn is_glob(path: &str) -> bool {
    path.contains(['*', '?'])
}

/// Why an artifact pattern cannot be used.
pub fn problem(path: &str) -> Option<String> {
    if path.contains("**") {
        return Some("`**` is not supported: write one `*` per folder level".into());
    }
    compile(path).err()
}

fn compile(pattern: &str) -> Result<GlobMatcher, String> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|error| format!("`{pattern}` is not a usable pattern: {}", error.kind()))
}

/// The files under `root` that `pattern` matches, relative to `root` with
/// `/`, sorted; none when the pattern is unusable or nothing matches.
pub fn expand(root: &Path, pattern: &str) -> Vec<String> {
    let Ok(matcher) = compile(pattern) else {
        return Vec::new();
    };
    let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    // The folders before the first wildcard are walked into directly.
    let fixed = components.iter().take_while(|c| !is_glob(c)).count();
    if fixed == components.len() {
        return Vec::new();
    }
    let base = components[..fixed].join("/");
    let mut found = Vec::new();
    walk(root, &base, components.len() - fixed, &matcher, &mut found);
    found.sort();
    found
}

/// Collects the regular files `depth` levels below `folder` that match.
fn walk(root: &Path, folder: &str, depth: usize, matcher: &GlobMatcher, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let path = if folder.is_empty() {
            name
        } else {
            format!("{folder}/{name}")
        };
        if depth == 1 && kind.is_file() && matcher.is_match(&path) {
            found.push(path);
        } else if depth > 1 && kind.is_dir() {
            walk(root, &path, depth - 1, matcher, found);
        }
    }
}

/// The SHA-256 of a pattern's files as a whole: of each path with the hash
/// of its bytes, so that a file added, removed, renamed or changed changes
/// it; `None` when nothing matches.
pub fn hash(
    root: &Path,
    pattern: &str,
    hash_file: impl Fn(&Path) -> Option<String>,
) -> Option<String> {
    let files = expand(root, pattern);
    if files.is_empty() {
        return None;
    }
    let mut digest = Sha256::new();
    for file in &files {
        digest.update(file.as_bytes());
        digest.update([0]);
        digest.update(hash_file(&root.join(file)).unwrap_or_default().as_bytes());
        digest.update([b'\n']);
    }
    Some(crate::project::hex(&digest.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_within_one_folder_level() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("specs/001-a/checklists");
        std::fs::create_dir_all(folder.join("nested")).unwrap();
        for file in ["ux.md", "requirements.md", "notes.txt", "nested/deep.md"] {
            std::fs::write(folder.join(file), "- [x] done\n").unwrap();
        }
        assert_eq!(
            expand(root.path(), "specs/001-a/checklists/*.md"),
            [
                "specs/001-a/checklists/requirements.md",
                "specs/001-a/checklists/ux.md"
            ]
        );
        assert_eq!(
            expand(root.path(), "specs/*/checklists/ux.md"),
            ["specs/001-a/checklists/ux.md"]
        );
        assert!(expand(root.path(), "specs/002-b/checklists/*.md").is_empty());
        assert!(expand(root.path(), "specs/001-a/checklists/ux.md").is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_passed_over() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.md"), "x").unwrap();
        std::fs::create_dir_all(root.path().join("docs")).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.md"),
            root.path().join("docs/link.md"),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("docs/out")).unwrap();
        assert!(expand(root.path(), "docs/*.md").is_empty());
        assert!(expand(root.path(), "docs/*/*.md").is_empty());
    }

    #[test]
    fn problems_name_what_is_wrong() {
        assert!(problem("a/**/b.md").unwrap().contains("`**`"));
        assert!(problem("a/[b.md").is_some());
        assert_eq!(problem("a/*.md"), None);
        assert!(is_glob("a/?.md") && !is_glob("a/b.md"));
    }

    #[test]
    fn the_hash_follows_every_file() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("c")).unwrap();
        let hash_of = || {
            hash(root.path(), "c/*.md", |file| {
                crate::project::hash_file(root.path(), file)
            })
        };
        assert_eq!(hash_of(), None);
        std::fs::write(root.path().join("c/a.md"), "one").unwrap();
        let one = hash_of();
        std::fs::write(root.path().join("c/b.md"), "two").unwrap();
        let two = hash_of();
        std::fs::write(root.path().join("c/b.md"), "three").unwrap();
        let three = hash_of();
        assert!(one.is_some() && one != two && two != three);
    }
}
