//! Files under a root the repository controls. A repository is untrusted
//! input: its paths, symbolic links and special files are chosen by whoever
//! wrote it. Every read of a file a repository names and every write into it
//! goes through here, so that the rules hold in one place:
//!
//! - a read resolves symbolic links first and refuses a path that then lies
//!   outside the root;
//! - only regular files are read (a FIFO or a device is refused before it is
//!   opened, and the open itself does not block), with a size limit; a file
//!   found through a folder already resolved is opened without following a
//!   link (on unix), so a link put in its place after the look is refused;
//! - a write never goes through a symbolic link: not at the file, not at any
//!   folder on the way from the root; a file is replaced through a new
//!   temporary file with a random name, created exclusively.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{PoisonError, RwLock};

use crate::source::{self, SourceError};

/// Set to `die-mid-write` to make the next atomic write stop the process
/// halfway through its temporary file: the seam crash-safety tests use.
pub const FAULT_ENV: &str = "TOLLGATE_FAULT";

/// Why a path was refused; carried inside an [`io::Error`] so that every
/// caller reports it as it reports any other error of the file.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("`{0}` lies outside the project root")]
    Outside(String),
    #[error(
        "`{0}` is a symbolic link; Tollgate does not write through links (replace it with a file or folder)"
    )]
    Symlink(String),
    #[error("`{0}` is not a regular file")]
    NotRegular(String),
}

impl From<Refused> for io::Error {
    fn from(refused: Refused) -> Self {
        let kind = match refused {
            Refused::NotRegular(_) => io::ErrorKind::InvalidInput,
            Refused::Outside(_) | Refused::Symlink(_) => io::ErrorKind::PermissionDenied,
        };
        io::Error::new(kind, refused)
    }
}

/// The reason an error was refused here, when it was.
pub fn refusal(error: &io::Error) -> Option<&Refused> {
    error.get_ref()?.downcast_ref::<Refused>()
}

