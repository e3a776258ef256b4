use std::fmt::Write as _;
use std::path::Path;

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/markdown");
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/real");

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}/{name}");
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

fn fixture(name: &str) -> Document {
    let document = Document::parse(name, &fixture_bytes(name)).expect("fixture is UTF-8");
    check_invariants(&document);
    document
}

fn parse(text: &str) -> Document {
    let document = Document::parse_str("test.md", text);
    check_invariants(&document);
    document
}

fn titles(document: &Document) -> Vec<&str> {
    document
        .sections
        .iter()
        .map(|section| section.title.as_str())
        .collect()
}

fn position(line: usize, column: usize) -> Position {
    Position { line, column }
}

fn char_at(document: &Document, position: Position) -> Option<char> {
    document
        .line_text(position.line)?
        .chars()
        .nth(position.column - 1)
}

/// Facts that must hold for any input.
fn check_invariants(document: &Document) {
    let line_count = document.line_count();
    for (index, line) in document.lines().enumerate() {
        assert_eq!(line.number, index + 1);
    }
    for (index, section) in document.sections.iter().enumerate() {
        assert!((1..=6).contains(&section.level));
        assert!(section.position.line >= 1 && section.position.column >= 1);
        assert!(section.body_start_line > section.position.line);
        assert!(section.end_line >= section.position.line);
        assert!(section.end_line <= line_count.max(section.position.line));
        assert_eq!(section.normalized, normalize_title(&section.title));
        if let Some(parent) = section.parent {
            assert!(parent < index);
            assert!(document.sections[parent].level < section.level);
            assert!(document.section_contains(parent, Some(index)));
        }
        let has_subsection = document
            .sections
            .get(index + 1)
            .is_some_and(|next| next.position.line <= section.end_line);
        assert_eq!(section.empty, !section.own_content && !has_subsection);
    }
    for table in &document.tables {
        assert!(table.position.line <= table.end_line && table.end_line <= line_count);
        for row in &table.rows {
            assert_eq!(row.cells.len(), table.header.len());
            assert!(row.line > table.position.line && row.line <= table.end_line);
        }
        for cell in table
            .header
            .iter()
            .chain(table.rows.iter().flat_map(|row| &row.cells))
        {
            assert!(cell.position.column >= 1);
        }
        if let Some(section) = table.section {
            assert!(document.sections[section].position.line < table.position.line);
            assert!(document.sections[section].end_line >= table.end_line);
        }
    }
    for task in &document.tasks {
        assert_eq!(char_at(document, task.position), Some('['), "{task:?}");
        if let Some(section) = task.section {
            assert!(document.sections[section].end_line >= task.position.line);
        }
    }
    for pair in document.directives.windows(2) {
        assert!(pair[0].position < pair[1].position, "{pair:?}");
    }
    for directive in &document.directives {
        assert!(directive.position < directive.end, "{directive:?}");
        assert!(directive.end.line <= line_count, "{directive:?}");
    }
}

/// A compact, reviewable rendering of the whole model.
fn summary(document: &Document) -> String {
    let mut out = String::new();
    writeln!(out, "lines: {}", document.line_count()).unwrap();
    let code_lines: Vec<String> = document
        .lines()
        .filter(|line| line.in_code)
        .map(|line| line.number.to_string())
        .collect();
    writeln!(out, "code lines: [{}]", code_lines.join(" ")).unwrap();
    if let Some(front_matter) = &document.front_matter {
        writeln!(
            out,
            "front matter: lines {}-{} {:?}",
            front_matter.line, front_matter.end_line, front_matter.text
        )
        .unwrap();
    }
    for (index, section) in document.sections.iter().enumerate() {
        let indent = "  ".repeat(usize::from(section.level) - 1);
        writeln!(
            out,
            "section {index}: {indent}h{} {:?} key {:?} at {}:{} body {}-{} parent {:?} words {}{}{}",
            section.level,
            section.title,
            section.normalized,
            section.position.line,
            section.position.column,
            section.body_start_line,
            section.end_line,
            section.parent,
            section.words,
            if section.own_content { " own-content" } else { "" },
            if section.empty { " EMPTY" } else { "" },
        )
        .unwrap();
    }
    for table in &document.tables {
        writeln!(
            out,
            "table at {}:{}-{} in section {:?}",
            table.position.line, table.position.column, table.end_line, table.section
        )
        .unwrap();
        writeln!(out, "  header: {}", cells(&table.header)).unwrap();
        for row in &table.rows {
            writeln!(out, "  row {}: {}", row.line, cells(&row.cells)).unwrap();
        }
    }
    for task in &document.tasks {
        writeln!(
            out,
            "task [{}] {:?} at {}:{} in section {:?}",
            if task.checked { "x" } else { " " },
            task.text,
            task.position.line,
            task.position.column,
            task.section
        )
        .unwrap();
    }
    out
}

