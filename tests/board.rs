//! `tollgate board` through the real binary: the page's structure parsed
//! with an HTML parser (columns in phase order, each card in its phase's
//! column, findings inside the card), escaping of what documents and people
//! wrote, writing that never follows a symlink, and the page loaded from
//! disk by a real browser (headless Chromium) that must build the same DOM
//! without requesting anything. The playbook is `tests/fixtures/subjects/`.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::Command;

use harness::Project;
use scraper::{ElementRef, Html, Selector};
use tollgate::checks::{CheckOutcome, CheckStatus};
use tollgate::diagnostic::Diagnostic;
use tollgate::engine::{StepResult, Verdict};
use tollgate::playbook::LoadedPlaybook;
use tollgate::project::SubjectStatus;
use tollgate::report::{BoardContext, board_html};
use tollgate::state::SubjectRecord;

const HOSTILE_TITLE: &str = "<script>alert(1)</script>";

/// F-11 (a hostile title, a failing spec) and F-13 (nothing written yet)
/// in `draft`, F-12 advanced to `specified` awaiting approval.
fn project() -> Project {
    let project = Project::new();
    for (id, title) in [
        ("F-11", HOSTILE_TITLE),
        ("F-12", "Audit log"),
        ("F-13", "Search"),
    ] {
        project.run(&["new", id, "--title", title]).expect(0);
    }
    project.place("spec-bad.md", "specs/f-11-script-alert-1-script/spec.md");
    project.place("spec-good.md", "specs/f-12-audit-log/spec.md");
    project.run(&["advance", "F-12"]).expect(0);
    project.place("plan-good.md", "specs/f-12-audit-log/plan.md");
    project
}

fn board(project: &Project) -> (PathBuf, String) {
    let out = project.root().join("board.html");
    let out_arg = out.to_str().unwrap();
    let run = project.run(&["board", "--out", out_arg]).expect(0);
    assert!(
        run.stdout.contains("wrote the board of 3 features"),
        "{run}"
    );
    let page = std::fs::read_to_string(&out).expect("the board was written");
    (out, page)
}

fn select<'a>(html: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    html.select(&Selector::parse(css).unwrap()).collect()
}

fn within<'a>(element: ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    element.select(&Selector::parse(css).unwrap()).collect()
}

fn text(element: ElementRef) -> String {
    element.text().collect::<String>()
}

/// Column phase ids in page order, each with the subjects of its cards.
fn columns(html: &Html) -> Vec<(String, Vec<String>)> {
    select(html, "main section.column")
        .into_iter()
        .map(|column| {
            let phase = column.attr("data-phase").unwrap().to_string();
            let cards = within(column, "article.card")
                .into_iter()
                .map(|card| card.attr("data-subject").unwrap().to_string())
                .collect();
            (phase, cards)
        })
        .collect()
}

#[test]
fn a_column_per_phase_in_order_and_each_card_in_its_phase() {
    let project = project();
    let (_, page) = board(&project);
    let html = Html::parse_document(&page);
    let expected = [
        ("draft", vec!["F-11", "F-13"]),
        ("specified", vec!["F-12"]),
        ("planned", vec![]),
        ("done", vec![]),
    ]
    .map(|(phase, cards)| {
        let cards = cards.into_iter().map(String::from).collect();
        (phase.to_string(), cards)
    });
    assert_eq!(columns(&html), expected);
    // Landmarks, and headings that never skip a level.
    for landmark in ["header", "main", "footer"] {
        assert_eq!(select(&html, landmark).len(), 1, "{landmark}");
    }
    let levels: Vec<u8> = select(&html, "h1, h2, h3, h4, h5, h6")
        .iter()
        .map(|h| h.value().name()[1..].parse().unwrap())
        .collect();
    assert_eq!(levels[0], 1);
    assert!(levels.windows(2).all(|w| w[1] <= w[0] + 1), "{levels:?}");
    // Verdicts are words, not only colours; the counts add up.
    let card = |id: &str| select(&html, &format!("article.card[data-subject=\"{id}\"]"))[0];
    assert_eq!(text(within(card("F-11"), ".badge")[0]), "failed");
    assert_eq!(text(within(card("F-12"), ".badge")[0]), "awaiting approval");
    let counts: Vec<String> = select(&html, ".counts li").into_iter().map(text).collect();
    assert!(counts.contains(&"failed: 2".to_string()), "{counts:?}");
    assert!(
        counts.contains(&"awaiting approval: 1".to_string()),
        "{counts:?}"
    );
    // The flow: every step, its gate marked.
    let flow: Vec<(String, String)> = select(&html, ".flow li")
        .into_iter()
        .map(|step| (step.attr("data-step").unwrap().into(), text(step)))
        .collect();
    assert_eq!(flow.len(), 3);
    assert!(flow[0].1.contains("automated gate"), "{flow:?}");
    assert!(flow[1].1.contains("human gate"), "{flow:?}");
}