/// Whether a path, as written, leaves the folder it is relative to: it is
/// absolute (on any platform), or `..` climbs above its start.
pub fn escapes(path: &str) -> bool {
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":") {
        return true;
    }
    let mut depth: i64 = 0;
    for component in Path::new(&path.replace('\\', "/")).components() {
        match component {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return true,
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

/// Where `path` (relative to `root`, or absolute) really leads once every
/// symbolic link is resolved, when that is inside `root`. A path that does
/// not exist yet resolves through its deepest existing folder.
pub fn resolve(root: &Path, path: &Path) -> io::Result<PathBuf> {
    // The folder of `playbook.yaml` is "", which does not canonicalize.
    let root = match root.as_os_str().is_empty() {
        true => Path::new("."),
        false => root,
    };
    resolve_in_real(&root.canonicalize()?, path)
}

/// [`resolve`] in a root given as its real path (links resolved), for
/// many paths resolved inside one root.
pub fn resolve_in_real(real_root: &Path, path: &Path) -> io::Result<PathBuf> {
    let outside = || io::Error::from(Refused::Outside(shown(path)));
    let full = real_root.join(path);
    let mut missing = Vec::new();
    let mut existing = full.as_path();
    let real = loop {
        match existing.canonicalize() {
            Ok(real) => break real,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                match existing.components().next_back() {
                    Some(Component::Normal(name)) => missing.push(name.to_os_string()),
                    Some(Component::CurDir) => {}
                    // `..` after a missing folder cannot be followed.
                    _ => return Err(outside()),
                }
                existing = existing.parent().ok_or_else(outside)?;
            }
            Err(error) => return Err(error),
        }
    };
    if !real.starts_with(real_root) {
        return Err(outside());
    }
    Ok(missing
        .into_iter()
        .rev()
        .fold(real, |real, name| real.join(name)))
}

/// Paths resolved inside one root, for a run that reads many files from
/// few folders: each folder's links are resolved once, not once for every
/// file in it.
///
/// The cache cannot let a path out of the root. It holds only folders, each
/// with its real path (no link left in it), and a file is taken through one
/// only when the file itself, looked at without following it, is not a
/// link: then the file's real path is the folder's real path and its name,
/// exactly what resolving the whole path would give. A link in a folder is
/// always resolved in full and judged like any path; a folder that leads
/// outside, or cannot be resolved, is never used. The cache answers as the
/// folders were when first met, which is as long as a run reads a
/// repository (as a path resolved and then opened already assumes).
#[derive(Debug)]
pub struct Resolver {
    real_root: PathBuf,
    /// Folders as written, and their real paths when inside the root.
    folders: RwLock<HashMap<PathBuf, Option<PathBuf>>>,
}

/// A path resolved by a [`Resolver`].
#[derive(Debug)]
pub struct Resolved {
    /// Where it leads, links resolved (see [`resolve_in_real`]).
    pub real: PathBuf,
    /// Its metadata, not following a link, when it was found to be there
    /// and not a link.
    found: Option<fs::Metadata>,
}

impl Resolved {
    /// Its real path when it is known to be there: a file that the whole
    /// path resolves to.
    pub fn existing(&self) -> Option<&Path> {
        self.found.as_ref().map(|_| self.real.as_path())
    }

    /// The text of the file, of at most `limit` bytes.
    pub fn read_text(&self, limit: usize) -> Result<String, SourceError> {
        match &self.found {
            Some(meta) => source::read_text_found(&self.real, meta, limit),
            None => source::read_text(&self.real, limit),
        }
    }
}

impl Resolver {
    /// A resolver inside `root`; a root that cannot be resolved is taken as
    /// written.
    pub fn new(root: &Path) -> Self {
        Self {
            real_root: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()),
            folders: RwLock::default(),
        }
    }

    /// The root, its links resolved.
    pub fn root(&self) -> &Path {
        &self.real_root
    }

    /// Where `path` (relative to the root, or absolute) leads, as
    /// [`resolve_in_real`] says.
    pub fn resolve(&self, path: &Path) -> io::Result<Resolved> {
        let full = self.real_root.join(path);
        if let Some(resolved) = self.through_folder(&full) {
            return Ok(resolved);
        }
        Ok(Resolved {
            real: resolve_in_real(&self.real_root, path)?,
            found: None,
        })
    }

    /// `full` through its folder's cached real path, when that is sure to
    /// be where the whole path leads.
    fn through_folder(&self, full: &Path) -> Option<Resolved> {
        let name = full.file_name()?;
        // `x/.` or `x/` end in no name of their own: only a full
        // resolution treats them right.
        if !full
            .as_os_str()
            .as_encoded_bytes()
            .ends_with(name.as_encoded_bytes())
        {
            return None;
        }
        let folder = self.real_folder(full.parent()?)?;
        let real = folder.join(name);
        let meta = fs::symlink_metadata(&real).ok()?;
        if meta.file_type().is_symlink() {
            return None;
        }
        Some(Resolved {
            real,
            found: Some(meta),
        })
    }

    /// The real path of `folder` (as written), when it lies inside the root.
    fn real_folder(&self, folder: &Path) -> Option<PathBuf> {
        let known = self.folders.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(real) = known.get(folder) {
            return real.clone();
        }
        drop(known);
        let real = folder
            .canonicalize()
            .ok()
            .filter(|real| real.starts_with(&self.real_root));
        self.folders
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(folder.to_path_buf(), real.clone());
        real
    }
}

/// The repository a file at `start` belongs to: the nearest folder upward
/// that holds `.git`, else `start` itself. What a playbook or a plugin test
/// names must stay inside the repository that holds it.
pub fn repository_root(start: &Path) -> PathBuf {
    let start = match start.as_os_str().is_empty() {
        true => Path::new("."),
        false => start,
    };
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    start
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(&start)
        .to_path_buf()
}

/// Whether `path` (relative to `root`, or absolute) lies inside `root` as
/// written, before any symbolic link is followed: a path someone typed that
/// points elsewhere was meant to, while one inside that leads out through
/// a link was made to by whoever made the link.
pub fn written_inside(root: &Path, path: &Path) -> bool {
    resolve(root, Path::new(".")).is_ok_and(|real_root| written_inside_real(&real_root, path))
}

