//! The command line: clap definitions, and each command as a thin call into
//! the library. Every command returns an exit code; nothing here panics on
//! bad input.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use codespan_reporting::term::termcolor::{
    BufferedStandardStream, ColorChoice, StandardStream, WriteColor,
};

use crate::diagnostic::Diagnostic;
use crate::engine::{Options, StepResult};
use crate::lua::LimitOverrides;
use crate::playbook::{LoadedPlaybook, schema};
use crate::pool::Handed;
use crate::report::{self, Counts, Escaping, Sources};
use crate::service;

mod board;
mod init;
mod progress;
mod subjects;
mod verify;
mod watch;
pub use board::BoardArgs;
pub use init::InitArgs;
pub use subjects::{
    AdvanceArgs, ApproveArgs, GraphArgs, GraphFormat, NewArgs, RejectArgs, ScaffoldArgs, ShowArgs,
    StatusArgs,
};
pub use verify::VerifyArgs;

/// Nothing failed.
pub const EXIT_OK: i32 = 0;
/// Something failed a gate, or lint found an error.
pub const EXIT_FAILED: i32 = 1;
/// The input could not be used.
pub const EXIT_UNUSABLE: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "tollgate",
    version,
    about = "Stage gates for spec-driven development: exact, explainable checks of planning documents",
    long_about = "Tollgate interprets a playbook: the phases a feature moves through, the steps \
between them, the document each step must produce and the checks that document must pass.\n\n\
Start with `tollgate lint` on a playbook, then `tollgate check` on documents.",
    after_help = "Examples:\n  \
tollgate lint playbooks/specflow.yaml          is the playbook sound?\n  \
tollgate check --step plan docs/plan.md        does this document pass the plan step's gate?\n  \
tollgate new F-11 --title \"Vector Collector Service\" && tollgate check F-11\n  \
tollgate check --all --format sarif > tollgate.sarif\n\n\
Each command's --help has more examples. \
Exit codes: 0 nothing failed, 1 something failed (or lint found an error), 2 the input could not be used."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

// The options every command takes, before its name or after it (see
// `OptionsHere`). Their display orders are those clap gives the first
// options of a command, so that each command's help lists them where it did
// when they were clap's global options. (A doc comment here would become
// the description of every command that flattens them.)
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The playbook file [default: $TOLLGATE_PLAYBOOK, else tollgate.yaml at the project root]
    #[arg(
        long,
        env = "TOLLGATE_PLAYBOOK",
        value_name = "PATH",
        display_order = 0
    )]
    pub playbook: Option<PathBuf>,
    /// The project root [default: the nearest folder upward that holds .git, else the current folder]
    #[arg(long, value_name = "DIR", display_order = 1)]
    pub root: Option<PathBuf>,
    /// Set a playbook variable, overriding its default in `vars:` (repeatable); values that read as JSON (`true`, `3`) keep that type
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var, display_order = 2)]
    pub vars: Vec<(String, serde_json::Value)>,
    /// Time budget of each plugin call, in milliseconds [default: the playbook's `limits:`, else 1000]
    #[arg(long, value_name = "MS", display_order = 3)]
    pub plugin_timeout_ms: Option<u64>,
    /// Memory limit of each plugin call, in MiB [default: the playbook's `limits:`, else 64]
    #[arg(long, value_name = "MIB", display_order = 4)]
    pub plugin_memory_mib: Option<u64>,
    /// When to colour the output
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, display_order = 5)]
    pub color: ColorWhen,
    /// Print only what failed, and no summary
    #[arg(long, short, display_order = 6)]
    pub quiet: bool,
}

impl GlobalArgs {
    /// The options as clap's arguments, for `plugin`, which takes them
    /// without flattening them (see [`Command::Plugin`]).
    fn arguments() -> Vec<clap::Arg> {
        Self::augment_args(clap::Command::new("tollgate"))
            .get_arguments()
            .cloned()
            .collect()
    }

    /// The options as given anywhere on the command line, resolved as clap
    /// resolves a global option: from the top command down to the one that
    /// runs, a value from the command line beats one from the environment,
    /// which beats a default, and of two alike the later command's wins.
    fn resolved(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        use clap::FromArgMatches;
        // Every level that takes the options (clap's own `help` takes none).
        let levels: Vec<&clap::ArgMatches> = std::iter::successors(Some(matches), |level| {
            level.subcommand().map(|(_, sub)| sub)
        })
        .filter(|level| level.try_contains_id("playbook").is_ok())
        .collect();
        let given = levels
            .iter()
            .map(|level| Self::from_arg_matches(level))
            .collect::<Result<Vec<_>, _>>()?;
        let from = |id: &str| {
            let mut winner = 0;
            for (index, level) in levels.iter().enumerate() {
                if level.value_source(id) >= levels[winner].value_source(id) {
                    winner = index;
                }
            }
            &given[winner]
        };
        Ok(Self {
            playbook: from("playbook").playbook.clone(),
            root: from("root").root.clone(),
            vars: from("vars").vars.clone(),
            plugin_timeout_ms: from("plugin_timeout_ms").plugin_timeout_ms,
            plugin_memory_mib: from("plugin_memory_mib").plugin_memory_mib,
            color: from("color").color,
            quiet: from("quiet").quiet,
        })
    }
}

