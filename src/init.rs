//! `tollgate init`: writes one of the bundled playbooks into a project,
//! ready to run. The playbook becomes `tollgate.yaml` at the project root
//! (or the path `--playbook` names inside it); what it needs (the playbook it extends, plugins, templates), the JSON
//! Schema and the Lua type stubs go under `.tollgate/`, and `.luarc.json`
//! points the Lua language server at the stubs. Every path inside a written
//! playbook is rewritten at the position the YAML loader records for it,
//! so the playbook reads its files where they now are.

use std::path::Path;

use crate::playbook::schema;
use crate::source;
use crate::yaml::{self, pointer_segment};

/// The folder, under the project root, that holds what the playbook needs.
pub const ASSETS: &str = ".tollgate";

/// A file of this repository, embedded in the binary.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    /// Its path in the repository: `playbooks/…`, `plugins/…`, or
    /// `playbooks/templates/NAME/…`.
    pub path: &'static str,
    pub text: &'static str,
}

macro_rules! embed {
    ($path:literal) => {
        Embedded {
            path: $path,
            text: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path)),
        }
    };
}

/// A bundled playbook and every file it needs.
#[derive(Debug, Clone, Copy)]
pub struct Bundled {
    /// The name `--template` takes.
    pub name: &'static str,
    /// What it is, for the list of templates.
    pub summary: &'static str,
    /// The playbook, written as `tollgate.yaml`.
    pub playbook: Embedded,
    /// Playbooks it extends, directly or not, written under `.tollgate/`.
    pub bases: &'static [Embedded],
    /// Plugins (with their tests) and templates, written under `.tollgate/`.
    pub files: &'static [Embedded],
    /// A subject id the playbook's `id_pattern` takes, and the first step,
    /// for the commands `init` suggests next.
    pub first_subject: &'static str,
    pub first_step: &'static str,
}

const PAI_PRINCIPLES: [Embedded; 2] = [
    embed!("plugins/pai_principles.lua"),
    embed!("plugins/pai_principles.test.yaml"),
];

/// The bundled playbooks; the first is the default.
pub const BUNDLED: &[Bundled] = &[
    Bundled {
        name: "specflow",
        summary: "SpecFlow: specify, plan, tasks, implement; the plan needs a person's approval",
        playbook: embed!("playbooks/specflow.yaml"),
        bases: &[],
        files: &PAI_PRINCIPLES,
        first_subject: "F-1",
        first_step: "specify",
    },
    Bundled {
        name: "specflow-automated",
        summary: "SpecFlow with the plan judged by checks alone",
        playbook: embed!("playbooks/specflow-automated.yaml"),
        bases: &[embed!("playbooks/specflow.yaml")],
        files: &PAI_PRINCIPLES,
        first_subject: "F-1",
        first_step: "specify",
    },
    Bundled {
        name: "spec-dev-plan",
        summary: "the v1.1 plan phase: one plan document, gated by its checklist and its last line",
        playbook: embed!("playbooks/spec-dev-plan.yaml"),
        bases: &[],
        files: &[
            embed!("playbooks/templates/spec-dev-plan/plan.md.j2"),
            embed!("plugins/risk_coverage.lua"),
            embed!("plugins/risk_coverage.test.yaml"),
        ],
        first_subject: "NOTIFY-1",
        first_step: "plan",
    },
    Bundled {
        name: "spec-kit",
        summary: "spec-kit 1.0: constitution, specify, clarify (optional), plan, tasks, implement",
        playbook: embed!("playbooks/spec-kit.yaml"),
        bases: &[],
        files: &[
            embed!("playbooks/templates/spec-kit/step.md.j2"),
            embed!("plugins/code_labels.lua"),
            embed!("plugins/code_labels.test.yaml"),
            embed!("plugins/spec_kit.lua"),
            embed!("plugins/spec_kit.test.yaml"),
        ],
        first_subject: "001",
        first_step: "constitution",
    },
    Bundled {
        name: "minimal",
        summary: "a small start for your own process: two phases, one step, a few kinds of check and a plugin",
        playbook: embed!("playbooks/minimal.yaml"),
        bases: &[],
        files: &[
            embed!("plugins/owners.lua"),
            embed!("plugins/owners.test.yaml"),
        ],
        first_subject: "CHG-1",
        first_step: "design",
    },
];

const STUBS: Embedded = embed!("plugins/tollgate.d.lua");

/// Where the files of the bundled playbooks are, for a playbook that
/// `extends:` one by name: `tollgate:bundled/plugins/pai_principles.lua` is
/// the bundled plugin, read from the binary, never from disk.
pub const BUNDLED_PREFIX: &str = "tollgate:bundled/";

