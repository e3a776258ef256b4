//! The built-in check kinds on fixtures named for the rule they show.
//!
//! Each fixture in `tests/fixtures/checks/` is checked, through the library,
//! as the primary artifact of one step of `tests/fixtures/checks/playbook.yaml`
//! (one step per concern, so a fixture fails only the rule it is named for).
//! Every test asserts the verdict and where each finding points, then
//! snapshots the findings as a person reads them: with code frames.

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tollgate::checks::CheckStatus;
use tollgate::engine::{FileList, Options, StatelessRun, StepResult, Verdict};
use tollgate::markdown::Document;
use tollgate::playbook::LoadedPlaybook;
use tollgate::report;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/checks");

fn playbook() -> &'static LoadedPlaybook {
    static PLAYBOOK: OnceLock<LoadedPlaybook> = OnceLock::new();
    PLAYBOOK.get_or_init(|| {
        let file = Path::new(FIXTURES).join("playbook.yaml");
        LoadedPlaybook::load(&file, "playbook.yaml").expect("the fixture playbook loads")
    })
}

fn check_with(step: &str, fixture: &str, options: Options) -> StepResult {
    let run =
        StatelessRun::new(&playbook().playbook, step, None, options).expect("the step exists");
    run.check_file(&Path::new(FIXTURES).join(fixture), fixture)
}

fn check(step: &str, fixture: &str) -> StepResult {
    check_with(step, fixture, Options::default())
}

/// Each finding as `(check, line, column)`.
fn places(result: &StepResult) -> Vec<(&str, usize, usize)> {
    result
        .findings()
        .map(|finding| {
            let start = finding.start.expect("every finding has a position");
            (finding.code.as_str(), start.line, start.column)
        })
        .collect()
}

/// The verdict, each check's status, then the findings with code frames of
/// the file as it was read.
fn render(result: &StepResult) -> String {
    let statuses: Vec<String> = result
        .outcomes
        .iter()
        .map(|outcome| format!("{}: {:?}", outcome.check, outcome.status))
        .collect();
    let findings: Vec<_> = result.findings().cloned().collect();
    let sources = result.source_map();
    format!(
        "verdict: {}\n{}\n\n{}",
        result.verdict.as_str(),
        statuses.join("\n"),
        report::diagnostics_to_string(&findings, &sources)
    )
}

/// Checks a fixture that must fail (or warn): the verdict, where every
/// finding points, and a snapshot named for the fixture.
fn assert_findings(step: &str, fixture: &str, verdict: Verdict, expected: &[(&str, usize, usize)]) {
    let result = check(step, fixture);
    assert_eq!(result.verdict, verdict, "{fixture}: {:#?}", result.outcomes);
    assert_eq!(places(&result), expected, "{fixture}");
    let name = fixture.trim_end_matches(".md");
    insta::assert_snapshot!(name, render(&result));
}

/// Checks a fixture that must pass every check of the step.
fn assert_passes(step: &str, fixture: &str) -> StepResult {
    let result = check(step, fixture);
    assert_eq!(
        result.findings().count(),
        0,
        "{fixture}: {:#?}",
        result.outcomes
    );
    assert_eq!(result.verdict, Verdict::Passed, "{fixture}");
    result
}

/// The evidence of a passed check, as `label: line-end_line`.
fn evidence(result: &StepResult, check: &str) -> Vec<String> {
    let outcome = result
        .outcomes
        .iter()
        .find(|o| o.check == check)
        .expect("the check ran");
    assert_eq!(outcome.status, CheckStatus::Passed, "{check}");
    outcome
        .evidence
        .iter()
        .map(|e| format!("{}: {}-{}", e.label, e.line, e.end_line))
        .collect()
}

fn status(result: &StepResult, check: &str) -> CheckStatus {
    result
        .outcomes
        .iter()
        .find(|o| o.check == check)
        .expect("the check is listed")
        .status
}

#[test]
fn fixture_playbook_lints_clean() {
    let lint = tollgate::playbook::lint::lint(playbook());
    assert!(lint.diagnostics.is_empty(), "{:#?}", lint.diagnostics);
}

// sections

