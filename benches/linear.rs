//! Inputs that were once quadratic or cubic in their size: stacked
//! suppression directives, thousands of findings printed as text with code
//! frames, and thousands of markers on one line. Each shape is checked (and
//! printed as text) in process at a size n and at 4n, in one run, and the
//! median of seven runs is printed with the ratio of the two sizes: about 4
//! for linear work, 16 for quadratic. Nothing is asserted.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use codespan_reporting::term::termcolor::NoColor;
use tollgate::engine::{Options, StatelessRun};
use tollgate::playbook::LoadedPlaybook;
use tollgate::report::write_check_text;

const PLAYBOOK: &str = "tests/fixtures/suppress/playbook.yaml";

/// The plan of each shape at size `n`.
fn shapes(n: usize) -> [(&'static str, String); 3] {
    let head = "# Plan\n\n## Goals\n\n";
    [
        (
            "stacked directives",
            format!(
                "{head}{}**Timeout**: TBD\n",
                "<!-- tollgate-disable-next-line no-markers: later -->\n".repeat(n)
            ),
        ),
        (
            "findings as text",
            format!("{head}{}", "**Timeout**: TBD\n".repeat(n)),
        ),
        (
            "markers on one line",
            format!("{head}{}|\n", "| TBD ".repeat(n)),
        ),
    ]
}

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded =
        LoadedPlaybook::load(&manifest.join(PLAYBOOK), PLAYBOOK).expect("the playbook loads");
    let run =
        StatelessRun::new(&loaded.playbook, "plan", None, Options::default()).expect("the step");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let n = 2_000;
    let mut times: Vec<(&str, usize, Duration)> = Vec::new();
    for size in [n, 4 * n] {
        for (name, text) in shapes(size) {
            let file = dir
                .path()
                .join(format!("{}-{size}.md", name.replace(' ', "-")));
            std::fs::write(&file, text).expect("the plan writes");
            times.push((name, size, median_time(|| check_and_print(&run, &file))));
        }
    }
    println!("median of {RUNS} runs at n = {n} and 4n (ratio 4 = linear, 16 = quadratic):");
    for (name, size, small) in times.iter().filter(|(_, size, _)| *size == n) {
        let large = times
            .iter()
            .find(|(other, other_size, _)| other == name && *other_size == 4 * size)
            .map_or(Duration::ZERO, |(_, _, t)| *t);
        println!(
            "  {name:<20} {:>9.2} ms  {:>9.2} ms  ratio {:.2}",
            small.as_secs_f64() * 1e3,
            large.as_secs_f64() * 1e3,
            large.as_secs_f64() / small.as_secs_f64()
        );
    }
}

const RUNS: usize = 7;

fn check_and_print(run: &StatelessRun<'_>, file: &Path) -> usize {
    let result = run.check_file(file, "plan.md");
    let mut out = NoColor::new(Vec::new());
    write_check_text(std::slice::from_ref(&result), false, &mut out).expect("in memory");
    out.into_inner().len()
}

fn median_time(mut work: impl FnMut() -> usize) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(work());
            start.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}
