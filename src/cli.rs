//! The command line: clap definitions, and each command as a thin call into
//! the library. Every command returns an exit code; nothing here panics on
//! bad input.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream, WriteColor};

use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::{Options, StatelessRun};
use crate::lua::{LimitOverrides, PluginSet};
use crate::playbook::{LoadStage, LoadedPlaybook, lint, schema};
use crate::report::{self, Counts, Sources};

mod init;
mod subjects;
pub use init::InitArgs;
pub use subjects::{
    AdvanceArgs, ApproveArgs, GraphArgs, GraphFormat, NewArgs, ShowArgs, StatusArgs,
};

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
    after_help = "Examples:\n  tollgate lint playbooks/specflow.yaml\n  tollgate schema > playbook.schema.json\n\n\
Exit codes: 0 nothing failed, 1 something failed (or lint found an error), 2 the input could not be used."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The playbook file [default: $TOLLGATE_PLAYBOOK, else tollgate.yaml at the project root]
    #[arg(long, global = true, env = "TOLLGATE_PLAYBOOK", value_name = "PATH")]
    pub playbook: Option<PathBuf>,
    /// The project root [default: the nearest folder upward that holds .git, else the current folder]
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Set a playbook variable, overriding its default in `vars:` (repeatable); values that read as JSON (`true`, `3`) keep that type
    #[arg(long = "var", global = true, value_name = "KEY=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, serde_json::Value)>,
    /// Time budget of each plugin call, in milliseconds [default: the playbook's `limits:`, else 1000]
    #[arg(long, global = true, value_name = "MS")]
    pub plugin_timeout_ms: Option<u64>,
    /// Memory limit of each plugin call, in MiB [default: the playbook's `limits:`, else 64]
    #[arg(long, global = true, value_name = "MIB")]
    pub plugin_memory_mib: Option<u64>,
    /// When to colour the output
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// Print only what failed, and no summary
    #[arg(long, short, global = true)]
    pub quiet: bool,
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
    #[command(
        after_help = "Examples:\n  tollgate lint\n  tollgate lint playbooks/*.yaml --format json"
    )]
    Lint(LintArgs),
    /// Check subjects' current (or named) step, or documents against a step's gate
    #[command(
        after_help = "Examples:\n  tollgate check F-11            the current step of feature F-11\n  \
tollgate check --all           every registered subject\n  \
tollgate check --step plan specs/*/plan.md\n  \
tollgate check --step plan --format json --strict docs/plan.md\n\n\
Arguments that name files (a path with `/`, a `.md` file, or a file that exists) are checked \
as the step's primary artifact (the first artifact its checks read; --artifact chooses \
another), with no subject: prerequisites are not evaluated, and a human gate whose checks \
pass reports awaiting_approval. Other arguments are subject ids."
    )]
    Check(CheckArgs),
    /// Register a subject (a feature) at the playbook's first phase
    #[command(after_help = "Example:\n  tollgate new F-11 --title \"Vector Collector Service\"")]
    New(NewArgs),
    /// Each subject's phase, next step and that step's verdict
    #[command(after_help = "Examples:\n  tollgate status\n  tollgate status F-11 --format json")]
    Status(StatusArgs),
    /// Render a step's document (Markdown), optionally with each check's verdict and evidence
    #[command(
        after_help = "Examples:\n  tollgate show plan\n  tollgate show plan --subject F-11 --with-results"
    )]
    Show(ShowArgs),
    /// Check a subject's current step and, when it passes, move it to the next phase
    #[command(after_help = "Example:\n  tollgate advance F-11")]
    Advance(AdvanceArgs),
    /// Record an approval of a human gate, pinned to the SHA-256 of the step's documents, then advance
    #[command(
        after_help = "Example:\n  tollgate approve F-11 --step plan --by ana --note \"architecture reviewed\""
    )]
    Approve(ApproveArgs),
    /// Work with Lua plugins: `plugin test PLUGIN` runs a plugin against its sample documents
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Draw the playbook's phases and steps as a diagram
    #[command(
        after_help = "Examples:\n  tollgate graph\n  tollgate graph --format dot | dot -Tsvg > playbook.svg"
    )]
    Graph(GraphArgs),
    /// Print the playbook JSON Schema (draft 2020-12)
    #[command(
        after_help = "Editors pick the schema up from a first line such as:\n  \
# yaml-language-server: $schema=../schemas/playbook.schema.json"
    )]
    Schema,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Run a plugin against the sample documents of PLUGIN.test.yaml and compare its findings
    #[command(
        after_help = "Example:\n  tollgate plugin test plugins/risk_coverage.lua\n\n\
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
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Playbook files [default: the playbook of --playbook]
    pub playbooks: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
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
    /// Output format
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
    /// Warnings fail the gate too
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
}

