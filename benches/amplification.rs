//! How many bytes of memory a Markdown document takes per byte of its text,
//! construct by construct: the figure that the size limit of a document
//! (`engine::MAX_DOCUMENT_BYTES`) and the memory budget of parallel checks
//! (`memory::MEMORY_BUDGET`, `memory::AMPLIFICATION`) are derived from.
//!
//! For each construct a document of it alone is generated at two sizes (so
//! that one sees the cost is linear), and the peak of the bytes live while
//! the work holds it is measured by a counting allocator, above what was
//! live before, and divided by the document's size:
//!
//! - `comrak`: `comrak::parse_document` alone, with the model's options;
//! - `model`: `Document::parse`, the comrak parse and the model built from it;
//! - `check`: `StatelessRun::check_file` of the `plan` step of
//!   `benches/plan-phase.yaml` on the document written to a file: reading
//!   it, the model and every check, as `tollgate check` does per file.
//!
//! The `rss` column is the growth of the process's resident memory over the
//! `check` row (Linux only: peak reset through `/proc/self/clear_refs`), which
//! also counts what the allocator keeps for itself.
//!
//! `cargo bench --bench amplification` measures documents of a quarter of
//! the size limit and of the limit (128 and 512 KiB); without `--bench`
//! (`cargo test --benches`) the sizes shrink to 16 and 64 KiB for a smoke
//! run. `TOLLGATE_BENCH_AMPLIFICATION_KIB` sets the smaller size (the larger
//! is four times it; above the limit, the `check` row measures a refusal).
//! The run fails if a measured figure passes the amplification the budget
//! assumes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use tollgate::engine::{MAX_DOCUMENT_BYTES, Options, StatelessRun};
use tollgate::markdown::{Document, comrak_options};
use tollgate::memory::AMPLIFICATION;
use tollgate::playbook::LoadedPlaybook;

// Only the documents' text is measured, not what they are meant to fail.
#[allow(dead_code)]
mod corpus;

/// Counts the bytes the program holds, and the most it held since
/// [`Counting::reset_peak`].
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn grew(by: usize) {
        let now = CURRENT.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }

    fn shrank(by: usize) {
        CURRENT.fetch_sub(by, Ordering::Relaxed);
    }

    /// The bytes live now; the peak starts again from them.
    fn reset_peak() -> usize {
        let now = CURRENT.load(Ordering::Relaxed);
        PEAK.store(now, Ordering::Relaxed);
        now
    }

    fn peak() -> usize {
        PEAK.load(Ordering::Relaxed)
    }
}

