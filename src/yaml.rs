//! YAML with positions. The file becomes JSON for the schema and the model,
//! and a [`SpanIndex`] maps each JSON pointer back to where its key and
//! value were written, so every later error can name `file:line:column`.
//! A common playbook is read straight from the parser's events; anything
//! else, and every error, is read by serde-saphyr (pure Rust, with budgets
//! against alias bombs and deep nesting) into a tree that keeps the
//! position of every key and value.

use std::fmt::{self, Write as _};

use foldhash::HashMap;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value as Json};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::granit_parser::ErrorKind;
use serde_saphyr::{
    Budget, DuplicateKeyPolicy, ExternalMessageSource, Location, MessageFormatter, Options,
    Spanned, UserMessageFormatter,
};

use crate::diagnostic::Position;

/// Deeper than any sensible playbook, and far below what the stack allows.
const MAX_DEPTH: usize = 64;
/// Playbooks are small; anything past this is a mistake or an attack.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Parser events (and alias replays) one playbook may produce: a thousand
/// steps' worth, yet spent by an alias bomb in a fraction of a second.
const MAX_EVENTS: usize = 200_000;
/// Aliases one playbook may use; a few are handy, thousands are an attack.
const MAX_ALIASES: usize = 1_000;

/// Why a YAML text could not become a tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub kind: YamlErrorKind,
    pub message: String,
    pub position: Option<Position>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlErrorKind {
    Empty,
    TooLarge,
    Syntax,
    DuplicateKey,
    /// A resource budget ran out: nesting, aliases, events.
    Budget,
}

impl YamlError {
    /// The diagnostic code of this kind of error.
    pub fn code(&self) -> &'static str {
        match self.kind {
            YamlErrorKind::Empty => "empty-file",
            YamlErrorKind::TooLarge => "too-large",
            YamlErrorKind::Syntax => "yaml-syntax",
            YamlErrorKind::DuplicateKey => "duplicate-key",
            YamlErrorKind::Budget => "yaml-limit",
        }
    }
}

#[derive(Debug)]
enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Seq(Vec<Spanned<Value>>),
    Map(Vec<(Spanned<Key>, Spanned<Value>)>),
}

/// A mapping key: YAML allows any scalar, JSON only strings.
#[derive(Debug)]
struct Key(String);

/// Where one node was written: its value and, for a member of a mapping,
/// its key.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Spans {
    value: Option<Position>,
    key: Option<Position>,
}

/// The positions of one document's nodes, by JSON pointer (`/steps/0/id`).
/// One entry per node, keyed with foldhash (randomly seeded per process,
/// so a playbook cannot be written to collide): SipHash and a second map
/// for the keys cost more than the rest of building the tree.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SpanIndex {
    nodes: HashMap<Box<str>, Spans>,
    /// For a document merged from several files (`extends:`), the file each
    /// subtree was written in, by the pointer of its root.
    files: HashMap<String, String>,
}

impl SpanIndex {
    /// Where the value at `pointer` was written; for a pointer into
    /// something that has no position of its own, its nearest ancestor.
    pub fn value(&self, pointer: &str) -> Option<Position> {
        let mut pointer = pointer;
        loop {
            if let Some(span) = self.nodes.get(pointer).and_then(|spans| spans.value) {
                return Some(span);
            }
            pointer = &pointer[..pointer.rfind('/')?];
        }
    }

    /// Where the key of the member at `pointer` was written, falling back to
    /// its value: a message about a field reads best pointing at its name.
    pub fn key(&self, pointer: &str) -> Option<Position> {
        self.nodes
            .get(pointer)
            .and_then(|spans| spans.key)
            .or_else(|| self.value(pointer))
    }

    /// The file the node at `pointer` was written in, when the document was
    /// merged from several; `None` for a document read from one file.
    pub fn file(&self, pointer: &str) -> Option<&str> {
        let mut pointer = pointer;
        loop {
            if let Some(file) = self.files.get(pointer) {
                return Some(file);
            }
            pointer = &pointer[..pointer.rfind('/')?];
        }
    }

