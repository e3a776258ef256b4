//! The YAML loader and the lint, on any bytes (first byte odd) or on a
//! playbook the shared generator makes of them (first byte even): every
//! position a diagnostic gives is inside the file, as the property tests hold.
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
        invariants::load_playbook(generate::playbook(rest).as_bytes());
    } else {
        invariants::load_playbook(rest);
    }
});
