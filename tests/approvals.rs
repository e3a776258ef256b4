//! Human gates people can trust, through the real binary in real git
//! repositories made in temporary folders: who may approve, how many must,
//! changes requested, the hash-chained history, and `tollgate verify`
//! judging each approval against the commit that added it (signed with
//! `ssh-keygen` where it is installed). The playbooks are
//! `tests/fixtures/subjects/approvals*.yaml`, built on the subject tests'.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use harness::{Project, Run, STATE_DIR};
use tollgate::state::Store;

const PLAN: &str = "specs/f-1/plan.md";
const SPEC: &str = "specs/f-1/spec.md";
const NEEDS_SECURITY: &str = "1 of 2 approvals (needs security)";

/// A project in a git repository whose commits have fixed dates, so that
/// their ids, and the findings that name them, are the same on every run.
struct Repo {
    project: Project,
}

impl Repo {
    fn new(playbook: &str) -> Self {
        let repo = Repo {
            project: Project::with_playbook(playbook),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.be("Alice", "alice@example.com");
        repo
    }

    fn root(&self) -> &Path {
        self.project.root()
    }

    /// git in the repository, as the binary sees it: no global or system
    /// configuration.
    fn git_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("git");
        command
            .current_dir(self.root())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", "2026-03-01T10:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-03-01T10:00:00Z")
            .args(args);
        command
    }

