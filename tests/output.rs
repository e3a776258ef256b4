//! What reaches a terminal or a pipe: control characters from the
//! repository (titles, names, plugin messages, document lines, file names)
//! never reach it raw, and an output that fails never makes a command panic.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use std::fs;
use std::process::Stdio;

use harness::Project;

/// An ESC that would clear the line, a CR that returns to its start, and
/// a word written over what came before: how `failed` becomes `passed`.
const OVERWRITE: &str = "\u{1b}[2K\rpassed";

fn has_raw_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n')
}

#[test]
fn a_title_with_control_characters_or_of_any_length_is_refused() {
    let project = Project::new();
    let run = project
        .run(&["new", "F-1", "--title", &format!("x{OVERWRITE}")])
        .expect(2);
    assert!(run.stderr.contains("control character"), "{run}");
    let run = project
        .run(&["new", "F-1", "--title", "a\nF-9  forged row"])
        .expect(2);
    assert!(run.stderr.contains("control character"), "{run}");
    let long = "t".repeat(151);
    let run = project.run(&["new", "F-1", "--title", &long]).expect(2);
    assert_eq!(
        run.stderr,
        "tollgate: the title is 151 characters long; keep it to 150 (it names the subject's files)\n"
    );
    assert!(!project.subject_file("F-1").exists());
    project
        .run(&["new", "F-1", "--title", &"t".repeat(150)])
        .expect(0);
}

#[test]
fn control_characters_in_state_files_are_escaped_in_status() {
    let project = Project::new();
    project.run(&["new", "F-1", "--title", "Plain"]).expect(0);
    project.run(&["new", "F-2", "--title", "Other"]).expect(0);
    // A state file edited by hand, or by a pull request.
    let file = project.subject_file("F-1");
    let text = fs::read_to_string(&file).unwrap().replace(
        "\"title\": \"Plain\"",
        "\"title\": \"Plain\\u001b[2K\\rpassed\\nF-9  forged\"",
    );
    fs::write(&file, text).unwrap();
    let run = project.run(&["status"]).expect(0);
    assert!(!has_raw_controls(&run.stdout), "{run}");
    assert!(
        run.stdout.contains("Plain\\e[2K\\rpassed\\nF-9  forged"),
        "{run}"
    );
    assert_eq!(
        run.stdout.lines().count(),
        3,
        "a header and two rows:\n{run}"
    );
}

#[test]
fn an_approver_name_is_required_and_on_one_line() {
    let project = Project::new();
    project.run(&["new", "F-1"]).expect(0);
    project.place("spec-good.md", "specs/f-1/spec.md");
    project.place("plan-good.md", "specs/f-1/plan.md");
    project.run(&["advance", "F-1"]).expect(0);
    for by in ["", "  ", "ana\u{1b}[2K"] {
        let run = project.run(&["approve", "F-1", "--by", by]).expect(2);
        assert!(run.stderr.contains("a review needs the reviewer"), "{run}");
    }
    assert_eq!(project.subject("F-1")["approvals"], serde_json::json!([]));
}

