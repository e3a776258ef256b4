//! What coding agents are told: the loop every step is worked in, for the
//! MCP server's prompts and for the command files `tollgate agents` writes.

use std::path::Path;

use sha2::Digest as _;

use crate::playbook::{Gate, Step};

/// How the agent reaches Tollgate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The MCP server's tools, the commands as a fallback.
    Tools,
    /// The command line.
    Commands,
}

/// The show → write → check → advance loop of `step` for `subject` (an id,
/// or an agent's argument placeholder), in Markdown.
pub fn the_loop(step: &Step, subject: &str, via: Via) -> String {
    let id = &step.id;
    let tool = |name: &str| match via {
        Via::Tools => format!(" (or the `{name}` tool)"),
        Via::Commands => String::new(),
    };
    let show = format!("tollgate show {id} --subject {subject}");
    let check = format!("tollgate check {subject} --step {id} --format json");
    let last = match step.gate {
        Gate::Automated => format!(
            "4. The gate is automated: run `tollgate advance {subject}`{} to move on to the next phase.",
            tool("advance")
        ),
        Gate::Human => format!(
            "4. The gate is human: stop here. Tell the person what to review, and never approve it on their behalf; a person approves it with `tollgate approve {subject} --step {id} --by NAME`."
        ),
    };
    format!(
        "## Working this step\n\n\
1. Run `{show}`{}: the step document to follow.\n\
2. Write the step's documents at the paths it names.\n\
3. Run `{check}`{}. Fix every finding at the line it names, then check again; repeat until nothing fails.\n\
{last}\n",
        tool("show_step"),
        tool("check"),
    )
}

/// The agents `tollgate agents` writes command files for, by name.
pub const AGENTS: &[&str] = &[
    "claude", "copilot", "cursor", "gemini", "codex", "opencode", "windsurf",
];

/// How an agent reads a command file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Markdown; front matter with a description when the agent reads one.
    Markdown { front_matter: bool },
    /// TOML with `description` and `prompt`.
    Toml,
}

/// One agent's commands: where they go, how they are written, and how the
/// text typed after the command reaches it.
struct Agent {
    name: &'static str,
    /// The folder, relative to the root.
    folder: &'static str,
    /// Appended to `tollgate-STEP`.
    extension: &'static str,
    format: Format,
    /// The placeholder the agent replaces with the command's arguments;
    /// `None` when it only appends them to the text.
    placeholder: Option<&'static str>,
    /// Front matter lines besides the description.
    extra: &'static [&'static str],
}

const fn agent(
    name: &'static str,
    folder: &'static str,
    extension: &'static str,
    format: Format,
    placeholder: Option<&'static str>,
    extra: &'static [&'static str],
) -> Agent {
    Agent {
        name,
        folder,
        extension,
        format,
        placeholder,
        extra,
    }
}

const MD: Format = Format::Markdown { front_matter: true };
const HINT: &[&str] = &["argument-hint: SUBJECT-ID"];

/// Each agent's documented project folder, format and placeholder.
const AGENT_FILES: &[Agent] = &[
    agent(
        "claude",
        ".claude/commands",
        ".md",
        MD,
        Some("$ARGUMENTS"),
        HINT,
    ),
    agent(
        "copilot",
        ".github/prompts",
        ".prompt.md",
        MD,
        Some("${input:subject}"),
        &["agent: agent", "argument-hint: SUBJECT-ID"],
    ),
    // Cursor reads plain Markdown and adds what follows the command.
    agent(
        "cursor",
        ".cursor/commands",
        ".md",
        Format::Markdown {
            front_matter: false,
        },
        None,
        &[],
    ),
    agent(
        "gemini",
        ".gemini/commands",
        ".toml",
        Format::Toml,
        Some("{{args}}"),
        &[],
    ),
    agent(
        "codex",
        ".codex/prompts",
        ".md",
        MD,
        Some("$ARGUMENTS"),
        HINT,
    ),
    agent(
        "opencode",
        ".opencode/commands",
        ".md",
        MD,
        Some("$ARGUMENTS"),
        &[],
    ),
    agent("windsurf", ".windsurf/workflows", ".md", MD, None, &[]),
];

