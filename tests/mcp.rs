//! `tollgate mcp` end to end: the real binary, driven by the official MCP
//! client (`rmcp`, over its child-process transport), on a project in a
//! temporary folder. Every answer is compared with what the command line
//! prints for the same question.

#[path = "fixtures/subjects/harness.rs"]
mod harness;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use harness::Project;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ErrorCode, GetPromptRequestParams, JsonObject,
};
use rmcp::service::{RoleClient, RunningService, ServiceError, ServiceExt};
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

const SPEC: &str = "specs/f-11-vector-collector-service/spec.md";
const PLAN: &str = "specs/f-11-vector-collector-service/plan.md";

type Client = RunningService<RoleClient, ()>;

/// Starts `tollgate mcp` on the project and connects to it.
async fn connect(project: &Project) -> Client {
    let mut command = tokio::process::Command::from(project.command(&["mcp"]));
    command.stderr(Stdio::inherit());
    let transport = TokioChildProcess::new(command).expect("the server starts");
    ().serve(transport).await.expect("the handshake")
}

fn arguments(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => panic!("arguments are an object"),
    }
}

async fn call(client: &Client, tool: &'static str, args: Value) -> CallToolResult {
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments(args)))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// Each text content of a result.
fn texts(result: &CallToolResult) -> Vec<String> {
    (result.content.iter())
        .map(|c| c.as_text().expect("text content").text.clone())
        .collect()
}

/// A successful result's structured content, checked against its text:
/// the same JSON, as the command line prints it.
fn structured(result: &CallToolResult) -> Value {
    assert_eq!(result.is_error, Some(false), "{:?}", texts(result));
    let value = result
        .structured_content
        .clone()
        .expect("structured content");
    assert_eq!(
        texts(result),
        [serde_json::to_string_pretty(&value).unwrap()]
    );
    value
}

/// An error result's message (its last text).
fn error_message(result: &CallToolResult) -> String {
    assert_eq!(result.is_error, Some(true), "{:?}", texts(result));
    texts(result).pop().expect("a message")
}

/// Asserts that `value` fits the output schema the server lists for `tool`.
async fn conforms(client: &Client, tool: &str, value: &Value) {
    let tools = client.list_all_tools().await.unwrap();
    let listed = tools.iter().find(|t| t.name == tool).expect("the tool");
    let schema = Value::Object(listed.output_schema.as_deref().expect("a schema").clone());
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    if let Err(error) = validator.validate(value) {
        panic!("{tool}: {error} at {}\n{value:#}", error.instance_path());
    }
}

/// What `tollgate ARGS` prints as JSON.
fn cli_json(project: &Project, args: &[&str], code: i32) -> Value {
    let run = project.run(args).expect(code);
    serde_json::from_str(&run.stdout).expect("JSON")
}

#[tokio::test]
async fn the_tools_and_prompts_are_listed_with_their_schemas() {
    let project = Project::new();
    let client = connect(&project).await;
    let info = client.peer_info().expect("server info");
    let server = info.server_info.as_ref().expect("implementation");
    assert_eq!(server.name, "tollgate");
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "status",
            "show_step",
            "check",
            "new_subject",
            "advance",
            "lint"
        ]
    );
    assert!(tools.iter().all(|t| t.output_schema.is_some()));
    insta::assert_json_snapshot!("tools", tools);
    let prompts = client.list_all_prompts().await.unwrap();
    insta::assert_json_snapshot!("prompts", prompts);
    client.cancel().await.unwrap();
}

