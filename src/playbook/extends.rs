//! `extends:`: a playbook that builds on another and states only what
//! differs. The merge works on the JSON of both files, before the model is
//! built, and carries every position along, so a diagnostic about a merged
//! value still names the file and line it was written on.
//!
//! The rules:
//! - top-level `vars`, `artifacts`, `plugins`, `checks` and `approvers` merge name by
//!   name (a name given here replaces the base's, a new one is added);
//! - every other top-level key given here replaces the base's whole;
//! - each entry of `steps` overrides the base step with the same `id`: each
//!   key given replaces the base's, except `checks`, where a check whose
//!   `id` the base step has replaces it in place and any other is added at
//!   the end, and `remove_checks`, which drops base checks by id first;
//! - a check holding `add_sections: [...]` instead of a kind patches the
//!   base check of its id, which must be a `sections` check: the entries are
//!   appended to its list, and the patch's other keys (`severity`,
//!   `message`...) replace the base check's;
//! - a step id, a removed check id or a patched check id the base does not
//!   have is an error, so a typo never passes for an addition;
//! - plugin and template paths of the base stay relative to the base file.

use serde_json::{Map, Value as Json};

use crate::diagnostic::Diagnostic;
use crate::yaml::{SpanIndex, pointer_segment};

/// The top-level keys that hold named entries and merge name by name.
const MERGED_BY_NAME: [&str; 5] = ["vars", "artifacts", "plugins", "checks", "approvers"];

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
/// step changed (a base check), the derived file, or a base check that
/// the derived check at this pointer patched with `add_sections`.
enum Origin {
    Base,
    Derived,
    Patched { base: String, sections: usize },
}

/// The key of a check that adds sections to a base check.
const ADD_SECTIONS: &str = "add_sections";

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
            let at_derived = format!("{derived}/checks/{i}");
            let id = check_id(check);
            let found = entries
                .iter()
                .position(|(c, ..)| id.is_some() && check_id(c) == id);
            if check.get(ADD_SECTIONS).is_some() {
                let known: Vec<String> = entries.iter().filter_map(|(c, ..)| check_id(c)).collect();
                match found {
                    Some(at) => self.patch(&mut entries[at], check, at_derived),
                    None => {
                        let id = id.unwrap_or_default();
                        let help =
                            super::schema::suggestion(&id, &known, "the base step has no checks");
                        self.error(
                            "unknown-base-check",
                            &format!("{at_derived}/id"),
                            format!("the base step has no check `{id}` to add sections to"),
                            help,
                        );
                    }
                }
                continue;
            }
            let entry = (check.clone(), Origin::Derived, at_derived);
            match found {
                Some(at) => entries[at] = entry,
                None => entries.push(entry),
            }
        }
        let pointer = format!("{base}/checks");
        self.spans.remove(&pointer);
        for (i, (_, from, at)) in entries.iter().enumerate() {
            let to = format!("{pointer}/{i}");
            match from {
                Origin::Base => self.spans.graft(&before, at, &to, self.base_display),
                Origin::Derived => {
                    self.spans
                        .graft(self.derived.spans, at, &to, self.derived.display)
                }
                Origin::Patched { base, sections } => {
                    self.spans.graft(&before, base, &to, self.base_display);
                    let patch = &self.derived.json.pointer(at).cloned().unwrap_or_default();
                    for key in patch.as_object().into_iter().flat_map(|o| o.keys()) {
                        let segment = pointer_segment(key);
                        if key == ADD_SECTIONS {
                            let added = patch[key].as_array().map_or(0, Vec::len);
                            for n in 0..added {
                                self.spans.graft(
                                    self.derived.spans,
                                    &format!("{at}/{segment}/{n}"),
                                    &format!("{to}/sections/{}", sections + n),
                                    self.derived.display,
                                );
                            }
                        } else if key != "id" {
                            self.spans.remove(&format!("{to}/{segment}"));
                            self.spans.graft(
                                self.derived.spans,
                                &format!("{at}/{segment}"),
                                &format!("{to}/{segment}"),
                                self.derived.display,
                            );
                        }
                    }
                }
            }
        }
        self.json["steps"][base_index]["checks"] =
            Json::Array(entries.into_iter().map(|(check, ..)| check).collect());
    }
}

impl Merger<'_> {
    /// Applies the `add_sections` patch `check` (at `at_derived`) to a base
    /// check entry, or reports why it cannot be.
    fn patch(&mut self, entry: &mut (Json, Origin, String), check: &Json, at_derived: String) {
        let Origin::Base = entry.1 else {
            self.error(
                "duplicate-check",
                &format!("{at_derived}/id"),
                "this check was already given in this step; give each check once".into(),
                "merge the two entries into one".into(),
            );
            return;
        };
        let Some(sections) = entry.0.get("sections").and_then(Json::as_array).cloned() else {
            let id = check_id(check).unwrap_or_default();
            self.error(
                "add-sections-to-other-kind",
                &format!("{at_derived}/{ADD_SECTIONS}"),
                format!("the base check `{id}` is not a `sections` check, so sections cannot be added to it"),
                "add a `sections` check of your own with a new id".into(),
            );
            return;
        };
        let mut merged = entry.0.clone();
        for (key, value) in check.as_object().into_iter().flatten() {
            if key != ADD_SECTIONS {
                merged[key] = value.clone();
            }
        }
        let mut all = sections.clone();
        all.extend(
            check[ADD_SECTIONS]
                .as_array()
                .into_iter()
                .flatten()
                .cloned(),
        );
        merged["sections"] = Json::Array(all);
        *entry = (
            merged,
            Origin::Patched {
                base: entry.2.clone(),
                sections: sections.len(),
            },
            at_derived,
        );
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