#[test]
fn complete_plan_passes_with_evidence_of_every_section() {
    let result = assert_passes("plan", "plan-complete.md");
    assert_eq!(
        evidence(&result, "plan-covers"),
        [
            "Data models: 3-6",
            "API/Interface design: 7-10",
            "Error handling strategy: 11-14",
            "Failure modes: 15-20",
            "Dependencies: 21-25",
            "Testing strategy: 26-28",
        ]
    );
    // The spec is another artifact: with no subject it has no path.
    assert_eq!(status(&result, "spec-has-problem"), CheckStatus::Skipped);
}

#[test]
fn aliases_are_accepted_at_any_level() {
    let result = assert_passes("plan", "section-aliases.md");
    assert_eq!(
        evidence(&result, "plan-covers")[1],
        "API/Interface design: 7-10"
    );
}

#[test]
fn setext_headings_are_sections() {
    assert_passes("plan", "setext-headings.md");
}

#[test]
fn numbered_headings_match() {
    assert_passes("plan", "numbered-headings.md");
}

#[test]
fn emphasised_headings_match() {
    assert_passes("plan", "emphasised-heading.md");
}

#[test]
fn annotated_headings_match_and_the_evidence_says_why() {
    let result = assert_passes("plan", "annotated-headings.md");
    let outcome = result
        .outcomes
        .iter()
        .find(|o| o.check == "plan-covers")
        .expect("the check ran");
    let notes: Vec<Option<&str>> = outcome.evidence.iter().map(|e| e.note.as_deref()).collect();
    assert_eq!(
        notes,
        [
            Some("heading \"Data models (mandatory)\": its annotation (mandatory) is ignored"),
            Some(
                "heading \"API/Interface design (optional)\": its annotation (optional) is ignored"
            ),
            Some(
                "heading \"Error handling (include if the service can fail)\": its annotation (include if the service can fail) is ignored"
            ),
            Some("heading \"Failure modes (mandatory):\": its annotation (mandatory) is ignored"),
            None,
            None,
        ]
    );
}

#[test]
fn an_annotated_heading_is_found_by_under() {
    assert_passes("gaps", "annotated-under-heading.md");
}

#[test]
fn section_with_only_subsections_is_not_empty() {
    let result = assert_passes("plan", "section-only-subsections.md");
    assert_eq!(evidence(&result, "plan-covers")[3], "Failure modes: 15-24");
}

#[test]
fn missing_section_is_reported_at_line_1() {
    assert_findings(
        "plan",
        "plan-missing-failure-modes.md",
        Verdict::Failed,
        &[("plan-covers", 1, 1)],
    );
}

#[test]
fn heading_in_code_fence_is_not_a_section() {
    assert_findings(
        "plan",
        "heading-in-code-fence.md",
        Verdict::Failed,
        &[("plan-covers", 1, 1)],
    );
}

#[test]
fn heading_in_html_comment_is_not_a_section() {
    assert_findings(
        "plan",
        "heading-in-html-comment.md",
        Verdict::Failed,
        &[("plan-covers", 1, 1)],
    );
}

#[test]
fn empty_sections_are_reported_at_their_heading() {
    assert_findings(
        "plan",
        "empty-section.md",
        Verdict::Failed,
        &[("plan-covers", 15, 1), ("plan-covers", 21, 1)],
    );
}

#[test]
fn crlf_line_endings_keep_lines_and_columns() {
    let bytes = std::fs::read(Path::new(FIXTURES).join("crlf-line-endings.md")).unwrap();
    assert!(
        bytes.windows(2).any(|pair| pair == b"\r\n"),
        "the fixture lost its CRLF line endings"
    );
    assert_findings(
        "plan",
        "crlf-line-endings.md",
        Verdict::Failed,
        &[("plan-covers", 19, 1)],
    );
}

#[test]
fn byte_order_mark_keeps_columns() {
    let bytes = std::fs::read(Path::new(FIXTURES).join("bom.md")).unwrap();
    assert!(
        bytes.starts_with("\u{feff}".as_bytes()),
        "the fixture lost its byte-order mark"
    );
    assert_findings("plan", "bom.md", Verdict::Failed, &[("plan-covers", 1, 1)]);
}

