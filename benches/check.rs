//! The performance benchmark of `tollgate check`.
//!
//! One run measures, on the same generated corpus of plan documents
//! (`corpus/mod.rs`):
//!
//! - (f) the parse floor: reading the file, `comrak::parse_document` and one
//!   walk over every node (`floor/mod.rs`), what any verdict needs at least;
//! - (a0) raw `comrak::parse_document`, and (a) the document model build
//!   `Document::parse`;
//! - (b) `Document::parse` plus every built-in check of the `plan` step of
//!   `benches/plan-phase.yaml`, in memory, and (b') the engine's own
//!   `StatelessRun::check_files`, reading the files from disk;
//! - (c) a calibration that allocates nothing, to tell what the machine
//!   itself offers;
//!
//! each on a rayon pool of 1 and of 2 threads, as whole-corpus passes timed
//! with `Instant`: every document once per pass, the configurations taking
//! turns chunk by chunk, the fastest pass kept (other load on the machine
//! can only slow a pass). It prints documents per second and their ratio to
//! the floor, the cost of (b) over (a), the 2-thread speed-ups and the time of
//! each check. It then times whole processes, start to exit: the release
//! binary checking the whole corpus at once (JSON and text output) against
//! the floor as a process of its own (`examples/floor.rs`), and on one
//! document, against the floor process and with an in-process split; last it
//! runs criterion per-document benchmarks (throughput in elements, with
//! confidence intervals) over the same corpus.
//!
//! Goals are printed as met or missed; nothing here asserts on speed.
//! `benches/README.md` says how to run it and lists the settings.

mod corpus;
mod floor;

use std::ffi::OsStr;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use rayon::ThreadPool;
use rayon::prelude::*;
use tollgate::checks::{self, Artifact};
use tollgate::engine::{Options, StatelessRun, Verdict};
use tollgate::markdown::Document;
use tollgate::playbook::{Check, LoadedPlaybook};

use corpus::PlanDoc;

const PLAYBOOK: &str = "benches/plan-phase.yaml";
const STEP: &str = "plan";

/// Goals the benchmark reports against.
const GOAL_CHECK_COST: f64 = 1.3;
const GOAL_SPEEDUP: f64 = 1.8;
const GOAL_END_TO_END_MS: f64 = 10.0;
/// `tollgate check` on one document against the floor process on it.
const GOAL_ONE_DOCUMENT_OVER_FLOOR: f64 = 1.5;

/// A pass whose threads waited this share of their time for a CPU was
/// disturbed by other work on the machine.
const DISTURBED: f64 = 0.05;

/// How many chunks a pass over the corpus is cut into (see `corpus_passes`).
const CHUNKS: usize = 20;

/// How big a run is; each can be set from the environment.
struct Settings {
    docs: usize,
    passes: usize,
    e2e_runs: usize,
    process_runs: usize,
    criterion: bool,
}

impl Settings {
    /// `cargo bench` passes `--bench`; without it (`cargo test --benches`)
    /// the defaults shrink to a smoke run of a few seconds.
    fn from_env(benchmarking: bool) -> Self {
        let full = |full: usize, smoke: usize| if benchmarking { full } else { smoke };
        Self {
            docs: env_usize("TOLLGATE_BENCH_DOCS", full(10_000, 50)).max(1),
            passes: env_usize("TOLLGATE_BENCH_PASSES", full(2, 1)).max(1),
            e2e_runs: env_usize("TOLLGATE_BENCH_E2E_RUNS", full(200, 3)).max(1),
            process_runs: env_usize("TOLLGATE_BENCH_PROCESS_RUNS", full(3, 1)).max(1),
            criterion: env_usize("TOLLGATE_BENCH_CRITERION", full(1, 0)) != 0,
        }
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {value:?}")),
        Err(_) => default,
    }
}

/// What one pass over the corpus does with each document.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Work {
    Floor,
    Comrak,
    Model,
    ModelAndChecks,
    Engine,
    Calibration,
}

impl Work {
    const ALL: [Work; 6] = [
        Work::Floor,
        Work::Comrak,
        Work::Model,
        Work::ModelAndChecks,
        Work::Engine,
        Work::Calibration,
    ];

    fn label(self) -> &'static str {
        match self {
            Work::Floor => "(f)  floor: read + comrak + walk",
            Work::Comrak => "(a0) comrak::parse_document only",
            Work::Model => "(a)  Document::parse",
            Work::ModelAndChecks => "(b)  Document::parse + checks",
            Work::Engine => "(b') engine check_files (disk)",
            Work::Calibration => "(c)  calibration: hash, no alloc",
        }
    }
}

/// Everything a pass needs, shared by every thread.
struct Bench<'a> {
    corpus: &'a [PlanDoc],
    files: &'a [(PathBuf, String)],
    dir: &'a Path,
    run: &'a StatelessRun<'a>,
    checks: &'a [&'a Check],
    comrak_options: &'a comrak::Options<'static>,
}