fn cells(cells: &[Cell]) -> String {
    cells
        .iter()
        .map(|cell| format!("{:?}@{}", cell.text, cell.position.column))
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn fixture_summaries() {
    insta::glob!("../../tests/fixtures/markdown", "*.md", |path| {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let rendered = match Document::parse(name.as_ref(), &bytes) {
            Ok(document) => {
                check_invariants(&document);
                summary(&document)
            }
            Err(error) => format!("error: {error}\n"),
        };
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(rendered);
        });
    });
}

#[test]
fn headings_in_code_blocks_are_not_sections() {
    let document = fixture("heading-in-code-fence.md");
    assert_eq!(titles(&document), ["Plan", "Real heading"]);
    let code: Vec<usize> = document
        .lines()
        .filter(|line| line.in_code)
        .map(|line| line.number)
        .collect();
    assert_eq!(code, [3, 4, 5, 6, 8, 9, 10, 12]);
    assert_eq!(document.sections[0].end_line, 16);
    assert_eq!(document.sections[0].words, 3);
}

#[test]
fn setext_headings_are_sections() {
    let document = fixture("setext-headings.md");
    let summary: Vec<(u8, &str, usize, usize, usize)> = document
        .sections
        .iter()
        .map(|section| {
            let start = section.position.line;
            (
                section.level,
                section.title.as_str(),
                start,
                section.body_start_line,
                section.end_line,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "Document Title", 1, 3, 16),
            (2, "First Part", 6, 8, 10),
            (2, "ATX inside", 11, 12, 14),
            (2, "Second Part", 15, 17, 16),
        ]
    );
    assert_eq!(document.sections[3].parent, Some(0));
    assert!(document.sections[3].empty);
}

#[test]
fn crlf_line_endings_match_lf() {
    let bytes = fixture_bytes("crlf-line-endings.md");
    assert!(
        bytes.windows(2).any(|pair| pair == b"\r\n"),
        "the fixture lost its CRLF line endings"
    );
    let lf = String::from_utf8(bytes.clone())
        .unwrap()
        .replace("\r\n", "\n");
    let crlf = fixture("crlf-line-endings.md");
    assert_eq!(crlf, Document::parse_str("crlf-line-endings.md", &lf));
    assert_eq!(crlf.line_count(), 14);
    assert!(crlf.lines().all(|line| !line.text.contains('\r')));
    assert_eq!(crlf.last_prose_line().map(|line| line.number), Some(14));
    assert_eq!(crlf.tables[0].rows[0].cells[1].position, position(12, 10));
}

#[test]
fn lone_carriage_returns_end_lines() {
    let document = parse("# A\r\rtext\r## B\r");
    assert_eq!(document.line_count(), 4);
    assert_eq!(document.sections[1].position, position(4, 1));
    assert_eq!(document.text, "# A\n\ntext\n## B\n");
}