/// The options of [`GlobalArgs`] where a command takes them after its name
/// (`tollgate check --playbook p.yaml`). The values are read into
/// [`Cli::global`], resolved over every level. Each command adds them to its
/// own options only when it is the one that runs: clap's global options were
/// copied into all twenty commands on every run, about 2% of the
/// instructions of a single check.
#[derive(Debug, Clone, Copy)]
pub struct OptionsHere;

impl clap::FromArgMatches for OptionsHere {
    fn from_arg_matches(_: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self)
    }

    fn update_from_arg_matches(&mut self, _: &clap::ArgMatches) -> Result<(), clap::Error> {
        Ok(())
    }
}

impl Args for OptionsHere {
    fn augment_args(command: clap::Command) -> clap::Command {
        GlobalArgs::augment_args(command)
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        GlobalArgs::augment_args_for_update(command)
    }
}

fn parse_var(text: &str) -> Result<(String, serde_json::Value), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    let value =
        serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.into()));
    Ok((key.to_string(), value))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
// A run builds the options of the one command it runs, not of all twenty.
#[command(defer = true)]
pub enum Command {
    /// Write a bundled playbook, its plugins, the schema and the Lua stubs into the project
    #[command(
        after_help = "Examples:\n  tollgate init\n  tollgate init --template specflow-automated --force\n\n\
The playbook becomes tollgate.yaml at the project root; what it needs goes under .tollgate/, \
and .luarc.json points the Lua language server at the plugin stubs. Existing files are \
left alone, and nothing is written, unless --force is given."
    )]
    Init(InitArgs),
    /// Validate playbooks against the schema and lint their references, regexes, templates and paths
    #[command(after_long_help = "Examples:\n  \
tollgate lint                                  the playbook of --playbook (else tollgate.yaml)\n  \
tollgate lint playbooks/*.yaml                 several at once\n  \
tollgate lint --format github                  annotations in a GitHub Actions log\n  \
tollgate lint --format sarif > lint.sarif      for code scanning\n\n\
Every diagnostic has a code (such as unknown-phase), a severity, file:line:column and a code \
frame. Exit 1 when lint found an error, 2 when a playbook cannot be read at all.")]
    Lint(LintArgs),
    /// Serve editors over stdio as a Language Server: live findings on artifacts, lint on the playbook
    #[command(after_long_help = "Examples:\n  \
tollgate lsp                                   started by the editor, in the project\n  \
tollgate lsp --root ~/work/specs --playbook ~/work/specs/tollgate.yaml\n\n\
An open file that a registered subject's artifact path names is checked from the editor's \
buffer, as `tollgate check --step STEP` checks it, on every change; the playbook, the playbooks \
it extends and its plugins get the diagnostics of `tollgate lint`, refreshed when one is saved. \
Other files are ignored. See the README for Neovim, Helix and VS Code setup.")]
    Lsp(OptionsHere),
    /// Check subjects' current (or named) step, or documents against a step's gate
    #[command(after_long_help = "Examples:\n  \
tollgate check F-11                            the current step of feature F-11\n  \
tollgate check --all                           every registered subject\n  \
tollgate check --step plan specs/*/plan.md     files, as the plan step's document\n  \
tollgate check --step plan --strict docs/plan.md     warnings fail too\n  \
tollgate check --all --format sarif > tollgate.sarif  for code scanning\n  \
tollgate check --all --format github           annotations on the offending lines\n  \
tollgate check --all --format junit > tollgate.xml    for test report viewers\n\n\
Arguments that name files (a path with `/`, a `.md` file, or a file that exists) are checked \
as the step's primary artifact (the first artifact its checks read; --artifact chooses \
another), with no subject: prerequisites are not evaluated, and a human gate whose checks \
pass reports awaiting_approval. Other arguments are subject ids.\n\n\
Exit 0 when nothing failed, 1 when a result failed or is blocked, 2 when the input cannot be \
used or nothing was checked (no subject registered, or no check reading the files; \
--allow-empty accepts that); the format does not change the exit code.\n\n\
Text, JSON and GitHub output is written as the files are checked, in the order named. Over more \
than 20 files a progress bar is drawn on stderr when stderr is a terminal, stdout is not, and \
--quiet is not given.")]
    Check(CheckArgs),
    /// Register a subject (a feature) at the playbook's first phase
    #[command(after_long_help = "Examples:\n  \
tollgate new F-11 --title \"Vector Collector Service\"\n  \
tollgate new F-12 --title \"Audit log\" --by ana\n  \
tollgate new F-13 --title \"Search\" --no-scaffold\n\n\
The id must match the playbook's subject.id_pattern; the id and title make the slug that \
artifact paths use (f-11-vector-collector-service). The first step's documents that do not \
exist yet are written as skeletons (see `tollgate scaffold`), unless --no-scaffold is given.")]
    New(NewArgs),
    /// Write skeletons of the documents a subject's step checks, derived from its checks
    #[command(after_long_help = "Examples:\n  \