    /// Notes where the node at `pointer` was written, if anywhere.
    fn note(&mut self, pointer: &str, spans: Spans) {
        if spans.value.is_some() || spans.key.is_some() {
            self.nodes.insert(pointer.into(), spans);
        }
    }

    /// Forgets every position at or under `pointer`.
    pub fn remove(&mut self, pointer: &str) {
        let under = |p: &str| p == pointer || p.starts_with(&format!("{pointer}/"));
        self.nodes.retain(|p, _| !under(p));
        self.files.retain(|p, _| !under(p));
    }

    /// Copies the positions of `from` at or under `from_pointer` to the same
    /// places under `to_pointer`, noting that they were written in `file`
    /// (unless `from` already knows their file).
    pub fn graft(&mut self, from: &SpanIndex, from_pointer: &str, to_pointer: &str, file: &str) {
        let moved = |p: &str| -> Option<String> {
            let rest = p.strip_prefix(from_pointer)?;
            (rest.is_empty() || rest.starts_with('/')).then(|| format!("{to_pointer}{rest}"))
        };
        for (p, spans) in &from.nodes {
            if let Some(to) = moved(p) {
                // A position `from` lacks leaves the one already here.
                let here = self.nodes.entry(to.into()).or_default();
                here.value = spans.value.or(here.value);
                here.key = spans.key.or(here.key);
            }
        }
        let root_file = from.file(from_pointer).unwrap_or(file);
        self.files
            .insert(to_pointer.to_string(), root_file.to_string());
        for (p, name) in &from.files {
            if let Some(to) = moved(p) {
                self.files.insert(to, name.clone());
            }
        }
    }
}

/// Escapes one JSON-pointer segment (RFC 6901).
pub fn pointer_segment(segment: &str) -> String {
    let mut escaped = String::with_capacity(segment.len());
    push_segment(&mut escaped, segment);
    escaped
}

/// Appends `segment` to `pointer`, escaped (RFC 6901).
fn push_segment(pointer: &mut String, segment: &str) {
    if !segment.contains(['~', '/']) {
        pointer.push_str(segment);
        return;
    }
    for c in segment.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// Appends to `pointer` the segment of the sequence item at `index`.
fn push_index(pointer: &mut String, index: usize) {
    write!(pointer, "/{index}").expect("writing to a String cannot fail");
}

/// Appends to `pointer` the segment of the mapping member `key`, escaped.
fn push_member(pointer: &mut String, key: &str) {
    pointer.push('/');
    push_segment(pointer, key);
}

/// Parses one YAML document into JSON and the positions of its nodes.
pub fn parse(text: &str) -> Result<(Json, SpanIndex), YamlError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(YamlError {
            kind: YamlErrorKind::TooLarge,
            message: format!(
                "the file is {} bytes; a playbook may be at most {} bytes",
                text.len(),
                MAX_FILE_BYTES
            ),
            position: None,
        });
    }
    // A file of comments alone parses as a null document, which would
    // otherwise be reported as "not a mapping" at a position past its end.
    if text
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
    {
        let message = if text.trim().is_empty() {
            "the file is empty"
        } else {
            "the file holds only comments and blank lines"
        };
        return Err(YamlError {
            kind: YamlErrorKind::Empty,
            message: message.into(),
            position: None,
        });
    }
    match parse_common(text) {
        Some(parsed) => Ok(parsed),
        None => parse_spanned(text),
    }
}

/// Parses `text` with serde-saphyr into a tree that keeps every node's
/// position: any YAML, and the errors' words and positions.
fn parse_spanned(text: &str) -> Result<(Json, SpanIndex), YamlError> {
    let root: Spanned<Value> =
        serde_saphyr::from_str_with_options(text, options()).map_err(|error| {
            let position = error.location().and_then(position);
            let kind = classify(&error);
            let mut message = describe(&error);
            let position = match scan_error(original(&error)) {
                Some(scan) if is_tab(scan) => position.map(|at| first_tab(text, at)),
                _ => position,
            };
            // The parser notices an unclosed `{` or `[` lines later, where
            // what follows cannot continue it: point at the bracket.
            let opened = position
                .filter(|_| kind == YamlErrorKind::Syntax)
                .and_then(|at| unclosed_flow(text, at).map(|opened| (at, opened)))
                .filter(|(at, opened)| opened.1.line < at.line);
            let position = match opened {
                Some((at, (bracket, opened))) => {
                    message = format!(
                        "`{bracket}` is never closed (the parser stopped at line {}: {message})",
                        at.line
                    );
                    Some(opened)
                }
                None => position,
            };
            YamlError {
                kind,
                message,
                position,
            }
        })?;
    let mut index = SpanIndex {
        nodes: HashMap::with_capacity_and_hasher(count(&root), Default::default()),
        files: HashMap::default(),
    };
    let json = into_json(root, None, &mut String::new(), &mut index);
    Ok((json, index))
}

