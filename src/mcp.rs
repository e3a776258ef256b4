//! `tollgate mcp`: a Model Context Protocol server over stdio, for coding
//! agents. Its tools answer what the commands answer, from the same library
//! calls and the same JSON types (`crate::service`, `crate::report`); its
//! prompts are the playbook's steps. There is no approve tool: a human gate
//! stays a person's to pass.
//!
//! Every call reads the state, plugins and templates afresh, and the
//! playbook whenever its file's text changed, so a long-lived server never
//! answers from a stale picture; it moves subjects under the same state
//! lock as the command line. Calls run one after another on one
//! thread, as the engine's own work is synchronous.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rmcp::ErrorData;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, GetPromptResult, Implementation, JsonObject, ListPromptsResult,
    ListToolsResult, PaginatedRequestParams, Prompt, PromptArgument, PromptMessage, Role,
    ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer, ServerInitializeError, ServiceExt};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::engine::{Options, StepResult};
use crate::lua::LimitOverrides;
use crate::playbook::LoadedPlaybook;
use crate::pool::Handed;
use crate::project::{Project, ProjectError};
use crate::report::{self, AdvanceReport, CheckReport, LintReport, StatusReport};
use crate::{agents, confined, identity, scaffold, service};

/// What the server runs on: the project, its playbook and the budgets, as
/// the global options give them.
#[derive(Debug, Clone)]
pub struct Setup {
    pub root: PathBuf,
    pub playbook: PathBuf,
    /// The playbook's path as messages show it.
    pub playbook_display: String,
    pub vars: Vec<(String, serde_json::Value)>,
    pub limits: LimitOverrides,
}

/// Serves MCP on standard input and output until the client closes its
/// end. A client that leaves before the handshake is not an error.
pub fn serve(setup: Setup) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let running = match Server::new(setup)
            .serve((tokio::io::stdin(), tokio::io::stdout()))
            .await
        {
            Ok(running) => running,
            Err(ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
            Err(error) => return Err(std::io::Error::other(error)),
        };
        running
            .waiting()
            .await
            .map(drop)
            .map_err(std::io::Error::other)
    })
}

/// The arguments of `status`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusArgs {
    /// Only this subject [default: every registered subject].
    pub subject: Option<String>,
}

/// The arguments of `show_step`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowStepArgs {
    /// The step whose document to render.
    pub step: String,
    /// The subject to render it for; without one, artifact paths are patterns.
    pub subject: Option<String>,
    /// Run the step's checks and fill each line with its verdict and evidence (needs `subject`).
    #[serde(default)]
    pub with_results: bool,
}

/// The arguments of `check`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckArgs {
    /// The subject to check [default: every registered subject].
    pub subject: Option<String>,
    /// The step whose checks to run [default: each subject's current step]; needed with `files`.
    pub step: Option<String>,
    /// Files to check as the step's primary artifact, with no subject; paths relative to the project root, which they must stay inside.
    pub files: Option<Vec<String>>,
}

/// The arguments of `new_subject`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubjectArgs {
    /// The subject's id, matching the playbook's `subject.id_pattern`.
    pub id: String,
    /// A short title; with the id it makes the slug used in artifact paths.
    pub title: String,
}

/// The arguments of `advance`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceArgs {
    /// The subject whose current step to take.
    pub subject: String,
}

/// `lint` takes no arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LintArgs {}

/// What `show_step` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StepDocument {
    /// The rendered step document, in Markdown.
    pub document: String,
}