impl Bench<'_> {
    /// One pass over the whole corpus on `pool`; returns a count that depends
    /// on the work, so that none of it can be optimised away.
    fn pass(&self, work: Work, pool: &ThreadPool) -> usize {
        pool.install(|| match work {
            Work::Engine => self
                .run
                .check_files(self.files)
                .iter()
                .filter(|result| result.verdict == Verdict::Failed)
                .count(),
            _ => self
                .corpus
                .par_iter()
                .map(|doc| self.one(work, doc))
                .reduce(|| 0, usize::wrapping_add),
        })
    }

    /// The work on one document: in memory, except for the engine, which
    /// reads the document's file as `tollgate check` does.
    fn one(&self, work: Work, doc: &PlanDoc) -> usize {
        match work {
            Work::Floor => {
                floor::read_parse_and_walk(&self.dir.join(&doc.name), self.comrak_options)
                    .expect("reading the corpus")
            }
            Work::Comrak => {
                let arena = comrak::Arena::new();
                let root = comrak::parse_document(&arena, &doc.text, self.comrak_options);
                black_box(root).children().count()
            }
            Work::Model => parse(doc).sections.len(),
            Work::ModelAndChecks => usize::from(self.check(doc)),
            Work::Engine => {
                let result = self.run.check_file(&self.dir.join(&doc.name), &doc.name);
                usize::from(result.verdict == Verdict::Failed)
            }
            Work::Calibration => calibration(doc.text.as_bytes()),
        }
    }

    /// Parses a document and runs every check of the step on it, as the
    /// engine does; whether any check failed.
    fn check(&self, doc: &PlanDoc) -> bool {
        let parsed = parse(doc);
        let artifact = Artifact::Loaded(&parsed);
        let mut failed = false;
        for check in self.checks {
            let outcome =
                checks::run_builtin(check, &artifact, &doc.name, &checks::Surroundings::ALONE);
            failed |= !outcome.findings.is_empty();
        }
        failed
    }
}

/// Work that needs no allocation and no shared state: four interleaved
/// FNV-1a lanes over the document, several rounds. How its 2-thread pass
/// scales is what the machine itself offers at the moment (other load,
/// shared cores); the other figures are best read against it.
fn calibration(bytes: &[u8]) -> usize {
    const PRIME: u64 = 0x0000_0100_0000_01B3;
    let mut lanes = [0xCBF2_9CE4_8422_2325_u64; 4];
    for round in 0..8u64 {
        for chunk in bytes.chunks_exact(4) {
            for (lane, &byte) in lanes.iter_mut().zip(chunk) {
                *lane = (*lane ^ u64::from(byte) ^ round).wrapping_mul(PRIME);
            }
        }
    }
    lanes.iter().fold(0, |acc, lane| acc ^ *lane as usize)
}

fn parse(doc: &PlanDoc) -> Document {
    Document::parse(doc.name.as_str(), doc.text.as_bytes()).expect("generated documents are UTF-8")
}

fn pool(threads: usize) -> ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