/// Reads the common playbook straight from the parser's events: mappings
/// whose keys are plain words or quoted, sequences, and scalars whose type
/// cannot be in doubt (text, a whole number, `true`, `false`). Anything
/// else (an anchor, an alias, a tag, a key or value that YAML might read as
/// a number, a boolean or null, a repeated key, a second document, nesting
/// near the budget, or any error) gives `None`, and the file is read again
/// by serde-saphyr, whose answer is the reference. On what this reads, the
/// two give the same JSON and the same positions (tested); it skips
/// serde-saphyr's position-carrying tree, which cost two thirds of loading
/// a playbook.
fn parse_common(text: &str) -> Option<(Json, SpanIndex)> {
    use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

    let mut reader = CommonReader::default();
    let mut started = false;
    for (events, item) in Parser::new_from_str(text).enumerate() {
        // Well below the budget: serde-saphyr counts events its own way.
        if events > MAX_EVENTS / 2 {
            return None;
        }
        let (event, span) = item.ok()?;
        let at = marker_position(&span.start);
        match event {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::DocumentStart(_, None) if !started => started = true,
            Event::Scalar(value, style, 0, None) => {
                let plain = matches!(style, ScalarStyle::Plain);
                if reader.wants_key() {
                    let key = if plain {
                        plain_word(&value)?
                    } else {
                        value.into_owned()
                    };
                    reader.key(key, at)?;
                } else {
                    let json = if plain {
                        plain_scalar(&value)?
                    } else {
                        Json::String(value.into_owned())
                    };
                    let parent = reader.open(at)?;
                    reader.close(json, parent)?;
                }
            }
            Event::SequenceStart(_, 0, None) => {
                let parent = reader.open(at)?;
                reader.stack.push((Open::Seq(Vec::new()), parent));
            }
            Event::MappingStart(_, 0, None) => {
                let parent = reader.open(at)?;
                reader.stack.push((Open::Map(Map::new(), None), parent));
            }
            Event::SequenceEnd => {
                let Some((Open::Seq(items), parent)) = reader.stack.pop() else {
                    return None;
                };
                reader.close(Json::Array(items), parent)?;
            }
            Event::MappingEnd => {
                let Some((Open::Map(map, None), parent)) = reader.stack.pop() else {
                    return None;
                };
                reader.close(Json::Object(map), parent)?;
            }
            Event::StreamEnd => break,
            _ => return None,
        }
    }
    let root = reader.root.filter(Json::is_object)?;
    Some((root, reader.index))
}

/// A collection still being read, with the key waiting for its value.
enum Open {
    Seq(Vec<Json>),
    Map(Map<String, Json>, Option<(String, Option<Position>)>),
}

/// Builds the JSON and the positions of [`parse_common`] as the events
/// come, with no tree of its own.
#[derive(Default)]
struct CommonReader {
    /// The collections being read, each with the length of its parent's
    /// pointer, to cut `pointer` back to when it ends.
    stack: Vec<(Open, usize)>,
    /// The pointer of the node being read.
    pointer: String,
    index: SpanIndex,
    root: Option<Json>,
}

impl CommonReader {
    fn wants_key(&self) -> bool {
        matches!(self.stack.last(), Some((Open::Map(_, None), _)))
    }