#[test]
fn empty_file_fails_exists_and_sections() {
    assert_findings(
        "plan",
        "empty-file.md",
        Verdict::Failed,
        &[
            ("plan-exists", 1, 1),
            ("plan-covers", 1, 1),
            ("plan-covers", 1, 1),
            ("plan-covers", 1, 1),
            ("plan-covers", 1, 1),
            ("plan-covers", 1, 1),
            ("plan-covers", 1, 1),
        ],
    );
}

#[test]
fn invalid_utf8_is_reported_once() {
    let result = check("plan", "not-utf8.md");
    assert!(result.unreadable);
    assert_findings(
        "plan",
        "not-utf8.md",
        Verdict::Failed,
        &[("plan-exists", 5, 4)],
    );
}

#[test]
fn missing_file_is_reported_once() {
    let result = check("plan", "no-such-file.md");
    assert!(result.unreadable);
    assert_eq!(result.verdict, Verdict::Failed);
    let findings: Vec<_> = result.findings().collect();
    assert_eq!(findings.len(), 1);
    let finding = findings[0];
    assert_eq!(finding.code, "plan-exists");
    assert_eq!(finding.message, "the file does not exist");
    // A file that is not there has no line to frame: the finding names it.
    assert_eq!(finding.start, None);
    assert_eq!(
        finding.help.as_deref(),
        Some("create no-such-file.md: this step must produce it")
    );
}

#[test]
fn ordered_outline_passes() {
    let result = assert_passes("outline", "outline-complete.md");
    assert_eq!(
        evidence(&result, "outline-order"),
        [
            "Summary: 3-7",
            "Architecture: 8-15",
            "Key decisions: 12-15",
            "Rollout: 16-18"
        ]
    );
}

#[test]
fn section_out_of_order_is_reported_at_its_heading() {
    assert_findings(
        "outline",
        "sections-out-of-order.md",
        Verdict::Failed,
        &[("outline-order", 8, 1)],
    );
}

#[test]
fn missing_section_with_order_is_reported_where_it_belongs() {
    assert_findings(
        "outline",
        "section-missing-with-order.md",
        Verdict::Failed,
        &[("outline-order", 8, 1)],
    );
}

#[test]
fn section_at_the_wrong_level_is_reported_once_at_its_heading() {
    assert_findings(
        "outline",
        "section-wrong-level.md",
        Verdict::Failed,
        &[("outline-order", 8, 1)],
    );
}

#[test]
fn missing_section_with_a_level_is_reported_before_the_next_with_its_heading() {
    assert_findings(
        "outline",
        "section-missing-level-3.md",
        Verdict::Failed,
        &[("outline-order", 12, 1)],
    );
    let result = check("outline", "section-missing-level-3.md");
    let help = result.findings().next().unwrap().help.as_deref();
    assert_eq!(
        help,
        Some("add a heading `### Key decisions` with its content")
    );
}

#[test]
fn section_with_too_few_words_spans_its_body() {
    assert_findings(
        "outline",
        "section-too-few-words.md",
        Verdict::Failed,
        &[("outline-order", 3, 1)],
    );
}

// table

#[test]
fn spec_gaps_table_passes_with_an_allowed_empty_status() {
    let result = assert_passes("gaps", "gaps-complete.md");
    assert_eq!(evidence(&result, "spec-gaps"), ["2 rows: 5-8"]);
}

#[test]
fn table_missing_a_column_is_reported_at_its_header() {
    assert_findings(
        "gaps",
        "table-missing-column.md",
        Verdict::Failed,
        &[("spec-gaps", 5, 1)],
    );
}

#[test]
fn empty_owner_cells_are_reported_at_their_rows() {
    assert_findings(
        "gaps",
        "table-empty-owner-cell.md",
        Verdict::Failed,
        &[("spec-gaps", 8, 1), ("spec-gaps", 9, 1)],
    );
}

#[test]
fn table_in_html_comment_is_not_a_table() {
    assert_findings(
        "gaps",
        "table-in-html-comment.md",
        Verdict::Failed,
        &[("spec-gaps", 3, 1)],
    );
}

