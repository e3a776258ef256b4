//! `tollgate init`: the command line over [`crate::init`].

use std::path::{Component, Path, PathBuf};

use clap::Args;

use super::{Context, EXIT_OK, EXIT_UNUSABLE, OptionsHere, complain, say};
use crate::init::{self, BUNDLED, DEFAULT_PLAYBOOK, InitError};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The bundled playbook to start from (`specflow`, `minimal`, ...; `--list` lists them)
    #[arg(long, value_name = "NAME", default_value = "specflow")]
    pub template: String,
    /// Overwrite files that already exist
    #[arg(long)]
    pub force: bool,
    /// List the bundled playbooks, each with what it is for, and write nothing
    #[arg(long, conflicts_with_all = ["template", "force"])]
    pub list: bool,
    #[command(flatten)]
    pub options: OptionsHere,
}

pub fn run(context: &Context, args: &InitArgs) -> i32 {
    if args.list {
        let lines: Vec<String> = BUNDLED
            .iter()
            .map(|bundled| format!("{:<20} {}", bundled.name, bundled.summary))
            .collect();
        return say(format_args!("{}", lines.join("\n")));
    }
    let Some(playbook) = inside_root(&context.root, &context.playbook) else {
        complain(format_args!(
            "init: the playbook path {} is outside the project root {}; give a path inside it",
            super::display_path(&context.playbook),
            super::display_path(&context.root)
        ));
        return EXIT_UNUSABLE;
    };
    let written = init::bundled(&args.template).and_then(|bundled| {
        let files = init::plan(bundled, &playbook)?;
        init::write(&context.root, &files, args.force)?;
        Ok((bundled, files))
    });
    let (bundled, files) = match written {
        Ok(written) => written,
        Err(error) => {
            let mut message = format!("init: {error}");
            if let InitError::UnknownTemplate { .. } = error {
                for bundled in BUNDLED {
                    message.push_str(&format!("\n  {:<20} {}", bundled.name, bundled.summary));
                }
            }
            complain(format_args!("{message}"));
            return EXIT_UNUSABLE;
        }
    };
    if context.quiet {
        return EXIT_OK;
    }
    let mut text = format!("wrote the `{}` playbook:", bundled.name);
    for file in &files {
        text.push_str(&format!("\n  {}", file.path));
    }
    // The commands find the playbook by themselves only at its default place.
    let tollgate = if playbook == DEFAULT_PLAYBOOK {
        "tollgate".to_string()
    } else {
        format!("tollgate --playbook {playbook}")
    };
    let subject = bundled.first_subject;
    text.push_str(&format!(
        "\nnext:\n  {tollgate} lint\n  {tollgate} new {subject} --title \"First feature\"\n  \
         {tollgate} show {} --subject {subject}\n  \
         {tollgate} agents",
        bundled.first_step
    ));
    say(format_args!("{text}"))
}

/// `playbook` relative to `root`, with `/`, when it lies inside it (judged
/// on the names, since the file and its folders may not exist yet).
fn inside_root(root: &Path, playbook: &Path) -> Option<String> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let absolute = |path: &Path| lexically_normal(&cwd.join(path));
    let relative = absolute(playbook)
        .strip_prefix(absolute(root))
        .ok()?
        .to_path_buf();
    let shown = relative.to_string_lossy().replace('\\', "/");
    (!shown.is_empty()).then_some(shown)
}

/// `path` with `.` and `..` resolved by name.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}
