//! The state folder under stress, through the real binary: many processes
//! at once (no update lost, exactly one winner when they race for the same
//! move, no torn or temporary file left), a process killed in the middle of
//! a write (`TOLLGATE_FAULT=die-mid-write`), and state files broken in
//! every way (exit 2 naming the file and position, the file untouched).

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::fs;
use std::process::Child;

use harness::{NOW, Project, Run, STATE_DIR, USER};
use serde_json::json;
use tollgate::state::{StateError, Store, SubjectRecord};

/// Starts every command before waiting for any, so that they overlap.
fn all_at_once(project: &Project, commands: &[Vec<String>]) -> Vec<Run> {
    let children: Vec<Child> = commands
        .iter()
        .map(|args| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            project.command(&args).spawn().expect("the binary starts")
        })
        .collect();
    children
        .into_iter()
        .map(|child| project.finish(child))
        .collect()
}

fn args(words: &str) -> Vec<String> {
    words.split(' ').map(str::to_string).collect()
}

/// How many runs ended with each exit code.
fn codes(runs: &[Run]) -> BTreeMap<i32, usize> {
    let mut codes = BTreeMap::new();
    for run in runs {
        assert!(!run.stderr.contains("panicked"), "{run}");
        *codes.entry(run.code.expect("an exit code")).or_default() += 1;
    }
    codes
}

#[test]
fn concurrent_processes_lose_no_update_and_one_wins_each_race() {
    let project = Project::new();
    project.run(&["new", "F-100"]).expect(0);
    project.place("spec-good.md", "specs/f-100/spec.md");
    project.place("plan-good.md", "specs/f-100/plan.md");
    for i in 1..=16 {
        project.place("spec-good.md", &format!("specs/f-{i}/spec.md"));
    }

    // 16 registrations of distinct subjects, and 16 `advance` of the same
    // one: exactly one moves it from draft to specified.
    let mut wave: Vec<Vec<String>> = (1..=16).map(|i| args(&format!("new F-{i}"))).collect();
    wave.extend((0..16).map(|_| args("advance F-100")));
    let runs = all_at_once(&project, &wave);
    assert_eq!(codes(&runs[..16]), BTreeMap::from([(0, 16)]));
    assert_eq!(codes(&runs[16..]), BTreeMap::from([(0, 1), (1, 15)]));
    // A loser judged `specify` after the winner moved on, or, when it
    // started after that, took the next step, which awaits approval.
    for loser in runs[16..].iter().filter(|r| r.code == Some(1)) {
        assert!(
            loser.stderr
                == "tollgate: F-100 not advanced: step `specify` is done: F-100 is already past it\n"
                || loser
                    .stderr
                    .starts_with("tollgate: F-100 not advanced: step `plan` awaits approval"),
            "{loser}"
        );
    }

    // 16 `advance` of distinct subjects, 16 approvals of the same one, and
    // 16 registrations of the same new id: one approval, one registration.
    let mut wave: Vec<Vec<String>> = (1..=16).map(|i| args(&format!("advance F-{i}"))).collect();
    wave.extend((0..16).map(|k| args(&format!("approve F-100 --step plan --by racer-{k}"))));
    wave.extend((0..16).map(|k| args(&format!("new F-200 --title Racer-{k}"))));
    let runs = all_at_once(&project, &wave);
    assert_eq!(codes(&runs[..16]), BTreeMap::from([(0, 16)]));
    assert_eq!(codes(&runs[16..32]), BTreeMap::from([(0, 1), (1, 15)]));
    assert_eq!(codes(&runs[32..]), BTreeMap::from([(0, 1), (2, 15)]));
    for run in runs[32..].iter().filter(|r| r.code == Some(2)) {
        assert_eq!(run.stderr, "tollgate: `F-200` is already registered\n");
    }

    // Every subject file parses and holds its last move.
    let store = Store::new(project.root(), STATE_DIR);
    let subjects: BTreeMap<String, SubjectRecord> = store
        .list()
        .expect("every subject file parses")
        .into_iter()
        .map(|record| (record.id.clone(), record))
        .collect();
    assert_eq!(subjects.len(), 18);
    for i in 1..=16 {
        assert_eq!(subjects[&format!("F-{i}")].phase, "specified");
    }
    let raced = &subjects["F-100"];
    assert_eq!(raced.phase, "planned");
    assert_eq!(raced.approvals.len(), 1);
    let winner = &raced.approvals[0].by;
    let registered = &subjects["F-200"].title;

    // The history has exactly one line per move that happened.
    let history = store.history().expect("the history parses");
    let mut events: Vec<String> = history
        .iter()
        .map(|e| {
            assert_eq!(e.at, NOW);
            let actor = if e.actor == USER { "" } else { &e.actor };
            format!("{} {:?} {actor}", e.subject, e.event)
        })
        .collect();
    events.sort();
    let mut expected = vec![
        "F-100 Created ".to_string(),
        "F-100 Advanced ".to_string(),
        format!("F-100 Approved {winner}"),
        "F-200 Created ".to_string(),
    ];
    for i in 1..=16 {
        expected.push(format!("F-{i} Created "));
        expected.push(format!("F-{i} Advanced "));
    }
    expected.sort();
    assert_eq!(events, expected);
    // The winners are the processes whose words the files hold.
    let k: usize = winner.strip_prefix("racer-").unwrap().parse().unwrap();
    assert!(runs[16 + k].stdout.contains("now in phase `③ planned`"));
    let k: usize = registered.strip_prefix("Racer-").unwrap().parse().unwrap();
    assert_eq!(runs[32 + k].code, Some(0));

    // Nothing else: no temporary file, no stray file.
    let mut expected_files = vec![".lock".to_string(), "history.jsonl".to_string()];
    expected_files.extend(subjects.keys().map(|id| format!("subjects/{id}.json")));
    expected_files.sort();
    assert_eq!(project.state_files(), expected_files);
}

