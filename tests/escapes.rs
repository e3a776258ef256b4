//! A repository is untrusted input: a pull request can change its playbook,
//! its state, its documents and its symbolic links, and CI runs Tollgate on
//! it with secrets around. Each test here is a way out of the project root,
//! through the real binary: a write through a link, a read of a file
//! outside, a special file that would hang. Each must be refused with a
//! message, and leave what lies outside untouched and unprinted.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::Digest;

/// What lies outside the project: a secret file beside the root.
const SECRET: &str = "SECRET-TOKEN-41";

/// The time `TOLLGATE_NOW` fixes.
const NOW: &str = "2026-03-01T10:00:00Z";

/// A playbook of two steps, the second a human gate whose approval a
/// third step requires.
const PLAYBOOK: &str = r#"tollgate: 1
name: escapes
state_dir: .tollgate
phases: [{ id: draft }, { id: specified }, { id: planned }, { id: done }]
artifacts:
  spec: "docs/{{ subject.slug }}/spec.md"
  plan: "docs/{{ subject.slug }}/plan.md"
steps:
  - id: specify
    from: draft
    to: specified
    checks:
      - { id: spec-exists, artifact: spec, exists: true }
  - id: plan
    from: specified
    to: planned
    gate: human
    checks:
      - { id: plan-exists, artifact: plan, exists: true }
  - id: ship
    from: planned
    to: done
    requires:
      - { approved: plan }
"#;

/// A project root (holding `.git`, as a checkout does) inside a temporary
/// folder that also holds what lies outside it.
struct Repo {
    _dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn output(&self) -> String {
        format!(
            "[exit {:?}]\n{}[stderr]\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    fn expect(self, code: i32) -> Self {
        assert_eq!(self.code, Some(code), "{}", self.output());
        assert!(!self.stderr.contains("panicked"), "{}", self.output());
        self
    }

    fn never_shows_the_secret(self) -> Self {
        assert!(!self.output().contains(SECRET), "{}", self.output());
        self
    }
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let outside = dir.path().join("outside");
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("secret.txt"), format!("{SECRET}\n")).unwrap();
        let repo = Self {
            _dir: dir,
            root,
            outside,
        };
        repo.write("tollgate.yaml", PLAYBOOK);
        repo
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn link(&self, relative: &str, target: &Path) {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        symlink(target, path).unwrap();
    }

