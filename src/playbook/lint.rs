//! Semantic lint: what the schema cannot say. References between phases,
//! steps, artifacts, plugins and check lists; regular expressions and
//! templates that do not compile; paths that leave the project; phases and
//! steps that can never be reached.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::path::Path;

use minijinja::Environment;
use serde_json::json;

use crate::diagnostic::{Diagnostic, Position, Severity};
use crate::markdown::normalize_title;
use crate::render::{self, KnownNames, TemplateKind};
use crate::source::{self, SourceError};

use super::{
    Check, CheckItem, CheckKind, Gate, LoadedPlaybook, OneOrMany, Playbook, Requirement,
    SectionAliases, Step, TraceSpec,
};

/// Template files larger than this are not playbook templates.
pub const MAX_TEMPLATE_BYTES: usize = 1024 * 1024;

/// The diagnostics of one playbook, and the text of every other file they
/// point into (templates), for code frames.
#[derive(Debug, Default)]
pub struct Lint {
    pub diagnostics: Vec<Diagnostic>,
    pub extra_sources: Vec<(String, String)>,
}

impl Playbook {
    /// The checks of step `index` in order, named lists expanded. A list
    /// that includes itself is expanded once; lint reports the cycle.
    pub fn step_checks(&self, index: usize) -> Vec<(String, &Check)> {
        let mut out = Vec::new();
        let mut active = Vec::new();
        if let Some(step) = self.steps.get(index) {
            self.expand(
                &step.checks,
                &format!("/steps/{index}/checks"),
                &mut active,
                &mut out,
            );
        }
        out
    }

    fn expand<'a>(
        &'a self,
        items: &'a [CheckItem],
        pointer: &str,
        active: &mut Vec<&'a str>,
        out: &mut Vec<(String, &'a Check)>,
    ) {
        for (i, item) in items.iter().enumerate() {
            match item {
                CheckItem::Check(check) => out.push((format!("{pointer}/{i}"), check)),
                CheckItem::Use(name) => {
                    if active.contains(&name.as_str()) {
                        continue;
                    }
                    if let Some((key, list)) = self.checks.get_key_value(name) {
                        active.push(key);
                        let inner = format!("/checks/{}", crate::yaml::pointer_segment(key));
                        self.expand(list, &inner, active, out);
                        active.pop();
                    }
                }
            }
        }
    }

    /// The phase a new subject starts in.
    pub fn first_phase(&self) -> &str {
        self.phases.first().map_or("", |phase| phase.id.as_str())
    }

    /// The phases a subject may take `step` from: its `from`, and the
    /// `from` of each optional step that leads there (skipped), and so on
    /// back through optional steps.
    pub fn entry_phases<'a>(&'a self, step: &'a Step) -> Vec<&'a str> {
        let mut phases = vec![step.from.as_str()];
        let mut next = 0;
        while let Some(&phase) = phases.get(next) {
            for skipped in self.steps.iter().filter(|s| s.optional && s.to == phase) {
                if !phases.contains(&skipped.from.as_str()) {
                    phases.push(&skipped.from);
                }
            }
            next += 1;
        }
        phases
    }

    /// The step a subject in `phase` takes next: the first step that is not
    /// optional and may be taken from there, else the first optional one.
    pub fn next_step(&self, phase: &str) -> Option<&Step> {
        self.steps
            .iter()
            .find(|s| !s.optional && self.entry_phases(s).contains(&phase))
            .or_else(|| self.steps.iter().find(|s| s.from == phase))
    }
}

/// Lints a loaded playbook.
pub fn lint(loaded: &LoadedPlaybook) -> Lint {
    let mut linter = Linter {
        loaded,
        playbook: &loaded.playbook,
        env: render::environment(),
        known: KnownNames {
            vars: loaded.playbook.vars.keys().cloned().collect(),
            artifacts: loaded.playbook.artifacts.keys().cloned().collect(),
        },
        lint: Lint::default(),
    };
    linter.run();
    let mut lint = linter.lint;
    lint.extra_sources.extend(loaded.bases.iter().cloned());
    lint.diagnostics
        .sort_by(|a, b| (&a.path, a.start).cmp(&(&b.path, b.start)));
    lint
}

struct Linter<'a> {
    loaded: &'a LoadedPlaybook,
    playbook: &'a Playbook,
    env: Environment<'static>,
    known: KnownNames,
    lint: Lint,
}