/// The MCP registration files, the agents that read each, and the key
/// their servers sit under.
const REGISTRATIONS: &[(&str, &[&str], &str)] = &[
    (".mcp.json", &["claude"], "mcpServers"),
    (".vscode/mcp.json", &["copilot"], "servers"),
    (".cursor/mcp.json", &["cursor"], "mcpServers"),
];

/// The words that mark a command file as generated, before its hash.
const MARK: &str = "tollgate-hash:";

/// One file `tollgate agents` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentFile {
    /// Relative to the root, with `/`.
    pub path: String,
    pub kind: FileKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    /// A whole command file, marked as generated.
    Command(String),
    /// The `tollgate` server's entry in an MCP registration file, under
    /// `key`; the rest of the file is left as it is.
    Registration {
        key: String,
        entry: serde_json::Value,
    },
}

/// The files for `agents` (names from [`AGENTS`]) on `playbook`, whose
/// path relative to the root is `playbook_path` (`None` at the default
/// place, where every command finds it).
pub fn files(
    playbook: &crate::playbook::Playbook,
    playbook_path: Option<&str>,
    agents: &[&str],
) -> Vec<AgentFile> {
    let mut files = Vec::new();
    for agent in AGENT_FILES.iter().filter(|a| agents.contains(&a.name)) {
        for step in &playbook.steps {
            files.push(AgentFile {
                path: format!("{}/tollgate-{}{}", agent.folder, step.id, agent.extension),
                kind: FileKind::Command(command_file(agent, playbook, step, playbook_path)),
            });
        }
    }
    for (path, readers, key) in REGISTRATIONS {
        if readers.iter().any(|r| agents.contains(r)) {
            files.push(AgentFile {
                path: path.to_string(),
                kind: FileKind::Registration {
                    key: key.to_string(),
                    entry: registration(key, playbook_path),
                },
            });
        }
    }
    files
}

/// The server's entry: `tollgate mcp`, started in the project.
fn registration(key: &str, playbook_path: Option<&str>) -> serde_json::Value {
    let mut args = vec!["mcp".to_string()];
    if let Some(path) = playbook_path {
        args.extend(["--playbook".to_string(), path.to_string()]);
    }
    match key {
        // VS Code names the transport.
        "servers" => serde_json::json!({"type": "stdio", "command": "tollgate", "args": args}),
        _ => serde_json::json!({"command": "tollgate", "args": args}),
    }
}

/// A command file's text, marked with the hash of the rest of it.
fn command_file(
    agent: &Agent,
    playbook: &crate::playbook::Playbook,
    step: &Step,
    playbook_path: Option<&str>,
) -> String {
    let title = step.title.as_deref().unwrap_or(&step.id);
    let noun = &playbook.subject.noun;
    let description = format!(
        "{title}: the `{}` step of the {} playbook",
        step.id, playbook.name
    );
    let (subject, given) = match agent.placeholder {
        Some(placeholder) => (
            placeholder.to_string(),
            format!("The {noun}: {placeholder}."),
        ),
        None => (
            "ID".to_string(),
            format!("The {noun} is the id given with this command (ID below)."),
        ),
    };
    let tollgate = match playbook_path {
        Some(path) => format!(" Every command below takes `--playbook {path}`."),
        None => String::new(),
    };
    let objective = step
        .objective
        .as_deref()
        .map_or(String::new(), |o| format!("{o}\n\n"));
    let body = format!(
        "# {title}\n\n{objective}{given} Without one, ask which {noun} to work on (`tollgate status` lists them).{tollgate}\n\n{}",
        the_loop(step, &subject, Via::Commands)
    );
    let (head, text) = match agent.format {
        Format::Toml => (
            String::new(),
            format!(
                "description = {}\nprompt = {}\n",
                toml_string(&description),
                toml_string(&body)
            ),
        ),
        Format::Markdown { front_matter } => {
            let mut head = String::new();
            if front_matter {
                head.push_str(&format!(
                    "---\ndescription: {}\n",
                    yaml_string(&description)
                ));
                for line in agent.extra {
                    head.push_str(line);
                    head.push('\n');
                }
                head.push_str("---\n");
            }
            (head, body)
        }
    };
    let hash = crate::project::hex(&sha2::Sha256::digest(format!("{head}{text}").as_bytes()));
    let mark = format!(
        "Generated by `tollgate agents` from the playbook: edit the playbook and run it again. {MARK} {}",
        &hash[..16]
    );
    match agent.format {
        Format::Toml => format!("# {mark}\n{text}"),
        Format::Markdown { .. } => format!("{head}<!-- {mark} -->\n{text}"),
    }
}

