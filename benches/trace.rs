//! What a `trace` costs over the parse of the two documents it reads.
//!
//! A spec with 500 requirements (`FR-001` to `FR-500`, every tenth one
//! defined again further down) and tasks of 2,000 lines citing them, with
//! a dangling reference every hundred lines. Criterion times, in process,
//! (a) parsing both documents and (b) parsing both and running the
//! `requirements-traced` check of `tests/fixtures/trace/playbook.yaml` on
//! them; then the two are timed again interleaved (fastest of 30 each) and
//! their ratio printed against the goal of 1.2, never asserted.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::Criterion;
use tollgate::checks::{self, Artifact, Other, Surroundings};
use tollgate::markdown::Document;
use tollgate::playbook::{CheckKind, LoadedPlaybook};

const PLAYBOOK: &str = "tests/fixtures/trace/playbook.yaml";
const REQUIREMENTS: usize = 500;
const TASK_LINES: usize = 2_000;

fn spec() -> String {
    let mut text = String::from("# Spec\n\n## Functional Requirements\n\n");
    for n in 1..=REQUIREMENTS {
        text.push_str(&format!(
            "- **FR-{n:03}**: The system MUST handle case {n} without losing an edit.\n"
        ));
    }
    text.push_str("\n### Repeated\n\n");
    for n in (10..=REQUIREMENTS).step_by(10) {
        text.push_str(&format!("- **FR-{n:03}**: Written again.\n"));
    }
    text
}

fn tasks() -> String {
    let mut text = String::from("# Tasks\n\n## Phase 1\n\n");
    for line in 0..TASK_LINES {
        let cited = line % REQUIREMENTS + 1;
        if line % 100 == 99 {
            text.push_str(&format!(
                "- [ ] T{line:04} Cite a requirement the spec lacks (FR-9{line:02})\n"
            ));
        } else {
            text.push_str(&format!(
                "- [ ] T{line:04} [P] Build part {line} in `src/part_{line}.rs` (FR-{cited:03})\n"
            ));
        }
    }
    text
}

fn fastest(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .expect("runs")
}

fn main() {
    let loaded = LoadedPlaybook::load(Path::new(PLAYBOOK), PLAYBOOK).expect("the playbook");
    let check = loaded
        .playbook
        .step_checks(0)
        .into_iter()
        .map(|(_, check)| check)
        .find(|check| matches!(check.kind, CheckKind::Trace(_)))
        .expect("a trace check")
        .clone();
    let (spec, tasks) = (spec(), tasks());
    let parse = || {
        (
            Document::parse_str("spec.md", &spec),
            Document::parse_str("tasks.md", &tasks),
        )
    };
    let trace = || {
        let (spec, tasks) = parse();
        let others = |name: &str| {
            (name == "spec").then_some(Other {
                path: "spec.md",
                artifact: Artifact::Loaded(&spec),
            })
        };
        let around = Surroundings {
            others: &others,
            root: None,
        };
        checks::run_builtin(&check, &Artifact::Loaded(&tasks), "tasks.md", &around)
    };
    let outcome = trace();
    let errors = outcome.findings.len();
    assert!(errors > 0, "the generated tasks dangle: {errors} findings");

    let mut criterion = Criterion::default().sample_size(30).configure_from_args();
    criterion.bench_function(
        "parse spec (500 requirements) and tasks (2,000 lines)",
        |b| b.iter(|| black_box(parse())),
    );
    criterion.bench_function("parse both and trace", |b| b.iter(|| black_box(trace())));

    let (mut parsed, mut traced) = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        parsed = parsed.min(fastest(10, || {
            black_box(parse());
        }));
        traced = traced.min(fastest(10, || {
            black_box(trace());
        }));
    }
    let ratio = traced.as_secs_f64() / parsed.as_secs_f64();
    println!(
        "\nparse both: {parsed:.2?}; parse both and trace: {traced:.2?} ({} findings); ratio {ratio:.3} (goal < 1.2: {})",
        outcome.findings.len(),
        if ratio < 1.2 { "met" } else { "missed" }
    );
}