fn main() {
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    let settings = Settings::from_env(benchmarking);
    if !benchmarking {
        println!("smoke run: without --bench (as `cargo bench` passes) the defaults are tiny");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The first load in a process also builds the playbook schema and its
    // validator, as every `tollgate` process does once.
    let started = Instant::now();
    let loaded = LoadedPlaybook::load(&root.join(PLAYBOOK), PLAYBOOK)
        .unwrap_or_else(|error| panic!("{PLAYBOOK} does not load: {error}"));
    let cold_load = started.elapsed();
    let playbook = &loaded.playbook;
    let run = StatelessRun::new(playbook, STEP, None, Options::default())
        .unwrap_or_else(|error| panic!("{PLAYBOOK}: {error}"));
    let step = playbook
        .steps
        .iter()
        .position(|s| s.id == STEP)
        .expect("the plan step");
    let step_checks: Vec<&Check> = playbook
        .step_checks(step)
        .into_iter()
        .map(|(_, check)| check)
        .collect();

    println!(
        "tollgate benchmark: {} threads available, load average {}",
        available_threads(),
        load_average().map_or("unknown".into(), |load| format!("{load:.2}"))
    );
    println!(
        "settings: TOLLGATE_BENCH_DOCS={} TOLLGATE_BENCH_PASSES={} TOLLGATE_BENCH_E2E_RUNS={} \
         TOLLGATE_BENCH_PROCESS_RUNS={} TOLLGATE_BENCH_CRITERION={}",
        settings.docs,
        settings.passes,
        settings.e2e_runs,
        settings.process_runs,
        u8::from(settings.criterion)
    );

    let started = Instant::now();
    let corpus: Vec<PlanDoc> = (0..settings.docs)
        .into_par_iter()
        .map(corpus::generate)
        .collect();
    let generated = started.elapsed();
    let dir = tempfile::Builder::new()
        .prefix("tollgate-bench-")
        .tempdir()
        .expect("a temporary folder");
    let files: Vec<(PathBuf, String)> = corpus
        .iter()
        .map(|doc| {
            let path = dir.path().join(&doc.name);
            std::fs::write(&path, &doc.text).expect("writing the corpus");
            (path, doc.name.clone())
        })
        .collect();
    let stats = CorpusStats::of(&corpus);
    println!(
        "corpus: {} documents, {:.1} MB ({} to {} bytes, mean {:.1} KB), {} defective ({:.1}%), generated in {:.2} s, written to {}",
        corpus.len(),
        stats.megabytes(),
        stats.min,
        stats.max,
        stats.bytes as f64 / corpus.len() as f64 / 1024.0,
        stats.defective,
        100.0 * stats.defective as f64 / corpus.len() as f64,
        generated.as_secs_f64(),
        dir.path().display()
    );

    sanity_check(&run, &corpus, &files);

    let comrak_options = tollgate::markdown::comrak_options();
    let bench = Bench {
        corpus: &corpus,
        files: &files,
        dir: dir.path(),
        run: &run,
        checks: &step_checks,
        comrak_options: &comrak_options,
    };
    let pools = [(1, pool(1)), (2, pool(2))];
    let table = corpus_passes(&bench, &pools, settings.passes);
    report_corpus(&table, &stats, settings.passes);
    check_breakdown(&bench, 2_000);
    if let Some(load) = load_average() {
        println!(
            "load average after the passes: {load:.2} (other work on the machine skews every figure, the 2-thread ones most)"
        );
    }

    let binary = Path::new(env!("CARGO_BIN_EXE_tollgate"));
    let floor = floor_binary(root);
    let processes = Processes {
        tollgate: binary,
        floor: &floor,
        playbook: &root.join(PLAYBOOK),
        dir: dir.path(),
    };
    processes.whole_corpus(&corpus, &table, settings.process_runs);
    processes.one_document(&corpus, &stats, settings.e2e_runs);
    end_to_end(
        binary,
        &root.join(PLAYBOOK),
        dir.path(),
        &corpus,
        &stats,
        settings.e2e_runs,
    );
    in_process_breakdown(&root.join(PLAYBOOK), dir.path(), &corpus, &stats, cold_load);

    if settings.criterion {
        per_document_criterion(&bench, &pools);
    }
}

fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

struct CorpusStats {
    docs: usize,
    bytes: usize,
    min: usize,
    max: usize,
    median: usize,
    defective: usize,
}

impl CorpusStats {
    fn of(corpus: &[PlanDoc]) -> Self {
        let mut sizes: Vec<usize> = corpus.iter().map(|doc| doc.text.len()).collect();
        sizes.sort_unstable();
        Self {
            docs: corpus.len(),
            bytes: sizes.iter().sum(),
            min: sizes[0],
            max: sizes[sizes.len() - 1],
            median: sizes[sizes.len() / 2],
            defective: corpus.iter().filter(|doc| doc.defect.is_some()).count(),
        }
    }

    fn megabytes(&self) -> f64 {
        self.bytes as f64 / 1e6
    }
}

/// The generator says which documents are defective; the engine must agree,
/// or the corpus does not exercise what it claims to. A disagreement is
/// printed, not fatal: it is a finding for whoever owns the generator or the
/// checks.
fn sanity_check(run: &StatelessRun<'_>, corpus: &[PlanDoc], files: &[(PathBuf, String)]) {
    let results = run.check_files(files);
    let mut disagreements = Vec::new();
    for (doc, result) in corpus.iter().zip(&results) {
        let failed = result.verdict == Verdict::Failed;
        let expected = doc.defect.is_some();
        if failed != expected {
            disagreements.push(format!(
                "{}: generated with {:?}, verdict {}{}",
                doc.name,
                doc.defect,
                result.verdict.as_str(),
                result
                    .findings()
                    .next()
                    .map_or(String::new(), |f| format!(" ({}: {})", f.code, f.message))
            ));
        }
    }
    let failed = results
        .iter()
        .filter(|r| r.verdict == Verdict::Failed)
        .count();
    if disagreements.is_empty() {
        println!("sanity: the engine fails exactly the {failed} defective documents");
    } else {
        println!(
            "sanity: WARNING: {} documents get another verdict than generated; first ones:",
            disagreements.len()
        );
        for line in disagreements.iter().take(5) {
            println!("  {line}");
        }
    }
}

/// The fastest pass of each work and thread count.
struct Row {
    work: Work,
    threads: usize,
    best: Sample,
}

/// One timed pass: wall-clock time, and the CPU time this process's threads
/// got and spent waiting for a CPU meanwhile (zero where the kernel does not
/// say).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Sample {
    wall: Duration,
    cpu: Duration,
    waited: Duration,
}

impl Sample {
    fn time(work: impl FnOnce()) -> Self {
        let (cpu_before, waited_before) = scheduler_times();
        let started = Instant::now();
        work();
        let wall = started.elapsed();
        let (cpu_after, waited_after) = scheduler_times();
        Self {
            wall,
            cpu: cpu_after.saturating_sub(cpu_before),
            waited: waited_after.saturating_sub(waited_before),
        }
    }

    fn add(&mut self, other: Sample) {
        self.wall += other.wall;
        self.cpu += other.cpu;
        self.waited += other.waited;
    }

    /// How many CPUs the pass kept busy on average.
    fn cores(&self) -> f64 {
        self.cpu.as_secs_f64() / self.wall.as_secs_f64()
    }

    /// The share of the time the threads were ready to run but had no CPU,
    /// which other processes on the machine cause.
    fn waited_share(&self) -> f64 {
        let total = self.cpu + self.waited;
        if total.is_zero() {
            0.0
        } else {
            self.waited.as_secs_f64() / total.as_secs_f64()
        }
    }
}

