//! Generators of hostile input, shared by the property tests
//! (`tests/properties.rs`) and the fuzz targets (`fuzz/`): each turns any
//! bytes into text of one kind (Markdown, a playbook, a template, a Lua
//! value), so that proptest's shrinking and libFuzzer's mutations both work
//! on plain bytes while the text stays close enough to the real thing to
//! reach deep into the parsers. Only the standard library is used, so the
//! fuzz crate can include this file as it is.

#![allow(dead_code)] // each user takes the generators it needs

/// Reads choices from the bytes; past their end every choice is 0, so any
/// input, the empty one included, makes a text.
pub struct Choices<'a> {
    bytes: &'a [u8],
}

impl<'a> Choices<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub fn done(&self) -> bool {
        self.bytes.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((first, rest)) => {
                self.bytes = rest;
                *first
            }
            None => 0,
        }
    }

    /// A number below `n` (`n` at least 1).
    pub fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    pub fn pick<'t, T: ?Sized>(&mut self, items: &[&'t T]) -> &'t T {
        items[self.below(items.len())]
    }
}

/// Words with the characters that trouble parsers: non-ASCII letters and
/// wide characters, Markdown and YAML punctuation, control characters.
const WORDS: &[&str] = &[
    "plan",
    "Risks",
    "Requirements",
    "ÄÖÜ",
    "日本語",
    "🚀",
    "e\u{301}",
    "TBD",
    "TODO",
    "|",
    "\\|",
    "*",
    "_",
    "`",
    "#",
    ":",
    "- ",
    "[ ]",
    "[x]",
    "<!--",
    "-->",
    "{{",
    "}}",
    "\t",
    "\u{0}",
    "\u{1b}[2K",
    "\u{feff}",
    "\u{2028}",
    "x",
];

fn words(choices: &mut Choices<'_>, most: usize) -> String {
    let count = 1 + choices.below(most);
    (0..count)
        .map(|_| choices.pick(WORDS))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A Markdown document: headings, nested lists and tasks, quotes, tables,
/// fences (closed or not), indented code, HTML comments and suppression
/// directives, front matter, with `\n`, `\r\n` or `\r` line endings.
pub fn markdown(bytes: &[u8]) -> String {
    let mut choices = Choices::new(bytes);
    let ending = choices.pick(&["\n", "\r\n", "\r", "\n"]);
    let mut lines: Vec<String> = Vec::new();
    if choices.below(4) == 0 {
        lines.push("---".into());
        lines.push(format!("title: {}", words(&mut choices, 3)));
        if choices.below(2) == 0 {
            lines.push("---".into());
        }
    }
    while !choices.done() && lines.len() < 400 {
        let quote = "> ".repeat(choices.below(4).saturating_sub(1));
        let indent = "  ".repeat(choices.below(5));
        let line = match choices.below(14) {
            0 => format!(
                "{} {}",
                "#".repeat(1 + choices.below(7)),
                words(&mut choices, 4)
            ),
            1 => format!("{indent}- {}", words(&mut choices, 5)),
            2 => format!(
                "{indent}{} [{}] {}",
                choices.pick(&["-", "*", "+", "1."]),
                choices.pick(&[" ", "x", "X", "-"]),
                words(&mut choices, 4)
            ),
            3 => {
                let columns = 1 + choices.below(4);
                let row = |choices: &mut Choices<'_>| {
                    let cells: Vec<String> = (0..columns).map(|_| words(choices, 2)).collect();
                    format!("| {} |", cells.join(" | "))
                };
                lines.push(format!("{quote}{}", row(&mut choices)));
                lines.push(format!("{quote}|{}", "---|".repeat(columns)));
                for _ in 0..choices.below(4) {
                    lines.push(format!("{quote}{}", row(&mut choices)));
                }
                continue;
            }
            4 => format!(
                "{indent}{}{}",
                choices.pick(&["```", "~~~", "````"]),
                choices.pick(&["", "rust", "mermaid", "yaml"])
            ),
            5 => format!("    {}", words(&mut choices, 3)),
            6 => format!(
                "<!-- {} -->",
                directive(&[
                    choices.byte(),
                    choices.byte(),
                    choices.byte(),
                    choices.byte()
                ])
            ),
            7 => format!("<!-- {}", words(&mut choices, 3)),
            8 => String::new(),
            9 => format!(
                "{} {}",
                words(&mut choices, 3),
                choices.pick(&["-->", "</details>", "<br>"])
            ),
            10 => "x".repeat(choices.below(256) * 8),
            11 => format!(
                "{}\n{}",
                words(&mut choices, 2),
                choices.pick(&["===", "---", "***"])
            ),
            _ => words(&mut choices, 8),
        };
        lines.push(format!("{quote}{line}"));
    }
    let mut text = lines.join(ending);
    if choices.below(2) == 0 {
        text.push_str(ending);
    }
    text
}

