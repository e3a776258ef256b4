//! Reading text files the same way everywhere: a size limit checked before
//! reading, a byte-order mark dropped, and bytes that are not UTF-8 reported
//! at their line and column instead of being replaced.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::ops::Range;
use std::path::Path;

use crate::diagnostic::Position;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is {}{size} bytes, more than the {limit} bytes allowed", at_least(.grew))]
    TooLarge {
        size: u64,
        limit: usize,
        /// The file grew while it was read: `size` is what was read when
        /// the read stopped, and the file is at least that long.
        grew: bool,
    },
    #[error("it is not a regular file (a FIFO, a device or a folder is never read)")]
    NotRegular,
    #[error("the file is not valid UTF-8 (first bad byte at {position})")]
    NotUtf8 { position: Position },
}

fn at_least(grew: &bool) -> &'static str {
    if *grew { "at least " } else { "" }
}

/// Reads a whole text file of at most `limit` bytes.
pub fn read_text(path: &Path, limit: usize) -> Result<String, SourceError> {
    text_of(read_bytes(path, limit)?)
}

/// [`read_text`] of a file whose metadata was just taken without following
/// a link (it is not one). The open does not follow one either, so a link
/// put in its place since is refused, not read through.
pub fn read_text_found(path: &Path, meta: &Metadata, limit: usize) -> Result<String, SourceError> {
    text_of(read_bytes_found(path, meta, Links::NotFollowed, limit)?)
}

/// Whether opening a path may follow a symbolic link at its end.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Links {
    Followed,
    NotFollowed,
}

/// Options that open a file only to read it, without blocking (a FIFO put
/// in a file's place opens at once and is then refused, never waited on)
/// and without taking a terminal as the process's own.
fn reading(links: Links) -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        let no_follow = match links {
            Links::Followed => 0,
            Links::NotFollowed => libc::O_NOFOLLOW,
        };
        std::os::unix::fs::OpenOptionsExt::custom_flags(
            &mut options,
            libc::O_NONBLOCK | libc::O_NOCTTY | no_follow,
        );
    }
    // Elsewhere only the look before the open tells a link.
    #[cfg(not(unix))]
    let _ = links;
    options
}

fn text_of(bytes: Vec<u8>) -> Result<String, SourceError> {
    decode(bytes).map_err(|position| SourceError::NotUtf8 { position })
}

/// Reads a whole regular file of at most `limit` bytes. Anything else (a
/// FIFO, a device, a folder) is refused before it is opened, and the open
/// does not block, so a FIFO put in its place meanwhile cannot hang the
/// read either.
pub fn read_bytes(path: &Path, limit: usize) -> Result<Vec<u8>, SourceError> {
    read_bytes_found(path, &std::fs::metadata(path)?, Links::Followed, limit)
}

/// [`read_bytes`] of a file whose metadata (`meta`) was just taken, opened
/// following a link at its end or not.
fn read_bytes_found(
    path: &Path,
    meta: &Metadata,
    links: Links,
    limit: usize,
) -> Result<Vec<u8>, SourceError> {
    if !meta.is_file() {
        return Err(SourceError::NotRegular);
    }
    read_bytes_opened(&reading(links).open(path)?, limit)
}

/// The bytes of an open file, refused unless it is a regular file of at
/// most `limit` bytes.
fn read_bytes_opened(mut file: &File, limit: usize) -> Result<Vec<u8>, SourceError> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(SourceError::NotRegular);
    }
    let size = meta.len();
    if size > limit as u64 {
        return Err(SourceError::TooLarge {
            size,
            limit,
            grew: false,
        });
    }
    // A byte more than the size told, so that the read that fills the rest
    // is followed by only the one that finds the end.
    let mut bytes = vec![0; size as usize + 1];
    let mut filled = 0;
    loop {
        if filled == bytes.len() {
            // The file grew while being read: the limit holds all the same.
            if filled > limit {
                return Err(SourceError::TooLarge {
                    size: filled as u64,
                    limit,
                    grew: true,
                });
            }
            bytes.resize(filled.saturating_mul(2).min(limit.saturating_add(1)), 0);
        }
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error.into()),
        }
    }
    bytes.truncate(filled);
    Ok(bytes)
}

