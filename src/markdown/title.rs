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
/// Spaces around a `/` go too, since authors write both `API/Interface` and
/// `API / Interface`.
///
/// A trailing annotation in parentheses after the words, emphasised or not,
/// goes too: templates mark their headings `*(mandatory)*` or
/// `*(include if feature involves data)*` and ask authors to keep them, so
/// `"Requirements *(mandatory)*"` matches a required `"Requirements"`. The
/// price: two titles that differ only in such a parenthesis are one key.
///
/// `"**3.1 Failure Modes**:"` becomes `"failure modes"`, and
/// `"API / Interface design"` becomes `"api/interface design"`.
pub fn normalize_title(title: &str) -> String {
    let mut key = if title.is_ascii() {
        ascii_words(title)
    } else {
        words(title)
    };
    // A single-byte search first: most titles hold no `/` at all.
    if key.contains('/') && (key.contains(" /") || key.contains("/ ")) {
        key = key.replace(" /", "/").replace("/ ", "/");
    }
    if key.ends_with(':') {
        key.pop();
        key.truncate(key.trim_end().len());
    }
    if let Some(annotation) = annotation(&key) {
        key.truncate(key.len() - annotation.len());
        key.truncate(key.trim_end().len());
    }
    let number_len = key.len() - strip_leading_number(&key).len();
    if number_len > 0 {
        key.drain(..number_len);
    }
    key
}

/// The keys a heading is looked up by: [`normalize_title`] of `title`, then
/// of each of `aliases`.
pub fn title_keys(title: &str, aliases: &[String]) -> Vec<String> {
    std::iter::once(title)
        .chain(aliases.iter().map(String::as_str))
        .map(normalize_title)
        .collect()
}

/// The words of a title, lower-cased (Unicode), without emphasis markers,
/// joined by single spaces.
fn words(title: &str) -> String {
    let mut key = String::with_capacity(title.len());
    let mut pending_space = false;
    for c in title.chars() {
        if c.is_whitespace() {
            pending_space = !key.is_empty();
        } else if !matches!(c, '*' | '_' | '`' | '~') {
            if pending_space {
                key.push(' ');
                pending_space = false;
            }
            if c.is_ascii() {
                key.push(c.to_ascii_lowercase());
            } else {
                key.extend(c.to_lowercase());
            }
        }
    }
    key
}

/// [`words`] of an ASCII title, the common case, a byte at a time. The key
/// is never longer than the title (a space is written only for blanks
/// skipped), so room for the title's length is taken once and never grown.
fn ascii_words(title: &str) -> String {
    let mut key = Vec::with_capacity(title.len());
    let mut pending_space = false;
    for &byte in title.as_bytes() {
        // `char::is_whitespace` of ASCII: tab to carriage return, and space.
        if matches!(byte, b'\t'..=b'\r' | b' ') {
            pending_space = !key.is_empty();
        } else if !matches!(byte, b'*' | b'_' | b'`' | b'~') {
            if pending_space {
                key.push(b' ');
                pending_space = false;
            }
            key.push(byte.to_ascii_lowercase());
        }
    }
    String::from_utf8(key).expect("only ASCII bytes are dropped or written")
}

/// The trailing annotation of a title, `(mandatory)` of
/// `"Requirements (mandatory)"`: a parenthesised group that ends the title
/// after a space, with words before it. Emphasis around it is already
/// rendered away in a heading's plain title.
pub fn annotation(title: &str) -> Option<&str> {
    let title = title.trim_end();
    if !title.ends_with(')') {
        return None;
    }
    let mut depth = 0usize;
    for (index, c) in title.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    let before = &title[..index];
                    let words_before =
                        before.ends_with(char::is_whitespace) && !before.trim().is_empty();
                    return words_before.then(|| &title[index..]);
                }
            }
            _ => {}
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ASCII text of up to three bytes: each byte class (blank,
    /// marker, upper and lower case, digit, symbol) next to every other.
    #[test]
    fn ascii_words_agree_with_words_exhaustively() {
        let texts = (0..128u8).flat_map(|a| {
            (0..128u8).flat_map(move |b| {
                [b'A', b' ', b'\x0b', b'*', b'\x7f']
                    .into_iter()
                    .map(move |c| String::from_utf8(vec![a, b, c]).expect("ASCII"))
            })
        });
        for text in texts.chain((0..128u8).map(|a| char::from(a).to_string())) {
            assert_eq!(ascii_words(&text), words(&text), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn ascii_words_agree_with_words(text in "[\\x00-\\x7f]{0,60}") {
            proptest::prop_assert_eq!(ascii_words(&text), words(&text));
        }

        /// Words, blanks, markers, numbers, annotations and slashes, as
        /// titles are written: the fast path gives the same key.
        #[test]
        fn ascii_titles_agree_with_words(
            text in "([ \\t]{0,2}(\\*\\*|__|`|~~|[0-9]\\.|[0-9]\\)|[A-Za-z&]{1,8}|/|\\(x\\)|:)){0,10}",
        ) {
            proptest::prop_assert_eq!(ascii_words(&text), words(&text));
        }
    }
}
