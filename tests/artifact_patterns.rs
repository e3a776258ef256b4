//! An artifact that names a pattern (`docs/x/notes/*.md`): one artifact of
//! many files, through the real binary. Its prerequisite holds once one
//! file exists, its checks run on every file, an approval pins every file
//! so that one added, changed or removed makes it stale, and the stateless
//! mode checks a file given on the command line as one of them.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use harness::Project;

const PLAYBOOK: &str = "tests/fixtures/patterns/playbook.yaml";
const NOTES: &str = "docs/t-1-caching/notes";

fn stale(project: &Project) -> bool {
    let status = project.run(&["status", "--format", "json"]).expect(0);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    json["subjects"][0]["approvals"][0]["stale"]
        .as_bool()
        .unwrap_or_else(|| panic!("no approval: {json:#}"))
}

#[test]
fn a_pattern_artifact_is_checked_and_pinned_as_all_its_files() {
    let project = Project::with_playbook(PLAYBOOK);
    project.run(&["new", "T-1", "--title", "Caching"]).expect(0);

    let blocked = project.run(&["check", "T-1"]).expect(1);
    assert!(
        blocked
            .stdout
            .contains(&format!("no file of the notes `{NOTES}/*.md` exists")),
        "{blocked}"
    );

    project.write(&format!("{NOTES}/a.md"), "- [x] read the design\n");
    project.write(&format!("{NOTES}/b.md"), "# B\n\n- [x] one\n- [ ] two\n");
    project.write(&format!("{NOTES}/skipped.txt"), "- [ ] not a note\n");
    let failed = project.run(&["check", "T-1"]).expect(1);
    assert!(
        failed.stdout.contains(&format!("{NOTES}/b.md:4:3")),
        "{failed}"
    );
    assert!(!failed.stdout.contains("skipped.txt"), "{failed}");

    project.write(&format!("{NOTES}/b.md"), "# B\n\n- [x] one\n- [x] two\n");
    project.run(&["approve", "T-1", "--by", "ana"]).expect(0);
    assert!(!stale(&project));

    // A note added after the review makes the approval stale.
    project.write(&format!("{NOTES}/c.md"), "- [x] late\n");
    assert!(stale(&project));
    project.write("docs/t-1-caching/summary.md", "Done.\n");
    let blocked = project.run(&["check", "T-1"]).expect(1);
    assert!(
        blocked
            .stdout
            .contains(&format!("is stale: `{NOTES}/*.md` changed since")),
        "{blocked}"
    );
    std::fs::remove_file(project.root().join(format!("{NOTES}/c.md"))).unwrap();
    assert!(!stale(&project));
    // So does a note changed, or removed.
    project.write(&format!("{NOTES}/a.md"), "- [x] read the design twice\n");
    assert!(stale(&project));
    project.write(&format!("{NOTES}/a.md"), "- [x] read the design\n");
    std::fs::remove_file(project.root().join(format!("{NOTES}/b.md"))).unwrap();
    assert!(stale(&project));
}

#[test]
fn a_file_of_the_pattern_that_cannot_be_read_makes_the_input_unusable() {
    let project = Project::with_playbook(PLAYBOOK);
    project.run(&["new", "T-1", "--title", "Caching"]).expect(0);
    project.write(&format!("{NOTES}/a.md"), "- [x] fine\n");
    std::fs::write(
        project.root().join(format!("{NOTES}/b.md")),
        b"- [x] \xff\n",
    )
    .unwrap();
    let run = project.run(&["check", "T-1"]).expect(2);
    assert!(run.stdout.contains(&format!("{NOTES}/b.md")), "{run}");
}

#[test]
fn without_a_subject_a_file_stands_for_the_pattern_artifact() {
    let project = Project::with_playbook(PLAYBOOK);
    project.write("note.md", "- [x] one\n- [ ] two\n");
    let note = project.root().join("note.md");
    let run = project
        .run(&[
            "check",
            "--step",
            "review",
            "--artifact",
            "notes",
            note.to_str().unwrap(),
        ])
        .expect(1);
    assert!(run.stdout.contains("box not ticked: \"two\""), "{run}");
}