tollgate scaffold F-11                         the documents of its current step\n  \
tollgate scaffold F-11 --step tasks\n\n\
A skeleton holds every heading the step's checks require (at its level), each required \
table's header, each required checklist item unticked, and the step's guidance in a \
comment: it passes the structural checks and fails only until its content is written. An \
existing file is never overwritten (it is named as left alone), and nothing is written \
outside the project root or through a symlink.")]
    Scaffold(ScaffoldArgs),
    /// Each subject's phase, next step and that step's verdict
    #[command(after_long_help = "Examples:\n  \
tollgate status                                every subject, as a table\n  \
tollgate status F-11 --format json             one subject, for scripts\n\n\
An approval whose documents changed since it was given is marked (stale).")]
    Status(StatusArgs),
    /// Write one self-contained HTML page of every subject: a column per phase, a card per subject
    #[command(after_long_help = "Examples:\n  \
tollgate board                                 tollgate-board.html at the project root\n  \
tollgate board --out site/index.html           for a static site or a CI artifact\n\n\
The page needs nothing but itself (no script, font or image from elsewhere). It is never \
written through a symlink: inside the project, a link at the file or at any folder on the \
way is refused; outside it (a path only the command line can give), a link at the file is.")]
    Board(BoardArgs),
    /// Render a step's document (Markdown), optionally with each check's verdict and evidence
    #[command(after_long_help = "Examples:\n  \
tollgate show plan                             what the plan step asks for\n  \
tollgate show plan --subject F-11 --with-results > review.md\n\n\
With results, each check line carries its verdict and where the evidence is (the lines of \
a section, say): a reviewer's checklist.")]
    Show(ShowArgs),
    /// Check a subject's current step and, when it passes, move it to the next phase
    #[command(after_long_help = "Examples:\n  \
tollgate advance F-11\n  \
tollgate advance F-11 --by ci\n  \
tollgate advance 001 --step clarify        take an optional step rather than skip it\n\n\
A step with a human gate does not advance by itself: record the approval with \
`tollgate approve`.")]
    Advance(AdvanceArgs),
    /// Record an approval of a human gate, pinned to the SHA-256 of the step's documents; advance once the gate has the approvals it needs
    #[command(after_long_help = "Examples:\n  \
tollgate approve F-11                          the current step, as git's user.email\n  \
tollgate approve F-11 --step plan --note \"architecture reviewed\"\n  \
tollgate approve F-11 --by ana@example.com     as someone the step's approvers list\n\n\
The approver is git's identity in the repository (user.name and user.email), or --by. \
When the step's `approval:` lists who may approve, anyone else is refused (exit 1, naming who \
may); the gate opens once `min` distinct people approved, one from each `require` group. \
If the documents change afterwards, the approval goes stale and steps that require it are \
blocked again.")]
    Approve(ApproveArgs),
    /// Request changes at a human gate: the gate stays shut until a document it pinned changes
    #[command(after_long_help = "Examples:\n  \
tollgate reject F-11 --note \"the rollout section names no owner\"\n  \
tollgate reject F-11 --step plan --by carol@example.com --note \"threat model missing\"\n\n\
The request is pinned to the SHA-256 of the step's documents, as an approval is; `status` \
and `show --with-results` show it, and the step fails until one of those documents changes.")]
    Reject(RejectArgs),
    /// Prove in CI that every human gate a subject passed was opened by the people allowed to, in commits they made
    #[command(after_long_help = "Examples:\n  \
tollgate verify\n  \
tollgate verify --format github                annotations in a GitHub Actions log\n  \
tollgate verify --format sarif > verify.sarif\n\n\
For every subject past a human gate, the approvals that opened it must exist, be fresh, \
meet the step's `approval:` rule, and each have been added to the state by a commit whose \
author is the approver (with `signed: true`, a commit whose signature `git verify-commit` \
accepts); the history's hash chain must be whole, and each phase must match the history. \
Exit 0 when nothing is wrong, 1 when an error is found, 2 outside a git repository or when \
the state cannot be read.")]
    Verify(VerifyArgs),
    /// Serve the project to coding agents over the Model Context Protocol, on stdin and stdout
    #[command(after_long_help = "Examples:\n  \
tollgate mcp                                   as a coding agent starts it\n  \
tollgate mcp --root ~/src/app --playbook ~/src/app/tollgate.yaml\n\n\
Tools: status, show_step, check, new_subject, advance and lint, each answering what the \
command's --format json prints. Prompts: one per step of the playbook, named after the step, \
taking the subject's id. There is no approve tool: a human gate stays a person's to pass. \
The state is read afresh on every call, the playbook whenever its text changed. The server ends, with exit 0, when \
its input is closed. `tollgate agents` writes the files that register it with agents.")]
    Mcp(OptionsHere),
    /// Write each step of the playbook as a command for coding agents, and register the MCP server
    #[command(after_long_help = "Examples:\n  \
