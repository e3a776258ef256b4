//! The per-call cost of Lua plugin checks: `cargo bench --bench lua`.
//!
//! Generated plan documents (about 15 KB each: sections, a risk register,
//! a data-model table, tasks) are parsed once; then each plugin function
//! runs once per document, on one thread and on a rayon pool of two, with
//! the thread's Lua state reused across documents as the engine does. It
//! prints microseconds per call (the median of several passes) for:
//!
//! - `noop`: an empty function, the host's own cost (fresh environment, the
//!   plugin's main chunk, `ctx`, the budget);
//! - `sections`: counts sections and reports when there are too few;
//! - `table`: what the built-in `table` check does, in Lua;
//! - `risk_coverage`: the example plugin (a section, a table, and string
//!   searches of its own);
//! - `scan`: a Lua pattern over every line (`doc:lines()`), for scale;
//!
//! and, for comparison, the built-in `table` check on the same documents.
//! The goal is under 20 µs per call for the first three; nothing here
//! asserts on speed. Each figure is the fastest of several passes, the one
//! least disturbed by other work on the machine; on one thread it is CPU
//! time (see [`per_call`]). `TOLLGATE_LUA_BENCH_DOCS`
//! and `TOLLGATE_LUA_BENCH_PASSES` size the run; `TOLLGATE_LUA_BENCH_ONLY`
//! (a label prefix such as `sections`) runs one case, for a profiler.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use rayon::prelude::*;
use serde_json::{Value as Json, json};
use tollgate::checks::{self, Artifact, Findings};
use tollgate::lua::{LimitOverrides, PluginCall, PluginSet, StepInfo};
use tollgate::markdown::Document;
use tollgate::playbook::{Check, CheckKind, Gate, Limits, SectionAliases, TableSpec};

const GOAL_MICROS: f64 = 20.0;

