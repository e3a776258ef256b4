//! Tollgate: a declarative playbook interpreter for stage-gated,
//! spec-driven development. The library loads and lints playbooks, models
//! Markdown artifacts and checks them; the `tollgate` binary is a thin layer
//! over it.

pub mod agents;
pub mod approvals;
pub mod checks;
pub mod cli;
pub mod confined;
pub mod diagnostic;
pub mod engine;
pub mod git;
pub mod glob;
pub mod identity;
pub mod init;
pub mod lsp;
pub mod lua;
pub mod markdown;
pub mod mcp;
pub mod memory;
pub mod playbook;
pub mod pool;
pub mod project;
pub mod render;
pub mod report;
pub mod scaffold;
pub mod service;
pub mod source;
pub mod state;
pub mod suppress;
pub mod verify;
pub mod yaml;