tollgate agents                                every agent's files\n  \
tollgate agents --for claude,copilot\n  \
tollgate agents --check                        in CI: exit 1 when a file is missing or out of date\n\n\
One command file per step (named tollgate-STEP) in each agent's folder: .claude/commands, \
.github/prompts, .cursor/commands, .gemini/commands, .codex/prompts, .opencode/commands and \
.windsurf/workflows; and the `tollgate` server's entry in .mcp.json (Claude Code), \
.vscode/mcp.json (VS Code) and .cursor/mcp.json (Cursor), beside the servers already there. \
Command files carry a mark with the hash of their text: a file a person edited, or wrote, \
is left alone unless --force is given.")]
    Agents(AgentsArgs),
    /// Work with Lua plugins: `plugin test PLUGIN` runs a plugin against its sample documents
    // Not deferred as the other commands are, so that `help plugin` knows
    // `test`: the options are added to it as it is made.
    #[command(subcommand, args = GlobalArgs::arguments())]
    Plugin(PluginCommand),
    /// Draw the playbook's phases and steps as a diagram
    #[command(after_long_help = "Examples:\n  \
tollgate graph                                 Mermaid, for Markdown that renders it\n  \
tollgate graph --format dot | dot -Tsvg > playbook.svg")]
    Graph(GraphArgs),
    /// Print the playbook JSON Schema (draft 2020-12)
    #[command(after_long_help = "Examples:\n  \
tollgate schema > playbook.schema.json\n\n\
Editors pick the schema up from a first line such as:\n  \
# yaml-language-server: $schema=../schemas/playbook.schema.json")]
    Schema(OptionsHere),
    /// Print a completion script for a shell
    #[command(after_long_help = "Examples:\n  \
tollgate completions bash > ~/.local/share/bash-completion/completions/tollgate\n  \
tollgate completions zsh > ~/.zfunc/_tollgate       (with fpath+=~/.zfunc before compinit)\n  \
tollgate completions fish > ~/.config/fish/completions/tollgate.fish\n  \
tollgate completions powershell >> $PROFILE")]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) of tollgate, or of one of its commands, to stdout
    #[command(after_long_help = "Examples:\n  \
tollgate man | man -l -\n  \
tollgate man > /usr/local/share/man/man1/tollgate.1\n  \
tollgate man check > /usr/local/share/man/man1/tollgate-check.1")]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct AgentsArgs {
    /// The agents to write files for, separated by commas [default: all of them]
    #[arg(long = "for", value_name = "LIST", value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(crate::agents::AGENTS))]
    pub agents: Vec<String>,
    /// Write nothing; exit 1 when a file is missing or out of date
    #[arg(long)]
    pub check: bool,
    /// Overwrite files a person edited
    #[arg(long, conflicts_with = "check")]
    pub force: bool,
    #[command(flatten)]
    pub options: OptionsHere,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (the page tollgate-COMMAND(1)) [default: tollgate's own]
    pub command: Option<String>,
    #[command(flatten)]
    pub options: OptionsHere,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
    #[command(flatten)]
    pub options: OptionsHere,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum PluginCommand {
    /// Run a plugin against the sample documents of PLUGIN.test.yaml and compare its findings
    #[command(
        after_long_help = "Example:\n  tollgate plugin test plugins/risk_coverage.lua\n\n\
The cases live in PLUGIN.test.yaml beside the plugin: each names a function, its `with:`, a \
document (inline or a file) and the findings expected, in order (severity, line, a message \
substring). Exit 0 when every case passes, 1 otherwise."
    )]
    Test(PluginTestArgs),
}

#[derive(Debug, Args)]
pub struct PluginTestArgs {
    /// The plugin file (or its .test.yaml)
    pub plugin: PathBuf,
    #[command(flatten)]
    pub options: OptionsHere,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Playbook files [default: the playbook of --playbook]
    pub playbooks: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub options: OptionsHere,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Subject ids, or files to check as the step's primary artifact (files need --step)
    #[arg(value_name = "ID|FILE")]
    pub targets: Vec<String>,
    /// The step whose checks to run [default: each subject's current step]
    #[arg(long, value_name = "STEP")]
    pub step: Option<String>,
    /// Check every registered subject
    #[arg(long, conflicts_with = "targets")]
    pub all: bool,
    /// A human gate awaiting approval fails too (exit 1)
    #[arg(long)]
    pub require_approval: bool,
    /// The artifact the files stand for [default: the first one the step's checks read]
    #[arg(long, value_name = "NAME")]
    pub artifact: Option<String>,
    /// Another artifact the checks of the files read (a trace's spec, a plugin's ctx:artifact), as NAME=PATH; repeatable
    #[arg(long, value_name = "NAME=PATH")]
    pub artifact_file: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Warnings fail the gate too
    #[arg(long)]
    pub strict: bool,
    /// Accept a run that checks nothing (no subject registered yet), which otherwise exits 2
    #[arg(long)]
    pub allow_empty: bool,
    /// Check again whenever a document, the playbook or a plugin changes, until Ctrl-C
    #[arg(long)]
    pub watch: bool,
    #[command(flatten)]
    pub options: OptionsHere,
}

