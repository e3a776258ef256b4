//! The plugins shipped in `plugins/` pass their own test files, through the
//! real binary, as the README shows.

use std::process::Command;

#[test]
fn bundled_plugins_pass_their_tests() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut tested = 0;
    for entry in std::fs::read_dir(format!("{root}/plugins")).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".test.yaml") {
            continue;
        }
        let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(["plugin", "test"])
            .arg(&path)
            .current_dir(root)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{}:\n{stdout}", path.display());
        assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
        tested += 1;
    }
    assert!(tested >= 2, "expected the owners and risk_coverage tests");
}

#[test]
fn a_failing_case_exits_1_and_says_what_differs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/owners.lua"),
        dir.path().join("owners.lua"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("owners.test.yaml"),
        "cases:\n  - name: wrong line\n    function: check\n    document: |\n      ## Risks Register\n\n      | Risk | Owner |\n      |------|-------|\n      | Data loss | Bo |\n    expect:\n      - { severity: error, line: 9 }\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["plugin", "test"])
        .arg(dir.path().join("owners.lua"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL") && stdout.contains("0 passed, 1 failed"),
        "{stdout}"
    );
}

#[test]
fn a_plugin_that_does_not_compile_is_reported_once_at_its_mistake() {
    let dir = tempfile::tempdir().unwrap();
    // The list opened on line 3 misses its `}` after line 5; Luau notices
    // only at the `local` of line 6.
    std::fs::write(
        dir.path().join("owners.lua"),
        "local M = {}\nfunction M.check(ctx)\n  local owners = {\n    \"ana\",\n    \"bo\"\n  local x = 1\n  return owners\nend\nreturn M\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("owners.test.yaml"),
        "cases:\n  - { name: one, function: check, document: x, expect: [] }\n  - { name: two, function: check, document: y, expect: [] }\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["plugin", "test", "owners.lua"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(
        stdout,
        "owners.test.yaml\n  error: owners.lua:5: syntax error: Expected '}' (to close '{' at line 3), got 'local'\n"
    );
}

/// A path typed from a subfolder is relative to that folder, not to the
/// repository root that confines what the plugin may read.
#[test]
fn a_plugin_named_from_a_subfolder_is_found() {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["plugin", "test", "../../plugins/owners.lua"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.ends_with("2 passed, 0 failed\n"), "{stdout}");
}