/// A TOML basic string (one line, escaped) or a literal multi-line one.
fn toml_string(text: &str) -> String {
    if text.contains('\n') && !text.contains("'''") {
        format!("'''\n{text}'''")
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}

/// A YAML scalar that reads back as `text`: JSON's double-quoted strings
/// are YAML.
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Whether a command file is as generated: its mark's hash matches the
/// rest of it. `None` when it carries no mark (a person wrote it).
pub fn untouched(text: &str) -> Option<bool> {
    let line = text.lines().find(|line| line.contains(MARK))?;
    let hash = line
        .split(MARK)
        .nth(1)?
        .trim()
        .trim_end_matches("-->")
        .trim();
    let rest: String = text
        .split_inclusive('\n')
        .filter(|l| !l.contains(MARK))
        .collect();
    let actual = crate::project::hex(&sha2::Sha256::digest(rest.as_bytes()));
    Some(actual.starts_with(hash) && hash.len() == 16)
}

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Written,
    UpToDate,
    /// With `--check`: not there.
    Missing,
    /// With `--check`: generated, but not what the playbook makes now.
    OutOfDate,
    /// A person edited it (or wrote it): left alone without `--force`.
    Edited,
    /// It could not be read or written.
    Failed(String),
}

/// Writes `files` under `root` (or, with `check`, only compares them);
/// with `force`, files a person edited are overwritten too.
pub fn sync(root: &Path, files: &[AgentFile], check: bool, force: bool) -> Vec<(String, Outcome)> {
    files
        .iter()
        .map(|file| {
            let outcome = sync_one(root, file, check, force)
                .unwrap_or_else(|error| Outcome::Failed(error.to_string()));
            (file.path.clone(), outcome)
        })
        .collect()
}

fn sync_one(root: &Path, file: &AgentFile, check: bool, force: bool) -> std::io::Result<Outcome> {
    let relative = Path::new(&file.path);
    let existing = match crate::confined::read_text(root, relative, MAX_AGENT_FILE) {
        Ok(text) => Some(text),
        Err(crate::source::SourceError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Ok(Outcome::Failed(error.to_string())),
    };
    let (wanted, edited) = match (&file.kind, &existing) {
        (FileKind::Command(text), None) => (text.clone(), false),
        (FileKind::Command(text), Some(old)) if old == text => return Ok(Outcome::UpToDate),
        (FileKind::Command(text), Some(old)) => (text.clone(), untouched(old) != Some(true)),
        (FileKind::Registration { key, entry }, old) => {
            let parsed = old
                .as_deref()
                .map(serde_json::from_str::<serde_json::Value>);
            let (mut value, edited) = match parsed {
                None => (serde_json::json!({}), false),
                Some(Ok(value))
                    if value.is_object()
                        && value.get(key.as_str()).is_none_or(|s| s.is_object()) =>
                {
                    let ours = value.get(key.as_str()).and_then(|s| s.get("tollgate"));
                    if ours == Some(entry) {
                        return Ok(Outcome::UpToDate);
                    }
                    let edited = ours.is_some();
                    (value, edited)
                }
                // Not the shape agents read: a person's file, replaced
                // only with `--force`.
                Some(_) => (serde_json::json!({}), true),
            };
            if let Some(map) = value.as_object_mut() {
                let servers = map
                    .entry(key.clone())
                    .or_insert_with(|| serde_json::json!({}));
                if let Some(servers) = servers.as_object_mut() {
                    servers.insert("tollgate".into(), entry.clone());
                }
            }
            let text = serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
            (text, edited)
        }
    };
    if check {
        return Ok(match (&existing, edited) {
            (None, _) => Outcome::Missing,
            (Some(_), true) => Outcome::Edited,
            (Some(_), false) => Outcome::OutOfDate,
        });
    }
    if edited && !force {
        return Ok(Outcome::Edited);
    }
    if let Some(parent) = relative.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::confined::create_dir_all(root, parent)?;
    }
    crate::confined::write_atomic(root, relative, wanted.as_bytes())?;
    Ok(Outcome::Written)
}

/// Larger than any command file or registration this writes.
const MAX_AGENT_FILE: usize = 1 << 20;