/// Parses the arguments and runs the command; the process's exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
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

pub fn run(cli: Cli) -> i32 {
    let context = Context::new(&cli.global);
    match cli.command {
        Command::Init(args) => init::run(&context, &args),
        Command::Lint(args) => lint_command(&context, &args),
        Command::Check(args) => check_command(&context, &args),
        Command::New(args) => subjects::new(&context, &args),
        Command::Status(args) => subjects::status(&context, &args),
        Command::Show(args) => subjects::show(&context, &args),
        Command::Advance(args) => subjects::advance(&context, &args),
        Command::Approve(args) => subjects::approve(&context, &args),
        Command::Graph(args) => subjects::graph(&context, &args),
        Command::Plugin(PluginCommand::Test(args)) => plugin_test(&context, &args),
        Command::Schema => {
            print!("{}", schema::schema_text());
            EXIT_OK
        }
    }
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
        let root = global.root.clone().unwrap_or_else(|| find_root(&cwd));
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

    fn stdout(&self) -> StandardStream {
        StandardStream::stdout(self.color)
    }
}

/// The nearest folder from `start` upward that holds `.git`.
fn find_root(start: &Path) -> PathBuf {
    start
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(start)
        .to_path_buf()
}

/// A path as messages show it: relative to the working folder when it is
/// inside it, with `/` separators.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd
        .as_deref()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path);
    shown.to_string_lossy().replace('\\', "/")
}

