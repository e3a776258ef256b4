//! What a plugin returns, made by the shared generator: findings or a
//! located error, never a panic of the host.
#![no_main]

#[path = "../../tests/support/generate.rs"]
mod generate;

use std::sync::LazyLock;

use indexmap::IndexMap;
use libfuzzer_sys::fuzz_target;
use tollgate::checks::Findings;
use tollgate::lua::{LimitOverrides, PluginCall, PluginSet, StepInfo};
use tollgate::markdown::Document;
use tollgate::playbook::{Check, Gate, Limits, SectionAliases};

static DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| tempfile::tempdir().unwrap());
static DOC: LazyLock<Document> =
    LazyLock::new(|| Document::parse_str("doc.md", "# Title\n\nSome text.\n\n## Risks\n\n- a\n"));

fuzz_target!(|data: &[u8]| {
    let value = generate::lua_value(data);
    let source = format!("return {{ check = function(ctx) return {value} end }}\n");
    std::fs::write(DIR.path().join("p.lua"), source).unwrap();
    let set = PluginSet::load(
        DIR.path(),
        &IndexMap::from([("p".to_string(), "p.lua".to_string())]),
        DIR.path(),
        &Limits {
            plugin_timeout_ms: Some(1_000),
            plugin_memory_mib: Some(64),
        },
        LimitOverrides::default(),
    );
    let vars = IndexMap::new();
    let call = PluginCall {
        doc: Some(&DOC),
        subject: None,
        vars: &vars,
        step: StepInfo {
            id: "s",
            title: None,
            gate: Gate::Automated,
        },
        artifacts: &|_| None,
        artifact: Some("doc"),
        aliases: &SectionAliases::default(),
    };
    let check = Check {
        artifact: Some("doc".into()),
        ..Check::plugin("c", "p.check", serde_json::json!({}))
    };
    let mut findings = Findings::new(&check, "doc.md");
    set.run("p.check", &serde_json::json!({}), &call, &mut findings);
    for finding in findings.finish().findings {
        assert!(!finding.message.is_empty());
    }
});