/// The CPU time of this process, threads that ended included (from
/// `getrusage`), and the time its live threads waited in a run queue, from
/// Linux's `/proc/self/task/*/schedstat` (zero elsewhere). The engine row
/// checks on threads of its own that end with each pass, so their waiting
/// is not counted: only the rows on the rayon pools, which live for the
/// whole run, say how long they waited.
fn scheduler_times() -> (Duration, Duration) {
    // SAFETY: `rusage` is plain data the kernel fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let cpu = match unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } {
        0 => {
            let time = |t: libc::timeval| {
                Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
            };
            time(usage.ru_utime) + time(usage.ru_stime)
        }
        _ => Duration::ZERO,
    };
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (cpu, Duration::ZERO);
    };
    let mut waited = 0u64;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        waited += (stat.split_whitespace().nth(1))
            .and_then(|field| field.parse::<u64>().ok())
            .unwrap_or(0);
    }
    (cpu, Duration::from_nanos(waited))
}

/// The 1-minute load average, where Linux tells it.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn corpus_passes(bench: &Bench<'_>, pools: &[(usize, ThreadPool)], passes: usize) -> Vec<Row> {
    // Warm up every path (page cache, allocator, lazily compiled regexes) on
    // a slice of the corpus before timing anything.
    let warm = bench.corpus.len().min(200);
    let warm_bench = Bench {
        corpus: &bench.corpus[..warm],
        files: &bench.files[..warm],
        ..*bench
    };
    for work in Work::ALL {
        for (_, pool) in pools {
            black_box(warm_bench.pass(work, pool));
        }
    }
    // Each pass goes through the corpus in chunks, and every configuration
    // takes its turn on a chunk before the next chunk: a machine whose speed
    // drifts (other load, other guests on the host) then slows every
    // configuration alike, and the ratios between them stay fair.
    let mut times: Vec<(Work, usize, Vec<Sample>)> = Work::ALL
        .iter()
        .flat_map(|&work| {
            pools
                .iter()
                .map(move |(threads, _)| (work, *threads, Vec::new()))
        })
        .collect();
    let chunk = bench.corpus.len().div_ceil(CHUNKS);
    for _ in 0..passes {
        for (_, _, samples) in &mut times {
            samples.push(Sample::default());
        }
        for start in (0..bench.corpus.len()).step_by(chunk) {
            let end = (start + chunk).min(bench.corpus.len());
            let part = Bench {
                corpus: &bench.corpus[start..end],
                files: &bench.files[start..end],
                ..*bench
            };
            for (work, threads, samples) in &mut times {
                let pool = &pools.iter().find(|(n, _)| n == threads).expect("a pool").1;
                let sample = Sample::time(|| {
                    black_box(part.pass(*work, pool));
                });
                samples.last_mut().expect("a pass").add(sample);
            }
        }
    }
    times
        .into_iter()
        .map(|(work, threads, mut samples)| {
            samples.sort_unstable();
            Row {
                work,
                threads,
                best: samples[0],
            }
        })
        .collect()
}

fn report_corpus(rows: &[Row], stats: &CorpusStats, passes: usize) {
    let docs = stats.docs;
    println!();
    println!(
        "whole-corpus passes ({docs} documents, {:.1} MB; fastest of {passes} passes)\n\
         (µs/doc = wall time per document; CPU µs = CPU time per document, all threads; cores = CPU time / wall time;\n\
         waited = share of the threads' time spent ready to run without a CPU, caused by other load on the machine;\n\
         of (f) = docs/s as a share of the floor row's on as many threads)",
        stats.megabytes()
    );
    println!(
        "{:<34} {:>7} {:>9} {:>7} {:>7} {:>8} {:>8} {:>7} {:>6} {:>7}",
        "configuration",
        "threads",
        "docs/s",
        "of (f)",
        "MB/s",
        "µs/doc",
        "CPU µs",
        "pass s",
        "cores",
        "waited"
    );
    for row in rows {
        let seconds = row.best.wall.as_secs_f64();
        println!(
            "{:<34} {:>7} {:>9.0} {:>7.3} {:>7.1} {:>8.1} {:>8.1} {:>7.2} {:>6.2} {:>6.1}%{}",
            row.work.label(),
            row.threads,
            docs as f64 / seconds,
            pass_seconds(rows, Work::Floor, row.threads) / seconds,
            stats.megabytes() / seconds,
            seconds * 1e6 / docs as f64,
            row.best.cpu.as_secs_f64() * 1e6 / docs as f64,
            seconds,
            row.best.cores(),
            100.0 * row.best.waited_share(),
            if row.best.waited_share() > DISTURBED {
                " *"
            } else {
                ""
            }
        );
    }
    if rows.iter().any(|row| row.best.waited_share() > DISTURBED) {
        println!(
            "* WARNING: other processes took more than {:.0}% of this pass's time; its figures, and the ratios \
             that use them, understate tollgate: re-run on an idle machine",
            DISTURBED * 100.0
        );
    }
    let time = |work: Work, threads: usize| pass_seconds(rows, work, threads);
    println!();
    for threads in [1, 2] {
        let cost = time(Work::ModelAndChecks, threads) / time(Work::Model, threads);
        println!(
            "cost (b)/(a), {threads} thread{}: {cost:.3}  (goal <= {GOAL_CHECK_COST}: {})",
            if threads == 1 { "" } else { "s" },
            verdict(cost <= GOAL_CHECK_COST)
        );
    }
    println!(
        "cost (b')/(a), 1 thread: {:.3}  (engine from disk, file reads and results included)",
        time(Work::Engine, 1) / time(Work::Model, 1)
    );
    println!(
        "cost (a)/(a0), 1 thread: {:.3}  (the document model over comrak's parse alone)",
        time(Work::Model, 1) / time(Work::Comrak, 1)
    );
    for work in Work::ALL {
        let speedup = time(work, 1) / time(work, 2);
        println!(
            "speed-up 2 threads / 1, {:<34} {speedup:.3}  (goal >= {GOAL_SPEEDUP}: {})",
            work.label(),
            verdict(speedup >= GOAL_SPEEDUP)
        );
    }
}

