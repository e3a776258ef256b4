//! `extends:`: a playbook that builds on another and states only what
//! differs. The merge works on the JSON of both files, before the model is
//! built, and carries every position along, so a diagnostic about a merged
//! value still names the file and line it was written on.
//!
//! The rules:
//! - top-level `vars`, `artifacts`, `plugins` and `checks` merge name by
//!   name (a name given here replaces the base's, a new one is added);
//! - every other top-level key given here replaces the base's whole;
//! - each entry of `steps` overrides the base step with the same `id`: each
//!   key given replaces the base's, except `checks`, where a check whose
//!   `id` the base step has replaces it in place and any other is added at
//!   the end, and `remove_checks`, which drops base checks by id first;
//! - a step id or a removed check id the base does not have is an error,
//!   so a typo never passes for an addition;
//! - plugin and template paths of the base stay relative to the base file.

use serde_json::{Map, Value as Json};

use crate::diagnostic::Diagnostic;
use crate::yaml::{SpanIndex, pointer_segment};

/// The top-level keys that hold named entries and merge name by name.
const MERGED_BY_NAME: [&str; 4] = ["vars", "artifacts", "plugins", "checks"];

/// A playbook's JSON with its positions and the file it was read from.
#[derive(Clone, Copy)]
pub(super) struct Layer<'a> {
    pub json: &'a Json,
    pub spans: &'a SpanIndex,
    pub display: &'a str,
}

/// `derived` (without its `extends:` key) merged over `base`: the merged
/// JSON and positions, or diagnostics at the overrides that name nothing.
pub(super) fn merge(base: Layer, derived: Layer) -> Result<(Json, SpanIndex), Vec<Diagnostic>> {
    let mut merger = Merger {
        json: base.json.clone(),
        spans: SpanIndex::default(),
        base_display: base.display,
        derived,
        errors: Vec::new(),
    };
    merger.spans.graft(base.spans, "", "", base.display);
    let Some(keys) = derived.json.as_object() else {
        return Ok((merger.json, merger.spans));
    };
    for (key, value) in keys {
        let pointer = format!("/{}", pointer_segment(key));
        match (key.as_str(), value) {
            ("extends", _) => {}
            ("steps", Json::Array(steps)) => {
                for (index, step) in steps.iter().enumerate() {
                    merger.step(index, step);
                }
            }
            (name, Json::Object(entries)) if MERGED_BY_NAME.contains(&name) => {
                for (entry, value) in entries {
                    let inner = format!("{pointer}/{}", pointer_segment(entry));
                    if !merger.json[name].is_object() {
                        merger.json[name] = Json::Object(Map::new());
                    }
                    merger.json[name][entry] = value.clone();
                    merger.take(&inner, &inner);
                }
            }
            _ => {
                merger.json[key] = value.clone();
                merger.take(&pointer, &pointer);
            }
        }
    }
    if merger.errors.is_empty() {
        Ok((merger.json, merger.spans))
    } else {
        Err(merger.errors)
    }
}

struct Merger<'a> {
    json: Json,
    spans: SpanIndex,
    base_display: &'a str,
    derived: Layer<'a>,
    errors: Vec<Diagnostic>,
}

/// Where a check of a merged step comes from: the merged index before the
/// step changed (a base check), or the derived file.
enum Origin {
    Base,
    Derived,
}

impl Merger<'_> {
    /// Takes the positions of the derived value at `from` for the merged
    /// value at `to`.
    fn take(&mut self, from: &str, to: &str) {
        self.spans.remove(to);
        self.spans
            .graft(self.derived.spans, from, to, self.derived.display);
    }

    fn error(&mut self, code: &str, pointer: &str, message: String, help: String) {
        self.errors.push(
            Diagnostic::error(code, self.derived.display, message)
                .at_opt(self.derived.spans.value(pointer))
                .with_help(help),
        );
    }

    fn step(&mut self, index: usize, step: &Json) {
        let derived = format!("/steps/{index}");
        let Some(id) = step.get("id").and_then(Json::as_str) else {
            return;
        };
        let known = ids(&self.json["steps"]);
        let Some(base_index) = known.iter().position(|known| known == id) else {
            let help = super::schema::suggestion(id, &known, "the base defines no steps");
            self.error(
                "unknown-base-step",
                &format!("{derived}/id"),
                format!("step `{id}` is not a step of the base playbook, so there is nothing to override"),
                help,
            );
            return;
        };
        let base = format!("/steps/{base_index}");
        let Some(keys) = step.as_object() else {
            return;
        };
        for (key, value) in keys {
            if matches!(key.as_str(), "id" | "checks" | "remove_checks") {
                continue;
            }
            self.json["steps"][base_index][key] = value.clone();
            let segment = pointer_segment(key);
            self.take(
                &format!("{derived}/{segment}"),
                &format!("{base}/{segment}"),
            );
        }
        if step.get("checks").is_some() || step.get("remove_checks").is_some() {
            self.checks(&derived, step, &base, base_index);
        }
    }

    /// The checks of base step `base_index` with the override's removals,
    /// replacements and additions, each keeping the position it came from.
    fn checks(&mut self, derived: &str, step: &Json, base: &str, base_index: usize) {
        let before = self.spans.clone();
        let mut entries: Vec<(Json, Origin, String)> = self.json["steps"][base_index]["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, check)| (check.clone(), Origin::Base, format!("{base}/checks/{i}")))
            .collect();
        let removals = step.get("remove_checks").and_then(Json::as_array);
        for (i, removed) in removals.into_iter().flatten().enumerate() {
            let Some(removed) = removed.as_str() else {
                continue;
            };
            let known: Vec<String> = entries.iter().filter_map(|(c, ..)| check_id(c)).collect();
            match entries
                .iter()
                .position(|(c, ..)| check_id(c).as_deref() == Some(removed))
            {
                Some(at) => {
                    entries.remove(at);
                }
                None => {
                    let help =
                        super::schema::suggestion(removed, &known, "the base step has no checks");
                    self.error(
                        "unknown-base-check",
                        &format!("{derived}/remove_checks/{i}"),
                        format!("the base step has no check `{removed}` to remove"),
                        help,
                    );
                }
            }
        }
        let added = step.get("checks").and_then(Json::as_array);
        for (i, check) in added.into_iter().flatten().enumerate() {
            let entry = (
                check.clone(),
                Origin::Derived,
                format!("{derived}/checks/{i}"),
            );
            let id = check_id(check);
            match entries
                .iter()
                .position(|(c, ..)| id.is_some() && check_id(c) == id)
            {
                Some(at) => entries[at] = entry,
                None => entries.push(entry),
            }
        }
        let pointer = format!("{base}/checks");
        self.spans.remove(&pointer);
        for (i, (_, from, at)) in entries.iter().enumerate() {
            let (spans, display) = match from {
                Origin::Base => (&before, self.base_display),
                Origin::Derived => (self.derived.spans, self.derived.display),
            };
            self.spans
                .graft(spans, at, &format!("{pointer}/{i}"), display);
        }
        self.json["steps"][base_index]["checks"] =
            Json::Array(entries.into_iter().map(|(check, ..)| check).collect());
    }
}

fn ids(steps: &Json) -> Vec<String> {
    steps
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|step| step.get("id")?.as_str().map(str::to_string))
        .collect()
}

fn check_id(check: &Json) -> Option<String> {
    check.get("id")?.as_str().map(str::to_string)
}
