//! The parse floor of `tollgate check` as a process of its own, to time
//! against the `tollgate` process on the same files: reads every file named
//! on the command line, parses it with comrak in the document model's
//! options and walks its nodes once (`benches/floor/mod.rs`), files spread
//! over rayon's pool as `tollgate check` spreads them, then prints how many
//! files it read. No checks, no verdicts, no report.
//!
//! `cargo build --release --example floor`, then
//! `target/release/examples/floor FILE...`; `benches/check.rs` builds and
//! runs it itself.

#[path = "../benches/floor/mod.rs"]
mod floor;

use std::path::PathBuf;
use std::process::ExitCode;

use rayon::prelude::*;

fn main() -> ExitCode {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let options = tollgate::markdown::comrak_options();
    let walked = paths
        .par_iter()
        .map(|path| {
            floor::read_parse_and_walk(path, &options)
                .map_err(|error| format!("{}: {error}", path.display()))
        })
        .try_reduce(|| 0, |a, b| Ok(a.wrapping_add(b)));
    match walked {
        Ok(walked) => {
            println!("{} files read, parsed and walked ({walked})", paths.len());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("floor: {error}");
            ExitCode::from(2)
        }
    }
}
