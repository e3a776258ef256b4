//! The latency of `tollgate lsp`: from a `didChange` on a 30 KB plan to its
//! `publishDiagnostics`, with the edits 100 ms apart as a person types in
//! bursts, against a full in-process check of the same buffer
//! (`StatelessRun::check_text`, what the server runs), in one run; then the
//! server's memory (VmHWM, VmRSS) before and after 1,000 edits.
//!
//! The project is the bundled SpecFlow playbook with its plugin; the plan
//! is the example draft plan (which fails its gate) grown with prose to 30 KB. Run with
//! `cargo bench --bench lsp`; nothing here asserts on speed.

#[path = "../tests/support/lsp_frames.rs"]
mod lsp_frames;

use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use criterion::Criterion;
use serde_json::{Value, json};
use tollgate::engine::{Options, StatelessRun};
use tollgate::lua::PluginSet;
use tollgate::playbook::LoadedPlaybook;

const PLAYBOOK: &str = "playbooks/specflow.yaml";
const GAP: Duration = Duration::from_millis(100);

fn plan_text() -> String {
    let mut text =
        std::fs::read_to_string("examples/plans/log-shipper-plan-draft.md").expect("the plan");
    text.push_str("\n## Notes\n\n");
    let mut n = 0;
    while text.len() < 30 * 1024 {
        n += 1;
        text.push_str(&format!(
            "Note {n}: the collector batches events, retries with backoff and keeps order per source.\n\n"
        ));
    }
    text
}

struct Server {
    input: ChildStdin,
    output: Receiver<Value>,
    child: Child,
}

/// The server is ended and waited for, so that it leaves no zombie.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn send(&mut self, body: Value) {
        let body = body.to_string();
        write!(self.input, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.input.flush().expect("flush");
    }

    fn wait(&self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self
                .output
                .recv_timeout(Duration::from_secs(60))
                .expect("an answer");
            if wanted(&message) {
                return message;
            }
        }
    }

    /// One edit (the whole text, version `version`) to its diagnostics.
    fn edit(&mut self, uri: &str, version: i32, text: &str) -> Duration {
        let start = Instant::now();
        self.send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": text}],
            }}),
        );
        self.wait(|m| m["params"]["version"] == version);
        start.elapsed()
    }

    /// VmHWM and VmRSS of the server, in KiB.
    fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        (field("VmHWM:"), field("VmRSS:"))
    }
}

fn start(root: &Path, playbook: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("--root")
        .arg(root)
        .arg("--playbook")
        .arg(playbook)
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server");
    let input = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let output = lsp_frames::messages(stdout);
    Server {
        input,
        output,
        child,
    }
}

/// A project with subject F-1 at the plan step (the SpecFlow playbook
/// keeps its state in `.maestro/`); the plan's path.
fn project(root: &Path, playbook: &Path) -> String {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .arg("--root")
            .arg(root)
            .arg("--playbook")
            .arg(playbook)
            .args(args)
            .output()
            .expect("tollgate runs")
    };
    run(&["new", "F-1", "--title", "Bench", "--no-scaffold"]);
    let state = root.join(".maestro/subjects/F-1.json");
    let mut record: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("JSON");
    record["phase"] = json!("specify");
    std::fs::write(&state, record.to_string()).expect("write");
    let status = run(&["check", "F-1", "--format", "json"]);
    let status: Value = serde_json::from_slice(&status.stdout).expect("JSON");
    status["results"][0]["artifacts"]["plan"]
        .as_str()
        .expect("the plan's path")
        .to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let dir = tempfile::tempdir().expect("a folder");
    let root = dir.path().canonicalize().expect("root");
    let playbook = std::path::absolute(PLAYBOOK).expect("playbook");
    let plan = project(&root, &playbook);
    let uri = format!("file://{}", root.join(&plan).display());
    let text = plan_text();

    // In process: the check the server makes, on the same buffer.
    let loaded = LoadedPlaybook::load(&playbook, PLAYBOOK).expect("the playbook loads");
    let options = Options::default();
    let plugins = PluginSet::load(
        loaded.folder(),
        &loaded.playbook.plugins,
        &root,
        &loaded.playbook.limits,
        options.limits,
    );
    let run = StatelessRun::new(&loaded.playbook, "plan", Some("plan"), options)
        .expect("the plan step")
        .with_plugins(&plugins);
    let mut criterion = Criterion::default().configure_from_args().sample_size(20);
    criterion.bench_function("in-process check of the 30 KB plan", |b| {
        b.iter(|| run.check_text(text.clone(), &plan))
    });
    let mut in_process: Vec<Duration> = (0..100)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(run.check_text(text.clone(), &plan));
            start.elapsed()
        })
        .collect();
    in_process.sort();

    let mut server = start(&root, &playbook);
    server.send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
    );
    server.wait(|m| m["id"] == 1);
    server.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "markdown", "version": 0, "text": text,
        }}}),
    );
    let first = server.wait(|m| m["params"]["version"] == 0);
    let findings = first["params"]["diagnostics"]
        .as_array()
        .map_or(0, Vec::len);

    let edited = |version: i32| format!("{text}\nEdit {version}.\n");
    let mut latencies: Vec<Duration> = (1..=100)
        .map(|version| {
            std::thread::sleep(GAP);
            server.edit(&uri, version, &edited(version))
        })
        .collect();
    criterion.bench_function("didChange to publishDiagnostics, 100 ms apart", |b| {
        let mut version = 1000;
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                std::thread::sleep(GAP);
                version += 1;
                total += server.edit(&uri, version, &edited(version));
            }
            total
        })
    });
    latencies.sort();

    let before = server.memory();
    for version in 100_000..101_000 {
        server.edit(&uri, version, &edited(version));
    }
    let after = server.memory();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("plan: {} bytes, {findings} findings on open", text.len());
    println!(
        "in-process check:          median {:.2} ms, p95 {:.2} ms",
        ms(percentile(&in_process, 0.5)),
        ms(percentile(&in_process, 0.95))
    );
    println!(
        "didChange→publish (100 ms apart, n={}): median {:.2} ms, p95 {:.2} ms (goal: p95 < 10 ms)",
        latencies.len(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.95))
    );
    println!(
        "server memory over 1,000 edits: VmHWM {} → {} KiB, VmRSS {} → {} KiB",
        before.0, after.0, before.1, after.1
    );
    server.send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}));
    server.wait(|m| m["id"] == 2);
    server.send(json!({"jsonrpc": "2.0", "method": "exit"}));
    criterion.final_summary();
}