/// [`written_inside`] of a root given as its real path (links resolved).
pub fn written_inside_real(real_root: &Path, path: &Path) -> bool {
    let mut written = PathBuf::new();
    for component in real_root.join(path).components() {
        match component {
            Component::ParentDir => {
                written.pop();
            }
            Component::CurDir => {}
            other => written.push(other),
        }
    }
    written.starts_with(real_root)
}

/// The text of a file inside `root`, of at most `limit` bytes.
pub fn read_text(root: &Path, path: &Path, limit: usize) -> Result<String, SourceError> {
    source::read_text(&resolve(root, path)?, limit)
}

/// The bytes of a file inside `root`, of at most `limit` bytes.
pub fn read_bytes(root: &Path, path: &Path, limit: usize) -> Result<Vec<u8>, SourceError> {
    source::read_bytes(&resolve(root, path)?, limit)
}

/// `root/relative` after checking that `relative` stays under `root` as
/// written and that nothing on the way that exists is a symbolic link.
fn unlinked(root: &Path, relative: &Path) -> io::Result<PathBuf> {
    let written = shown(relative);
    if escapes(&written) {
        return Err(Refused::Outside(written).into());
    }
    let mut at = root.to_path_buf();
    let mut shown_so_far = PathBuf::new();
    // Below a part that does not exist, nothing does.
    let mut existing = true;
    for component in relative.components() {
        let Component::Normal(name) = component else {
            continue;
        };
        at.push(name);
        shown_so_far.push(name);
        if !existing {
            continue;
        }
        match fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(Refused::Symlink(shown(&shown_so_far)).into());
            }
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => existing = false,
            Err(error) => return Err(error),
        }
    }
    Ok(at)
}

/// Creates the folder `relative` under `root` and the folders above it,
/// refusing a symbolic link on the way.
pub fn create_dir_all(root: &Path, relative: &Path) -> io::Result<PathBuf> {
    let folder = unlinked(root, relative)?;
    fs::create_dir_all(&folder)?;
    // Checked again: a link may only now be on the way if it appeared
    // while the folders were made.
    unlinked(root, relative)
}

/// Options that do not follow a symbolic link at the file itself.
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Opens `relative` under `root` for appending (creating it), never through
/// a symbolic link; it must be a regular file.
pub fn open_append(root: &Path, relative: &Path) -> io::Result<File> {
    open_regular(
        root,
        relative,
        no_follow(OpenOptions::new().create(true).read(true).append(true)),
    )
}

/// Opens `relative` under `root` for writing without truncating it
/// (creating it), never through a symbolic link: for a lock file.
pub fn open_lock(root: &Path, relative: &Path) -> io::Result<File> {
    open_regular(
        root,
        relative,
        no_follow(OpenOptions::new().create(true).truncate(false).write(true)),
    )
}

fn open_regular(root: &Path, relative: &Path, options: &OpenOptions) -> io::Result<File> {
    let path = unlinked(root, relative)?;
    let file = options
        .open(&path)
        .map_err(|error| link_refused(error, relative))?;
    if !file.metadata()?.is_file() {
        return Err(Refused::NotRegular(shown(relative)).into());
    }
    Ok(file)
}

/// `O_NOFOLLOW` fails with `ELOOP` at a link: say so in words.
fn link_refused(error: io::Error, relative: &Path) -> io::Error {
    #[cfg(unix)]
    if error.raw_os_error() == Some(libc::ELOOP) {
        return Refused::Symlink(shown(relative)).into();
    }
    error
}

/// Writes a new file `relative` under `root`; fails if anything, a dangling
/// link included, is already there.
pub fn create_new(root: &Path, relative: &Path, bytes: &[u8]) -> io::Result<()> {
    let path = unlinked(root, relative)?;
    let mut file = no_follow(OpenOptions::new().write(true).create_new(true))
        .open(&path)
        .map_err(|error| link_refused(error, relative))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// What became of a file [`create_if_absent`] was asked to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Written,
    /// Something (a file, a folder, a link) is already there: left alone.
    AlreadyThere,
}

