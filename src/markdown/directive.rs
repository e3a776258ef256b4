//! Suppression directives written as HTML comments:
//! `<!-- tollgate-disable CHECK-ID[, CHECK-ID...]: reason -->`,
//! `<!-- tollgate-disable-next-line CHECK-ID: reason -->` and
//! `<!-- tollgate-enable CHECK-ID -->`.
//!
//! This module only reads the grammar of one comment; what a directive
//! suppresses is decided by [`crate::suppress`], which knows the checks.

use serde::Serialize;

use super::Position;

/// The word every directive starts with; a comment starting with it is
/// meant as a directive, so a misspelt one is reported, not ignored.
const PREFIX: &str = "tollgate-";

/// A directive comment of the document, in document order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Directive {
    /// The `<!--` that opens the comment.
    pub position: Position,
    /// Just after the `-->` that closes it.
    pub end: Position,
    /// Nothing but front matter, blank lines and other HTML comments comes
    /// before the comment, so a `tollgate-disable` here covers the document
    /// from its first line.
    pub leading: bool,
    /// What the comment says, or why it is not a directive.
    pub parsed: Result<DirectiveBody, String>,
}

/// A well-formed directive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DirectiveBody {
    pub action: Action,
    /// The check ids named, in order; never empty.
    pub checks: Vec<String>,
    /// The text after the first `:`, with runs of whitespace made one space;
    /// `None` when absent or blank.
    pub reason: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// `tollgate-disable`: from here to a matching `tollgate-enable`.
    Disable,
    /// `tollgate-disable-next-line`: the next non-blank line.
    DisableNextLine,
    /// `tollgate-enable`: ends a `tollgate-disable`.
    Enable,
}

impl Action {
    pub fn keyword(self) -> &'static str {
        match self {
            Action::Disable => "tollgate-disable",
            Action::DisableNextLine => "tollgate-disable-next-line",
            Action::Enable => "tollgate-enable",
        }
    }
}

/// Reads the text between `<!--` and `-->`: `None` when the comment is not
/// meant as a directive, else the directive or why it is malformed.
pub fn parse(body: &str) -> Option<Result<DirectiveBody, String>> {
    let body = body.trim();
    let word_end = body
        .find(|c: char| c.is_whitespace() || c == ':')
        .unwrap_or(body.len());
    let (word, rest) = body.split_at(word_end);
    if !word.starts_with(PREFIX) {
        return None;
    }
    let action = match word {
        "tollgate-disable" => Action::Disable,
        "tollgate-disable-next-line" => Action::DisableNextLine,
        "tollgate-enable" => Action::Enable,
        _ => {
            return Some(Err(format!(
                "unknown directive `{word}`: the directives are `tollgate-disable`, \
                 `tollgate-disable-next-line` and `tollgate-enable`"
            )));
        }
    };
    Some(parse_body(action, rest))
}

fn parse_body(action: Action, rest: &str) -> Result<DirectiveBody, String> {
    let (names, reason) = match rest.split_once(':') {
        Some((names, reason)) => (names, Some(reason)),
        None => (rest, None),
    };
    let keyword = action.keyword();
    if names.trim().is_empty() {
        return Err(format!("`{keyword}` names no check"));
    }
    let checks = names
        .split(',')
        .map(|name| check_id(keyword, name.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let reason = reason
        .map(|reason| reason.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|reason| !reason.is_empty());
    Ok(DirectiveBody {
        action,
        checks,
        reason,
    })
}

/// A check id as the playbook format allows it: `[A-Za-z0-9][A-Za-z0-9_.-]*`.
fn check_id(keyword: &str, name: &str) -> Result<String, String> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    match name {
        _ if valid => Ok(name.to_string()),
        "" => Err(format!("`{keyword}` has an empty check id between commas")),
        "*" => Err(format!(
            "`{keyword} {name}` is not allowed: name each check, so that each has its reason"
        )),
        _ if name.contains(char::is_whitespace) => Err(format!(
            "`{name}` is not a check id; separate check ids with commas"
        )),
        _ => Err(format!("`{name}` is not a check id")),
    }
}
