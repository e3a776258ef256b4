//! Help that teaches, shell completions and the manual page, through the
//! real binary.

use std::process::{Command, Output};

const SUBCOMMANDS: [&str; 14] = [
    "lint",
    "check",
    "new",
    "status",
    "show",
    "advance",
    "approve",
    "reject",
    "verify",
    "plugin",
    "graph",
    "schema",
    "completions",
    "man",
];

fn tollgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("TOLLGATE_PLAYBOOK")
        .env("COLUMNS", "100")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

#[test]
fn every_subcommand_has_examples_in_its_long_help() {
    for command in SUBCOMMANDS {
        let args: Vec<&str> = match command {
            "plugin" => vec!["plugin", "test", "--help"],
            _ => vec![command, "--help"],
        };
        let text = stdout(&tollgate(&args));
        assert!(text.contains("Example"), "{command}:\n{text}");
        assert!(
            text.contains("  tollgate "),
            "{command}: no example command\n{text}"
        );
    }
}

#[test]
fn short_help_stays_short() {
    let long = stdout(&tollgate(&["check", "--help"]));
    let short = stdout(&tollgate(&["check", "-h"]));
    assert!(!short.contains("Examples:"), "{short}");
    assert!(short.lines().count() < long.lines().count());
}

#[test]
fn check_help() {
    insta::assert_snapshot!(stdout(&tollgate(&["check", "--help"])));
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout(&tollgate(&["completions", shell]));
        for command in ["check", "lint", "status", "completions"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    let bash = stdout(&tollgate(&["completions", "bash"]));
    assert!(bash.contains("complete -F _tollgate"), "{bash}");
    insta::assert_snapshot!("completions_bash", bash);
}

#[test]
fn an_unknown_shell_exits_2() {
    let output = tollgate(&["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn man_page_is_roff() {
    let page = stdout(&tollgate(&["man"]));
    assert!(page.contains(".TH TOLLGATE 1"), "{page}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH OPTIONS",
        ".SH SUBCOMMANDS",
    ] {
        assert!(page.contains(section), "no {section}");
    }
    // Every control line is a request man(7) knows, so `man` renders it.
    let requests = [
        ".TH", ".SH", ".TP", ".IP", ".PP", ".RS", ".RE", ".br", ".ie", ".el",
    ];
    for line in page.lines().filter(|line| line.starts_with('.')) {
        let request = line.split_whitespace().next().unwrap_or_default();
        assert!(requests.contains(&request), "unknown request: {line}");
    }
    insta::assert_snapshot!("man_page", page);
}

#[test]
fn each_command_has_its_own_man_page() {
    let page = stdout(&tollgate(&["man", "check"]));
    assert!(page.contains(".TH TOLLGATE-CHECK 1"), "{page}");
    assert!(page.contains("\\-\\-format"), "{page}");
    assert!(
        page.contains("\\-\\-playbook"),
        "global options are on the page too"
    );
    let output = tollgate(&["man", "frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no command `frobnicate`"));
}