#[test]
fn table_under_another_heading_does_not_count() {
    assert_findings(
        "gaps",
        "table-under-other-heading.md",
        Verdict::Failed,
        &[("spec-gaps", 3, 1)],
    );
}

#[test]
fn table_under_a_missing_heading_reports_the_heading() {
    assert_findings(
        "gaps",
        "table-under-missing-heading.md",
        Verdict::Failed,
        &[("spec-gaps", 1, 1)],
    );
}

#[test]
fn risks_register_with_four_rows_passes() {
    assert_passes("risks", "risks-complete.md");
}

#[test]
fn unrelated_table_is_not_the_wanted_table() {
    assert_findings(
        "risks",
        "table-unrelated-only.md",
        Verdict::Failed,
        &[("risks-register", 1, 1)],
    );
}

#[test]
fn table_with_too_few_rows_spans_the_table() {
    assert_findings(
        "risks",
        "table-too-few-rows.md",
        Verdict::Failed,
        &[("risks-register", 5, 1)],
    );
}

// checklist

#[test]
fn ticked_readiness_checklist_passes() {
    let result = assert_passes("readiness", "readiness-complete.md");
    assert_eq!(
        evidence(&result, "readiness-checklist"),
        ["7/7 ticked: 5-11"]
    );
}

#[test]
fn open_boxes_are_reported_at_the_box() {
    assert_findings(
        "readiness",
        "open-box-in-readiness-checklist.md",
        Verdict::Failed,
        &[
            ("readiness-checklist", 8, 3),
            ("readiness-checklist", 11, 5),
        ],
    );
}

#[test]
fn missing_checklist_item_is_reported_at_the_heading() {
    assert_findings(
        "readiness",
        "missing-checklist-item.md",
        Verdict::Failed,
        &[("readiness-checklist", 3, 1)],
    );
}

#[test]
fn plain_bullets_and_fenced_boxes_are_no_task_list() {
    assert_findings(
        "readiness",
        "no-task-list.md",
        Verdict::Failed,
        &[("readiness-checklist", 3, 1)],
    );
}

#[test]
fn checklist_under_a_missing_heading_reports_the_heading() {
    assert_findings(
        "readiness",
        "checklist-under-missing-heading.md",
        Verdict::Failed,
        &[("readiness-checklist", 1, 1)],
    );
}

#[test]
fn box_in_code_fence_is_not_a_box() {
    let result = assert_passes("tasks", "box-in-code-fence.md");
    assert_eq!(evidence(&result, "tasks-done"), ["2/2 ticked: 3-4"]);
}

#[test]
fn open_tasks_anywhere_are_reported_at_each_box() {
    assert_findings(
        "tasks",
        "tasks-open.md",
        Verdict::Failed,
        &[
            ("tasks-done", 6, 3),
            ("tasks-done", 11, 4),
            ("tasks-done", 13, 6),
        ],
    );
}

// pattern

#[test]
fn gate_pass_closes_the_plan() {
    let result = assert_passes("gate", "gate-pass.md");
    assert_eq!(evidence(&result, "gate-line"), ["Gate: PASS: 11-11"]);
    assert_eq!(
        evidence(&result, "decision-recorded"),
        ["Decision: store vectors in PostgreSQL.: 5-5"]
    );
}

#[test]
fn gate_fail_with_a_reason_is_a_closing_line() {
    assert_passes("gate", "gate-fail-with-reason.md");
}

#[test]
fn a_declared_failure_is_reported_with_its_reason_from_the_captures() {
    let result = check("declared", "gate-fail-with-reason.md");
    assert_eq!(result.verdict, Verdict::Failed);
    assert_eq!(places(&result), [("gate-not-failed", 7, 1)]);
    let finding = result.findings().next().unwrap();
    assert_eq!(
        finding.message,
        "the gate is declared failed: the retention period is not agreed yet"
    );
    insta::assert_snapshot!("gate-declared-failed", render(&result));
    assert_passes("declared", "gate-pass.md");
    // Nothing closes an empty document, so nothing there is declared failed.
    assert_passes("declared", "empty-file.md");
}

