//! The matching key for headings and table columns.

/// The key under which a heading or table column is looked up.
///
/// Authors number, emphasise and punctuate the same heading in many ways, so
/// the key keeps only the words: it is lower-cased (Unicode), trimmed, has
/// inner whitespace collapsed to one space, emphasis markers (`*`, `_`, `` ` ``
/// and `~`, single or doubled) removed, a trailing `:` removed, and a leading
/// number such as `3.`, `3`, `3.1`, `6.2.` or `3)` removed when whitespace
/// follows it.
///
/// `"**3.1 Failure Modes**:"` becomes `"failure modes"`, and
/// `"API/Interface design"` becomes `"api/interface design"`.
pub fn normalize_title(title: &str) -> String {
    let unmarked: String = title
        .chars()
        .filter(|c| !matches!(c, '*' | '_' | '`' | '~'))
        .flat_map(char::to_lowercase)
        .collect();
    let collapsed = unmarked.split_whitespace().collect::<Vec<_>>().join(" ");
    let without_colon = collapsed.strip_suffix(':').unwrap_or(&collapsed).trim_end();
    strip_leading_number(without_colon).to_owned()
}

/// Removes `3`, `3.`, `3.1`, `6.2.` or `3)` and the single space after it;
/// returns `title` unchanged when it does not start that way.
fn strip_leading_number(title: &str) -> &str {
    let mut rest = skip_digits(title);
    if rest.len() == title.len() {
        return title;
    }
    if let Some(after) = rest.strip_prefix(')') {
        rest = after;
    } else {
        while let Some(after) = rest.strip_prefix('.') {
            rest = skip_digits(after);
            if rest.len() == after.len() {
                break;
            }
        }
    }
    rest.strip_prefix(' ').unwrap_or(title)
}

fn skip_digits(text: &str) -> &str {
    text.trim_start_matches(|c: char| c.is_ascii_digit())
}
