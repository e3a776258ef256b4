//! Suppression directives in generated Markdown over findings on the lines
//! the input names: suppression moves findings, never loses one.
#![no_main]

#[path = "../../tests/support/generate.rs"]
mod generate;

use libfuzzer_sys::fuzz_target;
use tollgate::checks::Findings;
use tollgate::diagnostic::Position;
use tollgate::markdown::Document;
use tollgate::playbook::Check;
use tollgate::suppress::{self, Target};

fuzz_target!(|data: &[u8]| {
    let split = data.len() / 2;
    let (document, lines) = data.split_at(split);
    let doc = Document::parse_str("doc.md", &generate::markdown(document));
    let checks = [
        Check::plugin("c1", "p.c1", serde_json::json!({})),
        Check::plugin("c2", "p.c2", serde_json::json!({})),
    ];
    let line_count = doc.lines.len().max(1);
    let mut outcomes: Vec<_> = checks
        .iter()
        .map(|check| {
            let mut findings = Findings::new(check, &doc.path);
            for line in lines {
                findings.report(Position::new(usize::from(*line) % line_count + 1, 1), "x");
            }
            findings.finish()
        })
        .collect();
    let before: usize = outcomes.iter().map(|o| o.findings.len()).sum();
    let targets = [
        Target {
            id: "c1",
            suppressible: true,
        },
        Target {
            id: "c2",
            suppressible: false,
        },
    ];
    let known = ["c1".to_string(), "c2".to_string()];
    suppress::apply(&doc, &targets, &known, &mut outcomes);
    let after: usize = outcomes
        .iter()
        .map(|o| o.findings.len() + o.suppressed.len())
        .sum();
    assert_eq!(before, after);
});
