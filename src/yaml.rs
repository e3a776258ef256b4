//! YAML with positions. The file is read once, by serde-saphyr (pure Rust,
//! with budgets against alias bombs and deep nesting), into a tree that keeps
//! the position of every key and value. The tree becomes JSON for the schema
//! and the model, and a [`SpanIndex`] maps each JSON pointer back to where it
//! was written, so every later error can name `file:line:column`.

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
#[derive(Debug, Default, Clone, Copy)]
struct Spans {
    value: Option<Position>,
    key: Option<Position>,
}

/// The positions of one document's nodes, by JSON pointer (`/steps/0/id`).
/// One entry per node, keyed with foldhash (randomly seeded per process,
/// so a playbook cannot be written to collide): SipHash and a second map
/// for the keys cost more than the rest of building the tree.
#[derive(Debug, Default, Clone)]
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
    if spans.value.is_some() || spans.key.is_some() {
        index.nodes.insert(pointer.as_str().into(), spans);
    }
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
                    write!(pointer, "/{i}").expect("writing to a String cannot fail");
                    let json = into_json(item, None, pointer, index);
                    pointer.truncate(length);
                    json
                })
                .collect(),
        ),
        Value::Map(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (key, value) in entries {
                pointer.push('/');
                push_segment(pointer, &key.value.0);
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
}
