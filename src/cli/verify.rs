//! `tollgate verify`: a thin front over [`crate::verify::verify`].

use clap::Args;

use super::{
    Context, EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, Format, OptionsHere, complain, output_failed,
    print_json, print_text, subjects::with_project,
};
use crate::report::{self, Counts, Escaping, LintedFile, Sources};
use crate::verify::{self, VerifyError};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub options: OptionsHere,
}

pub(super) fn run(context: &Context, args: &VerifyArgs) -> i32 {
    with_project(context, context.options(), |project| {
        let verification = match verify::verify(project) {
            Ok(verification) => verification,
            Err(VerifyError::Project(error)) => return Err(error),
            Err(error) => {
                complain(format_args!("{error}"));
                return Ok(EXIT_UNUSABLE);
            }
        };
        let mut sources = Sources::default();
        for (path, text) in verification.sources {
            sources.insert(path, text);
        }
        let findings = verification.findings;
        let counts = Counts::of(&findings);
        let files = [LintedFile {
            path: project
                .loaded
                .playbook
                .state_dir
                .trim_end_matches('/')
                .to_string(),
            diagnostics: findings,
        }];
        let findings = &files[0].diagnostics;
        let written = match args.format {
            Format::Text => {
                report::write_verify_text(findings, &sources, context.quiet, &mut context.stdout())
            }
            Format::Json => print_json(&report::lint_json(findings)),
            Format::Sarif => print_json(&report::lint_sarif(&files)),
            Format::Junit => report::verify_junit(&files).and_then(print_text),
            Format::Github => {
                report::write_lint_github(&files, &mut Escaping::new(std::io::stdout().lock()))
            }
            Format::Markdown => print_text(report::verify_markdown(
                &project.loaded.playbook.name,
                findings,
            )),
        };
        if let Some(code) = output_failed(written) {
            return Ok(code);
        }
        Ok(if counts.errors > 0 {
            EXIT_FAILED
        } else {
            EXIT_OK
        })
    })
}