/// The fastest pass of `work` on `threads` threads, in seconds.
fn pass_seconds(rows: &[Row], work: Work, threads: usize) -> f64 {
    rows.iter()
        .find(|row| row.work == work && row.threads == threads)
        .map_or(f64::NAN, |row| row.best.wall.as_secs_f64())
}

/// Where the time of (b) goes, on one thread: the parse and each check
/// timed on its own over the first `limit` documents.
fn check_breakdown(bench: &Bench<'_>, limit: usize) {
    let docs = &bench.corpus[..bench.corpus.len().min(limit)];
    let mut parsing = Duration::ZERO;
    let mut per_check = vec![Duration::ZERO; bench.checks.len()];
    for doc in docs {
        let started = Instant::now();
        let parsed = parse(doc);
        parsing += started.elapsed();
        let artifact = Artifact::Loaded(&parsed);
        for (check, total) in bench.checks.iter().zip(&mut per_check) {
            let started = Instant::now();
            black_box(checks::run_builtin(
                check,
                &artifact,
                &doc.name,
                &checks::Surroundings::ALONE,
            ));
            *total += started.elapsed();
        }
    }
    let per_doc = |total: Duration| total.as_secs_f64() * 1e6 / docs.len() as f64;
    println!();
    println!(
        "where (b) goes, 1 thread, first {} documents: Document::parse {:.1} µs/doc",
        docs.len(),
        per_doc(parsing)
    );
    for (check, total) in bench.checks.iter().zip(&per_check) {
        println!(
            "  {:<18} {:<13} {:>8.1} µs/doc {:>6.1}% of the parse",
            check.id,
            check.kind.name(),
            per_doc(*total),
            100.0 * total.as_secs_f64() / parsing.as_secs_f64()
        );
    }
    let all: Duration = per_check.iter().sum();
    println!(
        "  {:<32} {:>8.1} µs/doc {:>6.1}% of the parse",
        "all checks",
        per_doc(all),
        100.0 * all.as_secs_f64() / parsing.as_secs_f64()
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// The document of `corpus` closest to the median size, clean or defective.
fn typical<'a>(corpus: &'a [PlanDoc], stats: &CorpusStats, defective: bool) -> Option<&'a PlanDoc> {
    corpus
        .iter()
        .filter(|doc| doc.defect.is_some() == defective)
        .min_by_key(|doc| doc.text.len().abs_diff(stats.median))
}

/// Mean, median, 95th percentile and minimum of some durations, in ms.
struct Summary {
    /// The share of the machine's CPU time that other processes used
    /// meanwhile, where Linux tells it.
    others: Option<f64>,
    mean: f64,
    median: f64,
    p95: f64,
    min: f64,
}

impl Summary {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let total: Duration = samples.iter().sum();
        Self {
            others: None,
            mean: ms(total) / samples.len() as f64,
            median: ms(samples[samples.len() / 2]),
            p95: ms(samples[(samples.len() * 95 / 100).min(samples.len() - 1)]),
            min: ms(samples[0]),
        }
    }

    fn line(&self) -> String {
        let others = match self.others {
            Some(share) if share > DISTURBED => {
                format!(
                    "; other processes used {:.0}% of the CPUs meanwhile *",
                    share * 100.0
                )
            }
            Some(share) => format!("; other processes used {:.0}% of the CPUs", share * 100.0),
            None => String::new(),
        };
        format!(
            "mean {:.2} ms, median {:.2}, p95 {:.2}, min {:.2}{others}",
            self.mean, self.median, self.p95, self.min
        )
    }
}