#[test]
fn byte_order_mark_changes_no_position() {
    let document = fixture("bom.md");
    assert!(!document.text.starts_with('\u{feff}'));
    assert_eq!(document.sections[0].title, "Title with BOM");
    assert_eq!(document.sections[0].position, position(1, 1));
    assert_eq!(document.tasks[0].position, position(3, 3));
    let without_bom = Document::parse("bom.md", &fixture_bytes("bom.md")[3..]).unwrap();
    assert_eq!(document, without_bom);
}

#[test]
fn invalid_utf8_reports_first_bad_byte() {
    let error = Document::parse("not-utf8.md", &fixture_bytes("not-utf8.md")).unwrap_err();
    assert_eq!(
        error,
        DocumentError::NotUtf8 {
            path: "not-utf8.md".into(),
            line: 4,
            column: 6
        }
    );
    assert_eq!(
        error.to_string(),
        "not-utf8.md:4:6: the file is not valid UTF-8"
    );
}

#[test]
fn invalid_utf8_position_ignores_bom_and_counts_crlf_once() {
    let error = Document::parse("x.md", b"\xef\xbb\xbfab\r\n\r\ncd\xc3").unwrap_err();
    assert_eq!(
        error,
        DocumentError::NotUtf8 {
            path: "x.md".into(),
            line: 3,
            column: 3
        }
    );
}

#[test]
fn empty_file_has_no_lines() {
    let document = fixture("empty.md");
    assert!(document.lines().next().is_none());
    assert!(
        document.sections.is_empty() && document.tables.is_empty() && document.tasks.is_empty()
    );
    assert_eq!(document.prose_lines(None).count(), 0);
    assert!(document.last_prose_line().is_none());
    assert_eq!(parse("\n").line_count(), 1);
}

#[test]
fn tables_and_tasks_in_html_comments_do_not_count() {
    let document = fixture("table-in-html-comment.md");
    assert_eq!(titles(&document), ["Tables"]);
    assert!(document.tasks.is_empty());
    assert_eq!(document.tables.len(), 1);
    let table = &document.tables[0];
    assert_eq!(table.position, position(11, 1));
    assert_eq!(table.section, Some(0));
    assert!((3..=9).all(|line| document.line(line).unwrap().in_code));
    assert!(!document.sections[0].empty);
}

#[test]
fn tasks_in_code_blocks_do_not_count() {
    let document = fixture("task-in-fence.md");
    let tasks: Vec<(bool, &str, Position)> = document
        .tasks
        .iter()
        .map(|task| (task.checked, task.text.as_str(), task.position))
        .collect();
    assert_eq!(
        tasks,
        [
            (false, "real task", position(3, 3)),
            (true, "real done", position(14, 3))
        ]
    );
}

#[test]
fn numbered_and_emphasised_headings_normalise() {
    let document = fixture("numbered-emphasised-headings.md");
    let keys: Vec<(&str, &str)> = document
        .sections
        .iter()
        .map(|section| (section.title.as_str(), section.normalized.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("1. Overview", "overview"),
            ("3. Failure modes:", "failure modes"),
            ("3.1 Recovery Plan", "recovery plan"),
            ("6.2. API/Interface design", "api/interface design"),
            ("3) Rollout", "rollout"),
            ("Risks", "risks"),
            ("2024 Roadmap", "roadmap"),
            ("10", "10"),
        ]
    );
}

#[test]
fn normalize_title_cases() {
    let cases = [
        ("**3.1 Failure Modes**:", "failure modes"),
        ("API/Interface design", "api/interface design"),
        ("  Summary  ", "summary"),
        ("Technical\t  Context", "technical context"),
        ("__Risks__ :", "risks"),
        ("~~Old~~ `Plan`", "old plan"),
        ("6.2. Rollout", "rollout"),
        ("3) Rollout", "rollout"),
        ("3 Rollout", "rollout"),
        ("3.Rollout", "3.rollout"),
        ("3..1 Rollout", "3..1 rollout"),
        ("Phase 1: Setup", "phase 1: setup"),
        ("Überblick", "überblick"),
        ("3.", "3."),
        ("", ""),
        (":", ""),
        (
            "User Scenarios & Testing *(mandatory)*",
            "user scenarios & testing",
        ),
        (
            "Key Entities *(include if feature involves data)*",
            "key entities",
        ),
        ("Assumptions _(optional)_", "assumptions"),
        ("Requirements (mandatory):", "requirements"),
        ("Risks (see (a) below)", "risks"),
        ("(mandatory)", "(mandatory)"),
        ("Rollout(v2)", "rollout(v2)"),
        ("Notes (open", "notes (open"),
    ];
    for (title, expected) in cases {
        assert_eq!(normalize_title(title), expected, "{title:?}");
    }
}