/// The output formats of `check`, `lint` and `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: grouped by file, with code frames, hints and a summary
    Text,
    /// Tollgate's own JSON, as documented
    Json,
    /// SARIF 2.1.0, for code scanning
    Sarif,
    /// JUnit XML, for test report viewers
    Junit,
    /// GitHub Actions workflow commands: annotations on the offending lines
    Github,
    /// GitHub Markdown for a job summary or a pull-request comment
    Markdown,
}

/// Parses the arguments and runs the command; the process's exit code.
pub fn main() -> i32 {
    let cli = match parse_arguments() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                EXIT_UNUSABLE
            } else {
                EXIT_OK
            };
            let _ = error.print();
            return code;
        }
    };
    run(cli)
}

/// The command line, as `Cli::try_parse` reads it, but with clap's tree of
/// every command and option left for the end of the process to release:
/// freeing it piece by piece costs a short run some 150,000 instructions.
fn parse_arguments() -> Result<Cli, clap::Error> {
    let mut command = std::mem::ManuallyDrop::new(<Cli as clap::CommandFactory>::command());
    let mut matches = command.try_get_matches_from_mut(std::env::args_os())?;
    // The shared options are read once, over every level; the derive's
    // `Cli` would read the top level's a second time, only to be replaced.
    let global = GlobalArgs::resolved(&matches).map_err(|error| error.format(&mut command))?;
    let command_to_run = <Command as clap::FromArgMatches>::from_arg_matches_mut(&mut matches)
        .map_err(|error| error.format(&mut command))?;
    Ok(Cli {
        global,
        command: command_to_run,
    })
}

pub fn run(cli: Cli) -> i32 {
    let context = Context::new(&cli.global);
    match cli.command {
        Command::Init(args) => init::run(&context, &args),
        Command::Lint(args) => lint_command(&context, &args),
        Command::Check(args) => check_command(&context, &args),
        Command::Lsp(_) => crate::lsp::serve(crate::lsp::Config {
            root: context.root.clone(),
            playbook: context.playbook.clone(),
            vars: context.vars.clone(),
            options: context.options(),
        }),
        Command::New(args) => subjects::new(&context, &args),
        Command::Scaffold(args) => subjects::scaffold(&context, &args),
        Command::Status(args) => subjects::status(&context, &args),
        Command::Board(args) => board::run(&context, &args),
        Command::Show(args) => subjects::show(&context, &args),
        Command::Advance(args) => subjects::advance(&context, &args),
        Command::Approve(args) => subjects::approve(&context, &args),
        Command::Reject(args) => subjects::reject(&context, &args),
        Command::Verify(args) => verify::run(&context, &args),
        Command::Graph(args) => subjects::graph(&context, &args),
        Command::Plugin(PluginCommand::Test(args)) => plugin_test(&context, &args),
        Command::Mcp(_) => mcp_command(&context),
        Command::Agents(args) => agents_command(&context, &args),
        Command::Schema(_) => output_failed(print_text(schema::schema_text())).unwrap_or(EXIT_OK),
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut command, "tollgate", &mut script);
            output_failed(std::io::stdout().lock().write_all(&script)).unwrap_or(EXIT_OK)
        }
        Command::Man(args) => man(args.command.as_deref()),
    }
}

/// Prints the manual page of tollgate, or of one of its commands.
fn man(command: Option<&str>) -> i32 {
    let mut tollgate = <Cli as clap::CommandFactory>::command();
    // Building makes every command's options, which wait until a command is
    // used, for its page.
    tollgate.build();
    let page = match command {
        None => clap_mangen::Man::new(tollgate).title("TOLLGATE"),
        Some(name) => {
            let Some(command) = tollgate.find_subcommand(name) else {
                let known: Vec<&str> = tollgate.get_subcommands().map(|c| c.get_name()).collect();
                complain(format_args!(
                    "no command `{name}` (commands: {})",
                    known.join(", ")
                ));
                return EXIT_UNUSABLE;
            };
            let full = format!("tollgate-{name}");
            clap_mangen::Man::new(command.clone().name(full.clone()))
                .title(full.to_uppercase())
                .source(concat!("tollgate ", env!("CARGO_PKG_VERSION")))
        }
    };
    output_failed(page.render(&mut std::io::stdout().lock())).unwrap_or(EXIT_OK)
}

/// What every command needs from the global options.
struct Context {
    root: PathBuf,
    playbook: PathBuf,
    vars: Vec<(String, serde_json::Value)>,
    limits: LimitOverrides,
    color: ColorChoice,
    quiet: bool,
}