#[test]
fn a_process_killed_mid_write_leaves_the_old_file() {
    let project = Project::new();
    project.run(&["new", "F-1"]).expect(0);
    project.place("spec-good.md", "specs/f-1/spec.md");
    let file = project.subject_file("F-1");
    let before = fs::read(&file).unwrap();

    let crashed = project.run_with(&["advance", "F-1"], &[("TOLLGATE_FAULT", "die-mid-write")]);
    assert_ne!(crashed.code, Some(0), "{crashed}");
    assert_eq!(fs::read(&file).unwrap(), before, "the old file, whole");
    // The fault struck halfway through the new file, not before it; the
    // temporary file has a random name.
    let temporaries: Vec<String> = project
        .state_files()
        .into_iter()
        .filter(|f| f.starts_with("subjects/.F-1.json.") && f.ends_with(".tmp"))
        .collect();
    assert_eq!(temporaries.len(), 1, "{temporaries:?}");
    let half =
        fs::read_to_string(project.state_file(&temporaries[0])).expect("the half-written file");
    assert!(half.starts_with("{\n  \"id\": \"F-1\""), "{half}");
    assert!(serde_json::from_str::<serde_json::Value>(&half).is_err());
    // The move did not happen, so it is not in the history.
    assert_eq!(project.history().len(), 1);

    // The leftover is not a subject: status and check read past it.
    let status = project.run(&["status", "--format", "json"]).expect(0);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["subjects"].as_array().unwrap().len(), 1);
    assert_eq!(status["subjects"][0]["phase"], "draft");
    project.run(&["check", "--all"]).expect(0);

    // The next write goes through and takes the leftover's place.
    project.run(&["advance", "F-1"]).expect(0);
    assert_eq!(project.subject("F-1")["phase"], "specified");
    assert_eq!(
        project.state_files(),
        [".lock", "history.jsonl", "subjects/F-1.json"]
    );
    assert_eq!(project.history().len(), 2);
}

#[test]
fn a_registration_killed_mid_write_registers_nothing() {
    let project = Project::new();
    let crashed = project.run_with(
        &["new", "F-1", "--title", "Crash"],
        &[("TOLLGATE_FAULT", "die-mid-write")],
    );
    assert_ne!(crashed.code, Some(0), "{crashed}");
    assert!(!project.subject_file("F-1").exists());
    assert!(project.history().is_empty());
    let status = project.run(&["status"]).expect(0);
    assert!(status.stdout.starts_with("no feature is registered yet"));
    project.run(&["new", "F-1", "--title", "Again"]).expect(0);
    assert_eq!(project.subject("F-1")["title"], "Again");
    assert_eq!(
        project.state_files(),
        [".lock", "history.jsonl", "subjects/F-1.json"]
    );
}

/// A valid subject file of F-1, as tollgate writes it.
fn valid_record(project: &Project) -> String {
    project
        .run(&["new", "F-1", "--title", "Café crème"])
        .expect(0);
    fs::read_to_string(project.subject_file("F-1")).unwrap()
}

/// `text` with its first `é` (two bytes) replaced by a byte that is not
/// UTF-8.
fn not_utf8(text: &str) -> Vec<u8> {
    let at = text.find('é').expect("an é");
    let mut bytes = text.as_bytes().to_vec();
    bytes.splice(at..at + 'é'.len_utf8(), [0xff]);
    bytes
}

