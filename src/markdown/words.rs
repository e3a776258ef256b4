//! Word counting: words are runs of characters that are not
//! [`char::is_whitespace`], as [`str::split_whitespace`] cuts them.

/// The high bit of each byte of a `u64`.
const HIGH: u64 = 0x8080_8080_8080_8080;
const LOW: u64 = !HIGH;

/// Counts whitespace-separated words of text that arrives in pieces; a word
/// can span pieces, as in `foo**bar**`.
///
/// Almost all prose is ASCII, so it is read eight bytes at a time, without
/// decoding characters, for as long as it stays ASCII; the rest of a piece
/// that is not is read a character at a time, since a few characters beyond
/// ASCII (U+00A0, U+2003, U+3000, ...) are whitespace too.
#[derive(Default)]
pub(super) struct WordCount {
    pub(super) words: usize,
    in_word: bool,
}

impl WordCount {
    pub(super) fn add(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut ascii = 0;
        for chunk in bytes.chunks_exact(8) {
            let chunk = u64::from_le_bytes(chunk.try_into().expect("chunks of eight bytes"));
            if chunk & HIGH != 0 {
                break;
            }
            self.add_ascii(chunk, 8);
            ascii += 8;
        }
        let rest = bytes.len() - ascii;
        if (1..8).contains(&rest) {
            let tail = tail(bytes, rest);
            if tail & HIGH & low_bytes(rest) == 0 {
                self.add_ascii(tail, rest);
                return;
            }
        }
        // Eight ASCII bytes end on a character boundary.
        for c in text[ascii..].chars() {
            let blank = c.is_whitespace();
            self.words += usize::from(!blank & !self.in_word);
            self.in_word = !blank;
        }
    }

    /// Counts the words that start in the first `len` (1 to 8) bytes of
    /// `chunk` (least significant first), which are ASCII: each non-blank
    /// byte that follows a blank one. The other bytes are ignored.
    fn add_ascii(&mut self, chunk: u64, len: usize) {
        let blank = ascii_blanks(chunk);
        let before = if self.in_word { 0 } else { 0x80 };
        let starts = ((blank << 8) | before) & !blank & HIGH & low_bytes(len);
        // One bit per byte at most: the multiplication adds up the bytes
        // into the top one (a population count without the instruction).
        self.words += ((starts >> 7).wrapping_mul(0x0101_0101_0101_0101) >> 56) as usize;
        self.in_word = (blank >> (8 * len - 1)) & 1 == 0;
    }
}

/// The mask of the `len` (1 to 8) least significant bytes of a `u64`.
fn low_bytes(len: usize) -> u64 {
    u64::MAX >> (8 * (8 - len))
}

/// The last `len` (1 to 7) bytes of `bytes` as the least significant bytes
/// of a `u64`, the others unspecified; `len` is all of `bytes` when there
/// are fewer than eight. Loads may overlap, which puts a byte read twice in
/// the same place both times; nothing outside `bytes` is read, nothing is
/// copied.
fn tail(bytes: &[u8], len: usize) -> u64 {
    let n = bytes.len();
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"));
    if n >= 8 {
        let last = u64::from_le_bytes(bytes[n - 8..].try_into().expect("eight bytes"));
        last >> (8 * (8 - len))
    } else if n >= 4 {
        u64::from(word(0)) | u64::from(word(n - 4)) << (8 * (n - 4))
    } else {
        let byte = |at: usize| u64::from(bytes[at]) << (8 * at);
        byte(0) | byte(n / 2) | byte(n - 1)
    }
}

/// The high bit set in each byte of eight ASCII bytes that is
/// [`char::is_whitespace`]: a space, or tab to carriage return (U+0009 to
/// U+000D). No byte borrows from or carries into its neighbour.
fn ascii_blanks(chunk: u64) -> u64 {
    let splat = |byte: u8| u64::from_ne_bytes([byte; 8]);
    // A byte that is zero after the XOR is a space.
    let spaces = chunk ^ splat(b' ');
    let space = !(((spaces & LOW) + LOW) | spaces | LOW);
    // With the high bit set first, subtracting never borrows: what keeps
    // the high bit is at least the number subtracted.
    let raised = chunk | HIGH;
    let from_tab = raised - splat(b'\t');
    let past_return = raised - splat(b'\r' + 1);
    (space | (from_tab & !past_return)) & HIGH
}