fn lint_command(context: &Context, args: &LintArgs) -> i32 {
    let files = if args.playbooks.is_empty() {
        vec![context.playbook.clone()]
    } else {
        args.playbooks.clone()
    };
    let mut diagnostics = Vec::new();
    let mut sources = Sources::default();
    let mut unusable = false;
    for file in &files {
        let display = display_path(file);
        match LoadedPlaybook::load(file, &display) {
            Ok(loaded) => {
                let lint = lint::lint(&loaded);
                diagnostics.extend(lint.diagnostics);
                for (path, text) in lint.extra_sources {
                    sources.insert(path, text);
                }
                sources.insert(display, loaded.source);
            }
            Err(error) => {
                unusable |= error.stage == LoadStage::Unusable;
                diagnostics.extend(error.diagnostics);
                if let Some(text) = error.text {
                    sources.insert(error.display, text);
                }
            }
        }
    }
    let counts = Counts::of(&diagnostics);
    let written = match args.format {
        LintFormat::Json => print_json(&report::lint_json(&diagnostics)),
        LintFormat::Text => {
            let mut out = context.stdout();
            print_lint_text(
                context,
                &diagnostics,
                &sources,
                counts,
                files.len(),
                &mut out,
            )
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

fn print_lint_text(
    context: &Context,
    diagnostics: &[Diagnostic],
    sources: &Sources,
    counts: Counts,
    files: usize,
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let shown: Vec<Diagnostic> = diagnostics
        .iter()
        .filter(|d| !context.quiet || d.severity == Severity::Error)
        .cloned()
        .collect();
    report::write_diagnostics(&shown, sources, out)?;
    if !context.quiet {
        let noun = if files == 1 { "playbook" } else { "playbooks" };
        writeln!(out, "{} in {files} {noun}", counts.summary())?;
    }
    Ok(())
}

/// Loads the playbook every command but `lint` runs on; on failure, the
/// diagnostics are printed and the exit code returned.
fn load_playbook(context: &Context) -> Result<LoadedPlaybook, i32> {
    let display = display_path(&context.playbook);
    let mut loaded = LoadedPlaybook::load(&context.playbook, &display).map_err(|error| {
        let mut sources = Sources::default();
        if let Some(text) = error.text {
            sources.insert(error.display, text);
        }
        let mut err = StandardStream::stderr(context.color);
        let _ = report::write_diagnostics(&error.diagnostics, &sources, &mut err);
        let _ = writeln!(
            err,
            "tollgate: the playbook does not load; run `tollgate lint` for details"
        );
        EXIT_UNUSABLE
    })?;
    for (key, value) in &context.vars {
        loaded.playbook.vars.insert(key.clone(), value.clone());
    }
    Ok(loaded)
}

fn check_command(context: &Context, args: &CheckArgs) -> i32 {
    let loaded = match load_playbook(context) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let options = Options {
        strict: args.strict,
        limits: context.limits,
    };
    let files = args.targets.iter().filter(|t| names_a_file(t)).count();
    if files == 0 {
        return subjects::check(context, &loaded, args, options);
    }
    if files != args.targets.len() {
        eprintln!("tollgate: give either subject ids or files to `check`, not both");
        return EXIT_UNUSABLE;
    }
    let Some(step) = &args.step else {
        eprintln!("tollgate: checking files needs --step STEP: which step's gate do they face?");
        return EXIT_UNUSABLE;
    };
    let plugins = PluginSet::load(
        loaded.folder(),
        &loaded.playbook.plugins,
        &context.root,
        &loaded.playbook.limits,
        context.limits,
    );
    let run = match StatelessRun::new(&loaded.playbook, step, args.artifact.as_deref(), options) {
        Ok(run) => run.with_plugins(&plugins),
        Err(error) => {
            eprintln!("tollgate: {}: {error}", loaded.display);
            return EXIT_UNUSABLE;
        }
    };
    let files: Vec<(PathBuf, String)> = args
        .targets
        .iter()
        .map(|file| {
            (
                PathBuf::from(file),
                root_relative(&context.root, Path::new(file)),
            )
        })
        .collect();
    let results = run.check_files(&files);
    report_results(context, &loaded, &results, args)
}

fn plugin_test(context: &Context, args: &PluginTestArgs) -> i32 {
    let report = crate::lua::test_plugin(&args.plugin, context.limits);
    let written = write!(std::io::stdout().lock(), "{report}");
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
fn report_results(
    context: &Context,
    loaded: &LoadedPlaybook,
    results: &[crate::engine::StepResult],
    args: &CheckArgs,
) -> i32 {
    let written = match args.format {
        LintFormat::Json => print_json(&report::check_json(&loaded.playbook.name, results)),
        LintFormat::Text => report::write_check_text(results, context.quiet, &mut context.stdout()),
    };
    if let Some(code) = output_failed(written) {
        return code;
    }
    let awaiting = |r: &&crate::engine::StepResult| {
        args.require_approval && r.verdict == crate::engine::Verdict::AwaitingApproval
    };
    if results.iter().any(|r| r.unreadable) {
        EXIT_UNUSABLE
    } else if results.iter().any(|r| r.verdict.fails()) || results.iter().any(|r| awaiting(&r)) {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// `Some(exit code)` when writing the output failed. A closed pipe (`| head`)
/// is not an error: the reader has what it wanted.
fn output_failed(written: std::io::Result<()>) -> Option<i32> {
    match written {
        Ok(()) => None,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => None,
        Err(error) => {
            eprintln!("tollgate: cannot write the output: {error}");
            Some(EXIT_UNUSABLE)
        }
    }
}

/// A path relative to the project root, with `/`, as results report it.
fn root_relative(root: &Path, file: &Path) -> String {
    let absolute = std::env::current_dir()
        .map(|cwd| cwd.join(file))
        .unwrap_or_else(|_| file.to_path_buf());
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let absolute = absolute.canonicalize().unwrap_or(absolute);
    match absolute.strip_prefix(&root) {
        Ok(relative) => relative.to_string_lossy().replace('\\', "/"),
        Err(_) => display_path(file),
    }
}

fn print_json(value: &serde_json::Value) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)
}
