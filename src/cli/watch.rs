//! `check --watch`: the same check, run again whenever a file under the
//! root that a check could read (a document, the playbook, a plugin, a
//! subject's state) changes. Changes are debounced so that an editor's
//! save (often several writes) runs the check once; a file merely read
//! (by the check itself) is no change.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

use super::{CheckArgs, Context, EXIT_UNUSABLE, complain};

/// How long the files must be quiet before the check runs again.
const QUIET: Duration = Duration::from_millis(200);

/// Kinds of file a check, a playbook or a plugin is made of.
const WATCHED: [&str; 6] = ["md", "markdown", "yaml", "yml", "lua", "json"];

pub(super) fn run(context: &Context, args: &CheckArgs) -> i32 {
    exit_cleanly_on_interrupt();
    let (sender, changes) = mpsc::channel();
    // Links are not followed: one in the repository could lead the watch
    // over folders outside the root.
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut watcher = match notify::RecommendedWatcher::new(sender, config) {
        Ok(watcher) => watcher,
        Err(error) => {
            complain(format_args!("cannot watch for changes: {error}"));
            return EXIT_UNUSABLE;
        }
    };
    // The root and everything under it; a playbook outside it, only in its
    // own folder (whose subfolders may be anyone's).
    let real = |path: &Path| path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let root = real(&context.root);
    let mut folders = vec![(root.clone(), RecursiveMode::Recursive)];
    let playbook_folder = context
        .playbook
        .parent()
        .filter(|f| !f.as_os_str().is_empty());
    let playbook_folder = real(playbook_folder.unwrap_or(Path::new(".")));
    if !playbook_folder.starts_with(&root) {
        folders.push((playbook_folder, RecursiveMode::NonRecursive));
    }
    for (folder, mode) in &folders {
        if let Err(error) = watcher.watch(folder, *mode) {
            complain(format_args!(
                "cannot watch `{}`: {error}",
                super::display_path(folder)
            ));
            return EXIT_UNUSABLE;
        }
    }
    let terminal = std::io::stdout().is_terminal();
    loop {
        if terminal {
            // Clear the screen and go home, as other watchers do.
            print!("\x1b[2J\x1b[H");
        }
        super::check_once(context, args);
        if !context.quiet {
            eprintln!("tollgate: watching for changes (Ctrl-C stops)");
        }
        loop {
            match changes.recv() {
                Ok(Ok(event)) if changes_a_file(&event) => break,
                Ok(_) => {}
                Err(_) => return EXIT_UNUSABLE,
            }
        }
        // The rest of a burst of writes is taken with it.
        while changes.recv_timeout(QUIET).is_ok() {}
    }
}

fn changes_a_file(event: &notify::Event) -> bool {
    !matches!(event.kind, EventKind::Access(_)) && event.paths.iter().any(|path| relevant(path))
}

/// Whether a changed path can change a verdict: version control's and
/// build folders are not read by checks.
fn relevant(path: &Path) -> bool {
    let ignored = path.components().any(|part| {
        let part = part.as_os_str();
        part == ".git" || part == "target" || part == "node_modules"
    });
    let kind = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    !ignored && WATCHED.contains(&kind)
}

/// Ctrl-C ends watching, which is how it is meant to end: exit 0.
#[cfg(unix)]
fn exit_cleanly_on_interrupt() {
    extern "C" fn on_interrupt(_: libc::c_int) {
        // Only async-signal-safe calls belong in a handler; _exit is one.
        unsafe { libc::_exit(0) }
    }
    // SAFETY: the handler calls only `_exit`.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

#[cfg(not(unix))]
fn exit_cleanly_on_interrupt() {}
