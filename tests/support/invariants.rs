//! What the property tests (`tests/properties.rs`) and the fuzz targets
//! (`fuzz/`) run on each generated input, and what must then hold: one
//! place, so both exercise the same code the same way.

#![allow(dead_code)]

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde_json::json;
use tollgate::checks::Findings;
use tollgate::diagnostic::{Diagnostic, Position};
use tollgate::lua::{LimitOverrides, PluginCall, PluginSet, StepInfo};
use tollgate::markdown::Document;
use tollgate::playbook::{Check, Gate, Limits, LoadedPlaybook, SectionAliases, lint};
use tollgate::suppress::{self, Target};

/// Whether `position` names a place in `text`: a line it has (or the one
/// after a final line ending) and a column up to one past that line's last
/// character. Lines end as an editor ends them, at `\r\n`, `\r` or `\n`.
pub fn inside(text: &str, position: Position) -> bool {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let lines: Vec<&str> = text.split('\n').collect();
    position.line >= 1
        && position.column >= 1
        && lines
            .get(position.line - 1)
            .is_some_and(|line| position.column <= line.chars().count() + 1)
}

pub fn assert_inside(text: &str, diagnostics: &[Diagnostic], file: &str) {
    for diagnostic in diagnostics.iter().filter(|d| d.path == file) {
        for position in [diagnostic.start, diagnostic.end].into_iter().flatten() {
            assert!(
                inside(text, position),
                "{position} of `{}` is outside the text",
                diagnostic.message
            );
        }
    }
}

/// Loads (and, when it loads, lints) `bytes` as a playbook file, checking
/// that every position of every diagnostic is inside it.
pub fn load_playbook(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("playbook.yaml");
    std::fs::write(&file, bytes).unwrap();
    let text = String::from_utf8_lossy(bytes);
    match LoadedPlaybook::load(&file, "playbook.yaml") {
        Ok(loaded) => {
            let lint = lint::lint(&loaded);
            assert_inside(&loaded.source, &lint.diagnostics, "playbook.yaml");
        }
        Err(error) => {
            let shown = error.text.as_deref().unwrap_or(&text);
            assert_inside(shown, &error.diagnostics, "playbook.yaml");
        }
    }
}

/// Every node of the document is located in it, and sections nest.
pub fn check_document(doc: &Document) {
    let text = &doc.text;
    let lines = doc.line_count().max(1);
    for (index, line) in doc.lines().enumerate() {
        assert_eq!(line.number, index + 1, "lines are numbered in order");
    }
    for (index, section) in doc.sections.iter().enumerate() {
        assert!(inside(text, section.position), "{section:?}");
        assert!(section.end_line >= section.position.line, "{section:?}");
        assert!(section.end_line <= lines, "{section:?} past {lines} lines");
        assert!(
            section.body_start_line > section.position.line,
            "{section:?}"
        );
        if let Some(parent) = section.parent {
            assert!(parent < index, "a parent comes first");
            let parent = &doc.sections[parent];
            assert!(parent.level < section.level, "{parent:?} holds {section:?}");
            assert!(parent.position.line < section.position.line);
            assert!(
                parent.end_line >= section.end_line,
                "{parent:?} holds {section:?}"
            );
        }
        if let Some(previous) = index.checked_sub(1).map(|i| &doc.sections[i]) {
            assert!(previous.position.line < section.position.line);
        }
    }
    for table in &doc.tables {
        assert!(inside(text, table.position), "{table:?}");
        assert!(table.end_line >= table.position.line && table.end_line <= lines);
        for cell in table
            .header
            .iter()
            .chain(table.rows.iter().flat_map(|r| &r.cells))
        {
            assert!(inside(text, cell.position), "{cell:?}");
        }
        assert!(table.section.is_none_or(|s| s < doc.sections.len()));
    }
    for task in &doc.tasks {
        assert!(inside(text, task.position), "{task:?}");
        assert!(task.section.is_none_or(|s| s < doc.sections.len()));
    }
    for block in &doc.code_blocks {
        assert!(block.line >= 1 && block.line <= block.end_line && block.end_line <= lines);
    }
    for directive in &doc.directives {
        assert!(inside(text, directive.position), "{directive:?}");
        assert!(inside(text, directive.end), "{directive:?}");
        assert!(directive.position <= directive.end);
    }
    if let Some(front) = &doc.front_matter {
        assert!(front.line >= 1 && front.line <= front.end_line && front.end_line <= lines);
    }
}