impl Context {
    fn new(global: &GlobalArgs) -> Self {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let root = global
            .root
            .clone()
            .unwrap_or_else(|| crate::confined::repository_root(&cwd));
        let playbook = global
            .playbook
            .clone()
            .unwrap_or_else(|| root.join("tollgate.yaml"));
        let color = match global.color {
            ColorWhen::Always => ColorChoice::Always,
            ColorWhen::Never => ColorChoice::Never,
            ColorWhen::Auto if std::io::stdout().is_terminal() => ColorChoice::Auto,
            ColorWhen::Auto => ColorChoice::Never,
        };
        Self {
            root,
            playbook,
            vars: global.vars.clone(),
            limits: LimitOverrides {
                timeout_ms: global.plugin_timeout_ms,
                memory_mib: global.plugin_memory_mib,
            },
            color,
            quiet: global.quiet,
        }
    }

    /// Options for commands that judge steps without `--strict`.
    fn options(&self) -> Options {
        Options {
            strict: false,
            limits: self.limits,
        }
    }

    /// Standard output for people, control characters escaped.
    fn stdout(&self) -> Escaping<StandardStream> {
        Escaping::new(StandardStream::stdout(self.color))
    }

    /// Standard output for much text: written a line at a time where a
    /// person watches it, in large blocks into a file or a pipe.
    fn stdout_buffered(&self) -> Escaping<Box<dyn WriteColor>> {
        Escaping::new(match std::io::stdout().is_terminal() {
            true => Box::new(StandardStream::stdout(self.color)),
            false => Box::new(BufferedStandardStream::stdout(self.color)),
        })
    }
}

pub use crate::source::display_path;

fn lint_command(context: &Context, args: &LintArgs) -> i32 {
    if args.format == Format::Markdown {
        complain(format_args!(
            "lint has no markdown format; use text, json, sarif, junit or github"
        ));
        return EXIT_UNUSABLE;
    }
    let files = if args.playbooks.is_empty() {
        vec![context.playbook.clone()]
    } else {
        args.playbooks.clone()
    };
    let mut linted = Vec::new();
    let mut sources = Sources::default();
    let mut unusable = false;
    for file in &files {
        let outcome = service::lint_playbook(file, &display_path(file));
        for (path, text) in outcome.sources {
            sources.insert(path, text);
        }
        unusable |= outcome.unusable;
        linted.push(outcome.file);
    }
    let counts = Counts::of(linted.iter().flat_map(|file| &file.diagnostics));
    let written = match args.format {
        Format::Text => {
            report::write_lint_text(&linted, &sources, context.quiet, &mut context.stdout())
        }
        Format::Json => {
            let all: Vec<Diagnostic> = linted.into_iter().flat_map(|f| f.diagnostics).collect();
            print_json(&report::lint_json(&all))
        }
        machine => {
            // Code scanning and annotations resolve paths from the root.
            for file in &mut linted {
                file.path = root_relative(&context.root, Path::new(&file.path));
                for diagnostic in &mut file.diagnostics {
                    diagnostic.path = root_relative(&context.root, Path::new(&diagnostic.path));
                }
            }
            match machine {
                Format::Sarif => print_json(&report::lint_sarif(&linted)),
                Format::Junit => report::lint_junit(&linted).and_then(print_text),
                _ => {
                    report::write_lint_github(&linted, &mut Escaping::new(std::io::stdout().lock()))
                }
            }
        }
    };
    if let Some(code) = output_failed(written) {
        return code;
    }
    if unusable {
        EXIT_UNUSABLE
    } else if counts.errors > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// Loads the playbook every command but `lint` runs on; on failure, the
/// diagnostics are printed and the exit code returned.
fn load_playbook(context: &Context) -> Result<LoadedPlaybook, i32> {
    let display = display_path(&context.playbook);
    service::load_playbook(&context.playbook, &display, &context.vars).map_err(|error| {
        let (diagnostics, sources) = error.diagnostics();
        let mut err = Escaping::new(StandardStream::stderr(context.color));
        let _ = report::write_diagnostics(diagnostics, &sources, &mut err);
        let _ = writeln!(err, "tollgate: {error}");
        EXIT_UNUSABLE
    })
}

fn check_command(context: &Context, args: &CheckArgs) -> i32 {
    if args.watch {
        return watch::run(context, args);
    }
    check_once(context, args)
}

/// One run of `check`; `--watch` makes many.
fn check_once(context: &Context, args: &CheckArgs) -> i32 {
    let loaded = match load_playbook(context) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let options = Options {
        strict: args.strict,
        limits: context.limits,
    };
    let files = args.targets.iter().filter(|t| names_a_file(t)).count();
    if files == 0 && !args.artifact_file.is_empty() {
        complain(format_args!(
            "--artifact-file gives the files checked with --step another artifact; a subject's artifacts are its own"
        ));
        return EXIT_UNUSABLE;
    }
    if files == 0 {
        return subjects::check(context, &loaded, args, options);
    }
    if files != args.targets.len() {
        complain(format_args!(
            "give either subject ids or files to `check`, not both"
        ));
        return EXIT_UNUSABLE;
    }
    let Some(step) = &args.step else {
        complain(format_args!(
            "checking files needs --step STEP: which step's gate do they face?"
        ));
        return EXIT_UNUSABLE;
    };
    // Absolute, as the root may not be the working folder.
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut artifact_files = Vec::new();
    for given in &args.artifact_file {
        match given
            .split_once('=')
            .filter(|(n, f)| !n.is_empty() && !f.is_empty())
        {
            Some((name, file)) => artifact_files.push((
                name.to_string(),
                cwd.join(file),
                root_relative(&context.root, Path::new(file)),
            )),
            None => {
                let error = crate::engine::RunError::ArtifactFile {
                    artifact: given.clone(),
                    path: String::new(),
                    why: "give it as NAME=PATH".into(),
                };
                complain(format_args!("{}: {error}", loaded.display));
                return EXIT_UNUSABLE;
            }
        }
    }
    let files = Targets {
        named: &args.targets,
        cwd,
        root: context
            .root
            .canonicalize()
            .unwrap_or_else(|_| context.root.clone()),
    };
    let bar = progress::bar(args.targets.len(), context.quiet);
    let checked = service::check_files(
        &loaded,
        &context.root,
        step,
        args.artifact.as_deref(),
        &artifact_files,
        options,
        &files,
        &|| {
            if let Some(bar) = &bar {
                bar.inc(1);
            }
        },
        check_output(context, &loaded, args),
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match checked {
        Ok(checked) => conclude(
            checked.consumed,
            checked.tally,
            args,
            checked.nothing_judged,
        ),
        Err(error) => {
            complain(format_args!("{}: {error}", loaded.display));
            EXIT_UNUSABLE
        }
    }
}

/// The files named on the command line, each made absolute and shown
/// relative to the root only when its turn comes.
struct Targets<'a> {
    named: &'a [String],
    cwd: PathBuf,
    /// The root, its links resolved.
    root: PathBuf,
}

impl crate::engine::FileList for Targets<'_> {
    fn count(&self) -> usize {
        self.named.len()
    }

    fn file(&self, index: usize) -> PathBuf {
        self.cwd.join(&self.named[index])
    }

    fn shown(&self, index: usize, real: Option<&Path>) -> String {
        let named = Path::new(&self.named[index]);
        match real {
            Some(real) => shown_in_root(&self.root, real, named),
            None => shown_from_root(&self.root, &self.file(index), named),
        }
    }
}