#[test]
fn gate_line_with_trailing_spaces_matches() {
    assert_passes("gate", "gate-line-trailing-space.md");
}

#[test]
fn gate_line_with_an_inline_comment_matches() {
    assert_passes("gate", "gate-line-with-inline-comment.md");
}

#[test]
fn gate_line_not_last_is_reported_at_the_last_line() {
    assert_findings(
        "gate",
        "gate-line-not-last.md",
        Verdict::Failed,
        &[("gate-line", 9, 1)],
    );
}

#[test]
fn gate_line_in_code_block_does_not_count() {
    assert_findings(
        "gate",
        "gate-line-in-code-block.md",
        Verdict::Failed,
        &[("gate-line", 7, 1)],
    );
}

#[test]
fn gate_line_in_html_comment_does_not_count() {
    assert_findings(
        "gate",
        "gate-line-in-html-comment.md",
        Verdict::Failed,
        &[("gate-line", 7, 1)],
    );
}

#[test]
fn gate_fail_without_a_reason_is_reported() {
    assert_findings(
        "gate",
        "gate-line-malformed.md",
        Verdict::Failed,
        &[("gate-line", 7, 1)],
    );
}

#[test]
fn pattern_under_a_heading_ignores_code_and_other_sections() {
    assert_findings(
        "gate",
        "decision-missing.md",
        Verdict::Failed,
        &[("decision-recorded", 3, 1)],
    );
}

#[test]
fn absent_pattern_warns_at_each_occurrence() {
    assert_findings(
        "gate",
        "tbd-remains.md",
        Verdict::Passed,
        &[("no-tbd", 5, 64), ("no-tbd", 9, 16)],
    );
    let strict = check_with(
        "gate",
        "tbd-remains.md",
        Options {
            strict: true,
            ..Options::default()
        },
    );
    assert_eq!(strict.verdict, Verdict::Failed);
}

#[test]
fn absent_pattern_reports_every_match_on_a_line_with_its_own_groups() {
    assert_findings(
        "values",
        "template-values-share-a-line.md",
        Verdict::Failed,
        &[
            ("template-values", 3, 36),
            ("template-values", 3, 70),
            ("template-values", 5, 7),
            ("template-values", 5, 21),
            ("template-values", 5, 36),
        ],
    );
    let result = check("values", "template-values-share-a-line.md");
    let messages: Vec<&str> = result.findings().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "the template value RATIFIED_ON is left in",
            "the template value AMENDED_ON is left in",
            "the template value STATE is left in",
            "the template value ACTION is left in",
            "the template value OUTCOME is left in",
        ]
    );
}

// placeholders

#[test]
fn placeholders_as_field_values_are_reported_with_the_message_template() {
    assert_findings(
        "clarify",
        "placeholder-as-field-value.md",
        Verdict::Failed,
        &[
            ("no-placeholders", 1, 24),
            ("no-placeholders", 8, 47),
            ("no-placeholders", 9, 14),
            ("no-placeholders", 10, 15),
            ("no-placeholders", 14, 11),
            ("no-placeholders", 18, 1),
        ],
    );
}

#[test]
fn placeholders_made_of_symbols_are_found_where_word_markers_are() {
    assert_findings(
        "symbols",
        "placeholder-symbols.md",
        Verdict::Failed,
        &[
            ("no-symbol-placeholders", 5, 11),
            ("no-symbol-placeholders", 6, 9),
            ("no-symbol-placeholders", 8, 7),
            ("no-symbol-placeholders", 9, 7),
            ("no-symbol-placeholders", 11, 1),
            ("no-symbol-placeholders", 13, 3),
            ("no-symbol-placeholders", 14, 13),
            ("no-symbol-placeholders", 15, 13),
            ("no-symbol-placeholders", 23, 10),
        ],
    );
}

#[test]
fn placeholders_only_mentioned_pass() {
    assert_passes("clarify", "placeholder-only-mentioned.md");
}

#[test]
fn placeholders_in_code_and_comments_pass() {
    assert_passes("clarify", "placeholder-in-code.md");
}

// words

#[test]
fn too_few_words_in_a_section() {
    assert_findings(
        "length",
        "words-too-few.md",
        Verdict::Failed,
        &[("summary-length", 3, 1)],
    );
}

