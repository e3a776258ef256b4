//! A step marked `optional: true`, through the real binary: the subject is
//! told of the step after it, may take that step from the optional step's
//! `from` phase, or may take the optional step by naming it; the step
//! document says so.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use harness::Project;

const PLAYBOOK: &str = "tests/fixtures/optional/playbook.yaml";
const DRAFT: &str = "posts/p-1-launch.md";

fn next_step(project: &Project) -> String {
    let status = project.run(&["status", "--format", "json"]).expect(0);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    json["subjects"][0]["next_step"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn an_optional_step_can_be_skipped_or_taken_by_name() {
    let project = Project::with_playbook(PLAYBOOK);
    project.run(&["lint", PLAYBOOK]).expect(0);
    project.run(&["new", "P-1", "--title", "Launch"]).expect(0);
    project.write(DRAFT, "# Launch\n\nTODO: a closing line\n");
    project.run(&["advance", "P-1"]).expect(0);
    // In `drafted`, the next step is the one after the optional step.
    assert_eq!(next_step(&project), "publish");

    // Taking the optional step by name: its checks apply.
    let failed = project
        .run(&["advance", "P-1", "--step", "polish"])
        .expect(1);
    assert!(failed.stdout.contains("P-1 · polish: failed"), "{failed}");

    // Skipping it: `publish` is taken from `drafted`.
    project.run(&["advance", "P-1"]).expect(0);
    let status = project.run(&["status", "P-1"]).expect(0);
    assert!(status.stdout.contains("published"), "{status}");
    // The optional step is behind the subject now.
    let done = project
        .run(&["check", "P-1", "--step", "polish", "--format", "json"])
        .expect(0);
    let done: serde_json::Value = serde_json::from_str(&done.stdout).expect("JSON");
    assert_eq!(done["results"][0]["verdict"], "done");
}

#[test]
fn a_step_after_an_optional_one_names_every_phase_it_starts_from() {
    let project = Project::with_playbook(PLAYBOOK);
    project.run(&["new", "P-1", "--title", "Launch"]).expect(0);
    let blocked = project
        .run(&["check", "P-1", "--step", "publish"])
        .expect(1);
    assert!(
        blocked
            .stdout
            .contains("P-1 is in phase `new`; step `publish` starts from `polished` or `drafted`"),
        "{blocked}"
    );
    let publish = project.run(&["show", "publish"]).expect(0).stdout;
    assert!(
        publish.contains("- Post phase is `polished` or `drafted`"),
        "{publish}"
    );
    let draft = project.run(&["show", "draft"]).expect(0).stdout;
    assert!(
        draft.contains("→ Proceed to `polish`, which is optional, or skip it for `publish`."),
        "{draft}"
    );
    let polish = project.run(&["show", "polish"]).expect(0).stdout;
    assert!(
        polish.contains(
            "this step is optional; take it with `tollgate advance --step polish` or skip it"
        ),
        "{polish}"
    );
}