/// Runs the suppression of `doc`'s directives over findings on the lines
/// `lines` names, for checks `c1` and `c2`.
pub fn suppress_over(doc: &Document, lines: &[u8]) {
    let checks = [
        Check::plugin("c1", "p.c1", json!({})),
        Check::plugin("c2", "p.c2", json!({})),
    ];
    let line_count = doc.line_count().max(1);
    let mut outcomes: Vec<_> = checks
        .iter()
        .map(|check| {
            let mut findings = Findings::new(check, &doc.path);
            for line in lines {
                let line = usize::from(*line) % line_count + 1;
                findings.report(Position::new(line, 1), "finding");
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
    let about = suppress::apply(doc, &targets, &known, &mut outcomes);
    assert_inside(&doc.text, &about, &doc.path);
    let after: usize = outcomes
        .iter()
        .map(|o| o.findings.len() + o.suppressed.len())
        .sum();
    assert_eq!(before, after, "suppression moves findings, never loses one");
    assert!(
        outcomes[1].suppressed.is_empty(),
        "a check the playbook keeps unsuppressible is never suppressed"
    );
}

/// Renders a template in the environment of step documents (or, for a
/// `when:`, evaluates it) with a small context: it must end, with text
/// within the budget or an error.
pub fn render_template(source: &str) {
    let env = tollgate::render::environment();
    let context = minijinja::context! {
        subject => minijinja::context! { title => "A title", slug => "f-1-a-title" },
        vars => minijinja::context! { a => "x" },
    };
    let started = Instant::now();
    if let Ok(text) = env.render_str(source, context.clone()) {
        let most = tollgate::render::FUEL.saturating_mul(64);
        assert!(text.len() as u64 <= most, "{} bytes", text.len());
    }
    let _ = env
        .compile_expression(source)
        .and_then(|expression| expression.eval(&context));
    // A hang, not a speed: a budget spent takes well under a second.
    assert!(started.elapsed() < Duration::from_secs(60));
}

/// A plugin returning what `value` is, in a project of its own.
pub fn plugin_returning(value: &str) -> Vec<Diagnostic> {
    static TEXT: LazyLock<Document> = LazyLock::new(|| {
        Document::parse_str("doc.md", "# Title\n\nSome text.\n\n## Risks\n\n- a\n")
    });
    let dir = tempfile::tempdir().unwrap();
    let source = format!("return {{ check = function(ctx) return {value} end }}\n");
    std::fs::write(dir.path().join("p.lua"), source).unwrap();
    let set = PluginSet::load(
        dir.path(),
        &IndexMap::from([("p".to_string(), "p.lua".to_string())]),
        dir.path(),
        &Limits {
            plugin_timeout_ms: Some(5_000),
            plugin_memory_mib: Some(64),
        },
        LimitOverrides::default(),
    );
    let vars = IndexMap::new();
    let call = PluginCall {
        doc: Some(&TEXT),
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
        ..Check::plugin("c", "p.check", json!({}))
    };
    let mut findings = Findings::new(&check, "doc.md");
    set.run("p.check", &json!({}), &call, &mut findings);
    let findings = findings.finish().findings;
    for finding in &findings {
        assert!(!finding.message.is_empty());
        if let Some(start) = finding.start {
            assert!(inside(&TEXT.text, start), "{start} for {}", finding.message);
        }
        // A mistake in what was returned names the plugin's file.
        if finding.start.is_none() && finding.message.contains("returned") {
            assert!(finding.message.contains("p.lua"), "{}", finding.message);
        }
    }
    findings
}