#[test]
fn section_with_only_subsections_is_not_empty() {
    let document = fixture("section-only-subsections.md");
    let design = &document.sections[0];
    assert!(!design.own_content);
    assert!(!design.empty);
    assert_eq!(design.end_line, 10);
    assert_eq!(design.words, 10);
    assert_eq!(document.sections[1].parent, Some(0));
    assert_eq!(document.sections[2].parent, Some(0));
    assert_eq!(document.sections[3].parent, None);
    assert!(document.sections[3].empty);
    assert!(document.section_contains(0, Some(2)));
    assert!(!document.section_contains(1, Some(2)));
    assert!(!document.section_contains(0, Some(3)));
    assert!(!document.section_contains(0, None));
}

#[test]
fn comments_and_separators_are_not_content() {
    let document = fixture("empty-section.md");
    let flags: Vec<(&str, bool, bool, usize)> = document
        .sections
        .iter()
        .map(|section| {
            (
                section.title.as_str(),
                section.own_content,
                section.empty,
                section.words,
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            ("Plan", false, false, 4),
            ("Summary", false, true, 0),
            ("Risks", false, true, 0),
            ("Testing", true, false, 0),
            ("Notes", false, true, 0),
        ]
    );
    assert_eq!(document.sections[4].end_line, document.line_count());
}

#[test]
fn inline_comments_are_blanked_in_line_text() {
    let document = fixture("inline-comments.md");
    let line = |number: usize| document.line_text(number).unwrap();
    assert_eq!(document.sections[0].title, "Notes");
    assert_eq!(
        line(3),
        format!("Status: draft {} for now.", " ".repeat(21))
    );
    assert_eq!(line(5), format!("Spans {}", " ".repeat(6)));
    assert_eq!(line(6), format!("{} end.", " ".repeat(22)));
    assert_eq!(line(8), "Code `<!-- not a comment -->` stays.");
    assert_eq!(line(12), format!("| \\| é {} | z |", " ".repeat(10)));
    assert!(document.text.contains("<!-- Status: PASS -->"));
    assert!(!document.lines().any(|line| line.in_code));
    for (line, original) in document.lines().zip(document.text.lines()) {
        assert_eq!(line.text.chars().count(), original.chars().count());
    }
    assert_eq!(document.last_prose_line().unwrap().text, "Gate: PASS");
    assert_eq!(document.tables[0].rows[0].cells[0].text, "| é");
}

#[test]
fn ragged_rows_are_padded_and_truncated() {
    let document = fixture("ragged-table.md");
    let table = &document.tables[0];
    let texts: Vec<Vec<&str>> = table
        .rows
        .iter()
        .map(|row| row.cells.iter().map(|cell| cell.text.as_str()).collect())
        .collect();
    assert_eq!(
        texts,
        [
            vec!["lint", "ok", ""],
            vec!["tests", "ok", "all green"],
            vec!["", "", ""]
        ]
    );
    assert_eq!(table.header[1].position, position(3, 11));
    assert_eq!(table.rows[1].cells[1].position, position(6, 11));
    assert_eq!(table.section, Some(0));
}

#[test]
fn front_matter_is_code_and_kept_apart() {
    let document = fixture("front-matter.md");
    assert_eq!(
        document.front_matter,
        Some(FrontMatter {
            text: "title: Plan\nstatus: draft".into(),
            line: 1,
            end_line: 4
        })
    );
    assert!((1..=4).all(|line| document.line(line).unwrap().in_code));
    assert!(!document.line(5).unwrap().in_code);
    assert_eq!(titles(&document), ["Plan"]);
    assert_eq!(document.sections[0].position, position(6, 1));
}

#[test]
fn columns_count_characters() {
    let document = fixture("unicode-columns.md");
    let table = &document.tables[0];
    assert_eq!(table.header[1].position, position(3, 8));
    assert_eq!(table.rows[0].cells[0].position, position(5, 3));
    assert_eq!(table.rows[0].cells[1].position, position(5, 7));
    assert_eq!(document.tasks[0].position, position(7, 3));
    assert_eq!(document.tasks[0].text, "完了 task");
    assert_eq!(document.tasks[1].position, position(8, 5));
    let quoted = parse("> é ## not\n\n> ## Ünïcode\n");
    assert_eq!(quoted.sections[0].position, position(3, 3));
}

#[test]
fn find_section_matches_titles_aliases_and_levels() {
    let document = parse("# Plan\n## **2. Risks**:\n### Risks\n## Testing Strategy\n");
    let found = |title: &str, aliases: &[&str], level: Option<u8>| {
        let aliases: Vec<String> = aliases.iter().map(ToString::to_string).collect();
        document
            .find_section(title, &aliases, level)
            .map(|(index, _)| index)
    };
    assert_eq!(found("risks", &[], None), Some(1));
    assert_eq!(found("Risks", &[], Some(3)), Some(2));
    assert_eq!(found("Tests", &["testing strategy"], None), Some(3));
    assert_eq!(found("Tests", &[], None), None);
    assert_eq!(found("Plan", &[], Some(2)), None);
}

#[test]
fn lines_borrow_the_text_and_serialise_as_a_list() {
    let document = parse("# A\n\nkeep <!-- hidden --> this\n```\n<!-- x -->\n```\n");
    let lines: Vec<Line<'_>> = document.lines().collect();
    assert_eq!(lines.len(), document.line_count());
    assert_eq!(document.line(3), Some(lines[2]));
    assert_eq!(lines[2].text, format!("keep {} this", " ".repeat(15)));
    assert_eq!(document.line_text(5), Some("<!-- x -->"));
    // Only the blanked line has text of its own; the rest is the document's.
    assert_eq!(document.lines.blanked, lines[2].text);
    let code = document.text.find("<!-- x").unwrap();
    assert!(std::ptr::eq(
        lines[4].text.as_ptr(),
        document.text[code..].as_ptr()
    ));
    let json = serde_json::to_value(&document).unwrap();
    assert_eq!(
        json["lines"][2],
        serde_json::json!({"number": 3, "text": lines[2].text, "in_code": false})
    );
    assert_eq!(
        json["lines"][4],
        serde_json::json!({"number": 5, "text": "<!-- x -->", "in_code": true})
    );
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "path",
            "text",
            "lines",
            "words",
            "sections",
            "tables",
            "tasks",
            "code_blocks",
            "front_matter",
            "directives"
        ]
    );
}

