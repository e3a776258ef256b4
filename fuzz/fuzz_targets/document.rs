//! The document model, on any bytes (first byte odd) or on Markdown the
//! shared generator makes of them (first byte even): every node is located
//! in the document and sections nest, as the property tests hold.
#![no_main]

#[path = "../../tests/support/generate.rs"]
mod generate;
#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;
use tollgate::markdown::Document;

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let doc = if first % 2 == 0 {
        Document::parse_str("doc.md", &generate::markdown(rest))
    } else {
        match Document::parse("doc.md", rest) {
            Ok(doc) => doc,
            Err(_) => return,
        }
    };
    invariants::check_document(&doc);
});
