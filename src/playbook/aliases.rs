//! Section aliases across a step: a `sections` check declares other
//! accepted titles for a heading, and every check of the same step that
//! looks `under:` that heading of the same artifact accepts them too, as do
//! the `doc:section()` and `{ under = ... }` lookups of its plugins. They
//! are resolved here, once per step, so that no check kind resolves them on
//! its own.

use std::borrow::Cow;

use indexmap::IndexMap;

use super::{Check, CheckKind, Under};
use crate::markdown::normalize_title;

/// The titles the `sections` checks of a set of checks require, for each
/// artifact, as groups: a title first, then its aliases.
#[derive(Debug, Clone, Default)]
pub struct SectionAliases {
    by_artifact: IndexMap<String, Vec<Vec<Name>>>,
}

/// A title or alias as written, with its matching key, normalised once.
#[derive(Debug, Clone)]
struct Name {
    written: String,
    key: String,
}

impl SectionAliases {
    pub fn of<'c>(checks: impl IntoIterator<Item = &'c Check>) -> Self {
        let mut by_artifact: IndexMap<String, Vec<Vec<Name>>> = IndexMap::new();
        for check in checks {
            if let (Some(artifact), CheckKind::Sections(spec)) = (&check.artifact, &check.kind) {
                by_artifact
                    .entry(artifact.clone())
                    .or_default()
                    .extend(spec.sections.iter().map(|entry| {
                        std::iter::once(&entry.title)
                            .chain(&entry.aliases)
                            .map(|written| Name {
                                key: normalize_title(written),
                                written: written.clone(),
                            })
                            .collect()
                    }));
            }
        }
        Self { by_artifact }
    }

    /// Every title and alias the `sections` checks give for `artifact`.
    pub fn names(&self, artifact: &str) -> Vec<String> {
        self.groups(artifact)
            .flatten()
            .map(|name| name.written.clone())
            .collect()
    }

    /// Whether a `sections` check of `artifact` names `title`, as a title
    /// or an alias.
    pub fn declares(&self, artifact: &str, title: &str) -> bool {
        let key = normalize_title(title);
        self.groups(artifact)
            .any(|group| group.iter().any(|name| name.key == key))
    }

    /// The other titles accepted for `title` in `artifact`: the names of
    /// every group that holds it, but itself.
    pub fn aliases_of(&self, artifact: &str, title: &str) -> Vec<String> {
        let key = normalize_title(title);
        let mut aliases: Vec<String> = Vec::new();
        for group in self.groups(artifact) {
            if group.iter().any(|name| name.key == key) {
                for name in group {
                    if name.key != key && !aliases.contains(&name.written) {
                        aliases.push(name.written.clone());
                    }
                }
            }
        }
        aliases
    }

    /// `under` of `artifact`, accepting also the aliases declared for its
    /// title.
    pub fn widen(&self, artifact: &str, under: &Under) -> Under {
        let mut widened = under.clone();
        for alias in self.aliases_of(artifact, &under.title) {
            if !widened.aliases.contains(&alias) {
                widened.aliases.push(alias);
            }
        }
        widened
    }

    /// The check with its `under:` widened; borrowed when nothing changes.
    pub fn apply<'c>(&self, check: &'c Check) -> Cow<'c, Check> {
        let (Some(artifact), Some(under)) = (check.artifact.as_deref(), check.kind.under()) else {
            return Cow::Borrowed(check);
        };
        let widened = self.widen(artifact, under);
        if widened == *under {
            return Cow::Borrowed(check);
        }
        let mut owned = check.clone();
        if let Some(under) = owned.kind.under_mut() {
            *under = widened;
        }
        Cow::Owned(owned)
    }

    fn groups(&self, artifact: &str) -> impl Iterator<Item = &Vec<Name>> {
        self.by_artifact.get(artifact).into_iter().flatten()
    }
}