/// The bundled playbook an `extends:` value names, as a path under
/// [`BUNDLED_PREFIX`]: a bare name (no `/`, no `.`) of [`BUNDLED`].
pub fn bundled_base(extends: &str) -> Option<String> {
    if extends.contains(['/', '\\', '.']) {
        return None;
    }
    let bundled = BUNDLED.iter().find(|b| b.name == extends)?;
    Some(format!("{BUNDLED_PREFIX}{}", bundled.playbook.path))
}

/// The text of a bundled file named by a path holding [`BUNDLED_PREFIX`]
/// (joined to a playbook's folder, it may come after it), or `None` for a
/// path on disk.
fn bundled_text(path: &Path) -> Option<Result<&'static str, std::io::Error>> {
    let shown = path.to_string_lossy().replace('\\', "/");
    let (_, inside) = shown.split_once(BUNDLED_PREFIX)?;
    let inside = crate::playbook::lint::join_relative("", inside);
    let found = BUNDLED
        .iter()
        .flat_map(|b| std::iter::once(&b.playbook).chain(b.bases).chain(b.files))
        .find(|file| file.path == inside)
        .map(|file| file.text);
    Some(found.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no bundled file `{inside}`"),
        )
    }))
}

/// Reads a playbook or a file it names (a base, a plugin, a template):
/// from the binary when the path leads into the bundled files, else from
/// disk with [`source::read_text`].
pub fn read_playbook_file(path: &Path, limit: usize) -> Result<String, source::SourceError> {
    match bundled_text(path) {
        Some(found) => Ok(found?.to_string()),
        None => source::read_text(path, limit),
    }
}

/// [`read_playbook_file`] of a file that must lie inside `root` once its
/// symbolic links are resolved (`path` relative to `root`, or absolute): a
/// bundled file comes from the binary, any other through
/// [`crate::confined::read_text`].
pub fn read_playbook_file_within(
    root: &Path,
    path: &Path,
    limit: usize,
) -> Result<String, source::SourceError> {
    match bundled_text(&root.join(path)) {
        Some(found) => Ok(found?.to_string()),
        None => crate::confined::read_text(root, path, limit),
    }
}

/// Why `init` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("template `{name}` is not bundled in this build; bundled: {}", known())]
    UnknownTemplate { name: String },
    #[error("{} already exist{}; use --force to overwrite", .files.join(", "), if .files.len() == 1 { "s" } else { "" })]
    Exists { files: Vec<String> },
    #[error("{path}: {message}")]
    Bundle { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn known() -> String {
    BUNDLED
        .iter()
        .map(|b| b.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A file to write: its path relative to the project root, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub path: String,
    pub text: String,
}

/// The bundled playbook called `name`.
pub fn bundled(name: &str) -> Result<&'static Bundled, InitError> {
    BUNDLED
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| InitError::UnknownTemplate { name: name.into() })
}

/// Where `init` writes the playbook unless told otherwise.
pub const DEFAULT_PLAYBOOK: &str = "tollgate.yaml";

/// Every file `init` writes for `bundled`, in the order it writes them,
/// with the playbook at `playbook` (relative to the project root, with `/`):
/// its paths are written relative to its own folder.
pub fn plan(bundled: &Bundled, playbook: &str) -> Result<Vec<Planned>, InitError> {
    let folder = playbook.rsplit_once('/').map_or("", |(folder, _)| folder);
    let mut files = vec![Planned {
        path: playbook.into(),
        text: rewrite(bundled, &bundled.playbook, folder)?,
    }];
    for base in bundled.bases {
        files.push(Planned {
            path: target(base.path),
            text: rewrite(bundled, base, ASSETS)?,
        });
    }
    for file in bundled.files {
        files.push(Planned {
            path: target(file.path),
            text: file.text.into(),
        });
    }
    files.push(Planned {
        path: format!("{ASSETS}/playbook.schema.json"),
        text: schema::schema_text(),
    });
    files.push(Planned {
        path: format!("{ASSETS}/tollgate.d.lua"),
        text: STUBS.text.into(),
    });
    files.push(Planned {
        path: ".luarc.json".into(),
        text: luarc(),
    });
    Ok(files)
}