#[test]
fn prose_lines_skip_code_and_stay_in_section() {
    let document = parse("# A\none\n```\ncode\n```\n## B\ntwo\n# C\nthree\n");
    let numbers = |section| {
        document
            .prose_lines(section)
            .map(|line| line.number)
            .collect::<Vec<_>>()
    };
    assert_eq!(numbers(Some(0)), [2, 6, 7]);
    assert_eq!(numbers(Some(1)), [7]);
    assert_eq!(numbers(Some(2)), [9]);
    assert_eq!(numbers(None), [1, 2, 6, 7, 8, 9]);
    assert_eq!(numbers(Some(9)), Vec::<usize>::new());
    assert_eq!(document.line_text(0), None);
    assert_eq!(document.line_text(9), Some("three"));
    assert_eq!(document.line_text(10), None);
}

#[test]
fn last_prose_line_skips_trailing_code_and_comments() {
    let document = parse("Intro\n\nGate: PASS\n\n<!--\nnote\n-->\n\n```\nx\n```\n\n");
    assert_eq!(document.last_prose_line().map(|line| line.number), Some(3));
}

#[test]
fn headings_in_containers_and_html_blocks() {
    let document =
        parse("<details>\n\n## Inside details\n\n</details>\n\n<div>\n## In html block\n</div>\n");
    assert_eq!(titles(&document), ["Inside details"]);
    assert!(document.line(8).unwrap().in_code);
}