    /// Takes `key`, written at `at`, as the key of the next value.
    fn key(&mut self, key: String, at: Option<Position>) -> Option<()> {
        let Some((Open::Map(map, waiting), _)) = self.stack.last_mut() else {
            return None;
        };
        // serde-saphyr decides what a repeated key or a merge key means.
        if key == "<<" || map.contains_key(&key) {
            return None;
        }
        *waiting = Some((key, at));
        Some(())
    }

    /// Starts a node written at `at`: its pointer and its positions. The
    /// length of its parent's pointer, for [`Self::close`].
    fn open(&mut self, at: Option<Position>) -> Option<usize> {
        if self.stack.len() >= MAX_DEPTH - 1 || self.root.is_some() {
            return None;
        }
        let parent = self.pointer.len();
        let key = match self.stack.last().map(|(open, _)| open) {
            None => None,
            Some(Open::Seq(items)) => {
                push_index(&mut self.pointer, items.len());
                None
            }
            Some(Open::Map(_, Some((key, key_at)))) => {
                push_member(&mut self.pointer, key);
                *key_at
            }
            Some(Open::Map(_, None)) => return None,
        };
        self.index.note(&self.pointer, Spans { value: at, key });
        Some(parent)
    }

    /// Ends the node opened last, whose value is `json` and whose parent's
    /// pointer is `parent` long.
    fn close(&mut self, json: Json, parent: usize) -> Option<()> {
        self.pointer.truncate(parent);
        match self.stack.last_mut().map(|(open, _)| open) {
            None => self.root = Some(json),
            Some(Open::Seq(items)) => items.push(json),
            Some(Open::Map(map, waiting)) => {
                let (key, _) = waiting.take()?;
                map.insert(key, json);
            }
        }
        Some(())
    }
}

fn marker_position(marker: &serde_saphyr::granit_parser::Marker) -> Option<Position> {
    (marker.line() > 0).then(|| Position::new(marker.line(), marker.col() + 1))
}

/// A plain scalar's value when it can mean only text, a whole number,
/// `true` or `false`; `None` for anything YAML might read otherwise.
fn plain_scalar(value: &str) -> Option<Json> {
    let (negative, digits) = match value.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, value),
    };
    if digits.starts_with(|c: char| c.is_ascii_digit()) {
        // Plain decimal, short enough for every reading to agree: `007`,
        // `-0` and 19 digits are left to serde-saphyr.
        let plain = digits.len() <= 18
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (!digits.starts_with('0') || digits == "0" && !negative);
        if !plain {
            return None;
        }
        let number: u64 = digits.parse().ok()?;
        return Some(match negative {
            false => Json::from(number),
            true => Json::from(-i64::try_from(number).ok()?),
        });
    }
    match value {
        "true" => Some(Json::Bool(true)),
        "false" => Some(Json::Bool(false)),
        _ => plain_word(value).map(Json::String),
    }
}

/// A plain scalar that YAML reads as text and nothing else: no reading of
/// it as a boolean, null or number is possible.
fn plain_word(value: &str) -> Option<String> {
    const SPECIAL: [&str; 11] = [
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", ".inf", ".nan",
    ];
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    let ambiguous = value.is_empty()
        || value.starts_with('~')
        || unsigned.starts_with(|c: char| c.is_ascii_digit())
        || unsigned
            .strip_prefix('.')
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        || SPECIAL
            .iter()
            .any(|special| unsigned.eq_ignore_ascii_case(special))
        // Past a sign, Rust reads a float only from a digit, `.`, `inf` or
        // `nan`: other words need not be tried.
        || (unsigned.starts_with(['.', 'i', 'I', 'n', 'N']) && value.parse::<f64>().is_ok());
    (!ambiguous).then(|| value.to_owned())
}

fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    // The scanner counts flow nesting on its own, before the depth budget
    // sees it: the same limit for `[[[...]]]` as for block nesting.
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_aliases = MAX_ALIASES;
    budget.max_events = MAX_EVENTS;
    budget.max_recorded_anchor_events = MAX_EVENTS;
    let mut options = Options::default();
    options.budget = Some(budget);
    // An alias bomb is stopped by what its aliases replay, long before the
    // events it would produce are counted.
    options.alias_limits.max_total_replayed_events = MAX_EVENTS;
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    // YAML 1.2: `y`, `no` and `on` are strings, as a reader expects.
    options.strict_booleans = true;
    options
}

