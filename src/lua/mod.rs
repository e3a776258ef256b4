//! The Lua plugin host: teams write custom gates in Lua (API version 1,
//! `shared/design/plugin-api.md`), and this module runs them as checks.
//!
//! # Why Luau rather than Lua 5.4
//!
//! Plugins are other people's code, so the host must stop any of them within
//! its budget and keep them from touching each other or the machine. mlua
//! offers both dialects; Luau (`features = ["luau"]`, always built from
//! vendored sources) is chosen because it gives these guarantees by itself:
//!
//! - Its *interrupt* runs at every loop back-edge and call, in coroutines and
//!   under `pcall`, **and inside the pattern matcher** (`string.find`,
//!   `match`, `gmatch`, `gsub`). Lua 5.4's count hook never fires inside a C
//!   function: a pathological pattern ran 15 s unstoppable, and guarding it
//!   would have meant re-implementing Lua patterns with a step counter, or a
//!   child process per call.
//! - `sandbox(true)` makes the standard libraries, the string metatable and
//!   the globals read-only, so `string.len = nil` in one plugin is an error,
//!   not a change another plugin sees.
//! - It has no bytecode loading from Lua (`load`, `string.dump`, `dofile`
//!   do not exist), so untrusted bytecode cannot reach the VM.
//! - Each call's environment can be marked *safeenv*, as Luau's own sandbox
//!   does, which keeps global lookups fast although every call has a fresh
//!   environment.
//!
//! The price is build time (Luau's C++ adds about 50 s to a clean debug build
//! and 3 minutes to a release build) and a dialect: Luau is Lua 5.1 plus
//! `continue`, compound assignment (`+=`), `//` and optional type
//! annotations; it has no `goto` and no integer subtype. Plugins written in
//! plain Lua 5.1 style, as the API examples are, run unchanged.
//!
//! # How a call runs
//!
//! A [`PluginSet`] reads and compiles the playbook's plugins to bytecode once
//! per run; it is `Send + Sync` and shared by rayon's workers. Each worker
//! thread keeps one sandboxed Lua state (see `host.rs`), built when a plugin
//! check first runs on it (a step without one creates no Lua state at all),
//! loads each plugin's bytecode into it once, and for every call:
//!
//! 1. makes a fresh environment table whose `__index` is the read-only
//!    globals, and points the plugin's main chunk at it;
//! 2. runs the main chunk, so the module table and every upvalue are new:
//!    no state survives from one document or subject to the next;
//! 3. builds `ctx` (the document is a userdata over the borrowed
//!    [`Document`](crate::markdown::Document), whose tables are built only
//!    when a method asks) and calls the function under the time budget and
//!    the memory limit;
//! 4. turns what the plugin reported or returned, or why it failed, into
//!    findings of the check.
//!
//! The budget and the pattern-bomb defence are explained in `budget.rs`;
//! the sandbox in `sandbox.rs`; the API the plugins see in `api.rs`; the
//! `tollgate plugin test` harness and its file format in `harness.rs`.

mod api;
mod budget;
mod harness;
mod host;
mod sandbox;

pub use api::{CTX_MEMBERS, DOCUMENT_MEMBERS};
pub use harness::{CaseResult, TestReport, test_plugin};
pub(crate) use host::MAX_PLUGIN_BYTES;
pub use host::{
    DEFAULT_MEMORY_MIB, DEFAULT_TIMEOUT_MS, LimitOverrides, PluginCall, PluginError, PluginInfo,
    PluginSet, StepInfo, SubjectInfo, inspect_plugin,
};