fn mcp_command(context: &Context) -> i32 {
    let setup = crate::mcp::Setup {
        root: context.root.clone(),
        playbook: context.playbook.clone(),
        playbook_display: display_path(&context.playbook),
        vars: context.vars.clone(),
        limits: context.limits,
    };
    match crate::mcp::serve(setup) {
        Ok(()) => EXIT_OK,
        Err(error) => {
            complain(format_args!("the MCP server stopped: {error}"));
            EXIT_UNUSABLE
        }
    }
}

fn agents_command(context: &Context, args: &AgentsArgs) -> i32 {
    use crate::agents::{self, Outcome};
    let loaded = match load_playbook(context) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let chosen: Vec<&str> = match args.agents.is_empty() {
        true => agents::AGENTS.to_vec(),
        false => args.agents.iter().map(String::as_str).collect(),
    };
    // Agents start the server in the project: a playbook elsewhere than its
    // default place is named relative to the root.
    let relative = root_relative(&context.root, &context.playbook);
    let playbook_path = (relative != "tollgate.yaml").then_some(relative.as_str());
    let files = agents::files(&loaded.playbook, playbook_path, &chosen);
    let synced = agents::sync(&context.root, &files, args.check, args.force);
    let mut lines = Vec::new();
    let mut code = EXIT_OK;
    for (path, outcome) in &synced {
        let line = match outcome {
            Outcome::Written => format!("wrote {path}"),
            Outcome::UpToDate => continue,
            Outcome::Missing => format!("{path} is missing"),
            Outcome::OutOfDate => format!("{path} is out of date"),
            Outcome::Edited if args.check => format!("{path} was edited by a person"),
            Outcome::Edited => {
                format!("left {path} alone: a person edited it (--force overwrites it)")
            }
            Outcome::Failed(why) => {
                complain(format_args!("{path}: {why}"));
                code = EXIT_UNUSABLE;
                continue;
            }
        };
        if *outcome != Outcome::Written {
            code = code.max(EXIT_FAILED);
        }
        lines.push(line);
    }
    let fresh = synced
        .iter()
        .filter(|(_, o)| *o == Outcome::UpToDate)
        .count();
    lines.push(match (args.check, code) {
        (true, EXIT_OK) => format!("all {} agent files are up to date", synced.len()),
        (true, _) => "run `tollgate agents` to write them".to_string(),
        (false, _) => format!(
            "{fresh} of {} agent files were already up to date",
            synced.len()
        ),
    });
    say(format_args!("{}", lines.join("\n"))).max(code)
}

fn plugin_test(context: &Context, args: &PluginTestArgs) -> i32 {
    let report = crate::lua::test_plugin(&args.plugin, context.limits);
    let written = write!(Escaping::new(std::io::stdout().lock()), "{report}");
    match output_failed(written) {
        Some(code) => code,
        None if report.passed() => EXIT_OK,
        None => EXIT_FAILED,
    }
}