/// Creates `relative` holding `bytes`, and the folders on the way, unless
/// something is already there: never replaces anything, never writes
/// through a link (a link at the file counts as something already there; a
/// link on the way is refused).
pub fn create_if_absent(root: &Path, relative: &Path, bytes: &[u8]) -> io::Result<Created> {
    if let Some(folder) = relative.parent() {
        create_dir_all(root, folder)?;
    }
    if fs::symlink_metadata(root.join(relative)).is_ok() {
        return Ok(Created::AlreadyThere);
    }
    match create_new(root, relative, bytes) {
        Ok(()) => Ok(Created::Written),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(Created::AlreadyThere),
        Err(error) => Err(error),
    }
}

/// Replaces `relative` under `root` with `bytes` so that a reader, or a
/// crash, sees either the old content or the new, never a mix: a temporary
/// file with a random name is created exclusively beside it, written,
/// synced and renamed over it. A link at the file or on the way is refused.
pub fn write_atomic(root: &Path, relative: &Path, bytes: &[u8]) -> io::Result<()> {
    let path = unlinked(root, relative)?;
    match fs::symlink_metadata(&path) {
        Ok(meta) if !meta.is_file() => return Err(Refused::NotRegular(shown(relative)).into()),
        _ => {}
    }
    let folder = path.parent().unwrap_or(root);
    let name = path
        .file_name()
        .map_or("file".into(), |n| n.to_string_lossy());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMPORARY_SUFFIX);
    // As a file made by `File::create`: the umask decides, not 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut temporary = builder.tempfile_in(folder)?;
    if std::env::var(FAULT_ENV).as_deref() == Ok("die-mid-write") {
        temporary.write_all(&bytes[..bytes.len() / 2])?;
        temporary.as_file().sync_all()?;
        std::process::abort();
    }
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(&path).map_err(|error| error.error)?;
    Ok(())
}

/// How [`write_atomic`]'s temporary files end, so that what a killed writer
/// left behind can be recognised and removed.
pub const TEMPORARY_SUFFIX: &str = ".tmp";