#[test]
fn corrupt_subject_files_are_reported_with_their_position_and_never_rewritten() {
    let probe = Project::new();
    let valid = valid_record(&probe);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("not JSON", b"phase: draft\n".to_vec()),
        ("truncated", valid.as_bytes()[..valid.len() / 2].to_vec()),
        (
            "wrong type",
            valid
                .replace("\"approvals\": []", "\"approvals\": \"none\"")
                .into_bytes(),
        ),
        (
            "unknown field",
            valid
                .replace("\"phase\"", "\"owner\": \"ana\",\n  \"phase\"")
                .into_bytes(),
        ),
        (
            "missing field",
            valid
                .replace("  \"slug\": \"f-1-caf-cr-me\",\n", "")
                .into_bytes(),
        ),
        (
            "another subject's id",
            valid
                .replace("\"id\": \"F-1\"", "\"id\": \"F-2\"")
                .into_bytes(),
        ),
        ("not UTF-8", not_utf8(&valid)),
    ];
    let mut report = String::new();
    for (name, bytes) in cases {
        let project = Project::new();
        valid_record(&project);
        project.place("spec-good.md", "specs/f-1-caf-cr-me/spec.md");
        let file = project.subject_file("F-1");
        fs::write(&file, &bytes).unwrap();
        let history_before = fs::read(project.state_file("history.jsonl")).unwrap();
        let mut messages = Vec::new();
        for command in [
            &["status"][..],
            &["status", "F-1", "--format", "json"],
            &["check", "F-1"],
            &["check", "--all"],
            &["show", "specify", "--subject", "F-1"],
            &["advance", "F-1"],
            &["approve", "F-1", "--step", "plan", "--by", "ana"],
            &["new", "F-1"],
        ] {
            let run = project.run(command).expect(2);
            assert!(run.stdout.is_empty(), "{name}: {command:?}: {run}");
            messages.push(run.stderr);
        }
        // Every command says the same thing about it.
        messages.dedup();
        assert_eq!(messages.len(), 1, "{name}: {messages:#?}");
        assert!(
            messages[0].starts_with("tollgate: .tollgate/subjects/F-1.json:"),
            "{name}: {}",
            messages[0]
        );
        assert_eq!(fs::read(&file).unwrap(), bytes, "{name}: rewritten");
        assert_eq!(
            fs::read(project.state_file("history.jsonl")).unwrap(),
            history_before,
            "{name}: history"
        );
        report.push_str(&format!("{name}:\n  {}", messages[0]));
    }
    insta::assert_snapshot!(report);
}