/// Runs the release binary `runs` times with `args` in `dir`; every run must
/// exit with `code`.
fn time_process(
    binary: &Path,
    args: &[&std::ffi::OsStr],
    dir: &Path,
    runs: usize,
    code: i32,
) -> Summary {
    let once = || {
        let started = Instant::now();
        let status = Command::new(binary)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("running the tollgate binary");
        let elapsed = started.elapsed();
        assert_eq!(
            status.code(),
            Some(code),
            "tollgate {args:?} exited with {status}"
        );
        elapsed
    };
    for _ in 0..runs.clamp(1, 10) {
        once();
    }
    let before = (machine_ticks(), children_ticks());
    let mut summary = Summary::of((0..runs).map(|_| once()).collect());
    let after = (machine_ticks(), children_ticks());
    if let ((Some((busy0, total0)), Some(ours0)), (Some((busy1, total1)), Some(ours1))) =
        (before, after)
        && total1 > total0
    {
        let others = (busy1 - busy0).saturating_sub(ours1 - ours0);
        summary.others = Some(others as f64 / (total1 - total0) as f64);
    }
    summary
}

/// The busy and total CPU time of the whole machine, in clock ticks, from
/// Linux's `/proc/stat`.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is in user)
    let idle = ticks.get(3)? + ticks.get(4)?;
    let total: u64 = ticks.iter().take(8).sum();
    Some((total - idle, total))
}

/// The CPU time of this process's finished children, in clock ticks, from
/// `/proc/self/stat` (`cutime` and `cstime`).
fn children_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let field = |index: usize| fields.get(index)?.parse::<u64>().ok();
    Some(field(13)? + field(14)?)
}

/// `examples/floor.rs`, built in this benchmark's profile into its target
/// folder. Cargo builds examples for `cargo test` but not for `cargo bench`,
/// so the benchmark asks cargo for it, a no-op when it is up to date.
fn floor_binary(root: &Path) -> PathBuf {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    // This binary is TARGET/PROFILE/deps/check-HASH.
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("a profile folder");
    let target = profile_dir.parent().expect("a target folder");
    let profile = match profile_dir.file_name().and_then(OsStr::to_str) {
        Some("debug") => "dev",
        Some(name) => name,
        None => panic!("{} is in no profile folder", exe.display()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--example",
            "floor",
            "--profile",
            profile,
        ])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target)
        .stdin(Stdio::null())
        .status()
        .expect("running cargo");
    assert!(status.success(), "cargo could not build examples/floor.rs");
    profile_dir
        .join("examples")
        .join(format!("floor{}", std::env::consts::EXE_SUFFIX))
}

/// The processes timed against each other, each run in the corpus folder
/// with file names relative to it.
struct Processes<'a> {
    tollgate: &'a Path,
    floor: &'a Path,
    playbook: &'a Path,
    dir: &'a Path,
}

/// One process, from spawn to exit.
#[derive(Clone, Copy)]
struct ProcessRun {
    wall: Duration,
    /// The CPU time it used, user and system, all threads, where the system
    /// tells it: less sensitive than the wall time to other load on the
    /// machine.
    cpu: Option<Duration>,
    /// Bytes it wrote to its standard output.
    output: u64,
}