#[test]
fn pathological_inputs_do_not_panic() {
    let inputs = [
        ">".repeat(20_000),
        "- ".repeat(5_000) + "[ ] deep",
        (0..3_000)
            .map(|depth| format!("{}- [x] item\n", "  ".repeat(depth)))
            .collect(),
        "[".repeat(20_000) + &"]".repeat(20_000),
        "*".repeat(20_000) + "a" + &"_".repeat(20_000),
        "`".repeat(20_000),
        "<!--".repeat(5_000),
        "x <!-- c --> ".repeat(20_000),
        "é".repeat(200_000),
        "# ".repeat(10_000),
        format!(
            "{}|\n{}|\n{}|\n",
            "| é ".repeat(5_000),
            "|---".repeat(5_000),
            "| \\| ".repeat(5_000)
        ),
        "---\n".to_owned(),
        "---\n---\n".to_owned(),
        "---\na: b\n---".to_owned(),
        "\0\u{1}\u{202e}\u{feff}\u{fffd}\t\u{200b}#\0 x\n| a |\n|-|\n| \0 |\n- [\0] z\n".to_owned(),
        "Title\n===\n===\n---\n- [ ]\n".to_owned(),
        "\t- [ ]\ttab\n\t\t- [x] tabs\n".to_owned(),
        "<!-- tollgate-disable a: b --><!-- tollgate-enable a -->".repeat(5_000),
        "x <!-- tollgate-disable-next-line é: é\n-->\n".repeat(5_000),
        "<!-- tollgate-".repeat(5_000),
    ];
    for input in inputs {
        let document = parse(&input);
        assert_eq!(document.line_count(), input.lines().count());
    }
}

/// Markdown-ish noise from a fixed pseudo-random sequence: every document
/// must parse and keep the model's invariants.
#[test]
fn random_markdown_keeps_invariants() {
    const PIECES: [&str; 24] = [
        "# ", "## ", "### ", "\n", "\n\n", "- [ ] ", "- [x] ", "| ", " |", "|---", "```", "~~~",
        "<!-- ", " -->", "    ", "> ", "**", "_", "é", "好", "\r\n", "===", "---", "word ",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..300 {
        let mut text = String::new();
        for _ in 0..200 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push_str(PIECES[(state % PIECES.len() as u64) as usize]);
        }
        let document = parse(&text);
        assert_eq!(document.text, text.replace("\r\n", "\n"));
    }
}

/// The Markdown files of the shared corpus of real planning documents, or
/// `None` when it is absent.
fn real_corpus() -> Option<Vec<std::path::PathBuf>> {
    let root = Path::new(CORPUS);
    if !root.is_dir() {
        eprintln!("skipping the real corpus: {CORPUS} is absent");
        return None;
    }
    let mut stack = vec![root.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|extension| extension == "md") {
                files.push(path);
            }
        }
    }
    Some(files)
}

/// Real planning documents, when the shared corpus is present: nothing
/// panics, invariants hold, and every heading line is a section.
#[test]
fn real_corpus_parses() {
    let Some(files) = real_corpus() else {
        return;
    };
    for path in &files {
        let document = Document::parse(path.display().to_string(), &std::fs::read(path).unwrap())
            .expect("corpus files are UTF-8");
        check_invariants(&document);
        for section in &document.sections {
            let line = document.line_text(section.position.line).unwrap();
            let underline = document.line_text(section.position.line + 1).unwrap_or("");
            assert!(
                line.trim_start().starts_with('#')
                    || underline.trim_start().starts_with(['=', '-']),
                "{}:{}: {line:?}",
                document.path,
                section.position.line
            );
        }
    }
    assert!(!files.is_empty());
}

