//! The progress bar of `check` over many files: on stderr, and only where a
//! person watches it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Fewer files than this are checked before a bar would be worth drawing.
pub const THRESHOLD: usize = 20;

/// Whether to draw a bar: stderr is a terminal, more than [`THRESHOLD`]
/// files, and not `--quiet`. Logs and pipes never get one.
pub fn wanted(stderr_is_terminal: bool, quiet: bool, files: usize) -> bool {
    stderr_is_terminal && !quiet && files > THRESHOLD
}

/// A bar over `files` files on stderr, or `None` when it is not wanted.
pub fn bar(files: usize, quiet: bool) -> Option<ProgressBar> {
    use std::io::IsTerminal;
    if !wanted(std::io::stderr().is_terminal(), quiet, files) {
        return None;
    }
    let bar = ProgressBar::with_draw_target(
        Some(u64::try_from(files).unwrap_or(u64::MAX)),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = ProgressStyle::with_template("checking {bar:30} {pos}/{len} files {eta}") {
        bar.set_style(style);
    }
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_terminal_with_many_files_and_no_quiet_gets_a_bar() {
        assert!(wanted(true, false, THRESHOLD + 1));
        assert!(!wanted(true, false, THRESHOLD));
        assert!(!wanted(false, false, 1000));
        assert!(!wanted(true, true, 1000));
    }
}