impl Processes<'_> {
    /// `tollgate --playbook PLAYBOOK check --step STEP NAMES... --format FORMAT`.
    fn check_args<'n>(&'n self, names: &[&'n str], format: &'n str) -> Vec<&'n OsStr> {
        let mut args: Vec<&OsStr> = vec![
            "--playbook".as_ref(),
            self.playbook.as_os_str(),
            "check".as_ref(),
            "--step".as_ref(),
            STEP.as_ref(),
        ];
        args.extend(names.iter().map(|name| OsStr::new(*name)));
        args.extend([OsStr::new("--format"), OsStr::new(format)]);
        args
    }

    /// Runs `binary` with `args`; it must exit with `code`. Its standard
    /// output is read to the end through a pipe, as by whatever consumes a
    /// report; `threads`, if given, sizes its rayon pool.
    fn run(&self, binary: &Path, args: &[&OsStr], threads: Option<usize>, code: i32) -> ProcessRun {
        let mut command = Command::new(binary);
        command
            .args(args)
            .current_dir(self.dir)
            .env_remove("TOLLGATE_PLAYBOOK")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(threads) = threads {
            command.env("RAYON_NUM_THREADS", threads.to_string());
        }
        let started = Instant::now();
        let mut child = command.spawn().expect("starting a process");
        let output = std::io::copy(
            &mut child.stdout.take().expect("a piped output"),
            &mut std::io::sink(),
        )
        .expect("reading the output");
        let (status, cpu) = wait(child);
        let wall = started.elapsed();
        assert_eq!(
            status,
            Some(code),
            "{} {args:?} exited with {status:?}",
            binary.display()
        );
        ProcessRun { wall, cpu, output }
    }

    /// The whole corpus in one process: the floor process and `tollgate
    /// check` with JSON and with text output, taking turns, the least wall
    /// and CPU time of `runs` kept; on as many rayon threads as the largest
    /// pass of `rows`, to which they are compared.
    fn whole_corpus(&self, corpus: &[PlanDoc], rows: &[Row], runs: usize) {
        let threads = rows.iter().map(|row| row.threads).max().unwrap_or(1);
        let names: Vec<&str> = corpus.iter().map(|doc| doc.name.as_str()).collect();
        let failing = i32::from(corpus.iter().any(|doc| doc.defect.is_some()));
        let floor_args: Vec<&OsStr> = names.iter().map(OsStr::new).collect();
        let contenders = [
            ("floor process (examples/floor)", self.floor, floor_args, 0),
            (
                "tollgate check --format json",
                self.tollgate,
                self.check_args(&names, "json"),
                failing,
            ),
            (
                "tollgate check --format text",
                self.tollgate,
                self.check_args(&names, "text"),
                failing,
            ),
        ];
        let mut all: Vec<Vec<ProcessRun>> = vec![Vec::with_capacity(runs); contenders.len()];
        for _ in 0..runs {
            for ((_, binary, args, code), runs) in contenders.iter().zip(&mut all) {
                runs.push(self.run(binary, args, Some(threads), *code));
            }
        }
        let best: Vec<ProcessRun> = all
            .iter()
            .map(|runs| ProcessRun {
                wall: runs.iter().map(|run| run.wall).min().expect("a run"),
                cpu: runs.iter().map(|run| run.cpu).min().expect("a run"),
                output: runs[0].output,
            })
            .collect();
        let floor_row = pass_seconds(rows, Work::Floor, threads);
        let floor_cpu = best[0].cpu.map(|cpu| cpu.as_secs_f64());
        println!();
        println!(
            "whole corpus in one process: {} files as arguments, RAYON_NUM_THREADS={threads}, standard output \
             read to the end through a pipe, spawn to exit, least wall and CPU time of {runs}\n\
             (of floor = docs/s as a share of the floor process's; of (f) = of the in-process floor row on {threads} threads;\n\
             CPU s = user and system time of the process; CPU of floor = the floor process's CPU time as a share of this one's)",
            names.len()
        );
        println!(
            "{:<34} {:>8} {:>9} {:>8} {:>7} {:>7} {:>12} {:>10}",
            "process",
            "wall s",
            "docs/s",
            "of floor",
            "of (f)",
            "CPU s",
            "CPU of floor",
            "output KB"
        );
        for ((label, ..), run) in contenders.iter().zip(&best) {
            let seconds = run.wall.as_secs_f64();
            let cpu = run.cpu.map(|cpu| cpu.as_secs_f64());
            println!(
                "{label:<34} {seconds:>8.3} {:>9.0} {:>8.3} {:>7.3} {:>7} {:>12} {:>10.0}",
                names.len() as f64 / seconds,
                best[0].wall.as_secs_f64() / seconds,
                floor_row / seconds,
                cpu.map_or("?".into(), |cpu| format!("{cpu:.3}")),
                floor_cpu
                    .zip(cpu)
                    .map_or("?".into(), |(floor, cpu)| format!("{:.3}", floor / cpu)),
                run.output as f64 / 1024.0
            );
        }
    }

    /// One clean document of median size: `tollgate check` against the floor
    /// process, `runs` of each taking turns after a few to warm up.
    fn one_document(&self, corpus: &[PlanDoc], stats: &CorpusStats, runs: usize) {
        let Some(doc) = typical(corpus, stats, false) else {
            return;
        };
        let floor_args = [OsStr::new(&doc.name)];
        let check_args = self.check_args(&[&doc.name], "text");
        let mut floor = Vec::with_capacity(runs);
        let mut tollgate = Vec::with_capacity(runs);
        for warm_up in [true, false] {
            for _ in 0..if warm_up { runs.clamp(1, 10) } else { runs } {
                let floor_run = self.run(self.floor, &floor_args, None, 0);
                let check_run = self.run(self.tollgate, &check_args, None, 0);
                if !warm_up {
                    floor.push(floor_run);
                    tollgate.push(check_run);
                }
            }
        }
        let cpu = |runs: &[ProcessRun]| {
            runs.iter()
                .map(|run| run.cpu)
                .collect::<Option<Vec<_>>>()
                .map(Summary::of)
        };
        let (floor_cpu, tollgate_cpu) = (cpu(&floor), cpu(&tollgate));
        let wall = |runs: Vec<ProcessRun>| Summary::of(runs.iter().map(|run| run.wall).collect());
        let (floor, tollgate) = (wall(floor), wall(tollgate));
        println!();
        println!(
            "one document, {} ({} bytes, clean), spawn to exit, {runs} runs each, taking turns:",
            doc.name,
            doc.text.len()
        );
        println!("  floor process:  {}", floor.line());
        println!("  tollgate check: {}", tollgate.line());
        let median = tollgate.median / floor.median;
        println!(
            "  tollgate / floor: median {median:.2}, min {:.2}  (goal median <= {GOAL_ONE_DOCUMENT_OVER_FLOOR}: {})",
            tollgate.min / floor.min,
            verdict(median <= GOAL_ONE_DOCUMENT_OVER_FLOOR)
        );
        if let (Some(floor), Some(tollgate)) = (floor_cpu, tollgate_cpu) {
            println!(
                "  CPU time (user + system): floor median {:.2} ms, tollgate median {:.2} ms, tollgate / floor {:.2}",
                floor.median,
                tollgate.median,
                tollgate.median / floor.median
            );
        }
    }
}