/// Removes the temporary files a killed [`write_atomic`] left in the folder
/// `relative` under `root`. Only callers that hold the lock serialising
/// writers there may call it. Returns how many it removed.
pub fn remove_stale_temporaries(root: &Path, relative: &Path) -> io::Result<usize> {
    let folder = unlinked(root, relative)?;
    let entries = match fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale = name.starts_with('.') && name.ends_with(TEMPORARY_SUFFIX);
        // A link is removed as a link; its target is untouched.
        if stale
            && entry
                .file_type()
                .is_ok_and(|t| t.is_file() || t.is_symlink())
        {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// A path as findings and messages show it, with `/` separators.
pub fn shown(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_inside_and_refuses_outside() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join("a")).unwrap();
        assert!(resolve(root, Path::new("a/new/file.md")).is_ok());
        assert!(resolve(root, Path::new("a/../b")).is_ok());
        for outside in ["../x", "/etc/passwd", "missing/../../x"] {
            let error = resolve(root, Path::new(outside)).unwrap_err();
            assert!(
                matches!(refusal(&error), Some(Refused::Outside(_))),
                "{outside}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn refuses_links_on_the_way() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::os::unix::fs::symlink(outside.path(), root.join("state")).unwrap();
        let error = write_atomic(root, Path::new("state/x.json"), b"{}").unwrap_err();
        assert!(matches!(refusal(&error), Some(Refused::Symlink(p)) if p == "state"));
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    /// Whether resolving `path` was refused as leading outside.
    fn refused_outside(resolved: io::Result<Resolved>) -> bool {
        matches!(resolved, Err(error) if matches!(refusal(&error), Some(Refused::Outside(_))))
    }

    /// A root holding `docs/plan.md`, and a folder outside it holding
    /// `secret.md`.
    #[cfg(unix)]
    fn root_with_a_plan_and_a_secret_outside() -> (tempfile::TempDir, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("docs")).unwrap();
        fs::write(dir.path().join("docs/plan.md"), "# Plan\n").unwrap();
        fs::write(outside.path().join("secret.md"), "secret").unwrap();
        (dir, outside)
    }

    #[cfg(unix)]
    #[test]
    fn a_link_planted_in_a_known_folder_is_still_judged_by_where_it_leads() {
        let (dir, outside) = root_with_a_plan_and_a_secret_outside();
        let root = dir.path();
        std::os::unix::fs::symlink(outside.path().join("secret.md"), root.join("docs/leak.md"))
            .unwrap();
        std::os::unix::fs::symlink(root.join("docs/plan.md"), root.join("docs/alias.md")).unwrap();
        let resolver = Resolver::new(root);
        let real_root = root.canonicalize().unwrap();
        // The first file makes the folder known; the link beside it must
        // not pass through it.
        let plan = resolver.resolve(Path::new("docs/plan.md")).unwrap();
        assert_eq!(
            plan.existing(),
            Some(real_root.join("docs/plan.md").as_path())
        );
        assert!(refused_outside(resolver.resolve(Path::new("docs/leak.md"))));
        assert!(refused_outside(
            resolver.resolve(&root.join("docs/leak.md"))
        ));
        // A link that stays inside is followed to its file.
        let alias = resolver.resolve(Path::new("docs/alias.md")).unwrap();
        assert_eq!(alias.real, real_root.join("docs/plan.md"));
        assert_eq!(alias.read_text(100).unwrap(), "# Plan\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_swapped_for_a_link_after_it_was_judged_is_refused_not_read_through() {
        let (dir, outside) = root_with_a_plan_and_a_secret_outside();
        let root = dir.path();
        fs::write(root.join("docs/spec.md"), "# Spec\n").unwrap();
        let resolver = Resolver::new(root);
        // The folder becomes known, so the next file is found through it.
        resolver.resolve(Path::new("docs/spec.md")).unwrap();
        let plan = resolver.resolve(Path::new("docs/plan.md")).unwrap();
        assert!(plan.existing().is_some());
        fs::remove_file(root.join("docs/plan.md")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.md"), root.join("docs/plan.md"))
            .unwrap();
        assert!(
            matches!(plan.read_text(100), Err(SourceError::Io(_))),
            "the link was followed"
        );
        // Judged anew, the link is refused as leading outside.
        assert!(refused_outside(resolver.resolve(Path::new("docs/plan.md"))));
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_linked_outside_is_refused_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(outside.path().join("secret.md"), "secret").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("out")).unwrap();
        let resolver = Resolver::new(root);
        for _ in 0..2 {
            assert!(refused_outside(
                resolver.resolve(Path::new("out/secret.md"))
            ));
        }
    }

    #[test]
    fn a_resolver_says_what_resolving_each_path_alone_says() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join("a/x.md"), "x").unwrap();
        fs::write(root.join("a/b/y.md"), "y").unwrap();
        // A link inside the root, which `..` after it leaves by where it
        // leads, not by how it is written.
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("a/b"), root.join("l")).unwrap();
        let resolver = Resolver::new(root);
        let paths = [
            "l/y.md",
            "l/../x.md",
            "a/x.md",
            "a/b/y.md",
            "a/b/../x.md",
            "a/./x.md",
            "a/x.md/.",
            "a/x.md/",
            "a/b",
            "a/missing.md",
            "missing/x.md",
            "a/b/../../../x.md",
        ];
        // Twice: the second time through the folders already known.
        for path in paths.iter().chain(&paths) {
            let alone = resolve(root, Path::new(path));
            match resolver.resolve(Path::new(path)) {
                Ok(resolved) => assert_eq!(resolved.real, alone.unwrap(), "{path}"),
                Err(error) => assert_eq!(error.to_string(), alone.unwrap_err().to_string()),
            }
        }
    }

    #[test]
    fn tells_where_a_path_lies_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert!(written_inside(root, Path::new("a/../b/c.md")));
        assert!(written_inside(root, &root.join("x.md")));
        assert!(!written_inside(root, Path::new("a/../../c.md")));
        assert!(!written_inside(root, Path::new("/etc/passwd")));
    }

    #[test]
    fn creates_every_missing_folder_then_writes_beneath_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        create_dir_all(root, Path::new("a/b/c")).unwrap();
        assert!(root.join("a/b/c").is_dir());
        write_atomic(root, Path::new("a/b/c/x.json"), b"{}").unwrap();
        assert_eq!(fs::read(root.join("a/b/c/x.json")).unwrap(), b"{}");
    }
}