/// The tools, in the order they are listed.
pub fn tools() -> Vec<Tool> {
    let read_only = || ToolAnnotations::new().read_only(true);
    vec![
        Tool::new(
            "status",
            "Each subject's phase, next step and that step's verdict: what `tollgate status --format json` prints.",
            JsonObject::new(),
        )
        .with_input_schema::<StatusArgs>()
        .with_output_schema::<StatusReport>()
        .with_annotations(read_only()),
        Tool::new(
            "show_step",
            "The rendered step document (Markdown): what the step asks for, the documents to write and where, and every check they face.",
            JsonObject::new(),
        )
        .with_input_schema::<ShowStepArgs>()
        .with_output_schema::<StepDocument>()
        .with_annotations(read_only()),
        Tool::new(
            "check",
            "Runs a step's checks: of a subject's current (or named) step, or of files as the step's document. Returns what `tollgate check --format json` prints: each finding with its file, line and column.",
            JsonObject::new(),
        )
        .with_input_schema::<CheckArgs>()
        .with_output_schema::<CheckReport>()
        .with_annotations(read_only()),
        Tool::new(
            "new_subject",
            "Registers a subject at the playbook's first phase and writes skeletons of its first step's documents, as `tollgate new` does. Returns the new subject, as `status` shows it.",
            JsonObject::new(),
        )
        .with_input_schema::<NewSubjectArgs>()
        .with_output_schema::<StatusReport>()
        .with_annotations(ToolAnnotations::new().destructive(false)),
        Tool::new(
            "advance",
            "Checks a subject's current step and, when it passes, moves the subject to the next phase. A human gate is never passed here: the answer says it awaits a person and names the command a person runs.",
            JsonObject::new(),
        )
        .with_input_schema::<AdvanceArgs>()
        .with_output_schema::<AdvanceReport>()
        .with_annotations(ToolAnnotations::new().destructive(false)),
        Tool::new(
            "lint",
            "Validates the playbook and lints its references, regexes, templates and paths: what `tollgate lint --format json` prints.",
            JsonObject::new(),
        )
        .with_input_schema::<LintArgs>()
        .with_output_schema::<LintReport>()
        .with_annotations(read_only()),
    ]
}

/// A tool's answer: its value (the structured content), and what went
/// wrong, which makes it an error result.
struct Answer {
    value: Option<serde_json::Value>,
    /// The value's text, when it is not its JSON (a Markdown document).
    text: Option<String>,
    errors: Vec<String>,
}

impl Answer {
    fn of(value: &impl Serialize) -> Self {
        Self {
            value: serde_json::to_value(value).ok(),
            text: None,
            errors: Vec::new(),
        }
    }

    fn error(message: impl ToString) -> Self {
        Self {
            value: None,
            text: None,
            errors: vec![message.to_string()],
        }
    }

    fn with_errors(mut self, errors: impl IntoIterator<Item = impl ToString>) -> Self {
        self.errors
            .extend(errors.into_iter().map(|e| e.to_string()));
        self
    }

    /// The value as the command line prints it (pretty JSON) or the text,
    /// then each error as the command line says it.
    fn into_result(self) -> CallToolResult {
        let mut content = Vec::new();
        if let Some(value) = &self.value {
            let text = self.text.clone().unwrap_or_else(|| {
                serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
            });
            content.push(ContentBlock::text(text));
        }
        content.extend(self.errors.iter().map(ContentBlock::text));
        let is_error = !self.errors.is_empty();
        let mut result = match self.value {
            Some(value) if is_error => CallToolResult::structured_error(value),
            Some(value) => CallToolResult::structured(value),
            None => CallToolResult::error(Vec::new()),
        };
        result.content = content;
        result
    }
}

/// The server: what it runs on, and the playbook as it last loaded.
struct Server {
    setup: Setup,
    /// Parsing and validating the playbook is most of a warm call's time;
    /// it is done again whenever the file's text differs from this one's.
    loaded: Mutex<Option<Arc<LoadedPlaybook>>>,
}

impl Server {
    fn new(setup: Setup) -> Self {
        Self {
            setup,
            loaded: Mutex::new(None),
        }
    }

    fn options(&self) -> Options {
        Options {
            strict: false,
            limits: self.setup.limits,
        }
    }

    /// The playbook as its file is now. One that `extends:` others is
    /// loaded afresh on every call, as they may have changed.
    fn load(&self) -> Result<Arc<LoadedPlaybook>, service::PlaybookUnavailable> {
        let setup = &self.setup;
        let text = crate::init::read_playbook_file(&setup.playbook, crate::yaml::MAX_FILE_BYTES);
        let mut kept = self
            .loaded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let (Some(loaded), Ok(text)) = (kept.as_ref(), &text)
            && loaded.bases.is_empty()
            && loaded.source == *text
        {
            return Ok(Arc::clone(loaded));
        }
        *kept = None;
        let loaded = Arc::new(service::load_playbook(
            &setup.playbook,
            &setup.playbook_display,
            &setup.vars,
        )?);
        *kept = Some(Arc::clone(&loaded));
        Ok(loaded)
    }

    /// Runs `work` on the project, read afresh.
    fn on_project(&self, work: impl FnOnce(&Project) -> Result<Answer, ProjectError>) -> Answer {
        match self.load() {
            Ok(loaded) => {
                let project = Project::new(&self.setup.root, &loaded, self.options());
                work(&project).unwrap_or_else(Answer::error)
            }
            Err(error) => Answer::error(error.plain_text()),
        }
    }