impl Linter<'_> {
    fn run(&mut self) {
        self.duplicate_ids();
        self.references();
        self.approvals();
        self.check_lists();
        self.step_checks();
        self.plugins();
        self.regexes();
        self.paths();
        self.templates();
        self.reachability();
    }

    fn report(
        &mut self,
        code: &str,
        severity: Severity,
        pointer: &str,
        message: String,
    ) -> &mut Diagnostic {
        let position = self.loaded.position(pointer);
        self.report_at(code, severity, pointer, position, message)
    }

    /// Reports at `position`, in the file the value at `pointer` was
    /// written in.
    fn report_at(
        &mut self,
        code: &str,
        severity: Severity,
        pointer: &str,
        position: Option<Position>,
        message: String,
    ) -> &mut Diagnostic {
        let file = self.loaded.file_of(pointer).to_string();
        self.lint
            .diagnostics
            .push(Diagnostic::new(code, severity, file, message).at_opt(position));
        self.lint.diagnostics.last_mut().expect("just pushed")
    }

    fn error(&mut self, code: &str, pointer: &str, message: String) -> &mut Diagnostic {
        self.report(code, Severity::Error, pointer, message)
    }

    fn warning(&mut self, code: &str, pointer: &str, message: String) -> &mut Diagnostic {
        self.report(code, Severity::Warning, pointer, message)
    }

    fn duplicate_ids(&mut self) {
        let phases: Vec<_> = (self.playbook.phases.iter().enumerate())
            .map(|(i, p)| (format!("/phases/{i}/id"), p.id.clone(), None))
            .collect();
        self.duplicates("phase", "", phases);
        let steps: Vec<_> = (self.playbook.steps.iter().enumerate())
            .map(|(i, s)| (format!("/steps/{i}/id"), s.id.clone(), None))
            .collect();
        self.duplicates("step", "", steps);
        for (index, step) in self.playbook.steps.iter().enumerate() {
            let checks = self
                .playbook
                .step_checks(index)
                .into_iter()
                .map(|(pointer, check)| {
                    // A check of a named list is written away from the step
                    // it joins, so say how it got there.
                    let joined = pointer.starts_with("/checks/").then(|| {
                        format!(
                            "this check comes from a check list that step `{}` includes with `use:`",
                            step.id
                        )
                    });
                    (format!("{pointer}/id"), check.id.clone(), joined)
                })
                .collect();
            self.duplicates("check", &format!(" in step `{}`", step.id), checks);
        }
    }

    /// Reports each id of `ids` (pointer, id, help) seen before. `scope`
    /// says where ids must be unique (" in step `plan`"); empty, the whole
    /// playbook.
    fn duplicates(&mut self, what: &str, scope: &str, ids: Vec<(String, String, Option<String>)>) {
        let mut seen: HashMap<String, String> = HashMap::new();
        for (pointer, id, help) in ids {
            match seen.get(&id) {
                Some(first) => {
                    let line = self.loaded.position(first).map_or(0, |p| p.line);
                    self.error(
                        "duplicate-id",
                        &pointer,
                        format!("duplicate {what} id `{id}`{scope} (first defined on line {line})"),
                    )
                    .help = help;
                }
                None => {
                    seen.insert(id, pointer);
                }
            }
        }
    }

    fn references(&mut self) {
        let phases: Vec<String> = self.playbook.phases.iter().map(|p| p.id.clone()).collect();
        let steps: Vec<String> = self.playbook.steps.iter().map(|s| s.id.clone()).collect();
        let artifacts: Vec<String> = self.playbook.artifacts.keys().cloned().collect();
        for (i, step) in self.playbook.steps.iter().enumerate() {
            for (key, phase) in [("from", &step.from), ("to", &step.to)] {
                self.reference(
                    "unknown-phase",
                    "phase",
                    &format!("/steps/{i}/{key}"),
                    phase,
                    &phases,
                );
            }
            if let Some(next) = &step.next {
                self.reference(
                    "unknown-step",
                    "step",
                    &format!("/steps/{i}/next"),
                    next,
                    &steps,
                );
            }
            for (j, requirement) in step.requires.iter().enumerate() {
                let pointer = format!("/steps/{i}/requires/{j}");
                match requirement {
                    Requirement::ArtifactExists(name) => self.reference(
                        "unknown-artifact",
                        "artifact",
                        &format!("{pointer}/artifact"),
                        name,
                        &artifacts,
                    ),
                    Requirement::Approved(name) => {
                        self.reference(
                            "unknown-step",
                            "step",
                            &format!("{pointer}/approved"),
                            name,
                            &steps,
                        );
                        let gated = self
                            .playbook
                            .steps
                            .iter()
                            .any(|s| &s.id == name && s.gate == Gate::Human);
                        if steps.contains(name) && !gated {
                            self.warning(
                                "approval-never-given",
                                &format!("{pointer}/approved"),
                                format!(
                                    "step `{name}` has an automated gate, so it is never approved"
                                ),
                            )
                            .help = Some(format!(
                                "give step `{name}` `gate: human`, or require its artifact instead"
                            ));
                        }
                    }
                }
            }
            let followed = self.playbook.steps.iter().any(|s| s.from == step.to);
            if step.optional && !followed {
                self.error(
                    "optional-step-leads-nowhere",
                    &format!("/steps/{i}/optional"),
                    format!(
                        "step `{}` is optional, but no step starts from its phase `{}`, so it cannot be skipped",
                        step.id, step.to
                    ),
                )
                .help = Some(format!(
                    "add a step with `from: {}`, or drop `optional: true`",
                    step.to
                ));
            }
            if step.from == step.to {
                self.warning(
                    "no-progress",
                    &format!("/steps/{i}/to"),
                    format!(
                        "step `{}` leaves the subject in the phase it started in",
                        step.id
                    ),
                );
            }
            if step.gate == Gate::Automated && !step.review.is_empty() {
                // At `review:` itself: its value starts at the first item.
                let mut pointer = format!("/steps/{i}/review");
                let mut at = self.loaded.spans.key(&pointer);
                let mut help = "set `gate: human`, or remove `review:`".to_string();
                let base = self.loaded.file_of(&pointer).to_string();
                // A variant that made a base's reviewed step automated is
                // fixed in the variant, where its step says `gate:`.
                if base != self.loaded.display {
                    pointer = format!("/steps/{i}/gate");
                    at = self.loaded.spans.key(&pointer).or(at);
                    help = format!(
                        "its `review:` comes from `{base}`: give the step `review: []` here, or keep `gate: human`"
                    );
                }
                self.report_at(
                    "review-without-human-gate",
                    Severity::Warning,
                    &pointer,
                    at,
                    format!(
                        "step `{}` lists what to review, but its gate is automated",
                        step.id
                    ),
                )
                .help = Some(help);
            }
        }
    }

    /// The `approval:` of each step against the `approvers:` groups: each
    /// group it names exists, `require` stays inside `from`, `min` is no
    /// more than `from` can supply, and only a human gate has one.
    fn approvals(&mut self) {
        let groups: Vec<String> = self.playbook.approvers.keys().cloned().collect();
        for (i, step) in self.playbook.steps.iter().enumerate() {
            let Some(rule) = &step.approval else {
                continue;
            };
            let pointer = format!("/steps/{i}/approval");
            if step.gate != Gate::Human {
                // At `approval:` itself: its value starts at its first key.
                let at = self.loaded.spans.key(&pointer);
                self.report_at(
                    "approval-on-automated-gate",
                    Severity::Error,
                    &pointer,
                    at,
                    format!(
                        "step `{}` says who approves it, but its gate is automated",
                        step.id
                    ),
                )
                .help = Some("set `gate: human`, or remove `approval:`".into());
            }
            for (key, names) in [("from", &rule.from), ("require", &rule.require)] {
                for (j, name) in names.iter().enumerate() {
                    let at = format!("{pointer}/{key}/{j}");
                    let is_email = name.contains('@');
                    if !is_email && !groups.contains(name) {
                        self.reference(
                            "unknown-approver-group",
                            "approver group",
                            &at,
                            name,
                            &groups,
                        );
                    } else if key == "require" && !rule.from.is_empty() && !rule.from.contains(name)
                    {
                        self.error(
                            "approval-require-outside-from",
                            &at,
                            format!(
                                "step `{}` requires an approval from `{name}`, which its `from` does not list",
                                step.id
                            ),
                        )
                        .help = Some(format!("add `{name}` to `from`, or drop it from `require`"));
                    }
                }
            }
            let people = crate::approvals::people(&self.playbook.approvers, &rule.from);
            if !rule.from.is_empty() && rule.min > people.len() {
                self.error(
                    "approval-min-unreachable",
                    &format!("{pointer}/min"),
                    format!(
                        "step `{}` needs {} distinct approvers, but its `from` names {}",
                        step.id,
                        rule.min,
                        match people.len() {
                            1 => "1 person".to_string(),
                            n => format!("{n} people"),
                        }
                    ),
                )
                .help = Some("lower `min`, or add people to `from`".into());
            }
        }
    }

    fn reference(&mut self, code: &str, what: &str, pointer: &str, name: &str, known: &[String]) {
        if known.iter().any(|k| k == name) {
            return;
        }
        let choices = super::schema::suggestion(name, known, &format!("no {what} is defined"));
        self.error(code, pointer, format!("unknown {what} `{name}`"))
            .help = Some(choices);
    }

    fn check_lists(&mut self) {
        let lists: Vec<String> = self.playbook.checks.keys().cloned().collect();
        let mut uses = Vec::new();
        for (i, step) in self.playbook.steps.iter().enumerate() {
            collect_uses(&step.checks, &format!("/steps/{i}/checks"), &mut uses);
        }
        for (name, list) in &self.playbook.checks {
            let pointer = format!("/checks/{}", crate::yaml::pointer_segment(name));
            collect_uses(list, &pointer, &mut uses);
        }
        for (pointer, name) in &uses {
            self.reference(
                "unknown-check-list",
                "check list",
                &format!("{pointer}/use"),
                name,
                &lists,
            );
        }
        // Each cycle once, at the `use:` that leaves the list written
        // first, not again from every other list along it.
        let mut reported: HashSet<&str> = HashSet::new();
        for name in &lists {
            if reported.contains(name.as_str()) {
                continue;
            }
            let Some(cycle) = cycle_from(self.playbook, name) else {
                continue;
            };
            let index = self.playbook.checks[name]
                .iter()
                .position(|item| matches!(item, CheckItem::Use(next) if next == cycle[1]))
                .unwrap_or_default();
            let path: Vec<String> = cycle.iter().map(|list| format!("`{list}`")).collect();
            self.error(
                "check-list-cycle",
                &format!("/checks/{}/{index}/use", crate::yaml::pointer_segment(name)),
                format!("check list `{name}` includes itself: {}", path.join(" → ")),
            )
            .help = Some("a check list may include others, but none that leads back to it".into());
            reported.extend(cycle);
        }
    }

    fn step_checks(&mut self) {
        // A shared list's checks come once per step that uses it: say so once.
        let mut reported = HashSet::new();
        for index in 0..self.playbook.steps.len() {
            let checks = self.playbook.step_checks(index);
            let declared = SectionAliases::of(checks.iter().map(|(_, check)| *check));
            for (pointer, check) in &checks {
                if !reported.contains(pointer) && self.undeclared_under(pointer, check, &declared) {
                    reported.insert(pointer.clone());
                }
            }
        }
        for index in 0..self.playbook.steps.len() {
            let step = &self.playbook.steps[index];
            let checks = self.playbook.step_checks(index);
            if checks.is_empty() && step.gate == Gate::Automated {
                self.warning(
                    "gate-without-checks",
                    &format!("/steps/{index}/id"),
                    format!(
                        "step `{}` has an automated gate and no checks, so it always passes",
                        step.id
                    ),
                );
            }
            if !step.remove_checks.is_empty() {
                self.error(
                    "remove-without-extends",
                    &format!("/steps/{index}/remove_checks"),
                    format!(
                        "step `{}` removes checks, but this playbook extends no other",
                        step.id
                    ),
                )
                .help = Some("remove the checks from `checks:` instead".into());
            }
            for (pointer, check) in checks {
                self.check(&pointer, check);
            }
        }
    }

    /// Reports an `under:` naming a title that no `sections` check of its
    /// step requires of its artifact but one nearly does: a likely typo,
    /// which would also miss the aliases declared there. (A title far from
    /// every declared one is a section only that check requires.) Whether
    /// it reported.
    fn undeclared_under(
        &mut self,
        pointer: &str,
        check: &Check,
        declared: &SectionAliases,
    ) -> bool {
        let (Some(artifact), Some(under)) = (check.artifact.as_deref(), check.kind.under()) else {
            return false;
        };
        if declared.declares(artifact, &under.title) {
            return false;
        }
        let names = declared.names(artifact);
        let keys: Vec<String> = names.iter().map(|name| normalize_title(name)).collect();
        let Some(near) = super::schema::closest(&normalize_title(&under.title), &keys)
            .and_then(|key| keys.iter().position(|k| *k == key))
            .map(|index| &names[index])
        else {
            return false;
        };
        let pointer = format!("{pointer}/{}/under", check.kind.name());
        self.warning(
            "undeclared-section",
            &pointer,
            format!(
                "check `{}` looks under \"{}\", a section that no `sections` check of the step requires of artifact `{artifact}`",
                check.id, under.title
            ),
        )
        .help = Some(format!(
            "did you mean \"{near}\"? `under:` takes the title or an alias of a required section"
        ));
        true
    }

    fn check(&mut self, pointer: &str, check: &Check) {
        match &check.artifact {
            Some(name) if !self.playbook.artifacts.contains_key(name) => {
                let known: Vec<String> = self.playbook.artifacts.keys().cloned().collect();
                self.reference(
                    "unknown-artifact",
                    "artifact",
                    &format!("{pointer}/artifact"),
                    name,
                    &known,
                );
            }
            None if !matches!(check.kind, CheckKind::Plugin { .. }) => {
                self.error(
                    "check-needs-artifact",
                    &format!("{pointer}/id"),
                    format!(
                        "check `{}` reads no document: give it an `artifact:`",
                        check.id
                    ),
                );
            }
            _ => {}
        }
        match &check.kind {
            CheckKind::Table(table) => {
                let columns: BTreeSet<String> = table
                    .columns
                    .iter()
                    .map(|c| crate::markdown::normalize_title(c))
                    .collect();
                for (i, column) in table.allow_empty.iter().enumerate() {
                    if !columns.contains(&crate::markdown::normalize_title(column)) {
                        self.error(
                            "allow-empty-not-a-column",
                            &format!("{pointer}/table/allow_empty/{i}"),
                            format!("`{column}` is not one of the table's listed columns"),
                        );
                    }
                }
            }
            CheckKind::Placeholders(markers) => {
                for (i, marker) in markers.iter().enumerate() {
                    if let Some(why) = crate::checks::unmatchable_placeholder(marker) {
                        self.warning(
                            "unmatchable-placeholder",
                            &format!("{pointer}/placeholders/{i}"),
                            format!("placeholder {marker:?} can never be found: {why}"),
                        )
                        .help = Some(
                            "write the marker as it stands on one line of the document".into(),
                        );
                    }
                }
            }
            CheckKind::Words(words) => {
                if let (Some(min), Some(max)) = (words.min, words.max)
                    && min > max
                {
                    self.error(
                        "empty-range",
                        &format!("{pointer}/words/min"),
                        format!("`min: {min}` is above `max: {max}`: no document can pass"),
                    );
                }
            }
            CheckKind::Trace(trace) => self.trace(pointer, check, trace),
            CheckKind::Plugin { function, .. } => {
                let name = function.split('.').next().unwrap_or_default();
                let known: Vec<String> = self.playbook.plugins.keys().cloned().collect();
                self.reference(
                    "unknown-plugin",
                    "plugin",
                    &format!("{pointer}/plugin"),
                    name,
                    &known,
                );
            }
            _ => {}
        }
    }

    /// A `trace` names artifacts that exist, identifiers that can be
    /// told apart from nothing, and definitions that are not its own
    /// references.
    fn trace(&mut self, pointer: &str, check: &Check, trace: &TraceSpec) {
        let known: Vec<String> = self.playbook.artifacts.keys().cloned().collect();
        let single = matches!(trace.defined_in, OneOrMany::One(_));
        let mut expressions = vec![(format!("{pointer}/trace/id"), trace.id.as_str())];
        for (i, definitions) in trace.defined_in.as_slice().iter().enumerate() {
            let at = match single {
                true => format!("{pointer}/trace/defined_in"),
                false => format!("{pointer}/trace/defined_in/{i}"),
            };
            self.reference(
                "unknown-artifact",
                "artifact",
                &format!("{at}/artifact"),
                &definitions.artifact,
                &known,
            );
            if check.artifact.as_deref() == Some(definitions.artifact.as_str())
                && definitions.under.is_none()
            {
                self.error(
                    "trace-defines-itself",
                    &format!("{at}/artifact"),
                    format!(
                        "check `{}` defines its identifiers in the artifact it looks for references in, `{}`, without `under:`: every identifier would reference itself",
                        check.id, definitions.artifact
                    ),
                )
                .help = Some(
                    "give `defined_in` an `under:` section where the identifiers are defined".into(),
                );
            }
            if let Some(id) = &definitions.id {
                expressions.push((format!("{at}/id"), id.as_str()));
            }
        }
        for (at, expression) in expressions {
            if let Err(error) = regex::Regex::new(expression) {
                self.error("invalid-regex", &at, regex_message(&error));
            } else if regex_syntax::Parser::new()
                .parse(expression)
                .is_ok_and(|hir| hir.properties().minimum_len() == Some(0))
            {
                self.error(
                    "empty-match",
                    &at,
                    format!("`{expression}` can match the empty string, which identifies nothing"),
                )
                .help = Some("require at least one character, as in `FR-\\d+`".into());
            }
        }
    }

    fn plugins(&mut self) {
        let mut functions: HashMap<&str, Vec<String>> = HashMap::new();
        for (name, path) in &self.playbook.plugins {
            let file = self.loaded.folder().join(path);
            let pointer = format!("/plugins/{}", crate::yaml::pointer_segment(name));
            let limit = crate::lua::MAX_PLUGIN_BYTES;
            let text = crate::init::read_playbook_file_within(&self.loaded.root, &file, limit);
            if matches!(&text, Err(SourceError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound)
                || (text.is_err() && file.is_dir())
            {
                self.error(
                    "missing-plugin-file",
                    &pointer,
                    format!("plugin file `{path}` does not exist"),
                )
                .help = Some(format!(
                    "looked for {}; plugin paths are relative to the playbook file",
                    crate::source::display_path(&file)
                ));
                continue;
            }
            let display = display_beside(&self.loaded.display, path);
            let text = match text {
                Ok(text) => text,
                Err(error) => {
                    self.error(
                        "plugin-syntax",
                        &pointer,
                        format!("plugin `{path}`: {error}"),
                    );
                    continue;
                }
            };
            match crate::lua::inspect_plugin(Path::new(&display), &text) {
                Ok(info) => {
                    functions.insert(name, info.functions);
                }
                Err(error) => {
                    let position = Position::new(error.line.unwrap_or(1), 1);
                    self.lint.diagnostics.push(
                        Diagnostic::error("plugin-syntax", display.as_str(), error.message)
                            .at(position),
                    );
                }
            }
            self.lint.extra_sources.push((display, text));
        }
        for index in 0..self.playbook.steps.len() {
            for (pointer, check) in self.playbook.step_checks(index) {
                let CheckKind::Plugin { function, .. } = &check.kind else {
                    continue;
                };
                let (plugin, name) = function.split_once('.').unwrap_or((function, ""));
                if let Some(defined) = functions.get(plugin)
                    && !defined.iter().any(|f| f == name)
                {
                    self.error(
                        "unknown-plugin-function",
                        &format!("{pointer}/plugin"),
                        format!("plugin `{plugin}` defines no function `{name}`"),
                    )
                    .help = Some(if defined.is_empty() {
                        "its file returns no functions: end it with `return M`".into()
                    } else {
                        format!("it defines: {}", defined.join(", "))
                    });
                }
            }
        }
    }

    fn regexes(&mut self) {
        if let Some(pattern) = &self.playbook.subject.id_pattern
            && let Err(error) = regex::Regex::new(pattern)
        {
            self.error(
                "invalid-regex",
                "/subject/id_pattern",
                regex_message(&error),
            );
        }
        let mut patterns = Vec::new();
        for index in 0..self.playbook.steps.len() {
            for (pointer, check) in self.playbook.step_checks(index) {
                if let CheckKind::Pattern(pattern) = &check.kind {
                    patterns.push((format!("{pointer}/pattern/regex"), pattern.regex.clone()));
                }
            }
        }
        for (pointer, pattern) in patterns {
            if let Err(error) = regex::Regex::new(&pattern) {
                self.error("invalid-regex", &pointer, regex_message(&error));
            }
        }
    }

    fn paths(&mut self) {
        if escapes(&self.playbook.state_dir) {
            self.error(
                "path-outside-root",
                "/state_dir",
                format!(
                    "the state folder `{}` is outside the project root",
                    self.playbook.state_dir
                ),
            )
            .help =
                Some("state lives inside the repository: use a relative path without `..`".into());
        }
        let context = self.example();
        for (name, template) in &self.playbook.artifacts {
            let pointer = format!("/artifacts/{}", crate::yaml::pointer_segment(name));
            let rendered = self
                .env
                .render_str(template, context.clone())
                .unwrap_or_else(|_| template.clone());
            if crate::glob::is_glob(&rendered)
                && let Some(problem) = crate::glob::problem(&rendered)
            {
                self.error(
                    "invalid-artifact-pattern",
                    &pointer,
                    format!(
                        "artifact `{name}` names files by a pattern that cannot be used: {problem}"
                    ),
                )
                .help = Some(
                    "`*` matches any part of one file or folder name, `?` one character".into(),
                );
            }
            // The path as written when that already leaves; else what it
            // becomes once filled in (for an example subject).
            let message = if escapes(template) {
                format!("artifact `{name}` is outside the project root")
            } else if escapes(&rendered) {
                format!("artifact `{name}` leads outside the project root: it becomes `{rendered}`")
            } else {
                continue;
            };
            self.error("path-outside-root", &pointer, message).help = Some(
                "artifact paths are relative to the project root and may not climb out of it"
                    .into(),
            );
        }
    }

    /// The context templates are tried in: the playbook's vars and an
    /// example subject (names it lacks are left to `inspect`).
    fn example(&self) -> minijinja::Value {
        minijinja::Value::from(minijinja::value::Serde(json!({
            "vars": self.playbook.vars,
            "playbook": {"name": self.playbook.name, "title": self.playbook.title},
            "subject": {"id": "X-1", "title": "Example", "slug": "x-1-example", "phase": self.playbook.first_phase(), "phase_label": ""},
        })))
    }

    fn templates(&mut self) {
        for (name, template) in &self.playbook.artifacts {
            let pointer = format!("/artifacts/{}", crate::yaml::pointer_segment(name));
            self.inline_template(TemplateKind::ArtifactPath, &pointer, template);
        }
        // A template file several steps use is inspected once, for all.
        let mut documents: indexmap::IndexMap<&str, Vec<(usize, &str)>> = Default::default();
        for (index, step) in self.playbook.steps.iter().enumerate() {
            if let Some(document) = &step.document {
                documents
                    .entry(document.as_str())
                    .or_default()
                    .push((index, step.id.as_str()));
            }
        }
        for (document, steps) in documents {
            self.document_template(document, &steps);
        }
        for (index, step) in self.playbook.steps.iter().enumerate() {
            if let Some(instructions) = &step.instructions {
                self.inline_template(
                    TemplateKind::Document,
                    &format!("/steps/{index}/instructions"),
                    instructions,
                );
            }
            for (pointer, check) in self.playbook.step_checks(index) {
                if let Some(message) = &check.message {
                    self.inline_template(
                        TemplateKind::Message,
                        &format!("{pointer}/message"),
                        message,
                    );
                }
                if let Some(when) = &check.when {
                    self.inline_template(TemplateKind::When, &format!("{pointer}/when"), when);
                }
            }
        }
    }

    fn inline_template(&mut self, kind: TemplateKind, pointer: &str, source: &str) {
        let mut issues = render::inspect(&self.env, kind, pointer, source, &self.known);
        issues.extend(render::over_budget(
            &self.env,
            kind,
            source,
            &self.example(),
        ));
        let start = self.loaded.position(pointer);
        let file = self.loaded.file_of(pointer);
        let yaml = self.loaded.text_of(file);
        for issue in issues {
            let at = |offset| start.map(|start| inline_position(yaml, start, source, offset));
            let mut diagnostic = Diagnostic::error(issue.code, file, issue.message);
            diagnostic.help = issue.help;
            diagnostic.start = start;
            if let Some(range) = &issue.range {
                diagnostic.start = at(range.start);
                diagnostic.end = at(range.end);
            }
            self.lint.diagnostics.push(diagnostic);
        }
    }

    /// Inspects the template file `document` of `steps` (index and id):
    /// each finding once, naming the steps when there are several.
    fn document_template(&mut self, document: &str, steps: &[(usize, &str)]) {
        let pointer = &format!("/steps/{}/document", steps.first().map_or(0, |s| s.0));
        let used_by = match steps {
            [_, _, ..] => {
                let ids: Vec<String> = steps.iter().map(|(_, id)| format!("`{id}`")).collect();
                format!(" (in the document of steps {})", ids.join(", "))
            }
            _ => String::new(),
        };
        let folder = self.loaded.folder();
        let file = folder.join(document);
        if escapes(document) {
            self.error(
                "path-outside-root",
                pointer,
                format!("template `{document}` is outside the playbook's folder"),
            );
            return;
        }
        let display = display_beside(&self.loaded.display, document);
        let text = match crate::init::read_playbook_file_within(
            folder,
            Path::new(document),
            MAX_TEMPLATE_BYTES,
        ) {
            Ok(text) => text,
            Err(SourceError::Io(error)) if crate::confined::refusal(&error).is_some() => {
                self.error(
                    "path-outside-root",
                    pointer,
                    format!("template `{document}` leads outside the playbook's folder"),
                );
                return;
            }
            Err(error) => {
                let message = match error {
                    SourceError::Io(error) if error.kind() == std::io::ErrorKind::NotFound => {
                        format!("template `{document}` does not exist")
                    }
                    error => format!("template `{document}` cannot be used: {error}"),
                };
                self.error("missing-template", pointer, message).help = Some(format!(
                    "looked for {}; templates are relative to the playbook file",
                    crate::source::display_path(&file)
                ));
                return;
            }
        };
        let mut issues = render::inspect(
            &self.env,
            TemplateKind::Document,
            document,
            &text,
            &self.known,
        );
        issues.extend(render::over_budget(
            &self.env,
            TemplateKind::Document,
            &text,
            &self.example(),
        ));
        for issue in issues {
            let message = format!("{}{used_by}", issue.message);
            let mut diagnostic = Diagnostic::error(issue.code, display.as_str(), message);
            diagnostic.help = issue.help;
            if let Some(range) = &issue.range {
                diagnostic.start = Some(source::position_at(&text, range.start));
                diagnostic.end = Some(source::position_at(&text, range.end));
            }
            self.lint.diagnostics.push(diagnostic);
        }
        self.lint.extra_sources.push((display, text));
    }

    fn reachability(&mut self) {
        let first = self.playbook.first_phase();
        let mut reached: HashSet<&str> = HashSet::from([first]);
        let mut queue = VecDeque::from([first]);
        while let Some(phase) = queue.pop_front() {
            for step in self.playbook.steps.iter().filter(|s| s.from == phase) {
                if reached.insert(step.to.as_str()) {
                    queue.push_back(step.to.as_str());
                }
            }
        }
        let known: HashSet<&str> = self.playbook.phases.iter().map(|p| p.id.as_str()).collect();
        for (i, phase) in self.playbook.phases.iter().enumerate() {
            if !reached.contains(phase.id.as_str()) {
                self.warning(
                    "unreachable-phase",
                    &format!("/phases/{i}/id"),
                    format!("no step leads to phase `{}` from `{first}`", phase.id),
                );
            }
        }
        for (i, step) in self.playbook.steps.iter().enumerate() {
            if known.contains(step.from.as_str()) && !reached.contains(step.from.as_str()) {
                self.error(
                    "unreachable-step",
                    &format!("/steps/{i}/from"),
                    format!(
                        "step `{}` can never run: no subject reaches its phase `{}`",
                        step.id, step.from
                    ),
                );
            }
        }
    }
}