    fn git(&self, args: &[&str]) -> String {
        let output = self.git_command(args).output().expect("git runs");
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    /// Makes `email` the repository's git user: who `approve` records.
    fn be(&self, name: &str, email: &str) {
        self.git(&["config", "user.name", name]);
        self.git(&["config", "user.email", email]);
    }

    /// Commits everything as `name <email>`.
    fn commit_as(&self, name: &str, email: &str, message: &str) {
        self.git(&["add", "-A"]);
        let author = format!("{name} <{email}>");
        self.git(&[
            "commit",
            "-q",
            "--no-gpg-sign",
            "--author",
            &author,
            "-m",
            message,
        ]);
    }

    fn run(&self, args: &[&str], code: i32) -> Run {
        self.project.run(args).expect(code)
    }

    /// F-1 with a good spec and plan, committed by alice, advanced to the
    /// plan step (a human gate).
    fn at_the_plan_gate(&self) {
        self.project.place("spec-good.md", SPEC);
        self.project.place("plan-good.md", PLAN);
        self.run(&["new", "F-1", "--no-scaffold"], 0);
        self.run(&["advance", "F-1"], 0);
        self.commit_as("Alice", "alice@example.com", "F-1: spec and plan");
    }

    /// Alice (git's identity) approves the plan and commits her approval.
    fn approved_by_alice(&self) {
        self.run(&["approve", "F-1"], 0);
        self.commit_as("Alice", "alice@example.com", "F-1: alice approves the plan");
    }

    fn phase(&self) -> String {
        self.project.subject("F-1")["phase"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// `verify` in `format`, commit ids and the root made stable.
    fn verify(&self, format: &str, code: i32) -> String {
        let run = self.run(&["verify", "--format", format], code);
        let ids = regex::Regex::new(r"\b[0-9a-f]{10}\b").unwrap();
        ids.replace_all(&run.stdout, "[COMMIT]").into_owned()
    }

    /// The codes of what `verify` finds, in order.
    fn verify_codes(&self, code: i32) -> Vec<String> {
        let json: serde_json::Value = serde_json::from_str(&self.verify("json", code)).unwrap();
        json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                format!(
                    "{} {}",
                    d["severity"].as_str().unwrap(),
                    d["code"].as_str().unwrap()
                )
            })
            .collect()
    }

    fn history_lines(&self) -> Vec<String> {
        fs::read_to_string(self.project.state_file("history.jsonl"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn write_history(&self, lines: &[String]) {
        let mut text = lines.join("\n");
        text.push('\n');
        fs::write(self.project.state_file("history.jsonl"), text).unwrap();
    }
}

#[test]
fn allowed_approvers_count_once_each_and_the_gate_needs_quorum_and_security() {
    let repo = Repo::new("tests/fixtures/subjects/approvals.yaml");
    repo.at_the_plan_gate();

    // Someone the step does not list is refused, told who may approve.
    repo.be("Mallory", "mallory@example.com");
    let refused = repo.run(&["approve", "F-1"], 1);
    assert_eq!(
        refused.stderr,
        "tollgate: Mallory <mallory@example.com> is not among the approvers of step `plan`; \
         who may approve: alice@example.com, bob@example.com, carol@example.com\n"
    );
    let named = repo.run(&["approve", "F-1", "--by", "mallory@example.com"], 1);
    assert!(
        named.stderr.contains("is not among the approvers"),
        "{named}"
    );
    assert!(
        repo.project.subject("F-1")["approvals"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The repository's git identity approves: one of two.
    repo.be("Alice", "alice@example.com");
    let first = repo.run(&["approve", "F-1", "--note", "architecture reviewed"], 0);
    assert_eq!(
        first.stdout,
        format!(
            "feature F-1: step `plan` awaiting_approval ({NEEDS_SECURITY}); it stays in phase `② specified`\n"
        )
    );
    // The same person again, by e-mail in another case: still one.
    let again = repo.run(&["approve", "F-1", "--by", "ALICE@example.com"], 0);
    assert!(again.stdout.contains(NEEDS_SECURITY), "{again}");

    // Every status format shows where the gate stands.
    let table = repo.run(&["status"], 0);
    assert!(table.stdout.contains(NEEDS_SECURITY), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&repo.run(&["status", "--format", "json"], 0).stdout).unwrap();
    assert_eq!(
        json["subjects"][0]["gate"],
        serde_json::json!({
            "progress": NEEDS_SECURITY,
            "approvers": ["alice@example.com"],
            "min": 2,
            "needs": ["security"],
            "changes_requested_by": [],
        })
    );
    let markdown = repo.run(&["status", "--format", "markdown"], 0);
    assert!(
        markdown
            .stdout
            .contains("1 of 2 approvals \\(needs security\\)"),
        "{markdown}"
    );
    let out = repo.root().join("board.html");
    repo.run(&["board", "--out", out.to_str().unwrap()], 0);
    let board = fs::read_to_string(&out).unwrap();
    assert!(
        board.contains(&format!("<dd class=\"gate\">{NEEDS_SECURITY}</dd>")),
        "no gate on the card"
    );

    // Two people, but no one from security: the gate holds.
    let second = repo.run(&["approve", "F-1", "--by", "bob@example.com"], 0);
    assert!(
        second
            .stdout
            .contains("(2 of 2 approvals (needs security))"),
        "{second}"
    );
    assert_eq!(repo.phase(), "specified");
    repo.run(&["check", "F-1", "--require-approval"], 1);

    // Security approves: the gate opens, once.
    let third = repo.run(&["approve", "F-1", "--by", "carol@example.com"], 0);
    assert_eq!(
        third.stdout,
        "feature F-1: step `plan` passed; now in phase `③ planned`\n"
    );
    let moves: Vec<_> = repo
        .project
        .history()
        .into_iter()
        .filter(|e| e["to"] == "planned")
        .collect();
    assert_eq!(moves.len(), 1, "{moves:?}");
    assert_eq!(moves[0]["actor"], "carol@example.com");
}

#[test]
fn changes_requested_hold_the_gate_until_the_document_changes() {
    let repo = Repo::new("tests/fixtures/subjects/approvals.yaml");
    repo.at_the_plan_gate();
    repo.be("Carol", "carol@example.com");
    let rejected = repo.run(&["reject", "F-1", "--note", "no threat model"], 0);
    assert!(
        rejected
            .stdout
            .contains("changes requested by Carol <carol@example.com>"),
        "{rejected}"
    );
    // Only an approver may hold the gate.
    repo.run(
        &[
            "reject",
            "F-1",
            "--by",
            "mallory@example.com",
            "--note",
            "no",
        ],
        1,
    );

    let status: serde_json::Value =
        serde_json::from_str(&repo.run(&["status", "--format", "json"], 0).stdout).unwrap();
    assert_eq!(status["subjects"][0]["verdict"], "failed");
    assert_eq!(
        status["subjects"][0]["gate"]["changes_requested_by"],
        serde_json::json!(["Carol <carol@example.com>"])
    );
    let shown = repo.run(&["show", "plan", "--subject", "F-1", "--with-results"], 0);
    assert!(
        shown.stdout.contains(
            "Carol <carol@example.com> requested changes at 2026-03-01T10:00:00Z: no threat model"
        ),
        "{shown}"
    );

    // Approvals do not open it while the plan is as it was.
    let held = repo.run(&["approve", "F-1", "--by", "alice@example.com"], 1);
    assert!(held.stderr.contains("step `plan` failed"), "{held}");
    assert_eq!(repo.phase(), "specified");

    // A changed plan lifts the request; two approvals open the gate.
    let plan = harness::fixture("documents/plan-good.md");
    repo.project.write(
        PLAN,
        &format!("{plan}\n## Threat model\n\nSpoofed senders are refused.\n"),
    );
    repo.run(&["approve", "F-1", "--by", "alice@example.com"], 0);
    repo.run(&["approve", "F-1"], 0);
    assert_eq!(repo.phase(), "planned");
    let history = repo.project.history();
    assert_eq!(history[2]["event"], "rejected");
    assert_eq!(history[2]["note"], "no threat model");

    // A request for changes taken out of the state by hand is found.
    let mut record = repo.project.subject("F-1");
    record["rejections"] = serde_json::json!([]);
    fs::write(
        repo.project.subject_file("F-1"),
        serde_json::to_string_pretty(&record).unwrap() + "\n",
    )
    .unwrap();
    let text = repo.verify("text", 1);
    assert!(
        text.contains("error[phase-unjustified]: the history records changes requested at step `plan` by Carol <carol@example.com>"),
        "{text}"
    );
}

#[test]
fn the_last_author_of_a_document_may_not_approve_it_when_the_step_says_so() {
    let repo = Repo::new("tests/fixtures/subjects/approvals-strict.yaml");
    repo.at_the_plan_gate();
    let refused = repo.run(&["approve", "F-1"], 1);
    assert!(
        refused.stderr.contains(
            "Alice <alice@example.com> last changed `specs/f-1/plan.md`, so may not approve step `plan`"
        ),
        "{refused}"
    );
    // Uncommitted changes are the local user's.
    repo.be("Bob", "bob@example.com");
    let plan = harness::fixture("documents/plan-good.md");
    repo.project
        .write(PLAN, &format!("{plan}\nBob was here.\n"));
    let refused = repo.run(&["approve", "F-1"], 1);
    assert!(
        refused.stderr.contains("last changed `specs/f-1/plan.md`"),
        "{refused}"
    );
    repo.git(&["checkout", "--", PLAN]);
    repo.run(&["approve", "F-1"], 0);
    assert_eq!(repo.phase(), "planned");
}

/// Two approvals that open the plan gate, each committed by its approver.
fn approved_and_committed() -> Repo {
    let repo = Repo::new("tests/fixtures/subjects/approvals.yaml");
    repo.at_the_plan_gate();
    repo.approved_by_alice();
    repo.be("Carol", "carol@example.com");
    repo.run(&["approve", "F-1"], 0);
    repo.commit_as("Carol", "carol@example.com", "F-1: carol approves the plan");
    assert_eq!(repo.phase(), "planned");
    repo
}

#[test]
fn verify_passes_approvals_their_approvers_committed_and_finds_stale_ones() {
    let repo = approved_and_committed();
    assert_eq!(repo.verify("text", 0), "verified: 0 errors, 0 warnings\n");

    // A changed plan makes both approvals stale.
    let plan = harness::fixture("documents/plan-good.md");
    repo.project
        .write(PLAN, &format!("{plan}\nOne more idea.\n"));
    repo.commit_as("Alice", "alice@example.com", "plan: one more idea");
    assert_eq!(
        repo.verify_codes(1),
        ["error approval-stale", "error approval-stale"]
    );
    // Renewed by both, not yet committed: the gate holds again, and the
    // proof waits for the commit.
    let later = [("TOLLGATE_NOW", "2026-03-02T10:00:00Z")];
    let renew = ["approve", "F-1", "--step", "plan"];
    repo.project.run_with(&renew, &later).expect(0);
    repo.be("Alice", "alice@example.com");
    repo.project.run_with(&renew, &later).expect(0);
    assert_eq!(
        repo.verify_codes(0),
        [
            "warning approval-uncommitted",
            "warning approval-uncommitted"
        ]
    );
}

#[test]
fn an_approval_written_by_hand_and_committed_by_a_bot_is_forged_in_every_format() {
    let repo = Repo::new("tests/fixtures/subjects/approvals.yaml");
    repo.at_the_plan_gate();
    repo.approved_by_alice();
    // Carol's approval, copied from alice's by hand.
    let mut record = repo.project.subject("F-1");
    let mut forged = record["approvals"][0].clone();
    forged["by"] = "carol@example.com".into();
    record["approvals"].as_array_mut().unwrap().push(forged);
    fs::write(
        repo.project.subject_file("F-1"),
        serde_json::to_string_pretty(&record).unwrap() + "\n",
    )
    .unwrap();
    repo.commit_as("CI Bot", "bot@example.com", "F-1: approvals");
    for format in ["text", "json", "sarif", "junit", "github", "markdown"] {
        insta::assert_snapshot!(format!("forged_{format}"), repo.verify(format, 1));
    }
}

#[test]
fn a_phase_moved_past_a_human_gate_by_hand_is_unjustified() {
    let repo = Repo::new("tests/fixtures/subjects/approvals.yaml");
    repo.at_the_plan_gate();
    let file = repo.project.subject_file("F-1");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, text.replace("\"specified\"", "\"planned\"")).unwrap();
    repo.commit_as("Alice", "alice@example.com", "F-1: planned");
    insta::assert_snapshot!(repo.verify("text", 1));
}

#[test]
fn an_edited_dropped_or_reordered_history_line_is_tampering() {
    let repo = approved_and_committed();
    let lines = repo.history_lines();
    assert_eq!(lines.len(), 4);

    let mut edited = lines.clone();
    edited[1] = edited[1].replace(
        "\"actor\":\"Alice <alice@example.com>\"",
        "\"actor\":\"ci\"",
    );
    assert_ne!(edited, lines);
    repo.write_history(&edited);
    insta::assert_snapshot!("edited", repo.verify("text", 1));

    let mut dropped = lines.clone();
    dropped.remove(2);
    repo.write_history(&dropped);
    assert_eq!(repo.verify_codes(1), ["error history-tampered"]);

    let mut reordered = lines.clone();
    reordered.swap(2, 3);
    repo.write_history(&reordered);
    assert_eq!(
        repo.verify_codes(1),
        ["error history-tampered", "error history-tampered"]
    );

    repo.write_history(&lines);
    repo.verify("text", 0);
}

#[test]
fn a_torn_last_line_is_reported_and_never_merged_with_the_next_append() {
    let repo = Repo::new("tests/fixtures/subjects/approvals.yaml");
    repo.at_the_plan_gate();
    let history = repo.project.state_file("history.jsonl");
    let mut text = fs::read_to_string(&history).unwrap();
    text.push_str("{\"prev\":\"00\",\"at\":\"2026-03-01T10:");
    fs::write(&history, &text).unwrap();
    let store = Store::new(repo.root(), STATE_DIR);
    let (_, scan) = store.scan_history().unwrap();
    assert_eq!(scan.torn, Some(3));
    assert!(scan.breaks.is_empty(), "{:?}", scan.breaks);
    assert_eq!(repo.verify_codes(0), ["warning history-tampered"]);
    assert!(repo.verify("text", 0).contains("line 3 is torn"));

    // The next write takes the torn line's place, linked to line 2.
    repo.run(&["approve", "F-1"], 0);
    let lines = repo.history_lines();
    assert_eq!(lines.len(), 3);
    assert!(lines[2].starts_with(&format!(
        "{{\"prev\":\"{}\",",
        tollgate::state::link(&lines[1])
    )));
    assert!(store.scan_history().unwrap().1.breaks.is_empty());
}

#[test]
fn a_history_written_before_the_chain_loads_and_is_chained_on_the_next_write() {
    let repo = Repo::new("tests/fixtures/subjects/approvals.yaml");
    repo.at_the_plan_gate();
    let unchained: Vec<String> = repo
        .project
        .history()
        .iter()
        .map(|event| serde_json::to_string(event).unwrap())
        .collect();
    repo.write_history(&unchained);
    let store = Store::new(repo.root(), STATE_DIR);
    assert_eq!(store.history().unwrap().len(), 2);
    assert_eq!(repo.verify_codes(0), ["warning history-tampered"]);

    repo.run(&["approve", "F-1"], 0);
    let (_, scan) = store.scan_history().unwrap();
    assert!(scan.chained && scan.breaks.is_empty(), "{scan:?}");
    assert_eq!(scan.events.len(), 3);
    assert_eq!(
        repo.project.history()[..2]
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect::<Vec<_>>(),
        unchained
    );
}

#[test]
fn verify_outside_a_git_repository_says_so_and_exits_2() {
    let project = Project::with_playbook("tests/fixtures/subjects/approvals.yaml");
    let run = project.run(&["verify"]).expect(2);
    assert!(
        run.stderr.contains("is not inside a git repository"),
        "{run}"
    );
}

#[test]
fn thirty_two_people_approving_at_once_keep_every_approval_and_open_the_gate_once() {
    let repo = Repo::new("tests/fixtures/subjects/approvals-crowd.yaml");
    repo.at_the_plan_gate();
    let children: Vec<Child> = (0..32)
        .map(|k| {
            let by = format!("racer-{k}@example.com");
            repo.project
                .command(&["approve", "F-1", "--by", &by])
                .spawn()
                .expect("the binary starts")
        })
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|child| repo.project.finish(child))
        .collect();
    for run in &runs {
        assert_eq!(run.code, Some(0), "{run}");
    }
    let opened: Vec<&Run> = runs
        .iter()
        .filter(|r| r.stdout.contains("now in phase `③ planned`"))
        .collect();
    assert_eq!(opened.len(), 1);

    let record = repo.project.subject("F-1");
    let mut approvers: Vec<&str> = record["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["by"].as_str().unwrap())
        .collect();
    approvers.sort_unstable();
    approvers.dedup();
    assert_eq!(approvers.len(), 32);
    assert_eq!(record["phase"], "planned");
    let store = Store::new(repo.root(), STATE_DIR);
    let (_, scan) = store.scan_history().unwrap();
    assert!(scan.breaks.is_empty(), "{:?}", scan.breaks);
    let moves = scan
        .events
        .iter()
        .filter(|(_, e)| e.to.as_deref() == Some("planned"))
        .count();
    assert_eq!(moves, 1);
    assert_eq!(scan.events.len(), 2 + 32);
}

/// Whether this machine can sign commits with SSH keys.
fn ssh_signing() -> bool {
    Command::new("ssh-keygen")
        .arg("-?")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

#[test]
fn with_signed_true_only_a_commit_git_verifies_proves_an_approval() {
    if !ssh_signing() {
        println!("skipped: ssh-keygen is not installed, so no commit can be signed here");
        return;
    }
    let repo = Repo::new("tests/fixtures/subjects/approvals-strict.yaml");
    repo.at_the_plan_gate();
    let key = repo.root().join(".git/bob-key");
    let made = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "bob@example.com",
            "-f",
        ])
        .arg(&key)
        .status()
        .unwrap();
    assert!(made.success());
    let public = fs::read_to_string(key.with_extension("pub")).unwrap();
    let signers = repo.root().join(".git/allowed_signers");
    fs::write(&signers, format!("bob@example.com {public}")).unwrap();
    repo.git(&["config", "gpg.format", "ssh"]);
    repo.git(&["config", "user.signingkey", key.to_str().unwrap()]);
    repo.git(&[
        "config",
        "gpg.ssh.allowedSignersFile",
        signers.to_str().unwrap(),
    ]);

    repo.be("Bob", "bob@example.com");
    repo.run(&["approve", "F-1"], 0);
    repo.commit_as("Bob", "bob@example.com", "F-1: bob approves, unsigned");
    let unsigned = repo.verify("text", 1);
    assert!(
        unsigned.contains("whose signature git does not verify"),
        "{unsigned}"
    );

    repo.git(&["commit", "-q", "--amend", "-S", "--no-edit"]);
    assert_eq!(repo.verify("text", 0), "verified: 0 errors, 0 warnings\n");
}

#[test]
fn a_gate_opened_under_a_looser_rule_is_short_of_quorum_and_its_outsiders_not_allowed() {
    let repo = Repo::new("tests/fixtures/subjects/approvals.yaml");
    repo.at_the_plan_gate();
    // Approved while the playbook let anyone approve alone.
    repo.be("Mallory", "mallory@example.com");
    let loose = repo
        .project
        .command_for(harness::PLAYBOOK, &["approve", "F-1"])
        .spawn()
        .unwrap();
    assert_eq!(repo.project.finish(loose).code, Some(0));
    repo.commit_as("Mallory", "mallory@example.com", "F-1: approved");
    assert_eq!(repo.phase(), "planned");
    insta::assert_snapshot!(repo.verify("text", 1));
}

#[test]
fn verify_refuses_an_approval_by_the_last_author_and_an_unsigned_one_under_a_strict_rule() {
    let repo = Repo::new("tests/fixtures/subjects/approvals-strict.yaml");
    repo.at_the_plan_gate();
    // Alice wrote the plan and approved it while the rule was loose.
    let loose = repo
        .project
        .command_for(harness::PLAYBOOK, &["approve", "F-1"])
        .spawn()
        .unwrap();
    assert_eq!(repo.project.finish(loose).code, Some(0));
    repo.commit_as("Alice", "alice@example.com", "F-1: approved");
    assert_eq!(
        repo.verify_codes(1),
        ["error approval-forged", "error approval-not-allowed"]
    );
    let text = repo.verify("text", 1);
    assert!(
        text.contains("was the last to change `specs/f-1/plan.md` before it"),
        "{text}"
    );
}

/// A state folder whose name holds a space: the paths given to git and
/// read back from it keep the space.
#[test]
fn verify_reads_a_state_folder_whose_name_holds_a_space() {
    let repo = Repo::new("tests/fixtures/subjects/approvals-spaced-state.yaml");
    repo.at_the_plan_gate();
    repo.approved_by_alice();
    repo.be("Carol", "carol@example.com");
    repo.run(&["approve", "F-1"], 0);
    repo.commit_as("Carol", "carol@example.com", "F-1: carol approves the plan");
    let subject = std::fs::read_to_string(repo.root().join("my state/subjects/F-1.json"))
        .expect("the subject is in the spaced folder");
    let subject: serde_json::Value = serde_json::from_str(&subject).expect("JSON");
    assert_eq!(subject["phase"], "planned");
    assert_eq!(repo.verify("text", 0), "verified: 0 errors, 0 warnings\n");
}

/// Taking the link off the last line does not get the history chained
/// anew by the next append, which would hide the edits before it.
#[test]
fn a_link_taken_off_the_last_line_is_not_chained_over() {
    let repo = approved_and_committed();
    let mut lines = repo.history_lines();
    let last = lines.len() - 1;
    lines[1] = lines[1].replace(
        "\"actor\":\"Alice <alice@example.com>\"",
        "\"actor\":\"ci\"",
    );
    let unlinked: serde_json::Value = serde_json::from_str(&lines[last]).unwrap();
    let mut unlinked = unlinked.as_object().unwrap().clone();
    assert!(unlinked.remove("prev").is_some());
    lines[last] = serde_json::Value::Object(unlinked).to_string();
    repo.write_history(&lines);
    repo.run(&["new", "F-2", "--title", "Later"], 0);
    assert!(
        repo.verify_codes(1)
            .contains(&"error history-tampered".to_string()),
        "the edited line is still found"
    );
}
