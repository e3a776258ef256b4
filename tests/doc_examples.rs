//! Every `console` example in the README and in `docs/` runs here, so the
//! documentation cannot drift from what the binary does.
//!
//! Each Markdown file runs in a fresh temporary folder, its blocks in the
//! order they appear:
//!
//! - a ```` ```console ```` block holds commands after `$ `, each followed by
//!   the output it must print (stdout and stderr as a terminal shows them,
//!   interleaved); `[..]` matches the rest of a line and a line `...` any
//!   lines. A command starting `cargo run --release --` runs the binary
//!   under test, as `tollgate` does everywhere else.
//! - `<!-- example-setup` … `-->` holds shell lines run before the next
//!   example, hidden when the page is rendered: the steps the prose
//!   describes (writing a document, editing it). `$REPO` is the
//!   repository's root.
//! - `<!-- example-folder -->`: the examples after it run in a new, empty
//!   folder.
//! - `<!-- example-file: PATH -->` writes the code block that follows it to
//!   PATH, so a document shown on the page is the one the example reads.

use std::path::Path;
use std::process::Command;

use comrak::nodes::NodeValue;
use comrak::{Arena, Options};

/// What a page asks the harness to do, in page order.
enum Step {
    Setup { line: usize, script: String },
    NewFolder,
    File { path: String, text: String },
    Console { line: usize, text: String },
}

const SETUP: &str = "<!-- example-setup";
const FILE: &str = "<!-- example-file:";
const NEW_FOLDER: &str = "<!-- example-folder -->";

