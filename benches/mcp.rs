//! A warm `tollgate mcp` server's `check` of one 30 KB plan, request to
//! response, against `tollgate check` of the same file as a process, in the
//! same run.
//!
//! The plan is the first clean document of `corpus/mod.rs` between 28 and
//! 32 KB, checked as the `plan` step of `benches/plan-phase.yaml` (the
//! playbook of the `check` benchmark) in a temporary project. The server is
//! the release binary, started once and initialised; each sample writes one
//! `tools/call` line to its input and reads the answer's line. The process
//! is `tollgate check --step plan FILE --format json`, start to exit. Both
//! are timed by criterion and, for the figures printed at the end, by the
//! median of 200 samples each taken in turn. The goals (a warm call at
//! least 3 times faster than the process, and under 2 ms median) are
//! printed as met or missed, never asserted.

mod corpus;

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::Criterion;

const PLAYBOOK: &str = "benches/plan-phase.yaml";
const SAMPLES: usize = 200;
const GOAL_RATIO: f64 = 3.0;
const GOAL_MEDIAN_MS: f64 = 2.0;

/// A running server and its pipes.
struct Server {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    next_id: u64,
}

impl Server {
    fn start(binary: &str, root: &Path, playbook: &Path) -> Self {
        let mut child = Command::new(binary)
            .arg("--root")
            .arg(root)
            .arg("--playbook")
            .arg(playbook)
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let input = child.stdin.take().expect("its input");
        let output = BufReader::new(child.stdout.take().expect("its output"));
        let mut server = Self {
            child,
            input,
            output,
            next_id: 1,
        };
        server.request(
            "initialize",
            serde_json::json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "0"}
            }),
        );
        writeln!(
            server.input,
            r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
        )
        .expect("the server reads");
        server
    }

    /// Sends one request and reads its answer.
    fn request(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let id = self.next_id;
        self.next_id += 1;
        let line =
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        writeln!(self.input, "{line}").expect("the server reads");
        let mut answer = String::new();
        self.output
            .read_line(&mut answer)
            .expect("the server answers");
        let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
        assert_eq!(answer["id"], id, "{answer}");
        answer
    }

    fn check(&mut self) -> serde_json::Value {
        self.request(
            "tools/call",
            serde_json::json!({"name": "check", "arguments": {"files": ["plan.md"], "step": "plan"}}),
        )
    }
}

fn process_check(binary: &str, root: &Path, playbook: &Path) {
    let status = Command::new(binary)
        .arg("--root")
        .arg(root)
        .arg("--playbook")
        .arg(playbook)
        .args(["check", "--step", "plan", "--format", "json"])
        .arg(root.join("plan.md"))
        .stdout(Stdio::null())
        .status()
        .expect("the binary runs");
    assert_eq!(status.code(), Some(0), "tollgate check failed");
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e3
}

fn main() {
    let binary = env!("CARGO_BIN_EXE_tollgate");
    let playbook = Path::new(PLAYBOOK)
        .canonicalize()
        .expect("the bench playbook");
    let plan = (0..)
        .map(corpus::generate)
        .find(|doc| doc.defect.is_none() && (28_000..32_000).contains(&doc.text.len()))
        .expect("a clean 30 KB plan");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path();
    std::fs::write(root.join("plan.md"), &plan.text).expect("the plan is written");

    let mut server = Server::start(binary, root, &playbook);
    let answer = server.check();
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert_eq!(
        answer["result"]["structuredContent"]["results"][0]["verdict"], "awaiting_approval",
        "{answer}"
    );

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("check of one 30 KB plan");
    group.bench_function("warm mcp server, request to response", |b| {
        b.iter(|| black_box(server.check()))
    });
    group.bench_function("tollgate check process, start to exit", |b| {
        b.iter(|| process_check(binary, root, &playbook))
    });
    group.finish();

    let (mut warm, mut process) = (Vec::new(), Vec::new());
    for _ in 0..SAMPLES {
        let start = Instant::now();
        black_box(server.check());
        warm.push(start.elapsed());
        let start = Instant::now();
        process_check(binary, root, &playbook);
        process.push(start.elapsed());
    }
    let (warm, process) = (median(warm), median(process));
    let ratio = process / warm;
    let met = |ok: bool| if ok { "met" } else { "missed" };
    println!(
        "\n{} ({} bytes), median of {SAMPLES} samples each, taken in turn:",
        plan.name,
        plan.text.len()
    );
    println!(
        "  warm mcp server, request to response: {warm:.3} ms (goal < {GOAL_MEDIAN_MS} ms: {})",
        met(warm < GOAL_MEDIAN_MS)
    );
    println!("  tollgate check process, start to exit: {process:.3} ms");
    println!(
        "  the server is {ratio:.1} times faster (goal >= {GOAL_RATIO}: {})",
        met(ratio >= GOAL_RATIO)
    );

    drop(server.input);
    let status = server.child.wait().expect("the server ends");
    assert!(status.success(), "the server ended with {status}");
    criterion.final_summary();
}
