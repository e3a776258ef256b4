//! Inputs meant to break a YAML reader. Each must end with `tollgate lint`
//! exiting 2 and a message naming the file (and the position, where there
//! is one): never a panic, a hang or pages of output. The inputs are made
//! in a temporary folder at test time; none is committed.

use std::path::Path;
use std::process::{Command, Output};

/// More than any message about one file needs: the code frame of a
/// 10 MB line or a 100,000-level nesting must be cut down.
const MAX_OUTPUT_BYTES: usize = 4 * 1024;

/// Runs `tollgate lint NAME` in `dir`, so that messages show `NAME`.
fn lint(dir: &Path, name: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["lint", "--color", "never", name])
        .current_dir(dir)
        .env_remove("TOLLGATE_PLAYBOOK")
        .output()
        .expect("tollgate runs")
}

/// Writes `bytes` to `name` in a new folder, lints it, and checks the
/// outcome: exit 2, diagnostic `code`, and `location` (`name` or
/// `name:line:column`) in the output.
fn assert_unusable(name: &str, bytes: &[u8], code: &str, location: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    assert_unusable_in(dir.path(), name, code, location);
}

fn assert_unusable_in(dir: &Path, name: &str, code: &str, location: &str) {
    let output = lint(dir, name);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
    assert_eq!(output.status.code(), Some(2), "{name}:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("error[{code}]")),
        "{name} should give `{code}`:\n{stdout}"
    );
    assert!(
        stdout.contains(location),
        "{name} should name `{location}`:\n{stdout}"
    );
    assert!(
        output.stdout.len() + output.stderr.len() <= MAX_OUTPUT_BYTES,
        "{name} printed {} bytes",
        output.stdout.len() + output.stderr.len()
    );
}

#[test]
fn an_empty_file() {
    assert_unusable("empty.yaml", b"", "empty-file", "empty.yaml");
}

#[test]
fn a_file_of_whitespace() {
    assert_unusable(
        "blank.yaml",
        b"  \n\n\t\n   \r\n",
        "empty-file",
        "blank.yaml",
    );
}

#[test]
fn a_list_where_a_mapping_belongs() {
    assert_unusable(
        "list.yaml",
        b"- id: plan\n  from: specify\n",
        "not-a-mapping",
        "list.yaml:1:1",
    );
}

#[test]
fn a_scalar_where_a_mapping_belongs() {
    assert_unusable(
        "scalar.yaml",
        b"just some words\n",
        "not-a-mapping",
        "scalar.yaml:1:1",
    );
}

#[test]
fn an_unclosed_flow_sequence() {
    assert_unusable(
        "unclosed.yaml",
        b"tollgate: 1\nphases: [a, b\n",
        "yaml-syntax",
        "unclosed.yaml:2:9",
    );
}

#[test]
fn a_mapping_value_where_none_may_be() {
    assert_unusable(
        "colon.yaml",
        b"tollgate: 1\nname: a: b\n",
        "yaml-syntax",
        "colon.yaml:2:8",
    );
}

#[test]
fn a_duplicate_key() {
    assert_unusable(
        "twice.yaml",
        b"tollgate: 1\nname: a\nname: b\n",
        "duplicate-key",
        "twice.yaml:3:1",
    );
}

#[test]
fn bytes_that_are_not_utf8() {
    assert_unusable(
        "latin1.yaml",
        b"tollgate: 1\nname: caf\xe9\n",
        "not-utf8",
        "latin1.yaml:2:10",
    );
}

#[test]
fn a_nul_byte() {
    assert_unusable(
        "nul.yaml",
        b"tollgate: 1\nname: a\0b\n",
        "yaml-syntax",
        "nul.yaml:2:8",
    );
}

#[test]
fn a_billion_laughs() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..=9 {
        let aliases = vec![format!("*a{}", level - 1); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{aliases}]\n"));
    }
    // At the first alias whose replay passes the budget.
    assert_unusable(
        "laughs.yaml",
        text.as_bytes(),
        "yaml-limit",
        "laughs.yaml:6:10",
    );
}

#[test]
fn thousands_of_aliases() {
    let mut text = String::from("tollgate: 1\nx: &x 1\nvars:\n");
    for i in 0..5_000 {
        text.push_str(&format!("  v{i}: *x\n"));
    }
    // At the 1,001st alias.
    assert_unusable(
        "aliases.yaml",
        text.as_bytes(),
        "yaml-limit",
        "aliases.yaml:1004:10",
    );
}

#[test]
fn deep_flow_nesting() {
    let depth = 100_000;
    let text = format!("{}{}\n", "[".repeat(depth), "]".repeat(depth));
    // At the 65th bracket: the first past the limit of 64 levels.
    assert_unusable("flow.yaml", text.as_bytes(), "yaml-limit", "flow.yaml:1:65");
}

#[test]
fn deep_block_nesting_on_one_line() {
    let text = format!("{}x\n", "- ".repeat(100_000));
    // At the 65th `-`.
    assert_unusable(
        "block.yaml",
        text.as_bytes(),
        "yaml-limit",
        "block.yaml:1:129",
    );
}

#[test]
fn deep_flow_mappings() {
    let depth = 100_000;
    let text = format!("{}1{}\n", "{a: ".repeat(depth), "}".repeat(depth));
    // At the 65th `{`.
    assert_unusable(
        "maps.yaml",
        text.as_bytes(),
        "yaml-limit",
        "maps.yaml:1:257",
    );
}

#[test]
fn deep_block_mappings() {
    let text: String = (0..1_000)
        .map(|depth| format!("{}a:\n", " ".repeat(depth)))
        .collect();
    // At the 65th key.
    assert_unusable(
        "indented.yaml",
        text.as_bytes(),
        "yaml-limit",
        "indented.yaml:65:65",
    );
}

#[test]
fn a_50_megabyte_file() {
    let line = "key: a value long enough to fill fifty megabytes quickly\n";
    let text = line.repeat(50 * 1024 * 1024 / line.len() + 1);
    assert_unusable("huge.yaml", text.as_bytes(), "too-large", "huge.yaml");
}

#[test]
fn a_10_megabyte_line() {
    let text = format!("title: {}\n", "x".repeat(10 * 1024 * 1024));
    assert_unusable("line.yaml", text.as_bytes(), "too-large", "line.yaml");
}

#[test]
fn a_long_line_under_the_limit_is_framed_in_part() {
    // Not hostile to the reader, but to the terminal: the frame of a 3 MB
    // line must not print it whole.
    let text = format!("title: [{}\n", "x".repeat(3 * 1024 * 1024));
    assert_unusable("wide.yaml", text.as_bytes(), "yaml-syntax", "wide.yaml:1:8");
}

#[test]
fn a_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("folder.yaml")).unwrap();
    assert_unusable_in(dir.path(), "folder.yaml", "unreadable", "folder.yaml");
}

#[test]
fn a_file_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    assert_unusable_in(dir.path(), "missing.yaml", "unreadable", "missing.yaml");
}