#[test]
fn an_invalid_fixed_clock_is_not_recorded() {
    let project = Project::new();
    project
        .run_with(&["new", "F-1"], &[("TOLLGATE_NOW", "yesterday, honest")])
        .expect(0);
    let at = project.subject("F-1")["created_at"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(at.parse::<jiff::Timestamp>().is_ok(), "{at}");
}

#[test]
fn plugin_messages_and_document_lines_are_escaped_and_placed_in_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join(".git")).unwrap();
    fs::write(
        root.join("tollgate.yaml"),
        "tollgate: 1\nname: spoof\nplugins: { p: p.lua }\nphases: [{ id: a }, { id: b }]\n\
         artifacts: { doc: doc.md }\nsteps:\n  - id: s\n    from: a\n    to: b\n    checks:\n\
         \x20     - { id: words, artifact: doc, pattern: { regex: 'forbidden', expect: absent } }\n\
         \x20     - { id: spoof, artifact: doc, plugin: p.spoof }\n",
    )
    .unwrap();
    fs::write(
        root.join("p.lua"),
        "return { spoof = function(ctx)\n\
         ctx:error('bad\\27[2K\\rdoc.md: passed\\n', { line = 99, column = 500 })\n\
         end }\n",
    )
    .unwrap();
    fs::write(
        root.join("doc.md"),
        "# Doc\n\nforbidden \u{1b}]8;;http://x\u{7}here\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(root)
        .args([
            "--root", ".", "--color", "never", "check", "--step", "s", "doc.md",
        ])
        .env_remove("TOLLGATE_PLAYBOOK")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(!has_raw_controls(&stdout), "{stdout:?}");
    assert!(stdout.contains("bad\\e[2K\\rdoc.md: passed\\n"), "{stdout}");
    assert!(
        stdout.contains("forbidden \\e]8;;http://x\\u{7}here"),
        "{stdout}"
    );
    // Line 99, column 500 lies past the end: the finding points at the end.
    assert!(!stdout.contains("doc.md:99:500"), "{stdout}");
    let json = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(root)
        .args([
            "--root", ".", "check", "--step", "s", "doc.md", "--format", "json",
        ])
        .env_remove("TOLLGATE_PLAYBOOK")
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let spoof = &value["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "spoof")
        .cloned()
        .unwrap();
    // GitHub workflow commands are text for a log viewer too.
    let github = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(root)
        .args([
            "--root", ".", "check", "--step", "s", "doc.md", "--format", "github",
        ])
        .env_remove("TOLLGATE_PLAYBOOK")
        .output()
        .unwrap();
    let github = String::from_utf8(github.stdout).unwrap();
    assert!(!has_raw_controls(&github), "{github:?}");
    assert!(github.contains("bad\\e[2K"), "{github}");
    let line_length = "forbidden \u{1b}]8;;http://x\u{7}here".chars().count();
    assert_eq!(spoof["line"], 3, "{spoof}");
    assert_eq!(spoof["column"], line_length + 1, "{spoof}");
}

#[test]
fn a_file_name_with_a_line_break_cannot_forge_a_result_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(
        root.join("tollgate.yaml"),
        "tollgate: 1\nname: n\nphases: [{ id: a }, { id: b }]\nartifacts: { doc: doc.md }\n\
         steps:\n  - id: s\n    from: a\n    to: b\n    checks:\n\
         \x20     - { id: has-title, artifact: doc, sections: [Title] }\n",
    )
    .unwrap();
    let name = "x.md: passed\ny.md";
    fs::write(root.join(name), "no title\n").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(root)
        .args([
            "--root", ".", "--color", "never", "check", "--step", "s", name,
        ])
        .env_remove("TOLLGATE_PLAYBOOK")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with("x.md: passed\\ny.md: failed\n"),
        "{stdout}"
    );
    assert!(
        !stdout.lines().any(|line| line == "x.md: passed"),
        "{stdout}"
    );
}

/// `/dev/full` takes no byte: every write fails with "no space left".
fn dev_full() -> Option<fs::File> {
    match fs::OpenOptions::new().write(true).open("/dev/full") {
        Ok(file) => Some(file),
        Err(_) => {
            println!("skipped: this system has no /dev/full");
            None
        }
    }
}

#[test]
fn a_full_output_is_an_error_not_a_panic() {
    let project = Project::new();
    for args in [
        &["schema"][..],
        &["new", "F-1"],
        &["status"],
        &["check", "--all"],
        &["init"],
    ] {
        let Some(full) = dev_full() else { return };
        // `init` writes its playbook where --playbook says: inside the root.
        let written = project.root().join("tollgate.yaml");
        let mut command = match args {
            ["init"] => project.command_for(&written.to_string_lossy(), args),
            _ => project.command(args),
        };
        command.stdout(Stdio::from(full));
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write the output"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let project = Project::new();
    project.run(&["new", "F-1"]).expect(0);
    for args in [
        &["schema"][..],
        &["status"],
        &["check", "F-1"],
        &["show", "specify"],
        &["man"],
    ] {
        let mut command = project.command(args);
        let mut child = command.spawn().unwrap();
        // The reader goes away before reading anything, as `| head -0` does.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_check_that_only_warns_is_marked_as_a_warning_in_step_documents() {
    let folder = tempfile::tempdir().unwrap();
    let playbook = folder.path().join("playbook.yaml");
    fs::write(
        &playbook,
        "tollgate: 1\nname: warns\nphases: [{ id: a }, { id: b }]\n\
         artifacts: { doc: \"docs/{{ subject.slug }}.md\" }\n\
         steps:\n  - id: s\n    from: a\n    to: b\n    checks:\n\
         \x20     - { id: nice-to-have, artifact: doc, severity: warning, sections: [Appendix] }\n\
         \x20     - { id: must-have, artifact: doc, sections: [Summary] }\n",
    )
    .unwrap();
    let project = Project::with_playbook(&playbook.display().to_string());
    project.run(&["new", "X-1"]).expect(0);
    project.write("docs/x-1.md", "# Doc\n");
    let run = project
        .run(&["show", "s", "--subject", "X-1", "--with-results"])
        .expect(0);
    let line = |needle: &str| {
        run.stdout
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}:\n{run}"))
            .to_string()
    };
    assert!(line("missing section \"Appendix\"").contains("⚠️"), "{run}");
    assert!(
        !line("missing section \"Appendix\"").contains("❌"),
        "{run}"
    );
    assert!(line("missing section \"Summary\"").contains("❌"), "{run}");
}