#[test]
fn subjects_that_are_not_ours_are_not_listed() {
    let project = Project::new();
    valid_record(&project);
    // Files that cannot be subjects: hidden, other extensions, bad ids.
    for name in [".F-2.json", "F-3.json.bak", "notes.txt", "a b.json"] {
        fs::write(project.state_file(&format!("subjects/{name}")), "junk").unwrap();
    }
    let run = project.run(&["status", "--format", "json"]).expect(0);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let ids: Vec<&str> = value["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["F-1"]);
}

#[test]
fn a_history_line_that_does_not_parse_is_named_by_line_and_column() {
    let project = Project::new();
    project.run(&["new", "F-1"]).expect(0);
    let history = project.state_file("history.jsonl");
    let mut text = fs::read_to_string(&history).unwrap();
    text.push_str("{\"at\": \"2026-03-01T10:00:00Z\", \"actor\": \"ana\", oops}\n");
    fs::write(&history, &text).unwrap();
    let store = Store::new(project.root(), STATE_DIR);
    let error = store.history().unwrap_err();
    assert!(matches!(error, StateError::Corrupt { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        ".tollgate/history.jsonl:2:48: the state file does not parse: key must be a string"
    );

    // Writers append after it; they never rewrite what is there.
    project.run(&["new", "F-2"]).expect(0);
    let after = fs::read_to_string(&history).unwrap();
    assert!(after.starts_with(&text), "{after}");
    assert_eq!(after.lines().count(), 3);
    let mut last: serde_json::Value = serde_json::from_str(after.lines().last().unwrap()).unwrap();
    // Linked to the line before it, unparsable as that line is.
    let corrupt = text.lines().last().unwrap();
    assert_eq!(last["prev"], tollgate::state::link(corrupt));
    last.as_object_mut().unwrap().remove("prev");
    assert_eq!(
        last,
        json!({"at": NOW, "actor": USER, "subject": "F-2", "event": "created", "to": "draft"})
    );

    // A line with another event kind is corrupt too, at its value.
    fs::write(
        &history,
        "{\"at\":\"t\",\"actor\":\"a\",\"subject\":\"F-1\",\"event\":\"deleted\"}\n",
    )
    .unwrap();
    assert_eq!(
        store.history().unwrap_err().to_string(),
        ".tollgate/history.jsonl:1:55: the state file does not parse: \
         unknown variant `deleted`, expected one of `created`, `advanced`, `approved`, `rejected`"
    );
}

#[test]
fn a_history_that_cannot_be_appended_to_leaves_the_subject_as_it_was() {
    let project = Project::new();
    project.run(&["new", "F-1"]).expect(0);
    project.place("spec-good.md", "specs/f-1/spec.md");
    let history = project.state_file("history.jsonl");
    let before = fs::read(&history).unwrap();
    // A folder where the history should be: every append fails.
    fs::remove_file(&history).unwrap();
    fs::create_dir(&history).unwrap();

    let run = project.run(&["advance", "F-1"]).expect(2);
    assert!(run.stderr.contains(".tollgate/history.jsonl"), "{run}");
    assert_eq!(
        project.subject("F-1")["phase"],
        "draft",
        "the move is not half made"
    );

    let run = project.run(&["new", "F-2"]).expect(2);
    assert!(run.stderr.contains(".tollgate/history.jsonl"), "{run}");
    assert!(!project.subject_file("F-2").exists());

    fs::remove_dir(&history).unwrap();
    fs::write(&history, before).unwrap();
    project.run(&["advance", "F-1"]).expect(0);
    assert_eq!(project.history().len(), 2);
}

#[test]
fn a_torn_last_history_line_is_dropped_not_glued_to_the_next() {
    let project = Project::new();
    project.run(&["new", "F-1"]).expect(0);
    let history = project.state_file("history.jsonl");
    let whole = fs::read_to_string(&history).unwrap();
    // What a process killed in the middle of its append leaves.
    fs::write(&history, format!("{whole}{{\"at\": \"{NOW}\", \"act")).unwrap();

    let store = Store::new(project.root(), STATE_DIR);
    assert_eq!(store.history().expect("the whole lines parse").len(), 1);

    project.run(&["new", "F-2"]).expect(0);
    let after = fs::read_to_string(&history).unwrap();
    assert!(after.starts_with(&whole), "{after}");
    let events: Vec<String> = project
        .history()
        .iter()
        .map(|e| format!("{} {}", e["subject"], e["event"]))
        .collect();
    assert_eq!(events, ["\"F-1\" \"created\"", "\"F-2\" \"created\""]);
}

#[test]
fn temporary_files_a_killed_writer_left_are_removed_under_the_lock() {
    let project = Project::new();
    project.run(&["new", "F-1"]).expect(0);
    for leftover in [".F-1.json.tmp", ".F-9.json.a1B2c3.tmp"] {
        fs::write(
            project.state_file(&format!("subjects/{leftover}")),
            "{\n  \"id\"",
        )
        .unwrap();
    }
    project.run(&["new", "F-2"]).expect(0);
    assert_eq!(
        project.state_files(),
        [
            ".lock",
            "history.jsonl",
            "subjects/F-1.json",
            "subjects/F-2.json"
        ]
    );
}

#[test]
fn one_corrupt_subject_is_reported_and_the_others_still_shown() {
    let project = Project::new();
    project.run(&["new", "F-1"]).expect(0);
    project
        .run(&["new", "F-2", "--title", "Still here"])
        .expect(0);
    fs::write(project.subject_file("F-1"), "{ oops").unwrap();

    let run = project.run(&["status"]).expect(2);
    assert!(run.stdout.contains("F-2  Still here"), "{run}");
    assert!(
        run.stderr.starts_with(
            "tollgate: .tollgate/subjects/F-1.json:1:3: the state file does not parse"
        ),
        "{run}"
    );

    let run = project.run(&["status", "--format", "json"]).expect(2);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["subjects"][0]["id"], "F-2", "{run}");

    let run = project.run(&["check", "--all"]).expect(2);
    assert!(run.stdout.contains("F-2 · specify"), "{run}");
    assert!(
        run.stderr.contains(".tollgate/subjects/F-1.json:1:3"),
        "{run}"
    );
}

#[test]
fn approvals_without_a_step_take_the_step_the_lock_finds() {
    let project = Project::new();
    project.run(&["new", "F-1"]).expect(0);
    project.place("spec-good.md", "specs/f-1/spec.md");
    project.place("plan-good.md", "specs/f-1/plan.md");
    project.run(&["advance", "F-1"]).expect(0);
    // All race to approve the current step, `plan`: one wins; for every
    // other, the current step under the lock is `ship`, which has an
    // automated gate, whenever it read the subject.
    let wave: Vec<Vec<String>> = (0..12)
        .map(|k| args(&format!("approve F-1 --by racer-{k}")))
        .collect();
    let runs = all_at_once(&project, &wave);
    assert_eq!(codes(&runs), BTreeMap::from([(0, 1), (2, 11)]));
    for loser in runs.iter().filter(|r| r.code == Some(2)) {
        assert_eq!(
            loser.stderr,
            "tollgate: step `ship` has an automated gate: it needs no approval; use `tollgate advance`\n",
            "{loser}"
        );
    }
    assert_eq!(
        project.subject("F-1")["approvals"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