/// The error itself, without the snippet and alias wrappers that only add
/// locations (an alias bomb is reported as an error inside an alias).
fn original(error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    let mut error = error;
    while let serde_saphyr::Error::WithSnippet { error: inner, .. }
    | serde_saphyr::Error::AliasError { error: inner, .. } = error
    {
        error = inner;
    }
    error
}

fn classify(error: &serde_saphyr::Error) -> YamlErrorKind {
    use serde_saphyr::Error;
    match original(error) {
        Error::DuplicateMappingKey { .. } => YamlErrorKind::DuplicateKey,
        Error::Budget { .. }
        | Error::AliasReplayCounterOverflow { .. }
        | Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. } => YamlErrorKind::Budget,
        error if too_deep_for_scanner(error) => YamlErrorKind::Budget,
        _ => YamlErrorKind::Syntax,
    }
}

/// The scanner's own nesting limit, which flow collections reach first.
fn too_deep_for_scanner(error: &serde_saphyr::Error) -> bool {
    matches!(scan_error(error), Some(ErrorKind::RecursionLimitExceeded))
}

/// What the YAML scanner found wrong, when the error is the scanner's.
fn scan_error(error: &serde_saphyr::Error) -> Option<&ErrorKind> {
    match error {
        serde_saphyr::Error::ExternalMessage { source, .. } => match source.as_ref() {
            ExternalMessageSource::Parser(scan) => Some(scan.kind()),
            _ => None,
        },
        _ => None,
    }
}

/// The scanner's ways of refusing a tab, the commonest YAML mistake.
fn is_tab(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::TabNotAllowed
            | ErrorKind::TabInBlockIndentation
            | ErrorKind::TabAtBlockScalarStart
            | ErrorKind::TabInIndentation
            | ErrorKind::TabInPlainScalar
    )
}

/// The first tab from the line of `at` on: the scanner reports where the
/// node it was reading began, which may be a line above the tab itself.
fn first_tab(text: &str, at: Position) -> Position {
    let line_start = crate::source::offset_of(text, Position::new(at.line, 1));
    text[line_start..]
        .find('\t')
        .map_or(at, |tab| crate::source::position_at(text, line_start + tab))
}

/// The words of an error. The caller frames them with the file and
/// position, so serde-saphyr's own location suffixes and snippets go, and
/// the limits are said in a playbook author's terms.
fn describe(error: &serde_saphyr::Error) -> String {
    use serde_saphyr::Error;
    let too_deep = format!("the YAML is nested more than {MAX_DEPTH} levels deep");
    let too_many = format!(
        "the YAML expands to more than {MAX_EVENTS} nodes (aliases such as `*name` repeat what they point to)"
    );
    match original(error) {
        Error::DuplicateMappingKey { key: Some(key), .. } => format!("duplicate key `{key}`"),
        Error::DuplicateMappingKey { key: None, .. } => "duplicate key".into(),
        Error::MultipleDocuments { .. } => {
            "a playbook is one YAML document, but a `---` line starts another here".into()
        }
        Error::Budget { breach, .. } => match breach {
            BudgetBreach::Depth { .. } => too_deep,
            BudgetBreach::Events { .. }
            | BudgetBreach::Nodes { .. }
            | BudgetBreach::RecordedAnchorEvents { .. } => too_many,
            BudgetBreach::Aliases { .. } | BudgetBreach::AliasAnchorRatio { .. } => format!(
                "the YAML uses too many aliases (`*name`): more than {MAX_ALIASES}, or ten for each anchor (`&name`)"
            ),
            other => format!("the YAML is too large or too complex ({other:?})"),
        },
        Error::AliasReplayCounterOverflow { .. }
        | Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. } => too_many,
        error if too_deep_for_scanner(error) => too_deep,
        error if scan_error(error).is_some_and(is_tab) => {
            "a tab where YAML allows only spaces: indent with spaces".into()
        }
        error => match scan_error(error) {
            // The scanner's own words quote it as `x'.
            Some(ErrorKind::UnexpectedCharacter { character }) => {
                format!("unexpected character `{}`", character.escape_default())
            }
            _ => UserMessageFormatter
                .format_message(error)
                .trim_end_matches('.')
                .to_string(),
        },
    }
}

