//! Templates in the bounded environment, generated (first byte even) or
//! any text (first byte odd): each ends, within its budget.
#![no_main]

#[path = "../../tests/support/generate.rs"]
mod generate;
#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    if first % 2 == 0 {
        invariants::render_template(&generate::template(rest));
    } else {
        invariants::render_template(&String::from_utf8_lossy(rest));
    }
});
