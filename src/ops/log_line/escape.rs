//! JSON string escaping for the log line, text and JSON formats alike.

use std::fmt::{self, Write};

pub(super) fn quoted(w: &mut impl Write, value: &str) -> fmt::Result {
    w.write_char('"')?;
    escaped(w, value)?;
    w.write_char('"')
}

/// JSON string escaping (RFC 8259 §7): quote, backslash and control
/// characters; everything else as it is.
pub(super) fn escaped(w: &mut impl Write, value: &str) -> fmt::Result {
    let mut rest = value;
    while let Some(at) = first_to_escape(rest.as_bytes()) {
        w.write_str(&rest[..at])?;
        match rest.as_bytes()[at] {
            b'"' => w.write_str("\\\"")?,
            b'\\' => w.write_str("\\\\")?,
            b'\n' => w.write_str("\\n")?,
            b'\r' => w.write_str("\\r")?,
            b'\t' => w.write_str("\\t")?,
            other => write!(w, "\\u{other:04x}")?,
        }
        rest = &rest[at + 1..];
    }
    w.write_str(rest)
}

/// Whether a byte must be escaped in a JSON string.
fn to_escape(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// The first byte of `bytes` that must be escaped. Eight bytes at a step
/// while none of them must: a line's fields (ids, paths) almost never hold
/// one, and the byte-by-byte scan was 2 % of a hot path's instructions.
fn first_to_escape(bytes: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // Exact tests (no false answers) for "some byte is zero" and "some byte
    // is below n" (n <= 128), from the well-known bit tricks.
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI != 0;
    let has_below = |v: u64, n: u64| v.wrapping_sub(LO * n) & !v & HI != 0;
    let mut skipped = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        if has_zero(v ^ (LO * u64::from(b'"')))
            || has_zero(v ^ (LO * u64::from(b'\\')))
            || has_below(v, 0x20)
        {
            break;
        }
        skipped += 8;
    }
    let at = bytes[skipped..].iter().position(|&b| to_escape(b))?;
    Some(skipped + at)
}

/// Escapes what is formatted through it.
pub(super) struct Escaping<'a, W: Write>(pub(super) &'a mut W);

impl<W: Write> Write for Escaping<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escaped(self.0, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The escaping of every byte, and of text around each, is what a plain
    /// byte-by-byte scan gives.
    #[test]
    fn escaping_finds_every_byte_to_escape() {
        fn bytewise(value: &str) -> String {
            let mut out = String::new();
            for c in value.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out
        }
        let mut cases = vec![String::new(), "plain/path/of/some/length".to_owned()];
        for b in 0u8..0x80 {
            for at in 0..18 {
                let mut text = "a".repeat(at);
                text.push(char::from(b));
                text.push_str("\u{e9}tail-of-text");
                cases.push(text);
            }
        }
        cases.push("\u{e9}\u{1F600}\"quoted\"\\back\u{7f}\u{80}".repeat(3));
        for case in cases {
            let mut out = String::new();
            escaped(&mut out, &case).unwrap();
            assert_eq!(out, bytewise(&case), "{case:?}");
        }
    }
}