#[test]
fn findings_and_history_are_inside_the_card() {
    let project = project();
    let (_, page) = board(&project);
    let html = Html::parse_document(&page);
    let card = select(&html, "article.card[data-subject=\"F-11\"]")[0];
    let findings: Vec<String> = within(card, "details ul.findings li")
        .into_iter()
        .map(text)
        .collect();
    assert!(
        findings
            .iter()
            .any(|f| f.contains("specs/f-11-script-alert-1-script/spec.md:9")
                && f.contains("placeholder \"TODO:\" remains")),
        "{findings:?}"
    );
    assert!(text(card).contains("created by tester"), "{}", text(card));
    let quiet = select(&html, "article.card[data-subject=\"F-12\"]")[0];
    assert!(within(quiet, "ul.findings").is_empty());
    assert!(
        text(quiet).contains("advanced specify by tester"),
        "{}",
        text(quiet)
    );
}

#[test]
fn a_hostile_title_stays_text() {
    let project = project();
    let (_, page) = board(&project);
    assert!(!page.contains(HOSTILE_TITLE));
    let html = Html::parse_document(&page);
    assert!(select(&html, "script").is_empty());
    let card = select(&html, "article.card[data-subject=\"F-11\"] h4")[0];
    assert_eq!(text(card), format!("F-11 · {HOSTILE_TITLE}"));
}

#[test]
fn a_finding_message_and_a_note_are_escaped() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(harness::PLAYBOOK);
    let loaded = LoadedPlaybook::load(&fixture, harness::PLAYBOOK).expect("the playbook loads");
    let message = r#"quote " amp & lt < gt > end"#;
    let finding = Diagnostic::error("spec-covers", "specs/x/spec.md", message);
    let subject = SubjectStatus {
        record: SubjectRecord {
            id: "F-1".into(),
            title: "A & B".into(),
            slug: "f-1-a-b".into(),
            phase: "draft".into(),
            created_at: harness::NOW.into(),
            approvals: Vec::new(),
            rejections: Vec::new(),
        },
        phase_label: "① draft".into(),
        next_step: Some("specify".into()),
        result: Some(StepResult {
            subject: Some("F-1".into()),
            step: "specify".into(),
            verdict: Verdict::Failed,
            artifacts: Default::default(),
            outcomes: vec![CheckOutcome {
                check: "spec-covers".into(),
                kind: "sections",
                status: CheckStatus::Failed,
                findings: vec![finding],
                evidence: Vec::new(),
                suppressed: Vec::new(),
                read: Vec::new(),
            }],
            sources: Vec::new(),
            unreadable: false,
        }),
        approvals: Vec::new(),
        gate: None,
    };
    let board = BoardContext {
        commit: None,
        generated_at: harness::NOW,
    };
    let page = board_html(&loaded.playbook, &[subject], &[], &board).expect("it renders");
    assert!(
        page.contains("quote &quot; amp &amp; lt &lt; gt &gt; end"),
        "{page}"
    );
    let html = Html::parse_document(&page);
    let finding = select(&html, "ul.findings li")[0];
    assert!(
        text(finding).ends_with(&format!(": {message}")),
        "{}",
        text(finding)
    );
}