/// The inside of an HTML comment meant as a suppression directive, well
/// formed or not.
pub fn directive(bytes: &[u8]) -> String {
    let mut choices = Choices::new(bytes);
    let keyword = choices.pick(&[
        "tollgate-disable",
        "tollgate-disable-next-line",
        "tollgate-enable",
        "tollgate-disabel",
        "tollgate-",
        "tollgate-disable-next-line:",
    ]);
    let checks = (0..choices.below(4))
        .map(|_| choices.pick(&["c1", "c2", "unknown", "", " ", "c1,c2", "ÄÖ", "c1 c2"]))
        .collect::<Vec<_>>()
        .join(choices.pick(&[", ", ",", " ", ",,"]));
    let reason = choices.pick(&["", ": why", ":", ":   ", ": ünïcode\treason", ": -->"]);
    format!("{keyword} {checks}{reason}")
}

/// A playbook's YAML: the keys and shapes of the format, each top-level key
/// once and mostly well formed so that many load and reach the lint, with
/// values of the wrong type, anchors and aliases, flow and block style, odd
/// scalars and stray lines.
pub fn playbook(bytes: &[u8]) -> String {
    let mut choices = Choices::new(bytes);
    let mut text = String::from("tollgate: 1\nname: generated\n");
    // The first choice of each is the well-formed one, so that short
    // inputs make playbooks that load.
    text.push_str(&match choices.below(4) {
        3 => format!(
            "phases: [{{ id: {} }}, {{ id: {} }}]\n",
            scalar(&mut choices),
            scalar(&mut choices)
        ),
        _ => "phases:\n  - id: a\n  - id: b\n    label: B\n".to_string(),
    });
    if choices.below(3) != 2 {
        text.push_str(&format!(
            "artifacts:\n  spec: docs/spec.md\n  plan: \"docs/{{{{ subject.slug }}}}/{}\"\n",
            scalar(&mut choices)
        ));
    }
    if choices.below(3) == 0 {
        text.push_str(&format!(
            "vars: {{ a: {}, b: &v {} }}\n",
            scalar(&mut choices),
            scalar(&mut choices)
        ));
    }
    if choices.below(4) == 0 {
        text.push_str(&format!("checks:\n  common:\n{}", check(&mut choices)));
    }
    if choices.below(5) == 1 {
        text.push_str(&format!(
            "limits: {{ plugin_timeout_ms: {}, plugin_memory_mib: {} }}\n",
            scalar(&mut choices),
            scalar(&mut choices)
        ));
    }
    if choices.below(6) == 1 {
        text.push_str(&format!(
            "extends: {}\n",
            choices.pick(&["base.yaml", "/etc/passwd", "../x", "spec-dev"])
        ));
    }
    text.push_str("steps:\n");
    for index in 0..=choices.below(3) {
        text.push_str(&format!(
            "  - id: {}\n    from: a\n    to: {}\n    gate: {}\n",
            choices
                .pick(&["s1", "s2", "s3", "S 1", "*v"])
                .replace('1', &index.to_string()),
            choices.pick(&["b", "b", "a", "c", "[b]"]),
            choices.pick(&["automated", "human", "automated", "[x]"]),
        ));
        let checks = choices.below(4);
        if checks > 0 {
            text.push_str("    checks:\n");
        }
        for _ in 0..checks {
            text.push_str(&check(&mut choices));
        }
    }
    while !choices.done() && text.len() < 20_000 {
        let line = match choices.below(3) {
            0 => format!(
                "{}:\n{}  x: 1\n",
                scalar(&mut choices),
                "  ".repeat(choices.below(9))
            ),
            _ => format!(
                "{}\n",
                choices.pick(&[
                    "[",
                    "{",
                    "? a",
                    "- - -",
                    "&a [*a]",
                    "!!binary x",
                    "key: |",
                    "\t",
                    "...",
                    "---",
                    "%YAML 1.2",
                    "  - x",
                    "\u{feff}",
                ])
            ),
        };
        text.push_str(&line);
    }
    text
}

fn check(choices: &mut Choices<'_>) -> String {
    let kind = choices.pick(&[
        "exists: true",
        "sections: [{ title: Risks }]",
        "sections: [Risks]",
        "table: { under: Risks, columns: [A, B] }",
        "checklist: { under: Tasks }",
        "pattern: { regex: '(a+)+b' }",
        "placeholders: true",
        "words: { min: 1, max: 0 }",
        "plugin: p.check",
        "use: common",
        "when: \"subject.phase == 'a'\"",
    ]);
    format!(
        "      - id: {}\n        artifact: {}\n        {kind}\n",
        choices.pick(&["c1", "c2", "c3", "c4", "C 1", "1"]),
        choices.pick(&["spec", "plan", "spec", "missing", "~"])
    )
}

fn scalar(choices: &mut Choices<'_>) -> String {
    choices
        .pick(&[
            "a",
            "b",
            "spec",
            "1",
            "-1",
            "1e400",
            "0x10",
            ".nan",
            "~",
            "null",
            "true",
            "''",
            "\"\\u0000\"",
            "\"ÄÖÜ\"",
            "[]",
            "{}",
            "*v",
            "&v x",
            "\"{{ vars.a }}\"",
            "'it''s'",
            "\"\\x1b[2J\"",
            "a: b",
            "12345678901234567890",
            "0.10",
            "1.0",
        ])
        .to_string()
}