/// Writes `files` under `root`; refuses, writing nothing, when one exists
/// (a dangling symbolic link counts) and `force` is off. Nothing is ever
/// written through a symbolic link, at the file or on the way to it.
pub fn write(root: &Path, files: &[Planned], force: bool) -> Result<(), InitError> {
    if !force {
        let existing: Vec<String> = files
            .iter()
            .filter(|f| std::fs::symlink_metadata(root.join(&f.path)).is_ok())
            .map(|f| f.path.clone())
            .collect();
        if !existing.is_empty() {
            return Err(InitError::Exists { files: existing });
        }
    }
    for file in files {
        let path = Path::new(&file.path);
        let io = |source| InitError::Io {
            path: file.path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            crate::confined::create_dir_all(root, parent).map_err(io)?;
        }
        let bytes = file.text.as_bytes();
        match force {
            true => crate::confined::write_atomic(root, path, bytes),
            false => crate::confined::create_new(root, path, bytes),
        }
        .map_err(io)?;
    }
    Ok(())
}

/// Where a bundled file is written, relative to the project root.
fn target(repository_path: &str) -> String {
    let inside = repository_path
        .strip_prefix("playbooks/")
        .unwrap_or(repository_path);
    format!("{ASSETS}/{inside}")
}

/// A bundled playbook as written into `folder` (relative to the project
/// root): the schema line first, and each path (`extends`, `plugins`,
/// step `document`) leading to where its file is written.
fn rewrite(bundled: &Bundled, playbook: &Embedded, folder: &str) -> Result<String, InitError> {
    let bundle_error = |message: String| InitError::Bundle {
        path: playbook.path.into(),
        message,
    };
    let (json, spans) = yaml::parse(playbook.text).map_err(|e| bundle_error(e.message))?;
    let mut pointers = Vec::new();
    if json.get("extends").is_some() {
        pointers.push("/extends".to_string());
    }
    for name in json
        .get("plugins")
        .and_then(|p| p.as_object())
        .into_iter()
        .flat_map(|p| p.keys())
    {
        pointers.push(format!("/plugins/{}", pointer_segment(name)));
    }
    for (index, step) in json
        .get("steps")
        .and_then(|s| s.as_array())
        .into_iter()
        .flatten()
        .enumerate()
    {
        if step.get("document").is_some() {
            pointers.push(format!("/steps/{index}/document"));
        }
    }
    let carried: Vec<&str> = std::iter::once(bundled.playbook.path)
        .chain(bundled.bases.iter().map(|b| b.path))
        .chain(bundled.files.iter().map(|f| f.path))
        .collect();
    let source_folder = playbook.path.rsplit_once('/').map_or("", |(f, _)| f);
    let mut edits = Vec::new();
    for pointer in pointers {
        let Some(written) = json.pointer(&pointer).and_then(|v| v.as_str()) else {
            continue;
        };
        let file = crate::playbook::lint::join_relative(source_folder, written);
        if !carried.contains(&file.as_str()) {
            return Err(bundle_error(format!(
                "`{written}` leads to {file}, which template `{}` does not carry",
                bundled.name
            )));
        }
        let start = spans
            .value(&pointer)
            .ok_or_else(|| bundle_error(format!("no position for {pointer}")))?;
        let offset = source::offset_of(playbook.text, start);
        let quoted = playbook.text[offset..].starts_with(['"', '\'']);
        let at = offset + usize::from(quoted);
        if !playbook.text[at..].starts_with(written) {
            return Err(bundle_error(format!(
                "`{written}` is not written verbatim at {start}"
            )));
        }
        edits.push((at..at + written.len(), relative(folder, &target(&file))));
    }
    let mut text = playbook.text.to_string();
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    for (range, replacement) in edits {
        text.replace_range(range, &replacement);
    }
    Ok(with_schema_line(
        &text,
        &relative(folder, &format!("{ASSETS}/playbook.schema.json")),
    ))
}

/// `path` (relative to the project root) as seen from `folder`.
fn relative(folder: &str, path: &str) -> String {
    if folder.is_empty() {
        return path.to_string();
    }
    match path.strip_prefix(&format!("{folder}/")) {
        Some(inside) => inside.to_string(),
        None => format!("{}{path}", "../".repeat(folder.split('/').count())),
    }
}

/// The text with its first line the yaml-language-server line for `schema`.
fn with_schema_line(text: &str, schema: &str) -> String {
    let line = format!("# yaml-language-server: $schema={schema}\n");
    let rest = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("# yaml-language-server:") => rest,
        _ => text,
    };
    format!("{line}{rest}")
}

/// The Lua language server's settings: Luau reads as Lua 5.1, and the
/// stubs give completion for the plugin API.
fn luarc() -> String {
    let settings = serde_json::json!({
        "$schema": "https://raw.githubusercontent.com/LuaLS/vscode-lua/master/setting/schema.json",
        "runtime": { "version": "Lua 5.1" },
        "workspace": { "library": [format!("{ASSETS}/tollgate.d.lua")] },
    });
    let mut text = serde_json::to_string_pretty(&settings).expect("a JSON value serialises");
    text.push('\n');
    text
}
