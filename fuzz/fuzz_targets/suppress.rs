//! Suppression directives in generated Markdown over findings on the lines
//! the input names: suppression moves findings, never loses one.
#![no_main]

#[path = "../../tests/support/generate.rs"]
mod generate;
#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;
use tollgate::markdown::Document;

fuzz_target!(|data: &[u8]| {
    let (document, lines) = data.split_at(data.len() / 2);
    let doc = Document::parse_str("doc.md", &generate::markdown(document));
    invariants::suppress_over(&doc, lines);
});