/// The innermost flow bracket (`{` or `[`) still open just before `at`,
/// and where it is, reading past quoted strings and comments.
fn unclosed_flow(text: &str, at: Position) -> Option<(char, Position)> {
    let mut open: Vec<(char, Position)> = Vec::new();
    for (index, line) in text.lines().enumerate().take(at.line) {
        let number = index + 1;
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        for (column, c) in line.chars().enumerate() {
            let column = column + 1;
            if number == at.line && column >= at.column {
                break;
            }
            match (quote, c) {
                (Some('"'), '\\') if previous != '\\' => {}
                (Some(q), c) if c == q && !(q == '"' && previous == '\\') => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') if previous.is_whitespace() => break,
                (None, '{' | '[') => open.push((c, Position::new(number, column))),
                (None, '}' | ']') => {
                    open.pop();
                }
                _ => {}
            }
            previous = if previous == '\\' && c == '\\' {
                ' '
            } else {
                c
            };
        }
    }
    open.pop()
}

fn position(location: Location) -> Option<Position> {
    let line = usize::try_from(location.line()).ok()?;
    let column = usize::try_from(location.column()).ok()?;
    (line > 0).then(|| Position::new(line, column.max(1)))
}

/// How many nodes `node` holds, itself included: the size of its index.
fn count(node: &Spanned<Value>) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count).sum(),
        Value::Map(entries) => entries.iter().map(|(_, value)| count(value)).sum(),
        _ => 0,
    }
}