/// The directive of the comment `<!-- {body} -->`, as the grammar reads it.
fn directive(body: &str) -> Option<Result<DirectiveBody, String>> {
    let document = parse(&format!("<!-- {body} -->\n"));
    match document.directives.as_slice() {
        [] => None,
        [only] => Some(only.parsed.clone()),
        more => panic!("one comment, {} directives", more.len()),
    }
}

fn body(action: Action, checks: &[&str], reason: Option<&str>) -> DirectiveBody {
    DirectiveBody {
        action,
        checks: checks.iter().map(|check| check.to_string()).collect(),
        reason: reason.map(str::to_string),
    }
}

#[test]
fn directive_grammar() {
    assert_eq!(
        directive("tollgate-disable plan-covers: no state, no failover"),
        Some(Ok(body(
            Action::Disable,
            &["plan-covers"],
            Some("no state, no failover")
        )))
    );
    assert_eq!(
        directive("tollgate-disable-next-line a ,b.c,  d_e:  spaced \n  out  "),
        Some(Ok(body(
            Action::DisableNextLine,
            &["a", "b.c", "d_e"],
            Some("spaced out")
        )))
    );
    assert_eq!(
        directive("tollgate-enable a, b"),
        Some(Ok(body(Action::Enable, &["a", "b"], None)))
    );
    // A colon with nothing after it gives no reason.
    assert_eq!(
        directive("tollgate-disable a:   "),
        Some(Ok(body(Action::Disable, &["a"], None)))
    );
    assert_eq!(directive("a note about tollgate-disable"), None);
    assert_eq!(directive("tollgateish remark"), None);
    let malformed = |text: &str| match directive(text) {
        Some(Err(why)) => why,
        other => panic!("{text}: {other:?}"),
    };
    assert!(malformed("tollgate-disabel a: r").contains("unknown directive `tollgate-disabel`"));
    assert!(malformed("tollgate-disable *: r").contains("name each check"));
    assert!(malformed("tollgate-disable a b: r").contains("separate check ids with commas"));
    assert!(malformed("tollgate-disable a,,b: r").contains("empty check id"));
    assert!(malformed("tollgate-disable: r").contains("names no check"));
    assert!(malformed("tollgate-enable").contains("names no check"));
    assert!(malformed("tollgate-disable -a: r").contains("`-a` is not a check id"));
}

#[test]
fn directives_are_found_in_comments_with_their_positions() {
    let text = "\
---
title: x
---
<!-- tollgate-disable a: r --> <!-- tollgate-enable a -->
# Title

Text é <!-- tollgate-disable-next-line b: r --> more
> <!-- tollgate-disable c: quoted -->

| col |
|-----|
| x <!-- tollgate-disable d: cell --> |

<!--
tollgate-disable e:
  spans lines
-->

```
<!-- tollgate-disable f: fenced -->
```

    <!-- tollgate-disable g: indented -->

<div>
<!-- tollgate-disable h: inside another HTML block -->
</div>
";
    let document = parse(text);
    let found: Vec<(String, usize, usize, usize, usize, bool)> = document
        .directives
        .iter()
        .map(|d| {
            let parsed = d.parsed.as_ref().expect("well-formed");
            (
                parsed.checks.join(","),
                d.position.line,
                d.position.column,
                d.end.line,
                d.end.column,
                d.leading,
            )
        })
        .collect();
    let expected = [
        ("a", 4, 1, 4, 31, true),
        ("a", 4, 32, 4, 58, true),
        ("b", 7, 8, 7, 48, false),
        ("c", 8, 3, 8, 38, false),
        ("d", 12, 5, 12, 38, false),
        ("e", 14, 1, 17, 4, false),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|&(c, l, col, el, ec, lead)| (c.to_string(), l, col, el, ec, lead))
        .collect();
    assert_eq!(found, expected);
    // Inline comments are blanked out of `Line::text`, so look at the text.
    for directive in &document.directives {
        let line = text.lines().nth(directive.position.line - 1).unwrap();
        let from: String = line.chars().skip(directive.position.column - 1).collect();
        assert!(from.starts_with("<!--"), "{directive:?}");
    }
}

