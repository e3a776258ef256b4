//! Skeletons from the gate: for every step of every bundled playbook, the
//! skeleton of each document the step checks passes every structural check
//! (headings, their levels and order, tables and their columns, checklist
//! items, the file itself) and fails only on content; and through the real
//! binary, `new` and `scaffold` write skeletons, never over a file and
//! never through a symlink.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use indexmap::IndexMap;
use tollgate::engine::{ArtifactSet, Options, StepRunner};
use tollgate::init::BUNDLED;
use tollgate::lua::PluginSet;
use tollgate::playbook::LoadedPlaybook;
use tollgate::scaffold::{For, skeleton, step_artifacts};

/// Messages that say the document's structure is wrong, not its content.
const STRUCTURAL: [&str; 8] = [
    "missing section",
    "-heading; expected level",
    "comes before",
    "no table under",
    "has no column",
    "missing checklist item",
    "the file does not exist",
    "the file is empty",
];

#[test]
fn every_bundled_skeleton_passes_the_structural_checks_of_its_step() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut content_findings = 0;
    for bundled in BUNDLED {
        let file = manifest.join(bundled.playbook.path);
        let loaded = LoadedPlaybook::load(&file, bundled.playbook.path).unwrap();
        let playbook = &loaded.playbook;
        let root = tempfile::tempdir().unwrap();
        let plugins = PluginSet::load(
            loaded.folder(),
            &playbook.plugins,
            root.path(),
            &playbook.limits,
            Default::default(),
        );
        for (index, step) in playbook.steps.iter().enumerate() {
            let mut paths = IndexMap::new();
            for artifact in step_artifacts(playbook, index) {
                let text = skeleton(
                    playbook,
                    index,
                    &artifact,
                    For {
                        id: bundled.first_subject,
                        title: "First feature",
                    },
                );
                let path = format!("{}-{artifact}.md", step.id);
                fs::write(root.path().join(&path), &text).unwrap();
                paths.insert(artifact, path);
            }
            let runner = StepRunner::new(playbook, step, Options::default()).with_plugins(&plugins);
            let outcomes = runner.run(&ArtifactSet::load(root.path(), &paths), None);
            // A plugin's rules are its own Lua: what it requires is content
            // to the skeleton, which is derived from the built-in checks.
            let builtin = outcomes.iter().filter(|o| o.kind != "plugin");
            for finding in builtin.flat_map(|o| &o.findings) {
                let structural = STRUCTURAL.iter().find(|s| finding.message.contains(*s));
                assert!(
                    structural.is_none(),
                    "{} step {}: {} ({})",
                    bundled.name,
                    step.id,
                    finding.message,
                    finding.code
                );
                content_findings += 1;
            }
        }
    }
    // The skeletons are not finished documents: their content is missing.
    assert!(content_findings > 20, "{content_findings}");
}

#[test]
fn a_skeleton_holds_the_headings_tables_and_boxes_its_checks_require() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = manifest.join("playbooks/spec-dev-plan.yaml");
    let loaded = LoadedPlaybook::load(&file, "playbooks/spec-dev-plan.yaml").unwrap();
    let text = skeleton(
        &loaded.playbook,
        0,
        "plan",
        For {
            id: "NOTIFY-7",
            title: "Notifications",
        },
    );
    insta::assert_snapshot!(text);
}

/// A project (a folder with `.git`) holding the minimal playbook, driven
/// by the binary.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(".git")).unwrap();
        let project = Self { dir };
        project.run(&["init", "--template", "minimal"], 0);
        project
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `tollgate ARGS`, expects exit `code`; stdout then stderr.
    fn run(&self, args: &[&str], code: i32) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .current_dir(self.root())
            .env("TOLLGATE_NOW", "2026-01-24T10:00:00Z")
            .env("USER", "tester")
            .env_remove("TOLLGATE_PLAYBOOK")
            .args(["--color", "never"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.code(), Some(code), "{args:?}: {text}");
        text
    }
}

const DESIGN: &str = "docs/changes/chg-1-search/design.md";

#[test]
fn new_writes_the_first_steps_skeleton_which_fails_only_on_content() {
    let project = Project::new();
    let new = project.run(&["new", "CHG-1", "--title", "Search"], 0);
    insta::assert_snapshot!(new, @r"
    registered change CHG-1 (chg-1-search) in phase `proposed`; next step: `design`
    wrote docs/changes/chg-1-search/design.md: a skeleton of `design` from the checks of step `design`
    next: write the content under each heading, then `tollgate check CHG-1`
    ");
    let check = project.run(&["check", "CHG-1", "--format", "json"], 1);
    let json: serde_json::Value = serde_json::from_str(&check).unwrap();
    let messages: Vec<&str> = json["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    insta::assert_debug_snapshot!(messages);
    // Written once: a second run leaves the file, edited or not, alone.
    fs::write(project.root().join(DESIGN), "# Mine\n").unwrap();
    let again = project.run(&["scaffold", "CHG-1"], 0);
    assert_eq!(again, format!("left {DESIGN} alone: it exists\n"));
    assert_eq!(
        fs::read_to_string(project.root().join(DESIGN)).unwrap(),
        "# Mine\n"
    );
}

#[test]
fn no_scaffold_writes_nothing_and_the_missing_file_says_how_to_start_it() {
    let project = Project::new();
    let new = project.run(&["new", "CHG-1", "--title", "Search", "--no-scaffold"], 0);
    assert!(!new.contains("wrote"), "{new}");
    assert!(!project.root().join(DESIGN).exists());
    let check = project.run(&["check", "CHG-1"], 1);
    insta::assert_snapshot!(check);
    project.run(&["scaffold", "CHG-1", "--step", "design"], 0);
    assert!(project.root().join(DESIGN).exists());
}

#[cfg(unix)]
#[test]
fn scaffold_never_writes_through_a_symlink() {
    let project = Project::new();
    // A symlinked folder, even one leading to another folder of the root.
    fs::create_dir_all(project.root().join("docs/elsewhere")).unwrap();
    std::os::unix::fs::symlink("elsewhere", project.root().join("docs/changes")).unwrap();
    let new = project.run(&["new", "CHG-1", "--title", "Search"], 2);
    assert!(
        new.contains(
            "cannot create docs/changes/chg-1-search/design.md: `docs/changes` is a symbolic link"
        ),
        "{new}"
    );
    assert!(
        fs::read_dir(project.root().join("docs/elsewhere"))
            .unwrap()
            .next()
            .is_none()
    );
    // A symlink where the file belongs is left alone, not followed.
    let outside = tempfile::tempdir().unwrap();
    fs::remove_file(project.root().join("docs/changes")).unwrap();
    fs::create_dir_all(project.root().join("docs/changes/chg-1-search")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("design.md"),
        project.root().join(DESIGN),
    )
    .unwrap();
    let scaffold = project.run(&["scaffold", "CHG-1"], 0);
    assert_eq!(scaffold, format!("left {DESIGN} alone: it exists\n"));
    assert!(!outside.path().join("design.md").exists());
}
