//! `tollgate init` through the real binary: each bundled playbook written
//! into an empty project lints clean and runs; a whole SpecFlow session
//! (both gate variants) is snapshotted as a transcript; existing files are
//! never overwritten without `--force`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use harness::command_line;
use tollgate::init::BUNDLED;

const NOW: &str = "2026-01-24T10:00:00Z";
const SPEC_DIR: &str = ".specify/specs/f-1-nightly-export";

/// An empty project (a folder with `.git`) driven by the binary run in it,
/// with no `--playbook`: it finds `tollgate.yaml` at the root as a user's
/// shell would.
struct Project {
    dir: tempfile::TempDir,
    transcript: String,
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(".git")).unwrap();
        Self {
            dir,
            transcript: String::new(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `tollgate ARGS`, expects exit `code`, and adds the run to the
    /// transcript.
    fn run(&mut self, args: &[&str], code: i32) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .current_dir(self.root())
            .env("TOLLGATE_NOW", NOW)
            .env("USER", "tester")
            .env_remove("TOLLGATE_PLAYBOOK")
            .args(["--color", "never"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let run = Run {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        };
        writeln!(
            self.transcript,
            "$ {}\n[exit {}]\n{}{}",
            command_line(args),
            run.code.map_or("killed".into(), |c| c.to_string()),
            run.stdout,
            if run.stderr.is_empty() {
                String::new()
            } else {
                format!("[stderr]\n{}", run.stderr)
            }
        )
        .unwrap();
        assert_eq!(
            run.code,
            Some(code),
            "tollgate {args:?}:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        run
    }

    /// Copies a fixture of `tests/fixtures/specflow/` into the project.
    fn place(&mut self, fixture: &str, path: &str) {
        self.copy(&format!("tests/fixtures/specflow/{fixture}"), path);
    }

    /// Copies a file of the crate into the project, changed by `edit`.
    fn copy_edited(&mut self, source: &str, path: &str, edit: impl Fn(String) -> String) {
        let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(source)).unwrap();
        let target = self.root().join(path);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, edit(text)).unwrap();
        let name = source.rsplit('/').next().unwrap_or(source);
        writeln!(self.transcript, "# {name} → {path}\n").unwrap();
    }

    /// Copies a file of the crate into the project.
    fn copy(&mut self, source: &str, path: &str) {
        self.copy_edited(source, path, |text| text);
    }

    fn write_file(&self, path: &str, text: &str) {
        let target = self.root().join(path);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, text).unwrap();
    }

    fn read(&self, path: &str) -> String {
        fs::read_to_string(self.root().join(path)).unwrap()
    }
}

#[test]
fn every_bundled_playbook_inits_into_an_empty_project_and_lints_clean() {
    for bundled in BUNDLED {
        let mut project = Project::new();
        let init = project.run(&["init", "--template", bundled.name], 0);
        assert!(init.stdout.contains("  tollgate.yaml\n"), "{}", init.stdout);
        let playbook = project.read("tollgate.yaml");
        assert_eq!(
            playbook.lines().next(),
            Some("# yaml-language-server: $schema=.tollgate/playbook.schema.json"),
            "{}",
            bundled.name
        );
        assert_eq!(
            project.read(".tollgate/playbook.schema.json"),
            tollgate::playbook::schema::schema_text()
        );
        let lint = project.run(&["lint"], 0);
        assert!(
            lint.stdout.contains("0 errors, 0 warnings"),
            "{}: {}",
            bundled.name,
            lint.stdout
        );
        // The commands `init` suggests run as printed.
        let next = init.stdout.split("next:\n").nth(1).expect("next commands");
        for line in next.lines() {
            let line = line.trim().strip_prefix("tollgate ").expect(line);
            let args: Vec<&str> = line
                .split('"')
                .enumerate()
                .flat_map(|(i, part)| {
                    if i % 2 == 1 {
                        vec![part]
                    } else {
                        part.split_whitespace().collect()
                    }
                })
                .collect();
            project.run(&args, 0);
        }
        // The plugins come with their tests, which pass where they land.
        for file in bundled.files.iter().filter(|f| f.path.ends_with(".lua")) {
            let written = format!(".tollgate/{}", file.path);
            project.run(&["plugin", "test", &written], 0);
        }
    }
}