fn collect_uses(items: &[CheckItem], pointer: &str, out: &mut Vec<(String, String)>) {
    for (i, item) in items.iter().enumerate() {
        if let CheckItem::Use(name) = item {
            out.push((format!("{pointer}/{i}"), name.clone()));
        }
    }
}

/// The shortest way that following `use:` from list `name` comes back to
/// it, as the lists passed (`[name, ..., name]`), if there is one.
fn cycle_from<'a>(playbook: &'a Playbook, name: &'a str) -> Option<Vec<&'a str>> {
    // Breadth first, each list remembering the list that first led to it.
    let mut came_from: HashMap<&str, &str> = HashMap::new();
    let mut queue = VecDeque::from([name]);
    while let Some(current) = queue.pop_front() {
        for item in playbook.checks.get(current).into_iter().flatten() {
            let CheckItem::Use(next) = item else {
                continue;
            };
            if next == name {
                let mut cycle = vec![name, current];
                while let Some(&previous) = came_from.get(cycle[cycle.len() - 1]) {
                    cycle.push(previous);
                }
                cycle.reverse();
                return Some(cycle);
            }
            if !came_from.contains_key(next.as_str()) {
                came_from.insert(next, current);
                queue.push_back(next);
            }
        }
    }
    None
}

fn regex_message(error: &regex::Error) -> String {
    let detail = error.to_string();
    let last = detail
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid");
    format!(
        "the regular expression does not compile: {}",
        last.trim().trim_start_matches("error: ")
    )
}

