//! Subjects end to end, through the real binary: a feature registered with
//! `new`, moved through the automated gate of `specify` and the human gate
//! of `plan` with `advance` and `approve`, watched with `status` and
//! `check`, its approval going stale when the approved plan changes, and
//! the history of it all. The playbook is `tests/fixtures/subjects/`.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use std::fmt::Write as _;

use harness::{NOW, Project, Run, USER, command_line};
use serde_json::json;

const SPEC: &str = "specs/f-11-vector-collector-service/spec.md";
const PLAN: &str = "specs/f-11-vector-collector-service/plan.md";
const NOTES: &str = "specs/f-11-vector-collector-service/release-notes.md";

/// A project and the transcript of every command run in it.
struct Session {
    project: Project,
    transcript: String,
}

impl Session {
    fn new() -> Self {
        Self {
            project: Project::new(),
            transcript: String::new(),
        }
    }

    /// Runs `tollgate ARGS`, expects `code`, and adds it to the transcript.
    fn run(&mut self, args: &[&str], code: i32) -> Run {
        let run = self.project.run(args).expect(code);
        writeln!(self.transcript, "$ {}\n{run}", command_line(args)).unwrap();
        run
    }

    /// Puts a fixture document in place, noted in the transcript.
    fn place(&mut self, document: &str, path: &str) {
        self.project.place(document, path);
        writeln!(self.transcript, "# {document} → {path}\n").unwrap();
    }

    /// The subject's `status --format json` entry.
    fn status_of(&mut self, id: &str) -> serde_json::Value {
        let run = self
            .project
            .run(&["status", id, "--format", "json"])
            .expect(0);
        let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
        value["subjects"][0].clone()
    }

    fn phase(&mut self, id: &str) -> String {
        self.status_of(id)["phase"].as_str().unwrap().to_string()
    }
}

#[test]
fn new_registers_at_the_first_phase_and_refuses_bad_or_taken_ids() {
    let mut session = Session::new();
    let empty = session.run(&["status"], 0);
    assert!(empty.stdout.contains("no feature is registered yet"));
    let bad = session.run(&["new", "X-1", "--title", "Wrong prefix"], 2);
    assert!(
        bad.stderr
            .contains(r"`X-1` does not match the playbook's id pattern `^F-\d+$`")
    );
    // The pattern is checked before anything is written.
    assert!(!session.project.root().join(".tollgate").exists());
    let unsafe_id = session.run(&["new", "F-1/../../x"], 2);
    assert!(unsafe_id.stderr.contains("does not match"), "{unsafe_id}");
    let made = session.run(&["new", "F-11", "--title", "Vector Collector Service"], 0);
    assert!(
        made.stdout
            .contains("(f-11-vector-collector-service) in phase `① draft`")
    );
    let taken = session.run(&["new", "F-11", "--title", "Another"], 2);
    assert!(taken.stderr.contains("`F-11` is already registered"));
    session.run(&["new", "F-2", "--by", "ana"], 0);
    insta::assert_snapshot!(session.transcript);

    // The refusals changed nothing: two subjects, two lines of history.
    assert_eq!(
        session.project.subject("F-11")["title"],
        "Vector Collector Service"
    );
    assert_eq!(
        session.project.history(),
        [
            json!({"at": NOW, "actor": USER, "subject": "F-11", "event": "created", "to": "draft"}),
            json!({"at": NOW, "actor": "ana", "subject": "F-2", "event": "created", "to": "draft"}),
        ]
    );
}

