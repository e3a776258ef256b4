//! Peak memory of whole `tollgate` runs as the number of documents and
//! subjects grows: `check --step plan` over generated plan documents in each
//! streamed format, and `status` and `check --all` over a project of
//! registered subjects. See `benches/README.md`.

#[path = "corpus/mod.rs"]
#[allow(dead_code)]
mod corpus;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tollgate::engine::Options;
use tollgate::playbook::LoadedPlaybook;
use tollgate::project::Project;

const PLAYBOOK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/plan-phase.yaml");

struct Settings {
    /// Corpus sizes for the file runs.
    documents: Vec<usize>,
    subjects: usize,
    formats: Vec<String>,
    /// Another `tollgate` binary measured the same way in the same run.
    baseline: Option<PathBuf>,
}

impl Settings {
    fn from_env(full: bool) -> Self {
        let list = |name: &str, default: &str| -> Vec<String> {
            std::env::var(name)
                .unwrap_or_else(|_| default.to_string())
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_string)
                .collect()
        };
        let (documents, subjects) = if full {
            ("10000,100000", "10000")
        } else {
            ("100,300", "50")
        };
        Self {
            documents: list("TOLLGATE_BENCH_MEMORY_DOCS", documents)
                .iter()
                .map(|n| n.parse().expect("TOLLGATE_BENCH_MEMORY_DOCS: numbers"))
                .collect(),
            subjects: list("TOLLGATE_BENCH_SUBJECTS", subjects)[0]
                .parse()
                .expect("TOLLGATE_BENCH_SUBJECTS: a number"),
            formats: list("TOLLGATE_BENCH_FORMATS", "json,text,github"),
            baseline: std::env::var_os("TOLLGATE_BENCH_BASELINE").map(PathBuf::from),
        }
    }
}

/// How one process run went.
struct Run {
    wall: Duration,
    peak_kib: i64,
    code: i32,
}

/// Runs `command` to its end, its output thrown away, and reads its peak
/// resident memory from the kernel's account of it (`wait4`). Linux counts
/// in it this process's own peak from before the exec too, so a figure
/// means something only above [`own_peak_kib`], which the tables print.
#[allow(clippy::zombie_processes, reason = "wait4 reaps the child")]
fn measure(command: &mut Command) -> Run {
    let started = Instant::now();
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting tollgate");
    let pid = libc::pid_t::try_from(child.id()).expect("a process id");
    let mut status = 0;
    // SAFETY: `rusage` is plain data the kernel fills in; the pid is our
    // own child, waited for once.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(waited, pid, "waiting for tollgate");
    Run {
        wall,
        peak_kib: usage.ru_maxrss,
        code: libc::WEXITSTATUS(status),
    }
}

fn binaries(settings: &Settings) -> Vec<(&'static str, PathBuf)> {
    let mut binaries = vec![("this build", PathBuf::from(env!("CARGO_BIN_EXE_tollgate")))];
    if let Some(baseline) = &settings.baseline {
        binaries.push(("baseline", baseline.clone()));
    }
    binaries
}

/// This process's peak resident memory, from Linux's `/proc/self/status`.
fn own_peak_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(kib: i64) -> f64 {
    kib as f64 / 1024.0
}

/// Writes the first `count` corpus documents into `dir` as `0.md`,
/// `1.md`, ...: names short enough that a hundred thousand of them fit on
/// one command line.
fn write_corpus(dir: &Path, count: usize) -> u64 {
    (0..count)
        .into_par_iter()
        .map(|index| {
            let doc = corpus::generate(index);
            std::fs::write(dir.join(format!("{index}.md")), &doc.text).expect("writing the corpus");
            doc.text.len() as u64
        })
        .sum()
}