#[cfg(unix)]
#[test]
fn the_page_is_never_written_through_a_symlink() {
    let project = project();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let link = project.root().join("tollgate-board.html");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let refused = project.run(&["board"]).expect(2);
    assert!(refused.stderr.contains("is a symbolic link"), "{refused}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    std::fs::remove_file(&link).unwrap();
    project.run(&["board"]).expect(0);
    assert!(link.is_file());

    // A folder in the project that leads out of it is refused.
    std::os::unix::fs::symlink(outside.path(), project.root().join("site")).unwrap();
    let out = project.root().join("site/board.html");
    let refused = project
        .run(&["board", "--out", out.to_str().unwrap()])
        .expect(2);
    assert!(refused.stderr.contains("is a symbolic link"), "{refused}");
    assert!(!outside.path().join("board.html").exists());
}

/// Chromium from Debian (`chromium`) or elsewhere (`chromium-browser`).
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Headless Chromium with everything of its own that might reach the
/// network turned off, a fresh profile, and a NetLog: Chromium's record of
/// every request its network stack starts, which the test reads to prove
/// the page asked for nothing.
fn headless(chromium: &Path, work: &Path, name: &str) -> (Command, PathBuf) {
    let net_log = work.join(format!("{name}.netlog.json"));
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=390,1400",
        ])
        .arg(format!("--user-data-dir={}", work.join(name).display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .arg("--net-log-capture-mode=Default");
    (command, net_log)
}

/// The requests a page started, from the NetLog: each job whose initiator
/// is an origin (a page from disk is the opaque origin `null`). Chromium's
/// own background requests, which flags do not stop them all, have none:
/// their initiator reads `not an origin`.
fn page_requests(net_log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(net_log).expect("Chromium wrote its NetLog");
    let log: serde_json::Value = serde_json::from_str(&text).expect("the NetLog is JSON");
    let start_job = &log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"];
    assert!(start_job.is_u64(), "the NetLog names its event types");
    log["events"]
        .as_array()
        .expect("NetLog events")
        .iter()
        .filter(|event| &event["type"] == start_job)
        .filter(|event| {
            // The job's start carries its initiator; its end, only an error code.
            let initiator = event["params"]["initiator"].as_str();
            initiator.is_some_and(|initiator| initiator != "not an origin")
        })
        .map(|event| event["params"].to_string())
        .collect()
}

/// Runs Chromium on `url` with `mode` (`--dump-dom`, `--screenshot=…`);
/// its standard output and the requests the page made.
fn browse(
    chromium: &Path,
    work: &Path,
    name: &str,
    mode: &str,
    url: &str,
) -> (String, Vec<String>) {
    let (mut command, net_log) = headless(chromium, work, name);
    let output = command.arg(mode).arg(url).output().expect("Chromium runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (stdout, page_requests(&net_log))
}

#[test]
fn a_real_browser_builds_the_page_from_disk_without_any_request() {
    let Some(chromium) = chromium() else {
        println!("skipped: no Chromium on PATH (install Debian's `chromium` package)");
        return;
    };
    let project = project();
    let (out, page) = board(&project);
    let work = tempfile::tempdir().unwrap();
    let work = work.path();

    // The method sees a request when there is one: a page with an image
    // from elsewhere (a closed local port) shows up.
    let probe = work.join("probe.html");
    std::fs::write(
        &probe,
        r#"<!DOCTYPE html><title>probe</title><img src="http://127.0.0.1:9/probe.png" alt="">"#,
    )
    .unwrap();
    let probe_url = format!("file://{}", probe.display());
    let (_, probed) = browse(&chromium, work, "probe", "--dump-dom", &probe_url);
    assert!(!probed.is_empty(), "the NetLog missed the probe's request");

    let url = format!("file://{}", out.display());
    let (dump, requests) = browse(&chromium, work, "dom", "--dump-dom", &url);
    assert!(requests.is_empty(), "the page made requests: {requests:?}");
    let dom = Html::parse_document(&dump);
    // The browser built what the parser reads from the file.
    assert_eq!(columns(&dom), columns(&Html::parse_document(&page)));
    assert_eq!(select(&dom, "article.card details").len(), 3);
    assert!(select(&dom, "script").is_empty());

    let shot = work.join("board.png");
    let mode = format!("--screenshot={}", shot.display());
    let (_, requests) = browse(&chromium, work, "shot", &mode, &url);
    assert!(requests.is_empty(), "the page made requests: {requests:?}");
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
}

#[test]
fn the_header_shows_the_commit_checked_out() {
    let project = project();
    let id = "0123456789abcdef0123456789abcdef01234567";
    project.write(".git/HEAD", "ref: refs/heads/main\n");
    project.write(
        ".git/packed-refs",
        &format!("# pack-refs\n{id} refs/heads/main\n"),
    );
    let (_, page) = board(&project);
    assert!(
        page.contains(&format!("Commit <code>{id}</code>")),
        "packed"
    );
    let loose = "fedcba9876543210fedcba9876543210fedcba98";
    project.write(".git/refs/heads/main", &format!("{loose}\n"));
    let (_, page) = board(&project);
    assert!(
        page.contains(&format!("Commit <code>{loose}</code>")),
        "loose"
    );
    // A HEAD that names something outside `refs/` shows no commit.
    project.write(".git/HEAD", "ref: ../../secret\n");
    let (_, page) = board(&project);
    assert!(!page.contains("Commit"), "{page}");
}