/// A feature from `new_subject` through the automated gate of `specify` to
/// the human gate of `plan`, which `advance` will not pass.
#[tokio::test]
async fn a_subject_goes_from_new_to_a_human_gate_that_advance_will_not_pass() {
    let project = Project::new();
    let client = connect(&project).await;

    let empty = structured(&call(&client, "status", json!({})).await);
    conforms(&client, "status", &empty).await;
    assert_eq!(
        empty,
        cli_json(&project, &["status", "--format", "json"], 0)
    );

    let made = call(
        &client,
        "new_subject",
        json!({"id": "F-11", "title": "Vector Collector Service"}),
    )
    .await;
    let made = structured(&made);
    conforms(&client, "new_subject", &made).await;
    let status = cli_json(&project, &["status", "F-11", "--format", "json"], 0);
    assert_eq!(made, status);
    assert_eq!(made["subjects"][0]["phase"], "draft");
    // Skeletons are written, as `tollgate new` writes them.
    assert!(project.root().join(SPEC).is_file());

    let prompt = client
        .get_prompt(
            GetPromptRequestParams::new("specify")
                .with_arguments(arguments(json!({"subject": "F-11"}))),
        )
        .await
        .unwrap();
    let text = &prompt.messages[0].content.as_text().unwrap().text;
    let shown = project
        .run(&["show", "specify", "--subject", "F-11"])
        .expect(0);
    assert!(text.starts_with(shown.stdout.trim_end()), "{text}");
    insta::assert_snapshot!(
        "specify_prompt_loop",
        &text[shown.stdout.trim_end().len()..]
    );

    let skeleton = structured(&call(&client, "check", json!({"subject": "F-11"})).await);
    assert_eq!(skeleton["results"][0]["verdict"], "failed");
    conforms(&client, "check", &skeleton).await;
    assert_eq!(
        skeleton,
        cli_json(&project, &["check", "F-11", "--format", "json"], 1)
    );
    let stays = structured(&call(&client, "advance", json!({"subject": "F-11"})).await);
    assert_eq!(stays["taken"], false);
    conforms(&client, "advance", &stays).await;
    assert_eq!(stays["message"], "F-11 not advanced: step `specify` failed");

    project.place("spec-good.md", SPEC);
    let passing = structured(&call(&client, "check", json!({"subject": "F-11"})).await);
    assert_eq!(passing["results"][0]["verdict"], "passed");
    assert_eq!(
        passing,
        cli_json(&project, &["check", "F-11", "--format", "json"], 0)
    );
    let advanced = structured(&call(&client, "advance", json!({"subject": "F-11"})).await);
    insta::assert_json_snapshot!("advanced", advanced);

    project.place("plan-good.md", PLAN);
    let document = call(
        &client,
        "show_step",
        json!({"step": "plan", "subject": "F-11", "with_results": true}),
    )
    .await;
    let cli_document = project
        .run(&["show", "plan", "--subject", "F-11", "--with-results"])
        .expect(0);
    assert_eq!(texts(&document), std::slice::from_ref(&cli_document.stdout));
    assert_eq!(
        document.structured_content,
        Some(json!({"document": cli_document.stdout}))
    );
    conforms(
        &client,
        "show_step",
        document.structured_content.as_ref().unwrap(),
    )
    .await;

    let awaiting = structured(&call(&client, "advance", json!({"subject": "F-11"})).await);
    insta::assert_json_snapshot!("awaiting_a_person", awaiting);
    conforms(&client, "advance", &awaiting).await;
    let after = cli_json(&project, &["status", "F-11", "--format", "json"], 0);
    assert_eq!(after["subjects"][0]["phase"], "specified");
    assert_eq!(after["subjects"][0]["verdict"], "awaiting_approval");

    let lint = structured(&call(&client, "lint", json!({})).await);
    assert_eq!(lint, cli_json(&project, &["lint", "--format", "json"], 0));
    conforms(&client, "lint", &lint).await;
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn bad_input_is_an_error_result_with_the_message_of_the_command_line() {
    let project = Project::new();
    project.write("outside-root-marker.md", "");
    let client = connect(&project).await;
    let unknown = call(&client, "status", json!({"subject": "F-99"})).await;
    let cli = project.run(&["status", "F-99"]).expect(2);
    assert_eq!(
        format!("tollgate: {}\n", error_message(&unknown)),
        cli.stderr
    );
    // No subject registered: nothing judged is no pass, as on the command line.
    let nothing = error_message(&call(&client, "check", json!({})).await);
    let cli = project.run(&["check"]).expect(2);
    for said in [&nothing, &cli.stderr] {
        assert!(
            said.contains("no feature is registered in `.tollgate`"),
            "{said}"
        );
        assert!(
            said.contains("register one with `tollgate new ID --title TITLE`"),
            "{said}"
        );
    }
    let cases = [
        (
            "advance",
            json!({"subject": "F-99"}),
            "no subject `F-99` is registered",
        ),
        (
            "show_step",
            json!({"step": "nope"}),
            "the playbook has no step `nope` (steps: specify, plan, ship)",
        ),
        (
            "new_subject",
            json!({"id": "X-1", "title": "Wrong prefix"}),
            r"`X-1` does not match the playbook's id pattern `^F-\d+$`",
        ),
        (
            "check",
            json!({"files": ["../elsewhere/plan.md"], "step": "plan"}),
            "`../elsewhere/plan.md` lies outside the project root",
        ),
        (
            "check",
            json!({"files": ["/etc/passwd"], "step": "plan"}),
            "`/etc/passwd` lies outside the project root",
        ),
        (
            "check",
            json!({"files": ["plan.md"]}),
            "checking files needs --step STEP: which step's gate do they face?",
        ),
        (
            "check",
            json!({"files": ["plan.md"], "step": "plan", "subject": "F-1"}),
            "give either subject ids or files to `check`, not both",
        ),
        (
            "check",
            json!({"subject": 11}),
            "the arguments of `check` do not fit: invalid type: integer `11`, expected a string",
        ),
        (
            "lint",
            json!({"strict": true}),
            "the arguments of `lint` do not fit: unknown field `strict`, there are no fields",
        ),
        (
            "show_step",
            json!({"step": "plan", "with_results": true}),
            "`with_results` needs a `subject`",
        ),
    ];
    for (tool, args, message) in cases {
        let result = call(&client, tool, args.clone()).await;
        assert_eq!(error_message(&result), message, "{tool} {args}");
        assert_eq!(result.structured_content, None);
    }
    // Unknown tools and prompts are requests the server cannot route.
    let no_tool = client
        .call_tool(CallToolRequestParams::new("approve").with_arguments(arguments(json!({}))))
        .await;
    assert!(
        matches!(&no_tool, Err(ServiceError::McpError(e)) if e.code == ErrorCode::INVALID_PARAMS),
        "{no_tool:?}"
    );
    let no_prompt = client
        .get_prompt(
            GetPromptRequestParams::new("nope")
                .with_arguments(arguments(json!({"subject": "F-1"}))),
        )
        .await;
    assert!(
        matches!(&no_prompt, Err(ServiceError::McpError(e)) if e.code == ErrorCode::INVALID_PARAMS),
        "{no_prompt:?}"
    );
    client.cancel().await.unwrap();
}

/// A hundred calls, a third of them invalid, all answered; and the state
/// the command line changes between two calls is what the next one sees.
#[tokio::test]
async fn the_server_stays_up_and_sees_what_the_command_line_changed() {
    let project = Project::new();
    let client = connect(&project).await;
    for i in 0..100 {
        let (tool, args) = match i % 3 {
            0 => ("status", json!({"subject": format!("F-{i}")})),
            1 => ("status", json!({})),
            _ => ("show_step", json!({"step": "plan"})),
        };
        let result = call(&client, tool, args).await;
        assert_eq!(result.is_error, Some(i % 3 == 0), "call {i}");
    }
    let before = structured(&call(&client, "status", json!({})).await);
    assert_eq!(before["subjects"], json!([]));
    project
        .run(&["new", "F-2", "--title", "Metrics dashboard"])
        .expect(0);
    let after = structured(&call(&client, "status", json!({})).await);
    assert_eq!(after["subjects"][0]["id"], "F-2");
    client.cancel().await.unwrap();
}

const FOREVER: &str = "\
tollgate: 1
name: forever
phases: [{ id: draft }, { id: written }]
artifacts: { doc: \"docs/{{ subject.slug }}.md\" }
limits: { plugin_timeout_ms: 50 }
plugins: { forever: plugins/forever.lua }
steps:
  - id: write
    from: draft
    to: written
    checks:
      - { id: doc-exists, artifact: doc, exists: true }
      - { id: doc-loops, artifact: doc, plugin: forever.check }
";

/// A plugin that runs out of time, and a playbook broken while the server
/// runs, are error results; the server answers the next call.
#[tokio::test]
async fn a_plugin_time_out_and_a_broken_playbook_are_error_results() {
    let project = Project::with_own_playbook("tollgate.yaml");
    let root = project.root().display().to_string();
    project.write("tollgate.yaml", FOREVER);
    project.write(
        "plugins/forever.lua",
        "local M = {}\nfunction M.check(ctx)\n  while true do end\nend\nreturn M\n",
    );
    project.write("docs/a.md", "# A\n");
    let client = connect(&project).await;
    let timed_out = call(
        &client,
        "check",
        json!({"files": ["docs/a.md"], "step": "write"}),
    )
    .await;
    assert_eq!(
        error_message(&timed_out),
        "plugin `forever.check` failed: plugins/forever.lua:3: time budget of 50 ms exhausted"
    );
    let report = timed_out.structured_content.clone().expect("the report");
    let cli = cli_json(
        &project,
        &[
            "check",
            "--step",
            "write",
            "--format",
            "json",
            &project.root().join("docs/a.md").display().to_string(),
        ],
        1,
    );
    assert_eq!(
        report["results"][0]["findings"],
        cli["results"][0]["findings"]
    );

    project.write("tollgate.yaml", &FOREVER.replace("phases:", "phasez:"));
    let broken = call(&client, "status", json!({})).await;
    let message = error_message(&broken);
    let cli = project.run(&["status"]).expect(2);
    assert!(
        message.ends_with("the playbook does not load; run `tollgate lint` for details"),
        "{message}"
    );
    assert!(cli.stderr.contains("tollgate: the playbook does not load"));
    let lint = call(&client, "lint", json!({})).await;
    // The command line's output names the root `[ROOT]`.
    let lint = structured(&lint).to_string();
    let lint: Value = serde_json::from_str(&lint.replace(&root, "[ROOT]")).unwrap();
    assert_eq!(lint, cli_json(&project, &["lint", "--format", "json"], 1));

    project.write("tollgate.yaml", FOREVER);
    structured(&call(&client, "status", json!({})).await);
    client.cancel().await.unwrap();
}

/// Reads lines from the server on a thread, so that a missing answer fails
/// the test instead of hanging it.
fn lines_of(stdout: std::process::ChildStdout) -> mpsc::Receiver<Value> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send
                .send(serde_json::from_str(&line).expect("JSON"))
                .is_err()
            {
                break;
            }
        }
    });
    receive
}