fn files_runs(settings: &Settings) {
    println!("\n## check --step plan FILES…, output to /dev/null\n");
    println!("| documents | format | binary | wall | docs/s | peak RSS | exit |");
    println!("|---|---|---|---|---|---|---|");
    for &count in &settings.documents {
        let dir = tempfile::Builder::new()
            .prefix("tollgate-memory-")
            .tempdir()
            .expect("a temporary folder");
        let bytes = write_corpus(dir.path(), count);
        let names: Vec<String> = (0..count).map(|index| format!("{index}.md")).collect();
        println!(
            "| {count} | (this bench's own peak, below which no figure means anything) | | | | {:.1} MiB | |",
            mib(own_peak_kib())
        );
        for format in &settings.formats {
            for (label, binary) in binaries(settings) {
                let run = measure(
                    Command::new(&binary)
                        .current_dir(dir.path())
                        .args(["--playbook", PLAYBOOK, "check", "--step", "plan"])
                        .args(["--format", format])
                        .args(&names),
                );
                println!(
                    "| {count} ({:.0} MB) | {format} | {label} | {:.2} s | {:.0} | {:.1} MiB | {} |",
                    bytes as f64 / 1e6,
                    run.wall.as_secs_f64(),
                    count as f64 / run.wall.as_secs_f64(),
                    mib(run.peak_kib),
                    run.code
                );
            }
        }
    }
}

/// A project of `count` subjects at the `spec` phase, each with its plan
/// written, on a copy of the bench playbook whose plan is per subject.
fn subjects_project(count: usize) -> tempfile::TempDir {
    let root = tempfile::Builder::new()
        .prefix("tollgate-subjects-")
        .tempdir()
        .expect("a temporary folder");
    let text = std::fs::read_to_string(PLAYBOOK).expect("the bench playbook");
    let text = text.replace(
        "plan: .spec-dev/active-dev/active-plan.md",
        "plan: \"plans/{{ subject.id }}.md\"",
    );
    assert!(
        text.contains("{{ subject.id }}"),
        "the plan path is per subject"
    );
    let playbook = root.path().join("tollgate.yaml");
    std::fs::write(&playbook, text).expect("writing the playbook");
    std::fs::create_dir(root.path().join("plans")).expect("the plans folder");
    let loaded = LoadedPlaybook::load(&playbook, "tollgate.yaml").expect("the playbook loads");
    let project = Project::new(root.path(), &loaded, Options::default());
    for index in 0..count {
        let id = format!("F-{index}");
        project
            .register(&id, &format!("Feature {index}"), "bench@example.com")
            .expect("registering a subject");
        let doc = corpus::generate(index);
        std::fs::write(root.path().join(format!("plans/{id}.md")), &doc.text)
            .expect("writing a plan");
    }
    root
}

fn subjects_runs(settings: &Settings) {
    let count = settings.subjects;
    let started = Instant::now();
    let project = subjects_project(count);
    println!(
        "\n## {count} subjects (registered in {:.1} s), output to /dev/null\n",
        started.elapsed().as_secs_f64()
    );
    println!("| command | binary | wall | subjects/s | peak RSS | exit |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| (this bench's own peak) | | | | {:.1} MiB | |",
        mib(own_peak_kib())
    );
    let commands: [&[&str]; 3] = [
        &["status", "--format", "json"],
        &["check", "--all", "--format", "json"],
        &["check", "--all"],
    ];
    for args in commands {
        for (label, binary) in binaries(settings) {
            let run = measure(
                Command::new(&binary)
                    .arg("--root")
                    .arg(project.path())
                    .args(args),
            );
            println!(
                "| {} | {label} | {:.2} s | {:.0} | {:.1} MiB | {} |",
                args.join(" "),
                run.wall.as_secs_f64(),
                count as f64 / run.wall.as_secs_f64(),
                mib(run.peak_kib),
                run.code
            );
        }
    }
    if std::env::var_os("TOLLGATE_BENCH_KEEP").is_some() {
        println!("\nthe project is kept at {}", project.keep().display());
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not, and
    // gets a smoke run of a few seconds.
    let full = std::env::args().any(|arg| arg == "--bench");
    let settings = Settings::from_env(full);
    println!(
        "# Peak memory ({} CPUs, load average {})",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split(' ')
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    files_runs(&settings);
    subjects_runs(&settings);
}