#[test]
fn the_editor_files_point_at_the_schema_and_the_stubs() {
    let mut project = Project::new();
    project.run(&["init"], 0);
    insta::assert_snapshot!(project.read(".luarc.json"), @r#"
    {
      "$schema": "https://raw.githubusercontent.com/LuaLS/vscode-lua/master/setting/schema.json",
      "runtime": {
        "version": "Lua 5.1"
      },
      "workspace": {
        "library": [
          ".tollgate/tollgate.d.lua"
        ]
      }
    }
    "#);
    assert_eq!(
        project.read(".tollgate/tollgate.d.lua"),
        include_str!("../plugins/tollgate.d.lua")
    );
}

#[test]
fn init_refuses_to_overwrite_and_writes_nothing_without_force() {
    let mut project = Project::new();
    project.run(&["init"], 0);
    fs::write(project.root().join("tollgate.yaml"), "mine\n").unwrap();
    fs::remove_file(project.root().join(".luarc.json")).unwrap();
    let refused = project.run(&["init", "--template", "specflow-automated"], 2);
    assert!(
        refused
            .stderr
            .starts_with("tollgate: init: tollgate.yaml, .tollgate/plugins/pai_principles.lua"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("use --force to overwrite"));
    assert!(
        !refused.stderr.contains(".luarc.json"),
        "{}",
        refused.stderr
    );
    assert_eq!(project.read("tollgate.yaml"), "mine\n");
    assert!(!project.root().join(".luarc.json").exists());
    assert!(!project.root().join(".tollgate/specflow.yaml").exists());

    project.run(&["init", "--template", "specflow-automated", "--force"], 0);
    assert!(
        project
            .read("tollgate.yaml")
            .contains("extends: .tollgate/specflow.yaml")
    );
    assert!(project.root().join(".luarc.json").exists());
}

#[test]
fn an_unknown_template_is_refused_with_the_bundled_ones() {
    let mut project = Project::new();
    let run = project.run(&["init", "--template", "no-such-process"], 2);
    assert!(
        run.stderr
            .contains("template `no-such-process` is not bundled in this build; bundled: specflow"),
        "{}",
        run.stderr
    );
    assert!(
        fs::read_dir(project.root()).unwrap().count() == 1,
        "only .git"
    );
}

/// The human-gated SpecFlow from `init` to a feature past its plan phase.
#[test]
fn a_feature_through_the_initialised_specflow_playbook() {
    let mut project = Project::new();
    project.run(&["init"], 0);
    project.run(&["lint"], 0);
    project.run(&["new", "F-1", "--title", "Nightly Export"], 0);
    project.place("spec.md", &format!("{SPEC_DIR}/spec.md"));
    project.run(&["approve", "F-1", "--by", "ana"], 0);
    project.place("plan-defective.md", &format!("{SPEC_DIR}/plan.md"));
    project.run(&["check", "F-1"], 1);
    project.place("plan-good.md", &format!("{SPEC_DIR}/plan.md"));
    project.run(&["check", "F-1"], 0);
    project.run(&["show", "plan", "--subject", "F-1", "--with-results"], 0);
    project.run(&["approve", "F-1", "--by", "bo"], 0);
    project.place("tasks.md", &format!("{SPEC_DIR}/tasks.md"));
    project.run(&["advance", "F-1"], 0);
    // Past the plan phase: the plan step is done, not judged again.
    let done = project.run(&["check", "F-1", "--step", "plan", "--format", "json"], 0);
    let json: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(json["results"][0]["verdict"], "done");
    project.run(&["status", "--format", "json"], 0);
    insta::assert_snapshot!(project.transcript);
}

/// The automated variant: the plan passes on its checks alone, which ask
/// more of it.
#[test]
fn a_feature_through_the_initialised_automated_variant() {
    let mut project = Project::new();
    project.run(&["init", "--template", "specflow-automated"], 0);
    project.run(&["new", "F-1", "--title", "Nightly Export"], 0);
    project.place("spec.md", &format!("{SPEC_DIR}/spec.md"));
    project.run(&["approve", "F-1", "--by", "ana"], 0);
    project.place("plan-defective.md", &format!("{SPEC_DIR}/plan.md"));
    project.run(&["check", "F-1", "--format", "json"], 1);
    project.place("plan-good.md", &format!("{SPEC_DIR}/plan.md"));
    project.run(&["advance", "F-1"], 0);
    project.run(&["check", "F-1", "--step", "plan"], 0);
    insta::assert_snapshot!(project.transcript);
}

/// spec-kit as its workflow runs: feature ids as spec-kit numbers them,
/// the spec reviewed, clarify skipped or taken, the plan reviewed, and the
/// feature's checklists (one artifact, many files) gating implement.
#[test]
fn a_feature_through_the_initialised_spec_kit_playbook() {
    const FEATURE: &str = "specs/001-offline-notes-sync";
    let mut project = Project::new();
    project.run(&["init", "--template", "spec-kit"], 0);
    project.run(&["new", "12", "--title", "Too short"], 2);
    project.run(&["new", "20260319-143022", "--title", "User Auth"], 0);
    project.run(&["new", "1042", "--title", "Bulk Export"], 0);
    project.run(&["new", "001", "--title", "Offline Notes Sync"], 0);
    project.copy(
        "examples/spec-kit/constitution.md",
        ".specify/memory/constitution.md",
    );
    project.run(&["advance", "001"], 0);
    // The spec as /speckit.specify leaves it: one open question.
    project.copy_edited(
        "examples/spec-kit/spec.md",
        &format!("{FEATURE}/spec.md"),
        |text| {
            text.replace(
                "keep both versions and ask the user to pick one.",
                "[NEEDS CLARIFICATION: which version wins?]",
            )
        },
    );
    project.run(&["approve", "001", "--by", "ana"], 0);
    // Clarify is optional: the next step is plan, which the open question fails.
    project.run(&["status", "001"], 0);
    project.copy("examples/spec-kit/plan.md", &format!("{FEATURE}/plan.md"));
    project.run(&["check", "001"], 1);
    // Taking clarify answers the question, which changes the reviewed spec.
    project.copy("examples/spec-kit/spec.md", &format!("{FEATURE}/spec.md"));
    project.run(&["advance", "001", "--step", "clarify"], 0);
    project.run(&["check", "001"], 1);
    project.run(&["approve", "001", "--step", "specify", "--by", "ana"], 0);
    project.run(&["approve", "001", "--by", "bo"], 0);
    project.copy("examples/spec-kit/tasks.md", &format!("{FEATURE}/tasks.md"));
    project.run(&["advance", "001"], 0);
    project.copy(
        "tests/fixtures/spec-kit/tasks-all-done.md",
        &format!("{FEATURE}/tasks.md"),
    );
    project.copy(
        "tests/fixtures/spec-kit/checklist-open-item.md",
        &format!("{FEATURE}/checklists/requirements.md"),
    );
    project.run(&["check", "001"], 1);
    project.run(
        &["show", "implement", "--subject", "001", "--with-results"],
        0,
    );
    project.copy_edited(
        "tests/fixtures/spec-kit/checklist-open-item.md",
        &format!("{FEATURE}/checklists/requirements.md"),
        |text| text.replace("- [ ]", "- [x]"),
    );
    project.run(&["advance", "001"], 0);
    project.run(&["status"], 0);
    insta::assert_snapshot!(project.transcript);
}

#[test]
fn the_initialised_plan_phase_playbooks_pass_their_example_plans() {
    for (template, example) in [
        ("spec-dev-plan", "examples/spec-dev-plan/active-plan.md"),
        ("spec-kit", "examples/spec-kit/plan.md"),
    ] {
        let mut project = Project::new();
        project.run(&["init", "--template", template], 0);
        let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(example)).unwrap();
        fs::write(project.root().join("plan.md"), text).unwrap();
        let check = project.run(&["check", "--step", "plan", "plan.md"], 0);
        assert!(
            check.stdout.contains("plan.md: awaiting_approval"),
            "{template}: {}",
            check.stdout
        );
    }
}

#[test]
fn init_list_names_each_bundled_playbook_and_writes_nothing() {
    let mut project = Project::new();
    let list = project.run(&["init", "--list"], 0);
    for bundled in BUNDLED {
        assert!(
            list.stdout
                .contains(&format!("{:<20} {}\n", bundled.name, bundled.summary)),
            "{}",
            list.stdout
        );
    }
    assert_eq!(list.stdout.lines().count(), BUNDLED.len());
    assert_eq!(
        fs::read_dir(project.root()).unwrap().count(),
        1,
        "only .git"
    );
}

#[test]
fn init_writes_the_playbook_where_playbook_says_with_paths_from_there() {
    let mut project = Project::new();
    let init = project.run(
        &[
            "--playbook",
            "ci/gate.yaml",
            "init",
            "--template",
            "minimal",
        ],
        0,
    );
    assert!(init.stdout.contains("  ci/gate.yaml\n"), "{}", init.stdout);
    assert!(
        init.stdout
            .contains("  tollgate --playbook ci/gate.yaml new CHG-1 --title \"First feature\"\n"),
        "{}",
        init.stdout
    );
    assert!(!project.root().join("tollgate.yaml").exists());
    let playbook = project.read("ci/gate.yaml");
    assert!(
        playbook.starts_with("# yaml-language-server: $schema=../.tollgate/playbook.schema.json\n"),
        "{playbook}"
    );
    assert!(
        playbook.contains("owners: ../.tollgate/plugins/owners.lua"),
        "{playbook}"
    );
    let lint = project.run(&["--playbook", "ci/gate.yaml", "lint"], 0);
    assert!(
        lint.stdout.contains("0 errors, 0 warnings"),
        "{}",
        lint.stdout
    );
    let outside = project.run(&["--playbook", "../gate.yaml", "init"], 2);
    assert!(
        outside.stderr.contains("is outside the project root"),
        "{}",
        outside.stderr
    );
}

#[test]
fn the_minimal_template_runs_a_change_through_its_one_step() {
    let mut project = Project::new();
    project.run(&["init", "--template", "minimal"], 0);
    project.run(&["new", "CHG-1", "--title", "Search"], 0);
    project.run(&["check", "CHG-1"], 1);
    fs::write(
        project.root().join("docs/changes/chg-1-search/design.md"),
        "# Design: CHG-1 Search\n\n## Context\n\nSearch is slow.\n\n## Proposal\n\nAn index.\n\n\
         ## Risks\n\n| Risk | Owner |\n|---|---|\n| Index drift | @ana |\n\n\
         ## Rollout\n\n- [x] Tested on staging\n- [x] Documented in the runbook\n",
    )
    .unwrap();
    project.run(&["advance", "CHG-1"], 0);
    insta::assert_snapshot!(project.transcript);
}

/// Every file `tollgate agents` writes, relative to the root, sorted.
fn agent_files(root: &Path) -> Vec<String> {
    let folders = [
        ".claude/commands",
        ".github/prompts",
        ".cursor/commands",
        ".gemini/commands",
        ".codex/prompts",
        ".opencode/commands",
        ".windsurf/workflows",
    ];
    let mut files: Vec<String> = folders
        .iter()
        .flat_map(|folder| {
            fs::read_dir(root.join(folder))
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|entry| {
            let path = entry.path();
            path.strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .chain(
            [".mcp.json", ".vscode/mcp.json", ".cursor/mcp.json"]
                .into_iter()
                .filter(|file| root.join(file).is_file())
                .map(String::from),
        )
        .collect();
    files.sort();
    files
}

/// The agent files of the bundled SpecFlow playbook, one snapshot per
/// agent (and one of the MCP registrations); `init` names the command.
#[test]
fn agents_writes_each_step_as_a_command_for_every_agent() {
    let mut project = Project::new();
    let init = project.run(&["init"], 0);
    assert!(init.stdout.contains("tollgate agents"), "{}", init.stdout);
    let written = project.run(&["agents"], 0);
    let files = agent_files(project.root());
    assert_eq!(files.len(), 7 * 4 + 3, "{files:?}");
    for file in &files {
        assert!(
            written.stdout.contains(&format!("wrote {file}\n")),
            "{file}"
        );
    }
    for agent in [
        "claude", "github", "cursor", "gemini", "codex", "opencode", "windsurf", "mcp.json",
    ] {
        let mut text = String::new();
        for file in files
            .iter()
            .filter(|f| f.contains(agent) && (agent == "mcp.json") == f.ends_with("mcp.json"))
        {
            writeln!(text, "=== {file}\n{}", project.read(file)).unwrap();
        }
        insta::assert_snapshot!(format!("agent_files_{agent}"), text);
    }
    let again = project.run(&["agents"], 0);
    assert_eq!(
        again.stdout,
        "31 of 31 agent files were already up to date\n"
    );
    let fresh = project.run(&["agents", "--check"], 0);
    assert_eq!(fresh.stdout, "all 31 agent files are up to date\n");
}

/// `--check` fails on a missing, a stale and a hand-edited file; a
/// hand-edited file survives a rewrite unless `--force`; other servers in
/// a registration file are kept.
#[test]
fn agents_check_finds_missing_stale_and_hand_edited_files() {
    let mut project = Project::new();
    project.run(&["init"], 0);
    project.write_file(
        ".mcp.json",
        "{\"mcpServers\": {\"other\": {\"command\": \"other-server\"}}}\n",
    );
    project.run(&["agents", "--for", "claude,gemini"], 0);
    let mcp: serde_json::Value = serde_json::from_str(&project.read(".mcp.json")).unwrap();
    assert_eq!(mcp["mcpServers"]["other"]["command"], "other-server");
    assert_eq!(
        mcp["mcpServers"]["tollgate"]["args"],
        serde_json::json!(["mcp"])
    );
    assert!(!project.root().join(".github/prompts").exists());

    // Missing: deleted. Stale: the playbook's step title changed.
    fs::remove_file(project.root().join(".gemini/commands/tollgate-tasks.toml")).unwrap();
    let playbook = project.read("tollgate.yaml");
    project.write_file(
        "tollgate.yaml",
        &playbook.replacen(
            "title: PLAN - Create Technical Architecture",
            "title: PLAN - Architecture",
            1,
        ),
    );
    // Hand-edited: a person added a line.
    let edited = ".claude/commands/tollgate-specify.md";
    let text = project.read(edited) + "Also run the linter.\n";
    project.write_file(edited, &text);
    let check = project.run(&["agents", "--for", "claude,gemini", "--check"], 1);
    insta::assert_snapshot!("agents_check", check.stdout);

    let write = project.run(&["agents", "--for", "claude,gemini"], 1);
    assert!(
        write.stdout.contains(&format!(
            "left {edited} alone: a person edited it (--force overwrites it)\n"
        )),
        "{}",
        write.stdout
    );
    assert_eq!(project.read(edited), text);
    project.run(&["agents", "--for", "claude,gemini", "--force"], 0);
    assert!(!project.read(edited).contains("Also run the linter."));
    project.run(&["agents", "--for", "claude,gemini", "--check"], 0);
    let unknown = project.run(&["agents", "--for", "claude,emacs"], 2);
    assert!(
        unknown.stderr.contains("invalid value 'emacs'"),
        "{}",
        unknown.stderr
    );
}

/// `--root` may be relative to the working folder: agent files already
/// there are read at the root, not at the root joined twice, so another
/// server's registration survives and `--check` finds the files current.
#[test]
fn agents_with_a_relative_root_read_the_files_there() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("proj")).unwrap();
    let tollgate = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .current_dir(dir.path())
            .env_remove("TOLLGATE_PLAYBOOK")
            .args(["--root", "proj"])
            .args(args)
            .output()
            .unwrap()
    };
    assert!(tollgate(&["init"]).status.success());
    std::fs::write(
        dir.path().join("proj/.mcp.json"),
        "{\"mcpServers\": {\"other\": {\"command\": \"other-server\"}}}\n",
    )
    .unwrap();
    assert!(tollgate(&["agents", "--for", "claude"]).status.success());
    let text = std::fs::read_to_string(dir.path().join("proj/.mcp.json")).unwrap();
    let mcp: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        mcp["mcpServers"]["other"]["command"], "other-server",
        "{text}"
    );
    let check = tollgate(&["agents", "--for", "claude", "--check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