#[test]
fn status_shows_each_subject_as_a_table_and_as_json() {
    let mut session = Session::new();
    session.run(&["new", "F-11", "--title", "Vector Collector Service"], 0);
    session.run(&["new", "F-2", "--title", "Metrics dashboard"], 0);
    session.place("spec-good.md", "specs/f-2-metrics-dashboard/spec.md");
    session.run(&["advance", "F-2"], 0);
    let table = session.run(&["status"], 0);
    insta::assert_snapshot!(table.stdout, @r"
    ID    TITLE                     PHASE        NEXT STEP  VERDICT  APPROVALS
    F-11  Vector Collector Service  ① draft      specify    failed   —
    F-2   Metrics dashboard         ② specified  plan       failed   —
    ");
    let run = session.run(&["status", "--format", "json"], 0);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    insta::assert_json_snapshot!(value, @r#"
    {
      "playbook": "subjects-demo",
      "subjects": [
        {
          "id": "F-11",
          "title": "Vector Collector Service",
          "slug": "f-11-vector-collector-service",
          "phase": "draft",
          "phase_label": "① draft",
          "next_step": "specify",
          "verdict": "failed",
          "approvals": [],
          "gate": null
        },
        {
          "id": "F-2",
          "title": "Metrics dashboard",
          "slug": "f-2-metrics-dashboard",
          "phase": "specified",
          "phase_label": "② specified",
          "next_step": "plan",
          "verdict": "failed",
          "approvals": [],
          "gate": null
        }
      ]
    }
    "#);
    let one = session.run(&["status", "F-2", "--format", "json"], 0);
    let one: serde_json::Value = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!(one["subjects"].as_array().unwrap().len(), 1);
    assert_eq!(one["subjects"][0], value["subjects"][1]);
    let unknown = session.run(&["status", "F-99"], 2);
    assert_eq!(
        unknown.stderr,
        "tollgate: no subject `F-99` is registered\n"
    );
}

/// The whole life of a feature, as one transcript.
#[test]
fn a_feature_goes_from_draft_to_done() {
    let mut s = Session::new();
    s.run(
        &[
            "new",
            "F-11",
            "--title",
            "Vector Collector Service",
            "--no-scaffold",
        ],
        0,
    );

    // `specify`, an automated gate: failed while the spec is missing or
    // defective, and the subject stays where it is.
    let missing = s.run(&["check", "F-11"], 1);
    assert!(missing.stdout.contains("F-11 · specify: failed"));
    assert!(missing.stdout.contains(&format!("in {SPEC}\n")));
    s.run(&["advance", "F-11"], 1);
    s.place("spec-bad.md", SPEC);
    let defective = s.run(&["advance", "F-11"], 1);
    assert!(
        defective
            .stdout
            .contains("missing section \"Failure modes\"")
    );
    assert!(defective.stdout.contains("placeholder \"TODO:\" remains"));
    assert_eq!(
        defective.stderr,
        "tollgate: F-11 not advanced: step `specify` failed\n"
    );
    assert_eq!(s.phase("F-11"), "draft");
    s.place("spec-good.md", SPEC);
    let passed = s.run(&["advance", "F-11"], 0);
    assert_eq!(
        passed.stdout,
        "feature F-11: step `specify` passed; now in phase `② specified`\n"
    );
    assert_eq!(s.phase("F-11"), "specified");
    // The subject is past `specify` now: done, whatever its document says.
    let done = s.run(&["check", "F-11", "--step", "specify"], 0);
    assert!(done.stdout.starts_with("F-11 · specify: done\n"));
    s.run(&["advance", "F-11", "--by", "ana"], 1);

    // `plan`, a human gate: checks first, then an approval.
    s.place("plan-bad.md", PLAN);
    let unapprovable = s.run(&["approve", "F-11", "--by", "ana"], 1);
    assert!(
        unapprovable
            .stdout
            .contains("missing section \"Failure modes\"")
    );
    s.place("plan-good.md", PLAN);
    let awaiting = s.run(&["advance", "F-11"], 1);
    assert!(
        awaiting
            .stdout
            .starts_with("F-11 · plan: awaiting_approval\n")
    );
    assert!(
        awaiting
            .stderr
            .contains("awaits approval: `tollgate approve F-11 --step plan")
    );
    // Awaiting approval is not a failure for `check`, unless asked.
    s.run(&["check", "F-11"], 0);
    s.run(&["check", "F-11", "--require-approval"], 1);
    let automated = s.run(&["approve", "F-11", "--step", "specify", "--by", "ana"], 2);
    assert!(
        automated
            .stderr
            .contains("step `specify` has an automated gate")
    );
    s.run(&["approve", "F-11", "--step", "nope", "--by", "ana"], 2);
    s.run(&["approve", "F-11"], 2); // --by is required
    assert_eq!(s.phase("F-11"), "specified");
    let approved = s.run(
        &[
            "approve",
            "F-11",
            "--by",
            "ana",
            "--note",
            "architecture reviewed",
        ],
        0,
    );
    assert!(approved.stdout.contains("now in phase `③ planned`"));
    let status = s.status_of("F-11");
    assert_eq!(status["phase"], "planned");
    assert_eq!(
        status["approvals"],
        json!([{"step": "plan", "by": "ana", "at": NOW, "note": "architecture reviewed", "stale": false}])
    );
    let pinned = &s.project.subject("F-11")["approvals"][0]["artifacts"];
    assert_eq!(pinned["plan"]["path"], PLAN);
    assert_eq!(pinned["plan"]["sha256"].as_str().unwrap().len(), 64);

    // `ship`, with inline instructions and `requires: {approved: plan}`.
    s.run(&["check", "F-11"], 1);
    s.place("release-notes.md", NOTES);
    s.run(&["check", "F-11"], 0);
    s.run(&["status"], 0);
    s.run(&["advance", "F-11"], 0);
    assert_eq!(s.phase("F-11"), "done");
    let finished = s.run(&["advance", "F-11"], 2);
    assert!(finished.stderr.contains("it has finished the playbook"));
    s.run(&["status"], 0);
    insta::assert_snapshot!(s.transcript);

    // Every creation, transition and approval, with its time and actor.
    let history = s.project.history();
    let events: Vec<String> = history
        .iter()
        .map(|e| {
            assert_eq!(e["at"], NOW);
            assert_eq!(e["subject"], "F-11");
            format!(
                "{} {} {} {}→{}",
                e["actor"].as_str().unwrap(),
                e["event"].as_str().unwrap(),
                e["step"].as_str().unwrap_or("-"),
                e["from"].as_str().unwrap_or("-"),
                e["to"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            "tester created - -→draft",
            "tester advanced specify draft→specified",
            "ana approved plan specified→planned",
            "tester advanced ship planned→done",
        ]
    );
    assert_eq!(history[2]["note"], "architecture reviewed");
}

#[test]
fn a_changed_plan_makes_its_approval_stale_and_blocks_the_step_that_requires_it() {
    let mut s = Session::new();
    s.run(&["new", "F-11", "--title", "Vector Collector Service"], 0);
    s.place("spec-good.md", SPEC);
    s.run(&["advance", "F-11"], 0);
    s.place("plan-good.md", PLAN);
    s.run(&["approve", "F-11", "--by", "ana"], 0);
    s.place("release-notes.md", NOTES);
    s.run(&["check", "F-11"], 0);

    let approved_plan = harness::fixture("documents/plan-good.md");
    s.project
        .write(PLAN, &format!("{approved_plan}\nOne more idea.\n"));
    writeln!(s.transcript, "# {PLAN} changed\n").unwrap();
    let table = s.run(&["status"], 0);
    assert!(table.stdout.contains("plan by ana (stale)"), "{table}");
    let status = s.status_of("F-11");
    assert_eq!(status["verdict"], "blocked");
    assert_eq!(status["approvals"][0]["stale"], true);
    let blocked = s.run(&["check", "F-11"], 1);
    let finding =
        format!("the approval of step `plan` by ana at {NOW} is stale: `{PLAN}` changed since");
    assert!(blocked.stdout.contains(&finding), "{blocked}");
    s.run(&["advance", "F-11"], 1);
    assert_eq!(s.phase("F-11"), "planned");
    // The plan step itself is behind the subject: done, not failed, and
    // what its checks would find in a worse plan is not held against it.
    s.run(&["check", "F-11", "--step", "plan"], 0);
    s.place("plan-bad.md", PLAN);
    let done = s.run(&["check", "F-11", "--step", "plan", "--format", "json"], 0);
    let done: serde_json::Value = serde_json::from_str(&done.stdout).expect("JSON");
    assert_eq!(done["results"][0]["verdict"], "done");
    assert_eq!(done["results"][0]["findings"], json!([]));

    // Putting the approved text back makes the approval current again.
    s.project.write(PLAN, &approved_plan);
    writeln!(s.transcript, "# {PLAN} restored\n").unwrap();
    s.run(&["check", "F-11"], 0);
    assert_eq!(s.status_of("F-11")["approvals"][0]["stale"], false);

    // Or the changed plan is approved again: the subject stays in its phase.
    s.project
        .write(PLAN, &format!("{approved_plan}\nOne more idea.\n"));
    writeln!(s.transcript, "# {PLAN} changed again\n").unwrap();
    let renewed = s.run(&["approve", "F-11", "--step", "plan", "--by", "bob"], 0);
    assert!(
        renewed.stdout.contains("it stays in phase `③ planned`"),
        "{renewed}"
    );
    // Approving what is already approved is refused.
    s.run(&["approve", "F-11", "--step", "plan", "--by", "carol"], 1);
    let status = s.status_of("F-11");
    assert_eq!(status["phase"], "planned");
    assert_eq!(status["verdict"], "passed");
    // One approval per step and person: ana's stays stale beside bob's.
    assert_eq!(status["approvals"].as_array().unwrap().len(), 2);
    assert_eq!(status["approvals"][0]["by"], "ana");
    assert_eq!(status["approvals"][0]["stale"], true);
    assert_eq!(status["approvals"][1]["by"], "bob");
    assert_eq!(status["approvals"][1]["stale"], false);
    let table = s.run(&["status"], 0);
    assert!(
        table.stdout.contains("plan by ana (stale), plan by bob"),
        "{table}"
    );
    // An approval of a plan that no longer passes its checks is refused.
    s.place("plan-bad.md", PLAN);
    s.run(&["approve", "F-11", "--step", "plan", "--by", "dave"], 1);
    s.run(&["status"], 0);
    insta::assert_snapshot!(s.transcript);

    let last = s.project.history().pop().unwrap();
    assert_eq!(
        last,
        json!({"at": NOW, "actor": "bob", "subject": "F-11", "event": "approved", "step": "plan"})
    );
}

#[test]
fn a_subject_in_the_wrong_phase_is_blocked() {
    let mut s = Session::new();
    s.run(&["new", "F-11", "--title", "Vector Collector Service"], 0);
    s.place("spec-good.md", SPEC);
    s.place("plan-good.md", PLAN);
    // Its documents pass, but F-11 is still a draft.
    let run = s.run(&["check", "F-11", "--step", "plan", "--format", "json"], 1);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let result = &value["results"][0];
    assert_eq!(result["verdict"], "blocked");
    assert_eq!(
        result["findings"][0],
        json!({
            "check": "requires",
            "severity": "error",
            "message": "F-11 is in phase `① draft`; step `plan` starts from `② specified`",
            "path": ".tollgate/subjects/F-11.json",
            "line": 1, "column": 1, "end_line": 1, "end_column": 1
        })
    );
    assert_eq!(result["findings"].as_array().unwrap().len(), 1);
    let approve = s.run(&["approve", "F-11", "--step", "plan", "--by", "ana"], 1);
    assert!(
        approve.stderr.contains("step `plan` is blocked"),
        "{approve}"
    );
    assert_eq!(s.phase("F-11"), "draft");
    assert!(
        s.project.subject("F-11")["approvals"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn check_without_ids_checks_every_subject() {
    let mut s = Session::new();
    s.run(&["new", "F-1"], 0);
    s.run(&["new", "F-2"], 0);
    s.place("spec-good.md", "specs/f-2/spec.md");
    let run = s.run(&["check", "--all", "--format", "json"], 1);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        value["summary"],
        json!({"passed": 1, "failed": 1, "blocked": 0, "awaiting_approval": 0, "done": 0})
    );
    assert_eq!(value["results"][0]["subject"], "F-1");
    assert_eq!(value["results"][1]["subject"], "F-2");
    let unknown = s.run(&["check", "F-1", "F-9"], 2);
    assert!(unknown.stderr.contains("no subject `F-9` is registered"));
}

#[test]
fn check_and_status_report_subjects_in_every_format() {
    let mut s = Session::new();
    s.run(&["new", "F-1", "--no-scaffold"], 0);
    s.run(&["new", "F-2", "--no-scaffold"], 0);
    s.place("spec-good.md", "specs/f-2/spec.md");
    let sarif = s.run(&["check", "--all", "--format", "sarif"], 1);
    let log: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let uris: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(uris, ["specs/f-1/spec.md"]);
    let junit = s.run(&["check", "--all", "--format", "junit"], 1);
    assert!(
        junit.stdout.contains(r#"<testsuite name="F-1 · specify""#),
        "{}",
        junit.stdout
    );
    assert!(junit.stdout.contains(r#"<testsuite name="F-2 · specify""#));
    let github = s.run(&["check", "--all", "--format", "github"], 1);
    assert!(
        github.stdout.starts_with("::error file=specs/f-1/spec.md,"),
        "{}",
        github.stdout
    );
    assert!(
        github
            .stdout
            .ends_with("2 subjects checked: 1 passed, 1 failed — 1 error, 0 warnings\n")
    );
    // `status` reports the same findings and, as always, exits 0.
    let status = s.run(&["status", "--format", "github"], 0);
    assert_eq!(status.stdout.lines().next(), github.stdout.lines().next());
    let status = s.run(&["status", "--format", "sarif"], 0);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["runs"][0]["results"], log["runs"][0]["results"]);
}

#[test]
fn a_broken_document_of_another_step_leaves_this_step_usable() {
    let mut s = Session::new();
    s.run(&["new", "F-11", "--title", "Vector Collector Service"], 0);
    s.place("spec-good.md", SPEC);
    // The plan, read only by the next step, is not UTF-8.
    std::fs::write(s.project.root().join(PLAN), b"# Plan\n\xff\xfe\n").unwrap();
    let run = s.run(&["check", "F-11", "--format", "json"], 0);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["results"][0]["step"], "specify");
    assert_eq!(value["results"][0]["findings"], json!([]));
    // The step that reads it reports it, and the input is unusable.
    s.run(&["advance", "F-11"], 0);
    let run = s.run(&["check", "F-11"], 2);
    assert!(run.stdout.contains("not valid UTF-8"), "{run}");
}

#[test]
fn the_actor_is_git_s_identity_when_no_name_is_given() {
    let mut s = Session::new();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(s.project.root())
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "--quiet"]);
    git(&["config", "user.name", "Kim Lee"]);
    git(&["config", "user.email", "kim@example.com"]);
    s.run(&["new", "F-11", "--title", "Vector Collector Service"], 0);
    s.place("spec-good.md", SPEC);
    s.run(&["advance", "F-11"], 0);
    s.run(&["new", "F-12", "--by", "ana"], 0);
    let actors: Vec<serde_json::Value> = s
        .project
        .history()
        .into_iter()
        .map(|event| event["actor"].clone())
        .collect();
    assert_eq!(
        actors,
        [
            json!("Kim Lee <kim@example.com>"),
            json!("Kim Lee <kim@example.com>"),
            json!("ana")
        ]
    );
}

#[test]
fn a_check_that_checks_nothing_fails_unless_allowed() {
    let mut s = Session::new();
    let empty = s.run(&["check"], 2);
    assert!(
        empty
            .stderr
            .contains("nothing was checked: no feature is registered"),
        "{empty}"
    );
    s.run(&["check", "--all", "--step", "plan"], 2);
    s.run(&["check", "--allow-empty"], 0);
    s.run(&["new", "F-1"], 0);
    s.run(&["check"], 1);
    insta::assert_snapshot!(s.transcript);
}
