//! `links: {}` or `links: { external: deny }`: the relative links and
//! images of the document resolve.
//!
//! A relative destination must name a file or folder inside the project
//! root (relative to the document's folder; a leading `/` starts from the
//! root). A `#fragment` into a Markdown file (or into the document itself)
//! must name one of its headings by GitHub's rules (lower case; punctuation
//! other than `-` and `_` dropped; each space a hyphen; the second heading
//! with the same slug gets `-1`, the third `-2`) or an explicit anchor
//! (`<a id="...">` or `name="..."`). Links to other sites are never fetched:
//! with `external: deny` each one is a finding, else they pass. Links in
//! code blocks, inline code and HTML comments are not links. Each broken
//! link is a finding at the link. In a document outside the project root,
//! only links to its own headings are checked.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::{Findings, count};
use crate::engine::MAX_DOCUMENT_BYTES;
use crate::markdown::{Document, Link};
use crate::playbook::{External, LinksSpec};

/// How to fix what this kind finds, in one line, for reports.
pub const HINT: &str =
    "point each link at a file that exists inside the project and at a heading it has";

pub fn check(spec: &LinksSpec, doc: &Document, root: Option<&Path>, findings: &mut Findings<'_>) {
    // A document named outside the root (checked by path) has no relative
    // link that could resolve inside it; only its own fragments are checked.
    let root = root.filter(|_| !crate::confined::escapes(&doc.path));
    let mut targets = Targets {
        root,
        doc,
        fragments: HashMap::new(),
    };
    let mut broken = 0;
    for link in &doc.links {
        if let Some(problem) = targets.problem(spec, link) {
            broken += 1;
            let finding = findings.report(link.position, problem);
            finding.end = Some(link.end).filter(|&end| end > link.position);
        }
    }
    if broken == 0 && !doc.links.is_empty() {
        findings.evidence(
            format!("{}, each resolves", count(doc.links.len(), "link")),
            1,
            doc.line_count().max(1),
        );
    }
}

/// The files links lead to, each read once.
struct Targets<'a> {
    root: Option<&'a Path>,
    doc: &'a Document,
    /// The fragments each Markdown target offers, by its path under the
    /// root; `None` when it cannot be read as text.
    fragments: HashMap<PathBuf, Option<Vec<String>>>,
}

impl Targets<'_> {
    /// What is wrong with a link, if anything.
    fn problem(&mut self, spec: &LinksSpec, link: &Link) -> Option<String> {
        let url = link.url.trim();
        let what = if link.image { "image" } else { "link" };
        if is_external(url) {
            return (spec.external == External::Deny)
                .then(|| format!("{what} to another site \"{url}\" is not allowed"));
        }
        let (target, fragment) = match url.split_once('#') {
            Some((target, fragment)) => (target, Some(decode(fragment))),
            None => (url, None),
        };
        let target = target.split('?').next().unwrap_or_default();
        if target.is_empty() {
            let fragment = fragment.filter(|f| !f.is_empty())?;
            let offered = fragments(self.doc);
            return (!offered.contains(&fragment)).then(|| {
                format!(
                    "\"#{fragment}\" names no heading or anchor of {}",
                    self.doc.path
                )
            });
        }
        let root = self.root?;
        let Some(relative) = relative_to_root(&self.doc.path, &decode(target)) else {
            return Some(format!("{what} \"{url}\" leads outside the project root"));
        };
        match crate::confined::resolve(root, &relative) {
            Err(error) if crate::confined::refusal(&error).is_some() => {
                return Some(format!("{what} \"{url}\" leads outside the project root"));
            }
            // Not a refusal (a folder on the way that cannot be read): said as it is.
            Err(error) => {
                return Some(format!(
                    "{what} target \"{}\" cannot be resolved: {error}",
                    crate::confined::shown(&relative)
                ));
            }
            Ok(real) if !real.exists() => {
                return Some(format!(
                    "{what} target \"{}\" does not exist",
                    crate::confined::shown(&relative)
                ));
            }
            Ok(_) => {}
        }
        let fragment = fragment.filter(|f| !f.is_empty())?;
        if !is_markdown(&relative) {
            return None;
        }
        let offered = self.fragments.entry(relative.clone()).or_insert_with(|| {
            let text = crate::confined::read_text(root, &relative, MAX_DOCUMENT_BYTES).ok()?;
            Some(fragments(&Document::parse_str(
                crate::confined::shown(&relative),
                &text,
            )))
        });
        match offered {
            Some(offered) if !offered.contains(&fragment) => Some(format!(
                "\"#{fragment}\" names no heading or anchor of {}",
                crate::confined::shown(&relative)
            )),
            Some(_) => None,
            None => Some(format!(
                "{what} target \"{}\" cannot be read",
                crate::confined::shown(&relative)
            )),
        }
    }
}

/// A destination with a scheme (`https:`, `mailto:`) or a host (`//`).
fn is_external(url: &str) -> bool {
    if url.starts_with("//") {
        return true;
    }
    let scheme_end = url.find(':');
    scheme_end.is_some_and(|end| {
        let scheme = &url[..end];
        scheme.len() > 1
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

fn is_markdown(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

/// The target of `target`, written in the document at `doc_path`, as a
/// path under the root; `None` when it climbs above the root.
fn relative_to_root(doc_path: &str, target: &str) -> Option<PathBuf> {
    let start = match target.strip_prefix('/') {
        Some(_) => PathBuf::new(),
        None => Path::new(doc_path).parent()?.to_path_buf(),
    };
    let mut parts: Vec<String> = Vec::new();
    for component in start.join(target.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// Percent-decoding, as a browser does before it looks a fragment up.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Every fragment a document offers: its headings' slugs and its anchors.
fn fragments(doc: &Document) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut offered: Vec<String> = doc
        .sections
        .iter()
        .map(|section| {
            let base = slug(&section.title);
            let repeats = seen.entry(base.clone()).or_default();
            let slug = match *repeats {
                0 => base,
                n => format!("{base}-{n}"),
            };
            *repeats += 1;
            slug
        })
        .collect();
    offered.extend(doc.anchors.iter().cloned());
    offered
}

/// A heading's anchor as GitHub makes it: lower case, letters, digits,
/// `-` and `_` kept, each space a hyphen, everything else dropped.
pub fn slug(title: &str) -> String {
    title
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{is_external, relative_to_root, slug};
    use std::path::PathBuf;

    #[test]
    fn slugs_follow_github() {
        assert_eq!(slug("Phase 2: Data Model (v1)"), "phase-2-data-model-v1");
        assert_eq!(slug("What's `new`?"), "whats-new");
        assert_eq!(slug("Spec Gaps & Assumptions"), "spec-gaps--assumptions");
        assert_eq!(slug("Überblick"), "überblick");
    }

    #[test]
    fn schemes_and_hosts_are_external() {
        assert!(is_external("https://example.com"));
        assert!(is_external("mailto:a@b.c"));
        assert!(is_external("//cdn.example.com/x.png"));
        assert!(!is_external("plan.md#a:b"));
        assert!(!is_external("C:/x"));
    }

    #[test]
    fn targets_are_relative_to_the_document_or_the_root() {
        assert_eq!(
            relative_to_root("specs/a/plan.md", "../b/spec.md"),
            Some(PathBuf::from("specs/b/spec.md"))
        );
        assert_eq!(
            relative_to_root("specs/a/plan.md", "/README.md"),
            Some(PathBuf::from("README.md"))
        );
        assert_eq!(relative_to_root("plan.md", "../../etc/passwd"), None);
    }
}