    fn call(&self, name: &str, arguments: JsonObject) -> Result<Answer, ErrorData> {
        Ok(match name {
            "status" => match parse::<StatusArgs>(name, arguments) {
                Ok(args) => self.status(args.subject.as_deref()),
                Err(error) => error,
            },
            "show_step" => match parse::<ShowStepArgs>(name, arguments) {
                Ok(args) => self.show_step(&args),
                Err(error) => error,
            },
            "check" => match parse::<CheckArgs>(name, arguments) {
                Ok(args) => self.check(&args),
                Err(error) => error,
            },
            "new_subject" => match parse::<NewSubjectArgs>(name, arguments) {
                Ok(args) => self.new_subject(&args),
                Err(error) => error,
            },
            "advance" => match parse::<AdvanceArgs>(name, arguments) {
                Ok(args) => self.advance(&args.subject),
                Err(error) => error,
            },
            "lint" => match parse::<LintArgs>(name, arguments) {
                Ok(LintArgs {}) => self.lint(),
                Err(error) => error,
            },
            _ => {
                return Err(ErrorData::invalid_params(
                    format!(
                        "no tool `{name}` (tools: status, show_step, check, new_subject, advance, lint)"
                    ),
                    None,
                ));
            }
        })
    }

    fn status(&self, only: Option<&str>) -> Answer {
        self.on_project(|project| {
            let (subjects, unusable) = service::status(project, only)?;
            let report = report::status_json(&project.loaded.playbook.name, &subjects);
            Ok(Answer::of(&report).with_errors(unusable))
        })
    }

    fn show_step(&self, args: &ShowStepArgs) -> Answer {
        if args.with_results && args.subject.is_none() {
            return Answer::error("`with_results` needs a `subject`");
        }
        self.on_project(|project| {
            let shown = service::show_step(
                project,
                &args.step,
                args.subject.as_deref(),
                args.with_results,
            );
            Ok(match shown {
                Ok(document) => Answer {
                    text: Some(document.clone()),
                    ..Answer::of(&StepDocument { document })
                },
                Err(error) => Answer::error(error),
            })
        })
    }

    fn check(&self, args: &CheckArgs) -> Answer {
        let Some(files) = &args.files else {
            return self.on_project(|project| {
                let ids: Vec<String> = args.subject.iter().cloned().collect();
                let mut to_check = service::subjects_to_check(project, &ids, args.step.as_deref())?;
                let (results, _) = to_check.judge(project, |results| {
                    results.map(Handed::into_inner).collect::<Vec<_>>()
                });
                let name = &project.loaded.playbook.name;
                // Nothing registered is no pass, as on the command line.
                let errors = to_check.unusable.iter().map(ToString::to_string);
                let errors = errors.chain(to_check.nothing_judged);
                Ok(judged(name, &results).with_errors(errors))
            });
        };
        if args.subject.is_some() {
            return Answer::error("give either subject ids or files to `check`, not both");
        }
        let Some(step) = &args.step else {
            return Answer::error(
                "checking files needs --step STEP: which step's gate do they face?",
            );
        };
        let root = &self.setup.root;
        let real_root = root.canonicalize().unwrap_or_else(|_| root.clone());
        let mut confined = Vec::new();
        for file in files {
            match confined::resolve(root, Path::new(file)) {
                // Shown as results show paths: relative to the root, with `/`.
                Ok(path) => {
                    let shown = path.strip_prefix(&real_root).unwrap_or(&path);
                    let shown = shown.to_string_lossy().replace('\\', "/");
                    confined.push((path, shown));
                }
                Err(error) => return Answer::error(error),
            }
        }
        let loaded = match self.load() {
            Ok(loaded) => loaded,
            Err(error) => return Answer::error(error.plain_text()),
        };
        let checked = service::check_files(
            &loaded,
            root,
            step,
            None,
            &[],
            self.options(),
            confined.as_slice(),
            &|| {},
            |results| results.map(Handed::into_inner).collect::<Vec<_>>(),
        );
        match checked {
            Ok(checked) => judged(&loaded.playbook.name, &checked.consumed).with_errors(
                (checked.nothing_judged).map(|why| format!("nothing was checked: {why}")),
            ),
            Err(error) => Answer::error(format!("{}: {error}", loaded.display)),
        }
    }

