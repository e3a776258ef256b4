//! Text for a terminal never carries a control character from the
//! repository. A title, a file name, a plugin's message or a document line
//! could otherwise move the cursor, rewrite a `failed` line as `passed`,
//! hide a word or forge a row: every control character but the newline and
//! the tab is written as an escape instead, `\e`, `\r` or `\u{7f}`. A field
//! that is one line (a title, a path, a message) escapes its line breaks
//! and tabs too, so that it cannot forge a line of its own.

use std::borrow::Cow;
use std::io::{self, Write};

use codespan_reporting::term::termcolor::{ColorSpec, WriteColor};

/// How a character is written in text output: `None` when as itself.
fn escape_of(c: char) -> Option<Cow<'static, str>> {
    match c {
        '\n' | '\t' => None,
        _ => escape_in_line(c),
    }
}

/// How a character is written in a one-line field: `None` when as itself.
fn escape_in_line(c: char) -> Option<Cow<'static, str>> {
    match c {
        '\u{1b}' => Some(Cow::Borrowed("\\e")),
        '\r' => Some(Cow::Borrowed("\\r")),
        '\n' => Some(Cow::Borrowed("\\n")),
        '\t' => Some(Cow::Borrowed("\\t")),
        c if c.is_control() => Some(Cow::Owned(format!("\\u{{{:x}}}", u32::from(c)))),
        _ => None,
    }
}

/// `text` with its control characters but line breaks and tabs escaped.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    escape_with(text, escape_of)
}

/// A one-line field with every control character escaped, line breaks and
/// tabs included.
pub fn one_line(text: &str) -> Cow<'_, str> {
    escape_with(text, escape_in_line)
}

fn escape_with(text: &str, escape: fn(char) -> Option<Cow<'static, str>>) -> Cow<'_, str> {
    if !text.chars().any(|c| escape(c).is_some()) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match escape(c) {
            Some(escape) => escaped.push_str(&escape),
            None => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// A writer that escapes the control characters of everything written
/// through it; colours set through [`WriteColor`] still reach the terminal.
pub struct Escaping<W> {
    inner: W,
    /// The first byte of a two-byte character that the last write ended
    /// with: U+0080 to U+009F (C1 controls) start with it.
    pending: Option<u8>,
}

impl<W> Escaping<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            pending: None,
        }
    }
}

/// The lead byte of the UTF-8 encoding of U+0080 to U+00BF.
const C1_LEAD: u8 = 0xc2;

impl<W: Write> Write for Escaping<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut plain_from = 0;
        let mut out = Vec::new();
        let mut index = 0;
        if let Some(lead) = self.pending.take() {
            match buf.first() {
                Some(&next) => {
                    let code = u32::from(lead & 0x1f) << 6 | u32::from(next & 0x3f);
                    match char::from_u32(code).and_then(escape_of) {
                        Some(escape) => {
                            out.extend_from_slice(escape.as_bytes());
                            index = 1;
                            plain_from = 1;
                        }
                        None => out.push(lead),
                    }
                }
                None => {
                    self.pending = Some(lead);
                    return Ok(0);
                }
            }
        }
        while index < buf.len() {
            let byte = buf[index];
            let (escape, width) = if byte < 0x80 {
                (escape_of(char::from(byte)), 1)
            } else if byte == C1_LEAD {
                match buf.get(index + 1) {
                    Some(&next) => {
                        let code = u32::from(next & 0x3f) | 0x80;
                        (char::from_u32(code).and_then(escape_of), 2)
                    }
                    None => {
                        out.extend_from_slice(&buf[plain_from..index]);
                        self.pending = Some(byte);
                        self.inner.write_all(&out)?;
                        return Ok(buf.len());
                    }
                }
            } else {
                (None, 1)
            };
            if let Some(escape) = escape {
                out.extend_from_slice(&buf[plain_from..index]);
                out.extend_from_slice(escape.as_bytes());
                plain_from = index + width;
            }
            index += width;
        }
        out.extend_from_slice(&buf[plain_from..]);
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(lead) = self.pending.take() {
            self.inner.write_all(&[lead])?;
        }
        self.inner.flush()
    }
}

impl<W: WriteColor> WriteColor for Escaping<W> {
    fn supports_color(&self) -> bool {
        self.inner.supports_color()
    }

    fn set_color(&mut self, spec: &ColorSpec) -> io::Result<()> {
        self.inner.set_color(spec)
    }

    fn reset(&mut self) -> io::Result<()> {
        self.inner.reset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters_only() {
        assert_eq!(
            escape_control("a\u{1b}[2Kb\rc\u{7}\td\n\u{9b}é"),
            "a\\e[2Kb\\rc\\u{7}\td\n\\u{9b}é"
        );
        assert!(matches!(escape_control("plain é\n"), Cow::Borrowed(_)));
        assert_eq!(one_line("a\nb\tc\u{1b}"), "a\\nb\\tc\\e");
    }

    #[test]
    fn the_writer_escapes_as_the_function_does_across_writes() {
        let text = "x\u{1b}]8;;http://e\u{7}y\u{9b}z é\r\n";
        let bytes = text.as_bytes();
        for split in 0..=bytes.len() {
            let mut out = Escaping::new(Vec::new());
            out.write_all(&bytes[..split]).unwrap();
            out.write_all(&bytes[split..]).unwrap();
            out.flush().unwrap();
            assert_eq!(
                String::from_utf8(out.inner.clone()).unwrap(),
                escape_control(text),
                "split at {split}"
            );
        }
    }
}
