//! `tollgate init`: the command line over [`crate::init`].

use clap::Args;

use super::{Context, EXIT_OK, EXIT_UNUSABLE};
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
            eprintln!("tollgate: init: {error}");
            if let InitError::UnknownTemplate { .. } = error {
                for bundled in BUNDLED {
                    eprintln!("  {:<20} {}", bundled.name, bundled.summary);
                }
            }
            return EXIT_UNUSABLE;
        }
    };
    if !context.quiet {
        println!("wrote the `{}` playbook:", bundled.name);
        for file in &files {
            println!("  {}", file.path);
        }
        println!("next:");
        println!("  tollgate lint");
        let subject = bundled.first_subject;
        println!("  tollgate new {subject} --title \"First feature\"");
        println!("  tollgate show {} --subject {subject}", bundled.first_step);
    }
    EXIT_OK
}