    fn new_subject(&self, args: &NewSubjectArgs) -> Answer {
        self.on_project(|project| {
            let actor = identity::actor(None, &project.root);
            let record = project.register(&args.id, &args.title, &actor)?;
            let mut problems = Vec::new();
            if let Some(step) = project.current_step(&record)
                && let Err(error) = scaffold::scaffold(project, &record, step)
            {
                problems.push(error.to_string());
            }
            let (subjects, unusable) = service::status(project, Some(&record.id))?;
            let report = report::status_json(&project.loaded.playbook.name, &subjects);
            Ok(Answer::of(&report)
                .with_errors(problems)
                .with_errors(unusable))
        })
    }

    fn advance(&self, subject: &str) -> Answer {
        self.on_project(|project| {
            let actor = identity::actor(None, &project.root);
            let outcome = project.advance(subject, None, &actor);
            let (report, result) = service::transition_report(project, "advanced", outcome)?;
            Ok(Answer::of(&report).with_errors(plugin_failures(std::slice::from_ref(&result))))
        })
    }

    fn lint(&self) -> Answer {
        let setup = &self.setup;
        let linted = service::lint_playbook(&setup.playbook, &setup.playbook_display);
        let answer = Answer::of(&report::lint_json(&linted.file.diagnostics));
        match linted.unusable {
            true => answer.with_errors(["the playbook cannot be read"]),
            false => answer,
        }
    }

    fn prompts(&self) -> Result<Vec<Prompt>, ErrorData> {
        let loaded = self.load().map_err(unavailable)?;
        let noun = &loaded.playbook.subject.noun;
        Ok(loaded
            .playbook
            .steps
            .iter()
            .map(|step| {
                let title = step.title.as_deref().unwrap_or(&step.id);
                Prompt::new(
                    step.id.clone(),
                    Some(format!(
                        "{title}: the step document for a {noun}, and how to check and advance it"
                    )),
                    Some(vec![
                        PromptArgument::new("subject")
                            .with_description(format!("The {noun}'s id"))
                            .with_required(true),
                    ]),
                )
            })
            .collect())
    }

    fn prompt(&self, name: &str, arguments: Option<&JsonObject>) -> Result<String, ErrorData> {
        let subject = arguments
            .and_then(|arguments| arguments.get("subject"))
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| {
                ErrorData::invalid_params("the prompt needs a `subject` argument", None)
            })?;
        let loaded = self.load().map_err(unavailable)?;
        let project = Project::new(&self.setup.root, &loaded, self.options());
        let invalid =
            |error: &dyn std::fmt::Display| ErrorData::invalid_params(error.to_string(), None);
        let step = project.step(name).map_err(|e| invalid(&e))?;
        let document =
            service::show_step(&project, name, Some(subject), false).map_err(|e| invalid(&e))?;
        Ok(format!(
            "{}\n\n{}",
            document.trim_end(),
            agents::the_loop(step, subject, agents::Via::Tools)
        ))
    }
}

/// A playbook that does not load, as a JSON-RPC error (prompts have no
/// error results).
fn unavailable(error: service::PlaybookUnavailable) -> ErrorData {
    ErrorData::internal_error(error.plain_text(), None)
}

/// Parses a tool's arguments; their error is the tool's.
fn parse<T: DeserializeOwned>(tool: &str, arguments: JsonObject) -> Result<T, Answer> {
    serde_json::from_value(serde_json::Value::Object(arguments))
        .map_err(|error| Answer::error(format!("the arguments of `{tool}` do not fit: {error}")))
}

/// Check results, as `check --format json`: an error result when a file
/// could not be read or a plugin failed (ran out of time, say).
fn judged(playbook: &str, results: &[StepResult]) -> Answer {
    let unreadable = results
        .iter()
        .filter(|r| r.unreadable)
        .flat_map(|r| r.findings().map(|f| format!("{}: {}", f.path, f.message)));
    Answer::of(&report::check_json(playbook, results))
        .with_errors(unreadable)
        .with_errors(plugin_failures(results))
}

/// The messages of plugins that failed (an error, a time or memory budget
/// spent) while judging `results`.
fn plugin_failures(results: &[StepResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|r| &r.outcomes)
        .flat_map(|outcome| outcome.plugin_failures())
        .map(|finding| finding.message.clone())
        .collect()
}

impl rmcp::ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new("tollgate", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "Tollgate checks the documents of a stage-gated playbook. For a step: `show_step` says what to write, \
`check` gives every finding at its line, `advance` moves a subject on when its step passes. \
A human gate is never passed by a tool: stop and ask the person to review and approve it.",
        )
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = request.arguments.unwrap_or_default();
        self.call(&request.name, arguments)
            .map(|answer| answer.into_result().into())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(self.prompts()?))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let text = self.prompt(&request.name, request.arguments.as_ref())?;
        Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).into())
    }
}
