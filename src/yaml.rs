//! YAML with positions. The file is read once, by serde-saphyr (pure Rust,
//! with budgets against alias bombs and deep nesting), into a tree that keeps
//! the position of every key and value. The tree becomes JSON for the schema
//! and the model, and a [`SpanIndex`] maps each JSON pointer back to where it
//! was written, so every later error can name `file:line:column`.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value as Json};
use serde_saphyr::{Budget, DuplicateKeyPolicy, Location, Options, Spanned};

use crate::diagnostic::Position;

/// Deeper than any sensible playbook, and far below what the stack allows.
const MAX_DEPTH: usize = 64;
/// Playbooks are small; anything past this is a mistake or an attack.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

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

/// The positions of one document's nodes, by JSON pointer (`/steps/0/id`).
#[derive(Debug, Default, Clone)]
pub struct SpanIndex {
    values: HashMap<String, Position>,
    keys: HashMap<String, Position>,
}

impl SpanIndex {
    /// Where the value at `pointer` was written; for a pointer into
    /// something that has no position of its own, its nearest ancestor.
    pub fn value(&self, pointer: &str) -> Option<Position> {
        let mut pointer = pointer;
        loop {
            if let Some(span) = self.values.get(pointer) {
                return Some(*span);
            }
            pointer = &pointer[..pointer.rfind('/')?];
        }
    }

    /// Where the key of the member at `pointer` was written, falling back to
    /// its value: a message about a field reads best pointing at its name.
    pub fn key(&self, pointer: &str) -> Option<Position> {
        self.keys
            .get(pointer)
            .copied()
            .or_else(|| self.value(pointer))
    }
}

/// Escapes one JSON-pointer segment (RFC 6901).
pub fn pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
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
    if text.trim().is_empty() {
        return Err(YamlError {
            kind: YamlErrorKind::Empty,
            message: "the file is empty".into(),
            position: None,
        });
    }
    let root: Spanned<Value> =
        serde_saphyr::from_str_with_options(text, options()).map_err(|error| YamlError {
            kind: classify(&error),
            message: describe(&error),
            position: error.location().and_then(position),
        })?;
    let mut index = SpanIndex::default();
    let json = into_json(root, String::new(), &mut index);
    Ok((json, index))
}

fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_aliases = 1_000;
    budget.max_events = 200_000;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    // YAML 1.2: `y`, `no` and `on` are strings, as a reader expects.
    options.strict_booleans = true;
    options
}

fn classify(error: &serde_saphyr::Error) -> YamlErrorKind {
    match error.without_snippet() {
        serde_saphyr::Error::DuplicateMappingKey { .. } => YamlErrorKind::DuplicateKey,
        serde_saphyr::Error::Budget { .. } => YamlErrorKind::Budget,
        _ => YamlErrorKind::Syntax,
    }
}

/// serde-saphyr's messages carry their own location and snippet; ours are
/// framed by the caller, so keep only the words.
fn describe(error: &serde_saphyr::Error) -> String {
    let error = error.without_snippet();
    if let serde_saphyr::Error::DuplicateMappingKey { key, .. } = error {
        return match key {
            Some(key) => format!("duplicate key `{key}`"),
            None => "duplicate key".into(),
        };
    }
    let text = error.to_string();
    let first = text.lines().next().unwrap_or("invalid YAML").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 1 column 4: unclosed bracket" -> "unclosed bracket"
    let words = match first.strip_prefix("line ") {
        Some(rest) => rest.split_once(": ").map_or(first, |(_, words)| words),
        None => first,
    };
    words.trim_end_matches('.').to_string()
}

fn position(location: Location) -> Option<Position> {
    let line = usize::try_from(location.line()).ok()?;
    let column = usize::try_from(location.column()).ok()?;
    (line > 0).then(|| Position::new(line, column.max(1)))
}

fn into_json(node: Spanned<Value>, pointer: String, index: &mut SpanIndex) -> Json {
    if let Some(start) = position(node.referenced) {
        index.values.insert(pointer.clone(), start);
    }
    match node.value {
        Value::Null => Json::Null,
        Value::Bool(value) => Json::Bool(value),
        Value::Number(value) => Json::Number(value),
        Value::String(value) => Json::String(value),
        Value::Seq(items) => Json::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| into_json(item, format!("{pointer}/{i}"), index))
                .collect(),
        ),
        Value::Map(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (key, value) in entries {
                let member = format!("{pointer}/{}", pointer_segment(&key.value.0));
                if let Some(start) = position(key.referenced) {
                    index.keys.insert(member.clone(), start);
                }
                let value = into_json(value, member, index);
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