/// Whether a `check` argument names a file rather than a subject.
fn names_a_file(target: &str) -> bool {
    target.contains(['/', '\\']) || target.ends_with(".md") || Path::new(target).is_file()
}

/// Prints check results in the chosen format; the exit code they mean.
/// The exit code of a check whose results were written (`written`) and
/// add up to `tally`.
fn conclude(
    written: std::io::Result<()>,
    tally: service::Tally,
    args: &CheckArgs,
    nothing_judged: Option<String>,
) -> i32 {
    if let Some(code) = output_failed(written) {
        return code;
    }
    // A run that judged nothing passes nothing: in CI, a wrong root or an
    // empty state folder must not stay green.
    if let Some(why) = nothing_judged.filter(|_| !args.allow_empty) {
        complain(format_args!(
            "nothing was checked: {why}\n(--allow-empty accepts a run that checks nothing, as in a repository before its first subject)"
        ));
        return EXIT_UNUSABLE;
    }
    if tally.unreadable {
        EXIT_UNUSABLE
    } else if tally.failed || (args.require_approval && tally.awaiting_approval) {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// How `check` writes its results, for files and subjects alike.
fn check_output<'a>(
    context: &'a Context,
    loaded: &'a LoadedPlaybook,
    args: &'a CheckArgs,
) -> impl for<'w> FnOnce(&mut dyn Iterator<Item = Handed<'w, StepResult>>) -> std::io::Result<()> + 'a
{
    |results| {
        write_results(
            context,
            &loaded.playbook.name,
            results,
            args.format,
            args.strict,
        )
    }
}

/// Writes step results in `format`, each as it comes where the format
/// allows (text, JSON, GitHub); `strict` as the results were judged.
fn write_results(
    context: &Context,
    playbook: &str,
    results: &mut dyn Iterator<Item = Handed<'_, StepResult>>,
    format: Format,
    strict: bool,
) -> std::io::Result<()> {
    // The formats written at the end keep each result's findings, not the
    // documents they point into: only text frames findings in their lines.
    let mut gathered = || -> Vec<_> {
        results
            .map(|result| result.into_inner().without_sources())
            .collect()
    };
    match format {
        Format::Text => {
            let mut out = context.stdout_buffered();
            report::write_check_text(results, context.quiet, &mut out)?;
            out.flush()
        }
        Format::Json => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            report::write_check_json(playbook, results, &mut out)?;
            out.flush()
        }
        Format::Github => {
            let mut out = Escaping::new(std::io::BufWriter::new(std::io::stdout().lock()));
            report::write_check_github(results, context.quiet, &mut out)?;
            out.flush()
        }
        Format::Sarif => print_json(&report::check_sarif(&gathered())),
        Format::Junit => report::check_junit(&gathered(), strict).and_then(print_text),
        Format::Markdown => print_text(report::check_markdown(playbook, &gathered())),
    }
}

/// `Some(exit code)` when writing the output failed. A closed pipe (`| head`)
/// is not an error: the reader has what it wanted.
fn output_failed(written: std::io::Result<()>) -> Option<i32> {
    match written {
        Ok(()) => None,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => None,
        Err(error) => {
            complain(format_args!("cannot write the output: {error}"));
            Some(EXIT_UNUSABLE)
        }
    }
}

/// Says `message` on standard error for people, control characters
/// escaped. A standard error that cannot be written to is left alone:
/// there is nowhere left to say so, and it must not abort the command.
pub(crate) fn complain(message: std::fmt::Arguments) {
    let _ = writeln!(
        Escaping::new(std::io::stderr().lock()),
        "tollgate: {message}"
    );
}

/// Writes one line for people on standard output, control characters
/// escaped: the exit code, `EXIT_OK` unless the output failed.
pub(crate) fn say(line: std::fmt::Arguments) -> i32 {
    output_failed(writeln!(Escaping::new(std::io::stdout().lock()), "{line}")).unwrap_or(EXIT_OK)
}

/// A path relative to the project root, with `/`, as results report it.
fn root_relative(root: &Path, file: &Path) -> String {
    let absolute = std::env::current_dir()
        .map(|cwd| cwd.join(file))
        .unwrap_or_else(|_| file.to_path_buf());
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    shown_from_root(&root, &absolute, file)
}

/// `absolute` (the file named as `named`) relative to `root`, whose links
/// are resolved already; as named when it lies outside.
fn shown_from_root(root: &Path, absolute: &Path, named: &Path) -> String {
    let absolute = absolute
        .canonicalize()
        .unwrap_or_else(|_| absolute.to_path_buf());
    shown_in_root(root, &absolute, named)
}

/// [`shown_from_root`] of a file whose links are resolved already (`real`).
fn shown_in_root(root: &Path, real: &Path, named: &Path) -> String {
    match real.strip_prefix(root) {
        Ok(relative) => relative.to_string_lossy().replace('\\', "/"),
        Err(_) => display_path(named),
    }
}

fn print_json(value: &impl serde::Serialize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}

fn print_text(text: String) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}
