//! `tollgate lsp` driven over stdio as an editor would: a small JSON-RPC
//! client speaking `lsp-types` opens a failing plan, edits it, breaks and
//! mends the playbook, and sends what no editor should.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

#[path = "support/lsp_frames.rs"]
mod lsp_frames;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use harness::Project;
use lsp_types::{
    DidChangeTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams, Position,
    PublishDiagnosticsParams, Range, TextDocumentContentChangeEvent, TextDocumentIdentifier,
    TextDocumentItem, Uri, VersionedTextDocumentIdentifier,
};
use serde_json::{Value, json};

const PLAYBOOK: &str = "tollgate: 1
name: lsp-demo
subject: { noun: feature }
phases:
  - { id: new }
  - { id: planned }
artifacts:
  plan: \"plans/{{ subject.slug }}.md\"
steps:
  - id: plan
    from: new
    to: planned
    checks:
      - { id: no-todo, artifact: plan, placeholders: [\"TODO:\"] }
      - { id: no-tbd, artifact: plan, placeholders: [\"TBD\"] }
";

const PLAN: &str = "# Plan\n\nTODO: the scope\n\nRisks: TBD\n";

struct Client {
    child: Child,
    input: ChildStdin,
    output: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start(project: &Project) -> Self {
        let mut child = project
            .command(&["lsp"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let input = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let output = lsp_frames::messages(stdout);
        Self {
            child,
            input,
            output,
            next_id: 1,
        }
    }

    fn raw(&mut self, body: &[u8]) {
        write!(self.input, "Content-Length: {}\r\n\r\n", body.len()).expect("write");
        self.input.write_all(body).expect("write");
        self.input.flush().expect("flush");
    }

    /// Opens a document in the editor with `text`, at version 1.
    fn open(&mut self, uri: &Uri, language: &str, text: impl Into<String>) {
        let item = TextDocumentItem::new(uri.clone(), language.into(), 1, text.into());
        self.notify(
            "textDocument/didOpen",
            DidOpenTextDocumentParams {
                text_document: item,
            },
        );
    }

    fn notify(&mut self, method: &str, params: impl serde::Serialize) {
        let body = json!({"jsonrpc": "2.0", "method": method, "params": params});
        self.raw(body.to_string().as_bytes());
    }

    fn request(&mut self, method: &str, params: impl serde::Serialize) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.raw(body.to_string().as_bytes());
        self.wait(|message| message["id"] == id)
    }

    fn wait(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self
                .output
                .recv_timeout(Duration::from_secs(30))
                .expect("the server answers");
            if wanted(&message) {
                return message;
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &Uri) -> PublishDiagnosticsParams {
        let message = self.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri.as_str()
        });
        serde_json::from_value(message["params"].clone()).expect("diagnostics")
    }
}

fn uri(path: &std::path::Path) -> Uri {
    format!("file://{}", path.display()).parse().expect("a URI")
}

fn codes_and_lines(published: &PublishDiagnosticsParams) -> Vec<(String, u32, u32, u32)> {
    published
        .diagnostics
        .iter()
        .map(|d| {
            let code = match &d.code {
                Some(lsp_types::NumberOrString::String(code)) => code.clone(),
                other => format!("{other:?}"),
            };
            (
                code,
                d.range.start.line,
                d.range.start.character,
                d.range.end.character,
            )
        })
        .collect()
}

fn project_with_plan() -> (Project, std::path::PathBuf) {
    project_on(PLAYBOOK)
}

fn project_on(playbook_text: &str) -> (Project, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a folder");
    let root = dir.path().canonicalize().expect("a path");
    let playbook = root.join("tollgate.yaml");
    std::fs::write(&playbook, playbook_text).expect("write");
    let mut project = Project::with_playbook(playbook.to_str().expect("UTF-8"));
    project.dir = dir;
    project
        .run(&["new", "F-1", "--title", "Search", "--no-scaffold"])
        .expect(0);
    let slug = project.subject("F-1")["slug"]
        .as_str()
        .expect("a slug")
        .to_string();
    let plan = root.join(format!("plans/{slug}.md"));
    (project, plan)
}

#[test]
fn an_open_plan_is_checked_from_the_buffer_as_it_is_edited() {
    let (project, plan) = project_with_plan();
    let playbook = project
        .root()
        .canonicalize()
        .expect("root")
        .join("tollgate.yaml");
    let mut client = Client::start(&project);
    let init = client.request("initialize", json!({"capabilities": {}}));
    assert_eq!(
        init["result"]["capabilities"]["textDocumentSync"]["change"],
        2
    );
    client.notify("initialized", json!({}));
    // A clean playbook publishes no findings.
    assert!(client.diagnostics(&uri(&playbook)).diagnostics.is_empty());

    let plan_uri = uri(&plan);
    // The plan is not on disk: only the buffer is checked.
    client.open(&plan_uri, "markdown", PLAN);
    let first = client.diagnostics(&plan_uri);
    assert_eq!(
        codes_and_lines(&first),
        [("no-todo".into(), 2, 0, 5), ("no-tbd".into(), 4, 7, 10)]
    );
    let todo = &first.diagnostics[0];
    assert_eq!(todo.source.as_deref(), Some("tollgate"));
    assert_eq!(todo.severity, Some(lsp_types::DiagnosticSeverity::ERROR));
    assert!(
        todo.code_description
            .as_ref()
            .is_some_and(|d| d.href.as_str().ends_with("checks.md#placeholders")),
        "{todo:?}"
    );

    // An incremental edit that removes the TODO line: its finding goes.
    client.notify(
        "textDocument/didChange",
        DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier::new(plan_uri.clone(), 2),
            content_changes: vec![TextDocumentContentChangeEvent {
                range: Some(Range::new(Position::new(2, 0), Position::new(4, 0))),
                range_length: None,
                text: String::new(),
            }],
        },
    );
    let second = client.diagnostics(&plan_uri);
    assert_eq!(codes_and_lines(&second), [("no-tbd".into(), 2, 7, 10)]);
    assert_eq!(second.version, Some(2));

    // A playbook that stops loading shows why; the plan's findings stay, stale.
    std::fs::write(&playbook, "tollgate: 1\nsteps: [\n").expect("write");
    client.notify(
        "textDocument/didSave",
        DidSaveTextDocumentParams {
            text_document: TextDocumentIdentifier::new(uri(&playbook)),
            text: None,
        },
    );
    let stale = client.diagnostics(&plan_uri);
    assert!(
        stale.diagnostics[0].message.starts_with("(stale)"),
        "{stale:?}"
    );
    let broken = client.diagnostics(&uri(&playbook));
    assert_eq!(broken.diagnostics.len(), 1, "{broken:?}");

    // Mended, the playbook is clean and the plan is checked afresh.
    std::fs::write(&playbook, PLAYBOOK).expect("write");
    client.notify(
        "textDocument/didSave",
        DidSaveTextDocumentParams {
            text_document: TextDocumentIdentifier::new(uri(&playbook)),
            text: None,
        },
    );
    assert!(client.diagnostics(&uri(&playbook)).diagnostics.is_empty());
    let fresh = client.diagnostics(&plan_uri);
    assert_eq!(codes_and_lines(&fresh), [("no-tbd".into(), 2, 7, 10)]);
    assert!(!fresh.diagnostics[0].message.starts_with("(stale)"));

    // Closing clears the plan's findings.
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": plan_uri.as_str()}}),
    );
    assert!(client.diagnostics(&plan_uri).diagnostics.is_empty());

    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown["result"], Value::Null);
    client.notify("exit", Value::Null);
    let status = client.child.wait().expect("the server exits");
    assert_eq!(status.code(), Some(0));
}

/// The open playbook is linted as it is typed, from its buffer, before
/// anything is saved; closed unsaved, the file on disk counts again.
#[test]
fn an_open_playbook_is_linted_as_it_is_typed() {
    let (project, _plan) = project_with_plan();
    let playbook = project
        .root()
        .canonicalize()
        .expect("root")
        .join("tollgate.yaml");
    let playbook_uri = uri(&playbook);
    let mut client = Client::start(&project);
    client.request("initialize", json!({"capabilities": {}}));
    client.notify("initialized", json!({}));
    assert!(client.diagnostics(&playbook_uri).diagnostics.is_empty());

    let typo = format!("{PLAYBOOK}stepz: []\n");
    client.open(&playbook_uri, "yaml", typo.clone());
    let typed = client.diagnostics(&playbook_uri);
    assert_eq!(typed.diagnostics.len(), 1, "{typed:?}");
    let line = typo.lines().count() as u32 - 1;
    assert_eq!(typed.diagnostics[0].range.start.line, line, "{typed:?}");
    assert_eq!(std::fs::read_to_string(&playbook).expect("read"), PLAYBOOK);

    client.notify(
        "textDocument/didChange",
        DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier::new(playbook_uri.clone(), 2),
            content_changes: vec![TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: PLAYBOOK.into(),
            }],
        },
    );
    assert!(client.diagnostics(&playbook_uri).diagnostics.is_empty());

    client.notify(
        "textDocument/didChange",
        DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier::new(playbook_uri.clone(), 3),
            content_changes: vec![TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: typo,
            }],
        },
    );
    assert_eq!(client.diagnostics(&playbook_uri).diagnostics.len(), 1);
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": playbook_uri.as_str()}}),
    );
    assert!(client.diagnostics(&playbook_uri).diagnostics.is_empty());
}

