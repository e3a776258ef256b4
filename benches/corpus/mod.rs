//! A deterministic generator of plan-phase documents for the benchmark.
//!
//! Every document follows the v1.1 plan layout that `benches/plan-phase.yaml`
//! checks: the thirteen sections, a Spec Gaps table, a five-column Risks
//! Register, a Readiness Checklist and a closing `Gate:` line. Bodies are
//! padded with paragraphs, lists, subsections (ATX and setext), fenced code,
//! block quotes and HTML comments until the document reaches a size drawn
//! between 8 and 30 KB. Decoys that must not count sit in code blocks and
//! comments: headings, task boxes, placeholders and `Gate:` lines.
//!
//! About one document in five carries exactly one defect (a missing section,
//! an open box, an empty table cell, a placeholder, or a wrong last line),
//! so the expected verdict of each document is known in advance.
//!
//! The same index always yields the same bytes: the only source of variety
//! is a xorshift generator seeded from the index.

use std::fmt::Write as _;

/// The smallest and largest document sizes, in bytes.
pub const MIN_BYTES: usize = 8 * 1024;
pub const MAX_BYTES: usize = 30 * 1024;

/// One in this many documents is defective, on average (20%).
const DEFECT_ONE_IN: u64 = 5;

/// xorshift64*: small, fast and good enough to vary text.
pub struct Rng(u64);

impl Rng {
    /// A generator for one seed; splitmix64 spreads neighbouring seeds apart
    /// and keeps the state away from zero.
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(z | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `low..=high`.
    pub fn range(&mut self, low: usize, high: usize) -> usize {
        low + (self.next_u64() % (high - low + 1) as u64) as usize
    }

    /// True with probability `1 / n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.next_u64().is_multiple_of(n)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.range(0, items.len() - 1)]
    }
}

/// The single defect a document may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    MissingSection,
    OpenBox,
    EmptyCell,
    Placeholder,
    WrongLastLine,
}

const DEFECTS: [Defect; 5] = [
    Defect::MissingSection,
    Defect::OpenBox,
    Defect::EmptyCell,
    Defect::Placeholder,
    Defect::WrongLastLine,
];

/// A generated document and what the checks should say about it.
pub struct PlanDoc {
    pub name: String,
    pub text: String,
    pub defect: Option<Defect>,
}

/// The narrative sections, in the order the plan layout gives them. The
/// Spec Gaps table goes in the second, the Risks Register and the Readiness
/// Checklist follow these.
const NARRATIVE: [&str; 11] = [
    "Spec Sync",
    "Spec Gaps & Assumptions",
    "Architecture Overview",
    "Key Decisions & Rationale",
    "Interfaces & Contracts",
    "Data Flow & Storage",
    "Security & Privacy",
    "Reliability & Performance",
    "Observability & Operations",
    "Testing & Rollout Strategy",
    "Artifacts & References",
];

const READINESS: [&str; 7] = [
    "Owners and responsibilities assigned for each component.",
    "Dependencies and failure handling identified.",
    "Migration/backwards-compat plan defined (or marked N/A with reason).",
    "Telemetry, alerting, and runbook updates specified.",
    "Security controls tied to identified threats.",
    "Testing and rollout plan documented.",
    "Spec gaps resolved or explicitly tracked with owners.",
];

const WORDS: [&str; 64] = [
    "the",
    "collector",
    "queue",
    "batch",
    "writer",
    "shard",
    "index",
    "reader",
    "service",
    "retry",
    "budget",
    "latency",
    "p99",
    "tenant",
    "schema",
    "migration",
    "rollout",
    "flag",
    "canary",
    "alert",
    "dashboard",
    "runbook",
    "owner",
    "boundary",
    "contract",
    "payload",
    "checksum",
    "replica",
    "lease",
    "timeout",
    "backoff",
    "quota",
    "token",
    "secret",
    "audit",
    "trace",
    "metric",
    "span",
    "cursor",
    "snapshot",
    "compaction",
    "window",
    "fan-out",
    "idempotent",
    "ordered",
    "bounded",
    "stateless",
    "durable",
    "encrypted",
    "versioned",
    "and",
    "with",
    "for",
    "when",
    "before",
    "after",
    "every",
    "each",
    "of",
    "to",
    "in",
    "on",
    "is",
    "stays",
];

const OWNERS: [&str; 8] = [
    "@ana", "@bo", "@chen", "@dara", "@eli", "@fay", "@gus", "@hana",
];
const LEVELS: [&str; 3] = ["Low", "Medium", "High"];
const STATUSES: [&str; 4] = ["Resolved", "Tracked", "Accepted", "Blocked on spec edit"];