/// UTF-8 text without a byte-order mark, or the position of the first byte
/// that is not UTF-8.
pub fn decode(bytes: Vec<u8>) -> Result<String, Position> {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..'\u{feff}'.len_utf8());
            }
            Ok(text)
        }
        Err(error) => Err(not_utf8_at(error.as_bytes(), error.utf8_error())),
    }
}

/// [`decode`] without taking the bytes: the text they hold, borrowed.
pub fn decode_str(bytes: &[u8]) -> Result<&str, Position> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.strip_prefix('\u{feff}').unwrap_or(text)),
        Err(error) => Err(not_utf8_at(bytes, error)),
    }
}

/// Where the first byte that is not UTF-8 is.
fn not_utf8_at(bytes: &[u8], error: std::str::Utf8Error) -> Position {
    // Everything before the bad byte is valid, so this cannot fail.
    let before = std::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or_default();
    position_at(before, before.len())
}

/// The line and column (in characters) of a byte offset into `text`, as an
/// editor shows it: `\r\n`, `\r` and `\n` each end a line, and a leading
/// byte-order mark takes no column. An offset past the end or inside a
/// character is moved back to the nearest boundary.
pub fn position_at(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text[..offset]
        .strip_prefix('\u{feff}')
        .unwrap_or(&text[..offset]);
    let mut position = Position::START;
    let mut after_cr = false;
    for c in before.chars() {
        match c {
            '\n' if after_cr => {}
            '\n' | '\r' => position = Position::new(position.line + 1, 1),
            _ => position.column += 1,
        }
        after_cr = c == '\r';
    }
    position
}

/// The byte offset of a line and column (in characters) of `text`, the
/// inverse of [`position_at`]; past the end of a line or of the text, the
/// nearest end.
pub fn offset_of(text: &str, position: Position) -> usize {
    LineStarts::new(text).offset_of(text, position)
}

/// Where each line of a text starts (after a byte-order mark; a line ends at
/// LF, CR or CRLF), so that many positions in one text are found in one pass
/// over it rather than one each.
///
/// Lines made only of ASCII are marked, so that a column in them is found
/// without counting characters: many findings on one long line cost the
/// line once, not once each.
#[derive(Debug, Clone)]
pub struct LineStarts {
    starts: Vec<usize>,
    ascii: Vec<bool>,
}

impl LineStarts {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let first = usize::from(text.starts_with('\u{feff}')) * '\u{feff}'.len_utf8();
        let mut starts = vec![first];
        let mut ascii = Vec::new();
        // memchr finds the line endings many bytes at a time; a `\r` ends a
        // line unless a `\n` follows, which ends it instead.
        let endings = memchr::memchr2_iter(b'\n', b'\r', &bytes[first..]).map(|at| first + at);
        for end in endings {
            if bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n') {
                continue;
            }
            let start = *starts.last().expect("starts with the first line");
            ascii.push(bytes[start..end].is_ascii());
            starts.push(end + 1);
        }
        let start = *starts.last().expect("starts with the first line");
        ascii.push(bytes[start..].is_ascii());
        LineStarts { starts, ascii }
    }

    /// How many lines the text has, counting the empty one after a final
    /// line ending.
    pub fn lines(&self) -> usize {
        self.starts.len()
    }

    /// The byte offsets of a line's first character and of the end of its
    /// text (before its line ending); past the last line, the text's end.
    pub fn line_span(&self, text: &str, line: usize) -> Range<usize> {
        let index = line.saturating_sub(1);
        let Some(&start) = self.starts.get(index) else {
            return text.len()..text.len();
        };
        let end = match self.starts.get(index + 1) {
            Some(&next) if text[..next].ends_with("\r\n") => next - 2,
            Some(&next) => next - 1,
            None => text.len(),
        };
        start..end.max(start)
    }

    /// [`offset_of`], in the time of one line (of none, for ASCII).
    pub fn offset_of(&self, text: &str, position: Position) -> usize {
        let index = position.line.saturating_sub(1);
        if index >= self.starts.len() {
            return text.len();
        }
        let span = self.line_span(text, position.line);
        if self.ascii[index] {
            (span.start + position.column.saturating_sub(1)).min(span.end)
        } else {
            column_offset(text, span.start, position.column)
        }
    }
}

/// The byte offset of a column (in characters) of the line starting at
/// `offset`; past its end, the end.
fn column_offset(text: &str, offset: usize, column: usize) -> usize {
    let line_end = text[offset..]
        .find(['\n', '\r'])
        .map_or(text.len(), |end| offset + end);
    text[offset..line_end]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line_end, |(index, _)| offset + index)
}