pub use crate::confined::escapes;

/// `relative` as it reads next to the file shown as `display`.
pub(super) fn display_beside(display: &str, relative: &str) -> String {
    match display.rfind('/') {
        Some(slash) => format!("{}/{relative}", &display[..slash]),
        None => relative.to_string(),
    }
}

/// `relative` joined to `folder`, a `..` cancelling the folder before it
/// (`playbooks` + `../plugins/x.lua` is `plugins/x.lua`).
pub fn join_relative(folder: &str, relative: &str) -> String {
    let mut parts: Vec<&str> = folder
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for part in relative.split('/') {
        match part {
            "." | "" => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// Where byte `offset` of an inline template, whose value starts at `start`,
/// sits in the YAML. Exact where the template's line is written verbatim:
/// on the value's own line (after an opening quote), or as a line of a
/// literal block scalar (`|`) after its indentation. Otherwise (folded or
/// escaped text) the start of the value.
fn inline_position(yaml: &str, start: Position, template: &str, offset: usize) -> Position {
    let within = source::position_at(template, offset);
    let wanted = template.lines().nth(within.line - 1).unwrap_or_default();
    let yaml_line = |number: usize| yaml.lines().nth(number - 1).unwrap_or_default();
    if template.contains('\n') {
        // saphyr places a block scalar at its first line of text.
        let line = yaml_line(start.line + within.line - 1);
        if let Some(indent) = line.strip_suffix(wanted)
            && indent.chars().all(char::is_whitespace)
        {
            let column = indent.chars().count() + within.column;
            return Position::new(start.line + within.line - 1, column);
        }
    } else {
        let value: String = yaml_line(start.line)
            .chars()
            .skip(start.column - 1)
            .collect();
        let quoted = value.starts_with(['"', '\'']);
        if value[usize::from(quoted)..].starts_with(wanted) {
            return Position::new(
                start.line,
                start.column + usize::from(quoted) + within.column - 1,
            );
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::escapes;

    #[test]
    fn paths_that_leave_the_root() {
        for path in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "C:/x",
            "\\\\server\\x",
            "a\\..\\..\\x",
        ] {
            assert!(escapes(path), "{path}");
        }
        for path in [
            "a/b.md",
            "a/../b.md",
            "./a",
            ".specify/specs/{{ subject.slug }}/plan.md",
        ] {
            assert!(!escapes(path), "{path}");
        }
    }
}
