//! How long the board of 500 subjects takes, against `status --format json`
//! of the same project in the same run.
//!
//! A project in a temporary folder on `tests/fixtures/subjects/playbook.yaml`
//! with 500 features, every other one with a failing spec (findings on its
//! card). Criterion times, in process, (a) `Project::status`, the judging
//! that both `status` and `board` do, and (b) rendering the page from its
//! result; then the release binary is timed end to end (fastest of 10
//! runs) for `status --format json` and for `board`. The goal is a render
//! under 100 ms; it is printed as met or missed, never asserted.

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::Criterion;
use tollgate::engine::Options;
use tollgate::playbook::LoadedPlaybook;
use tollgate::project::Project;
use tollgate::report::{BoardContext, board_html};

const SUBJECTS: usize = 500;
const PLAYBOOK: &str = "tests/fixtures/subjects/playbook.yaml";

fn fastest_run(root: &Path, args: &[&str]) -> Duration {
    let binary = env!("CARGO_BIN_EXE_tollgate");
    (0..10)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new(binary)
                .arg("--root")
                .arg(root)
                .args(["--playbook", PLAYBOOK])
                .args(args)
                .stdout(Stdio::null())
                .status()
                .expect("the binary runs");
            assert!(status.success(), "tollgate {args:?} failed");
            start.elapsed()
        })
        .min()
        .expect("ten runs")
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path();
    let loaded = LoadedPlaybook::load(Path::new(PLAYBOOK), PLAYBOOK).expect("the playbook");
    let project = Project::new(root, &loaded, Options::default());
    let bad_spec = std::fs::read_to_string("tests/fixtures/subjects/documents/spec-bad.md")
        .expect("the fixture");
    for n in 0..SUBJECTS {
        let record = project
            .register(&format!("F-{n}"), &format!("Feature {n}"), "bench")
            .expect("registered");
        if n % 2 == 0 {
            let spec = root.join(format!("specs/{}/spec.md", record.slug));
            std::fs::create_dir_all(spec.parent().unwrap()).unwrap();
            std::fs::write(spec, &bad_spec).unwrap();
        }
    }
    let subjects: Vec<_> = (project.status(None).expect("status").into_iter())
        .map(|subject| subject.expect("every subject is usable"))
        .collect();
    let history = project.store.history().expect("history");
    let board = BoardContext {
        commit: None,
        generated_at: "2026-03-01T10:00:00Z",
    };

    let mut criterion = Criterion::default().sample_size(20).configure_from_args();
    criterion.bench_function("status of 500 subjects (Project::status)", |b| {
        b.iter(|| black_box(project.status(None).expect("status")))
    });
    criterion.bench_function("board of 500 subjects, render only", |b| {
        b.iter(|| {
            black_box(board_html(&loaded.playbook, &subjects, &history, &board).expect("page"))
        })
    });
    criterion.final_summary();

    let start = Instant::now();
    let page = board_html(&loaded.playbook, &subjects, &history, &board).expect("page");
    let render = start.elapsed();
    let status_json = fastest_run(root, &["status", "--format", "json"]);
    let out = root.join("board.html");
    let board_run = fastest_run(root, &["board", "--quiet", "--out", out.to_str().unwrap()]);
    println!(
        "\nboard of {SUBJECTS} subjects: render {:.1} ms ({} KiB) — goal < 100 ms: {}",
        render.as_secs_f64() * 1e3,
        page.len() / 1024,
        if render < Duration::from_millis(100) {
            "met"
        } else {
            "missed"
        }
    );
    println!(
        "end to end, fastest of 10: status --format json {:.1} ms, board {:.1} ms (ratio {:.2})",
        status_json.as_secs_f64() * 1e3,
        board_run.as_secs_f64() * 1e3,
        board_run.as_secs_f64() / status_json.as_secs_f64()
    );
}