#[test]
fn too_many_words_in_a_section() {
    assert_findings(
        "length",
        "words-too-many.md",
        Verdict::Failed,
        &[("summary-length", 3, 1)],
    );
}

#[test]
fn code_and_comments_are_not_words() {
    let result = assert_passes("length", "words-in-code-not-counted.md");
    assert_eq!(evidence(&result, "summary-length"), ["13 words: 3-21"]);
    // `when: not vars.strict_mode` is true and `when: vars.strict_mode` is
    // false: one check ran, the other never did.
    assert_eq!(evidence(&result, "document-length"), ["15 words: 1-21"]);
    assert_eq!(
        status(&result, "document-length-strict"),
        CheckStatus::Skipped
    );
}

#[test]
fn markup_is_not_words() {
    let result = assert_passes("length", "words-markup-not-counted.md");
    assert_eq!(evidence(&result, "document-length"), ["139 words: 1-53"]);
}

#[test]
fn long_document_is_a_warning() {
    assert_findings(
        "length",
        "words-document-too-long.md",
        Verdict::Passed,
        &[("document-length", 1, 1)],
    );
}

// gates

#[test]
fn human_gate_with_passing_checks_awaits_approval() {
    let result = check("review", "review-ready.md");
    assert_eq!(result.findings().count(), 0);
    assert_eq!(result.verdict, Verdict::AwaitingApproval);
}

#[test]
fn json_findings_carry_path_positions_and_check() {
    let result = check("readiness", "open-box-in-readiness-checklist.md");
    insta::assert_json_snapshot!(report::check_json(&playbook().playbook.name, &[result]));
}

/// Every fixture parses, and no check kind panics on any of them.
#[test]
fn every_step_runs_on_every_fixture() {
    let steps: Vec<&str> = playbook()
        .playbook
        .steps
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    let mut fixtures = 0;
    for entry in std::fs::read_dir(FIXTURES).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "md") {
            continue;
        }
        fixtures += 1;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Ok(text) = std::fs::read_to_string(&path) {
            let document = Document::parse_str(&name, &text);
            assert!(document.line_count() <= text.len(), "{name}");
        }
        for step in &steps {
            let result = check(step, &name);
            for finding in result.findings() {
                let start = finding.start.unwrap();
                assert!(
                    start.line >= 1 && start.column >= 1,
                    "{name} {step}: {finding:?}"
                );
            }
        }
    }
    assert!(fixtures >= 50, "only {fixtures} fixtures");
}

/// Many files named for one fixture, counting how many were asked for.
struct Repeated {
    fixture: &'static str,
    times: usize,
    started: AtomicUsize,
}

impl FileList for Repeated {
    fn count(&self) -> usize {
        self.times
    }

    fn file(&self, _: usize) -> std::path::PathBuf {
        self.started.fetch_add(1, Ordering::SeqCst);
        Path::new(FIXTURES).join(self.fixture)
    }

    fn shown(&self, index: usize, _: Option<&Path>) -> String {
        format!("{index}.md")
    }
}

#[test]
fn results_are_handed_on_in_order_while_later_files_wait_their_turn() {
    let files = Repeated {
        fixture: "plan-missing-failure-modes.md",
        times: 3_000,
        started: AtomicUsize::new(0),
    };
    let run = StatelessRun::new(&playbook().playbook, "plan", None, Options::default())
        .expect("the step exists");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a pool");
    let (started_at_first, shown) = pool.install(|| {
        run.check_files_in_order(&files, &|| {}, |results| {
            let first = results.next().expect("a first result");
            let started_at_first = files.started.load(Ordering::SeqCst);
            let mut shown = vec![first.target()];
            shown.extend(results.map(|result| result.target()));
            (started_at_first, shown)
        })
    });
    // Streamed: the first result came while most files were not yet read,
    // so memory does not grow with their number.
    assert!(
        started_at_first < 200,
        "{started_at_first} of 3000 files were read before the first result came"
    );
    let expected: Vec<String> = (0..3_000).map(|index| format!("{index}.md")).collect();
    assert_eq!(shown, expected);
}