const BENCH_PLUGIN: &str = r#"
local M = {}
function M.noop(ctx) end
function M.sections(ctx)
  local sections = ctx.doc:sections()
  if #sections < (ctx.with.min or 3) then
    ctx:error("only " .. #sections .. " sections")
  end
end
function M.table(ctx)
  local register = ctx.doc:table({ under = "Risks Register" })
  if register == nil then
    ctx:error("no risk register")
    return
  end
  for _, row in ipairs(register.rows) do
    if (row.cells.Mitigation or "") == "" then
      ctx:error("a risk without mitigation", { line = row.line })
    end
  end
end
function M.scan(ctx)
  for number, line in ipairs(ctx.doc:lines()) do
    if line:find("TODO%s*:") then
      ctx:warn("a TODO is left", { line = number })
    end
  end
end
return M
"#;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// A plan of about 15 KB; `seed` varies its contents.
fn plan(seed: usize) -> String {
    let mut text = String::from("# Implementation Plan\n\n## Summary\n\n");
    for paragraph in 0..6 {
        writeln!(
            text,
            "Paragraph {paragraph} of plan {seed} explains the approach, the constraints and the \
             trade-offs of the export pipeline in enough words to look like a real plan.\n"
        )
        .unwrap();
    }
    text.push_str(
        "## Technical Context\n\n### Data Model\n\n| Entity | Field | Type |\n|---|---|---|\n",
    );
    for row in 0..20 {
        writeln!(text, "| Entity{} | field{row} | text |", row % 4).unwrap();
    }
    text.push_str("\n## Risks Register\n\n| Risk | Likelihood | Mitigation |\n|---|---|---|\n");
    let areas = ["Security", "Data", "Performance", "Operations"];
    for row in 0..12 {
        let area = areas[(row + seed) % areas.len()];
        writeln!(
            text,
            "| {area}: risk {row} of the export | medium | mitigation {row} |"
        )
        .unwrap();
    }
    for section in 0..12 {
        writeln!(text, "\n## Phase {section}\n").unwrap();
        for line in 0..8 {
            writeln!(
                text,
                "Step {line} of phase {section} does one thing and checks it before moving on."
            )
            .unwrap();
        }
        text.push_str("\n- [x] Done item\n- [ ] Open item\n");
    }
    text
}

fn check(function: &str) -> Check {
    Check {
        artifact: Some("plan".into()),
        ..Check::plugin("bench", function, json!({}))
    }
}

fn run_plugin(
    set: &PluginSet,
    function: &str,
    with: &Json,
    check: &Check,
    doc: &Document,
) -> usize {
    let vars = IndexMap::new();
    let call = PluginCall {
        doc: Some(doc),
        subject: None,
        vars: &vars,
        step: StepInfo {
            id: "plan",
            title: None,
            gate: Gate::Automated,
        },
        artifacts: &|_| None,
        artifact: None,
        aliases: &SectionAliases::default(),
    };
    let mut findings = Findings::new(check, &doc.path);
    set.run(function, with, &call, &mut findings);
    findings.finish().findings.len()
}

/// Time per document of the fastest of `passes` passes over `docs` on `pool`.
///
/// On one thread it is the worker's CPU time (from
/// `/proc/thread-self/schedstat`, where there is one), which other work on
/// the machine disturbs far less than the wall clock; on more threads, the
/// wall clock: the throughput of the pool.
fn per_call(
    pool: &rayon::ThreadPool,
    passes: usize,
    docs: &[Document],
    call: &(dyn Fn(&Document) -> usize + Sync),
) -> Duration {
    // A first pass builds each worker's Lua state and loads the plugins.
    pool.install(|| docs.par_iter().map(call).sum::<usize>());
    (0..passes)
        .map(|_| {
            let started = Instant::now();
            let cpu = pool.install(|| {
                let before = thread_cpu_time();
                black_box(docs.par_iter().map(call).sum::<usize>());
                Some(thread_cpu_time()? - before?)
            });
            let elapsed = match cpu {
                Some(cpu) if pool.current_num_threads() == 1 => cpu,
                _ => started.elapsed(),
            };
            elapsed / docs.len() as u32
        })
        .min()
        .unwrap_or_default()
}

/// The CPU time this thread has used, where Linux tells it.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn main() {
    let count = env_usize("TOLLGATE_LUA_BENCH_DOCS", 2000).max(1);
    let passes = env_usize("TOLLGATE_LUA_BENCH_PASSES", 5).max(1);
    let docs: Vec<Document> = (0..count)
        .map(|seed| Document::parse_str(format!("specs/{seed}/plan.md"), &plan(seed)))
        .collect();
    let bytes: usize = docs.iter().map(|doc| doc.text.len()).sum();

    let folder = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(folder.path().join("bench.lua"), BENCH_PLUGIN).expect("the bench plugin");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/risk_coverage.lua");
    let plugins = IndexMap::from([
        ("bench".to_string(), "bench.lua".to_string()),
        ("risk".to_string(), example.display().to_string()),
    ]);
    let set = PluginSet::load(
        folder.path(),
        &plugins,
        folder.path(),
        &Limits::default(),
        LimitOverrides::default(),
    );

    // The first call on a thread pays for the Lua state and the plugin load.
    let cold = {
        let fresh = PluginSet::load(
            folder.path(),
            &plugins,
            folder.path(),
            &Limits::default(),
            LimitOverrides::default(),
        );
        let started = Instant::now();
        run_plugin(
            &fresh,
            "bench.noop",
            &json!({}),
            &check("bench.noop"),
            &docs[0],
        );
        started.elapsed()
    };

    println!(
        "{count} documents of {:.1} KB on average; fastest of {passes} passes; µs per document",
        bytes as f64 / count as f64 / 1024.0
    );
    println!(
        "first call on a thread (new Lua state, plugin load): {:.0} µs",
        micros(cold)
    );
    println!("{:<28} {:>10} {:>10}", "check", "1 thread", "2 threads");
    // Label, function, `with`, and whether it counts for the goal.
    let cases: [(&str, &str, Json, bool); 5] = [
        ("noop (host overhead)", "bench.noop", json!({}), true),
        ("sections", "bench.sections", json!({"min": 3}), true),
        ("table", "bench.table", json!({}), true),
        (
            "risk_coverage",
            "risk.check",
            json!({"areas": ["security", "data", "billing"]}),
            false,
        ),
        ("scan every line", "bench.scan", json!({}), false),
    ];
    let pools: Vec<rayon::ThreadPool> = [1, 2]
        .iter()
        .map(|threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(*threads)
                .build()
                .expect("a rayon pool")
        })
        .collect();
    let only = std::env::var("TOLLGATE_LUA_BENCH_ONLY").unwrap_or_default();
    let mut small = Vec::new();
    for (label, function, with, counts) in
        cases.iter().filter(|(label, ..)| label.starts_with(&only))
    {
        let check = check(function);
        let call = |doc: &Document| run_plugin(&set, function, with, &check, doc);
        let times: Vec<Duration> = pools
            .iter()
            .map(|pool| per_call(pool, passes, &docs, &call))
            .collect();
        println!(
            "{label:<28} {:>10.1} {:>10.1}",
            micros(times[0]),
            micros(times[1])
        );
        if *counts {
            small.push(micros(times[0]));
        }
    }
    let reference = "built-in table (reference)";
    if reference.starts_with(&only) {
        measure_builtin(reference, &pools, passes, &docs);
    }
    if !small.is_empty() {
        let worst = small.iter().copied().fold(0.0, f64::max);
        println!(
            "goal: small plugins under {GOAL_MICROS} µs per call: {} (worst {worst:.1} µs)",
            if worst < GOAL_MICROS { "met" } else { "missed" }
        );
    }
}

/// The built-in `table` check on the register, for comparison.
fn measure_builtin(label: &str, pools: &[rayon::ThreadPool], passes: usize, docs: &[Document]) {
    let builtin = Check {
        kind: CheckKind::Table(
            serde_json::from_value::<TableSpec>(
                json!({"under": "Risks Register", "columns": ["Risk", "Mitigation"]}),
            )
            .expect("a valid table check"),
        ),
        ..check("table")
    };
    let call = |doc: &Document| {
        checks::run_builtin(
            &builtin,
            &Artifact::Loaded(doc),
            &doc.path,
            &checks::Surroundings::ALONE,
        )
        .findings
        .len()
    };
    let times: Vec<Duration> = pools
        .iter()
        .map(|pool| per_call(pool, passes, docs, &call))
        .collect();
    println!(
        "{:<28} {:>10.1} {:>10.1}",
        label,
        micros(times[0]),
        micros(times[1])
    );
}