// SAFETY: every call is passed on to `System` unchanged; only counters move.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            Self::grew(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            Self::grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(pointer, layout) };
        Self::shrank(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            Self::grew(new_size);
            Self::shrank(layout.size());
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The peak of the bytes live while `work` runs, above those live before.
fn peak_of(work: impl FnOnce()) -> usize {
    let before = Counting::reset_peak();
    work();
    Counting::peak().saturating_sub(before)
}

/// Resident memory in bytes, now and at its peak since the last reset.
fn resident() -> Option<(usize, usize)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<usize> {
        let line = status.lines().find(|line| line.starts_with(name))?;
        let kib: usize = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The growth of resident memory while `work` runs (Linux).
fn resident_growth(work: impl FnOnce()) -> Option<usize> {
    // Memory freed earlier but kept by the allocator would be used again
    // without showing; it is handed back to the system first.
    #[cfg(target_env = "gnu")]
    // SAFETY: no allocation is in progress on another thread.
    unsafe {
        libc::malloc_trim(0);
    }
    // Writing 5 resets the peak resident size to the current one.
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let (before, _) = resident()?;
    work();
    let (_, peak) = resident()?;
    Some(peak.saturating_sub(before))
}

/// A document of `unit` repeated after `head`, as many times as `size`
/// bytes hold.
fn repeated(head: &str, unit: &str, size: usize) -> String {
    let mut text = String::with_capacity(size);
    text.push_str(head);
    while text.len() + unit.len() <= size {
        text.push_str(unit);
    }
    text
}

/// As many of `documents`, one after the other, as `size` bytes hold.
fn repeated_all(documents: &[String], size: usize) -> String {
    let mut text = String::with_capacity(size);
    for document in documents {
        if text.len() + document.len() <= size {
            text.push_str(document);
        }
    }
    text
}

/// Each construct's name and its document of about `size` bytes.
fn constructs(size: usize) -> Vec<(&'static str, String)> {
    let row = |cells: usize| format!("|{}\n", "a|".repeat(cells));
    let table_head = format!("{}|{}\n", row(64), "-|".repeat(64));
    let nested_indent: String = (0..16)
        .map(|depth| format!("{}- a\n", "  ".repeat(depth)))
        .collect();
    let plans: Vec<String> = (0..size / corpus::MIN_BYTES + 4)
        .map(|index| corpus::generate(index).text + "\n")
        .collect();
    vec![
        ("short lines, one paragraph", repeated("", "a\n", size)),
        ("short paragraphs", repeated("", "a\n\n", size)),
        ("one long line", repeated("", "word ", size)),
        ("list items", repeated("", "- a\n", size)),
        (
            "nested lists, one line",
            repeated("", "- - - - - - - - a\n", size),
        ),
        ("nested lists, indented", repeated("", &nested_indent, size)),
        (
            "nested block quotes",
            repeated("", "> > > > > > > > a\n\n", size),
        ),
        (
            "table, 64 cells a row",
            repeated(&table_head, &row(64), size),
        ),
        ("headings", repeated("", "# a\n", size)),
        ("emphasis and links", repeated("", "*a* [b](c) ", size)),
        ("unmatched delimiters", repeated("", "*_", size)),
        (
            "fenced code, small blocks",
            repeated("", "```\na\n```\n", size),
        ),
        ("HTML comments", repeated("", "<!-- a -->\n", size)),
        ("task boxes", repeated("", "- [ ] a\n", size)),
        ("typical plans", repeated_all(&plans, size)),
    ]
}

/// One construct measured at one size.
struct Row {
    name: &'static str,
    bytes: usize,
    comrak: usize,
    model: usize,
    check: usize,
    rss: Option<usize>,
}

fn main() {
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    let default_kib = if benchmarking {
        MAX_DOCUMENT_BYTES / 4 / 1024
    } else {
        16
    };
    let kib = std::env::var("TOLLGATE_BENCH_AMPLIFICATION_KIB")
        .ok()
        .and_then(|value| value.parse::<usize>().ok())
        .unwrap_or(default_kib)
        .max(1);
    if !benchmarking {
        println!("smoke run: without --bench (as `cargo bench` passes) the sizes are tiny");
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let playbook = "benches/plan-phase.yaml";
    let loaded = LoadedPlaybook::load(&manifest.join(playbook), playbook)
        .unwrap_or_else(|error| panic!("{playbook} does not load: {error}"));
    let run = StatelessRun::new(&loaded.playbook, "plan", None, Options::default())
        .unwrap_or_else(|error| panic!("{playbook}: {error}"));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("plan.md");

    let mut rows = Vec::new();
    for size in [kib * 1024, 4 * kib * 1024] {
        for (name, text) in constructs(size) {
            std::fs::write(&file, &text).expect("the document is written");
            let rss = resident_growth(|| {
                black_box(run.check_file(&file, "plan.md"));
            });
            let comrak = peak_of(|| {
                let arena = comrak::Arena::new();
                black_box(comrak::parse_document(&arena, &text, &comrak_options()));
            });
            let model = peak_of(|| {
                black_box(Document::parse("plan.md", text.as_bytes()).expect("UTF-8"));
            });
            let check = peak_of(|| {
                black_box(run.check_file(&file, "plan.md"));
            });
            rows.push(Row {
                name,
                bytes: text.len(),
                comrak,
                model,
                check,
                rss,
            });
        }
    }

    let ratio = |bytes: usize, of: usize| bytes as f64 / of as f64;
    println!(
        "peak bytes live per byte of document (two sizes, {kib} KiB and {} KiB)",
        4 * kib
    );
    println!(
        "{:<28} {:>9} {:>8} {:>8} {:>8} {:>8}",
        "construct", "KiB", "comrak", "model", "check", "rss"
    );
    for row in &rows {
        println!(
            "{:<28} {:>9} {:>8.1} {:>8.1} {:>8.1} {:>8}",
            row.name,
            row.bytes / 1024,
            ratio(row.comrak, row.bytes),
            ratio(row.model, row.bytes),
            ratio(row.check, row.bytes),
            row.rss
                .map_or("-".into(), |rss| format!("{:.1}", ratio(rss, row.bytes))),
        );
    }
    let worst = rows
        .iter()
        .max_by_key(|row| row.check * 1024 / row.bytes.max(1))
        .expect("rows");
    println!(
        "worst: {} at {:.1} bytes a byte (the budget assumes {AMPLIFICATION})",
        worst.name,
        ratio(worst.check, worst.bytes)
    );
    assert!(
        worst.check <= worst.bytes * AMPLIFICATION,
        "a construct takes more memory than memory::AMPLIFICATION assumes"
    );
}