fn steps(markdown: &str) -> Vec<Step> {
    let arena = Arena::new();
    let root = comrak::parse_document(&arena, markdown, &Options::default());
    let mut steps = Vec::new();
    let mut file_for_next_block: Option<String> = None;
    for node in root.descendants() {
        let data = node.data();
        let line = data.sourcepos.start.line;
        match &data.value {
            NodeValue::HtmlBlock(html) => {
                let text = html.literal.trim();
                if text == NEW_FOLDER {
                    steps.push(Step::NewFolder);
                } else if let Some(rest) = text.strip_prefix(SETUP) {
                    let script = rest
                        .strip_suffix("-->")
                        .expect("setup comment closes")
                        .to_owned();
                    steps.push(Step::Setup { line, script });
                } else if let Some(rest) = text.strip_prefix(FILE) {
                    let path = rest
                        .strip_suffix("-->")
                        .expect("file comment closes")
                        .trim();
                    file_for_next_block = Some(path.to_owned());
                }
            }
            NodeValue::CodeBlock(block) => {
                if let Some(path) = file_for_next_block.take() {
                    steps.push(Step::File {
                        path,
                        text: block.literal.clone(),
                    });
                } else if block.info.split_whitespace().next() == Some("console") {
                    steps.push(Step::Console {
                        line,
                        text: block.literal.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    assert!(
        file_for_next_block.is_none(),
        "an example-file comment is not followed by a code block"
    );
    steps
}

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One shell line in the sandbox, with the binary under test first on PATH and
/// a home and git configuration of the sandbox's own.
fn shell(sandbox: &Path, line: &str) -> std::process::Output {
    let binary = Path::new(env!("CARGO_BIN_EXE_tollgate"));
    let path = format!(
        "{}:{}",
        binary.parent().expect("the binary has a folder").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1; {line}"))
        .current_dir(sandbox)
        .env("PATH", path)
        .env("REPO", repository())
        .env("HOME", sandbox)
        .env("GIT_CONFIG_GLOBAL", sandbox.join(".gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env_remove("TOLLGATE_PLAYBOOK")
        .env_remove("TOLLGATE_ROOT")
        .output()
        .expect("sh runs")
}

/// Splits a console block into its commands and the output each must print.
fn commands(block: &str) -> Vec<(String, String)> {
    let mut commands: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        if let Some(command) = line.strip_prefix("$ ") {
            commands.push((command.to_owned(), String::new()));
        } else {
            let (_, expected) = commands
                .last_mut()
                .expect("a console block starts with `$ `");
            expected.push_str(line);
            expected.push('\n');
        }
    }
    commands
}

fn run_page(page: &str) -> usize {
    let markdown = std::fs::read_to_string(repository().join(page)).expect("the page reads");
    let mut sandbox = tempfile::tempdir().expect("a temporary folder");
    let mut ran = 0;
    for step in steps(&markdown) {
        match step {
            Step::NewFolder => sandbox = tempfile::tempdir().expect("a temporary folder"),
            Step::Setup { line, script } => {
                for command in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    let output = shell(sandbox.path(), command);
                    assert!(
                        output.status.success(),
                        "{page}:{line}: setup `{command}` failed:\n{}",
                        String::from_utf8_lossy(&output.stdout)
                    );
                }
            }
            Step::File { path, text } => {
                let target = sandbox.path().join(path);
                std::fs::create_dir_all(target.parent().expect("a file has a folder"))
                    .expect("mkdir");
                std::fs::write(target, text).expect("the example file writes");
            }
            Step::Console { line, text } => {
                for (command, expected) in commands(&text) {
                    let runnable = match command.strip_prefix("cargo run --release -- ") {
                        Some(arguments) => format!("tollgate {arguments}"),
                        None => command.clone(),
                    };
                    let output = shell(sandbox.path(), &runnable);
                    let actual = String::from_utf8_lossy(&output.stdout).into_owned();
                    if let Err(error) = snapbox::Assert::new().try_eq(
                        Some(&format!("{page}:{line}: $ {command}")),
                        actual.into(),
                        expected.into(),
                    ) {
                        panic!("{page}:{line}: `$ {command}` printed something else\n{error}");
                    }
                    ran += 1;
                }
            }
        }
    }
    ran
}

/// Every page of the documentation with at least one console example; a page
/// that gains one must be listed here, which `every_console_example_is_run`
/// holds.
const PAGES: &[&str] = &[
    "README.md",
    "docs/commands.md",
    "docs/playbooks.md",
    "docs/plugins.md",
    "docs/suppressing.md",
];

#[test]
fn readme_examples_print_what_they_show() {
    assert!(run_page("README.md") >= 8);
}

#[test]
fn commands_page_examples_print_what_they_show() {
    assert!(run_page("docs/commands.md") >= 6);
}

#[test]
fn playbooks_page_examples_print_what_they_show() {
    assert!(run_page("docs/playbooks.md") >= 1);
}

#[test]
fn plugins_page_examples_print_what_they_show() {
    assert!(run_page("docs/plugins.md") >= 1);
}

#[test]
fn suppressing_page_examples_print_what_they_show() {
    assert!(run_page("docs/suppressing.md") >= 1);
}

#[test]
fn every_console_example_is_run() {
    let mut pages = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(repository().join("docs")).expect("docs/ lists") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(format!(
                "docs/{}",
                path.file_name().expect("a name").to_string_lossy()
            ));
        }
    }
    for page in pages {
        let markdown = std::fs::read_to_string(repository().join(&page)).expect("the page reads");
        let examples = steps(&markdown)
            .iter()
            .filter(|s| matches!(s, Step::Console { .. }))
            .count();
        assert_eq!(
            examples > 0,
            PAGES.contains(&page.as_str()),
            "{page}: {examples} console examples; PAGES must list exactly the pages that have some"
        );
        let run: usize = steps(&markdown)
            .iter()
            .map(|step| match step {
                Step::Console { text, .. } => commands(text).len(),
                _ => 0,
            })
            .sum();
        let shown = markdown
            .lines()
            .filter(|l| l.trim_start().starts_with("$ "))
            .count();
        assert_eq!(
            run, shown,
            "{page}: a `$ ` command sits outside a console block, so it is not run"
        );
    }
}