/// Waits for `child`: its exit code and the CPU time it used, which `wait4`
/// reports and `Child::wait` does not. (Its `ru_maxrss` is left alone: on
/// Linux it counts this process's memory too, from before the exec.)
#[cfg(unix)]
fn wait(child: std::process::Child) -> (Option<i32>, Option<Duration>) {
    let pid = libc::pid_t::try_from(child.id()).expect("a process id");
    let mut status = 0;
    // SAFETY: `rusage` is plain data, `wait4` writes only into these two
    // locals, and the child is ours and not yet waited for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let time = |time: libc::timeval| {
        Duration::from_secs(u64::try_from(time.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(time.tv_usec).unwrap_or(0))
    };
    (code, Some(time(usage.ru_utime) + time(usage.ru_stime)))
}

#[cfg(not(unix))]
fn wait(mut child: std::process::Child) -> (Option<i32>, Option<Duration>) {
    (child.wait().expect("waiting for a process").code(), None)
}

fn end_to_end(
    binary: &Path,
    playbook: &Path,
    dir: &Path,
    corpus: &[PlanDoc],
    stats: &CorpusStats,
    runs: usize,
) {
    println!();
    println!(
        "end to end: {} check --step {STEP} FILE, process start to exit, {runs} runs each",
        binary.display()
    );
    let version = time_process(binary, &["--version".as_ref()], dir, runs, 0);
    println!(
        "  tollgate --version (process start-up alone): {}",
        version.line()
    );
    for (defective, code) in [(false, 0), (true, 1)] {
        let Some(doc) = typical(corpus, stats, defective) else {
            continue;
        };
        let args: [&std::ffi::OsStr; 6] = [
            "--playbook".as_ref(),
            playbook.as_os_str(),
            "check".as_ref(),
            "--step".as_ref(),
            STEP.as_ref(),
            doc.name.as_ref(),
        ];
        let summary = time_process(binary, &args, dir, runs, code);
        println!(
            "  {} ({} bytes, {}): {}  (goal mean < {GOAL_END_TO_END_MS} ms: {})",
            doc.name,
            doc.text.len(),
            doc.defect
                .map_or("clean".to_string(), |d| format!("defect {d:?}")),
            summary.line(),
            verdict(summary.mean < GOAL_END_TO_END_MS)
        );
    }
}

/// Where the time of one end-to-end check goes, measured in this process:
/// loading the playbook (YAML, schema validation, deserialisation), preparing
/// the run, and checking the one file.
fn in_process_breakdown(
    playbook: &Path,
    dir: &Path,
    corpus: &[PlanDoc],
    stats: &CorpusStats,
    cold_load: Duration,
) {
    let Some(doc) = typical(corpus, stats, false) else {
        return;
    };
    let runs = 50;
    let load = Summary::of(
        (0..runs)
            .map(|_| {
                let started = Instant::now();
                black_box(LoadedPlaybook::load(playbook, PLAYBOOK).expect("the playbook loads"));
                started.elapsed()
            })
            .collect(),
    );
    let loaded = LoadedPlaybook::load(playbook, PLAYBOOK).expect("the playbook loads");
    let prepare = Summary::of(
        (0..runs)
            .map(|_| {
                let started = Instant::now();
                black_box(
                    StatelessRun::new(&loaded.playbook, STEP, None, Options::default())
                        .expect("the step"),
                );
                started.elapsed()
            })
            .collect(),
    );
    let run =
        StatelessRun::new(&loaded.playbook, STEP, None, Options::default()).expect("the step");
    let path = dir.join(&doc.name);
    let check = Summary::of(
        (0..runs)
            .map(|_| {
                let started = Instant::now();
                black_box(run.check_file(&path, &doc.name));
                started.elapsed()
            })
            .collect(),
    );
    println!(
        "  in process: first LoadedPlaybook::load (cold): {:.2} ms",
        cold_load.as_secs_f64() * 1e3
    );
    println!("  in process, {runs} runs each (warm):");
    println!("    LoadedPlaybook::load: {}", load.line());
    println!("    StatelessRun::new:    {}", prepare.line());
    println!("    check_file:           {}", check.line());
}

/// Criterion benchmarks, one document per iteration (throughput in
/// elements, so criterion prints documents per second), cycling through the
/// corpus so that successive iterations see different documents.
fn per_document_criterion(bench: &Bench<'_>, pools: &[(usize, ThreadPool)]) {
    println!();
    println!("criterion, per document (elem/s = documents per second):");
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut group = criterion.benchmark_group("per-document");
    group.throughput(Throughput::Elements(1));
    let n = bench.corpus.len();
    for work in [Work::Comrak, Work::Model, Work::ModelAndChecks] {
        for (threads, pool) in pools {
            let name = match work {
                Work::Comrak => "comrak_parse",
                Work::Model => "document_parse",
                _ => "parse_and_check",
            };
            let mut cursor = 0;
            group.bench_function(format!("{name}/{threads}t"), |b| {
                b.iter_custom(|iters| {
                    let iters = usize::try_from(iters).unwrap_or(usize::MAX);
                    let start = cursor;
                    cursor = (cursor + iters) % n;
                    let started = Instant::now();
                    pool.install(|| {
                        (0..iters).into_par_iter().for_each(|i| {
                            black_box(bench.one(work, &bench.corpus[(start + i) % n]));
                        })
                    });
                    started.elapsed()
                })
            });
        }
    }
    group.finish();
    criterion.final_summary();
}
