//! The progress bar of `check` over many files: on stderr, and only where a
//! person watches it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Fewer files than this are checked before a bar would be worth drawing.
pub const THRESHOLD: usize = 20;

/// Whether to draw a bar: stderr is a terminal and stdout is not (results
/// written to the screen as they come show the progress, and a bar would
/// tear them), more than [`THRESHOLD`] files, and not `--quiet`. Logs and
/// pipes never get one.
pub fn wanted(screens: Screens, quiet: bool, files: usize) -> bool {
    screens.stderr && !screens.stdout && !quiet && files > THRESHOLD
}

/// Which of the standard outputs are terminals.
#[derive(Debug, Clone, Copy)]
pub struct Screens {
    pub stdout: bool,
    pub stderr: bool,
}

/// A bar over `files` files on stderr, or `None` when it is not wanted.
pub fn bar(files: usize, quiet: bool) -> Option<ProgressBar> {
    use std::io::IsTerminal;
    let screens = Screens {
        stdout: std::io::stdout().is_terminal(),
        stderr: std::io::stderr().is_terminal(),
    };
    if !wanted(screens, quiet, files) {
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
        let logged = Screens {
            stdout: false,
            stderr: true,
        };
        assert!(wanted(logged, false, THRESHOLD + 1));
        assert!(!wanted(logged, false, THRESHOLD));
        assert!(!wanted(logged, true, 1000));
        let piped = Screens {
            stdout: false,
            stderr: false,
        };
        assert!(!wanted(piped, false, 1000));
        let watched = Screens {
            stdout: true,
            stderr: true,
        };
        assert!(!wanted(watched, false, 1000), "results on the screen");
    }
}
