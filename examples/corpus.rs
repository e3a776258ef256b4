//! Writes the first documents of the benchmark corpus (`benches/corpus/mod.rs`)
//! to a folder, `plan-00000.md` onwards, for tools outside the benchmark:
//! `cargo run --release --example corpus -- DIR COUNT`.
//! `benches/compare-verdicts.sh` uses it.

// Which defect each document carries is for the benchmark to read, not here.
#[allow(dead_code)]
#[path = "../benches/corpus/mod.rs"]
mod corpus;

use std::path::PathBuf;
use std::process::ExitCode;

use rayon::prelude::*;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, count) = match args.as_slice() {
        [dir, count] => match count.parse::<usize>() {
            Ok(count) => (PathBuf::from(dir), count),
            Err(_) => return usage(),
        },
        _ => return usage(),
    };
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        (0..count).into_par_iter().try_for_each(|index| {
            let doc = corpus::generate(index);
            std::fs::write(dir.join(&doc.name), &doc.text)
        })
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("corpus: {}: {error}", dir.display());
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: corpus DIR COUNT");
    ExitCode::from(2)
}