/// A subject registered while the server runs is known when its document
/// is opened: the server learns the artifacts again once the state's
/// history changed, with no playbook save.
#[test]
fn a_subject_registered_while_the_server_runs_is_checked() {
    let (project, _plan) = project_with_plan();
    let mut client = Client::start(&project);
    client.request("initialize", json!({"capabilities": {}}));
    client.notify("initialized", json!({}));
    project
        .run(&["new", "F-2", "--title", "Later", "--no-scaffold"])
        .expect(0);
    let slug = project.subject("F-2")["slug"]
        .as_str()
        .expect("a slug")
        .to_string();
    let root = project.root().canonicalize().expect("root");
    let later = uri(&root.join(format!("plans/{slug}.md")));
    client.open(&later, "markdown", PLAN);
    let published = client.diagnostics(&later);
    assert_eq!(
        codes_and_lines(&published),
        [("no-todo".into(), 2, 0, 5), ("no-tbd".into(), 4, 7, 10)]
    );
}

/// A check that reads another document of the subject (a `trace`) reads it
/// from the disk while the open one is checked from its buffer.
#[test]
fn a_trace_reads_the_subjects_other_documents() {
    let playbook = "tollgate: 1\nname: traced\nphases:\n  - { id: draft }\n  - { id: done }\nartifacts:\n  spec: \"specs/{{ subject.slug }}/spec.md\"\n  tasks: \"specs/{{ subject.slug }}/tasks.md\"\nsteps:\n  - id: tasks\n    from: draft\n    to: done\n    checks:\n      - id: requirements-traced\n        artifact: tasks\n        trace: { id: 'FR-\\d{3}', defined_in: { artifact: spec }, referenced: defined }\n";
    let (project, _) = project_on(playbook);
    let slug = project.subject("F-1")["slug"]
        .as_str()
        .expect("a slug")
        .to_string();
    let root = project.root().canonicalize().expect("root");
    let folder = root.join(format!("specs/{slug}"));
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(
        folder.join("spec.md"),
        "# Spec\n\n- FR-001 sync\n- FR-002 merge\n",
    )
    .expect("write");
    let mut client = Client::start(&project);
    client.request("initialize", json!({"capabilities": {}}));
    client.notify("initialized", json!({}));
    let tasks = uri(&folder.join("tasks.md"));
    client.open(
        &tasks,
        "markdown",
        "# Tasks\n\n- [ ] T001 FR-001\n- [ ] T002 FR-003\n",
    );
    let published = client.diagnostics(&tasks);
    assert_eq!(published.diagnostics.len(), 1, "{published:?}");
    let finding = &published.diagnostics[0];
    assert!(finding.message.contains("FR-003"), "{finding:?}");
    assert_eq!(finding.range.start.line, 3);
}

