//! The YAML loader and the lint, on any bytes (first byte odd) or on a
//! playbook the shared generator makes of them (first byte even).
#![no_main]

#[path = "../../tests/support/generate.rs"]
mod generate;

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tollgate::playbook::{LoadedPlaybook, lint};

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let text = if first % 2 == 0 {
        generate::playbook(rest)
    } else {
        String::from_utf8_lossy(rest).into_owned()
    };
    let _ = tollgate::yaml::parse(&text);
    if let Ok(loaded) =
        LoadedPlaybook::from_source(Path::new("playbook.yaml"), "playbook.yaml", text)
    {
        let _ = lint::lint(&loaded);
    }
});