/// `node` as JSON, noting where it and its descendants were written; `key`
/// is where its key was, for a member of a mapping. `pointer` is its JSON
/// pointer, one buffer grown and cut back as the walk goes down and up.
fn into_json(
    node: Spanned<Value>,
    key: Option<Position>,
    pointer: &mut String,
    index: &mut SpanIndex,
) -> Json {
    let spans = Spans {
        value: position(node.referenced),
        key,
    };
    index.note(pointer, spans);
    let length = pointer.len();
    match node.value {
        Value::Null => Json::Null,
        Value::Bool(value) => Json::Bool(value),
        Value::Number(value) => Json::Number(value),
        Value::String(value) => Json::String(value),
        Value::Seq(items) => Json::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    push_index(pointer, i);
                    let json = into_json(item, None, pointer, index);
                    pointer.truncate(length);
                    json
                })
                .collect(),
        ),
        Value::Map(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (key, value) in entries {
                push_member(pointer, &key.value.0);
                let value = into_json(value, position(key.referenced), pointer, index);
                pointer.truncate(length);
                map.insert(key.value.0, value);
            }
            Json::Object(map)
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Value, E> {
        i64::try_from(value)
            .map(|value| Value::Number(value.into()))
            .map_err(|_| E::custom("integer out of range"))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Value, E> {
        u64::try_from(value)
            .map(|value| Value::Number(value.into()))
            .map_err(|_| E::custom("integer out of range"))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number must be finite (.nan and .inf have no JSON form)"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Value, E> {
        Err(E::custom("binary values are not supported"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }

    fn visit_str<E>(self, value: &str) -> Result<Key, E> {
        Ok(Key(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Key, E> {
        Ok(Key(value))
    }

    fn visit_bool<E>(self, value: bool) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_unit<E>(self) -> Result<Key, E> {
        Ok(Key("null".into()))
    }
}

/// The JSON pointer of the value serde_path_to_error names, for looking up
/// where it was written.
pub(crate) fn json_pointer(path: &serde_path_to_error::Path) -> String {
    path.iter()
        .map(|segment| match segment {
            serde_path_to_error::Segment::Seq { index } => format!("/{index}"),
            serde_path_to_error::Segment::Map { key } => format!("/{}", pointer_segment(key)),
            serde_path_to_error::Segment::Enum { variant } => format!("/{variant}"),
            serde_path_to_error::Segment::Unknown => String::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let (json, index) = parse("name: x\nsteps:\n  - id: plan\n    to: tasks\n").unwrap();
        assert_eq!(json["steps"][0]["to"], "tasks");
        assert_eq!(index.value("/steps/0/to").unwrap(), Position::new(4, 9));
        assert_eq!(index.key("/steps/0/to").unwrap(), Position::new(4, 5));
        assert_eq!(
            index.value("/steps/0/to/deeper").unwrap(),
            Position::new(4, 9)
        );
    }

    #[test]
    fn duplicate_key_is_reported_at_second_occurrence() {
        let error = parse("name: a\ntitle: b\nname: c\n").unwrap_err();
        assert_eq!(error.position.map(|p| p.line), Some(3), "{error:?}");
    }

    #[test]
    fn scalars_keep_their_types() {
        let (json, _) = parse("a: 1\nb: true\nc: ~\nd: '1'\ne: 1.5\n").unwrap();
        assert_eq!(
            json,
            serde_json::json!({"a": 1, "b": true, "c": null, "d": "1", "e": 1.5})
        );
    }

    /// Every YAML file of the repository (`.yaml`, `.yml`), but `target/`.
    fn repository_yaml() -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        let mut folders = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy();
                if path.is_dir() && !name.starts_with('.') && name != "target" {
                    folders.push(path);
                } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                    found.push(path);
                }
            }
        }
        found.sort();
        found
    }

    #[test]
    fn the_common_reader_agrees_with_serde_saphyr_on_every_yaml_file_here() {
        let files = repository_yaml();
        assert!(files.len() > 100, "{files:?}");
        let mut read = 0;
        for file in &files {
            // A fixture that is not UTF-8 never reaches the parser.
            let Ok(text) = String::from_utf8(std::fs::read(file).unwrap()) else {
                continue;
            };
            if let Some(common) = parse_common(&text) {
                read += 1;
                assert_eq!(Ok(common), parse_spanned(&text), "{}", file.display());
            }
        }
        // Most files are plain playbooks: if the common reader gave up on
        // them, loading would silently lose its speed.
        assert!(read * 4 > files.len() * 3, "{read} of {}", files.len());
    }

    #[test]
    fn the_common_reader_reads_every_bundled_playbook() {
        for file in repository_yaml() {
            let bundled = file
                .parent()
                .is_some_and(|folder| folder.ends_with("playbooks"))
                && !file.to_string_lossy().contains("fixtures");
            if bundled || file.ends_with("benches/plan-phase.yaml") {
                let text = std::fs::read_to_string(&file).unwrap();
                assert!(parse_common(&text).is_some(), "{}", file.display());
            }
        }
    }

    #[test]
    fn the_common_reader_leaves_what_it_cannot_be_sure_of_to_serde_saphyr() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "1: one\n",
            "true: yes\n",
            "a: 1\na: 2\n",
            "<<: {a: 1}\n",
            "a: ~\n",
            "a:\n",
            "a: 1.5\n",
            "a: .inf\n",
            "a: -.NaN\n",
            "a: 1e3\n",
            "a: 0x1F\n",
            "a: 007\n",
            "a: -0\n",
            "a: 12345678901234567890\n",
            "a: True\n",
            "a: Null\n",
            "a: yes\n",
            "a: 2024-01-01\n",
            "a: 1\n---\nb: 2\n",
            "%YAML 1.2\n---\na: 1\n",
            "[1, 2]\n",
            "? [a]\n: b\n",
            "a: [1\n",
        ] {
            assert_eq!(parse_common(text), None, "{text:?}");
        }
    }

    /// Scalars YAML can read only as what they look like: words, whole
    /// numbers, booleans and quoted text.
    const CERTAIN: &[&str] = &[
        "plan",
        "Gate — PASS",
        "a b",
        "héllo",
        ".spec/plan.md",
        "-x",
        "+x",
        "x-1",
        "0",
        "7",
        "-3",
        "42",
        "true",
        "false",
        "'quoted'",
        "\"7\"",
        "\"true\"",
        "''",
        "\"\"",
    ];

    /// Keys YAML can read only as text.
    const CERTAIN_KEYS: &[&str] = &[
        "plan",
        "a b",
        "héllo",
        ".spec/plan.md",
        "x-1",
        "'7'",
        "\"true\"",
    ];

    /// Spellings YAML may read as something else than they look.
    const DOUBTFUL: &[&str] = &[
        "007",
        "-0",
        "1.5",
        ".5",
        "1e3",
        "inf",
        "nan",
        ".inf",
        "-.inf",
        ".NaN",
        "True",
        "FALSE",
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "null",
        "Null",
        "~",
        "0x10",
        "0o7",
        "1_000",
        "2024-01-01",
        "12:30",
    ];

    /// A flow node of scalars from `pool`, nested up to three deep, each
    /// mapping's keys distinct, from `keys`.
    fn node(
        pool: Vec<&'static str>,
        keys: Vec<&'static str>,
    ) -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let keys = proptest::sample::select(keys);
        proptest::sample::select(pool)
            .prop_map(str::to_string)
            .prop_recursive(3, 24, 4, move |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4)
                        .prop_map(|items| format!("[{}]", items.join(", "))),
                    proptest::collection::btree_map(keys.clone(), inner, 0..4).prop_map(
                        |members| {
                            let members: Vec<String> = members
                                .into_iter()
                                .map(|(key, value)| format!("{key}: {value}"))
                                .collect();
                            format!("{{{}}}", members.join(", "))
                        }
                    ),
                ]
            })
    }

    /// A block mapping with keys from `keys` and flow nodes of `pool` as
    /// values, or as the items of block sequences.
    fn document(
        pool: Vec<&'static str>,
        keys: Vec<&'static str>,
    ) -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        (
            proptest::collection::btree_map(
                proptest::sample::select(keys.clone()),
                node(pool, keys),
                1..6,
            ),
            proptest::bool::ANY,
        )
            .prop_map(|(members, block)| {
                members
                    .iter()
                    .map(|(key, value)| match block {
                        true => format!("{key}: {value}\n"),
                        false => format!("{key}:\n  - {value}\n  -\n    - {value}\n"),
                    })
                    .collect()
            })
    }

    proptest::proptest! {
        #[test]
        fn the_common_reader_reads_documents_of_certain_scalars_as_serde_saphyr_does(
            text in document(CERTAIN.to_vec(), CERTAIN_KEYS.to_vec())
        ) {
            let common = parse_common(&text);
            proptest::prop_assert!(common.is_some(), "{}", text);
            proptest::prop_assert_eq!(Ok(common.unwrap()), parse_spanned(&text), "{}", text);
        }

        #[test]
        fn on_an_edited_bundled_playbook_the_common_reader_agrees_with_serde_saphyr(
            edits in proptest::collection::vec(
                (
                    proptest::num::usize::ANY,
                    0..8usize,
                    proptest::sample::select(vec![
                        "", ": ", "- ", "&a ", "*a", "!!str ", "'", "\"", "\n", "  ", "\t", "# ",
                        "{", "}", "[", "]", ", ", "~", "1", "-0", "1.5", "true", "True", "<<: ",
                        "? ", "|\n  ", ">-\n  ", "---\n", "é",
                    ]),
                ),
                1..4
            ),
        ) {
            let mut text =
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/playbooks/specflow.yaml"))
                    .to_string();
            for (at, removed, inserted) in edits {
                let mut start = at % (text.len() + 1);
                while !text.is_char_boundary(start) {
                    start -= 1;
                }
                let mut end = (start + removed).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(start..end, inserted);
            }
            if let Some(common) = parse_common(&text) {
                proptest::prop_assert_eq!(Ok(common), parse_spanned(&text), "{}", text);
            }
        }

        #[test]
        fn what_the_common_reader_reads_of_any_scalars_serde_saphyr_reads_alike(
            text in document([CERTAIN, DOUBTFUL].concat(), [CERTAIN, DOUBTFUL].concat())
        ) {
            if let Some(common) = parse_common(&text) {
                proptest::prop_assert_eq!(Ok(common), parse_spanned(&text), "{}", text);
            }
        }
    }
}