#[test]
fn garbage_unknown_methods_and_huge_documents_do_not_stop_the_server() {
    let (project, plan) = project_with_plan();
    let mut client = Client::start(&project);
    client.request("initialize", json!({"capabilities": {}}));
    client.raw(b"{ this is not JSON");
    client.raw(br#"{"jsonrpc": "2.0", "id": 99}"#);
    let unknown = client.request("tollgate/unheardOf", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");

    let plan_uri = uri(&plan);
    // Nearly as large as a document may be, so it is read and checked.
    let huge = format!("# Plan\n\n{}\n\nTODO: more\n", "word ".repeat(100_000));
    client.open(&plan_uri, "markdown", huge);
    let published = client.diagnostics(&plan_uri);
    let (code, line, ..) = codes_and_lines(&published)[0].clone();
    assert_eq!((code.as_str(), line), ("no-todo", 4), "{published:?}");
    // A file that is neither artifact nor playbook gets nothing.
    let other = uri(&project.root().join("notes.md"));
    client.open(&other, "markdown", "TODO");
    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown["result"], Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.child.wait().expect("exit").code(), Some(0));
    let rest: Vec<Value> = client.output.try_iter().collect();
    assert!(
        !rest.iter().any(|m| m["params"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("notes.md"))),
        "{rest:?}"
    );
}

/// The text after applying the single edit of a code action.
fn applied(text: &str, action: &Value) -> String {
    let changes = action["edit"]["changes"].as_object().expect("changes");
    let edit = &changes.values().next().expect("an edit")[0];
    let range: Range = serde_json::from_value(edit["range"].clone()).expect("a range");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let at = |p: Position| -> usize {
        lines[..p.line as usize]
            .iter()
            .map(|l| l.len())
            .sum::<usize>()
            + p.character as usize
    };
    let mut out = text.to_string();
    out.replace_range(
        at(range.start)..at(range.end),
        edit["newText"].as_str().expect("text"),
    );
    out
}

#[test]
fn code_actions_fix_headings_suppress_findings_and_apply_suggestions() {
    let playbook_text = PLAYBOOK.replace(
        "      - { id: no-tbd",
        "      - { id: outline, artifact: plan, order: true, sections: [Scope, Risks] }\n      - { id: no-tbd",
    );
    let (project, plan) = project_on(&playbook_text);
    let root = project.root().canonicalize().expect("root");
    let playbook = root.join("tollgate.yaml");
    let mut client = Client::start(&project);
    client.request("initialize", json!({"capabilities": {}}));
    let plan_uri = uri(&plan);
    let text = "# Plan\n\n## Risks\n\nRisks: TBD\n";
    client.open(&plan_uri, "markdown", text);
    let published = client.diagnostics(&plan_uri);
    assert_eq!(
        codes_and_lines(&published),
        [("outline".into(), 2, 0, 8), ("no-tbd".into(), 4, 7, 10)]
    );
    let ask = |client: &mut Client, uri: &Uri, diagnostics: &[lsp_types::Diagnostic]| {
        client.request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri.as_str()},
                "range": diagnostics[0].range,
                "context": {"diagnostics": diagnostics},
            }),
        )["result"]
            .as_array()
            .expect("actions")
            .clone()
    };
    let missing = ask(&mut client, &plan_uri, &published.diagnostics[..1]);
    assert_eq!(missing[0]["title"], "Add the heading `## Scope`");
    assert_eq!(
        applied(text, &missing[0]),
        "# Plan\n\n## Scope\n\n## Risks\n\nRisks: TBD\n"
    );
    let tbd = ask(&mut client, &plan_uri, &published.diagnostics[1..]);
    assert_eq!(
        applied(text, &tbd[0]),
        "# Plan\n\n## Risks\n\n<!-- tollgate-disable-next-line no-tbd: reason -->\nRisks: TBD\n"
    );

    // Hover on a heading names the checks that read its section.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": plan_uri.as_str()}, "position": {"line": 2, "character": 4}}),
    );
    insta::assert_snapshot!(
        "hover_heading",
        hover["result"]["contents"]["value"]
            .as_str()
            .expect("hover")
    );

    // A misspelt key in the playbook: the suggestion replaces it.
    let misspelt = playbook_text.replace("  - id: plan\n", "  - id: plan\n    titel: Planning\n");
    std::fs::write(&playbook, &misspelt).expect("write");
    client.notify(
        "textDocument/didSave",
        DidSaveTextDocumentParams {
            text_document: TextDocumentIdentifier::new(uri(&playbook)),
            text: None,
        },
    );
    let lint = client.diagnostics(&uri(&playbook));
    let fixes = ask(&mut client, &uri(&playbook), &lint.diagnostics);
    assert_eq!(
        applied(&misspelt, &fixes[0]),
        playbook_text.replace("  - id: plan\n", "  - id: plan\n    title: Planning\n")
    );
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&playbook).as_str()}, "position": {"line": 1, "character": 1}}),
    );
    insta::assert_snapshot!(
        "hover_playbook_key",
        hover["result"]["contents"]["value"]
            .as_str()
            .expect("hover")
    );
}

#[cfg(unix)]
#[test]
fn check_watch_reruns_when_the_file_changes_and_ctrl_c_exits_0() {
    let (project, plan) = project_with_plan();
    std::fs::create_dir_all(plan.parent().expect("a folder")).expect("mkdir");
    std::fs::write(&plan, PLAN).expect("write");
    let mut child = project
        .command(&[
            "check",
            "--step",
            "plan",
            plan.to_str().expect("UTF-8"),
            "--watch",
        ])
        .spawn()
        .expect("starts");
    let (sender, lines) = channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let summary = |lines: &Receiver<String>| loop {
        let line = lines.recv_timeout(Duration::from_secs(30)).expect("a run");
        if line.contains("file checked") {
            return line;
        }
    };
    assert!(summary(&lines).contains("1 failed — 2 errors"));
    // The watcher is in place once the first run is printed; give the
    // file system's notice a moment to be set up before writing.
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&plan, "# Plan\n\nThe scope.\n").expect("write");
    let rerun = summary(&lines);
    assert!(rerun.contains("passed"), "{rerun}");
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    // SAFETY: signals the child this test started.
    unsafe { libc::kill(pid, libc::SIGINT) };
    assert_eq!(child.wait().expect("exits").code(), Some(0));
}