/// A path as messages show it: relative to the working folder when it is
/// inside it, with `/` separators.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd
        .as_deref()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path);
    shown.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_line_endings_marks_and_characters() {
        // A text, then (line, column) and the byte offset each must give.
        type Case<'a> = (&'a str, &'a [((usize, usize), usize)]);
        let cases: &[Case] = &[
            ("", &[((1, 1), 0), ((2, 1), 0)]),
            (
                "\u{feff}# Title\r\nsecond\rthird\n",
                &[
                    ((0, 0), 3),
                    ((1, 1), 3),
                    ((1, 3), 5),
                    ((1, 99), 10),
                    ((2, 1), 12),
                    ((3, 5), 23),
                    ((4, 1), 25),
                    ((9, 1), 25),
                ],
            ),
            (
                "é ü\nb",
                &[((1, 2), 2), ((1, 3), 3), ((1, 9), 5), ((2, 1), 6)],
            ),
            (
                "a\n\n\r\rb",
                &[((2, 1), 2), ((3, 1), 3), ((4, 1), 4), ((5, 1), 5)],
            ),
        ];
        for (text, expected) in cases {
            let starts = LineStarts::new(text);
            for &((line, column), offset) in *expected {
                let position = Position::new(line, column);
                assert_eq!(
                    offset_of(text, position),
                    offset,
                    "{text:?} at {line}:{column}"
                );
                assert_eq!(
                    starts.offset_of(text, position),
                    offset,
                    "{text:?} at {line}:{column}"
                );
            }
        }
    }

    #[test]
    fn reports_the_first_bad_byte() {
        assert_eq!(decode(b"ok\nab\xffc".to_vec()), Err(Position::new(2, 3)));
        assert_eq!(
            decode(b"\xef\xbb\xbfab\r\n\r\ncd\xc3".to_vec()),
            Err(Position::new(3, 3))
        );
    }

    #[test]
    fn reads_a_file_up_to_the_limit_and_refuses_one_byte_more() {
        let dir = tempfile::tempdir().unwrap();
        for (len, limit) in [(0, 0), (1, 1), (10, 10), (9_000, 9_000), (5, 100)] {
            let path = dir.path().join(format!("{len}-{limit}.md"));
            let text = "a".repeat(len);
            std::fs::write(&path, &text).unwrap();
            assert_eq!(read_text(&path, limit).unwrap(), text, "{len} of {limit}");
            if limit > 0 {
                let error = read_text(&path, len - 1).unwrap_err().to_string();
                assert_eq!(
                    error,
                    format!(
                        "the file is {len} bytes, more than the {} bytes allowed",
                        len - 1
                    )
                );
            }
        }
    }

    /// Files under `/proc` tell a size of 0 and hold more: the read goes on
    /// past the size told, as for a file that grows while it is read, and
    /// stops once past the limit.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_longer_than_its_size_told_is_read_to_its_end_within_the_limit() {
        let status = Path::new("/proc/self/status");
        assert_eq!(std::fs::metadata(status).unwrap().len(), 0);
        let text = read_text(status, 1 << 20).unwrap();
        assert!(text.starts_with("Name:") && text.len() > 100, "{text:?}");
        let error = read_text(status, 10).unwrap_err();
        assert!(
            matches!(
                error,
                SourceError::TooLarge {
                    size: 11,
                    limit: 10,
                    grew: true
                }
            ),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "the file is at least 11 bytes, more than the 10 bytes allowed"
        );
    }

    #[test]
    fn a_folder_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_bytes(dir.path(), 100),
            Err(SourceError::NotRegular)
        ));
    }

    #[test]
    fn drops_a_byte_order_mark() {
        assert_eq!(decode("\u{feff}a: 1".as_bytes().to_vec()).unwrap(), "a: 1");
    }

    #[test]
    fn offsets_and_positions_agree() {
        let text = "\u{feff}a: 1\r\nbé: \"x\"\rc\n";
        for offset in [3, 4, 7, 9, 10, 12, 15, 18] {
            assert_eq!(
                offset_of(text, position_at(text, offset)),
                offset,
                "{offset}"
            );
        }
        assert_eq!(offset_of(text, Position::new(9, 1)), text.len());
    }
}
