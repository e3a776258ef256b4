//! `tollgate init`: the command line over [`crate::init`].

use clap::Args;

use super::{Context, EXIT_OK, EXIT_UNUSABLE, complain, say};
use crate::init::{self, BUNDLED, InitError};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The bundled playbook to start from (`specflow`, `specflow-automated`, ...)
    #[arg(long, value_name = "NAME", default_value = "specflow")]
    pub template: String,
    /// Overwrite files that already exist
    #[arg(long)]
    pub force: bool,
}

pub fn run(context: &Context, args: &InitArgs) -> i32 {
    let written = init::bundled(&args.template).and_then(|bundled| {
        let files = init::plan(bundled)?;
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
    let subject = bundled.first_subject;
    text.push_str(&format!(
        "\nnext:\n  tollgate lint\n  tollgate new {subject} --title \"First feature\"\n  \
         tollgate show {} --subject {subject}",
        bundled.first_step
    ));
    say(format_args!("{text}"))
}
