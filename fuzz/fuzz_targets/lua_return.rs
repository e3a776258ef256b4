//! What a plugin returns, made by the shared generator: findings or a
//! located error, never a panic of the host.
#![no_main]

#[path = "../../tests/support/generate.rs"]
mod generate;
#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    invariants::plugin_returning(&generate::lua_value(data));
});