/// A template: text, expressions, filters that build strings and lists,
/// loops (nested), conditions, macros, namespaces, with tags now and then
/// left unclosed.
///
/// It leaves out one construct: a list added to itself again and again
/// (`l = l + l` in a loop), which minijinja copies before charging fuel
/// for it (the README's Security section says so).
pub fn template(bytes: &[u8]) -> String {
    let mut choices = Choices::new(bytes);
    let mut text = String::new();
    let mut open: Vec<&str> = Vec::new();
    while !choices.done() && text.len() < 4_000 {
        let part = match choices.below(12) {
            0 => format!("{{{{ {} }}}}", expression(&mut choices)),
            1 => {
                open.push("endfor");
                format!("{{% for i in range({}) %}}", choices.pick(&["3", "1000", "100000", "n"]))
            }
            2 => {
                open.push("endif");
                format!("{{% if {} %}}", expression(&mut choices))
            }
            3 => match open.pop() {
                Some(tag) => format!("{{% {tag} %}}"),
                None => "{% endfor %}".to_string(),
            },
            4 => "{% set ns = namespace(s='ab') %}".to_string(),
            5 => "{% set ns.s = ns.s ~ ns.s %}".to_string(),
            6 => format!("{{% set x = {} %}}", expression(&mut choices)),
            7 => "{% macro m(n) %}{{ n }}{% if n %}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(70) }}"
                .to_string(),
            8 => format!("{{% include '{}' %}}", choices.pick(&["x.j2", "../secret", "/etc/passwd"])),
            9 => words(&mut choices, 3),
            10 => choices.pick(&["{{", "{%", "}}", "%}", "{#", "{% raw %}", "{% endraw %}"]).to_string(),
            _ => format!("{{{{ ns.s | length }}}}{{{{ {} }}}}", expression(&mut choices)),
        };
        text.push_str(&part);
    }
    for tag in open.into_iter().rev() {
        if choices.below(3) != 0 {
            text.push_str(&format!("{{% {tag} %}}"));
        }
    }
    text
}

fn expression(choices: &mut Choices<'_>) -> String {
    let base = choices.pick(&[
        "'x'",
        "subject.title",
        "vars.a",
        "vars.missing",
        "[1, 2, 3]",
        "range(100)",
        "i",
        "ns.s",
        "x",
        "1 / 0",
        "none",
        "{'a': 1}",
    ]);
    let mut expression = base.to_string();
    for _ in 0..choices.below(4) {
        let step = choices.pick(&[
            " | indent(9000000000)",
            " | indent(1000, true, true)",
            " | join('-' * 100000)",
            " | replace('x', 'y' * 100000)",
            " | upper",
            " | list",
            " | pprint",
            " | tojson",
            " | length",
            " | format(1, 2)",
            " | wordwrap(1)",
            " | center(100)",
            " * 100000",
            " * 9000000000",
            " ~ 'x' * 1000000",
            " + [4]",
            " | batch(1)",
            " | items",
            " | default('d')",
            ".attr",
            "[0]",
        ]);
        expression = format!("({expression}){step}");
    }
    expression
}

/// A Lua expression for what a plugin returns: nil, scalars, lists of
/// findings with fields of every type, numbers that are not finite or not
/// whole, strings that are not UTF-8, tables nested deep or with holes.
pub fn lua_value(bytes: &[u8]) -> String {
    let mut choices = Choices::new(bytes);
    lua_value_of(&mut choices, 0)
}

fn lua_value_of(choices: &mut Choices<'_>, depth: usize) -> String {
    let leaf = |choices: &mut Choices<'_>| {
        choices
            .pick(&[
                "nil",
                "true",
                "false",
                "0",
                "-0",
                "1",
                "-1",
                "1.5",
                "2^53",
                "2^63",
                "-2^63",
                "1e308",
                "0/0",
                "1/0",
                "-1/0",
                "math.huge",
                "''",
                "'message'",
                "'\\255\\254'",
                "'\\0'",
                "'\\27[2K'",
                "string.rep('x', 100000)",
                "'error'",
                "'warning'",
                "'info'",
                "'fatal'",
                "{}",
                "print",
                "newproxy",
            ])
            .to_string()
    };
    if depth > 4 {
        return leaf(choices);
    }
    match choices.below(5) {
        0 | 1 => leaf(choices),
        2 => {
            let items: Vec<String> = (0..choices.below(5))
                .map(|_| lua_value_of(choices, depth + 1))
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
        3 => {
            let fields: Vec<String> = (0..choices.below(7))
                .map(|_| {
                    let key = choices.pick(&[
                        "severity",
                        "message",
                        "line",
                        "column",
                        "end_line",
                        "end_column",
                        "hint",
                        "other",
                        "[1]",
                        "[0]",
                        "[-1]",
                        "[0/0]",
                        "['\\255']",
                    ]);
                    format!("{key} = {}", lua_value_of(choices, depth + 1))
                })
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        _ => {
            let finding = lua_value_of(choices, depth + 1);
            format!("{{ {{ message = 'm', line = {finding} }}, {{ message = {finding} }} }}")
        }
    }
}