/// The word counter over pieces, against `split_whitespace` of the whole.
fn count_words(pieces: &[&str]) -> usize {
    let mut count = super::words::WordCount::default();
    for piece in pieces {
        count.add(piece);
    }
    count.words
}

#[test]
fn words_are_split_at_every_kind_of_whitespace() {
    // ASCII blanks, CRLF, and whitespace beyond ASCII: NEL, no-break space,
    // ogham space, em space, line separator, narrow no-break space,
    // ideographic space.
    let text = "one\ttwo\r\nthree\x0bfour\x0cfive\u{85}six\u{a0}seven\u{1680}eight\u{2003}nine\u{2028}ten\u{202f}eleven\u{3000}twelve";
    assert_eq!(count_words(&[text]), 12);
    // Neither a zero-width space, a byte-order mark nor an information
    // separator (U+001F) is whitespace, so they join words.
    assert_eq!(count_words(&["a\u{200b}b c\u{feff}d e\u{1f}f"]), 3);
    // A word spans pieces, whatever the length of each.
    assert_eq!(count_words(&["foo", "bar baz", " ", "qux"]), 3);
    assert_eq!(
        count_words(&["a long run of words!", "glued", " then\u{3000}", "more"]),
        7
    );
    assert_eq!(count_words(&["", "   ", "\u{a0}", ""]), 0);
    // Eight-byte runs, padded tails and a non-ASCII byte in each position.
    for len in 0..24 {
        let words: String = "ab cd ef".repeat(3).chars().take(len).collect();
        assert_eq!(count_words(&[&words]), words.split_whitespace().count());
        for at in 0..=len {
            let (head, tail) = words.split_at(at);
            for blank in ["\u{a0}", "é", "\u{3000}"] {
                let mixed = format!("{head}{blank}{tail}");
                assert_eq!(
                    count_words(&[&mixed]),
                    mixed.split_whitespace().count(),
                    "{mixed:?}"
                );
            }
        }
    }
}

proptest::proptest! {
    /// Counting a byte at a time agrees with `char::is_whitespace` splitting
    /// for any text cut into any pieces.
    #[test]
    fn word_count_matches_split_whitespace(
        pieces in proptest::collection::vec(
            "[ \t\r\n\u{b}\u{c}\u{1f}\u{85}\u{a0}\u{1680}\u{2000}-\u{200b}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}\u{feff}aZ9*_é漢😀-]{0,40}",
            0..6,
        ),
    ) {
        let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
        proptest::prop_assert_eq!(count_words(&pieces), pieces.concat().split_whitespace().count());
    }
}

#[test]
fn skipping_word_counts_changes_nothing_but_the_counts() {
    let mut compared = 0;
    let mut words = 0;
    let fixtures = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|entry| entry.unwrap().path());
    for path in fixtures.chain(real_corpus().into_iter().flatten()) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let skipped = Document::parse_string_with("doc.md", text.clone(), WordCounts::Skipped);
        let mut counted = Document::parse_string_with("doc.md", text, WordCounts::Counted);
        assert_eq!(skipped.words, 0);
        assert!(skipped.sections.iter().all(|section| section.words == 0));
        words += counted.words;
        counted.words = 0;
        for section in &mut counted.sections {
            section.words = 0;
        }
        assert_eq!(counted, skipped, "{}", path.display());
        compared += 1;
    }
    assert!(
        compared > 10 && words > 0,
        "{compared} documents, {words} words"
    );
}