    fn secret(&self) -> PathBuf {
        self.outside.join("secret.txt")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
        command
            .current_dir(&self.root)
            .env("TOLLGATE_NOW", NOW)
            .env("USER", "tester")
            .env_remove("TOLLGATE_PLAYBOOK")
            .env_remove("TOLLGATE_FAULT")
            .args(["--root", ".", "--color", "never"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs a command; one that has not ended after 20 seconds is killed
    /// and fails the test (it hung).
    fn run(&self, args: &[&str]) -> Run {
        let mut child = self.command(args).spawn().unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(20) {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("`tollgate {}` hung", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn outside_files(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.outside)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn secret_is_intact(&self) {
        assert_eq!(
            fs::read_to_string(self.secret()).unwrap(),
            format!("{SECRET}\n")
        );
        assert_eq!(self.outside_files(), ["secret.txt"]);
    }
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

// --- State writes never follow a link -------------------------------------

#[test]
fn a_linked_temporary_state_file_does_not_redirect_a_write() {
    let repo = Repo::new();
    repo.link(".tollgate/subjects/.F-1.json.tmp", &repo.secret());
    repo.run(&["new", "F-1"]).expect(0);
    repo.secret_is_intact();
    // The stale link was removed under the lock, as a killed writer's
    // temporary file is; the subject was written in its own file.
    assert!(fs::symlink_metadata(repo.path(".tollgate/subjects/.F-1.json.tmp")).is_err());
    assert!(repo.path(".tollgate/subjects/F-1.json").is_file());
}

#[test]
fn a_linked_history_is_refused() {
    let repo = Repo::new();
    repo.link(".tollgate/history.jsonl", &repo.secret());
    let run = repo.run(&["new", "F-1"]).expect(2);
    assert!(
        run.stderr.contains(
            "`.tollgate/history.jsonl` is a symbolic link; Tollgate does not write through links"
        ),
        "{}",
        run.output()
    );
    repo.secret_is_intact();
    assert!(!repo.path(".tollgate/subjects/F-1.json").exists());
}

#[test]
fn a_linked_subject_file_is_refused() {
    let repo = Repo::new();
    repo.run(&["new", "F-1"]).expect(0);
    let subject = fs::read_to_string(repo.path(".tollgate/subjects/F-1.json")).unwrap();
    repo.write("docs/planted.json", &subject);
    fs::remove_file(repo.path(".tollgate/subjects/F-1.json")).unwrap();
    repo.link(
        ".tollgate/subjects/F-1.json",
        &repo.path("docs/planted.json"),
    );
    repo.write("docs/f-1/spec.md", "# Spec\n");
    let run = repo.run(&["advance", "F-1"]).expect(2);
    assert!(
        run.stderr
            .contains("`.tollgate/subjects/F-1.json` is a symbolic link"),
        "{}",
        run.output()
    );
    assert_eq!(
        fs::read_to_string(repo.path("docs/planted.json")).unwrap(),
        subject
    );
    // Nothing was recorded: the history has only the registration.
    let history = fs::read_to_string(repo.path(".tollgate/history.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 1, "{history}");
}

#[test]
fn a_linked_state_folder_is_refused() {
    let repo = Repo::new();
    repo.link(".tollgate", &repo.outside);
    let run = repo.run(&["new", "F-1"]).expect(2);
    assert!(
        run.stderr.contains("`.tollgate` is a symbolic link"),
        "{}",
        run.output()
    );
    repo.secret_is_intact();
}

#[test]
fn a_linked_subjects_folder_is_refused() {
    let repo = Repo::new();
    fs::create_dir_all(repo.path(".tollgate")).unwrap();
    repo.link(".tollgate/subjects", &repo.outside);
    let run = repo.run(&["new", "F-1"]).expect(2);
    assert!(
        run.stderr
            .contains("`.tollgate/subjects` is a symbolic link"),
        "{}",
        run.output()
    );
    repo.secret_is_intact();
}

#[test]
fn a_state_folder_outside_the_root_is_refused_at_run_time() {
    for state_dir in ["../outside", "/tmp/tollgate-escapes-state"] {
        let repo = Repo::new();
        let state_dir = match state_dir.starts_with('/') {
            true => repo.outside.join("state").display().to_string(),
            false => state_dir.to_string(),
        };
        repo.write(
            "tollgate.yaml",
            &PLAYBOOK.replace("state_dir: .tollgate", &format!("state_dir: {state_dir}")),
        );
        let run = repo.run(&["new", "F-1"]).expect(2);
        assert!(
            run.stderr.contains("outside the project root"),
            "{}",
            run.output()
        );
        repo.secret_is_intact();
    }
}

// --- Nothing outside the root is read or printed ---------------------------

#[test]
fn a_base_playbook_outside_the_repository_is_not_read() {
    let repo = Repo::new();
    fs::write(repo.outside.join("base.yaml"), format!("{SECRET}: [\n")).unwrap();
    for base in [
        "../outside/base.yaml".to_string(),
        repo.outside.join("base.yaml").display().to_string(),
    ] {
        repo.write("tollgate.yaml", &format!("extends: {base}\n{PLAYBOOK}"));
        for args in [&["lint"][..], &["status"], &["show", "specify"]] {
            let run = repo.run(args).never_shows_the_secret();
            assert!(
                run.code == Some(1) || run.code == Some(2),
                "{}",
                run.output()
            );
            assert!(run.output().contains("outside"), "{}", run.output());
        }
    }
}

#[test]
fn a_base_playbook_linked_out_of_the_repository_is_not_read() {
    let repo = Repo::new();
    fs::write(repo.outside.join("base.yaml"), format!("{SECRET}: [\n")).unwrap();
    repo.link("base.yaml", &repo.outside.join("base.yaml"));
    repo.write("tollgate.yaml", &format!("extends: base.yaml\n{PLAYBOOK}"));
    let run = repo.run(&["lint"]).never_shows_the_secret();
    assert!(
        run.output().contains("path-outside-root"),
        "{}",
        run.output()
    );
}

/// A plugin that would report what it was given.
const LEAKY_PLUGIN: &str = "return { leak = function(ctx) ctx:error('SECRET-TOKEN-41') end }\n";

#[test]
fn a_plugin_outside_the_repository_is_not_loaded() {
    let repo = Repo::new();
    fs::write(repo.outside.join("p.lua"), LEAKY_PLUGIN).unwrap();
    let playbook = PLAYBOOK.replace(
        "      - { id: spec-exists, artifact: spec, exists: true }",
        "      - { id: spec-exists, artifact: spec, exists: true }\n      - { id: leak, artifact: spec, plugin: p.leak }",
    );
    repo.write("docs/x.md", "# X\n");
    for plugin in [
        "../outside/p.lua".to_string(),
        repo.outside.join("p.lua").display().to_string(),
    ] {
        repo.write(
            "tollgate.yaml",
            &format!("plugins: {{ p: {plugin} }}\n{playbook}"),
        );
        let run = repo
            .run(&["check", "--step", "specify", "docs/x.md"])
            .expect(1)
            .never_shows_the_secret();
        assert!(
            run.stdout.contains("outside the project root"),
            "{}",
            run.output()
        );
        let run = repo.run(&["lint"]).never_shows_the_secret();
        assert!(run.code == Some(1), "{}", run.output());
    }
}

#[test]
fn a_step_document_linked_out_of_the_folder_is_not_read_by_lint() {
    let repo = Repo::new();
    fs::write(repo.outside.join("doc.md.j2"), format!("{{{{ {SECRET} (\n")).unwrap();
    repo.link("steps/doc.md.j2", &repo.outside.join("doc.md.j2"));
    let playbook = PLAYBOOK.replace(
        "    from: draft\n",
        "    from: draft\n    document: steps/doc.md.j2\n",
    );
    repo.write("tollgate.yaml", &playbook);
    let run = repo.run(&["lint"]).expect(1).never_shows_the_secret();
    assert!(run.stdout.contains("path-outside-root"), "{}", run.output());
    let run = repo
        .run(&["show", "specify"])
        .expect(2)
        .never_shows_the_secret();
    assert!(
        run.stderr.contains("outside the playbook's folder"),
        "{}",
        run.output()
    );
}

#[test]
fn a_plugin_test_case_cannot_read_outside_the_repository() {
    let repo = Repo::new();
    repo.write(
        "plugins/echo.lua",
        "return { echo = function(ctx) ctx:error(ctx.doc.text) end }\n",
    );
    for file in [
        "../../outside/secret.txt".to_string(),
        repo.secret().display().to_string(),
    ] {
        repo.write(
            "plugins/echo.test.yaml",
            &format!(
                "cases:\n  - name: leak\n    function: echo\n    file: {file}\n    expect: []\n"
            ),
        );
        let run = repo
            .run(&["plugin", "test", "plugins/echo.lua"])
            .expect(1)
            .never_shows_the_secret();
        assert!(
            run.stdout.contains("outside the project root"),
            "{}",
            run.output()
        );
    }
}

// --- A state file cannot make Tollgate read anything -----------------------

/// `F-1` in phase `planned` with an approval of `plan` that pins `pinned`.
fn approved_subject(pinned: &str) -> String {
    format!(
        r#"{{
  "id": "F-1", "title": "", "slug": "f-1", "phase": "planned", "created_at": "{NOW}",
  "approvals": [{{ "step": "plan", "by": "ana", "at": "{NOW}", "artifacts": {pinned} }}]
}}
"#
    )
}

#[test]
fn a_pinned_artifact_the_playbook_dropped_makes_the_approval_stale() {
    let repo = Repo::new();
    let digest = sha2::Sha256::digest(format!("{SECRET}\n").as_bytes());
    let secret_hash: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let pinned = format!(
        r#"{{ "gone": {{ "path": "../outside/secret.txt", "sha256": "{secret_hash}" }} }}"#
    );
    repo.write(".tollgate/subjects/F-1.json", &approved_subject(&pinned));
    let run = repo
        .run(&["check", "F-1"])
        .expect(1)
        .never_shows_the_secret();
    assert!(
        run.stdout
            .contains("artifact `gone` it pinned is no longer in the playbook"),
        "{}",
        run.output()
    );
}

#[test]
fn a_pinned_fifo_or_device_is_never_read() {
    let repo = Repo::new();
    mkfifo(&repo.outside.join("fifo"));
    for path in ["/dev/zero", "../outside/fifo"] {
        let pinned = format!(r#"{{ "gone": {{ "path": "{path}", "sha256": null }} }}"#);
        repo.write(".tollgate/subjects/F-1.json", &approved_subject(&pinned));
        let run = repo.run(&["status"]).expect(0);
        assert!(run.stdout.contains("(stale)"), "{}", run.output());
    }
}

// --- Special files never hang a read ---------------------------------------

#[test]
fn an_artifact_that_is_a_fifo_is_refused_not_waited_for() {
    let repo = Repo::new();
    repo.run(&["new", "F-1", "--no-scaffold"]).expect(0);
    fs::create_dir_all(repo.path("docs/f-1")).unwrap();
    mkfifo(&repo.path("docs/f-1/spec.md"));
    // A file that cannot be read is unusable input.
    let run = repo.run(&["check", "F-1"]).expect(2);
    assert!(
        run.stdout.contains("not a regular file"),
        "{}",
        run.output()
    );
    let run = repo.run(&["check", "--step", "specify", "docs/f-1/spec.md"]);
    assert!(
        run.stdout.contains("not a regular file"),
        "{}",
        run.output()
    );
}

#[test]
fn a_base_playbook_that_is_a_fifo_is_refused_not_waited_for() {
    let repo = Repo::new();
    mkfifo(&repo.path("base.yaml"));
    repo.write("tollgate.yaml", &format!("extends: base.yaml\n{PLAYBOOK}"));
    let run = repo.run(&["lint"]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(
        run.stdout.contains("not a regular file"),
        "{}",
        run.output()
    );
}

#[test]
fn ctx_read_of_a_fifo_is_refused_not_waited_for() {
    let repo = Repo::new();
    mkfifo(&repo.path("notes.txt"));
    repo.write(
        "plugins/p.lua",
        "return { r = function(ctx) local text, why = ctx:read('notes.txt'); ctx:error(why) end }\n",
    );
    let playbook = PLAYBOOK.replace(
        "      - { id: spec-exists, artifact: spec, exists: true }",
        "      - { id: spec-exists, artifact: spec, exists: true }\n      - { id: r, artifact: spec, plugin: p.r }",
    );
    repo.write(
        "tollgate.yaml",
        &format!("plugins: {{ p: plugins/p.lua }}\n{playbook}"),
    );
    repo.write("docs/x.md", "# X\n");
    let run = repo
        .run(&["check", "--step", "specify", "docs/x.md"])
        .expect(1);
    assert!(
        run.stdout.contains("not a regular file"),
        "{}",
        run.output()
    );
}

// --- init never writes through a link --------------------------------------

#[test]
fn init_does_not_create_a_file_through_a_dangling_link() {
    let repo = Repo::new();
    fs::remove_file(repo.path("tollgate.yaml")).unwrap();
    repo.link(".luarc.json", &repo.outside.join("planted.json"));
    let run = repo.run(&["init"]).expect(2);
    assert!(run.stderr.contains(".luarc.json"), "{}", run.output());
    repo.secret_is_intact();
}

#[test]
fn init_with_force_does_not_write_through_links() {
    let repo = Repo::new();
    fs::remove_file(repo.path("tollgate.yaml")).unwrap();
    repo.link("tollgate.yaml", &repo.secret());
    let run = repo.run(&["init", "--force"]).expect(2);
    assert!(run.stderr.contains("symbolic link"), "{}", run.output());
    repo.secret_is_intact();

    let repo = Repo::new();
    fs::remove_file(repo.path("tollgate.yaml")).unwrap();
    repo.link(".tollgate", &repo.outside);
    let run = repo.run(&["init", "--force"]).expect(2);
    assert!(run.stderr.contains("symbolic link"), "{}", run.output());
    repo.secret_is_intact();
}

// --- An approval pins everything its step read ------------------------------

#[test]
fn an_approval_goes_stale_when_any_file_its_step_read_changes() {
    let repo = Repo::new();
    repo.write(
        "plugins/p.lua",
        "return { reads = function(ctx)\n\
         local notes = ctx:read('notes.txt')\n\
         local spec = ctx:artifact('spec')\n\
         if not notes or not spec then ctx:error('missing') end\n\
         end }\n",
    );
    let playbook = PLAYBOOK
        .replace(
            "    gate: human\n",
            "    gate: human\n    requires:\n      - { artifact: spec, exists: true }\n",
        )
        .replace(
            "      - { id: plan-exists, artifact: plan, exists: true }",
            "      - { id: plan-exists, artifact: plan, exists: true }\n      - { id: reads, plugin: p.reads }",
        );
    repo.write(
        "tollgate.yaml",
        &format!("plugins: {{ p: plugins/p.lua }}\n{playbook}"),
    );
    repo.write("notes.txt", "v1\n");
    repo.write("docs/f-1/spec.md", "# Spec\n");
    repo.write("docs/f-1/plan.md", "# Plan\n");
    repo.run(&["new", "F-1"]).expect(0);
    repo.run(&["advance", "F-1"]).expect(0);
    repo.run(&["approve", "F-1", "--by", "ana"]).expect(0);
    let stale = || repo.run(&["status"]).expect(0).stdout.contains("(stale)");
    assert!(!stale());
    for (file, changed, original) in [
        ("notes.txt", "v2\n", "v1\n"),
        ("docs/f-1/spec.md", "# Spec, changed\n", "# Spec\n"),
        ("docs/f-1/plan.md", "# Plan, changed\n", "# Plan\n"),
    ] {
        repo.write(file, changed);
        assert!(stale(), "{file} changed");
        repo.write(file, original);
        assert!(!stale(), "{file} restored");
    }
}

/// A plugin check with no artifact pins what it asked for even when there
/// was nothing to read: a file that appears after the approval makes it
/// stale, as one that changes does.
#[test]
fn an_approval_pins_a_file_a_plugin_found_missing() {
    let repo = Repo::new();
    repo.write(
        "plugins/p.lua",
        "return { reads = function(ctx)\n\
         local notes = ctx:read('notes.txt')\n\
         if notes and notes:find('blocker') then ctx:error('a blocker') end\n\
         end }\n",
    );
    let playbook = PLAYBOOK.replace(
        "      - { id: plan-exists, artifact: plan, exists: true }",
        "      - { id: reads, plugin: p.reads }",
    );
    repo.write(
        "tollgate.yaml",
        &format!("plugins: {{ p: plugins/p.lua }}\n{playbook}"),
    );
    repo.write("docs/f-1/spec.md", "# Spec\n");
    repo.run(&["new", "F-1"]).expect(0);
    repo.run(&["advance", "F-1"]).expect(0);
    repo.run(&["approve", "F-1", "--by", "ana"]).expect(0);
    let subject = fs::read_to_string(repo.path(".tollgate/subjects/F-1.json")).unwrap();
    let subject: serde_json::Value = serde_json::from_str(&subject).unwrap();
    assert_eq!(
        subject["approvals"][0]["files"],
        serde_json::json!({ "notes.txt": null }),
        "{subject}"
    );
    let stale = || repo.run(&["status"]).expect(0).stdout.contains("(stale)");
    assert!(!stale());
    repo.write("notes.txt", "a blocker\n");
    assert!(stale(), "a file that appeared after the approval");
    fs::remove_file(repo.path("notes.txt")).unwrap();
    assert!(!stale(), "gone again, as approved");
}

#[test]
fn a_file_named_on_the_command_line_that_links_out_is_not_read() {
    let repo = Repo::new();
    repo.link("docs/spec.md", &repo.secret());
    let run = repo
        .run(&["check", "--step", "specify", "docs/spec.md"])
        .expect(2)
        .never_shows_the_secret();
    assert!(
        run.stdout.contains("lies outside the project root"),
        "{}",
        run.output()
    );
}

#[test]
fn a_subject_whose_documents_lead_outside_is_reported_and_the_others_are_still_checked() {
    let repo = Repo::new();
    for (id, title) in [("F-1", "One"), ("F-2", "Two"), ("F-3", "Three")] {
        repo.run(&["new", id, "--title", title]).expect(0);
    }
    let state = fs::read_to_string(repo.path(".tollgate/subjects/F-2.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    let slug = state["slug"].as_str().unwrap();
    let folder = format!("docs/{slug}");
    if repo.path(&folder).exists() {
        fs::remove_dir_all(repo.path(&folder)).unwrap();
    }
    repo.link(&folder, &repo.outside);
    let run = repo
        .run(&["check", "--all"])
        .expect(2)
        .never_shows_the_secret();
    assert!(
        run.stdout.contains("F-1 · specify: passed"),
        "{}",
        run.output()
    );
    assert!(
        run.stdout.contains("F-3 · specify: passed"),
        "{}",
        run.output()
    );
    assert!(!run.stdout.contains("F-2"), "{}", run.output());
    assert!(
        run.stdout.contains("2 subjects checked"),
        "{}",
        run.output()
    );
    assert!(run.stderr.contains("F-2"), "{}", run.output());
}