/// Malformed JSON-RPC gets a JSON-RPC error; closing stdin ends the server
/// with exit 0.
#[test]
fn malformed_requests_get_json_rpc_errors_and_closing_stdin_exits_0() {
    let project = Project::new();
    let mut command = project.command(&["mcp"]);
    command.stdin(Stdio::piped());
    let mut child = command.spawn().expect("the server starts");
    let mut stdin = child.stdin.take().unwrap();
    let answers = lines_of(child.stdout.take().unwrap());
    let mut send = |message: &str| writeln!(stdin, "{message}").unwrap();
    let next = || {
        answers
            .recv_timeout(Duration::from_secs(20))
            .expect("an answer")
    };
    send(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#,
    );
    assert_eq!(next()["id"], 1);
    send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    // Well-formed JSON that is no JSON-RPC message: Invalid Request.
    send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":"status"}"#);
    let invalid = next();
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");
    send(r#"{"jsonrpc":"2.0","id":3,"method":"no/such/method"}"#);
    let unknown = next();
    assert_eq!(unknown["id"], 3);
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    // A line that is not JSON at all is dropped (it has no id to answer),
    // and the server goes on.
    send("this is not JSON");
    send(
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"status","arguments":{}}}"#,
    );
    let status = next();
    assert_eq!(status["id"], 4);
    assert_eq!(status["result"]["isError"], false);
    drop(stdin);
    let code = child.wait().expect("the server ends");
    assert_eq!(code.code(), Some(0));
}