/// Generates document `index` of the corpus.
pub fn generate(index: usize) -> PlanDoc {
    let mut rng = Rng::new(index as u64);
    let target = rng.range(MIN_BYTES, MAX_BYTES - 1500);
    let defect = rng.one_in(DEFECT_ONE_IN).then(|| rng.pick(&DEFECTS));
    let missing =
        (defect == Some(Defect::MissingSection)).then(|| rng.range(0, NARRATIVE.len() - 1));
    let title = format!(
        "F-{index} {} {}",
        capitalised(rng.pick(&WORDS)),
        capitalised(rng.pick(&WORDS))
    );

    // An empty cell goes in one of the two tables.
    let empty_gap_owner = defect == Some(Defect::EmptyCell) && rng.one_in(2);
    let empty_risk_cell = defect == Some(Defect::EmptyCell) && !empty_gap_owner;

    // The bodies of the narrative sections, grown until the target size.
    let mut bodies: Vec<String> = Vec::with_capacity(NARRATIVE.len());
    for i in 0..NARRATIVE.len() {
        let mut body = String::new();
        paragraph(&mut rng, &mut body);
        if i == 1 {
            gaps_table(&mut rng, &mut body, empty_gap_owner);
        }
        bodies.push(body);
    }
    let mut tail = String::new();
    risks(&mut rng, &mut tail, empty_risk_cell);
    let open_box = (defect == Some(Defect::OpenBox)).then(|| rng.range(0, READINESS.len() - 1));
    readiness(&mut rng, &mut tail, open_box);

    // A missing section's body is left out of the document, so neither its
    // size counts nor does it receive padding.
    let kept = |section: &usize| missing != Some(*section);
    let skeleton: usize = (0..bodies.len())
        .filter(kept)
        .map(|i| bodies[i].len())
        .sum::<usize>()
        + tail.len()
        + 600;
    let mut size = skeleton;
    while size < target {
        let section = rng.range(0, bodies.len() - 1);
        if !kept(&section) {
            continue;
        }
        let before = bodies[section].len();
        filler(&mut rng, &mut bodies[section]);
        size += bodies[section].len() - before;
    }
    if defect == Some(Defect::Placeholder) {
        let section = rng.range(0, bodies.len() - 1);
        let line = match rng.range(0, 2) {
            0 => "**Owner**: [NEEDS CLARIFICATION: who runs the backfill?]\n\n",
            1 => "TODO: describe the rollback for the schema change.\n\n",
            _ => "- **Retention**: [TBD]\n\n",
        };
        bodies[section].push_str(line);
    }

    let mut text = String::new();
    if rng.one_in(10) {
        let _ = write!(
            text,
            "---\nfeature: F-{index}\nowner: \"{}\"\n---\n\n",
            rng.pick(&OWNERS)
        );
    }
    heading(&mut rng, &mut text, 1, &format!("Plan: {title}"));
    paragraph(&mut rng, &mut text);
    text.push_str("<!-- Filled from the plan template v1.1; keep the section order. -->\n\n");
    for (i, (name, body)) in NARRATIVE.iter().zip(&bodies).enumerate() {
        if missing == Some(i) {
            continue;
        }
        heading(&mut rng, &mut text, 2, name);
        text.push_str(body);
    }
    text.push_str(&tail);
    closing(&mut rng, &mut text, defect, open_box);
    PlanDoc {
        name: format!("plan-{index:05}.md"),
        text,
        defect,
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// An ATX heading, or for levels 1 and 2 now and then a setext one.
fn heading(rng: &mut Rng, out: &mut String, level: usize, title: &str) {
    if level <= 2 && rng.one_in(6) {
        let mark = if level == 1 { '=' } else { '-' };
        let underline: String = std::iter::repeat_n(mark, title.chars().count().max(3)).collect();
        let _ = write!(out, "{title}\n{underline}\n\n");
    } else {
        let _ = write!(out, "{} {title}\n\n", "#".repeat(level));
    }
}

fn sentence(rng: &mut Rng, out: &mut String) {
    let words = rng.range(6, 18);
    for w in 0..words {
        let word = rng.pick(&WORDS);
        if w == 0 {
            out.push_str(&capitalised(word));
        } else {
            out.push(' ');
            match rng.range(0, 19) {
                0 => {
                    let _ = write!(out, "**{word}**");
                }
                1 => {
                    let _ = write!(out, "`{word}`");
                }
                2 => {
                    let _ = write!(out, "_{word}_");
                }
                _ => out.push_str(word),
            }
        }
    }
    out.push('.');
}

/// A paragraph of a few sentences, wrapped over lines now and then.
fn paragraph(rng: &mut Rng, out: &mut String) {
    for s in 0..rng.range(2, 6) {
        if s > 0 {
            out.push(if rng.one_in(3) { '\n' } else { ' ' });
        }
        sentence(rng, out);
    }
    if rng.one_in(12) {
        out.push_str(" <!-- TODO: check this figure with the owner -->");
    }
    out.push_str("\n\n");
}

/// One block of padding: most often prose, sometimes structure or a decoy.
fn filler(rng: &mut Rng, out: &mut String) {
    match rng.range(0, 19) {
        0..=7 => paragraph(rng, out),
        8..=10 => {
            for _ in 0..rng.range(2, 6) {
                out.push_str("- ");
                sentence(rng, out);
                out.push('\n');
            }
            out.push('\n');
        }
        11..=13 => {
            let level = rng.range(3, 4);
            let title = format!("{} {}", capitalised(rng.pick(&WORDS)), rng.pick(&WORDS));
            heading(rng, out, level, &title);
            paragraph(rng, out);
        }
        14 => {
            let title = format!("Notes on the {}", rng.pick(&WORDS));
            heading(rng, out, 3, &title);
            paragraph(rng, out);
        }
        15 => {
            out.push_str(
                "```text\n+------------+      +-----------+\n| collector  | ---> |  writer   |\n",
            );
            out.push_str("+------------+      +-----------+\n## Risks Register\n- [ ] not a task: inside a code block\n");
            out.push_str("Gate: FAIL — an example inside code\n```\n\n");
        }
        16 => {
            out.push_str("```json\n{\n  \"id\": \"req-42\",\n  \"status\": \"TODO: not a placeholder in code\",\n");
            out.push_str("  \"retry_after_ms\": 250\n}\n```\n\n");
        }
        17 => {
            out.push_str("<!--\n## Readiness Checklist\n- [ ] a box in a comment does not count\n");
            out.push_str("[NEEDS CLARIFICATION: hidden in a comment]\n-->\n\n");
        }
        18 => {
            out.push_str("> ");
            sentence(rng, out);
            out.push_str("\n\n");
        }
        _ => {
            for n in 1..=rng.range(2, 5) {
                let _ = write!(out, "{n}. ");
                sentence(rng, out);
                out.push('\n');
            }
            out.push('\n');
        }
    }
}

fn phrase(rng: &mut Rng, words: usize) -> String {
    let mut text = capitalised(rng.pick(&WORDS));
    for _ in 1..words {
        text.push(' ');
        text.push_str(rng.pick(&WORDS));
    }
    text
}

fn gaps_table(rng: &mut Rng, out: &mut String, empty_owner: bool) {
    out.push_str("| Gap | Proposed Fix | Owner | Status |\n|---|---|---|---|\n");
    let rows = rng.range(2, 8);
    let blank_row = empty_owner.then(|| rng.range(0, rows - 1));
    for row in 0..rows {
        let owner = if blank_row == Some(row) {
            ""
        } else {
            rng.pick(&OWNERS)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {owner} | {} |",
            phrase(rng, 4),
            phrase(rng, 7),
            rng.pick(&STATUSES)
        );
    }
    out.push('\n');
}

fn risks(rng: &mut Rng, out: &mut String, empty_mitigation: bool) {
    heading(rng, out, 2, "Risks Register");
    paragraph(rng, out);
    out.push_str(
        "| Risk | Likelihood | Impact | Mitigation | Owner |\n|------|:---:|:---:|---|---|\n",
    );
    let rows = rng.range(4, 12);
    let blank_row = empty_mitigation.then(|| rng.range(0, rows - 1));
    for row in 0..rows {
        let mitigation = if blank_row == Some(row) {
            String::new()
        } else {
            phrase(rng, 9)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {mitigation} | {} |",
            phrase(rng, 5),
            rng.pick(&LEVELS),
            rng.pick(&LEVELS),
            rng.pick(&OWNERS)
        );
    }
    out.push('\n');
}

fn readiness(rng: &mut Rng, out: &mut String, open_box: Option<usize>) {
    heading(rng, out, 2, "Readiness Checklist");
    for (i, item) in READINESS.iter().enumerate() {
        let mark = if open_box == Some(i) {
            ' '
        } else if rng.one_in(2) {
            'x'
        } else {
            'X'
        };
        let _ = writeln!(out, "- [{mark}] {item}");
    }
    out.push('\n');
}

/// The gate line, then sometimes a decoy after it that must not count.
fn closing(rng: &mut Rng, out: &mut String, defect: Option<Defect>, open_box: Option<usize>) {
    if rng.one_in(2) {
        heading(rng, out, 2, "Gate");
    }
    match (defect, open_box) {
        (_, Some(item)) => {
            let _ = writeln!(
                out,
                "Gate: FAIL — readiness item {} is still open",
                item + 1
            );
        }
        (Some(Defect::WrongLastLine), _) => {
            if rng.one_in(2) {
                out.push_str("Gate: PASS\n\nReviewed in the Tuesday sync.\n");
            } else {
                out.push_str("Gate: pending review\n");
            }
        }
        _ => out.push_str("Gate: PASS\n"),
    }
    match rng.range(0, 3) {
        0 => out.push_str("\n<!-- Gate: FAIL — superseded draft verdict -->\n"),
        1 => out.push_str("\n```\nGate: FAIL — the closing line must be prose, not code\n```\n"),
        _ => {}
    }
}
